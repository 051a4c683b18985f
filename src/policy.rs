//! Loading a policy: the whole chain (read, parse, check, compile) in one call.
//!
//! [`Policy::load`] and [`Policy::from_text`] load with the defaults; [`LoadOptions`]
//! sets the [`Limits`] and the server's tool list. The CLI, the gate (also on reload)
//! and the tests all load this way.
#![deny(clippy::indexing_slicing)]

use std::fmt;
use std::path::Path;

use crate::check::{self, CheckedPolicy, ManifestError, ToolManifest};
use crate::diagnostic::Diagnostic;
use crate::eval::Engine;
use crate::limits::Limits;
use crate::source::{LoadError, Sources};
use crate::{compile, parse};

/// A policy that loaded: its files, its checked form, its engine and its warnings.
///
/// ```
/// use toolgate::{Action, Kind, Policy, Request};
///
/// let policy = Policy::from_text("inline.policy", "role user\nallow user to call tools \"fs.*\"\n")?;
/// let engine = policy.engine();
/// let principal = engine.principal(&serde_json::json!({"roles": ["user"]}))?;
/// let request = Request::new(Kind::Tool, Action::Call, "fs.read")?;
/// assert!(engine.decide(&principal, &request).is_allowed());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Policy {
    sources: Sources,
    checked: CheckedPolicy,
    engine: Engine,
    warnings: Vec<Diagnostic>,
}

/// How to load a policy: the limits it must stay within and, optionally, the tools the
/// server offers (which enables the warnings that compare the policy with them).
///
/// ```
/// use toolgate::{LoadOptions, ToolList};
///
/// let tools = ToolList::from_text("tools.json", r#"{"tools": [{"name": "fs.read"}]}"#)?;
/// let options = LoadOptions { tools: Some(tools), ..LoadOptions::default() };
/// let policy = options.load_text("p.policy", "role user\nallow user to call tools \"fs.raed\"\n")?;
/// // W006: the pattern matches no tool the server offers.
/// assert_eq!(policy.warnings()[0].code.to_string(), "W006");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// The bounds on the files, the policy and the requests (see [`Limits`]).
    pub limits: Limits,
    /// The server's tools (its `tools/list` result): enables W006, W007 and W009.
    pub tools: Option<ToolList>,
}

/// A server's tool list: the text of an MCP `tools/list` result, checked to be one.
#[derive(Debug, Clone)]
pub struct ToolList {
    name: String,
    text: String,
    /// The list as read, its spans in a source numbered 0 until added to a policy's.
    manifest: ToolManifest,
}

impl ToolList {
    /// A tool list given as text; `name` names it in diagnostics.
    pub fn from_text(
        name: impl Into<String>,
        text: impl Into<String>,
    ) -> Result<ToolList, ManifestError> {
        let text = text.into();
        let manifest = ToolManifest::parse(&text, crate::source::SourceId(0))?;
        Ok(ToolList {
            name: name.into(),
            text,
            manifest,
        })
    }

    /// Reads a tool list from a file.
    pub fn read(path: impl AsRef<Path>) -> Result<ToolList, ToolListError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ToolListError::Read {
            path: path.display().to_string(),
            source,
        })?;
        ToolList::from_text(path.display().to_string(), text).map_err(|source| {
            ToolListError::Invalid {
                path: path.display().to_string(),
                source,
            }
        })
    }

    /// The tools, in the list's order.
    pub fn manifest(&self) -> &ToolManifest {
        &self.manifest
    }

    /// Adds the list to `sources`: the tools, their spans pointing into it there.
    fn add_to(&self, sources: &mut Sources) -> ToolManifest {
        let id = sources.add(self.name.clone(), self.text.clone());
        let mut manifest = self.manifest.clone();
        for tool in &mut manifest.tools {
            tool.span.source = id;
        }
        manifest
    }
}

/// Why a tool list file could not be used.
#[derive(Debug)]
pub enum ToolListError {
    /// The file could not be read.
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a `tools/list` result.
    Invalid {
        /// The file.
        path: String,
        /// Why.
        source: ManifestError,
    },
}

impl fmt::Display for ToolListError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ToolListError::Read { path, source } => write!(f, "cannot read `{path}`: {source}"),
            ToolListError::Invalid { path, source } => write!(f, "`{path}`: {source}"),
        }
    }
}

impl std::error::Error for ToolListError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ToolListError::Read { source, .. } => Some(source),
            ToolListError::Invalid { source, .. } => Some(source),
        }
    }
}

/// Why a policy did not load.
#[derive(Debug)]
pub enum PolicyError {
    /// The files could not be read. The text is the [`LoadError`]'s, which
    /// [`source`](std::error::Error::source) returns.
    Read(LoadError),
    /// The policy has errors; `diagnostics` holds every problem found, warnings included,
    /// sorted by file and position.
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

impl LoadOptions {
    /// Reads and loads a `.policy` file or a directory of them.
    pub fn load(&self, path: impl AsRef<Path>) -> Result<Policy, PolicyError> {
        let sources = Sources::from_path_with(path, &self.limits).map_err(PolicyError::Read)?;
        self.load_sources(sources)
    }

