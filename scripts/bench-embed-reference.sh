#!/usr/bin/env bash
# The Python reference of `cargo xtask bench embed`: all-MiniLM-L6-v2 through
# sentence-transformers (PyTorch, CPU) on the same texts, with the same recipe as nexus-embed's
# neural embedder (the same model files, 256 word pieces, mean pooling, L2 norm, batches of 32
# sorted by length).
#
#   bash scripts/bench-embed-reference.sh OUT_DIR CORPUS_JSONL MODEL_DIR DOCS QUERY_RUNS QUERY
#
# Installs sentence-transformers with pip into OUT_DIR/venv the first time (later runs reuse
# it), writes the document vectors to OUT_DIR/reference-docs.f32 and prints one JSON line last:
# docs, docs_per_s, query_p50_ms, implementation, vectors.
set -euo pipefail
out="$1" corpus="$2" model="$3" docs="$4" runs="$5" query="$6"
venv="$out/venv"
mkdir -p "$out"
if [[ ! -f "$venv/.installed" ]]; then
    echo "bench-embed-reference: installing sentence-transformers into $venv (once)" >&2
    "${PYTHON:-python3}" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check sentence-transformers >&2
    touch "$venv/.installed"
fi
exec "$venv/bin/python" - "$corpus" "$model" "$docs" "$runs" "$query" "$out/reference-docs.f32" <<'PY'
import json, os, statistics, sys, time
import numpy as np
import torch
import sentence_transformers
from sentence_transformers import SentenceTransformer, models

corpus, model_dir, docs, runs, query, vectors_out = sys.argv[1:7]
docs, runs = int(docs), int(runs)
torch.set_num_threads(os.cpu_count() or 1)
rows = [json.loads(l) for l in open(corpus, encoding="utf-8") if l.strip()]
if docs:
    rows = rows[:docs]
texts = [(r.get("title", "") + " " + r.get("text", "")).strip() for r in rows]

# The recipe spelled out, so only the three verified files are needed.
word = models.Transformer(model_dir, max_seq_length=256)
pool = models.Pooling(word.get_word_embedding_dimension(), pooling_mode="mean")
model = SentenceTransformer(modules=[word, pool, models.Normalize()], device="cpu")

start = time.perf_counter()
emb = model.encode(texts, batch_size=32, convert_to_numpy=True)
seconds = time.perf_counter() - start
emb.astype("<f4").tofile(vectors_out)
print(f"python  {len(texts)} docs in {seconds:.1f} s", file=sys.stderr)

for _ in range(5):
    model.encode([query])
lat = []
for _ in range(runs):
    t = time.perf_counter()
    model.encode([query])
    lat.append((time.perf_counter() - t) * 1e3)
lat.sort()
p50 = lat[max(0, -(-len(lat) // 2) - 1)]
print(json.dumps({
    "docs": len(texts),
    "docs_per_s": len(texts) / seconds,
    "query_p50_ms": p50,
    "implementation": f"sentence-transformers {sentence_transformers.__version__}, torch {torch.__version__} ({torch.get_num_threads()} threads)",
    "vectors": vectors_out,
}))
PY
