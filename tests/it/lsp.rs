//! `toolgate lsp` driven end to end by a real LSP client: the pytest-lsp tests of
//! tests/lsp start the binary cargo built and talk to it over standard input and
//! output as an editor does (diagnostics against `toolgate check --format json`,
//! formatting against `toolgate fmt`, hover, definition, references, completion, quick
//! fixes, UTF-16 positions, garbage, shutdown). The client is installed by
//! `scripts/test.sh` (tests/lsp/requirements.txt) into `TOOLGATE_PYTHON`'s environment.

use std::path::Path;

use super::external;

#[test]
fn a_real_lsp_client_drives_the_server() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = external::python()
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/lsp"])
        .current_dir(root)
        .env("TOOLGATE_BIN", env!("CARGO_BIN_EXE_toolgate"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "cannot run `{} -m pytest`: {error}",
                external::python_program()
            )
        });
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the LSP client tests failed ({}); run `scripts/test.sh` to install pytest-lsp \
         (tests/lsp/requirements.txt) or set TOOLGATE_PYTHON\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );
    assert!(stdout.contains(" passed"), "{stdout}");
}
