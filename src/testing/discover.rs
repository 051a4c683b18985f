//! Finding tests files, and the policy each one tests.
//!
//! A directory holds tests files `*.tests` (non-recursive, sorted by file name); a
//! `.policy` file is tested by the `.tests` file beside it with the same stem; any other
//! file is a tests file itself. A tests file tests the policy its `policy "PATH"` line
//! names (relative to the tests file's directory; a file or a directory), else the
//! `.policy` file beside it with the same stem.

use std::fmt;
use std::path::{Path, PathBuf};

use super::error::{ErrorCode, TestError};
use super::TestFile;
use crate::source::{SourceId, Span};

/// Why tests files could not be found.
///
/// The text of [`DiscoverError::Io`] ends with the operating system's message, the text
/// of the [`std::io::Error`] its [`source`](std::error::Error::source) returns.
#[derive(Debug)]
pub enum DiscoverError {
    /// The path could not be read.
    Io {
        /// The path as given.
        path: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A directory holds no `.tests` file.
    NoTestsFiles(String),
    /// A `.policy` file has no `.tests` file beside it.
    NoTestsBeside {
        /// The policy given.
        policy: String,
        /// The tests file looked for.
        tests: String,
    },
}

impl fmt::Display for DiscoverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiscoverError::Io { path, source } => write!(f, "cannot read `{path}`: {source}"),
            DiscoverError::NoTestsFiles(path) => write!(f, "`{path}` holds no `.tests` file"),
            DiscoverError::NoTestsBeside { policy, tests } => {
                write!(
                    f,
                    "`{policy}` has no tests file beside it (looked for `{tests}`)"
                )
            }
        }
    }
}

impl std::error::Error for DiscoverError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DiscoverError::Io { source, .. } => Some(source),
            DiscoverError::NoTestsFiles(_) | DiscoverError::NoTestsBeside { .. } => None,
        }
    }
}

/// The tests files `path` stands for.
pub fn tests_files(path: &Path) -> Result<Vec<PathBuf>, DiscoverError> {
    let metadata = std::fs::metadata(path).map_err(|error| io(path, error))?;
    if metadata.is_dir() {
        return directory(path);
    }
    if path
        .extension()
        .is_some_and(|extension| extension == "policy")
    {
        let tests = path.with_extension("tests");
        if !tests.is_file() {
            return Err(DiscoverError::NoTestsBeside {
                policy: path.display().to_string(),
                tests: tests.display().to_string(),
            });
        }
        return Ok(vec![tests]);
    }
    Ok(vec![path.to_path_buf()])
}

fn directory(path: &Path) -> Result<Vec<PathBuf>, DiscoverError> {
    let entries = std::fs::read_dir(path).map_err(|error| io(path, error))?;
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|error| io(path, error))?;
        let file = entry.path();
        if file.extension().is_some_and(|e| e == "tests") && file.is_file() {
            found.push(file);
        }
    }
    if found.is_empty() {
        return Err(DiscoverError::NoTestsFiles(path.display().to_string()));
    }
    found.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(found)
}

fn io(path: &Path, source: std::io::Error) -> DiscoverError {
    DiscoverError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The policy the tests file at `tests_path` tests (its `policy` line, else the `.policy`
/// file beside it with the same stem); T006 when it does not exist. `source` is the
/// tests file's id, for the error's span.
pub fn policy_path(
    tests_path: &Path,
    file: &TestFile,
    source: SourceId,
) -> Result<PathBuf, TestError> {
    match &file.policy {
        Some((named, span)) => {
            let directory = tests_path.parent().unwrap_or(Path::new(""));
            let path = directory.join(named);
            if path.exists() {
                Ok(path)
            } else {
                Err(TestError::new(
                    ErrorCode::T006,
                    *span,
                    format!("the policy `{}` does not exist", path.display()),
                )
                .with_help("the path is relative to the directory of the tests file"))
            }
        }
        None => {
            let path = tests_path.with_extension("policy");
            if path.is_file() {
                Ok(path)
            } else {
                Err(TestError::new(
                    ErrorCode::T006,
                    Span::new(source, 0, 0),
                    format!("no policy `{}` beside this tests file", path.display()),
                )
                .with_help(
                    "name the policy on a line `policy \"FILE\"` (a file or a directory, \
                     relative to this file)",
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn a_missing_path_has_the_io_error_as_source() {
        let error = tests_files(Path::new("/nonexistent/toolgate/x.tests")).unwrap_err();
        assert!(matches!(error, DiscoverError::Io { .. }), "{error:?}");
        let source = error.source().expect("a source");
        let io = source
            .downcast_ref::<std::io::Error>()
            .expect("an io::Error");
        assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
        assert!(error
            .to_string()
            .starts_with("cannot read `/nonexistent/toolgate/x.tests`: "));
    }

    #[test]
    fn errors_made_here_have_no_source() {
        assert!(DiscoverError::NoTestsFiles("d".to_string())
            .source()
            .is_none());
    }
}
