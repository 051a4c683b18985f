#!/usr/bin/env python3
"""A small MCP-ish JSON-RPC server that reads JSON the way Go's `encoding/json` does.

Decoding a JSON object into a struct, Go matches each member name to a field exactly or,
failing that, case-insensitively with Unicode simple case folding (`Name`, `NAME`, `ſ`
for `s`, the Kelvin sign for `k`), and when several members land on one field the last
one wins. This server decodes every message (the envelope, `params`, and the arguments of
`public.echo`) that way, and handles a body on any HTTP method, as a handler registered
for a path without a method check does. Stateless, no sessions.

Methods: `initialize`, `ping`, `tools/list`, `tools/call`; notifications and responses
are accepted (202). Tool names are looked up as a `strings.EqualFold` lookup would
(`DB.DROP_TABLE` runs `db.drop_table`), as some servers match names loosely. Bodies may be batches.

How it answers is chosen per request by headers (the test client sends them through the
gate):
- `X-Attack-Framing`: `json` (default) or `sse` (one `event: message` per response), or
  an SSE framing a careful parser refuses: `sse-surrogate` (a lone surrogate `\\udcff`
  escaped in a tool description), `sse-bom` (the stream starts with a byte order mark),
  `sse-data-space` (`data :` with a space), `sse-nul` (a NUL after the JSON);
  `list-for-ping` answers `ping` with a tool list; `duplicate` sends every list event
  twice.
- `X-Attack-Status`: the HTTP status of the answer (default 200).

The oracle: every HTTP request is appended to the log file as one JSON line
({"kind": "request", method, path, headers as received, raw body, decoded: what the
Go-like reading made of each message}), and every tool call carried out as another
({"kind": "executed", "executed": "tools/call", "tool": NAME, "arguments": ..., "id": ID}).

Usage: golike_upstream.py --log FILE
Prints `{"listening": "http://127.0.0.1:PORT/mcp"}` once the socket listens.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOOL_NAMES = ("github.list_issues", "db.drop_table", "secret.tool", "public.echo")
LOG_LOCK = threading.Lock()
LOG_FILE = ""

ENVELOPE_FIELDS = ("jsonrpc", "id", "method", "params", "result", "error")
CALL_FIELDS = ("name", "arguments", "_meta")
ECHO_FIELDS = ("text", "kind")


def record(entry: dict[str, Any]) -> None:
    with LOG_LOCK, open(LOG_FILE, "a", encoding="utf-8") as log:
        log.write(json.dumps(entry) + "\n")


class Members(list):
    """A JSON object as its members in order, duplicates kept."""


def fold(name: str) -> str:
    """Unicode simple case folding, character by character (`ſ` -> `s`, `K` -> `k`)."""
    folded = []
    for character in name:
        candidate = character.upper().lower()
        folded.append(candidate if len(candidate) == 1 else character.lower())
    return "".join(folded)


def into_struct(value: Any, fields: tuple[str, ...]) -> dict[str, Any] | None:
    """Go's struct decoding: exact name first, else folded; the last member wins."""
    if not isinstance(value, Members):
        return None
    result: dict[str, Any] = {}
    for name, member in value:
        field = name if name in fields else next((f for f in fields if fold(f) == fold(name)), None)
        if field is not None:
            result[field] = member
    return result


def plain(value: Any) -> Any:
    """A decoded value as ordinary JSON (objects: last member wins, exact names)."""
    if isinstance(value, Members):
        return {name: plain(member) for name, member in value}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def tool_list(framing: str) -> list[dict[str, Any]]:
    tools = []
    for tool in TOOL_NAMES:
        description = f"attack tool `{tool}`"
        if framing == "sse-surrogate" and tool == "secret.tool":
            description += " \udcff"
        tools.append({"name": tool, "description": description, "inputSchema": {"type": "object"}})
    return tools


