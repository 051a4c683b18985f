#!/usr/bin/env bash
# The VS Code extension (editors/vscode): installs its node modules when missing or out of
# date, runs its tests (the TextMate grammars, the keyword drift check against
# grammar/*.pest, the repository's policies, the language client), packages it with vsce
# and checks the package holds what VS Code loads.
#
# usage: scripts/vscode.sh
# Then: code --install-extension editors/vscode/toolgate.vsix
set -euo pipefail
cd "$(dirname "$0")/../editors/vscode"

say() { printf 'vscode.sh: %s\n' "$*" >&2; }
fail() { say "error: $*"; exit 2; }

command -v node >/dev/null 2>&1 || fail "node is not installed"
command -v npm >/dev/null 2>&1 || fail "npm is not installed"

stamp=node_modules/.package-lock.json
if [[ ! -f "$stamp" || package-lock.json -nt "$stamp" ]]; then
  say "npm ci in editors/vscode"
  npm ci --no-audit --no-fund --loglevel=error >&2
fi

npm test
rm -f toolgate.vsix
npm run package </dev/null

[[ -s toolgate.vsix ]] || fail "npm run package made no editors/vscode/toolgate.vsix"
python3 - toolgate.vsix <<'PY'
import json, sys, zipfile
vsix = sys.argv[1]
with zipfile.ZipFile(vsix) as z:
    names = set(z.namelist())
    manifest = json.loads(z.read("extension/package.json"))
    required = {"extension/package.json", "extension/extension.js"}
    required |= {"extension/" + g["path"].lstrip("./") for g in manifest["contributes"]["grammars"]}
    required |= {"extension/" + l["configuration"].lstrip("./") for l in manifest["contributes"]["languages"]}
    required.add("extension/node_modules/vscode-languageclient/node.js")
    missing = sorted(required - names)
    if missing:
        sys.exit(f"vscode.sh: error: {vsix} lacks {', '.join(missing)}")
    for name in sorted(required):
        if name.endswith(".json"):
            json.loads(z.read(name))  # each grammar and configuration is valid JSON
    leaked = sorted(n for n in names if n.startswith("extension/test/") or n.endswith(".vsix"))
    if leaked:
        sys.exit(f"vscode.sh: error: {vsix} holds files it should not: {', '.join(leaked[:5])}")
    size = sum(i.file_size for i in z.infolist())
print(f"vscode.sh: {vsix}: {len(names)} files, {size} bytes unpacked; has {', '.join(sorted(required))}")
PY
ls -l toolgate.vsix >&2
