//! Resource limits: how much untrusted input the library takes in before refusing it.
//!
//! Policy text is checked against a [`Limits`] while it is read and parsed; a policy
//! over a limit does not load. Exceeding a limit is an `E012` diagnostic naming the
//! limit (or, for a file too large to read, [`crate::source::LoadError::TooLarge`]), so
//! the caller learns which limit to raise. The defaults suit every policy written by
//! hand; [`crate::LoadOptions`] takes other values:
//!
//! ```
//! use toolgate::{Limits, LoadOptions};
//!
//! let limits = Limits {
//!     statements: 500,
//!     ..Limits::default()
//! };
//! let options = LoadOptions { limits, ..LoadOptions::default() };
//! let loaded = options.load_text("a.policy", "role a\n")?;
//! assert!(loaded.warnings().iter().all(|warning| !warning.is_error()));
//! # Ok::<(), toolgate::PolicyError>(())
//! ```
//!
//! docs/limits.md lists every limit, including those of the token validator and the
//! HTTP gate, which their own configurations set.
#![deny(clippy::indexing_slicing)]

/// The limits a policy is read and checked against. Every field is a maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of policy text, all files together. Default 4 MiB (4 194 304).
    pub policy_bytes: usize,
    /// Statements in a policy, all files together. Default 100 000.
    pub statements: usize,
    /// Distinct roles declared. Default 10 000 (role closures take a bit per pair of
    /// roles).
    pub roles: usize,
    /// Distinct scopes declared or used. Default 10 000 (scope closures take a bit per
    /// pair of scopes).
    pub scopes: usize,
    /// Levels of `(` and `not` in one condition. Default 64, which is also the most:
    /// deeper values are read as 64, since the grammar uses native stack per level.
    pub condition_depth: usize,
    /// Characters in one name pattern (after string escapes). Default 1 024.
    pub pattern_chars: usize,
    /// Wildcards (`*` and `?`, as written) in one name pattern. Default 64.
    pub pattern_wildcards: usize,
    /// Characters in any other string literal (scope, `aka` value, client id, claim
    /// value, time zone, instant). Default 4 096.
    pub string_chars: usize,
    /// `.`-separated segments in one claim path. Default 32 (a JSON document nests at
    /// most 128 levels before the JSON reader refuses it).
    pub claim_path_segments: usize,
    /// `arg` atoms in a policy, all rules together (v1.1). Default 10 000.
    pub arg_atoms: usize,
    /// Bytes of a requested tool name, resource URI or prompt name: a longer name is
    /// denied (`no_rule`) without being matched. Default 64 KiB (65 536).
    pub name_bytes: usize,
}

impl Limits {
    /// The default limits.
    pub const DEFAULT: Limits = Limits {
        policy_bytes: 4 * 1024 * 1024,
        statements: 100_000,
        roles: 10_000,
        scopes: 10_000,
        condition_depth: Limits::MAX_CONDITION_DEPTH,
        pattern_chars: 1024,
        pattern_wildcards: 64,
        string_chars: 4096,
        claim_path_segments: 32,
        arg_atoms: 10_000,
        name_bytes: 64 * 1024,
    };

    /// The deepest condition nesting any configuration allows.
    pub const MAX_CONDITION_DEPTH: usize = 64;

    /// The condition depth in force: [`Limits::condition_depth`], at most
    /// [`Limits::MAX_CONDITION_DEPTH`].
    pub fn effective_condition_depth(&self) -> usize {
        self.condition_depth.min(Self::MAX_CONDITION_DEPTH)
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::DEFAULT
    }
}

/// One limit, by the name of its [`Limits`] field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limit {
    PolicyBytes,
    Statements,
    Roles,
    Scopes,
    ConditionDepth,
    PatternChars,
    PatternWildcards,
    StringChars,
    ClaimPathSegments,
    ArgAtoms,
}

impl Limit {
    /// The field's name, as docs/limits.md lists it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Limit::PolicyBytes => "policy_bytes",
            Limit::Statements => "statements",
            Limit::Roles => "roles",
            Limit::Scopes => "scopes",
            Limit::ConditionDepth => "condition_depth",
            Limit::PatternChars => "pattern_chars",
            Limit::PatternWildcards => "pattern_wildcards",
            Limit::StringChars => "string_chars",
            Limit::ClaimPathSegments => "claim_path_segments",
            Limit::ArgAtoms => "arg_atoms",
        }
    }

    /// The limit's value in `limits`.
    pub(crate) fn value(self, limits: &Limits) -> usize {
        match self {
            Limit::PolicyBytes => limits.policy_bytes,
            Limit::Statements => limits.statements,
            Limit::Roles => limits.roles,
            Limit::Scopes => limits.scopes,
            Limit::ConditionDepth => limits.effective_condition_depth(),
            Limit::PatternChars => limits.pattern_chars,
            Limit::PatternWildcards => limits.pattern_wildcards,
            Limit::StringChars => limits.string_chars,
            Limit::ClaimPathSegments => limits.claim_path_segments,
            Limit::ArgAtoms => limits.arg_atoms,
        }
    }

    /// What the limit counts, for messages: `bytes of policy text`, `statements`, ...
    pub(crate) fn unit(self) -> &'static str {
        match self {
            Limit::PolicyBytes => "bytes of policy text",
            Limit::Statements => "statements",
            Limit::Roles => "roles",
            Limit::Scopes => "scopes",
            Limit::ConditionDepth => "levels of `(` and `not`",
            Limit::PatternChars => "characters in a pattern",
            Limit::PatternWildcards => "wildcards in a pattern",
            Limit::StringChars => "characters in a string",
            Limit::ClaimPathSegments => "segments in a claim or argument path",
            Limit::ArgAtoms => "`arg` conditions",
        }
    }

    /// How to get under the limit.
    pub(crate) fn advice(self) -> &'static str {
        match self {
            Limit::PolicyBytes | Limit::Statements | Limit::Roles | Limit::Scopes => {
                "remove statements the policy does not need, or load it with a higher limit"
            }
            Limit::ConditionDepth => {
                "split the condition into several rules, or drop redundant parentheses and `not`s"
            }
            Limit::PatternChars => "shorten the pattern; a `*` can stand for a long part",
            Limit::PatternWildcards => "use fewer wildcards: one `*` matches any run of characters",
            Limit::StringChars => "shorten the string",
            Limit::ClaimPathSegments => "shorten the claim path",
            Limit::ArgAtoms => {
                "merge argument tests with `in [...]`, or load it with a higher limit"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_depth_limit_can_only_be_lowered() {
        let deeper = Limits {
            condition_depth: 1000,
            ..Limits::default()
        };
        assert_eq!(deeper.effective_condition_depth(), 64);
        let shallow = Limits {
            condition_depth: 3,
            ..Limits::default()
        };
        assert_eq!(Limit::ConditionDepth.value(&shallow), 3);
    }
}
