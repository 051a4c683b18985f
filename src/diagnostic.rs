//! Diagnostics: a kind (stable code, message, help) plus where it is.
//!
//! The library returns diagnostics as data; the `toolgate` binary renders them as
//! rustc-style text, JSON or SARIF. Messages are lowercase, with user input in backticks.
#![deny(clippy::indexing_slicing)]

use std::fmt;

use crate::limits::{Limit, Limits};
use crate::source::Span;

/// Error or warning. Errors stop a policy from loading; warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Stops the policy from loading.
    Error,
    /// Reported; the policy still loads.
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// The stable diagnostic codes of docs/language.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[allow(missing_docs)]
pub enum Code {
    E001,
    E002,
    E003,
    E004,
    E005,
    E006,
    E007,
    E008,
    E009,
    E010,
    E011,
    E012,
    E013,
    W001,
    W002,
    W003,
    W004,
    W005,
    W006,
    W007,
    W008,
    W009,
}

impl Code {
    /// Every code, errors first.
    pub const ALL: [Code; 22] = [
        Code::E001,
        Code::E002,
        Code::E003,
        Code::E004,
        Code::E005,
        Code::E006,
        Code::E007,
        Code::E008,
        Code::E009,
        Code::E010,
        Code::E011,
        Code::E012,
        Code::E013,
        Code::W001,
        Code::W002,
        Code::W003,
        Code::W004,
        Code::W005,
        Code::W006,
        Code::W007,
        Code::W008,
        Code::W009,
    ];

    /// `E001` ... `W009`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::E001 => "E001",
            Code::E002 => "E002",
            Code::E003 => "E003",
            Code::E004 => "E004",
            Code::E005 => "E005",
            Code::E006 => "E006",
            Code::E007 => "E007",
            Code::E008 => "E008",
            Code::E009 => "E009",
            Code::E010 => "E010",
            Code::E011 => "E011",
            Code::E012 => "E012",
            Code::E013 => "E013",
            Code::W001 => "W001",
            Code::W002 => "W002",
            Code::W003 => "W003",
            Code::W004 => "W004",
            Code::W005 => "W005",
            Code::W006 => "W006",
            Code::W007 => "W007",
            Code::W008 => "W008",
            Code::W009 => "W009",
        }
    }

    /// Error for `E` codes, warning for `W` codes.
    pub fn severity(self) -> Severity {
        if self.as_str().starts_with('E') {
            Severity::Error
        } else {
            Severity::Warning
        }
    }

    /// A one-line description of what the code means (the table in docs/diagnostics.md).
    pub fn title(self) -> &'static str {
        match self {
            Code::E001 => "syntax error",
            Code::E002 => "duplicate definition",
            Code::E003 => "undefined name",
            Code::E004 => "cycle in role inheritance",
            Code::E005 => "action not valid for the kind",
            Code::E006 => "invalid IP address or CIDR",
            Code::E007 => "invalid window",
            Code::E008 => "unknown time zone",
            Code::E009 => "invalid RFC 3339 instant",
            Code::E010 => "invalid pattern",
            Code::E011 => "cycle in scope implication",
            Code::E012 => "limit exceeded",
            Code::E013 => "argument condition on a rule that lists or reads",
            Code::W001 => "role declared but never used",
            Code::W002 => "scope used but not declared",
            Code::W003 => "redundant rule",
            Code::W004 => "allow rule always overridden by a deny",
            Code::W005 => "CIDR with host bits set",
            Code::W006 => "pattern matches no listed tool",
            Code::W007 => "listed tool no principal can call",
            Code::W008 => "unconditional allow of every name to anyone",
            Code::W009 => "argument no matched tool declares",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A secondary place that matters to a diagnostic (the first definition of a duplicate,
/// the rule that makes another redundant, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What is there, lowercase.
    pub message: String,
}

/// One problem found in a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The stable code.
    pub code: Code,
    /// What is wrong, lowercase, user input in backticks.
    pub message: String,
    /// The primary place: the text to underline.
    pub span: Span,
    /// The label under the primary span, if any.
    pub primary_label: Option<String>,
    /// Other places that matter.
    pub labels: Vec<Label>,
    /// How to fix it, if there is something to say.
    pub help: Option<String>,
}

