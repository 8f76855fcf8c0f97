//! The `embedding_cache` table (migration `0004_embedding_cache.sql`): vectors keyed by
//! (model, dimensions, SHA-256 of the text), stored as little-endian `f32` BLOBs.

use nexus_db::{Db, DbError, ResultExt, Timestamp, f32_bytes, f32s_from_bytes, hex};
use sqlx::{Connection, SqliteConnection, SqliteExecutor};

const TABLE: &str = "embedding_cache";

/// Hashes looked up per query (each is 66 bytes of JSON in the bound parameter).
const LOOKUP_CHUNK: usize = 512;

/// SHA-256 of a text's UTF-8 bytes: the cache key of the text.
pub(crate) type TextHash = [u8; 32];

pub(crate) fn text_hash(text: &str) -> TextHash {
    nexus_db::sha256(text.as_bytes())
}

/// The stored vector of `blob` ([`nexus_db::f32s_from_bytes`]); `None` unless it holds exactly
/// `dimensions` values.
pub(crate) fn decode(blob: &[u8], dimensions: usize) -> Option<Vec<f32>> {
    f32s_from_bytes(blob).filter(|v| v.len() == dimensions)
}

/// The stored vectors of those `hashes` that are cached for (`model`, `dimensions`).
/// Rows whose blob has the wrong length (impossible through the table's CHECK) are skipped.
pub(crate) async fn load(
    db: &Db,
    model: &str,
    dimensions: usize,
    hashes: &[TextHash],
) -> Result<Vec<(TextHash, Vec<f32>)>, DbError> {
    let dims = dimensions as i64;
    let mut found = Vec::new();
    for chunk in hashes.chunks(LOOKUP_CHUNK) {
        let keys = serde_json::Value::from(chunk.iter().map(|h| hex(h)).collect::<Vec<_>>()).to_string();
        let rows = sqlx::query!(
            "SELECT text_hash, vector FROM embedding_cache
             WHERE model = ? AND dimensions = ? AND text_hash IN (SELECT unhex(value) FROM json_each(?))",
            model,
            dims,
            keys,
        )
        .fetch_all(db.reader())
        .await
        .in_table(TABLE)?;
        for row in rows {
            if let (Ok(hash), Some(vector)) =
                (TextHash::try_from(row.text_hash), decode(&row.vector, dimensions))
            {
                found.push((hash, vector));
            }
        }
    }
    Ok(found)
}

/// Stores `entries` for (`model`, `dimensions`) in one write transaction (`BEGIN IMMEDIATE`)
/// on `conn`, the writer connection; keys already present are left as they are.
pub(crate) async fn save(
    conn: &mut SqliteConnection,
    model: &str,
    dimensions: usize,
    entries: &[(TextHash, &[f32])],
) -> Result<(), DbError> {
    let dims = dimensions as i64;
    let now = Timestamp::now();
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.in_table(TABLE)?;
    for (hash, vector) in entries {
        let hash = hash.as_slice();
        let blob = f32_bytes(vector);
        sqlx::query!(
            "INSERT INTO embedding_cache (model, dimensions, text_hash, vector, created_at)
             VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            model,
            dims,
            hash,
            blob,
            now,
        )
        .execute(&mut *tx)
        .await
        .in_table(TABLE)?;
    }
    tx.commit().await.in_table(TABLE)
}

/// How many vectors are cached for (`model`, `dimensions`).
pub(crate) async fn count<'e>(
    ex: impl SqliteExecutor<'e>,
    model: &str,
    dimensions: usize,
) -> Result<u64, DbError> {
    let dims = dimensions as i64;
    let n = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!: i64" FROM embedding_cache WHERE model = ? AND dimensions = ?"#,
        model,
        dims
    )
    .fetch_one(ex)
    .await
    .in_table(TABLE)?;
    Ok(n.unsigned_abs())
}

/// Deletes every vector cached for (`model`, `dimensions`); returns how many.
pub(crate) async fn clear<'e>(
    ex: impl SqliteExecutor<'e>,
    model: &str,
    dimensions: usize,
) -> Result<u64, DbError> {
    let dims = dimensions as i64;
    let done = sqlx::query!("DELETE FROM embedding_cache WHERE model = ? AND dimensions = ?", model, dims)
        .execute(ex)
        .await
        .in_table(TABLE)?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_decode_only_at_their_dimensions() {
        let v = [1.0f32, -0.5, 0.0, f32::MIN_POSITIVE];
        let blob = f32_bytes(&v);
        assert_eq!(&blob[..4], &[0, 0, 0x80, 0x3f]);
        assert_eq!(decode(blob, 4).as_deref(), Some(&v[..]));
        assert_eq!(decode(blob, 3), None);
    }

    #[test]
    fn hashes_are_sha256_of_utf8() {
        assert_eq!(
            hex(&text_hash("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
