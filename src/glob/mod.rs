//! Glob patterns: how rule patterns match tool, resource and prompt names, and how
//! patterns relate to each other.
//!
//! # Semantics
//!
//! A pattern (a policy string whose string escapes were already applied) is matched
//! against the *whole* name, case-sensitively:
//!
//! - `*` matches any run of characters, also the empty run, also `.` and `/`;
//! - `?` matches exactly one character (a Unicode scalar value, not a byte);
//! - `\*`, `\?` and `\\` match a literal `*`, `?` and `\`;
//! - a `\` before any other character is a literal `\`, and that character is a literal;
//! - every other character matches itself.
//!
//! An empty pattern, or one that ends in a dangling `\` (an odd run of trailing
//! backslashes), is invalid (E010). [`Glob::parse`] also refuses patterns longer than
//! [`Glob::MAX_LENGTH`] characters or with more than [`Glob::MAX_WILDCARDS`] wildcards;
//! in a policy those are the limits `pattern_chars` and `pattern_wildcards` of
//! [`Limits`], checked while parsing (E012).
//!
//! # Matching
//!
//! A compiled pattern is its list of *segments*, the parts between `*`s (consecutive
//! stars collapse into one). A segment is a sequence of literal byte strings and runs of
//! `?`. Without a star, the only segment must match the whole name. Otherwise the first
//! segment is anchored at the start of the name, the last one at its end, and each middle
//! segment is matched at its leftmost position after the previous one, before the last
//! segment. Every segment consumes a fixed number of characters, so its leftmost match
//! also ends leftmost, which makes the greedy choice safe: matching takes
//! `O(len(name) * len(pattern))` time at worst, never exponential, and never allocates.
//!
//! # Relating patterns
//!
//! [`Glob::includes`], [`Glob::union_includes`] and [`Glob::intersects`] are decided
//! exactly, as globs denote regular languages. Each side becomes a nondeterministic
//! automaton with one state per pattern token plus an accepting state (a union is the
//! disjoint union of its members' automata), whose state sets are bit sets. Both sides are
//! determinized at the same time (a subset construction over pairs of state sets) over an
//! alphabet made of the literal characters of every pattern involved plus one class,
//! "any other character", whose members all behave alike. A breadth-first search of the
//! reachable pairs looks for a pair where the right side accepts and the left side does
//! not (inclusion fails), or where both accept (the patterns intersect); it prunes pairs
//! from which the answer is settled (a side left with no state, or with a state from
//! which only stars remain). It gives up, answering `None`, past 100 000 pairs or a bound
//! on memory and work, which takes patterns like `*a` followed by twenty `?`.
#![deny(clippy::indexing_slicing)]

use std::fmt;

use crate::limits::Limits;

use self::matching::{match_starred, segments_of, Piece, Segment};
pub(crate) use self::relation::RelationBudget;
use self::relation::{common_name, uncovered_name, uncovered_name_within};

mod matching;
mod relation;
#[cfg(test)]
mod tests;

/// A compiled glob pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Glob {
    /// The pattern as written.
    source: String,
    /// The parts between stars; never empty, and only the first and last may be empty.
    segments: Vec<Segment>,
}

/// Why a pattern is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlobError {
    /// The pattern is the empty string.
    Empty,
    /// The pattern ends in a `\` that escapes nothing.
    DanglingBackslash,
    /// The pattern has more than `limit` characters.
    TooLong {
        /// The most characters a pattern may have.
        limit: usize,
    },
    /// The pattern has more than `limit` wildcards (`*` and `?`, as written).
    TooManyWildcards {
        /// The most wildcards a pattern may have.
        limit: usize,
    },
}

impl fmt::Display for GlobError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => formatter.write_str("the pattern is empty"),
            Self::DanglingBackslash => formatter.write_str("the pattern ends in a dangling `\\`"),
            Self::TooLong { limit } => {
                write!(formatter, "the pattern is longer than {limit} characters")
            }
            Self::TooManyWildcards { limit } => write!(
                formatter,
                "the pattern has more than {limit} wildcards (`*` and `?`)"
            ),
        }
    }
}

impl std::error::Error for GlobError {}

/// The structure the decision table indexes by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// No wildcard: matches exactly this name (escapes resolved).
    Literal(String),
    /// This literal text, then one `*`: matches the names that start with it.
    Prefix(String),
    /// One `*`, then this literal text: matches the names that end with it.
    Suffix(String),
    /// Only stars: matches every name.
    Universal,
    /// Anything else: ask [`Glob::is_match`].
    General,
}

/// A pattern token, escapes resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Token {
    /// A character that matches itself.
    Literal(char),
    /// `?`.
    AnyChar,
    /// `*`.
    AnyRun,
}

