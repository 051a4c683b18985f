"""`toolgate lsp` end to end: each test starts the binary and talks to it as an editor."""

import asyncio
import concurrent.futures
import pathlib
import shutil
import uuid
import subprocess

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from conftest import (
    TOOLGATE,
    apply_edits,
    change_document,
    check_json,
    diagnostics,
    expected,
    got,
    open_document,
    position_of,
    underlined,
    uri,
)

# Non-ASCII text before the spans (an accented letter, and an emoji that is two UTF-16
# code units) on the same lines: the positions must count UTF-16 units.
POLICY = """\
# Politique d'accès 😀
scope "tool:admin" implies "tool:write"
scope "tool:write" implies "tool:read"
scope "tool:read"
role user aka "mcp-users"
role developer inherits user aka "mcp-developers"
role admin inherits developer
network office = [10.0.0.0/8, 192.168.0.0/16]
window business = mon-fri 09:00-17:00 tz "Europe/Berlin"
require scope "tool:wirte" to call tools "*"
allow user to call tools "fs.read_*"
allow developer to call tools "é😀.*" if role admn
allow developer to call tools "github.*" if ip in office and time in business
deny anyone to call tools "db.drop_*" unless role admin
"""

FIXED = POLICY.replace('"tool:wirte"', '"tool:write"').replace("role admn", "role admin")


def write(directory: pathlib.Path, name: str, text: str) -> pathlib.Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def hover_text(hover: types.Hover | None) -> str:
    assert hover is not None
    assert isinstance(hover.contents, types.MarkupContent)
    return hover.contents.value


async def test_diagnostics_match_check_and_follow_changes(client, tmp_path):
    path = write(tmp_path, "p.policy", POLICY)
    open_document(client, path)
    (published,) = await diagnostics(client, path)
    want = expected(path, check_json(path))
    assert "E003" in {code for code, _ in want}
    assert got(published) == want
    # The ranges underline what check underlines, after the emoji on the same line.
    by_code = {d.code: d for d in published}
    assert underlined(POLICY, by_code["E003"].range) == "admn"
    assert by_code["E003"].range.start == position_of(POLICY, "admn")
    assert by_code["E003"].severity == types.DiagnosticSeverity.Error
    assert by_code["E003"].source == "toolgate"
    assert "did you mean `admin`?" in by_code["E003"].message

    # Fixing the role leaves the warning about the misspelled scope, which check
    # reports only once there is no error.
    half = POLICY.replace("role admn", "role admin")
    change_document(client, path, half, 2)
    (published,) = await diagnostics(client, path)
    path.write_text(half, encoding="utf-8")
    assert got(published) == expected(path, check_json(path))
    assert [d.code for d in published] == ["W002"]
    assert underlined(half, published[0].range) == '"tool:wirte"'

    # Fixed: the diagnostics are cleared.
    change_document(client, path, FIXED, 3)
    (published,) = await diagnostics(client, path)
    assert list(published) == []


async def test_syntax_errors_have_the_codes_and_spans_of_check(client, tmp_path):
    text = 'role user\nalow user to call tools "x"\nallow user to call tols "y"\n'
    path = write(tmp_path, "broken.policy", text)
    open_document(client, path)
    (published,) = await diagnostics(client, path)
    want = expected(path, check_json(path))
    assert want, "check finds errors"
    assert got(published) == want


