//! The SQL text of one collection's tables.
//!
//! Every collection has a vec0 table `vectors_<id>`, `<id>` being its integer registry id, with
//! the vectors its KNN scans: float32 (`embedding`), or int8 / bit (`coarse`). Quantised
//! collections keep their float32 vectors for rescoring in an ordinary table
//! `vectors_<id>_float (key, embedding)`: reading 20 or 160 candidates from a B-tree costs about
//! 1 µs each, from vec0 (a BLOB handle per read) about 20 µs.
//!
//! These names are the only identifiers interpolated into SQL, and they never come from user
//! text. Every value is a bound parameter. Statements that do not depend on a query's shape are
//! built once per [`crate::Collection`] and shared (`Arc<str>`), so sqlx's statement cache
//! reuses them.

use std::fmt::Write as _;
use std::sync::Arc;

use crate::registry::CollectionInfo;
use crate::spec::Element;

/// Prepared SQL for one collection.
#[derive(Debug)]
pub(crate) struct CollectionSql {
    /// `vectors_<id>`, the vec0 table.
    pub table: String,
    /// Quantised collections: `vectors_<id>_float`, the float32 vectors.
    pub float_table: Option<String>,
    /// The vec0 column the KNN scans: `embedding` (float32) or `coarse` (int8, bit).
    pub indexed_column: &'static str,
    /// How a vector for that column is passed: `?`, `vec_int8(?)` or `vec_bit(?)` (sqlite-vec
    /// needs the element type of a BLOB that is not float32).
    pub indexed_param: &'static str,
    /// Inserts into vec0: `rowid, project_id, kind, label, vector`.
    pub insert: Arc<str>,
    /// Float32 collections: replaces a vector in place: `label, embedding, rowid`.
    pub update: Arc<str>,
    /// Quantised collections: stores the float32 vector: `key, embedding`.
    pub store_float: Option<Arc<str>>,
    /// Deletes the vec0 row of one rowid.
    pub delete_key: Arc<str>,
    /// Deletes the vector of a source row: `kind, source_id`. (For quantised collections it
    /// deletes the float32 row, whose trigger deletes the vec0 row.)
    pub delete_source: Arc<str>,
    /// The partition (project) of one rowid, if the rowid has a vector.
    pub project_of: Arc<str>,
    /// Vectors per (project, kind).
    pub counts: Arc<str>,
    /// Bytes used by the collection's tables: bind the `LIKE` pattern
    /// [`CollectionSql::table_pattern`].
    pub bytes: Arc<str>,
}

impl CollectionSql {
    /// The SQL of the collection described by `info`.
    pub(crate) fn new(info: &CollectionInfo) -> Self {
        let table = format!("vectors_{}", info.id);
        let float_table = (info.spec.element != Element::Float32).then(|| format!("{table}_float"));
        let (indexed_column, indexed_param) = match info.spec.element {
            Element::Float32 => ("embedding", "?"),
            Element::Int8 => ("coarse", "vec_int8(?)"),
            Element::Bit => ("coarse", "vec_bit(?)"),
        };
        let lookup = "(SELECT key FROM vector_keys WHERE kind = ? AND source_id = ?)";
        Self {
            insert: format!(
                "INSERT INTO {table} (rowid, project_id, kind, label, {indexed_column}) \
                 VALUES (?, ?, ?, ?, {indexed_param})"
            )
            .into(),
            update: format!("UPDATE {table} SET label = ?, embedding = ? WHERE rowid = ?").into(),
            store_float: float_table.as_ref().map(|float| {
                format!(
                    "INSERT INTO {float} (key, embedding) VALUES (?, ?) \
                     ON CONFLICT (key) DO UPDATE SET embedding = excluded.embedding"
                )
                .into()
            }),
            delete_key: format!("DELETE FROM {table} WHERE rowid = ?").into(),
            delete_source: match &float_table {
                Some(float) => format!("DELETE FROM {float} WHERE key = {lookup}"),
                None => format!("DELETE FROM {table} WHERE rowid = {lookup}"),
            }
            .into(),
            project_of: format!("SELECT project_id FROM {table} WHERE rowid = ?").into(),
            counts: format!(
                "SELECT project_id, kind, count(*) FROM {table} GROUP BY project_id, kind ORDER BY project_id, kind"
            )
            .into(),
            bytes: "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name IN \
                    (SELECT name FROM sqlite_schema WHERE tbl_name LIKE ? ESCAPE '\\')"
                .into(),
            indexed_column,
            indexed_param,
            float_table,
            table,
        }
    }

