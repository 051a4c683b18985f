#!/usr/bin/env python3
"""A plain, unprotected MCP server (official Python SDK, streamable HTTP).

The upstream that `toolgate serve` protects in the end-to-end tests: a server "in
another language". Its tools carry the names that the e2e policy governs. Every tool
answers with a JSON text naming itself and what it saw of the gate: the principal
headers `toolgate serve` forwards, and whether any credential reached it (it must not:
the MCP specification forbids token passthrough).

With `--log FILE` it keeps the oracle of the end-to-end tests, as
arguments_upstream.py does: every HTTP request is appended to FILE as one JSON line
({"kind": "request", method, path, headers, raw body, decoded body}), and every tool
that runs as another ({"kind": "executed", "executed": "tools/call", "tool": NAME,
"arguments": the arguments object exactly as the request carried it, "id": REQUEST_ID,
"principal": the principal headers, "credentials_forwarded": credential headers seen}).

Usage: upstream_server.py [--host 127.0.0.1] [--port 0] [--log FILE]
Prints one line `{"listening": "http://127.0.0.1:PORT/mcp"}` on stdout once the socket
listens, then serves until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import json
import socket
import sys
from typing import Any

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

LOG_FILE = ""

# The arguments object of the call being handled, as it arrived (before the SDK
# validates it into the function's parameters).
RECEIVED: contextvars.ContextVar[Any] = contextvars.ContextVar("received", default=None)


def record(entry: dict[str, Any]) -> None:
    """Appends one JSON line to the log, if there is one."""
    if LOG_FILE:
        with open(LOG_FILE, "a", encoding="utf-8") as log:
            log.write(json.dumps(entry, sort_keys=True) + "\n")


def observed(tool: str, context: Context) -> str:
    """The JSON text every tool returns: its name and the gate headers it received. The
    run is recorded in the log."""
    headers = {key.lower(): value for key, value in (context.headers or {}).items()}
    report = {
        "tool": tool,
        "principal": {name: headers.get(name) for name in PRINCIPAL_HEADERS},
        "credentials_forwarded": [name for name in CREDENTIAL_HEADERS if name in headers],
    }
    record(
        {
            "kind": "executed",
            "executed": "tools/call",
            "tool": tool,
            "arguments": RECEIVED.get(),
            "id": context.request_id,
            **report,
        }
    )
    return json.dumps(report, sort_keys=True)


class RecordingServer(MCPServer):
    """An MCPServer that keeps each call's arguments as received for its tools."""

    async def call_tool(self, name, arguments, context=None):  # type: ignore[override]
        RECEIVED.set(arguments)
        return await super().call_tool(name, arguments, context)


def build_server() -> MCPServer:
    """The server with one tool per governed name."""
    server = RecordingServer(name="toolgate-e2e-upstream", version="1.0.0", log_level="WARNING")
    for tool in TOOL_NAMES:
        server.add_tool(make_tool(tool), name=tool, description=f"e2e tool `{tool}`")
    return server


def make_tool(tool: str):
    """A tool function for `tool`: optional free-form argument, reports what it saw."""

    async def run(context: Context, argument: str = "") -> str:
        return observed(tool, context)

    run.__name__ = tool.replace(".", "_")
    return run


def recording(app):
    """ASGI middleware: records each HTTP request (headers and raw body) before the app."""

    async def wrapped(scope, receive, send):
        if scope["type"] != "http" or not LOG_FILE:
            return await app(scope, receive, send)
        chunks = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        raw = b"".join(chunks)
        try:
            decoded = json.loads(raw) if raw else None
        except ValueError:
            decoded = None
        record(
            {
                "kind": "request",
                "method": scope["method"],
                "path": scope["path"],
                "headers": [[name.decode("latin-1"), value.decode("latin-1")] for name, value in scope["headers"]],
                "raw": raw.decode("latin-1"),
                "decoded": decoded,
            }
        )
        delivered = False

        async def replay():
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": raw, "more_body": False}
            return await receive()

        return await app(scope, replay, send)

    return wrapped


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on loopback (port 0: the system picks one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


async def main() -> None:
    global LOG_FILE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--json-response", action="store_true", help="answer JSON, not SSE")
    parser.add_argument("--log", default="", help="record requests and calls in this file")
    options = parser.parse_args()
    LOG_FILE = options.log

    server = build_server()
    app = server.streamable_http_app(json_response=options.json_response, host=options.host)
    sock = bind(options.host, options.port)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    config = uvicorn.Config(recording(app), log_level="warning", lifespan="on")
    uvicorn_server = uvicorn.Server(config)
    # The socket already listens: connections made from now on wait in its backlog.
    print(json.dumps({"listening": f"http://{shown}:{port}/mcp"}), flush=True)
    await uvicorn_server.serve(sockets=[sock])


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
