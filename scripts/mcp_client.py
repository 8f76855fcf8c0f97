"""Drives `nexus mcp` with the official MCP Python SDK over stdio, then over streamable HTTP
with a bearer key (made with `nexus user create`; a request without it must get 401):
initialize, list the tools, then remember -> recall -> index -> search, asserting on each
answer. Used by scripts/mcp-python-client.sh (which installs the SDK into a venv); exits
non-zero on failure.

Usage: python mcp_client.py NEXUS_BINARY
"""

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading

import httpx2
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

EXPECTED_TOOLS = {
    "remember", "recall", "search", "index", "state", "tasks_ready", "task_start",
    "task_complete", "task_fail", "checkpoint", "continue_point_save", "resume",
}


def text_of(result):
    """The text of a tool result's first content block."""
    return result.content[0].text


def write_tree(work: str) -> str:
    """A one-file Python tree under work/tree."""
    tree = os.path.join(work, "tree")
    os.makedirs(os.path.join(tree, "src"))
    with open(os.path.join(tree, "src", "billing.py"), "w", encoding="utf-8") as f:
        f.write("def invoice_total(lines):\n    \"\"\"Sums invoice lines in cents.\"\"\"\n"
                "    return sum(line.cents for line in lines)\n")
    return tree


async def exercise(session: ClientSession, tree: str, work: str, transport: str) -> None:
    """The checked sequence, on a fresh database."""
    init = await session.initialize()
    print(f"{transport}: server {init.server_info.name} {init.server_info.version}, protocol {init.protocol_version}")
    tools = {t.name: t for t in (await session.list_tools()).tools}
    assert EXPECTED_TOOLS <= set(tools), f"missing tools: {EXPECTED_TOOLS - set(tools)}"
    assert set(tools["remember"].input_schema["required"]) >= {"project", "type", "content"}

    # The project is created by indexing; remember before that is a tool error.
    early = await session.call_tool("remember", {"project": "shop", "type": "decision", "content": "x"})
    assert early.is_error and "unknown project" in text_of(early), text_of(early)

    indexed = await session.call_tool("index", {"project": "shop", "path": tree})
    assert not indexed.is_error, text_of(indexed)
    assert json.loads(text_of(indexed))["files_indexed"] == 1

    remembered = await session.call_tool("remember", {
        "project": "shop", "type": "decision",
        "content": "Invoice totals are kept in integer cents to avoid rounding errors",
        "importance": 2.0,
    })
    assert not remembered.is_error, text_of(remembered)
    episode_id = json.loads(text_of(remembered))["id"]

    recalled = await session.call_tool("recall", {"project": "shop", "query": "rounding cents"})
    assert not recalled.is_error, text_of(recalled)
    episodes = json.loads(text_of(recalled))["episodes"]
    assert episodes and episodes[0]["id"] == episode_id, episodes

    found = await session.call_tool("search", {"query": "invoice_total", "kinds": ["code"], "project": "shop"})
    assert not found.is_error, text_of(found)
    hits = json.loads(text_of(found))["hits"]
    assert hits and hits[0]["location"].startswith("src/billing.py:1-"), hits

    outside = await session.call_tool("index", {"project": "shop", "path": work})
    assert outside.is_error and "outside the roots" in text_of(outside), text_of(outside)
    print(f"{transport}: ok: {len(tools)} tools; remember -> recall -> search answered as expected")


def server_args(binary: str, db: str, tree: str) -> list[str]:
    return [binary, "--db", db, "mcp", "--root", tree, "--embedder", "hashing"]


async def over_stdio(binary: str, work: str, tree: str) -> None:
    args = server_args(binary, os.path.join(work, "stdio.db"), tree)
    params = StdioServerParameters(command=args[0], args=args[1:], env={"NEXUS_LOG": "warn"})
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await exercise(session, tree, work, "stdio")


async def over_http(binary: str, work: str, tree: str) -> None:
    db = os.path.join(work, "http.db")
    created = subprocess.run([binary, "--db", db, "user", "create", "py@example.com", "--json"],
                             check=True, capture_output=True, text=True)
    key = json.loads(created.stdout)["key"]
    server = subprocess.Popen(server_args(binary, db, tree) + ["--http", "0"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, env={**os.environ, "NEXUS_LOG": "warn"})
    try:
        url = None
        for line in server.stderr:
            if line.startswith("nexus mcp: serving "):
                url = line.removeprefix("nexus mcp: serving ").strip()
                break
        assert url, "the server did not say where it listens"
        # Drain stderr so that the server never blocks on it.
        threading.Thread(target=server.stderr.read, daemon=True).start()

        initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "py", "version": "1"}}}
        async with httpx2.AsyncClient() as anonymous:
            refused = await anonymous.post(url, json=initialize,
                                           headers={"Accept": "application/json, text/event-stream"})
            assert refused.status_code == 401, refused.status_code
            assert refused.headers.get("www-authenticate") == "Bearer", refused.headers

        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"},
                                      timeout=httpx2.Timeout(30.0, read=300.0)) as http:
            async with streamable_http_client(url, http_client=http) as streams:
                async with ClientSession(streams[0], streams[1]) as session:
                    await exercise(session, tree, work, "streamable HTTP with a key")
    finally:
        server.terminate()
        server.wait(timeout=30)


async def run(binary: str, work: str) -> None:
    tree = write_tree(work)
    await over_stdio(binary, work, tree)
    await over_http(binary, work, tree)


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as work:
        asyncio.run(run(os.path.abspath(sys.argv[1]), work))
    return 0


if __name__ == "__main__":
    sys.exit(main())
