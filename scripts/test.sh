#!/usr/bin/env bash
# The full test run: installs what the tests need, then runs `cargo test`.
#
# usage: scripts/test.sh [CARGO TEST ARGUMENTS...]
#
# What it installs, each only when missing or out of date, all inside the repository
# except Chromium:
#   - the real identity provider (tests/idp) and the official TypeScript MCP SDK
#     (tests/e2e/ts): `npm ci`, again whenever a package-lock.json changes;
#   - the official Python MCP SDK, pinned in tests/e2e/python/requirements.txt, into a
#     virtual environment under the build directory (target/test-env/venv), so the
#     system's Python is never changed (PEP 668), and pytest-lsp (the LSP client of the
#     language server's tests), pinned in tests/lsp/requirements.txt, into the same one;
#   - Chromium (one test renders `toolgate table --format html` in it), from the
#     platform's package manager when none is found (apt-get, as root or with sudo);
#   - the Prometheus server (one test has it scrape `toolgate serve`'s metrics), the
#     same way.
# Then `cargo test "$@"` with TOOLGATE_PYTHON, TOOLGATE_CHROMIUM and TOOLGATE_PROMETHEUS
# naming what it set up. Nothing is skipped: a part that cannot be installed stops the run with the reason.
# The quick loop without the end-to-end parts is `cargo test-quick` (docs/e2e.md).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
target="${CARGO_TARGET_DIR:-$root/target}"
env_dir="$target/test-env"
mkdir -p "$env_dir"

say() { printf 'test.sh: %s\n' "$*" >&2; }
fail() { say "error: $*"; exit 2; }

# Runs a package-manager command as root: directly, or through sudo without a password.
as_root() {
  if [[ "$(id -u)" == 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo -n "$@"
  else
    return 1
  fi
}

# --- Chromium ---------------------------------------------------------------------------
find_chromium() {
  if [[ -n "${TOOLGATE_CHROMIUM:-}" ]]; then
    [[ -x "$TOOLGATE_CHROMIUM" ]] || fail "TOOLGATE_CHROMIUM=$TOOLGATE_CHROMIUM is not an executable"
    printf '%s\n' "$TOOLGATE_CHROMIUM"
    return 0
  fi
  local name
  for name in chromium chromium-browser google-chrome-stable google-chrome; do
    if command -v "$name" >/dev/null 2>&1; then
      command -v "$name"
      return 0
    fi
  done
  return 1
}
if ! chromium="$(find_chromium)"; then
  say "no Chromium found; installing it with the package manager"
  if command -v apt-get >/dev/null 2>&1; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
      && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
      || fail "cannot install chromium with apt-get (run as root, or with passwordless sudo, or install it yourself and set TOOLGATE_CHROMIUM)"
  elif command -v dnf >/dev/null 2>&1; then
    as_root dnf install -y -q chromium \
      || fail "cannot install chromium with dnf (install it yourself and set TOOLGATE_CHROMIUM)"
  else
    fail "no Chromium and no package manager this script knows; install Chromium or Chrome and set TOOLGATE_CHROMIUM"
  fi
  chromium="$(find_chromium)" || fail "chromium was installed but is not on PATH; set TOOLGATE_CHROMIUM"
fi
export TOOLGATE_CHROMIUM="$chromium"
say "chromium: $TOOLGATE_CHROMIUM"

# --- Prometheus -------------------------------------------------------------------------
find_prometheus() {
  if [[ -n "${TOOLGATE_PROMETHEUS:-}" ]]; then
    [[ -x "$TOOLGATE_PROMETHEUS" ]] || fail "TOOLGATE_PROMETHEUS=$TOOLGATE_PROMETHEUS is not an executable"
    printf '%s\n' "$TOOLGATE_PROMETHEUS"
    return 0
  fi
  command -v prometheus
}
if ! prometheus="$(find_prometheus)"; then
  say "no Prometheus found; installing it with the package manager"
  if command -v apt-get >/dev/null 2>&1; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
      && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null \
      || fail "cannot install prometheus with apt-get (run as root, or with passwordless sudo, or install it yourself and set TOOLGATE_PROMETHEUS)"
  elif command -v dnf >/dev/null 2>&1; then
    as_root dnf install -y -q golang-github-prometheus \
      || fail "cannot install prometheus with dnf (install it yourself and set TOOLGATE_PROMETHEUS)"
  else
    fail "no Prometheus and no package manager this script knows; install it and set TOOLGATE_PROMETHEUS"
  fi
  prometheus="$(find_prometheus)" || fail "prometheus was installed but is not on PATH; set TOOLGATE_PROMETHEUS"
fi
export TOOLGATE_PROMETHEUS="$prometheus"
say "prometheus: $TOOLGATE_PROMETHEUS"

# --- Node packages ----------------------------------------------------------------------
command -v node >/dev/null 2>&1 || fail "node is not installed (the identity provider and the TypeScript SDK client run on it)"
command -v npm >/dev/null 2>&1 || fail "npm is not installed"
for dir in tests/idp tests/e2e/ts; do
  stamp="$dir/node_modules/.package-lock.json"
  if [[ ! -f "$stamp" || "$dir/package-lock.json" -nt "$stamp" ]]; then
    say "npm ci in $dir"
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >&2
  fi
done

# --- Python virtual environment ---------------------------------------------------------
command -v python3 >/dev/null 2>&1 || fail "python3 is not installed"
venv="$env_dir/venv"
requirements=tests/e2e/python/requirements.txt
if [[ ! -x "$venv/bin/python" ]]; then
  say "creating the Python virtual environment $venv"
  if ! python3 -m venv "$venv" >&2; then
    rm -rf "$venv"
    say "python3 -m venv failed; installing the platform's venv package"
    if command -v apt-get >/dev/null 2>&1; then
      version="$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "python$version-venv" >/dev/null \
        || as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null \
        || fail "cannot install python3-venv (run as root or with passwordless sudo)"
    fi
    python3 -m venv "$venv" >&2 || fail "python3 -m venv $venv failed"
  fi
fi
if [[ ! -f "$venv/installed" ]] || ! cmp -s "$requirements" "$venv/installed"; then
  say "installing $requirements into $venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" >&2
  cp "$requirements" "$venv/installed"
fi
# pytest-lsp, the real LSP client that drives `toolgate lsp` (tests/lsp, run by
# tests/it/lsp.rs), pinned in its own file, into the same environment.
lsp_requirements=tests/lsp/requirements.txt
if [[ ! -f "$venv/installed-lsp" ]] || ! cmp -s "$lsp_requirements" "$venv/installed-lsp"; then
  say "installing $lsp_requirements into $venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$lsp_requirements" >&2
  cp "$lsp_requirements" "$venv/installed-lsp"
fi
export TOOLGATE_PYTHON="$venv/bin/python"
say "python: $TOOLGATE_PYTHON"

# --- The tests --------------------------------------------------------------------------
exec cargo test "$@"
