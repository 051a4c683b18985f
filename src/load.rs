//! The whole chain in one call, for embedders.

use std::fmt;
use std::path::Path;

use crate::check::{self, Config};
use crate::diagnostic::Diagnostic;
use crate::eval::Engine;
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
    /// The files could not be read.
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

impl std::error::Error for PolicyError {}

/// Parses, checks and compiles a policy.
pub fn load(sources: Sources) -> Result<Loaded, PolicyError> {
    let parsed = parse::parse(&sources);
    let config = Config {
        tools: None,
        incomplete: !parsed.diagnostics.is_empty(),
    };
    let checked = check::check(&parsed.policy, &config);
    let mut diagnostics = parsed.diagnostics;
    diagnostics.extend(checked.diagnostics);
    match checked.policy {
        Some(policy) if !diagnostics.iter().any(Diagnostic::is_error) => {
            let engine = Engine::new(compile::compile(&sources, &policy));
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
    /// Reads and loads a `.policy` file or a directory of them.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Loaded, PolicyError> {
        load(Sources::from_path(path).map_err(PolicyError::Read)?)
    }

    /// Loads a policy given as text; `name` is used in diagnostics and rule locations.
    pub fn from_text(name: &str, text: &str) -> Result<Loaded, PolicyError> {
        load(Sources::from_text(name, text))
    }
}