async def test_a_directory_is_one_policy(client, tmp_path):
    policy = tmp_path / "policy"
    policy.mkdir()
    roles = write(policy, "10-roles.policy", "role user\nrole admin inherits user\nrole unused\n")
    rules = write(
        policy,
        "20-rules.policy",
        'allow user to call tools "fs.*"\nallow admn to call tools "*"\n',
    )
    # Not part of the policy: another extension, and a subdirectory.
    write(policy, "notes.txt", "role user\n")
    open_document(client, rules)
    published_roles, published_rules = await diagnostics(client, roles, rules)
    checked = check_json(policy)
    assert got(published_rules) == expected(rules, checked)
    assert got(published_roles) == expected(roles, checked)
    assert [d.code for d in published_rules] == ["E003"]
    assert "did you mean `admin`?" in published_rules[0].message

    # The open document's text wins over the disk: fixing it in the editor fixes the
    # policy; the unused role's warning (in the other file) appears.
    fixed = rules.read_text().replace("admn", "admin")
    change_document(client, rules, fixed, 2)
    published_roles, published_rules = await diagnostics(client, roles, rules)
    assert list(published_rules) == []
    rules.write_text(fixed)
    checked = check_json(policy)
    assert got(published_roles) == expected(roles, checked)
    assert [d.code for d in published_roles] == ["W001"]
    assert underlined(roles.read_text(), published_roles[0].range) == "unused"

    # Definition and references cross the files.
    text = fixed
    definition = await client.text_document_definition_async(
        types.DefinitionParams(
            text_document=types.TextDocumentIdentifier(uri=uri(rules)),
            position=position_of(text, "admin", into=2),
        )
    )
    assert isinstance(definition, list) and len(definition) == 1
    assert definition[0].uri == uri(roles)
    assert underlined(roles.read_text(), definition[0].range) == "admin"
    assert definition[0].range.start == position_of(roles.read_text(), "admin")

    references = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri=uri(rules)),
            position=position_of(text, "user"),
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    places = sorted((r.uri, r.range.start.line, r.range.start.character) for r in references)
    assert places == sorted(
        [
            (uri(roles), 0, 5),  # role user
            (uri(roles), 1, 20),  # inherits user
            (uri(rules), 0, 6),  # allow user
        ]
    )
    without = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri=uri(rules)),
            position=position_of(text, "user"),
            context=types.ReferenceContext(include_declaration=False),
        )
    )
    assert len(without) == 2


async def test_definition_and_references_in_one_file(client, tmp_path):
    path = write(tmp_path, "p.policy", FIXED)
    open_document(client, path)
    await diagnostics(client, path)
    doc = types.TextDocumentIdentifier(uri=uri(path))

    # A window used in a condition, after non-ASCII text earlier in the file.
    definition = await client.text_document_definition_async(
        types.DefinitionParams(text_document=doc, position=position_of(FIXED, "business", nth=1))
    )
    assert [d.range.start for d in definition] == [position_of(FIXED, "business")]
    # A scope: its string, quotes included; the declaration is the `scope` statement.
    definition = await client.text_document_definition_async(
        types.DefinitionParams(
            text_document=doc, position=position_of(FIXED, '"tool:write"', nth=2, into=3)
        )
    )
    assert len(definition) == 1
    assert underlined(FIXED, definition[0].range) == '"tool:write"'
    assert definition[0].range.start == position_of(FIXED, '"tool:write"', nth=1)
    references = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=doc,
            position=position_of(FIXED, "office", nth=1),
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    assert sorted(r.range.start.line for r in references) == [7, 12]
    # Nothing under the cursor: a keyword.
    nothing = await client.text_document_definition_async(
        types.DefinitionParams(text_document=doc, position=position_of(FIXED, "allow"))
    )
    assert nothing is None


async def test_hover(client, tmp_path):
    path = write(tmp_path, "p.policy", FIXED)
    open_document(client, path)
    await diagnostics(client, path)
    doc = types.TextDocumentIdentifier(uri=uri(path))

    async def hover(needle: str, nth: int = 0, into: int = 1) -> types.Hover:
        return await client.text_document_hover_async(
            types.HoverParams(text_document=doc, position=position_of(FIXED, needle, nth, into=into))
        )

    admin = await hover("role admin", into=6)
    text = hover_text(admin)
    assert "**role** `admin`" in text
    assert "inherits `developer`" in text
    assert "and through them `user`" in text
    # Its effective permissions: the rules for it and the roles it inherits.
    assert '`allow user to call tools "fs.read_*"` (p.policy:11) (through `user`)' in text
    assert "(through `developer`)" in text
    assert '`deny anyone to call tools "db.drop_*" unless role admin`' in text
    assert admin.range is not None and underlined(FIXED, admin.range) == "admin"

    developer = hover_text(await hover("developer", nth=0))
    assert 'aka `"mcp-developers"`' in developer

    scope = hover_text(await hover('"tool:admin"'))
    assert '**scope** `"tool:admin"` (declared)' in scope
    assert "implies `tool:write`, `tool:read`" in scope

    write_scope = hover_text(await hover('"tool:write"', nth=2))
    assert "implied by `tool:admin`" in write_scope
    assert 'require scope "tool:write" to call tools "*"' in write_scope

    window = hover_text(await hover("business", nth=1))
    assert "Monday to Friday, from 09:00 to 17:00 (Europe/Berlin)" in window

    network = hover_text(await hover("office", nth=1))
    assert "`10.0.0.0/8`, `192.168.0.0/16`" in network

    # After the emoji on line 12: the hover range is in UTF-16 units.
    emoji_line = FIXED.split("\n")[11]
    assert "😀" in emoji_line
    role = await hover("role admin", nth=1, into=7)
    assert role.range.start == position_of(FIXED, "role admin", nth=1, into=5)
    assert underlined(FIXED, role.range) == "admin"

    assert await hover("allow") is None


