#!/usr/bin/env python3
"""An unprotected MCP server (official Python SDK, streamable HTTP) whose tools and prompts
take arguments, for the end-to-end tests of the policy's `arg` conditions
(tests/it/e2e/arguments.rs, policy tests/e2e/arguments.policy).

Tools: `k8s.scale` (`replicas: int`, `deployment: str`), `files.read` (`path`, any JSON
value, so that whatever a client sends reaches the tool). Prompts: `translate` (`text`,
`target`), `summarize` (`text`).

The oracle, as the attack upstreams keep it: every HTTP request is appended to the log
file as one JSON line ({"kind": "request", method, path, headers, raw body, decoded
body}), and every tool or prompt that runs as another ({"kind": "executed", "executed":
"tools/call" | "prompts/get", "tool" | "prompt": NAME, "arguments": the arguments object
exactly as the request carried it, "id": REQUEST_ID}). Each tool answers a JSON text with
what it executed: {"executed": NAME, "arguments": ...}; each prompt a user message with
that JSON text.

Usage: arguments_upstream.py --log FILE [--json-response]
Prints `{"listening": "http://127.0.0.1:PORT/mcp"}` once the socket listens.
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

LOG_FILE = ""

# The arguments object of the request being handled, as it arrived (before the SDK
# validates it into the function's parameters, which may coerce `"3"` into `3`).
RECEIVED: contextvars.ContextVar[Any] = contextvars.ContextVar("received", default=None)


def record(entry: dict[str, Any]) -> None:
    """Appends one JSON line to the log."""
    with open(LOG_FILE, "a", encoding="utf-8") as log:
        log.write(json.dumps(entry, sort_keys=True) + "\n")


def executed(method: str, field: str, name: str, context: Context) -> str:
    """Records that `name` runs now, with the arguments it received; returns the answer."""
    arguments = RECEIVED.get()
    record(
        {"kind": "executed", "executed": method, field: name, "arguments": arguments, "id": context.request_id}
    )
    return json.dumps({"executed": name, "arguments": arguments}, sort_keys=True)


class ArgumentsServer(MCPServer):
    """An MCPServer that keeps each request's arguments as received for its functions."""

    async def call_tool(self, name, arguments, context=None):  # type: ignore[override]
        RECEIVED.set(arguments)
        return await super().call_tool(name, arguments, context)

    async def get_prompt(self, name, arguments=None, context=None):  # type: ignore[override]
        RECEIVED.set(arguments)
        return await super().get_prompt(name, arguments, context)


def build_server() -> MCPServer:
    server = ArgumentsServer(name="toolgate-e2e-arguments", version="1.0.0", log_level="WARNING")

    @server.tool(name="k8s.scale", description="scale a deployment to `replicas` pods")
    async def k8s_scale(context: Context, replicas: int, deployment: str = "web") -> str:
        return executed("tools/call", "tool", "k8s.scale", context)

    @server.tool(name="files.read", description="read the file at `path`")
    async def files_read(context: Context, path: Any = None) -> str:
        return executed("tools/call", "tool", "files.read", context)

    @server.prompt(name="translate", description="translate `text` into `target`")
    async def translate(context: Context, text: str, target: str) -> str:
        return executed("prompts/get", "prompt", "translate", context)

    @server.prompt(name="summarize", description="summarize `text`")
    async def summarize(context: Context, text: str) -> str:
        return executed("prompts/get", "prompt", "summarize", context)

    return server


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
    parser.add_argument("--json-response", action="store_true", help="answer JSON, not SSE")
    options = parser.parse_args()
    LOG_FILE = options.log

    app = build_server().streamable_http_app(json_response=options.json_response, host="127.0.0.1")
    sock = bind("127.0.0.1", 0)
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(recording(app), log_level="warning", lifespan="on")
    # The socket already listens: connections made from now on wait in its backlog.
    print(json.dumps({"listening": f"http://{host}:{port}/mcp"}), flush=True)
    await uvicorn.Server(config).serve(sockets=[sock])


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