impl Diagnostic {
    /// The E012 for `found` exceeding `limit` at `span`; `found` is `None` when counting
    /// stopped at the limit.
    pub(crate) fn limit_exceeded(
        limit: Limit,
        limits: &Limits,
        span: Span,
        found: Option<usize>,
    ) -> Diagnostic {
        let most = limit.value(limits);
        let message = match found {
            Some(found) => format!(
                "limit exceeded: {found} {}, the most is {most}",
                limit.unit()
            ),
            None => format!("limit exceeded: more than {most} {}", limit.unit()),
        };
        Diagnostic::new(Code::E012, span, message).with_help(format!(
            "{}; the limit is `{}` (see docs/limits.md)",
            limit.advice(),
            limit.name()
        ))
    }

    /// A diagnostic with `code` and `message` at `span`.
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            message: message.into(),
            span,
            primary_label: None,
            labels: Vec::new(),
            help: None,
        }
    }

    /// Adds help text.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Adds help text when there is some.
    pub fn with_optional_help(mut self, help: Option<String>) -> Diagnostic {
        self.help = help;
        self
    }

    /// Sets the label under the primary span.
    pub fn with_primary_label(mut self, message: impl Into<String>) -> Diagnostic {
        self.primary_label = Some(message.into());
        self
    }

    /// Adds a secondary label.
    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    /// Error or warning, from the code.
    pub fn severity(&self) -> Severity {
        self.code.severity()
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity() == Severity::Error
    }
}

/// "did you mean `x`?" for a misspelled name: the closest candidate within a small edit
/// distance, if any.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|candidate| *candidate != name)
        .map(|candidate| (edit_distance(name, candidate), candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min()
        .map(|(_, candidate)| format!("did you mean `{candidate}`?"))
}

/// Levenshtein distance over characters, one row of the table at a time.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = Vec::with_capacity(b.len() + 1);
        current.push(i + 1);
        let mut left = i + 1;
        for ((cb, diagonal), above) in b.iter().zip(&previous).zip(previous.iter().skip(1)) {
            let substitution = diagonal + usize::from(ca != *cb);
            left = substitution.min(above + 1).min(left + 1);
            current.push(left);
        }
        previous = current;
    }
    previous.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceId;

    #[test]
    fn exceeding_names_the_limit() {
        let span = Span::new(SourceId(0), 0, 1);
        let diagnostic =
            Diagnostic::limit_exceeded(Limit::PatternChars, &Limits::DEFAULT, span, Some(2000));
        assert_eq!(diagnostic.code, Code::E012);
        assert_eq!(
            diagnostic.message,
            "limit exceeded: 2000 characters in a pattern, the most is 1024"
        );
        assert!(diagnostic
            .help
            .unwrap_or_default()
            .contains("`pattern_chars`"));
        let open = Diagnostic::limit_exceeded(Limit::Statements, &Limits::DEFAULT, span, None);
        assert_eq!(open.message, "limit exceeded: more than 100000 statements");
    }

    #[test]
    fn suggestions_are_close_names_only() {
        let roles = ["developer", "admin", "user"];
        assert_eq!(
            did_you_mean("developr", roles).as_deref(),
            Some("did you mean `developer`?")
        );
        assert_eq!(did_you_mean("zzz", roles), None);
        assert_eq!(did_you_mean("admin", roles), None);
    }

    #[test]
    fn edit_distances() {
        for (a, b, distance) in [
            ("", "", 0),
            ("", "abc", 3),
            ("abc", "", 3),
            ("kitten", "sitting", 3),
            ("flaw", "lawn", 2),
            ("développeur", "developpeur", 1),
        ] {
            assert_eq!(edit_distance(a, b), distance, "{a} {b}");
        }
    }

    #[test]
    fn codes_know_their_severity() {
        assert_eq!(Code::E004.severity(), Severity::Error);
        assert_eq!(Code::W004.severity(), Severity::Warning);
    }
}
