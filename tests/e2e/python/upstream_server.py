#!/usr/bin/env python3
"""A plain, unprotected MCP server (official Python SDK, streamable HTTP).

The upstream that `toolgate serve` protects in the end-to-end tests: a server "in
another language". Its tools carry the names that the e2e policy governs. Every tool
answers with a JSON text naming itself and what it saw of the gate: the principal
headers `toolgate serve` forwards, and whether any credential reached it (it must not:
the MCP specification forbids token passthrough).

Usage: upstream_server.py [--host 127.0.0.1] [--port 0]
Prints one line `{"listening": "http://127.0.0.1:PORT/mcp"}` on stdout once the socket
listens, then serves until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys

import uvicorn
from mcp.server.mcpserver import Context, MCPServer

# The tool names, as the e2e policy (tests/e2e/e2e.policy) governs them.
TOOL_NAMES = (
    "fs.read_file",
    "fs.write_file",
    "github.list_repos",
    "github.create_issue",
    "logs.tail",
    "db.query",
    "db.drop_table",
)

PRINCIPAL_HEADERS = ("x-toolgate-subject", "x-toolgate-client", "x-toolgate-roles")
CREDENTIAL_HEADERS = ("authorization", "x-api-key")


def observed(tool: str, context: Context) -> str:
    """The JSON text every tool returns: its name and the gate headers it received."""
    headers = {key.lower(): value for key, value in (context.headers or {}).items()}
    report = {
        "tool": tool,
        "principal": {name: headers.get(name) for name in PRINCIPAL_HEADERS},
        "credentials_forwarded": [name for name in CREDENTIAL_HEADERS if name in headers],
    }
    return json.dumps(report, sort_keys=True)


def build_server() -> MCPServer:
    """The server with one tool per governed name."""
    server = MCPServer(name="toolgate-e2e-upstream", version="1.0.0", log_level="WARNING")
    for tool in TOOL_NAMES:
        server.add_tool(make_tool(tool), name=tool, description=f"e2e tool `{tool}`")
    return server


def make_tool(tool: str):
    """A tool function for `tool`: optional free-form argument, reports what it saw."""

    async def run(context: Context, argument: str = "") -> str:
        return observed(tool, context)

    run.__name__ = tool.replace(".", "_")
    return run


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on loopback (port 0: the system picks one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--json-response", action="store_true", help="answer JSON, not SSE")
    options = parser.parse_args()

    server = build_server()
    app = server.streamable_http_app(json_response=options.json_response, host=options.host)
    sock = bind(options.host, options.port)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    uvicorn_server = uvicorn.Server(config)
    # The socket already listens: connections made from now on wait in its backlog.
    print(json.dumps({"listening": f"http://{shown}:{port}/mcp"}), flush=True)
    await uvicorn_server.serve(sockets=[sock])


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
