//! The neural embedder against the real all-MiniLM-L6-v2 files (the model cache; CI fetches
//! them with `scripts/fetch-model.sh`): its vectors agree with the shared SciFact vectors, made
//! by an independent NumPy implementation of the same recipe, for a sample of documents and
//! queries; batching, padding and truncation do not change a vector. Skipped, with a message,
//! when the model files or the shared data are absent.

use std::path::{Path, PathBuf};

use nexus_embed::{Embedder, MAX_TOKENS, NEURAL_DIMENSIONS, NEURAL_MODEL, NeuralEmbedder};

use crate::support::TestResult;

/// Rows of the shared vectors that are checked, per file.
const SAMPLE: usize = 24;

/// The neural embedder, or `None` (with a message) when its files are not installed.
#[allow(clippy::print_stderr)]
fn embedder() -> Result<Option<NeuralEmbedder>, nexus_embed::EmbedError> {
    match nexus_embed::model_dir().filter(|dir| nexus_embed::model_present(dir)) {
        Some(dir) => NeuralEmbedder::load(&dir).map(Some),
        None => {
            eprintln!("skipped: {}", nexus_embed::fetch_hint(nexus_embed::model_dir().as_deref()));
            Ok(None)
        }
    }
}

/// The shared SciFact folder, or `None` (with a message) when it is absent.
#[allow(clippy::print_stderr)]
fn scifact() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/eval/scifact");
    let present = ["corpus.jsonl", "queries.jsonl", "doc-embeddings.f32", "query-embeddings.f32"]
        .iter()
        .all(|f| dir.join(f).is_file());
    if !present {
        eprintln!("skipped: the shared SciFact data is absent ({})", dir.display());
    }
    present.then_some(dir)
}

/// A text and its reference vector.
type Row = (String, Vec<f32>);

/// `(text, reference vector)` for every `step`-th row of `kind` (`doc` or `query`): the text
/// as the reference embedded it (documents `title + " " + text`, stripped).
fn rows(dir: &Path, kind: &str, step: usize) -> Result<Vec<Row>, Box<dyn std::error::Error>> {
    let jsonl = if kind == "doc" { "corpus.jsonl" } else { "queries.jsonl" };
    let vectors = std::fs::read(dir.join(format!("{kind}-embeddings.f32")))?;
    let mut out = Vec::new();
    for (i, line) in std::fs::read_to_string(dir.join(jsonl))?.lines().enumerate().step_by(step) {
        let row: serde_json::Value = serde_json::from_str(line)?;
        let text = match kind {
            "doc" => {
                format!("{} {}", row["title"].as_str().unwrap_or(""), row["text"].as_str().unwrap_or(""))
            }
            _ => row["text"].as_str().unwrap_or("").to_owned(),
        };
        let bytes =
            vectors.get(i * NEURAL_DIMENSIONS * 4..(i + 1) * NEURAL_DIMENSIONS * 4).ok_or("short file")?;
        let vector = bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        out.push((text.trim().to_owned(), vector));
    }
    Ok(out)
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

#[tokio::test]
async fn vectors_agree_with_the_shared_scifact_vectors() -> TestResult {
    let (Some(embedder), Some(dir)) = (embedder()?, scifact()) else { return Ok(()) };
    assert_eq!((embedder.model(), embedder.dimensions()), (NEURAL_MODEL, 384));
    // Every 216th document (most are longer than 256 pieces, so truncation is covered) and
    // every 46th query, all embedded in one call as a caller would.
    for (kind, step) in [("doc", 5183 / SAMPLE), ("query", 1109 / SAMPLE)] {
        let rows = rows(&dir, kind, step)?;
        assert!(rows.len() >= SAMPLE, "{kind}: {} rows", rows.len());
        let texts: Vec<&str> = rows.iter().map(|(t, _)| t.as_str()).collect();
        let vectors = embedder.embed(&texts).await?;
        for ((text, expected), got) in rows.iter().zip(&vectors) {
            assert_eq!(got.len(), NEURAL_DIMENSIONS);
            let norm = got.iter().map(|x| x * x).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-4, "norm {norm}");
            let cos = cosine(got, expected);
            assert!(cos >= 0.999, "{kind} cosine {cos} for {:?}", &text[..text.len().min(60)]);
        }
    }
    Ok(())
}

#[tokio::test]
async fn batching_padding_and_truncation_leave_vectors_unchanged() -> TestResult {
    let Some(embedder) = embedder()? else { return Ok(()) };
    let short = "store totals in cents";
    let long = "the quick brown fox jumps over the lazy dog ".repeat(MAX_TOKENS / 9 + 1);
    let longer = format!("{long} and then a completely different ending about databases");
    let alone = embedder.embed(&[short]).await?;
    // In a batch with a long text the short one is padded; the mask must hide the padding.
    let batch = embedder.embed(&[long.as_str(), short, longer.as_str()]).await?;
    assert!(cosine(&alone[0], &batch[1]) > 0.99999, "{}", cosine(&alone[0], &batch[1]));
    // Past 256 pieces nothing counts: the two long texts differ only there.
    assert!(cosine(&batch[0], &batch[2]) > 0.99999, "{}", cosine(&batch[0], &batch[2]));
    // And the model tells related from unrelated texts.
    let related =
        embedder.embed(&["how are prices stored", "amounts are kept in cents", "a cat on a mat"]).await?;
    assert!(cosine(&related[0], &related[1]) > cosine(&related[0], &related[2]));
    assert!(embedder.embed(&["ok", " "]).await.is_err());
    Ok(())
}
