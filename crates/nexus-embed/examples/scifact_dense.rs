//! Dense-only retrieval quality of the offline [`LocalEmbedder`] on BEIR SciFact, next to the
//! all-MiniLM-L6-v2 vectors shipped with the evaluation data (exact cosine, no index).
//!
//! ```sh
//! cargo run --release -p nexus-embed --example scifact_dense -- [DATA_DIR] [DIMENSIONS...]
//! ```
//!
//! `DATA_DIR` defaults to `/work/shared/eval/scifact` (see its README); `DIMENSIONS` to 384.
//! Prints one JSON line per run with nDCG@10, Recall@10, Recall@100 and MRR@10 on the 300
//! test queries (and nDCG@10 on the 809 train queries). Exits quietly when the data is absent.

// A measurement program: its output is the point.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use nexus_embed::{LOCAL_MODEL, LocalEmbedder};
use serde_json::{Value, json};

type AnyResult<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> AnyResult<()> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "/work/shared/eval/scifact".into()));
    let dimensions: Vec<usize> = args.map(|a| a.parse()).collect::<Result<_, _>>()?;
    let dimensions = if dimensions.is_empty() { vec![384] } else { dimensions };
    if !dir.join("corpus.jsonl").exists() {
        eprintln!("skipped: no SciFact data at {}", dir.display());
        return Ok(());
    }

    let corpus = read_jsonl(&dir.join("corpus.jsonl"))?;
    let doc_ids: Vec<String> = corpus.iter().map(|d| str_field(d, "_id")).collect();
    let doc_texts: Vec<String> = corpus
        .iter()
        .map(|d| format!("{} {}", str_field(d, "title"), str_field(d, "text")).trim().to_owned())
        .collect();
    let queries: HashMap<String, String> = read_jsonl(&dir.join("queries.jsonl"))?
        .iter()
        .map(|q| (str_field(q, "_id"), str_field(q, "text").trim().to_owned()))
        .collect();
    let splits = [
        ("test", read_qrels(&dir.join("qrels-test.tsv"))?),
        ("train", read_qrels(&dir.join("qrels-train.tsv"))?),
    ];

    // Reference: the shipped all-MiniLM-L6-v2 vectors, scored by the same code.
    let minilm_docs = read_vectors(&dir.join("doc-embeddings.f32"), &dir.join("doc-ids.txt"), 384)?;
    let minilm_queries = read_vectors(&dir.join("query-embeddings.f32"), &dir.join("query-ids.txt"), 384)?;
    let doc_matrix: Vec<Vec<f32>> =
        doc_ids.iter().map(|id| minilm_docs.get(id).cloned().unwrap_or_default()).collect();
    report("all-MiniLM-L6-v2", 384, 0.0, &doc_ids, &doc_matrix, &splits, |id| {
        minilm_queries.get(id).cloned()
    });

    for dims in dimensions {
        let embedder = LocalEmbedder::new(dims)?;
        let started = Instant::now();
        let doc_matrix: Vec<Vec<f32>> = doc_texts.iter().map(|t| embedder.embed_text(t)).collect();
        let docs_per_sec = doc_texts.len() as f64 / started.elapsed().as_secs_f64();
        report(LOCAL_MODEL, dims, docs_per_sec, &doc_ids, &doc_matrix, &splits, |id| {
            queries.get(id).map(|q| embedder.embed_text(q))
        });
    }
    Ok(())
}

type Qrels = HashMap<String, HashSet<String>>;

