#!/usr/bin/env bash
# Checks `nexus mcp` with a client no one here wrote: the official MCP Python SDK (package
# `mcp`, pinned below) connects over stdio, then over streamable HTTP with a bearer key (and
# checks the 401 without one), and runs remember -> recall -> index -> search with assertions
# (scripts/mcp_client.py). The SDK is installed with pip into a venv under the
# target dir, ${CARGO_TARGET_DIR:-target}/venv-mcp, and reused while it has the pinned version.
# Exits non-zero when the client's check fails (CI runs it after the tests).
#
#   bash scripts/mcp-python-client.sh      # PYTHON=python3.12 to choose the interpreter
set -euo pipefail
cd "$(dirname "$0")/.."

sdk_version=2.3.0
python="${PYTHON:-python3}"
target="${CARGO_TARGET_DIR:-target}"
venv="$target/venv-mcp"

installed() {
    "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('mcp') != '$sdk_version')" \
        2>/dev/null
}
if ! installed; then
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "mcp==$sdk_version"
fi

cargo build --quiet -p nexus-cli --bin nexus
"$venv/bin/python" scripts/mcp_client.py "$target/debug/nexus"