async def test_completion(client, tmp_path):
    base = FIXED + "allow "
    path = write(tmp_path, "p.policy", base)
    open_document(client, path)
    await diagnostics(client, path)
    doc = types.TextDocumentIdentifier(uri=uri(path))

    async def complete(text: str) -> list[types.CompletionItem]:
        change_document(client, path, text, 2)
        lines = text.split("\n")
        position = types.Position(line=len(lines) - 1, character=len(lines[-1].encode("utf-16-le")) // 2)
        result = await client.text_document_completion_async(
            types.CompletionParams(text_document=doc, position=position)
        )
        if isinstance(result, types.CompletionList):
            return list(result.items)
        return list(result or [])

    labels = lambda items: sorted(item.label for item in items)  # noqa: E731

    subjects = await complete(FIXED + "allow ")
    assert labels(subjects) == ["admin", "anyone", "developer", "user"]
    partial = await complete(FIXED + "allow dev")
    assert "developer" in labels(partial)
    networks = await complete(FIXED + 'allow user to call tools "x" if ip in ')
    assert labels(networks) == ["office"]
    windows = await complete(FIXED + 'allow user to call tools "x" if time in ')
    assert labels(windows) == ["business"]
    scopes = await complete(FIXED + 'require scope "')
    assert labels(scopes) == ["tool:admin", "tool:read", "tool:write"]
    edit = next(item for item in scopes if item.label == "tool:read").text_edit
    assert edit.new_text == '"tool:read"'
    anything = await complete(FIXED + "\n")
    names = labels(anything)
    for word in ["allow", "deny", "require", "role", "scope", "network", "window", "user"]:
        assert word in names
    kinds = {item.label: item.kind for item in anything}
    assert kinds["allow"] == types.CompletionItemKind.Keyword
    assert await complete(FIXED + "role ") == []


async def test_formatting_is_toolgate_fmt(client, tmp_path):
    messy = 'role   user\n\n\n\nallow user   to call tools "a",   "b"  # why\nrole admin inherits user\nallow admin to call tools "*"\n'
    path = write(tmp_path, "messy.policy", messy)
    open_document(client, path)
    await diagnostics(client, path)
    edits = await client.text_document_formatting_async(
        types.DocumentFormattingParams(
            text_document=types.TextDocumentIdentifier(uri=uri(path)),
            options=types.FormattingOptions(tab_size=2, insert_spaces=True),
        )
    )
    assert edits, "the file is not formatted"
    copy = tmp_path / "copy.policy"
    shutil.copy(path, copy)
    subprocess.run([TOOLGATE, "fmt", str(copy)], check=True)
    formatted = copy.read_text(encoding="utf-8")
    assert formatted != messy
    assert apply_edits(messy, edits) == formatted

    # Formatted already: no edit.
    change_document(client, path, formatted, 2)
    await diagnostics(client, path)
    again = await client.text_document_formatting_async(
        types.DocumentFormattingParams(
            text_document=types.TextDocumentIdentifier(uri=uri(path)),
            options=types.FormattingOptions(tab_size=2, insert_spaces=True),
        )
    )
    assert not again

    # Syntax errors: no edit, the text is left alone.
    change_document(client, path, 'role user\nallow user to cal tools "x"\n', 3)
    await diagnostics(client, path)
    broken = await client.text_document_formatting_async(
        types.DocumentFormattingParams(
            text_document=types.TextDocumentIdentifier(uri=uri(path)),
            options=types.FormattingOptions(tab_size=2, insert_spaces=True),
        )
    )
    assert not broken


async def test_quick_fix_applies_did_you_mean(client, tmp_path):
    path = write(tmp_path, "p.policy", POLICY)
    open_document(client, path)
    (published,) = await diagnostics(client, path)
    typo = next(d for d in published if d.code == "E003")
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri(path)),
            range=typo.range,
            context=types.CodeActionContext(diagnostics=[typo]),
        )
    )
    assert actions and len(actions) == 1
    action = actions[0]
    assert action.kind == types.CodeActionKind.QuickFix
    assert action.title == "Replace with `admin`"
    assert action.is_preferred
    edits = action.edit.changes[uri(path)]
    assert [(e.range, e.new_text) for e in edits] == [(typo.range, "admin")]
    fixed = apply_edits(POLICY, edits)
    assert fixed == POLICY.replace("role admn", "role admin")

    # A misspelled scope (a warning, once the error is fixed): the string is replaced,
    # quotes and all.
    change_document(client, path, fixed, 2)
    (published,) = await diagnostics(client, path)
    (warning,) = published
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri(path)),
            range=warning.range,
            context=types.CodeActionContext(diagnostics=[warning]),
        )
    )
    (action,) = actions
    (edit,) = action.edit.changes[uri(path)]
    assert edit.new_text == '"tool:write"'
    assert apply_edits(fixed, [edit]) == FIXED

    # Where no diagnostic suggests anything, no action.
    none = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri(path)),
            range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=0, character=1)),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    assert not none


