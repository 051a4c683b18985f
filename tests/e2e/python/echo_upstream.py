#!/usr/bin/env python3
"""A tiny, fast MCP-ish endpoint for scripts/bench-gate.sh: the upstream whose own cost
is small enough that the latency `toolgate serve` adds in front of it shows.

It speaks just enough HTTP/1.1 (keep-alive, `Content-Length` bodies) and JSON-RPC to
answer every POSTed request with a result: `tools/list` lists a few tools, anything else
gets a one-line text content. No sessions, no SDK, no validation: not an MCP server, a
stopwatch target.

With `--log FILE` it records, as the other e2e upstreams do, every request it received
({"kind": "request", "method", "path", "headers", "raw"}) and every JSON-RPC message it
executed ({"kind": "executed", "executed": METHOD, "tool": params.name or null, "id",
"params"}), one JSON line each; without it, nothing (the benchmark's default).

Usage: echo_upstream.py [--host 127.0.0.1] [--port 0] [--log FILE]
Prints `{"listening": "http://HOST:PORT/mcp"}` once the socket listens.
"""

from __future__ import annotations

import argparse
import asyncio
import json

TOOLS = {
    "tools": [
        {"name": name, "inputSchema": {"type": "object"}}
        for name in ("db.drop_table", "db.query", "fs.read_file", "fs.write_file", "logs.tail")
    ]
}
CALL = {"content": [{"type": "text", "text": "ok"}], "isError": False}
MAX_BODY = 1024 * 1024
LOG_FILE = ""


def record(entry: dict) -> None:
    """Appends one JSON line to the log, if there is one."""
    if LOG_FILE:
        with open(LOG_FILE, "a", encoding="utf-8") as log:
            log.write(json.dumps(entry, sort_keys=True) + "\n")


def answer(body: bytes) -> bytes:
    try:
        message = json.loads(body)
        request_id = message.get("id")
        method = message.get("method")
    except (ValueError, AttributeError):
        return response(400, b'{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}')
    if LOG_FILE:
        params = message.get("params")
        tool = params.get("name") if isinstance(params, dict) else None
        record({"kind": "executed", "executed": method, "tool": tool, "id": request_id, "params": params})
    if request_id is None:
        return response(202, b"")
    result = TOOLS if method == "tools/list" else CALL
    return response(200, json.dumps({"jsonrpc": "2.0", "id": request_id, "result": result}).encode())


def response(status: int, body: bytes) -> bytes:
    reason = {200: "OK", 202: "Accepted", 400: "Bad Request", 405: "Method Not Allowed"}[status]
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def serve_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method = lines[0].split(" ", 1)[0]
            headers = dict(line.split(":", 1) for line in lines[1:] if ":" in line)
            headers = {key.strip().lower(): value.strip() for key, value in headers.items()}
            length = int(headers.get("content-length", "0"))
            if length > MAX_BODY:
                break
            body = await reader.readexactly(length) if length else b""
            if LOG_FILE:
                record(
                    {
                        "kind": "request",
                        "method": method,
                        "path": lines[0].split(" ")[1] if " " in lines[0] else "",
                        "headers": [[key, value] for key, value in headers.items()],
                        "raw": body.decode("latin-1"),
                    }
                )
            writer.write(answer(body) if method == "POST" else response(405, b""))
            await writer.drain()
            if headers.get("connection", "").lower() == "close":
                break
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
        pass
    finally:
        writer.close()


async def main() -> None:
    global LOG_FILE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log", default="", help="record requests and executed messages in this file")
    options = parser.parse_args()
    LOG_FILE = options.log
    server = await asyncio.start_server(serve_connection, options.host, options.port, backlog=512)
    host, port = server.sockets[0].getsockname()[:2]
    print(json.dumps({"listening": f"http://{host}:{port}/mcp"}), flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