    /// Loads a policy given as text; `name` is used in diagnostics and rule locations.
    pub fn load_text(&self, name: &str, text: &str) -> Result<Policy, PolicyError> {
        self.load_sources(Sources::from_text(name, text))
    }

    /// Parses, checks and compiles `sources`: a policy over a limit does not load
    /// (E012), and the engine denies requests for names longer than
    /// [`Limits::name_bytes`]. The tool list, if any, is added to the sources so that
    /// diagnostics can point into it.
    pub fn load_sources(&self, mut sources: Sources) -> Result<Policy, PolicyError> {
        let parsed = parse::parse_with(&sources, &self.limits);
        let manifest = self.tools.as_ref().map(|tools| tools.add_to(&mut sources));
        let config = check::Config {
            tools: manifest.as_ref(),
            incomplete: !parsed.diagnostics.is_empty(),
        };
        let checked = check::check(&parsed.policy, &config);
        let mut diagnostics = parsed.diagnostics;
        diagnostics.extend(checked.diagnostics);
        diagnostics.sort_by_key(|d| (d.span.source, d.span.start, d.code));
        match checked.policy {
            Some(checked) if !diagnostics.iter().any(Diagnostic::is_error) => {
                let index = compile::compile(&sources, &checked);
                let engine = Engine::with_limits(index, &self.limits);
                Ok(Policy {
                    sources,
                    checked,
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
}

impl Policy {
    /// Reads and loads a `.policy` file or a directory of them, with the default
    /// [`LoadOptions`].
    pub fn load(path: impl AsRef<Path>) -> Result<Policy, PolicyError> {
        LoadOptions::default().load(path)
    }

    /// Loads a policy given as text, with the default [`LoadOptions`]; `name` is used
    /// in diagnostics and rule locations.
    pub fn from_text(name: &str, text: &str) -> Result<Policy, PolicyError> {
        LoadOptions::default().load_text(name, text)
    }

    /// The compiled engine, which decides requests.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The compiled engine, without the rest.
    pub fn into_engine(self) -> Engine {
        self.engine
    }

    /// The policy's files (and the tool list, when one was given).
    pub fn sources(&self) -> &Sources {
        &self.sources
    }

    /// The warnings found, sorted by file and position (a policy with warnings loads).
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// The checked policy, for the analyses (explain, the matrix, policy tests).
    /// Unstable: its type is in [`crate::unstable`].
    pub fn checked(&self) -> &CheckedPolicy {
        &self.checked
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    #[test]
    fn a_read_error_is_the_source() {
        let error = Policy::load("/nonexistent/toolgate/x.policy").unwrap_err();
        let source = error.source().expect("a source");
        let read = source.downcast_ref::<LoadError>().expect("a LoadError");
        assert!(matches!(read, LoadError::Io { .. }), "{read:?}");
        assert_eq!(error.to_string(), read.to_string());
        let io = read.source().expect("the io error");
        assert!(io.downcast_ref::<std::io::Error>().is_some());
    }

    #[test]
    fn an_invalid_policy_has_no_source() {
        let error = Policy::from_text("bad.policy", "allow\n").unwrap_err();
        assert!(matches!(error, PolicyError::Invalid { .. }));
        assert!(error.source().is_none());
    }

    #[test]
    fn a_tool_list_is_checked_when_made_and_read_into_the_sources() {
        let error = ToolList::from_text("tools.json", "{\"tool\": []}").unwrap_err();
        assert!(matches!(error, ManifestError::NotToolsList(_)), "{error:?}");
        let tools = ToolList::from_text("tools.json", r#"{"tools": [{"name": "fs.read"}]}"#)
            .expect("a tool list");
        let options = LoadOptions {
            tools: Some(tools),
            ..LoadOptions::default()
        };
        let policy = options
            .load_text("p.policy", "role user\nallow user to call tools \"db.*\"\n")
            .expect("loads");
        let warning = policy.warnings().first().expect("W006");
        assert_eq!(warning.code.to_string(), "W006");
        assert_eq!(policy.sources().len(), 2);
    }

    #[test]
    fn an_unreadable_tool_list_file_names_the_file_and_keeps_the_cause() {
        let error = ToolList::read("/nonexistent/toolgate/tools.json").unwrap_err();
        assert!(error
            .to_string()
            .starts_with("cannot read `/nonexistent/toolgate/tools.json`"));
        assert!(error
            .source()
            .and_then(|s| s.downcast_ref::<std::io::Error>())
            .is_some());
    }

    #[test]
    fn the_limits_apply() {
        let options = LoadOptions {
            limits: Limits {
                statements: 1,
                ..Limits::default()
            },
            ..LoadOptions::default()
        };
        let text = "role user\nallow user to call tools \"a\"\nallow user to call tools \"b\"\n";
        let Err(PolicyError::Invalid { diagnostics, .. }) = options.load_text("p.policy", text)
        else {
            panic!("over the limit, the policy must not load");
        };
        assert!(
            diagnostics.iter().any(|d| d.code.to_string() == "E012"),
            "{diagnostics:?}"
        );
    }
}
