//! Policy sources: the files of a policy, their text, and spans into them.
//!
//! A policy is one `.policy` file or a directory whose `.policy` files (non-recursive,
//! sorted by file name) are read together. [`Sources`] holds them in policy order; a
//! [`Span`] is a byte range in one of them, and [`Sources::location`] turns it into the
//! 1-based line and character column people read.
#![deny(clippy::indexing_slicing)]

use std::fmt;
use std::path::Path;

use crate::limits::Limits;

/// Identifies one file of a [`Sources`] set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceId(pub u32);

/// A byte range `start..end` in one source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Span {
    /// The file the range is in.
    pub source: SourceId,
    /// Byte offset of the first byte.
    pub start: u32,
    /// Byte offset one past the last byte.
    pub end: u32,
}

impl Span {
    /// A span from `start` to `end` (byte offsets) in `source`.
    pub fn new(source: SourceId, start: usize, end: usize) -> Span {
        Span {
            source,
            start: saturate(start),
            end: saturate(end.max(start)),
        }
    }

    /// The smallest span covering both `self` and `other` (same file assumed).
    pub fn to(self, other: Span) -> Span {
        Span {
            source: self.source,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// The byte range as `usize`s.
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

fn saturate(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// A 1-based line and column; columns count characters, not bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct LineColumn {
    /// 1-based line number.
    pub line: u32,
    /// 1-based character column.
    pub column: u32,
}

/// Where a span is, as people read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location<'a> {
    /// The file's name as it was given (the path as reached from the command's argument).
    pub file: &'a str,
    /// Where the span starts.
    pub start: LineColumn,
    /// Where the span ends (exclusive column).
    pub end: LineColumn,
}

impl fmt::Display for Location<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.start.line, self.start.column)
    }
}

/// One policy file: its name and text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    name: String,
    text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    /// A file named `name` holding `text`.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> SourceFile {
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(at, _)| at + 1))
            .collect();
        SourceFile {
            name: name.into(),
            text,
            line_starts,
        }
    }

    /// The file's name as given.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The file's text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The 1-based line and character column of a byte offset (clamped to the text).
    pub fn line_column(&self, offset: usize) -> LineColumn {
        let offset = self.floor_char_boundary(offset.min(self.text.len()));
        let index = match self.line_starts.binary_search(&offset) {
            Ok(exact) => exact,
            Err(next) => next.saturating_sub(1),
        };
        let line_start = self.line_starts.get(index).copied().unwrap_or(0);
        let column = self
            .text
            .get(line_start..offset)
            .map_or(0, |s| s.chars().count());
        LineColumn {
            line: saturate(index + 1),
            column: saturate(column + 1),
        }
    }

    /// The text of the 1-based line `line`, without its line break.
    pub fn line_text(&self, line: u32) -> &str {
        let index = (line as usize).saturating_sub(1);
        let start = self
            .line_starts
            .get(index)
            .copied()
            .unwrap_or(self.text.len());
        let end = self
            .line_starts
            .get(index + 1)
            .copied()
            .unwrap_or(self.text.len());
        self.text
            .get(start..end)
            .unwrap_or("")
            .trim_end_matches(['\n', '\r'])
    }

    fn floor_char_boundary(&self, mut offset: usize) -> usize {
        while offset > 0 && !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }
}

/// The files of one policy, in policy order.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    /// An empty set.
    pub fn new() -> Sources {
        Sources::default()
    }

    /// A policy of one file given as text; `name` is used in diagnostics and rule locations.
    pub fn from_text(name: impl Into<String>, text: impl Into<String>) -> Sources {
        let mut sources = Sources::new();
        sources.add(name, text);
        sources
    }

    /// Reads a policy from a `.policy` file or a directory of them, within the default
    /// [`Limits::policy_bytes`].
    ///
    /// File names are the path as reached from `path` (`policies/` gives
    /// `policies/example.policy`). A directory without `.policy` files is an error.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Sources, LoadError> {
        Sources::from_path_with(path, &Limits::default())
    }

    /// Reads a policy as [`Sources::from_path`] does, refusing it
    /// ([`LoadError::TooLarge`]) as soon as its files hold more than
    /// [`Limits::policy_bytes`] together: no more than that is ever read.
    pub fn from_path_with(path: impl AsRef<Path>, limits: &Limits) -> Result<Sources, LoadError> {
        let path = path.as_ref();
        let metadata = std::fs::metadata(path).map_err(|error| LoadError::io(path, error))?;
        let mut sources = Sources::new();
        let mut budget = limits.policy_bytes;
        if metadata.is_dir() {
            for file in policy_files(path)? {
                budget = sources.add_file(&file, budget, limits)?;
            }
            if sources.files.is_empty() {
                return Err(LoadError::NoPolicyFiles(path.display().to_string()));
            }
        } else {
            sources.add_file(path, budget, limits)?;
        }
        Ok(sources)
    }

    /// Reads the file at `path` if it holds at most `budget` bytes; the budget left.
    fn add_file(
        &mut self,
        path: &Path,
        budget: usize,
        limits: &Limits,
    ) -> Result<usize, LoadError> {
        use std::io::Read as _;
        let file = std::fs::File::open(path).map_err(|error| LoadError::io(path, error))?;
        let mut bytes = Vec::new();
        let most = u64::try_from(budget).unwrap_or(u64::MAX).saturating_add(1);
        file.take(most)
            .read_to_end(&mut bytes)
            .map_err(|error| LoadError::io(path, error))?;
        let left = budget
            .checked_sub(bytes.len())
            .ok_or_else(|| LoadError::TooLarge {
                path: path.display().to_string(),
                limit: limits.policy_bytes,
            })?;
        let text =
            String::from_utf8(bytes).map_err(|_| LoadError::NotUtf8(path.display().to_string()))?;
        self.add(path.display().to_string(), text);
        Ok(left)
    }

    /// Adds a file; returns its id.
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<String>) -> SourceId {
        let id = SourceId(saturate(self.files.len()));
        self.files.push(SourceFile::new(name, text));
        id
    }

    /// The file with id `id`.
    ///
    /// # Panics
    /// Never for ids this set handed out; a foreign id yields an empty placeholder file.
    pub fn get(&self, id: SourceId) -> &SourceFile {
        static EMPTY: std::sync::OnceLock<SourceFile> = std::sync::OnceLock::new();
        self.files
            .get(id.0 as usize)
            .unwrap_or_else(|| EMPTY.get_or_init(|| SourceFile::new("<unknown>", "")))
    }

    /// The files with their ids, in policy order.
    pub fn iter(&self) -> impl Iterator<Item = (SourceId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(index, file)| (SourceId(saturate(index)), file))
    }

    /// How many files there are.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether there are no files.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Where a span is: file name, start and end line and column.
    pub fn location(&self, span: Span) -> Location<'_> {
        let file = self.get(span.source);
        Location {
            file: file.name(),
            start: file.line_column(span.start as usize),
            end: file.line_column(span.end as usize),
        }
    }

    /// The SHA-256 of the files' text concatenated in policy order, in lowercase hex:
    /// the policy's version (for one file, what `sha256sum` prints for it).
    pub fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        for file in &self.files {
            hasher.update(file.text().as_bytes());
        }
        hasher
            .finalize()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    /// The text a span covers.
    pub fn text(&self, span: Span) -> &str {
        self.get(span.source).text().get(span.range()).unwrap_or("")
    }
}

