//! Policy test files (`toolgate test`): requests with the decisions a policy must give.
//!
//! A tests file (`*.tests`) is line-based. It names principals once (a token's claims as
//! JSON), sets a default time and address, and lists cases, each a request and the
//! expected decision, optionally with its reason, missing scopes and deciding rule:
//!
//! ```text
//! at 2026-11-26T10:00:00Z
//! principal dev = {"roles": ["developer"], "scope": "tool:read tool:write"}
//! as dev
//!   expect allow call tool "github.create_issue"
//!   expect deny call tool "db.query" reason no_rule
//! ```
//!
//! [`parse()`] reads a file into a [`TestFile`] and every [`TestError`] found;
//! [`run()`] decides each case with an [`crate::Engine`] and returns a [`CaseResult`]
//! per case ([`CaseRunner`] decides them one at a time); [`coverage()`] finds the
//! statements that decided no case and the condition atoms that were not both true and
//! false; [`discover`] finds tests files and the policy each one tests. The format is
//! described for policy authors in `docs/testing.md`.
//!
//! ```
//! use toolgate::unstable::source::{SourceId, Sources};
//! use toolgate::{unstable::testing, Policy};
//!
//! let policy = Policy::from_text("a.policy", "role user\nallow user to call tools \"fs.*\"\n")?;
//! let sources = Sources::from_text(
//!     "a.tests",
//!     "at 2026-01-01T00:00:00Z\nprincipal u = {\"roles\": \"user\"}\n\
//!      expect allow call tool \"fs.read\" as u\nexpect deny call tool \"db.drop\" as u\n",
//! );
//! let parsed = testing::parse(&sources, SourceId(0));
//! assert!(parsed.errors.is_empty());
//! let results = testing::run(policy.engine(), &parsed.file);
//! assert!(results.iter().all(|result| result.passed()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod coverage;
mod cursor;
pub mod discover;
mod error;
mod parse;
mod run;
#[cfg(test)]
mod tests;

use std::net::IpAddr;

use jiff::Timestamp;
use serde_json::Value;

use crate::ast::{Action, Effect, Kind};
use crate::eval::Reason;
use crate::source::Span;

pub use coverage::{coverage, ConditionCoverage, Coverage, StatementCoverage};
pub use error::{ErrorCode, TestError};
pub use parse::{parse, Parsed};
pub use run::{run, CaseResult, CaseRunner, Mismatch, Summary};

/// A parsed tests file: the policy it names, its principals and its cases.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TestFile {
    /// The `policy "PATH"` line: the path as written (relative to the tests file's
    /// directory) and the span of the string. `None`: the policy beside the file with the
    /// same stem.
    pub policy: Option<(String, Span)>,
    /// Every principal the cases use: the named ones and those written inline.
    pub principals: Vec<TestPrincipal>,
    /// The cases, in file order.
    pub cases: Vec<Case>,
}

/// A principal of a tests file: a token's validated claims.
#[derive(Debug, Clone, PartialEq)]
pub struct TestPrincipal {
    /// The name given by `principal NAME = ...`; `None` for claims written in a case.
    pub name: Option<String>,
    /// The claims, a JSON object.
    pub claims: Value,
    /// Where the principal is defined (its name, or the inline JSON).
    pub span: Span,
}

impl TestPrincipal {
    /// The name, or the claims as compact JSON for a principal written inline.
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) => name.clone(),
            None => self.claims.to_string(),
        }
    }
}

/// One case: a request and the decision expected for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// The `expect ...` line, from `expect` to the end of its last token.
    pub span: Span,
    /// Index of the principal in [`TestFile::principals`].
    pub principal: usize,
    /// The request.
    pub request: CaseRequest,
    /// What the policy must answer.
    pub expected: Expected,
}

/// A request of a case, owning its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRequest {
    /// Tool, resource or prompt.
    pub kind: Kind,
    /// `list`, or the kind's use action.
    pub action: Action,
    /// The tool name, resource URI or prompt name.
    pub name: String,
    /// The client's address; `None` when the case (or its default) says `from none`.
    pub ip: Option<IpAddr>,
    /// When the request is made.
    pub time: Timestamp,
    /// The arguments of a `call` or `get` (`with {JSON}`); `None` is `{}`.
    pub arguments: Option<serde_json::Map<String, serde_json::Value>>,
}

/// The decision a case expects; the parts left `None` are not compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// Allow or deny (always compared).
    pub effect: Effect,
    /// The reason, if the case gives one.
    pub reason: Option<Reason>,
    /// The missing scopes, sorted, if the case gives them (`missing none` is empty).
    pub missing_scopes: Option<Vec<String>>,
    /// The deciding rule, if the case gives one.
    pub rule: Option<RuleExpectation>,
}

/// The deciding rule a case expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleExpectation {
    /// `rule none`: no deciding rule (reason `no_rule`).
    None,
    /// `rule 30`: a statement on line 30 of any file of the policy.
    Line(u32),
    /// `rule "a.policy:30"`: line 30 of the policy file whose path ends with `a.policy`
    /// (whole path components).
    Site {
        /// The file, as written: the last components of the rule's path.
        file: String,
        /// The 1-based line.
        line: u32,
    },
}

impl std::fmt::Display for RuleExpectation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RuleExpectation::None => f.write_str("none"),
            RuleExpectation::Line(line) => write!(f, "line {line}"),
            RuleExpectation::Site { file, line } => write!(f, "{file}:{line}"),
        }
    }
}
