//! `api_keys`: a user's bearer keys for the HTTP API. A key is 256 random bits shown once
//! (`nxk_` + 64 hex digits); only its SHA-256 is stored, with the first characters as a prefix
//! for display. Keys are revocable and record when they were last used. A server
//! authenticates a request with [`bearer`] (the key of an `Authorization` header) and
//! [`authenticate`] (the live key, its use recorded, and in the same statement whether its user
//! owns the project the request names).

use serde::{Deserialize, Serialize};
use sqlx::SqliteExecutor;

use crate::error::{Result, ResultExt, ReturningExt};
use crate::{ApiKeyId, Db, DbError, ProjectId, Timestamp, UserId, hex, sha256_hex};

const TABLE: &str = "api_keys";

/// What every key starts with.
pub const KEY_PREFIX: &str = "nxk_";

/// Characters of a key kept as its display prefix (`nxk_` and 8 hex digits).
const DISPLAY_PREFIX: usize = 12;

/// How stale `last_used_at` may be before a use writes it again (one write a minute per key,
/// not one per request).
const LAST_USED_GRANULARITY_MS: i64 = 60_000;

/// A row of `api_keys` (never the key itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    /// Primary key.
    pub id: ApiKeyId,
    /// The user it authenticates.
    pub user_id: UserId,
    /// The key's first characters, to recognise it.
    pub prefix: String,
    /// A label.
    pub name: Option<String>,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last authenticated a request (to the minute).
    pub last_used_at: Option<Timestamp>,
    /// When it was revoked (a revoked key authenticates nothing).
    pub revoked_at: Option<Timestamp>,
}

/// A freshly created key: the row and the secret, which exists nowhere else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedKey {
    /// The stored row.
    pub row: ApiKey,
    /// The bearer key (`nxk_…`), shown once.
    pub key: String,
}

/// A live key and whether its user owns the project a request names ([`authenticate`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    /// The key.
    pub key: ApiKey,
    /// Whether the key's user owns (role `project`) the project passed to [`authenticate`];
    /// false without one.
    pub owns_project: bool,
}

/// [`ApiKey`]'s columns and `owns_project`: the row of [`find_live`].
struct LiveKeyRow {
    id: ApiKeyId,
    user_id: UserId,
    prefix: String,
    name: Option<String>,
    created_at: Timestamp,
    last_used_at: Option<Timestamp>,
    revoked_at: Option<Timestamp>,
    owns_project: bool,
}

impl From<LiveKeyRow> for Authenticated {
    fn from(row: LiveKeyRow) -> Self {
        let LiveKeyRow { id, user_id, prefix, name, created_at, last_used_at, revoked_at, owns_project } =
            row;
        let key = ApiKey { id, user_id, prefix, name, created_at, last_used_at, revoked_at };
        Self { key, owns_project }
    }
}

/// Expands to `query_as!(ApiKey, $head + <every column> + $tail, args..)` (or into `as $row`).
macro_rules! query_keys {
    (as $row:ident, $head:literal, $tail:literal $(+ $more:literal)* $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            $row,
            $head + r#" id AS "id: ApiKeyId", user_id AS "user_id: UserId", prefix, name AS "name?",
                      created_at AS "created_at: Timestamp", last_used_at AS "last_used_at?: Timestamp",
                      revoked_at AS "revoked_at?: Timestamp" "#
                + $tail $(+ $more)*
            $(, $arg)*
        )
    };
    ($head:literal, $tail:literal $(+ $more:literal)* $(, $arg:expr)* $(,)?) => {
        query_keys!(as ApiKey, $head, $tail $(+ $more)* $(, $arg)*)
    };
}

/// Creates a key for `user` from 256 bits of the operating system's randomness.
pub async fn create<'e>(
    ex: impl SqliteExecutor<'e>,
    user: &UserId,
    name: Option<&str>,
) -> Result<CreatedKey> {
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|e| DbError::InvalidValue {
        table: TABLE,
        column: "key_hash",
        reason: format!("no randomness from the operating system: {e}"),
    })?;
    let key = format!("{KEY_PREFIX}{}", hex(&secret));
    let hash = sha256_hex(key.as_bytes());
    let prefix = key.get(..DISPLAY_PREFIX).unwrap_or(KEY_PREFIX).to_owned();
    let id = ApiKeyId::generate();
    let now = Timestamp::now();
    let row = query_keys!(
        "INSERT INTO api_keys (id, user_id, key_hash, prefix, name, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING",
        "",
        id,
        user,
        hash,
        prefix,
        name,
        now,
    )
    .fetch_all(ex)
    .await
    .returned_row(TABLE, &id)?;
    Ok(CreatedKey { row, key })
}

