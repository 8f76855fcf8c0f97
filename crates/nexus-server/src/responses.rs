//! The error responses of the OpenAPI document, shared by the operations: each set below is a
//! [`utoipa::IntoResponses`] type that a handler's `responses(...)` names after its success
//! response, so every `application/problem+json` response is described once.

use std::collections::BTreeMap;

use utoipa::IntoResponses;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};

/// The problem responses of `statuses`, each `application/problem+json` with a
/// [`Problem`](crate::Problem) body (the `Problem` component).
fn problem_responses(statuses: &[u16]) -> BTreeMap<String, RefOr<Response>> {
    statuses
        .iter()
        .map(|status| {
            let description = match status {
                400 => "Invalid request (`invalid-request` or a more specific kind)",
                401 => "No valid API key (`unauthorized`)",
                404 => "Not found, or another user's (`not-found`)",
                409 => "Conflict (`conflict`, `version-conflict`, `state-conflict`, …)",
                410 => "Expired (`expired`)",
                413 => "The body is over the limit (`too-large`)",
                _ => "Error",
            };
            let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build();
            let response =
                ResponseBuilder::new().description(description).content("application/problem+json", content);
            (status.to_string(), RefOr::T(response.build()))
        })
        .collect()
}

/// Declares the sets of problem responses.
macro_rules! problem_sets {
    ($($(#[$doc:meta])* $name:ident = [$($status:literal),+];)+) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy)]
            pub struct $name;

            impl IntoResponses for $name {
                fn responses() -> BTreeMap<String, RefOr<Response>> {
                    problem_responses(&[$($status),+])
                }
            }
        )+
    };
}

problem_sets! {
    /// 401: a route that takes nothing but the key.
    AuthErrors = [401];
    /// 400, 401: a list or query without a path id.
    QueryErrors = [400, 401];
    /// 401, 404: reading or deleting one resource.
    ReadErrors = [401, 404];
    /// 400, 401, 404: reading one resource with query parameters.
    QueryReadErrors = [400, 401, 404];
    /// 400, 401, 413: creating a resource from a body.
    CreateErrors = [400, 401, 413];
    /// 400, 401, 409, 413: creating a resource with a unique name.
    CreateUniqueErrors = [400, 401, 409, 413];
    /// 400, 401, 404, 413: writing under a resource.
    WriteErrors = [400, 401, 404, 413];
    /// 400, 401, 404, 409, 413: changing a resource whose state may refuse the change.
    ChangeErrors = [400, 401, 404, 409, 413];
    /// 401, 404, 410: reading a research session.
    SessionReadErrors = [401, 404, 410];
    /// 400, 401, 404, 410, 413: writing under a research session.
    SessionWriteErrors = [400, 401, 404, 410, 413];
    /// 400, 401, 404, 409, 410, 413: changing a research session.
    SessionChangeErrors = [400, 401, 404, 409, 410, 413];
}
