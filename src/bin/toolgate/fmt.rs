//! `toolgate fmt`: rewrites policies in the canonical layout, keeping comments.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use toolgate::unstable::format::{self, FormatError};
use toolgate::unstable::source::Sources;

use crate::render;

/// Arguments of `toolgate fmt`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Policy files, or directories whose `.policy` files are formatted.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Change nothing: list the files that are not formatted (`would reformat PATH`)
    /// and exit with status 1 if there is any.
    #[arg(long)]
    check: bool,
}

/// What happened to one file.
enum Outcome {
    /// Already formatted.
    Unchanged,
    /// Not formatted (rewritten, or listed under `--check`).
    Changed,
    /// Could not be read, parsed or written (reported on standard error).
    Failed,
}

/// Runs `toolgate fmt`: exit status 0 when every file is (now) formatted, 1 under
/// `--check` when some file is not, 2 when a path cannot be read or written or a file
/// has syntax errors (the other files are still formatted).
pub fn run(args: &Args) -> ExitCode {
    let mut failed = false;
    let mut changed = false;
    for path in &args.paths {
        let files = match files(path) {
            Ok(files) => files,
            Err(message) => {
                eprintln!("error: {message}");
                failed = true;
                continue;
            }
        };
        for file in files {
            match format_file(&file, args.check) {
                Outcome::Unchanged => {}
                Outcome::Changed => changed = true,
                Outcome::Failed => failed = true,
            }
        }
    }
    if failed {
        ExitCode::from(2)
    } else if changed && args.check {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The file itself, or the `.policy` files of a directory (not recursive), sorted.
fn files(path: &Path) -> Result<Vec<PathBuf>, String> {
    let cannot = |error: std::io::Error| format!("cannot read `{}`: {error}", path.display());
    let metadata = std::fs::metadata(path).map_err(cannot)?;
    if !metadata.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).map_err(cannot)? {
        let file = entry.map_err(cannot)?.path();
        if file.extension().is_some_and(|e| e == "policy") && file.is_file() {
            files.push(file);
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(format!("`{}` holds no `.policy` file", path.display()));
    }
    Ok(files)
}

fn format_file(path: &Path, check: bool) -> Outcome {
    let name = path.display().to_string();
    let text = match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(_) => {
                eprintln!("error: `{name}` is not UTF-8 text");
                return Outcome::Failed;
            }
        },
        Err(error) => {
            eprintln!("error: cannot read `{name}`: {error}");
            return Outcome::Failed;
        }
    };
    let formatted = match format::format(&text) {
        Ok(formatted) => formatted,
        Err(FormatError::Syntax(diagnostics)) => {
            let sources = Sources::from_text(name.clone(), text);
            let colour = render::use_colour(render::stderr_is_terminal());
            let report = render::human(&sources, &diagnostics, colour);
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "{report}");
            let _ = writeln!(err, "error: `{name}` has syntax errors; not formatted");
            return Outcome::Failed;
        }
        Err(error @ FormatError::Internal(_)) => {
            eprintln!("error: `{name}`: {error}; the file is left unchanged");
            return Outcome::Failed;
        }
    };
    if formatted == text {
        return Outcome::Unchanged;
    }
    if check {
        say!("would reformat {name}");
        return Outcome::Changed;
    }
    if let Err(error) = std::fs::write(path, formatted) {
        eprintln!("error: cannot write `{name}`: {error}");
        return Outcome::Failed;
    }
    Outcome::Changed
}
