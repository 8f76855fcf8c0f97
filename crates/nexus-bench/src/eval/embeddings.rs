//! The dataset's precomputed vectors: `doc-ids.txt` + `doc-embeddings.f32` and
//! `query-ids.txt` + `query-embeddings.f32` (raw little-endian float32 rows, one per id line).

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use anyhow::{Context, ensure};

/// Vectors by id, all of one dimension.
pub struct Vectors {
    pub dimensions: usize,
    pub by_id: HashMap<String, Vec<f32>>,
}

impl Vectors {
    /// Reads `<prefix>-ids.txt` and `<prefix>-embeddings.f32` from `dir`; the dimension is the
    /// file size divided by the number of ids.
    pub fn load(dir: &Path, prefix: &str) -> anyhow::Result<Self> {
        let ids_path = dir.join(format!("{prefix}-ids.txt"));
        let data_path = dir.join(format!("{prefix}-embeddings.f32"));
        let ids: Vec<String> = fs::read_to_string(&ids_path)
            .with_context(|| format!("reading {}", ids_path.display()))?
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
        let bytes = fs::read(&data_path).with_context(|| format!("reading {}", data_path.display()))?;
        ensure!(!ids.is_empty(), "{} lists no ids", ids_path.display());
        let row_bytes = bytes.len() / ids.len();
        ensure!(
            row_bytes > 0 && row_bytes.is_multiple_of(4) && row_bytes * ids.len() == bytes.len(),
            "{} ({} bytes) does not hold {} float32 rows",
            data_path.display(),
            bytes.len(),
            ids.len()
        );
        let dimensions = row_bytes / 4;
        let by_id = ids
            .into_iter()
            .zip(bytes.chunks_exact(row_bytes))
            .map(|(id, row)| {
                let vector =
                    row.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
                (id, vector)
            })
            .collect();
        Ok(Self { dimensions, by_id })
    }
}
