//! TREC run files and the retrieval metrics, mirroring `/work/shared/eval/tools/evaluate.py`
//! (trec_eval conventions) so the figures printed here equal that script's on the same file:
//!
//! * qrels: BEIR tsv with a header (`query-id corpus-id score`) or TREC (`qid 0 docid rel`);
//!   relevant means rel >= 1; queries without a relevant document are not averaged;
//! * a run is ordered by score descending, ties by doc id descending (the rank column is
//!   ignored), repeated doc ids keep their first place;
//! * nDCG@10 with linear gain and 1/log2(rank + 1) discount, the ideal from all judged
//!   documents; Recall@k over relevant documents; MRR@10; a query missing from the run
//!   scores 0.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use anyhow::{Context, bail};

/// Query id → (doc id → relevance).
pub type Qrels = BTreeMap<String, HashMap<String, i64>>;

/// Query id → doc ids, best first.
pub type Run = HashMap<String, Vec<String>>;

pub fn read_qrels(path: &Path) -> anyhow::Result<Qrels> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut qrels = Qrels::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (qid, did, rel) = match fields.as_slice() {
            [] => continue,
            [qid, _, did, rel] | [qid, did, rel] => (qid, did, rel),
            _ => bail!("bad qrels line in {}: {line:?}", path.display()),
        };
        // evaluate.py: int(float(rel)); a line whose relevance is not a number is the header.
        let Ok(rel) = rel.parse::<f64>() else { continue };
        qrels.entry((*qid).to_owned()).or_default().insert((*did).to_owned(), rel.trunc() as i64);
    }
    Ok(qrels)
}

/// One ranked result of one query.
pub struct Ranked {
    pub doc_id: String,
    pub score: f64,
}

/// Writes a TREC run (`qid Q0 docid rank score tag`), each query's results in the order the
/// metrics read them back (score descending, doc id descending), scores printed exactly.
pub fn write_run(path: &Path, results: &BTreeMap<String, Vec<Ranked>>, tag: &str) -> anyhow::Result<()> {
    let mut out = String::new();
    for (qid, ranked) in results {
        let mut ranked: Vec<&Ranked> = ranked.iter().collect();
        ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| b.doc_id.cmp(&a.doc_id)));
        for (rank, r) in ranked.iter().enumerate() {
            writeln!(out, "{qid} Q0 {} {} {} {tag}", r.doc_id, rank + 1, r.score)?;
        }
    }
    fs::write(path, out).with_context(|| format!("writing {}", path.display()))
}

pub fn read_run(path: &Path) -> anyhow::Result<Run> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut rows: HashMap<String, Vec<(String, f64)>> = HashMap::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        if fields.len() < 6 {
            bail!("bad run line in {}: {line:?}", path.display());
        }
        let score: f64 = fields[4].parse().with_context(|| format!("bad score in {line:?}"))?;
        rows.entry(fields[0].to_owned()).or_default().push((fields[2].to_owned(), score));
    }
    Ok(rows
        .into_iter()
        .map(|(qid, mut docs)| {
            docs.sort_by(|a, b| b.0.cmp(&a.0));
            docs.sort_by(|a, b| b.1.total_cmp(&a.1)); // stable: ties keep doc id descending
            let mut seen = HashSet::new();
            let docs = docs.into_iter().filter_map(|(d, _)| seen.insert(d.clone()).then_some(d)).collect();
            (qid, docs)
        })
        .collect())
}

/// Mean metrics over the judged queries.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Metrics {
    #[serde(rename = "ndcg@10")]
    pub ndcg_10: f64,
    #[serde(rename = "recall@10")]
    pub recall_10: f64,
    #[serde(rename = "recall@100")]
    pub recall_100: f64,
    #[serde(rename = "mrr@10")]
    pub mrr_10: f64,
}

