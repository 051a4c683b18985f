//! The whole chain in one call, for embedders.
#![deny(clippy::indexing_slicing)]

use std::fmt;
use std::path::Path;

use crate::check::{self, Config};
use crate::diagnostic::Diagnostic;
use crate::eval::Engine;
use crate::limits::Limits;
use crate::source::{LoadError, Sources};
use crate::{compile, parse};

/// A policy that loaded: its sources, its engine, and any warnings.
#[derive(Debug)]
pub struct Loaded {
    /// The policy's files.
    pub sources: Sources,
    /// The compiled engine.
    pub engine: Engine,
    /// Warnings found (a policy with warnings still loads).
    pub warnings: Vec<Diagnostic>,
}

/// Why a policy did not load.
#[derive(Debug)]
pub enum PolicyError {
    /// The files could not be read. The text is the [`LoadError`]'s, which
    /// [`source`](std::error::Error::source) returns.
    Read(LoadError),
    /// The policy has errors; `diagnostics` holds every problem found, warnings included.
    Invalid {
        /// The policy's files, to render the diagnostics against.
        sources: Sources,
        /// Every problem found.
        diagnostics: Vec<Diagnostic>,
    },
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyError::Read(error) => write!(f, "{error}"),
            PolicyError::Invalid {
                sources,
                diagnostics,
            } => {
                let errors = diagnostics.iter().filter(|d| d.is_error());
                for (number, diagnostic) in errors.enumerate() {
                    if number > 0 {
                        writeln!(f)?;
                    }
                    write!(
                        f,
                        "{}: error[{}]: {}",
                        sources.location(diagnostic.span),
                        diagnostic.code,
                        diagnostic.message
                    )?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for PolicyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PolicyError::Read(error) => Some(error),
            PolicyError::Invalid { .. } => None,
        }
    }
}

/// Parses, checks and compiles a policy within the default [`Limits`].
pub fn load(sources: Sources) -> Result<Loaded, PolicyError> {
    load_with(sources, &Limits::default())
}

/// Parses, checks and compiles a policy within `limits` (see [`Loaded::from_sources_with`]).
fn load_with(sources: Sources, limits: &Limits) -> Result<Loaded, PolicyError> {
    let parsed = parse::parse_with(&sources, limits);
    let config = Config {
        tools: None,
        incomplete: !parsed.diagnostics.is_empty(),
    };
    let checked = check::check(&parsed.policy, &config);
    let mut diagnostics = parsed.diagnostics;
    diagnostics.extend(checked.diagnostics);
    match checked.policy {
        Some(policy) if !diagnostics.iter().any(Diagnostic::is_error) => {
            let engine = Engine::with_limits(compile::compile(&sources, &policy), limits);
            Ok(Loaded {
                sources,
                engine,
                warnings: diagnostics,
            })
        }
        _ => Err(PolicyError::Invalid {
            sources,
            diagnostics,
        }),
    }
}

impl Loaded {
    /// Parses, checks and compiles `sources` within `limits`: a policy over a limit
    /// does not load (E012), and the engine denies requests for names longer than
    /// [`Limits::name_bytes`].
    pub fn from_sources_with(sources: Sources, limits: &Limits) -> Result<Loaded, PolicyError> {
        load_with(sources, limits)
    }

    /// Reads and loads a `.policy` file or a directory of them.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Loaded, PolicyError> {
        Loaded::from_path_with(path, &Limits::default())
    }

    /// Reads and loads a `.policy` file or a directory of them within `limits`.
    pub fn from_path_with(path: impl AsRef<Path>, limits: &Limits) -> Result<Loaded, PolicyError> {
        let sources = Sources::from_path_with(path, limits).map_err(PolicyError::Read)?;
        load_with(sources, limits)
    }

    /// Loads a policy given as text; `name` is used in diagnostics and rule locations.
    pub fn from_text(name: &str, text: &str) -> Result<Loaded, PolicyError> {
        load(Sources::from_text(name, text))
    }

    /// Loads a policy given as text within `limits`.
    pub fn from_text_with(name: &str, text: &str, limits: &Limits) -> Result<Loaded, PolicyError> {
        load_with(Sources::from_text(name, text), limits)
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn a_read_error_is_the_source() {
        let error = Loaded::from_path("/nonexistent/toolgate/x.policy").unwrap_err();
        let source = error.source().expect("a source");
        let read = source.downcast_ref::<LoadError>().expect("a LoadError");
        assert!(matches!(read, LoadError::Io { .. }), "{read:?}");
        assert_eq!(error.to_string(), read.to_string());
        let io = read.source().expect("the io error");
        assert!(io.downcast_ref::<std::io::Error>().is_some());
    }

    #[test]
    fn an_invalid_policy_has_no_source() {
        let error = Loaded::from_text("bad.policy", "allow\n").unwrap_err();
        assert!(matches!(error, PolicyError::Invalid { .. }));
        assert!(error.source().is_none());
    }
}