/// Scores every split and prints one JSON line.
fn report(
    model: &str,
    dims: usize,
    docs_per_sec: f64,
    doc_ids: &[String],
    docs: &[Vec<f32>],
    splits: &[(&str, Qrels)],
    query_vector: impl Fn(&str) -> Option<Vec<f32>>,
) {
    let mut line = json!({ "dataset": "scifact", "mode": "dense", "model": model, "dimensions": dims });
    if docs_per_sec > 0.0 {
        line["docs_per_sec"] = json!((docs_per_sec * 10.0).round() / 10.0);
    }
    for (split, qrels) in splits {
        let mut sums = [0.0f64; 4];
        for (qid, relevant) in qrels {
            let Some(q) = query_vector(qid) else { continue };
            let ranking = rank(&q, doc_ids, docs, 100);
            let m = metrics(&ranking, relevant);
            sums.iter_mut().zip(m).for_each(|(s, v)| *s += v);
        }
        let n = qrels.len() as f64;
        let round = |v: f64| (v / n * 10_000.0).round() / 10_000.0;
        if *split == "test" {
            line["ndcg@10"] = json!(round(sums[0]));
            line["recall@10"] = json!(round(sums[1]));
            line["recall@100"] = json!(round(sums[2]));
            line["mrr@10"] = json!(round(sums[3]));
            line["queries"] = json!(qrels.len());
        } else {
            line[format!("{split}_ndcg@10")] = json!(round(sums[0]));
        }
    }
    println!("{line}");
}

/// The top `k` documents by dot product (cosine: all vectors are unit length), ties by id.
fn rank<'a>(query: &[f32], ids: &'a [String], docs: &[Vec<f32>], k: usize) -> Vec<&'a str> {
    let mut scored: Vec<(f32, &str)> = docs
        .iter()
        .zip(ids)
        .map(|(d, id)| (d.iter().zip(query).map(|(a, b)| a * b).sum(), id.as_str()))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.into_iter().take(k).map(|(_, id)| id).collect()
}

/// nDCG@10, Recall@10, Recall@100 and MRR@10 with binary relevance (trec_eval conventions).
fn metrics(ranking: &[&str], relevant: &HashSet<String>) -> [f64; 4] {
    let hits: Vec<bool> = ranking.iter().map(|id| relevant.contains(*id)).collect();
    let dcg: f64 = hits
        .iter()
        .take(10)
        .enumerate()
        .filter(|(_, hit)| **hit)
        .map(|(i, _)| 1.0 / (i as f64 + 2.0).log2())
        .sum();
    let ideal: f64 = (0..relevant.len().min(10)).map(|i| 1.0 / (i as f64 + 2.0).log2()).sum();
    let recall = |k: usize| hits.iter().take(k).filter(|hit| **hit).count() as f64 / relevant.len() as f64;
    let mrr = hits.iter().take(10).position(|hit| *hit).map_or(0.0, |p| 1.0 / (p as f64 + 1.0));
    [dcg / ideal, recall(10), recall(100), mrr]
}

fn str_field(value: &Value, key: &str) -> String {
    value[key].as_str().unwrap_or_default().to_owned()
}

fn read_jsonl(path: &Path) -> AnyResult<Vec<Value>> {
    let text = std::fs::read_to_string(path)?;
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| Ok(serde_json::from_str(l)?)).collect()
}

fn read_qrels(path: &Path) -> AnyResult<Qrels> {
    let mut qrels: Qrels = HashMap::new();
    for line in std::fs::read_to_string(path)?.lines().skip(1) {
        let fields: Vec<&str> = line.split('\t').collect();
        if let [query, doc, score] = fields[..]
            && score.trim().parse::<i64>().is_ok_and(|s| s >= 1)
        {
            qrels.entry(query.to_owned()).or_default().insert(doc.to_owned());
        }
    }
    Ok(qrels)
}

fn read_vectors(data: &Path, ids: &Path, dims: usize) -> AnyResult<HashMap<String, Vec<f32>>> {
    let bytes = std::fs::read(data)?;
    let ids = std::fs::read_to_string(ids)?;
    let rows = bytes.chunks_exact(dims * 4).map(|row| nexus_db::f32s_from_bytes(row).unwrap_or_default());
    Ok(ids.lines().map(str::to_owned).zip(rows).collect())
}