/// Scores one query's ranking.
fn score_query(docs: &[String], rels: &HashMap<String, i64>) -> Metrics {
    let rel = |d: &String| rels.get(d).copied().unwrap_or(0);
    let relevant: HashSet<&String> = rels.iter().filter(|(_, r)| **r >= 1).map(|(d, _)| d).collect();
    let discount = |i: usize| 1.0 / ((i + 2) as f64).log2();
    let dcg: f64 = docs
        .iter()
        .take(10)
        .enumerate()
        .filter(|(_, d)| rel(d) > 0)
        .map(|(i, d)| rel(d) as f64 * discount(i))
        .sum();
    let mut ideal: Vec<i64> = rels.values().copied().filter(|r| *r >= 1).collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = ideal.iter().take(10).enumerate().map(|(i, r)| *r as f64 * discount(i)).sum();
    let recall = |k: usize| {
        docs.iter().take(k).collect::<HashSet<_>>().iter().filter(|d| relevant.contains(**d)).count() as f64
            / relevant.len() as f64
    };
    Metrics {
        ndcg_10: if idcg > 0.0 { dcg / idcg } else { 0.0 },
        recall_10: recall(10),
        recall_100: recall(100),
        mrr_10: docs.iter().take(10).position(|d| relevant.contains(d)).map_or(0.0, |i| 1.0 / (i + 1) as f64),
    }
}

/// The mean metrics, the number of queries averaged and how many of them the run lacks.
pub fn evaluate(run: &Run, qrels: &Qrels) -> (Metrics, usize, usize) {
    let (mut sum, mut count, mut missing) = (Metrics::default(), 0, 0);
    for (qid, rels) in qrels {
        if !rels.values().any(|r| *r >= 1) {
            continue;
        }
        missing += usize::from(!run.contains_key(qid));
        let m = score_query(run.get(qid).map_or(&[][..], Vec::as_slice), rels);
        sum.ndcg_10 += m.ndcg_10;
        sum.recall_10 += m.recall_10;
        sum.recall_100 += m.recall_100;
        sum.mrr_10 += m.mrr_10;
        count += 1;
    }
    let n = count.max(1) as f64;
    let mean = Metrics {
        ndcg_10: sum.ndcg_10 / n,
        recall_10: sum.recall_10 / n,
        recall_100: sum.recall_100 / n,
        mrr_10: sum.mrr_10 / n,
    };
    (mean, count, missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qrels(pairs: &[(&str, &str, i64)]) -> Qrels {
        let mut q = Qrels::new();
        for (qid, did, rel) in pairs {
            q.entry((*qid).into()).or_default().insert((*did).into(), *rel);
        }
        q
    }

    #[test]
    fn metrics_follow_trec_eval_conventions() {
        // q1: relevant d1 (rank 2) and d9 (not retrieved); q2: nothing retrieved.
        let run: Run = [("q1".to_owned(), vec!["d0".to_owned(), "d1".to_owned()])].into();
        let (m, count, missing) =
            evaluate(&run, &qrels(&[("q1", "d1", 1), ("q1", "d9", 1), ("q2", "d2", 1), ("q3", "d3", 0)]));
        assert_eq!((count, missing), (2, 1));
        let ndcg_q1 = (1.0 / 3f64.log2()) / (1.0 + 1.0 / 3f64.log2());
        assert!((m.ndcg_10 - ndcg_q1 / 2.0).abs() < 1e-12);
        assert!((m.recall_100 - 0.25).abs() < 1e-12);
        assert!((m.mrr_10 - 0.25).abs() < 1e-12);
    }

    #[test]
    fn runs_are_read_by_score_then_doc_id_descending() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("run.trec");
        fs::write(&path, "q Q0 a 1 1.5 t\nq Q0 b 2 2.0 t\nq Q0 c 3 1.5 t\nq Q0 b 4 0.1 t\n")?;
        assert_eq!(read_run(&path)?["q"], ["b", "c", "a"]);
        Ok(())
    }
}
