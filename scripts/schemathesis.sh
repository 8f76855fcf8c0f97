#!/usr/bin/env bash
# Fuzzes the HTTP API against its own OpenAPI document with schemathesis: starts `nexus serve`
# on a fresh database (ephemeral port, hashing embedder), creates a user and key, and runs
# schemathesis against /openapi.json with that key. Fails on any 5xx or any response that does
# not match the document (status code, content type, schema).
#
# schemathesis (pinned) is installed with pip into a venv under the target dir the first time:
#   ${CARGO_TARGET_DIR:-target}/venv-schemathesis
#
#   bash scripts/schemathesis.sh            # ST_MAX_EXAMPLES=N (default 10), ST_MAX_TIME=S (default 300)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
venv="$target/venv-schemathesis"
version=4.32.5
if [[ ! -f "$venv/.installed-$version" ]]; then
    echo "schemathesis: installing schemathesis==$version into $venv (once)" >&2
    "${PYTHON:-python3}" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$version" >&2
    touch "$venv/.installed-$version"
fi

cargo build --quiet -p nexus-cli
nexus="$target/debug/nexus"
tmp="$(mktemp -d)"
server=""
cleanup() {
    if [[ -n "$server" ]] && kill -0 "$server" 2>/dev/null; then kill "$server" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT

export NEXUS_EMBEDDER=hashing
key="$("$nexus" --db "$tmp/st.db" user create schemathesis@example.com --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')"
"$nexus" --db "$tmp/st.db" serve --addr 127.0.0.1:0 >"$tmp/serve.out" 2>"$tmp/serve.err" &
server=$!
url=""
for _ in $(seq 1 100); do
    url="$(grep -o 'http://127.0.0.1:[0-9]*' "$tmp/serve.out" || true)"
    [[ -n "$url" ]] && curl -fsS "$url/health" >/dev/null 2>&1 && break
    sleep 0.1
done
[[ -n "$url" ]] || { echo "schemathesis: the server did not start" >&2; cat "$tmp/serve.err" >&2; exit 1; }

status=0
"$venv/bin/schemathesis" run "$url/openapi.json" \
    --header "Authorization: Bearer $key" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-examples "${ST_MAX_EXAMPLES:-10}" --max-time "${ST_MAX_TIME:-300}" --seed 7 --workers 2 \
    --suppress-health-check all || status=$?

# Graceful shutdown: SIGTERM, then the server must exit cleanly.
kill -TERM "$server"
wait "$server" || { echo "schemathesis: the server did not shut down cleanly" >&2; status=1; }
server=""
if grep -q 'panicked' "$tmp/serve.err"; then
    echo "schemathesis: the server panicked" >&2
    status=1
fi
[[ $status -eq 0 ]] && echo "schemathesis: ok"
exit $status
