//! Errors in tests files, with their own codes (`T001`...), apart from the language's.

use std::fmt;

use crate::source::Span;

/// The stable codes of tests-file errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ErrorCode {
    /// Syntax error: an unknown statement, a missing or unexpected word, a bad string.
    T001,
    /// A case names a principal that is not defined above it.
    T002,
    /// Something given twice: a principal name, the `policy` line, an option of a case.
    T003,
    /// An invalid value: JSON claims, an instant, an address, an action for the kind, or
    /// an expectation that can never hold (`expect allow ... reason denied`).
    T004,
    /// A case without a time or without a principal.
    T005,
    /// The policy to test cannot be found.
    T006,
}

impl ErrorCode {
    /// `T001` ... `T006`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::T001 => "T001",
            ErrorCode::T002 => "T002",
            ErrorCode::T003 => "T003",
            ErrorCode::T004 => "T004",
            ErrorCode::T005 => "T005",
            ErrorCode::T006 => "T006",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem in a tests file: a code, a message, the text to underline, and help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestError {
    /// The stable code.
    pub code: ErrorCode,
    /// What is wrong, lowercase, user input in backticks.
    pub message: String,
    /// Where.
    pub span: Span,
    /// The label under the span, if any.
    pub label: Option<String>,
    /// How to fix it, if there is something to say.
    pub help: Option<String>,
}

impl TestError {
    /// An error with `code` and `message` at `span`.
    pub fn new(code: ErrorCode, span: Span, message: impl Into<String>) -> TestError {
        TestError {
            code,
            message: message.into(),
            span,
            label: None,
            help: None,
        }
    }

    /// Adds help text.
    pub fn with_help(mut self, help: impl Into<String>) -> TestError {
        self.help = Some(help.into());
        self
    }

    /// Sets the label under the span.
    pub fn with_label(mut self, label: impl Into<String>) -> TestError {
        self.label = Some(label.into());
        self
    }
}
