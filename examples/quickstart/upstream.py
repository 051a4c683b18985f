#!/usr/bin/env python3
"""A small MCP server for the quick start, with nothing but the Python standard library.

It speaks MCP's streamable HTTP transport in its simplest form (POST /mcp, JSON
responses, no sessions): `initialize`, `ping`, `tools/list` and `tools/call` for five
note-taking tools, each with the annotations and `inputSchema` that `toolgate init`
reads. It protects nothing: that is the gate's job. Every call it executes is printed on
standard error (`executed notes.delete {"id": "n1"}`), so you see what got through.

Usage:
  upstream.py --tools               print the tools/list result (for `toolgate init`)
  upstream.py [--host H] [--port P] serve on http://H:P/mcp (default 127.0.0.1:9000)
"""

from __future__ import annotations

import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PROTOCOL_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")


def schema(**properties: str) -> dict:
    return {
        "type": "object",
        "properties": {name: {"type": kind} for name, kind in properties.items()},
    }


TOOLS = [
    {
        "name": "notes.search",
        "title": "Search notes",
        "annotations": {"readOnlyHint": True, "openWorldHint": False},
        "inputSchema": schema(query="string"),
    },
    {
        "name": "notes.read",
        "title": "Read a note",
        "annotations": {"readOnlyHint": True, "openWorldHint": False},
        "inputSchema": schema(id="string"),
    },
    {
        "name": "notes.create",
        "title": "Create a note",
        "annotations": {"readOnlyHint": False, "destructiveHint": False, "openWorldHint": False},
        "inputSchema": schema(title="string", body="string"),
    },
    {
        "name": "notes.delete",
        "title": "Delete a note",
        "annotations": {"readOnlyHint": False, "destructiveHint": True, "openWorldHint": False},
        "inputSchema": schema(id="string"),
    },
    {
        "name": "shell.exec",
        "title": "Run a shell command",
        "inputSchema": schema(command="string"),
    },
]


def answer(message: dict) -> dict | None:
    """The response to one JSON-RPC message, or None for a notification."""
    method = message.get("method")
    if "id" not in message:
        return None
    reply = {"jsonrpc": "2.0", "id": message["id"]}
    params = message.get("params") or {}
    if method == "initialize":
        asked = params.get("protocolVersion")
        reply["result"] = {
            "protocolVersion": asked if asked in PROTOCOL_VERSIONS else PROTOCOL_VERSIONS[0],
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "quickstart-notes", "version": "1.0.0"},
        }
    elif method == "ping":
        reply["result"] = {}
    elif method == "tools/list":
        reply["result"] = {"tools": TOOLS}
    elif method == "tools/call":
        name = params.get("name")
        if name not in {tool["name"] for tool in TOOLS}:
            reply["error"] = {"code": -32602, "message": f"unknown tool: {name}"}
        else:
            arguments = params.get("arguments") or {}
            print(f"executed {name} {json.dumps(arguments)}", file=sys.stderr, flush=True)
            text = f"{name} ran with {json.dumps(arguments)}"
            reply["result"] = {"content": [{"type": "text", "text": text}], "isError": False}
    else:
        reply["error"] = {"code": -32601, "message": f"method not found: {method}"}
    return reply


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_args) -> None:  # quiet: the executed calls are what matters
        pass

    def send(self, status: int, body: bytes = b"", content_type: str = "application/json") -> None:
        self.send_response(status)
        if body:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        if self.path.split("?")[0] != "/mcp":
            self.send(404)
            return
        length = int(self.headers.get("Content-Length") or 0)
        try:
            message = json.loads(self.rfile.read(length))
        except ValueError:
            self.send(400, b'{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}')
            return
        if isinstance(message, list):
            replies = [r for r in (answer(m) for m in message if isinstance(m, dict)) if r]
            body = json.dumps(replies).encode() if replies else b""
        elif isinstance(message, dict):
            reply = answer(message)
            body = json.dumps(reply).encode() if reply else b""
        else:
            self.send(400)
            return
        self.send(200 if body else 202, body)

    def do_GET(self) -> None:
        self.send(405)

    def do_DELETE(self) -> None:
        self.send(405)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tools", action="store_true", help="print the tools/list result and exit")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    args = parser.parse_args()
    if args.tools:
        print(json.dumps({"tools": TOOLS}, indent=2))
        return
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    host, port = server.server_address[:2]
    print(f"listening on http://{host}:{port}/mcp", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
