#!/usr/bin/env bash
# Prints the path of a sqlx-cli 0.9.0 binary, installing it into ./.tools when missing
# (pinned, --locked; takes about 5 minutes on 2 cores the first time).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
want="0.9.0"
for candidate in "$root/.tools/bin/sqlx" "$(command -v sqlx || true)"; do
  if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" --version 2>/dev/null | grep -q " $want"; then
    echo "$candidate"
    exit 0
  fi
done
echo "installing sqlx-cli $want into $root/.tools" >&2
cargo install "sqlx-cli@$want" --locked --no-default-features --features sqlite,sqlx-toml \
  --root "$root/.tools" >&2
echo "$root/.tools/bin/sqlx"