impl Glob {
    /// The most characters a pattern may have ([`Limits::pattern_chars`] by default).
    pub const MAX_LENGTH: usize = Limits::DEFAULT.pattern_chars;

    /// The most wildcards (`*` and `?`, counted as written) a pattern may have
    /// ([`Limits::pattern_wildcards`] by default).
    pub const MAX_WILDCARDS: usize = Limits::DEFAULT.pattern_wildcards;

    /// Compiles `pattern`, whose string escapes were already applied, within the
    /// default limits ([`Glob::MAX_LENGTH`], [`Glob::MAX_WILDCARDS`]).
    ///
    /// # Errors
    ///
    /// [`GlobError`] when the pattern is invalid; problems are checked in this order:
    /// empty, too long, dangling `\`, too many wildcards.
    pub fn parse(pattern: &str) -> Result<Glob, GlobError> {
        Self::parse_within(pattern, &Limits::DEFAULT)
    }

    /// Compiles `pattern` within [`Limits::pattern_chars`] and
    /// [`Limits::pattern_wildcards`] of `limits`.
    ///
    /// # Errors
    ///
    /// As [`Glob::parse`], with the limits of `limits`.
    pub fn parse_within(pattern: &str, limits: &Limits) -> Result<Glob, GlobError> {
        if pattern.is_empty() {
            return Err(GlobError::Empty);
        }
        if pattern.chars().count() > limits.pattern_chars {
            return Err(GlobError::TooLong {
                limit: limits.pattern_chars,
            });
        }
        let tokens = tokenize(pattern)?;
        let wildcards = tokens
            .iter()
            .filter(|token| !matches!(token, Token::Literal(_)))
            .count();
        if wildcards > limits.pattern_wildcards {
            return Err(GlobError::TooManyWildcards {
                limit: limits.pattern_wildcards,
            });
        }
        Ok(Glob {
            source: pattern.to_owned(),
            segments: segments_of(&tokens),
        })
    }

    /// Whether the pattern matches the whole of `name`.
    ///
    /// Never allocates; takes `O(len(name) * len(pattern))` time at worst.
    #[must_use]
    pub fn is_match(&self, name: &str) -> bool {
        match self.segments.as_slice() {
            [only] => only.match_forward(name.as_bytes(), 0) == Some(name.len()),
            [first, middle @ .., last] => match_starred(first, middle, last, name),
            [] => false,
        }
    }

    /// The pattern's structure, consecutive stars collapsed: `"a**"` is
    /// `Prefix("a")` and `"**"` is `Universal`. Literal texts have their escapes
    /// resolved: `"lit\*"` is `Literal("lit*")`.
    #[must_use]
    pub fn shape(&self) -> Shape {
        match self.segments.as_slice() {
            [only] => only
                .as_literal()
                .map_or(Shape::General, |text| Shape::Literal(text.to_owned())),
            [first, last] => match (first.as_literal(), last.as_literal()) {
                (Some(""), Some("")) => Shape::Universal,
                (Some(prefix), Some("")) => Shape::Prefix(prefix.to_owned()),
                (Some(""), Some(suffix)) => Shape::Suffix(suffix.to_owned()),
                _ => Shape::General,
            },
            _ => Shape::General,
        }
    }

    /// Whether the pattern is only stars, and so matches every name.
    #[must_use]
    pub fn is_universal(&self) -> bool {
        matches!(
            self.segments.as_slice(),
            [first, last] if first.pieces.is_empty() && last.pieces.is_empty()
        )
    }

    /// The pattern as written.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether every name `other` matches is also matched by `self` (language
    /// inclusion), decided exactly; `None` if the search exceeds its budget.
    #[must_use]
    pub fn includes(&self, other: &Glob) -> Option<bool> {
        Self::union_includes(&[self], other)
    }

    /// Whether every name `other` matches is matched by some glob of `globs`, decided
    /// exactly; `None` if the search exceeds its budget. An empty `globs` includes
    /// nothing, as every valid pattern matches some name.
    #[must_use]
    pub fn union_includes(globs: &[&Glob], other: &Glob) -> Option<bool> {
        if let Some(answer) = Self::inclusion_without_search(globs, other) {
            return Some(answer);
        }
        uncovered_name(globs, other)
            .ok()
            .map(|counterexample| counterexample.is_none())
    }

