#!/usr/bin/env python3
"""An unprotected MCP server on the official Python SDK (mcp 2.3.0), for the attack suite.

The SDK's streamable-HTTP transport routes each response to the POST whose request id
has the same `str(id)`, so requests with ids `7` and `"7"` share one route. `tools/list`
is answered after `--list-delay` seconds (a server listing from a slow store), and
`public.echo` after its `delay` argument, which makes the overlap deterministic.

The oracle: every HTTP request is appended to the log file as one JSON line
({"kind": "request", method, path, headers as received, raw body, decoded body}), and
everything the server carries out as another ({"kind": "executed", "executed": METHOD,
"tool": NAME, "id": ID}).

Usage: python_upstream.py --log FILE [--json-response] [--list-delay SECONDS]
Prints `{"listening": "http://127.0.0.1:PORT/mcp"}` once the socket listens.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
from typing import Any

import uvicorn
from mcp.server.mcpserver import Context, MCPServer

TOOL_NAMES = ("github.list_issues", "db.drop_table", "secret.tool", "public.echo")
LOG_FILE = ""


def record(entry: dict[str, Any]) -> None:
    """Appends one JSON line to the log."""
    with open(LOG_FILE, "a", encoding="utf-8") as log:
        log.write(json.dumps(entry) + "\n")


class AttackServer(MCPServer):
    """An MCPServer whose listing is slow and recorded."""

    list_delay = 0.0

    async def list_tools(self):  # type: ignore[override]
        record({"kind": "executed", "executed": "tools/list"})
        await asyncio.sleep(self.list_delay)
        return await super().list_tools()


def make_tool(tool: str):
    """The function behind `tool`: records the call, waits `delay` seconds, answers."""

    async def run(context: Context, text: str = "", delay: float = 0.0) -> str:
        record(
            {
                "kind": "executed",
                "executed": "tools/call",
                "tool": tool,
                "arguments": {"text": text, "delay": delay},
                "id": context.request_id,
            }
        )
        if delay > 0:
            await asyncio.sleep(min(delay, 10.0))
        return json.dumps({"executed": tool, "text": text})

    run.__name__ = tool.replace(".", "_")
    return run


def recording(app):
    """ASGI middleware: records each HTTP request (headers and raw body) before the app."""

    async def wrapped(scope, receive, send):
        if scope["type"] != "http":
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
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


async def main() -> None:
    global LOG_FILE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", required=True)
    parser.add_argument("--json-response", action="store_true")
    parser.add_argument("--list-delay", type=float, default=0.0)
    options = parser.parse_args()
    LOG_FILE = options.log

    server = AttackServer(name="toolgate-attack-python", version="1.0.0", log_level="WARNING")
    AttackServer.list_delay = options.list_delay
    for tool in TOOL_NAMES:
        server.add_tool(make_tool(tool), name=tool, description=f"attack tool `{tool}`")
    app = server.streamable_http_app(json_response=options.json_response, host="127.0.0.1")
    sock = bind("127.0.0.1", 0)
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(recording(app), log_level="warning", lifespan="on")
    print(json.dumps({"listening": f"http://{host}:{port}/mcp"}), flush=True)
    await uvicorn.Server(config).serve(sockets=[sock])


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
