//! A retrieval dataset in the BEIR layout of `/work/shared/eval/scifact/`: `corpus.jsonl`,
//! `queries.jsonl`, `qrels-test.tsv`, `qrels-train.tsv` (and, for vector modes, the
//! embedding files described in its README).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

use super::metrics::{Qrels, read_qrels};

/// One corpus document.
#[derive(Debug, Clone, Deserialize)]
pub struct Document {
    /// The BEIR document id.
    #[serde(rename = "_id")]
    pub id: String,
    /// Title (may be empty).
    #[serde(default)]
    pub title: String,
    /// Body text.
    #[serde(default)]
    pub text: String,
}

impl Document {
    /// The text Nexus indexes: `(title + " " + text).strip()`, as BEIR/MTEB and the
    /// README's baselines do.
    pub fn content(&self) -> String {
        format!("{} {}", self.title, self.text).trim().to_owned()
    }
}

#[derive(Deserialize)]
struct Query {
    #[serde(rename = "_id")]
    id: String,
    text: String,
}

/// Which qrels file to evaluate against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Split {
    /// `qrels-test.tsv`: the reported figures.
    Test,
    /// `qrels-train.tsv`: for tuning.
    Train,
}

impl Split {
    pub fn name(self) -> &'static str {
        match self {
            Self::Test => "test",
            Self::Train => "train",
        }
    }
}

/// A loaded dataset: the corpus, the queries of one split and their judgments.
pub struct Dataset {
    pub dir: PathBuf,
    pub documents: Vec<Document>,
    /// Query id → text, for the queries judged in `qrels` (sorted by id).
    pub queries: BTreeMap<String, String>,
    pub qrels: Qrels,
}

impl Dataset {
    pub fn load(dir: &Path, split: Split) -> anyhow::Result<Self> {
        let documents: Vec<Document> = read_jsonl(&dir.join("corpus.jsonl"))?;
        let qrels_path = dir.join(format!("qrels-{}.tsv", split.name()));
        let qrels = read_qrels(&qrels_path)?;
        let mut queries = BTreeMap::new();
        for query in read_jsonl::<Query>(&dir.join("queries.jsonl"))? {
            if qrels.contains_key(&query.id) {
                queries.insert(query.id, query.text);
            }
        }
        if let Some(missing) = qrels.keys().find(|q| !queries.contains_key(*q)) {
            bail!("query {missing} of {} is not in queries.jsonl", qrels_path.display());
        }
        Ok(Self { dir: dir.to_path_buf(), documents, queries, qrels })
    }
}

fn read_jsonl<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<Vec<T>> {
    let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| serde_json::from_str(line).with_context(|| format!("{}:{}", path.display(), n + 1)))
        .collect()
}