    /// [`Glob::union_includes`], charging the work to `budget`: `None` once the budget
    /// is spent, so a series of questions (the lints of one policy) takes bounded time
    /// however many there are.
    pub(crate) fn union_includes_within(
        globs: &[&Glob],
        other: &Glob,
        budget: &RelationBudget,
    ) -> Option<bool> {
        if let Some(answer) = Self::inclusion_without_search(globs, other) {
            return Some(answer);
        }
        let limit = budget.take_query()?;
        let (found, work) = uncovered_name_within(globs, other, limit);
        budget.charge(work);
        found.ok().map(|counterexample| counterexample.is_none())
    }

    /// The inclusion questions answered in linear time: a universal or equal glob
    /// includes `other`; a literal `other` is included when a glob matches it; and a
    /// name `other` matches that no glob matches shows it is not included (most pairs
    /// of unrelated patterns end there, before any automaton is built).
    fn inclusion_without_search(globs: &[&Glob], other: &Glob) -> Option<bool> {
        if globs
            .iter()
            .any(|glob| glob.is_universal() || *glob == other)
        {
            return Some(true);
        }
        if let Some(name) = other.literal_name() {
            return Some(globs.iter().any(|glob| glob.is_match(name)));
        }
        let witness = other.witness();
        if !globs.iter().any(|glob| glob.is_match(&witness)) {
            return Some(false);
        }
        None
    }

    /// Whether some name matches both patterns, decided exactly; `None` if the search
    /// exceeds its budget.
    #[must_use]
    pub fn intersects(&self, other: &Glob) -> Option<bool> {
        if self.is_universal() || other.is_universal() || self == other {
            return Some(true);
        }
        if let Some(name) = self.literal_name() {
            return Some(other.is_match(name));
        }
        if let Some(name) = other.literal_name() {
            return Some(self.is_match(name));
        }
        common_name(self, other).ok().map(|common| common.is_some())
    }

    /// The only name the pattern matches, when it has no wildcard.
    fn literal_name(&self) -> Option<&str> {
        match self.segments.as_slice() {
            [only] => only.as_literal(),
            _ => None,
        }
    }

    /// The shortest kind of name the pattern matches: every `*` empty, every `?` a
    /// control character no policy writes.
    fn witness(&self) -> String {
        let mut name = String::new();
        for piece in self.segments.iter().flat_map(|segment| &segment.pieces) {
            match piece {
                Piece::Literal(text) => name.push_str(text),
                Piece::AnyChars(count) => name.extend(std::iter::repeat_n('\u{1}', *count)),
            }
        }
        name
    }

    /// The pattern as automaton tokens, with one star between segments.
    pub(super) fn tokens(&self) -> Vec<Token> {
        let mut tokens = Vec::new();
        for (index, segment) in self.segments.iter().enumerate() {
            if index > 0 {
                tokens.push(Token::AnyRun);
            }
            for piece in &segment.pieces {
                match piece {
                    Piece::Literal(text) => tokens.extend(text.chars().map(Token::Literal)),
                    Piece::AnyChars(count) => {
                        tokens.extend(std::iter::repeat_n(Token::AnyChar, *count));
                    }
                }
            }
        }
        tokens
    }

    /// The literal characters of the pattern.
    pub(super) fn literal_chars(&self) -> impl Iterator<Item = char> + '_ {
        self.segments
            .iter()
            .flat_map(|segment| &segment.pieces)
            .filter_map(|piece| match piece {
                Piece::Literal(text) => Some(text.chars()),
                Piece::AnyChars(_) => None,
            })
            .flatten()
    }
}

// ---------------------------------------------------------------------------------------
// Parsing

/// Splits a pattern into tokens, resolving glob escapes.
fn tokenize(pattern: &str) -> Result<Vec<Token>, GlobError> {
    let mut tokens = Vec::with_capacity(pattern.len());
    let mut characters = pattern.chars();
    while let Some(character) = characters.next() {
        match character {
            '*' => tokens.push(Token::AnyRun),
            '?' => tokens.push(Token::AnyChar),
            '\\' => match characters.next() {
                None => return Err(GlobError::DanglingBackslash),
                Some(escaped @ ('*' | '?' | '\\')) => tokens.push(Token::Literal(escaped)),
                Some(other) => {
                    tokens.push(Token::Literal('\\'));
                    tokens.push(Token::Literal(other));
                }
            },
            literal => tokens.push(Token::Literal(literal)),
        }
    }
    Ok(tokens)
}

/// The wildcards (`*` and `?` not escaped) of `pattern`, counted as written.
pub(crate) fn wildcard_count(pattern: &str) -> usize {
    let mut count = 0;
    let mut characters = pattern.chars();
    while let Some(character) = characters.next() {
        match character {
            '*' | '?' => count += 1,
            // An escape takes the next character as a literal, whatever it is.
            '\\' => {
                characters.next();
            }
            _ => {}
        }
    }
    count
}