    /// `LIKE` pattern matching the names of this collection's tables: vec0's shadow tables and
    /// the float32 table (`vectors_<id>_…`).
    pub(crate) fn table_pattern(&self) -> String {
        format!("{}\\_%", self.table.replace('_', "\\_"))
    }

    /// The statements that create the collection's tables and triggers.
    pub(crate) fn create_statements(&self, info: &CollectionInfo) -> Vec<String> {
        let (table, dims, element) = (&self.table, info.spec.dimensions, info.spec.element);
        let mut vec0 = format!(
            "CREATE VIRTUAL TABLE {table} USING vec0(project_id text partition key, kind text partition key, \
             label text, "
        );
        // Writing to a String cannot fail.
        let _ = match element {
            Element::Float32 => write!(vec0, "embedding float[{dims}] distance_metric=l2"),
            // L1 over int8 is the int8 metric sqlite-vec's C compiler vectorises; rescoring
            // with float32 gives the exact order (docs/vector.md, "Quantisation").
            Element::Int8 => write!(vec0, "coarse int8[{dims}] distance_metric=l1"),
            Element::Bit => write!(vec0, "coarse bit[{dims}]"),
        };
        let _ = write!(vec0, ", chunk_size={})", chunk_size(dims, element));
        let mut statements = vec![vec0];
        // Deleting a key (its source row was deleted) deletes the key's vector.
        let forget = match &self.float_table {
            Some(float) => {
                statements.push(format!(
                    "CREATE TABLE {float} (key INTEGER NOT NULL PRIMARY KEY, embedding BLOB NOT NULL) STRICT"
                ));
                statements.push(format!(
                    "CREATE TRIGGER {float}_ad AFTER DELETE ON {float} BEGIN \
                     DELETE FROM {table} WHERE rowid = old.key; END"
                ));
                format!("DELETE FROM {float} WHERE key = old.key;")
            }
            None => format!("DELETE FROM {table} WHERE rowid = old.key;"),
        };
        statements.push(format!("CREATE TRIGGER {table}_ad AFTER DELETE ON vector_keys BEGIN {forget} END"));
        statements
    }

    /// The statements that remove the collection's tables and triggers.
    pub(crate) fn drop_statements(&self) -> Vec<String> {
        let table = &self.table;
        let mut statements = vec![format!("DROP TRIGGER IF EXISTS {table}_ad")];
        if let Some(float) = &self.float_table {
            statements.push(format!("DROP TRIGGER IF EXISTS {float}_ad"));
            statements.push(format!("DROP TABLE IF EXISTS {float}"));
        }
        statements.push(format!("DROP TABLE IF EXISTS {table}"));
        statements
    }
}

/// Vectors per vec0 chunk.
///
/// A partition (project and kind) always allocates whole chunks, so a small partition costs one
/// chunk: float32 and int8 collections aim at about 512 KiB of scanned vectors per chunk, 64 to
/// 1024 vectors. Bit collections use chunks of 32: sqlite-vec picks each chunk's best
/// `min(k, chunk)` candidates with a selection that costs `min(k, chunk) × chunk`, which small
/// chunks keep low for their large, oversampled k (docs/vector.md, "Quantisation").
pub(crate) fn chunk_size(dimensions: usize, element: Element) -> usize {
    let bytes_per_vector = match element {
        Element::Float32 => 4 * dimensions,
        Element::Int8 => dimensions,
        Element::Bit => return 32,
    };
    let target = (512 * 1024) / bytes_per_vector.max(1);
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
        let float = |d| chunk_size(d, Element::Float32);
        assert_eq!(
            [float(8), float(128), float(384), float(768), float(1536), float(3072)],
            [1024, 1024, 256, 128, 64, 64]
        );
        let int8 = |d| chunk_size(d, Element::Int8);
        assert_eq!([int8(384), int8(1536), int8(3072), int8(8192)], [1024, 256, 128, 64]);
        assert_eq!(chunk_size(384, Element::Bit), 32);
    }
}
