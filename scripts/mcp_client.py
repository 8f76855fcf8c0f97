"""Drives `nexus mcp` with the official MCP Python SDK over stdio: initialize, list the tools,
then remember -> recall -> index -> search, asserting on each answer. Used by
scripts/mcp-python-client.sh (which installs the SDK into a venv); exits non-zero on failure.

Usage: python mcp_client.py NEXUS_BINARY
"""

import asyncio
import json
import os
import sys
import tempfile

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

EXPECTED_TOOLS = {
    "remember", "recall", "search", "index", "state", "tasks_ready", "task_start",
    "task_complete", "task_fail", "checkpoint", "continue_point_save", "resume",
}


def text_of(result):
    """The text of a tool result's first content block."""
    return result.content[0].text


async def run(binary: str, work: str) -> None:
    tree = os.path.join(work, "tree")
    os.makedirs(os.path.join(tree, "src"))
    with open(os.path.join(tree, "src", "billing.py"), "w", encoding="utf-8") as f:
        f.write("def invoice_total(lines):\n    \"\"\"Sums invoice lines in cents.\"\"\"\n"
                "    return sum(line.cents for line in lines)\n")
    params = StdioServerParameters(
        command=binary,
        args=["--db", os.path.join(work, "nexus.db"), "mcp", "--root", tree, "--embedder", "hashing"],
        env={"NEXUS_LOG": "warn"},
    )
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            print(f"server: {init.server_info.name} {init.server_info.version}, protocol {init.protocol_version}")
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
            print(f"ok: {len(tools)} tools; remember -> recall -> search answered as expected")


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as work:
        asyncio.run(run(os.path.abspath(sys.argv[1]), work))
    return 0


if __name__ == "__main__":
    sys.exit(main())
