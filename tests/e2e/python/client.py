#!/usr/bin/env python3
"""An end-to-end MCP client on the official Python SDK (`mcp` on PyPI).

Runs one scenario against a streamable-HTTP MCP endpoint and prints ONE JSON object of
what it observed, for tests/it/e2e.rs to assert on:

    client.py URL [--token T | --api-key K] [--mode auto|legacy]
              [--list-tools] [--call NAME[=JSON]]... [--arguments JSON]
              [--list-prompts] [--get-prompt NAME[=JSON]]... [--metadata]

`--call NAME=JSON` calls NAME with the JSON object; a bare NAME gets `--arguments`.
`--get-prompt NAME=JSON` gets the prompt NAME with the JSON object (MCP prompt arguments
are strings); a bare NAME gets none. Calls run first, in order, then prompts.

The credential goes on an httpx client given to the SDK's streamable-HTTP transport
(`Authorization: Bearer T`, or `X-API-Key: K`). The SDK turns HTTP errors into MCP
errors, so a response hook on that httpx client records every HTTP exchange (method,
JSON-RPC method and name, status, `WWW-Authenticate`); each step of the scenario reports
the exchanges it caused. `--metadata` fetches the `resource_metadata` URL of the first
challenge with a plain httpx request.

Output (the TypeScript client prints the same shape):
    {"sdk": {...}, "initialize": STEP, "tools": STEP|null, "calls": [STEP...],
     "prompts": STEP|null, "prompt_gets": [STEP...], "metadata": {...}|null}
    STEP = {"ok": bool, "error": {"code", "message"}|null, "status": int|null,
            "www_authenticate": str|null, "cache_control": str|null,
            "http": [EXCHANGE...], ...step fields}
plus "late_error" when something failed after `initialize` outside a step.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import re
import sys
from typing import Any

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

SCENARIO_SECONDS = 60


class Recorder:
    """Every HTTP exchange the SDK makes, in order."""

    def __init__(self) -> None:
        self.exchanges: list[dict[str, Any]] = []

    async def on_response(self, response: httpx2.Response) -> None:
        request = response.request
        rpc = rpc_summary(request)
        self.exchanges.append(
            {
                "http_method": request.method,
                "rpc_method": rpc.get("method"),
                "rpc_name": rpc.get("name"),
                "status": response.status_code,
                "www_authenticate": response.headers.get("www-authenticate"),
                "content_type": response.headers.get("content-type"),
                "cache_control": response.headers.get("cache-control"),
            }
        )

    def mark(self) -> int:
        return len(self.exchanges)

    def since(self, mark: int) -> list[dict[str, Any]]:
        return self.exchanges[mark:]


def rpc_summary(request: httpx2.Request) -> dict[str, Any]:
    """The JSON-RPC method and tool/resource name of a POST body, if it has one."""
    if request.method != "POST":
        return {}
    try:
        message = json.loads(request.content)
    except (ValueError, httpx2.RequestNotRead):
        return {}
    if not isinstance(message, dict):
        return {}
    params = message.get("params") if isinstance(message.get("params"), dict) else {}
    return {"method": message.get("method"), "name": params.get("name") or params.get("uri")}


CONNECT = ("initialize", "server/discover")
LIST = ("tools/list",)
CALL = ("tools/call",)
LIST_PROMPTS = ("prompts/list",)
GET_PROMPT = ("prompts/get",)


def step(
    recorder: Recorder,
    mark: int,
    methods: tuple[str, ...],
    ok: bool,
    error: BaseException | None,
    **fields: Any,
) -> dict[str, Any]:
    """One step's outcome: the SDK's result or error plus the HTTP exchanges it caused.

    `status` and `www_authenticate` come from the step's own exchange: the last POST of
    one of `methods` (and of `name`, for a call), so notifications and the GET event
    stream opened on the side do not count.
    """
    exchanges = recorder.since(mark)
    own = [
        exchange
        for exchange in exchanges
        if exchange["rpc_method"] in methods and ("name" not in fields or exchange["rpc_name"] == fields["name"])
    ]
    last = own[-1] if own else {}
    return {
        "ok": ok,
        "error": describe(error),
        "status": last.get("status"),
        "www_authenticate": last.get("www_authenticate"),
        "cache_control": last.get("cache_control"),
        "http": exchanges,
        **fields,
    }


def describe(error: BaseException | None) -> dict[str, Any] | None:
    if error is None:
        return None
    if isinstance(error, MCPError):
        return {"code": error.code, "message": error.message}
    return {"code": None, "message": f"{type(error).__name__}: {error}"}


def first_error(group: BaseException) -> BaseException:
    """The first leaf of an exception group (anyio task groups wrap errors)."""
    while isinstance(group, BaseExceptionGroup) and group.exceptions:
        group = group.exceptions[0]
    return group


def text_of(result: Any) -> str:
    return "".join(getattr(block, "text", "") for block in result.content)


def split_call(call: str, default: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """`NAME` (called with `--arguments`) or `NAME=JSON` (called with that object)."""
    name, separator, arguments = call.partition("=")
    return (name, json.loads(arguments)) if separator else (name, default)


async def run_calls(client: Client, recorder: Recorder, calls: list[str], default: dict) -> list[dict]:
    results = []
    for call in calls:
        name, arguments = split_call(call, default)
        mark = recorder.mark()
        try:
            result = await client.call_tool(name, arguments)
        except MCPError as error:
            results.append(step(recorder, mark, CALL, False, error, name=name, is_error=None, text=None))
            continue
        results.append(
            step(recorder, mark, CALL, True, None, name=name, is_error=bool(result.is_error), text=text_of(result))
        )
    return results


def prompt_text(result: Any) -> str:
    return "".join(getattr(message.content, "text", "") for message in result.messages)


async def run_prompt_gets(client: Client, recorder: Recorder, gets: list[str]) -> list[dict]:
    results = []
    for get in gets:
        name, arguments = split_call(get, {})
        mark = recorder.mark()
        try:
            result = await client.get_prompt(name, arguments)
        except MCPError as error:
            results.append(step(recorder, mark, GET_PROMPT, False, error, name=name, text=None))
            continue
        results.append(step(recorder, mark, GET_PROMPT, True, None, name=name, text=prompt_text(result)))
    return results


async def scenario(options: argparse.Namespace, recorder: Recorder) -> dict[str, Any]:
    report: dict[str, Any] = {
        "initialize": None,
        "tools": None,
        "calls": [],
        "prompts": None,
        "prompt_gets": [],
        "metadata": None,
    }
    headers = {}
    if options.token is not None:
        headers["Authorization"] = f"Bearer {options.token}"
    if options.api_key is not None:
        headers["X-API-Key"] = options.api_key
    http = httpx2.AsyncClient(
        headers=headers, timeout=httpx2.Timeout(15.0, read=30.0), event_hooks={"response": [recorder.on_response]}
    )
    transport = streamable_http_client(options.url, http_client=http)
    mark = recorder.mark()
    try:
        async with http, Client(transport, mode=options.mode, cache=None, read_timeout_seconds=30) as client:
            report["initialize"] = step(
                recorder,
                mark,
                CONNECT,
                True,
                None,
                protocol_version=client.protocol_version,
                server_name=client.server_info.name if client.server_info else None,
            )
            if options.list_tools:
                mark = recorder.mark()
                try:
                    listed = await client.list_tools()
                    names = sorted(tool.name for tool in listed.tools)
                    report["tools"] = step(recorder, mark, LIST, True, None, names=names)
                except MCPError as error:
                    report["tools"] = step(recorder, mark, LIST, False, error, names=None)
            report["calls"] = await run_calls(client, recorder, options.call, options.arguments)
            if options.list_prompts:
                mark = recorder.mark()
                try:
                    listed = await client.list_prompts()
                    names = sorted(prompt.name for prompt in listed.prompts)
                    report["prompts"] = step(recorder, mark, LIST_PROMPTS, True, None, names=names)
                except MCPError as error:
                    report["prompts"] = step(recorder, mark, LIST_PROMPTS, False, error, names=None)
            report["prompt_gets"] = await run_prompt_gets(client, recorder, options.get_prompt)
    except Exception as error:  # noqa: BLE001 - every failure is an observation
        if report["initialize"] is None:
            report["initialize"] = step(recorder, mark, CONNECT, False, first_error(error), protocol_version=None)
        else:
            report["late_error"] = describe(first_error(error))
    if options.metadata:
        report["metadata"] = await fetch_metadata(recorder)
    return report


async def fetch_metadata(recorder: Recorder) -> dict[str, Any] | None:
    """GET the `resource_metadata` URL named by the first challenge, with plain httpx."""
    for exchange in recorder.exchanges:
        found = re.search(r'resource_metadata="([^"]+)"', exchange.get("www_authenticate") or "")
        if found:
            async with httpx2.AsyncClient(timeout=15.0) as plain:
                response = await plain.get(found.group(1))
            try:
                body = response.json()
            except ValueError:
                body = None
            return {"url": found.group(1), "status": response.status_code, "body": body}
    return None


async def bounded(options: argparse.Namespace, recorder: Recorder) -> dict[str, Any]:
    """The scenario, bounded in time so a hung server fails the test instead of stalling it."""
    with anyio.fail_after(SCENARIO_SECONDS):
        return await scenario(options, recorder)


def parse_options(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="end-to-end MCP client (Python SDK)")
    parser.add_argument("url")
    credential = parser.add_mutually_exclusive_group()
    credential.add_argument("--token", help="sent as `Authorization: Bearer TOKEN`")
    credential.add_argument("--api-key", help="sent as `X-API-Key: KEY`")
    parser.add_argument("--mode", default="auto", choices=["auto", "legacy"], help="SDK connect mode")
    parser.add_argument("--list-tools", action="store_true")
    parser.add_argument(
        "--call", action="append", default=[], metavar="NAME[=JSON]", help="call this tool (with these arguments)"
    )
    parser.add_argument("--arguments", type=json.loads, default={}, help="JSON object for every call")
    parser.add_argument("--list-prompts", action="store_true")
    parser.add_argument(
        "--get-prompt", action="append", default=[], metavar="NAME[=JSON]", help="get this prompt (with these arguments)"
    )
    parser.add_argument("--metadata", action="store_true", help="fetch the challenge's resource_metadata")
    return parser.parse_args(argv)


def main() -> None:
    options = parse_options(sys.argv[1:])
    recorder = Recorder()
    report = anyio.run(bounded, options, recorder)
    report["sdk"] = {"language": "python", "name": "mcp", "version": importlib.metadata.version("mcp")}
    print(json.dumps(report, sort_keys=True))


if __name__ == "__main__":
    main()
