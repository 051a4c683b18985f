"""A real LSP client (pytest-lsp) driving `toolgate lsp` over standard input and output.

The binary is named by TOOLGATE_BIN (tests/it/lsp.rs passes the one cargo built).
Expected diagnostics and formatting come from the same binary's `check --format json`
and `fmt`, so the server is held to what the command line says.
"""

import asyncio
import json
import os
import pathlib
import subprocess

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

TOOLGATE = os.environ.get("TOOLGATE_BIN", "")
if not TOOLGATE or not os.access(TOOLGATE, os.X_OK):
    raise RuntimeError(
        "TOOLGATE_BIN must name the toolgate binary (cargo test --test it lsp:: sets it)"
    )


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[TOOLGATE, "lsp", "--stdio"]),
)
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(
        types.InitializeParams(capabilities=client_capabilities("visual-studio-code"))
    )
    yield
    await lsp_client.shutdown_session()


def uri(path: pathlib.Path) -> str:
    return path.resolve().as_uri()


def open_document(client: LanguageClient, path: pathlib.Path, text: str | None = None):
    """Opens `path` (with `text`, else what is on disk) and forgets older diagnostics."""
    client.diagnostics.clear()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri(path),
                language_id="toolgate",
                version=1,
                text=path.read_text(encoding="utf-8") if text is None else text,
            )
        )
    )


def change_document(client: LanguageClient, path: pathlib.Path, text: str, version: int):
    """Replaces the whole text of an open document and forgets older diagnostics."""
    client.diagnostics.clear()
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri(path), version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


async def diagnostics(client: LanguageClient, *paths: pathlib.Path, timeout: float = 10.0):
    """The diagnostics published for each of `paths` since they were last forgotten."""
    wanted = [uri(path) for path in paths]
    for _ in range(int(timeout / 0.02)):
        if all(name in client.diagnostics for name in wanted):
            return [client.diagnostics[name] for name in wanted]
        await asyncio.sleep(0.02)
    raise AssertionError(f"no diagnostics for {wanted}; got {list(client.diagnostics)}")


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def check_json(path: pathlib.Path) -> list[dict]:
    """`toolgate check --format json PATH`'s diagnostics."""
    run = subprocess.run(
        [TOOLGATE, "check", "--format", "json", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode in (0, 1), run.stderr
    return json.loads(run.stdout)


def expected(path: pathlib.Path, checked: list[dict]) -> list[tuple[str, tuple[int, int, int, int]]]:
    """The (code, range) pairs `check` reports for the file `path`, its 1-based character
    columns turned into 0-based UTF-16 positions."""
    lines = path.read_text(encoding="utf-8").split("\n")

    def position(line: int, column: int) -> tuple[int, int]:
        text = lines[line - 1] if line - 1 < len(lines) else ""
        return (line - 1, utf16(text[: column - 1]))

    found = []
    for item in checked:
        if pathlib.Path(item["file"]).resolve() != path.resolve():
            continue
        start = position(item["line"], item["column"])
        end = position(item["end_line"], item["end_column"])
        found.append((item["code"], start + end))
    return sorted(found)


def got(published) -> list[tuple[str, tuple[int, int, int, int]]]:
    return sorted(
        (
            d.code,
            (d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character),
        )
        for d in published
    )


def underlined(text: str, rng: types.Range) -> str:
    """The text a range covers (UTF-16 positions)."""
    lines = text.split("\n")

    def offset(position: types.Position) -> int:
        before = sum(len(line) + 1 for line in lines[: position.line])
        line = lines[position.line]
        units = 0
        for index, character in enumerate(line):
            if units >= position.character:
                return before + index
            units += utf16(character)
        return before + len(line)

    return text[offset(rng.start) : offset(rng.end)]


def apply_edits(text: str, edits: list[types.TextEdit]) -> str:
    lines = text.split("\n")

    def offset(position: types.Position) -> int:
        if position.line >= len(lines):
            return len(text)
        before = sum(len(line) + 1 for line in lines[: position.line])
        line = lines[position.line]
        units = 0
        for index, character in enumerate(line):
            if units >= position.character:
                return before + index
            units += utf16(character)
        return before + len(line)

    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end) :]
    return text


def position_of(text: str, needle: str, nth: int = 0, into: int = 0) -> types.Position:
    """The position of the `nth` occurrence of `needle` (plus `into` characters)."""
    at = -1
    for _ in range(nth + 1):
        at = text.index(needle, at + 1)
    at += into
    line = text.count("\n", 0, at)
    start = text.rfind("\n", 0, at) + 1
    return types.Position(line=line, character=utf16(text[start:at]))