fn policy_files(directory: &Path) -> Result<Vec<std::path::PathBuf>, LoadError> {
    let entries = std::fs::read_dir(directory).map_err(|error| LoadError::io(directory, error))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|error| LoadError::io(directory, error))?;
        let path = entry.path();
        let is_policy = path
            .extension()
            .is_some_and(|extension| extension == "policy");
        if is_policy && path.is_file() {
            files.push(path);
        }
    }
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(files)
}

/// Why a policy could not be read.
///
/// The text of [`LoadError::Io`] ends with the operating system's message, the text of
/// the [`std::io::Error`] its [`source`](std::error::Error::source) returns.
#[derive(Debug)]
pub enum LoadError {
    /// The file or directory could not be read.
    Io {
        /// The path as given.
        path: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A file is not UTF-8.
    NotUtf8(String),
    /// A directory holds no `.policy` file.
    NoPolicyFiles(String),
    /// The policy's files hold more than [`Limits::policy_bytes`] together; reading
    /// stopped in this file.
    TooLarge {
        /// The file where the limit was crossed.
        path: String,
        /// The limit, in bytes.
        limit: usize,
    },
}

impl LoadError {
    fn io(path: &Path, source: std::io::Error) -> LoadError {
        LoadError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Io { path, source } => write!(f, "cannot read `{path}`: {source}"),
            LoadError::NotUtf8(path) => write!(f, "`{path}` is not UTF-8 text"),
            LoadError::NoPolicyFiles(path) => write!(f, "`{path}` holds no `.policy` file"),
            LoadError::TooLarge { path, limit } => write!(
                f,
                "limit exceeded: the policy is larger than {limit} bytes (reading stopped in \
                 `{path}`; the limit is `policy_bytes`, see docs/limits.md)"
            ),
        }
    }
}

impl std::error::Error for LoadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            LoadError::Io { source, .. } => Some(source),
            LoadError::NotUtf8(_) | LoadError::NoPolicyFiles(_) | LoadError::TooLarge { .. } => {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_character_columns() {
        let file = SourceFile::new("a.policy", "ab\n\u{e9}x y\n");
        assert_eq!(file.line_column(0), LineColumn { line: 1, column: 1 });
        assert_eq!(file.line_column(3), LineColumn { line: 2, column: 1 });
        // `x` comes after a two-byte character: column 2, not 3.
        assert_eq!(file.line_column(5), LineColumn { line: 2, column: 2 });
        assert_eq!(file.line_text(2), "\u{e9}x y");
        assert_eq!(file.line_column(99), LineColumn { line: 3, column: 1 });
    }
}

#[cfg(test)]
mod error_tests {
    use std::error::Error as _;

    use super::{LoadError, Sources};

    #[test]
    fn a_missing_file_has_the_io_error_as_source() {
        let error = Sources::from_path("/nonexistent/toolgate/x.policy").unwrap_err();
        assert!(matches!(error, LoadError::Io { .. }), "{error:?}");
        let source = error.source().expect("a source");
        let io = source
            .downcast_ref::<std::io::Error>()
            .expect("an io::Error");
        assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
        assert_eq!(
            error.to_string(),
            format!("cannot read `/nonexistent/toolgate/x.policy`: {io}")
        );
    }

    #[test]
    fn errors_made_here_have_no_source() {
        let error = LoadError::NotUtf8("x.policy".to_string());
        assert!(error.source().is_none());
    }
}

#[cfg(test)]
mod digest_tests {
    use super::Sources;

    #[test]
    fn digest_is_the_sha256_of_the_text_in_policy_order() {
        // `printf 'role a\n' | sha256sum`
        let expected = "146152f868253e57229b0e4aa5511ab7a70a46967d533aff46e936b00ecc9e64";
        assert_eq!(
            Sources::from_text("a.policy", "role a\n").digest(),
            expected
        );
        let mut split = Sources::from_text("a.policy", "role ");
        split.add("b.policy", "a\n");
        assert_eq!(split.digest(), expected);
    }
}