/// The live (not revoked) key whose secret is `key`, or `None`, and whether its user owns
/// `project`: one statement. Compares hashes only.
pub async fn find_live<'e>(
    ex: impl SqliteExecutor<'e>,
    key: &str,
    project: Option<&ProjectId>,
) -> Result<Option<Authenticated>> {
    let hash = sha256_hex(key.as_bytes());
    let row = query_keys!(
        as LiveKeyRow,
        "SELECT",
        r#", EXISTS (SELECT 1 FROM project_owners AS o WHERE o.project_id = ? AND o.user_id = api_keys.user_id
                      AND o.role = 'project') AS "owns_project!: bool"
           FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL"#,
        project,
        hash
    )
    .fetch_optional(ex)
    .await
    .in_table(TABLE)?;
    Ok(row.map(Authenticated::from))
}

/// True when `key.last_used_at` is stale enough that [`touch`] should record this use.
pub fn needs_touch(key: &ApiKey, now: Timestamp) -> bool {
    key.last_used_at.is_none_or(|t| now.as_millis() - t.as_millis() >= LAST_USED_GRANULARITY_MS)
}

/// Records that the key was used now.
pub async fn touch<'e>(ex: impl SqliteExecutor<'e>, id: &ApiKeyId) -> Result<()> {
    let now = Timestamp::now();
    sqlx::query!("UPDATE api_keys SET last_used_at = ? WHERE id = ?", now, id)
        .execute(ex)
        .await
        .in_table(TABLE)?;
    Ok(())
}

/// The key in an `Authorization` header value `Bearer <key>` (the scheme in any case,
/// surrounding spaces ignored), or `None` for another scheme or an empty key.
pub fn bearer(authorization: &str) -> Option<&str> {
    let (scheme, key) = authorization.trim_start().split_once(' ')?;
    let key = key.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !key.is_empty()).then_some(key)
}

/// The live key whose secret is `key` and whether its user owns `project` ([`find_live`], one
/// statement), its use recorded ([`touch`], at most once a minute): how a server authenticates
/// a request (and checks the project it names without a second statement). `None` for an
/// unknown or revoked key.
pub async fn authenticate(db: &Db, key: &str, project: Option<&ProjectId>) -> Result<Option<Authenticated>> {
    let Some(found) = find_live(db.reader(), key, project).await? else { return Ok(None) };
    if needs_touch(&found.key, Timestamp::now()) {
        touch(db.writer(), &found.key.id).await?;
    }
    Ok(Some(found))
}

/// The user's keys, oldest first (revoked ones included).
pub async fn list<'e>(ex: impl SqliteExecutor<'e>, user: &UserId) -> Result<Vec<ApiKey>> {
    query_keys!("SELECT", "FROM api_keys WHERE user_id = ? ORDER BY id", user)
        .fetch_all(ex)
        .await
        .in_table(TABLE)
}

/// Revokes the user's key `id` (already revoked: unchanged); `NotFound` when the user has no
/// such key.
pub async fn revoke<'e>(ex: impl SqliteExecutor<'e>, user: &UserId, id: &ApiKeyId) -> Result<ApiKey> {
    let now = Timestamp::now();
    query_keys!(
        "UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ? AND user_id = ? RETURNING",
        "",
        now,
        id,
        user
    )
    .fetch_all(ex)
    .await
    .returned_row(TABLE, id)
}

#[cfg(test)]
mod tests {
    use super::bearer;

    #[test]
    fn bearer_takes_the_key_of_the_bearer_scheme_only() {
        assert_eq!(bearer("Bearer nxk_1"), Some("nxk_1"));
        assert_eq!(bearer("bearer  nxk_1 "), Some("nxk_1"));
        assert_eq!(bearer("BEARER nxk_1"), Some("nxk_1"));
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("Bearer"), None);
        assert_eq!(bearer("Basic nxk_1"), None);
        assert_eq!(bearer("Bearernxk_1"), None);
        assert_eq!(bearer(""), None);
    }
}
