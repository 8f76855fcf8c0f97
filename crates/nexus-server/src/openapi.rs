//! The OpenAPI 3.1 document, generated from the handlers' annotations (utoipa) and served at
//! `GET /openapi.json`.

use axum::response::IntoResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::Problem;
use crate::routes::{self, ListPage};

/// The API's OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(title = "Nexus API", description = "Projects, memory, search, knowledge, research sessions and history over HTTP."),
    paths(
        routes::me::get, routes::me::put_settings,
        routes::projects::list, routes::projects::create, routes::projects::get, routes::projects::state,
        routes::projects::put_state, routes::projects::state_md, routes::projects::put_state_md,
        routes::checkpoints::create, routes::checkpoints::list, routes::checkpoints::diff,
        routes::checkpoints::restore,
        routes::tasks::create, routes::tasks::ready, routes::tasks::workflow, routes::tasks::save_continue_point,
        routes::tasks::resume, routes::tasks::task_continue_points,
        routes::memory::remember, routes::memory::recall, routes::search::search,
        routes::knowledge::create, routes::knowledge::list, routes::knowledge::get, routes::knowledge::delete,
        routes::research::create, routes::research::list, routes::research::get, routes::research::update,
        routes::research::delete, routes::research::snapshot,
        routes::history::list, routes::history::export_all, routes::history::get, routes::history::delete,
        routes::history::export_one,
    ),
    components(schemas(Problem, ListPage)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

/// Declares the `bearer` security scheme the operations name.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("nxk_…").build(),
            ),
        );
    }
}

/// `GET /openapi.json`.
pub async fn document() -> impl IntoResponse {
    axum::Json(ApiDoc::openapi())
}
