//! The SQL text of one collection's vec0 table.
//!
//! The table is `vectors_<id>`, `<id>` being the collection's integer registry id: it is the
//! only identifier interpolated into SQL, and it never comes from user text. Every value is a
//! bound parameter. Statements that do not depend on a query's shape are built once per
//! [`crate::Collection`] and shared (`Arc<str>`), so sqlx's statement cache reuses them.

use std::fmt::Write as _;
use std::sync::Arc;

use crate::registry::CollectionInfo;
use crate::spec::Element;

/// The vec0 column with the float32 vectors (always ranked by L2; cosine vectors are stored
/// normalised).
pub(crate) const EMBEDDING: &str = "embedding";
/// The vec0 column with the quantised copy (int8 and bit collections).
pub(crate) const COARSE: &str = "coarse";

/// Prepared SQL for one collection.
#[derive(Debug)]
pub(crate) struct CollectionSql {
    /// `vectors_<id>`.
    pub table: String,
    /// Inserts a vector: `rowid, project_id, kind, label, embedding[, coarse]`.
    pub insert: Arc<str>,
    /// Replaces a float32 vector in place: `label, embedding, rowid`.
    pub update: Arc<str>,
    /// Deletes the vector of one rowid.
    pub delete_key: Arc<str>,
    /// Deletes the vector of a source row: `kind, source_id`.
    pub delete_source: Arc<str>,
    /// The partition (project) of one rowid, if the rowid has a vector.
    pub project_of: Arc<str>,
    /// Vectors per (project, kind).
    pub counts: Arc<str>,
    /// Bytes used by the table's shadow tables: bind the `LIKE` pattern [`CollectionSql::shadow_pattern`].
    pub bytes: Arc<str>,
}

impl CollectionSql {
    /// The SQL of the collection described by `info`.
    pub(crate) fn new(info: &CollectionInfo) -> Self {
        let table = format!("vectors_{}", info.id);
        let coarse = coarse_param(info.element);
        let (coarse_column, coarse_value) = match coarse {
            Some(param) => (format!(", {COARSE}"), format!(", {param}")),
            None => Default::default(),
        };
        Self {
            insert: format!(
                "INSERT INTO {table} (rowid, project_id, kind, label, {EMBEDDING}{coarse_column}) \
                 VALUES (?, ?, ?, ?, ?{coarse_value})"
            )
            .into(),
            update: format!("UPDATE {table} SET label = ?, {EMBEDDING} = ? WHERE rowid = ?").into(),
            delete_key: format!("DELETE FROM {table} WHERE rowid = ?").into(),
            delete_source: format!(
                "DELETE FROM {table} WHERE rowid = (SELECT key FROM vector_keys WHERE kind = ? AND source_id = ?)"
            )
            .into(),
            project_of: format!("SELECT project_id FROM {table} WHERE rowid = ?").into(),
            counts: format!(
                "SELECT project_id, kind, count(*) AS n FROM {table} GROUP BY project_id, kind ORDER BY project_id, kind"
            )
            .into(),
            bytes: "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name IN \
                    (SELECT name FROM sqlite_schema WHERE tbl_name LIKE ? ESCAPE '\\')"
                .into(),
            table,
        }
    }

    /// `LIKE` pattern matching the names of this table's shadow tables (`vectors_<id>_…`).
    pub(crate) fn shadow_pattern(&self) -> String {
        format!("{}\\_%", self.table.replace('_', "\\_"))
    }

    /// `CREATE VIRTUAL TABLE` for the collection.
    pub(crate) fn create_table(&self, info: &CollectionInfo) -> String {
        let dims = info.dimensions;
        let mut sql = format!(
            "CREATE VIRTUAL TABLE {} USING vec0(project_id text partition key, kind text partition key, label text, \
             {EMBEDDING} float[{dims}] distance_metric=l2",
            self.table
        );
        // Writing to a String cannot fail.
        let _ = match info.element {
            Element::Float32 => Ok(()),
            // L1 over int8 is the int8 metric sqlite-vec's C compiler vectorises; rescoring
            // with float32 gives the exact order (docs/vector.md, "Quantisation").
            Element::Int8 => write!(sql, ", {COARSE} int8[{dims}] distance_metric=l1"),
            Element::Bit => write!(sql, ", {COARSE} bit[{dims}]"),
        };
        let _ = write!(sql, ", chunk_size={})", chunk_size(dims, info.element));
        sql
    }

    /// The trigger that deletes a key's vector when the key is deleted (its source row was).
    pub(crate) fn create_trigger(&self) -> String {
        let table = &self.table;
        format!(
            "CREATE TRIGGER {table}_ad AFTER DELETE ON vector_keys BEGIN \
             DELETE FROM {table} WHERE rowid = old.key; END"
        )
    }

    /// Statements that remove the table and its trigger.
    pub(crate) fn drop_statements(&self) -> [String; 2] {
        let table = &self.table;
        [format!("DROP TRIGGER IF EXISTS {table}_ad"), format!("DROP TABLE IF EXISTS {table}")]
    }
}

/// How a quantised query vector is passed: sqlite-vec needs the element type of a BLOB.
pub(crate) fn coarse_param(element: Element) -> Option<&'static str> {
    match element {
        Element::Float32 => None,
        Element::Int8 => Some("vec_int8(?)"),
        Element::Bit => Some("vec_bit(?)"),
    }
}

/// Vectors per vec0 chunk.
///
/// A partition (project and kind) always allocates whole chunks, so a small partition costs one
/// chunk: float32 and int8 collections aim at about 512 KiB of float32 per chunk, 64 to 1024
/// vectors. Bit collections use chunks of 32: sqlite-vec picks each chunk's best
/// `min(k, chunk)` candidates with a selection that costs `min(k, chunk) × chunk`, which small
/// chunks keep low for their large, oversampled k (docs/vector.md, "Quantisation").
pub(crate) fn chunk_size(dimensions: u32, element: Element) -> u32 {
    if element == Element::Bit {
        return 32;
    }
    let target = (512 * 1024) / (4 * dimensions.max(1));
    let mut size = 64;
    while size * 2 <= target && size < 1024 {
        size *= 2;
    }
    size
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_sizes_follow_dimensions() {
        for element in [Element::Float32, Element::Int8] {
            assert_eq!(chunk_size(384, element), 256);
            assert_eq!(chunk_size(768, element), 128);
            assert_eq!(chunk_size(1536, element), 64);
            assert_eq!(chunk_size(3072, element), 64);
            assert_eq!(chunk_size(128, element), 1024);
            assert_eq!(chunk_size(8, element), 1024);
        }
        assert_eq!(chunk_size(384, Element::Bit), 32);
    }
}