def handle(message: Any, framing: str, decoded: list[Any]) -> dict[str, Any] | None:
    """One message: its response, or None for a notification or a response."""
    envelope = into_struct(message, ENVELOPE_FIELDS)
    if envelope is None:
        decoded.append({"invalid": plain(message)})
        return {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "invalid request"}}
    method = envelope.get("method")
    request_id = plain(envelope.get("id"))
    decoded.append({"method": method, "id": request_id, "params": plain(envelope.get("params"))})
    if not isinstance(method, str) or not method:
        return None
    if "id" not in envelope:
        return None
    if method == "initialize":
        params = plain(envelope.get("params")) or {}
        version = params.get("protocolVersion", "2025-11-25") if isinstance(params, dict) else "2025-11-25"
        result: dict[str, Any] = {
            "protocolVersion": version,
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "toolgate-attack-golike", "version": "1.0.0"},
        }
    elif method == "ping":
        result = {"tools": tool_list(framing)} if framing == "list-for-ping" else {}
    elif method == "tools/list":
        result = {"tools": tool_list(framing)}
    elif method == "tools/call":
        params = into_struct(envelope.get("params"), CALL_FIELDS) or {}
        name = params.get("name")
        if name == "public.echo":
            arguments = into_struct(params.get("arguments"), ECHO_FIELDS) or {}
        else:
            arguments = plain(params.get("arguments")) or {}
        arguments = {key: plain(value) for key, value in arguments.items()}
        if isinstance(name, str):
            name = next((tool for tool in TOOL_NAMES if fold(tool) == fold(name)), name)
        if name not in TOOL_NAMES:
            return {"jsonrpc": "2.0", "id": request_id, "error": {"code": -32602, "message": f"unknown tool {name}"}}
        record({"kind": "executed", "executed": "tools/call", "tool": name, "arguments": arguments, "id": request_id})
        result = {"content": [{"type": "text", "text": json.dumps({"executed": name, "arguments": arguments})}]}
    else:
        return {"jsonrpc": "2.0", "id": request_id, "error": {"code": -32601, "message": "method not found"}}
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


def is_list(response: dict[str, Any]) -> bool:
    result = response.get("result")
    return isinstance(result, dict) and "tools" in result


def event_stream(responses: list[dict[str, Any]], framing: str) -> bytes:
    events = []
    for response in responses:
        data = json.dumps(response)
        if framing == "sse-data-space":
            event = f"event: message\ndata : {data}\n\n"
        elif framing == "sse-nul":
            event = f"event: message\ndata: {data}\x00\n\n"
        else:
            event = f"event: message\ndata: {data}\n\n"
        events.append(event)
        if framing == "duplicate" and is_list(response):
            events.append(event)
    text = "".join(events)
    if framing == "sse-bom":
        text = "\ufeff" + text
    return text.encode("utf-8", "surrogatepass")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        entry: dict[str, Any] = {
            "kind": "request",
            "method": self.command,
            "path": self.path,
            "headers": [[name, value] for name, value in self.headers.items()],
            "raw": raw.decode("latin-1"),
        }
        framing = self.headers.get("X-Attack-Framing", "json")
        status = int(self.headers.get("X-Attack-Status", "200"))
        if not raw:
            record(entry)
            self.answer(405 if self.command == "GET" else 202, b"", "application/json")
            return
        try:
            body = json.loads(raw.decode("utf-8"), object_pairs_hook=Members)
        except (ValueError, UnicodeDecodeError) as error:
            entry["decoded"] = {"error": str(error)}
            record(entry)
            self.answer(400, b'{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}', "application/json")
            return
        decoded: list[Any] = []
        entry["decoded"] = decoded
        batch = isinstance(body, list) and not isinstance(body, Members)
        messages = body if batch else [body]
        # What each message ran is recorded as it runs; the request's line, with what
        # the Go-like reading decoded, follows.
        responses = []
        for message in messages:
            response = handle(message, framing, decoded)
            if response is not None:
                responses.append(response)
        record(entry)
        if not responses:
            self.answer(202, b"", "application/json")
        elif framing.startswith("sse") or framing == "duplicate":
            self.answer(status, event_stream(responses, framing), "text/event-stream")
        else:
            payload = responses if batch else responses[0]
            self.answer(status, json.dumps(payload).encode("utf-8", "surrogatepass"), "application/json")

    def answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = serve
    do_GET = serve
    do_DELETE = serve
    do_PUT = serve


def main() -> None:
    global LOG_FILE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", required=True)
    options = parser.parse_args()
    LOG_FILE = options.log
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    host, port = server.server_address[:2]
    print(json.dumps({"listening": f"http://{host}:{port}/mcp"}), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