def raw(client, message: dict):
    """Sends a JSON-RPC message as it is, bypassing the client's typed messages."""
    client.protocol._send_data(message)


async def raw_request(client, method: str, params):
    """Sends a request as it is and waits for the response (its error raises)."""
    ident = str(uuid.uuid4())
    future = concurrent.futures.Future()
    client.protocol._request_futures[ident] = future
    client.protocol._result_types[ident] = None
    raw(client, {"jsonrpc": "2.0", "id": ident, "method": method, "params": params})
    return await asyncio.wrap_future(future)


async def test_the_server_survives_garbage(client, tmp_path):
    path = write(tmp_path, "p.policy", FIXED)
    # A change to a document that was never opened, and a close of one: ignored.
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri(tmp_path / "nope.policy"), version=1),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text="role x")],
        )
    )
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri="file:///nowhere/x.policy"))
    )
    # Malformed parameters of a notification and a request: the request gets an
    # "invalid params" error response.
    raw(client, {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": 42}})
    with pytest.raises(JsonRpcException) as invalid:
        await raw_request(client, "textDocument/hover", {"garbage": True})
    assert invalid.value.code == -32602
    # A method the server does not have.
    with pytest.raises(JsonRpcException) as unknown:
        await raw_request(client, "toolgate/nonsense", {})
    assert unknown.value.code == -32601

    open_document(client, path)
    await diagnostics(client, path)
    doc = types.TextDocumentIdentifier(uri=uri(path))
    # Positions past the end of the file or of a line.
    far = await client.text_document_hover_async(
        types.HoverParams(text_document=doc, position=types.Position(line=9999, character=0))
    )
    assert far is None
    wide = await client.text_document_definition_async(
        types.DefinitionParams(text_document=doc, position=types.Position(line=0, character=100000))
    )
    assert wide is None
    completion = await client.text_document_completion_async(
        types.CompletionParams(text_document=doc, position=types.Position(line=2**31 - 1, character=2**31 - 1))
    )
    assert not completion
    # An incremental change with a range outside the text changes nothing.
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri(path), version=2),
            content_changes=[
                types.TextDocumentContentChangePartial(
                    range=types.Range(start=types.Position(line=500, character=0), end=types.Position(line=501, character=0)),
                    text="garbage",
                )
            ],
        )
    )
    # A document that is not open, on no disk, and text that is not a policy at all.
    missing = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri="untitled:Untitled-1"),
            position=types.Position(line=0, character=0),
        )
    )
    assert missing is None
    junk = tmp_path / "junk.policy"
    open_document(client, junk, "\x00\ufffd{{{ \"\\u{110000}\" ]]] role role role 😀" * 50)
    await diagnostics(client, junk)

    # Still answering, and right.
    hover = await client.text_document_hover_async(
        types.HoverParams(text_document=doc, position=position_of(FIXED, "office", nth=1))
    )
    assert "**network** `office`" in hover_text(hover)


async def test_shutdown_and_exit_cleanly(tmp_path):
    """Without the fixture: the exit status after `shutdown` then `exit` is 0."""
    from pytest_lsp import ClientServerConfig, client_capabilities

    client = await ClientServerConfig(server_command=[TOOLGATE, "lsp"]).start()
    await client.initialize_session(
        types.InitializeParams(capabilities=client_capabilities("neovim"))
    )
    result = await client.shutdown_async(None)
    assert result is None
    client.exit(None)
    server = client._server
    assert await server.wait() == 0
    await client.stop()
