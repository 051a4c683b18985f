//! Where the tests find the programs they drive: the Python with the official MCP SDK,
//! Chromium and the Prometheus server. `scripts/test.sh` (the README's test command) installs both and names
//! them in `TOOLGATE_PYTHON` and `TOOLGATE_CHROMIUM`; without those variables the tests
//! use `python3` and the first Chromium or Chrome on `PATH`, and fail, never skip, when
//! a program is missing.

use std::path::PathBuf;
use std::process::Command;

/// The Python interpreter: `TOOLGATE_PYTHON`, else `python3`.
pub fn python_program() -> String {
    std::env::var("TOOLGATE_PYTHON")
        .ok()
        .filter(|path| !path.is_empty())
        .unwrap_or_else(|| "python3".to_string())
}

/// A command running [`python_program`].
pub fn python() -> Command {
    Command::new(python_program())
}

/// Chromium: `TOOLGATE_CHROMIUM`, else the first of `chromium`, `chromium-browser`,
/// `google-chrome-stable`, `google-chrome` on `PATH`; panics, naming the fix, when none.
pub fn chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("TOOLGATE_CHROMIUM").filter(|path| !path.is_empty()) {
        return PathBuf::from(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in [
        "chromium",
        "chromium-browser",
        "google-chrome-stable",
        "google-chrome",
    ] {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "no Chromium or Chrome on PATH: run the tests with `scripts/test.sh`, which installs \
         it, or set TOOLGATE_CHROMIUM"
    )
}

/// The Prometheus server: `TOOLGATE_PROMETHEUS`, else `prometheus` on `PATH`; panics,
/// naming the fix, when there is none.
pub fn prometheus() -> PathBuf {
    if let Some(path) = std::env::var_os("TOOLGATE_PROMETHEUS").filter(|path| !path.is_empty()) {
        return PathBuf::from(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("prometheus"))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "no `prometheus` on PATH: run the tests with `scripts/test.sh`, which installs \
                 it, or set TOOLGATE_PROMETHEUS"
            )
        })
}
