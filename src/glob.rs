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

use std::collections::HashSet;
use std::fmt;

use crate::limits::Limits;

/// The most pairs of state sets a relation query visits before it answers `None`.
const MAX_PRODUCT_STATES: usize = 100_000;

/// The most 64-bit words of state sets a relation query stores before it answers `None`.
const MAX_STORED_WORDS: usize = 1 << 22;

/// The most word operations a relation query spends on transitions before it answers
/// `None`.
const MAX_TRANSITION_WORK: usize = 1 << 26;

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

/// A part of a pattern between two stars.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
struct Segment {
    /// Literal texts and runs of `?`, in order; adjacent pieces are never of one kind.
    pieces: Vec<Piece>,
}

/// A piece of a segment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Piece {
    /// Text that must appear as is.
    Literal(Box<str>),
    /// This many `?`: that many characters, whatever they are.
    AnyChars(usize),
}

/// A pattern token, escapes resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
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
    fn tokens(&self) -> Vec<Token> {
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
    fn literal_chars(&self) -> impl Iterator<Item = char> + '_ {
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

/// Groups tokens into the segments between stars, collapsing consecutive stars.
fn segments_of(tokens: &[Token]) -> Vec<Segment> {
    let mut segments = Vec::new();
    let mut builder = SegmentBuilder::default();
    let mut after_star = false;
    for token in tokens {
        match token {
            Token::AnyRun if after_star => {}
            Token::AnyRun => segments.push(builder.finish()),
            Token::AnyChar => builder.push_any_char(),
            Token::Literal(character) => builder.push_literal(*character),
        }
        after_star = matches!(token, Token::AnyRun);
    }
    segments.push(builder.finish());
    segments
}

/// Accumulates the pieces of one segment.
#[derive(Default)]
struct SegmentBuilder {
    pieces: Vec<Piece>,
    literal: String,
}

impl SegmentBuilder {
    fn push_literal(&mut self, character: char) {
        self.literal.push(character);
    }

    fn push_any_char(&mut self) {
        self.flush_literal();
        if let Some(Piece::AnyChars(count)) = self.pieces.last_mut() {
            *count += 1;
        } else {
            self.pieces.push(Piece::AnyChars(1));
        }
    }

    fn flush_literal(&mut self) {
        if !self.literal.is_empty() {
            let text = std::mem::take(&mut self.literal);
            self.pieces.push(Piece::Literal(text.into_boxed_str()));
        }
    }

    fn finish(&mut self) -> Segment {
        self.flush_literal();
        Segment {
            pieces: std::mem::take(&mut self.pieces),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Matching

/// Matches a pattern with at least one star: anchored first and last segments, middle
/// segments leftmost-first in between.
fn match_starred(first: &Segment, middle: &[Segment], last: &Segment, name: &str) -> bool {
    let bytes = name.as_bytes();
    let Some(mut cursor) = first.match_forward(bytes, 0) else {
        return false;
    };
    let Some(last_start) = last.match_backward(bytes, bytes.len()) else {
        return false;
    };
    if last_start < cursor {
        return false;
    }
    let Some(window) = name.get(..last_start) else {
        return false;
    };
    for segment in middle {
        match segment.find(window, cursor) {
            Some(end) => cursor = end,
            None => return false,
        }
    }
    true
}

impl Segment {
    /// The segment's text, when it has no `?`.
    fn as_literal(&self) -> Option<&str> {
        match self.pieces.as_slice() {
            [] => Some(""),
            [Piece::Literal(text)] => Some(text),
            _ => None,
        }
    }

    /// Where a match that starts at byte `start` of `name` ends, if there is one.
    fn match_forward(&self, name: &[u8], start: usize) -> Option<usize> {
        let mut position = start;
        for piece in &self.pieces {
            position = match piece {
                Piece::Literal(text) => {
                    let end = position.checked_add(text.len())?;
                    if name.get(position..end)? != text.as_bytes() {
                        return None;
                    }
                    end
                }
                Piece::AnyChars(count) => skip_chars_forward(name, position, *count)?,
            };
        }
        Some(position)
    }

    /// Where a match that ends at byte `end` of `name` starts, if there is one.
    fn match_backward(&self, name: &[u8], end: usize) -> Option<usize> {
        let mut position = end;
        for piece in self.pieces.iter().rev() {
            position = match piece {
                Piece::Literal(text) => {
                    let start = position.checked_sub(text.len())?;
                    if name.get(start..position)? != text.as_bytes() {
                        return None;
                    }
                    start
                }
                Piece::AnyChars(count) => skip_chars_backward(name, position, *count)?,
            };
        }
        Some(position)
    }

    /// The end of the leftmost match that starts at or after byte `from` of `window`
    /// and ends within it.
    fn find(&self, window: &str, from: usize) -> Option<usize> {
        let bytes = window.as_bytes();
        let mut candidate = from;
        loop {
            if let Some(Piece::Literal(text)) = self.pieces.first() {
                candidate = find_literal(window, candidate, text)?;
            }
            if let Some(end) = self.match_forward(bytes, candidate) {
                return Some(end);
            }
            candidate += char_width(*bytes.get(candidate)?);
        }
    }
}

/// Literal texts up to this many bytes are searched for byte by byte; longer ones with
/// the standard library's two-way search, whose set-up costs more than a short scan.
const SHORT_LITERAL: usize = 16;

/// The first byte offset at or after `from` where `text` occurs in `window`.
///
/// A short text is searched for by its first byte, then compared whole: at most
/// [`SHORT_LITERAL`] comparisons per byte of `window`, so still linear in the name.
fn find_literal(window: &str, from: usize, text: &str) -> Option<usize> {
    if text.len() > SHORT_LITERAL {
        return Some(from + window.get(from..)?.find(text)?);
    }
    let bytes = window.as_bytes();
    let needle = text.as_bytes();
    let (&first, _) = needle.split_first()?;
    let mut at = from;
    loop {
        let start = at + bytes.get(at..)?.iter().position(|&byte| byte == first)?;
        if bytes.get(start..start + needle.len()) == Some(needle) {
            return Some(start);
        }
        at = start + 1;
    }
}

/// The byte position `count` characters after `position`.
fn skip_chars_forward(name: &[u8], position: usize, count: usize) -> Option<usize> {
    let mut position = position;
    for _ in 0..count {
        position += char_width(*name.get(position)?);
    }
    Some(position)
}

/// The byte position `count` characters before `position`.
fn skip_chars_backward(name: &[u8], position: usize, count: usize) -> Option<usize> {
    let mut position = position;
    for _ in 0..count {
        position = position.checked_sub(1)?;
        while is_continuation_byte(*name.get(position)?) {
            position = position.checked_sub(1)?;
        }
    }
    Some(position)
}

/// The length in bytes of the UTF-8 character whose first byte is `lead`.
fn char_width(lead: u8) -> usize {
    (lead.leading_ones() as usize).max(1)
}

/// Whether `byte` continues a UTF-8 character rather than starting one.
fn is_continuation_byte(byte: u8) -> bool {
    byte & 0b1100_0000 == 0b1000_0000
}

// ---------------------------------------------------------------------------------------
// Relating patterns

/// The search gave up before deciding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct OverBudget;

/// Work shared by a series of relation questions, in units of word operations; each
/// question also costs [`RelationBudget::QUERY_COST`] for building its automata.
#[derive(Debug)]
pub(crate) struct RelationBudget {
    left: std::cell::Cell<usize>,
}

impl RelationBudget {
    /// What a question costs besides its transitions (about the time to build its
    /// automata, in the time units of a word operation).
    pub const QUERY_COST: usize = 4096;

    /// A budget of `work` units.
    pub fn new(work: usize) -> RelationBudget {
        RelationBudget {
            left: std::cell::Cell::new(work),
        }
    }

    /// Whether nothing is left.
    pub fn is_spent(&self) -> bool {
        self.left.get() == 0
    }

    /// Charges a question's fixed cost; the transition work it may spend, or `None`
    /// when the budget is spent.
    fn take_query(&self) -> Option<usize> {
        let left = self.left.get().checked_sub(Self::QUERY_COST)?;
        self.left.set(left);
        Some(left.min(MAX_TRANSITION_WORK))
    }

    fn charge(&self, work: usize) {
        self.left.set(self.left.get().saturating_sub(work));
    }
}

/// A name that `other` matches and no glob of `globs` does, if there is one.
fn uncovered_name(globs: &[&Glob], other: &Glob) -> Result<Option<String>, OverBudget> {
    uncovered_name_within(globs, other, MAX_TRANSITION_WORK).0
}

/// [`uncovered_name`] within `limit` units of transition work; also the work spent.
fn uncovered_name_within(
    globs: &[&Glob],
    other: &Glob,
    limit: usize,
) -> (Result<Option<String>, OverBudget>, usize) {
    let alphabet = Alphabet::of(globs.iter().copied().chain([other]));
    let left = Automaton::new(globs, &alphabet);
    let right = Automaton::new(&[other], &alphabet);
    let mut search = ProductSearch::new(&left, &right, &alphabet, Goal::RightOnly);
    search.limit = limit;
    search.run()
}

/// A name that both patterns match, if there is one.
fn common_name(first: &Glob, second: &Glob) -> Result<Option<String>, OverBudget> {
    let alphabet = Alphabet::of([first, second]);
    let left = Automaton::new(&[first], &alphabet);
    let right = Automaton::new(&[second], &alphabet);
    ProductSearch::new(&left, &right, &alphabet, Goal::Both)
        .run()
        .0
}

/// The symbols automata read: each literal character of the patterns involved, then
/// one symbol standing for every other character.
struct Alphabet {
    /// The literal characters, sorted, without duplicates.
    literals: Vec<char>,
    /// A character that is not among `literals`, to write the last symbol with.
    other: char,
}

impl Alphabet {
    fn of<'a>(globs: impl IntoIterator<Item = &'a Glob>) -> Alphabet {
        let mut literals: Vec<char> = globs.into_iter().flat_map(Glob::literal_chars).collect();
        literals.sort_unstable();
        literals.dedup();
        let other = ('a'..='z')
            .chain('A'..='Z')
            .chain('0'..='9')
            .chain('\u{E000}'..=char::MAX)
            .find(|candidate| literals.binary_search(candidate).is_err())
            .unwrap_or(char::REPLACEMENT_CHARACTER);
        Alphabet { literals, other }
    }

    /// How many symbols there are.
    fn len(&self) -> usize {
        self.literals.len() + 1
    }

    /// The symbol of a literal character.
    fn symbol_of(&self, character: char) -> Option<usize> {
        self.literals.binary_search(&character).ok()
    }

    /// A character that the symbol stands for.
    fn character_of(&self, symbol: usize) -> char {
        self.literals.get(symbol).copied().unwrap_or(self.other)
    }
}

/// A nondeterministic automaton for a union of patterns. Each pattern of `n` tokens
/// owns `n + 1` consecutive states: state `i` expects token `i`, the last accepts.
/// State sets are bit sets of `words` 64-bit words, always closed under the empty
/// moves of stars (a star's state also reaches the next state).
struct Automaton {
    words: usize,
    start: Vec<u64>,
    accepting: Vec<u64>,
    /// The states of stars, which loop on every symbol.
    stars: Vec<u64>,
    /// The states from which only stars remain: every continuation is accepted.
    universal: Vec<u64>,
    /// For each symbol, the states whose token reads it and moves on:
    /// `words` words per symbol.
    advancing: Vec<u64>,
    /// The token of each state, `None` for accepting states.
    state_tokens: Vec<Option<Token>>,
}

impl Automaton {
    fn new(globs: &[&Glob], alphabet: &Alphabet) -> Automaton {
        let token_lists: Vec<Vec<Token>> = globs.iter().map(|glob| glob.tokens()).collect();
        let states: usize = token_lists.iter().map(|tokens| tokens.len() + 1).sum();
        let words = states.div_ceil(64).max(1);
        let mut automaton = Automaton {
            words,
            start: vec![0; words],
            accepting: vec![0; words],
            stars: vec![0; words],
            universal: vec![0; words],
            advancing: vec![0; words * alphabet.len()],
            state_tokens: Vec::with_capacity(states),
        };
        for tokens in &token_lists {
            automaton.add_pattern(tokens, alphabet);
        }
        let mut start = std::mem::take(&mut automaton.start);
        automaton.close(&mut start);
        automaton.start = start;
        automaton
    }

    /// Adds the states of one pattern after those already there.
    fn add_pattern(&mut self, tokens: &[Token], alphabet: &Alphabet) {
        let offset = self.state_tokens.len();
        set_bit(&mut self.start, offset);
        set_bit(&mut self.accepting, offset + tokens.len());
        let mut only_stars_follow = true;
        for (index, token) in tokens.iter().enumerate().rev() {
            let state = offset + index;
            only_stars_follow &= *token == Token::AnyRun;
            if only_stars_follow {
                set_bit(&mut self.universal, state);
            }
            match token {
                Token::AnyRun => set_bit(&mut self.stars, state),
                Token::AnyChar => {
                    for symbol in 0..alphabet.len() {
                        self.set_advancing(symbol, state);
                    }
                }
                Token::Literal(character) => {
                    if let Some(symbol) = alphabet.symbol_of(*character) {
                        self.set_advancing(symbol, state);
                    }
                }
            }
        }
        self.state_tokens.extend(tokens.iter().copied().map(Some));
        self.state_tokens.push(None);
    }

    fn set_advancing(&mut self, symbol: usize, state: usize) {
        let range = symbol * self.words..(symbol + 1) * self.words;
        if let Some(mask) = self.advancing.get_mut(range) {
            set_bit(mask, state);
        }
    }

    /// Adds to `set` the states that stars in it reach without reading anything. One
    /// pass is enough: stars collapse, so a star's next state is never a star.
    fn close(&self, set: &mut [u64]) {
        let mut carry = 0;
        for (word, star) in set.iter_mut().zip(&self.stars) {
            let skipping = *word & star;
            *word |= (skipping << 1) | carry;
            carry = skipping >> 63;
        }
    }

    /// Writes into `next` the closed set reached from `current` by reading `symbol`:
    /// states whose token reads it move on, stars stay, then stars are skipped.
    fn step(&self, current: &[u64], symbol: usize, next: &mut [u64]) {
        let range = symbol * self.words..(symbol + 1) * self.words;
        let Some(advancing) = self.advancing.get(range) else {
            next.fill(0);
            return;
        };
        let mut moving_carry = 0;
        let mut skipping_carry = 0;
        let words = current.iter().zip(advancing).zip(&self.stars);
        for (target, ((word, advance), star)) in next.iter_mut().zip(words) {
            let moving = word & advance;
            let reached = (moving << 1) | moving_carry | (word & star);
            moving_carry = moving >> 63;
            let skipping = reached & star;
            *target = reached | (skipping << 1) | skipping_carry;
            skipping_carry = skipping >> 63;
        }
    }

    /// A text that leads from the first state of `set` to acceptance.
    fn completion(&self, set: &[u64], alphabet: &Alphabet) -> String {
        let Some(state) = first_bit(set) else {
            return String::new();
        };
        let remaining = self.state_tokens.get(state..).unwrap_or_default();
        remaining
            .iter()
            .map_while(|token| *token)
            .filter_map(|token| match token {
                Token::Literal(character) => Some(character),
                Token::AnyChar => Some(alphabet.other),
                Token::AnyRun => None,
            })
            .collect()
    }
}

/// What a product search looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Goal {
    /// A name the right side accepts and the left side does not.
    RightOnly,
    /// A name both sides accept.
    Both,
}

/// What to do with a pair of state sets.
enum Verdict {
    /// The goal is reached: the name read so far, then this text.
    Reached { completion: String },
    /// No continuation can reach the goal.
    Prune,
    /// Look at the successors.
    Expand,
}

/// A breadth-first search of the pairs of state sets reachable by reading the same
/// name on both sides.
struct ProductSearch<'a> {
    left: &'a Automaton,
    right: &'a Automaton,
    alphabet: &'a Alphabet,
    goal: Goal,
    /// Every pair found, each `left.words + right.words` words, in discovery order.
    pairs: Vec<u64>,
    /// For each pair but the first, the pair it was reached from and the symbol read.
    parents: Vec<Option<(usize, usize)>>,
    seen: HashSet<Box<[u64]>>,
    work: usize,
    /// The most transition work allowed.
    limit: usize,
}

impl<'a> ProductSearch<'a> {
    fn new(
        left: &'a Automaton,
        right: &'a Automaton,
        alphabet: &'a Alphabet,
        goal: Goal,
    ) -> ProductSearch<'a> {
        ProductSearch {
            left,
            right,
            alphabet,
            goal,
            pairs: Vec::new(),
            parents: Vec::new(),
            seen: HashSet::new(),
            work: 0,
            limit: MAX_TRANSITION_WORK,
        }
    }

    fn width(&self) -> usize {
        self.left.words + self.right.words
    }

    /// A name that reaches the goal, `None` if none does; and the work spent.
    fn run(mut self) -> (Result<Option<String>, OverBudget>, usize) {
        let found = self.search();
        (found, self.work)
    }

    fn search(&mut self) -> Result<Option<String>, OverBudget> {
        let mut start = self.left.start.clone();
        start.extend_from_slice(&self.right.start);
        self.discover(&start, None)?;
        let mut current = Vec::with_capacity(self.width());
        let mut next = vec![0; self.width()];
        let mut index = 0;
        while let Some(pair) = self.pair(index) {
            current.clear();
            current.extend_from_slice(pair);
            match self.verdict(&current) {
                Verdict::Reached { completion } => {
                    return Ok(Some(self.name_to(index) + &completion));
                }
                Verdict::Prune => {}
                Verdict::Expand => self.expand(index, &current, &mut next)?,
            }
            index += 1;
        }
        Ok(None)
    }

    /// Records the successors of the pair at `index`.
    fn expand(
        &mut self,
        index: usize,
        current: &[u64],
        next: &mut [u64],
    ) -> Result<(), OverBudget> {
        let split = self.left.words;
        let Some((current_left, current_right)) = current.split_at_checked(split) else {
            return Err(OverBudget);
        };
        for symbol in 0..self.alphabet.len() {
            self.work += current.len();
            if self.work > self.limit {
                return Err(OverBudget);
            }
            let Some((next_left, next_right)) = next.split_at_mut_checked(split) else {
                return Err(OverBudget);
            };
            self.left.step(current_left, symbol, next_left);
            self.right.step(current_right, symbol, next_right);
            if !self.seen.contains(&*next) {
                self.discover(next, Some((index, symbol)))?;
            }
        }
        Ok(())
    }

    /// Records a new pair.
    fn discover(&mut self, pair: &[u64], parent: Option<(usize, usize)>) -> Result<(), OverBudget> {
        if self.parents.len() >= MAX_PRODUCT_STATES
            || self.pairs.len() + pair.len() > MAX_STORED_WORDS
        {
            return Err(OverBudget);
        }
        self.pairs.extend_from_slice(pair);
        self.parents.push(parent);
        self.seen.insert(pair.into());
        Ok(())
    }

    /// The pair found `index`-th.
    fn pair(&self, index: usize) -> Option<&[u64]> {
        let width = self.width();
        self.pairs.get(index * width..(index + 1) * width)
    }

    /// The name read to reach the pair found `index`-th.
    fn name_to(&self, index: usize) -> String {
        let mut symbols = Vec::new();
        let mut current = index;
        while let Some(Some((parent, symbol))) = self.parents.get(current) {
            symbols.push(self.alphabet.character_of(*symbol));
            current = *parent;
        }
        symbols.iter().rev().collect()
    }

    fn verdict(&self, pair: &[u64]) -> Verdict {
        let (left, right) = pair.split_at(self.left.words.min(pair.len()));
        match self.goal {
            Goal::RightOnly => self.right_only_verdict(left, right),
            Goal::Both => self.both_verdict(left, right),
        }
    }

    fn right_only_verdict(&self, left: &[u64], right: &[u64]) -> Verdict {
        if is_empty(right) || overlaps(left, &self.left.universal) {
            Verdict::Prune
        } else if overlaps(right, &self.right.accepting) && !overlaps(left, &self.left.accepting) {
            Verdict::Reached {
                completion: String::new(),
            }
        } else if is_empty(left) {
            Verdict::Reached {
                completion: self.right.completion(right, self.alphabet),
            }
        } else {
            Verdict::Expand
        }
    }

    fn both_verdict(&self, left: &[u64], right: &[u64]) -> Verdict {
        if is_empty(left) || is_empty(right) {
            Verdict::Prune
        } else if overlaps(left, &self.left.accepting) && overlaps(right, &self.right.accepting) {
            Verdict::Reached {
                completion: String::new(),
            }
        } else if overlaps(left, &self.left.universal) {
            Verdict::Reached {
                completion: self.right.completion(right, self.alphabet),
            }
        } else if overlaps(right, &self.right.universal) {
            Verdict::Reached {
                completion: self.left.completion(left, self.alphabet),
            }
        } else {
            Verdict::Expand
        }
    }
}

fn set_bit(set: &mut [u64], index: usize) {
    if let Some(word) = set.get_mut(index / 64) {
        *word |= 1 << (index % 64);
    }
}

fn first_bit(set: &[u64]) -> Option<usize> {
    set.iter()
        .position(|word| *word != 0)
        .and_then(|index| Some(index * 64 + set.get(index)?.trailing_zeros() as usize))
}

fn is_empty(set: &[u64]) -> bool {
    set.iter().all(|word| *word == 0)
}

fn overlaps(set: &[u64], other: &[u64]) -> bool {
    set.iter().zip(other).any(|(word, other)| word & other != 0)
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::{BTreeSet, HashSet};
    use std::sync::OnceLock;

    fn glob(pattern: &str) -> Glob {
        Glob::parse(pattern).unwrap_or_else(|error| panic!("{pattern:?}: {error}"))
    }

    fn assert_matches(pattern: &str, matching: &[&str], not_matching: &[&str]) {
        let compiled = glob(pattern);
        for name in matching {
            assert!(compiled.is_match(name), "{pattern:?} should match {name:?}");
        }
        for name in not_matching {
            assert!(
                !compiled.is_match(name),
                "{pattern:?} should not match {name:?}"
            );
        }
    }

    // --- matching ------------------------------------------------------------------

    #[test]
    fn literal_pattern_matches_exactly_that_name() {
        assert_matches(
            "exact",
            &["exact"],
            &["", "exac", "exactx", "xexact", "Exact", "EXACT"],
        );
    }

    #[test]
    fn question_mark_matches_one_character() {
        assert_matches(
            "q?x",
            &["qax", "q.x", "q/x", "q*x", "qéx", "q日x", "q🦀x"],
            &["qx", "qabx", "q", "qax."],
        );
    }

    #[test]
    fn question_mark_matches_one_multibyte_character() {
        assert_matches(
            "?",
            &["é", "日", "🦀", "a"],
            &["", "ab", "日本", "e\u{301}"],
        );
        assert_matches("??", &["日本", "é🦀", "ab"], &["日", "日本語"]);
        assert_matches("*?", &["日本", "🦀"], &[""]);
        assert_matches("?*", &["日本", "🦀"], &[""]);
        assert_matches("*日?", &["x日本", "日本", "日🦀"], &["日", "x日", "日本語"]);
        assert_matches(
            "a*?b?*c",
            &["a日b本c", "aéb🦀xc", "a日日b日c"],
            &["ab本c", "a日bc"],
        );
    }

    #[test]
    fn escaped_star_is_a_literal_star() {
        assert_matches(
            "lit\\*star",
            &["lit*star"],
            &["litXstar", "litstar", "lit**star"],
        );
    }

    #[test]
    fn escaped_question_mark_and_backslash_are_literals() {
        assert_matches("what\\?", &["what?"], &["whatX", "what"]);
        assert_matches("a\\\\b", &["a\\b"], &["a\\\\b", "ab"]);
        assert_matches("\\\\*", &["\\", "\\anything"], &["x\\"]);
        assert_matches("\\\\\\*", &["\\*"], &["\\x", "\\"]);
    }

    #[test]
    fn backslash_before_another_character_is_a_literal_backslash() {
        assert_matches("a\\b", &["a\\b"], &["ab", "a\\\\b"]);
        assert_matches("\\x*", &["\\x", "\\xyz"], &["x", "xyz"]);
        assert_matches("日\\本", &["日\\本"], &["日本"]);
    }

    #[test]
    fn stars_between_segments() {
        assert_matches(
            "pre*mid*suf",
            &[
                "premidsuf",
                "pre-a-mid-b-suf",
                "premidmidsuf",
                "presufmidsuf",
                "premidsufsuf",
            ],
            &[
                "presuf",
                "premidsufx",
                "xpremidsuf",
                "premisuf",
                "pre",
                "presufmid",
            ],
        );
    }

    #[test]
    fn star_crosses_slashes_and_dots() {
        assert_matches(
            "file:///data/*",
            &[
                "file:///data/",
                "file:///data/a",
                "file:///data/a/b/c.txt",
                "file:///data/../x",
            ],
            &[
                "file:///dat",
                "file:///data",
                "file:///other/a",
                "File:///data/a",
            ],
        );
        assert_matches(
            "fs.*",
            &["fs.", "fs.read", "fs.read.all"],
            &["fs", "fsread", "xfs.read"],
        );
        assert_matches("*.json", &[".json", "a/b.json"], &["json", "a.jsonx"]);
    }

    #[test]
    fn stars_match_the_empty_run() {
        assert_matches("*", &["", "a", "日本", "*?\\"], &[]);
        assert_matches("**", &["", "anything"], &[]);
        assert_matches("a*", &["a"], &[""]);
        assert_matches("*a*", &["a", "xax"], &["", "x"]);
    }

    #[test]
    fn anchored_segments_do_not_overlap() {
        assert_matches("a*a", &["aa", "aba"], &["a", ""]);
        assert_matches("ab*ba", &["abba", "abxba"], &["aba", "ab", "ba"]);
        assert_matches("a*b*a", &["aba", "abba"], &["ab", "aa", "a"]);
    }

    #[test]
    fn middle_segments_stay_before_the_last_segment() {
        assert_matches("*ab*b", &["abb", "xabyb"], &["ab", "abx", "b"]);
        assert_matches("x*?a?*y", &["x1a2y", "xxaay"], &["xay", "x1ay", "xa2y"]);
    }

    #[test]
    fn consecutive_stars_collapse() {
        assert_matches("a***b", &["ab", "axxb"], &["a", "b"]);
        assert_eq!(glob("a***b").segments, glob("a*b").segments);
    }

    #[test]
    fn matching_is_case_sensitive() {
        assert_matches(
            "GitHub.*",
            &["GitHub.list"],
            &["github.list", "GITHUB.list"],
        );
    }

    #[test]
    fn adversarial_patterns_match_quickly() {
        let many_a = "a".repeat(10_000);
        let pattern = glob("*a*a*a*a*a*a*a*a*b");
        let started = std::time::Instant::now();
        assert!(!pattern.is_match(&many_a));
        assert!(pattern.is_match(&(many_a.clone() + "b")));
        let with_trailing_star = glob("*a*a*a*a*a*a*a*a*b*");
        assert!(!with_trailing_star.is_match(&many_a));
        let question_marks = glob("*a?a?a?a?a?a?a?a?b*");
        assert!(!question_marks.is_match(&many_a));
        eprintln!("adversarial matching took {:?}", started.elapsed());
    }

    // --- shapes, limits, errors ----------------------------------------------------

    #[test]
    fn shapes() {
        let cases = [
            ("exact", Shape::Literal("exact".into())),
            ("lit\\*star", Shape::Literal("lit*star".into())),
            ("a\\b", Shape::Literal("a\\b".into())),
            ("fs.*", Shape::Prefix("fs.".into())),
            ("a**", Shape::Prefix("a".into())),
            ("pre\\**", Shape::Prefix("pre*".into())),
            ("*.json", Shape::Suffix(".json".into())),
            ("**x", Shape::Suffix("x".into())),
            ("*", Shape::Universal),
            ("**", Shape::Universal),
            ("***", Shape::Universal),
            ("a*b", Shape::General),
            ("a?", Shape::General),
            ("?", Shape::General),
            ("?*", Shape::General),
            ("*?", Shape::General),
            ("*a*", Shape::General),
            ("a*b*", Shape::General),
        ];
        for (pattern, shape) in cases {
            assert_eq!(glob(pattern).shape(), shape, "{pattern:?}");
            assert_eq!(
                glob(pattern).is_universal(),
                shape == Shape::Universal,
                "{pattern:?}"
            );
        }
    }

    #[test]
    fn invalid_patterns() {
        let cases = [
            ("", GlobError::Empty),
            ("\\", GlobError::DanglingBackslash),
            ("a\\", GlobError::DanglingBackslash),
            ("a\\\\\\", GlobError::DanglingBackslash),
            ("\\x\\", GlobError::DanglingBackslash),
            ("*\\", GlobError::DanglingBackslash),
        ];
        for (pattern, error) in cases {
            assert_eq!(Glob::parse(pattern), Err(error), "{pattern:?}");
        }
        for valid in ["\\\\", "a\\\\", "\\*", "\\?", "\\x", "\\\\\\\\"] {
            assert!(Glob::parse(valid).is_ok(), "{valid:?}");
        }
    }

    #[test]
    fn length_limit_counts_characters() {
        assert!(Glob::parse(&"a".repeat(Glob::MAX_LENGTH)).is_ok());
        assert!(Glob::parse(&"é".repeat(Glob::MAX_LENGTH)).is_ok());
        assert_eq!(
            Glob::parse(&"a".repeat(Glob::MAX_LENGTH + 1)),
            Err(GlobError::TooLong { limit: 1024 })
        );
        assert_eq!(
            Glob::parse(&"a\\".repeat(Glob::MAX_LENGTH)),
            Err(GlobError::TooLong { limit: 1024 })
        );
    }

    #[test]
    fn wildcard_limit_counts_stars_and_question_marks_as_written() {
        assert!(Glob::parse(&"*?".repeat(32)).is_ok());
        assert!(Glob::parse(&("x".to_owned() + &"\\*".repeat(100))).is_ok());
        assert_eq!(
            Glob::parse(&"*".repeat(65)),
            Err(GlobError::TooManyWildcards { limit: 64 })
        );
        assert_eq!(
            Glob::parse(&"?".repeat(65)),
            Err(GlobError::TooManyWildcards { limit: 64 })
        );
        assert_eq!(
            Glob::parse(&("?".repeat(65) + "\\")),
            Err(GlobError::DanglingBackslash)
        );
    }

    #[test]
    fn wildcard_count_agrees_with_the_tokens() {
        for pattern in [
            "a", "*", "a*?b", "\\*\\?", "\\\\*", "\\x?", "é?\\é*", "\\\\\\*",
        ] {
            let tokens = tokenize(pattern).unwrap_or_default();
            let wildcards = tokens
                .iter()
                .filter(|token| !matches!(token, Token::Literal(_)))
                .count();
            assert_eq!(wildcard_count(pattern), wildcards, "{pattern:?}");
        }
        assert_eq!(wildcard_count("\\\\*"), 1);
        assert_eq!(wildcard_count("\\\\\\*"), 0);
    }

    #[test]
    fn literal_search_finds_the_leftmost_occurrence() {
        let long = "x".repeat(SHORT_LITERAL) + "y";
        let haystack = format!("aab ab é{long} ab");
        for needle in ["ab", "b", "é", "é", "ab ", long.as_str(), "zz", "aab ab é"] {
            for from in 0..=haystack.len() {
                if !haystack.is_char_boundary(from) {
                    continue;
                }
                let expected = haystack[from..].find(needle).map(|at| at + from);
                assert_eq!(
                    find_literal(&haystack, from, needle),
                    expected,
                    "{needle:?} {from}"
                );
            }
        }
    }

    #[test]
    fn limits_can_be_raised_and_lowered() {
        let lower = Limits {
            pattern_chars: 3,
            pattern_wildcards: 1,
            ..Limits::DEFAULT
        };
        assert_eq!(
            Glob::parse_within("abcd", &lower),
            Err(GlobError::TooLong { limit: 3 })
        );
        assert_eq!(
            Glob::parse_within("a**", &lower),
            Err(GlobError::TooManyWildcards { limit: 1 })
        );
        let higher = Limits {
            pattern_chars: 5000,
            pattern_wildcards: 200,
            ..Limits::DEFAULT
        };
        let long = "a*".repeat(150);
        assert!(Glob::parse(&long).is_err());
        let glob = Glob::parse_within(&long, &higher).unwrap();
        assert!(glob.is_match(&"a".repeat(150)));
    }

    #[test]
    fn error_messages() {
        assert_eq!(GlobError::Empty.to_string(), "the pattern is empty");
        assert_eq!(
            GlobError::DanglingBackslash.to_string(),
            "the pattern ends in a dangling `\\`"
        );
        assert_eq!(
            GlobError::TooLong { limit: 1024 }.to_string(),
            "the pattern is longer than 1024 characters"
        );
        assert_eq!(
            GlobError::TooManyWildcards { limit: 64 }.to_string(),
            "the pattern has more than 64 wildcards (`*` and `?`)"
        );
    }

    #[test]
    fn source_text_and_equality() {
        assert_eq!(glob("lit\\*star").as_str(), "lit\\*star");
        assert_eq!(glob("a**").as_str(), "a**");
        assert_eq!(glob("fs.*"), glob("fs.*"));
        assert_ne!(glob("a**"), glob("a*"));
        let set: HashSet<Glob> = [glob("a*"), glob("a*"), glob("b")].into_iter().collect();
        assert_eq!(set.len(), 2);
    }

    // --- relations -----------------------------------------------------------------

    #[test]
    fn inclusion_examples() {
        let cases = [
            ("*", "fs.*", true),
            ("fs.*", "*", false),
            ("fs.*", "fs.read_*", true),
            ("fs.read_*", "fs.*", false),
            ("fs.*", "fs.read", true),
            ("fs.*", "fs", false),
            ("a*", "a?", true),
            ("a?", "a*", false),
            ("?*", "*?", true),
            ("*?", "?*", true),
            ("*a*", "a*", true),
            ("*a*", "*a?*b*", true),
            ("*ab*", "*a*b*", false),
            ("a*b", "a*b*b", true),
            ("*", "**", true),
            ("**", "*", true),
            ("a**b", "a*b", true),
            ("??*", "?*?", true),
            ("lit\\*star", "lit*star", false),
            ("lit*star", "lit\\*star", true),
            ("*.json", "*/*.json", true),
            ("?", "日", true),
            ("日*", "日本*", true),
            ("日*", "?本*", false),
        ];
        for (includer, included, expected) in cases {
            assert_eq!(
                glob(includer).includes(&glob(included)),
                Some(expected),
                "{includer:?} includes {included:?}"
            );
        }
    }

    #[test]
    fn union_inclusion_examples() {
        let cases: [(&[&str], &str, bool); 8] = [
            (&["a*", "b*"], "?*", false),
            (&["a*", "b*", "*"], "?*", true),
            (&["a*", "?", "[*"], "a", true),
            (&["*a", "*b", "*c"], "*?", false),
            (&["", "a*"], "ab", true),
            (&["??*", "?"], "?*", true),
            (&["??*", ""], "*", false),
            (&[], "x", false),
        ];
        for (includers, included, expected) in cases {
            let globs: Vec<Glob> = includers
                .iter()
                .filter(|text| !text.is_empty())
                .map(|text| glob(text))
                .collect();
            let references: Vec<&Glob> = globs.iter().collect();
            assert_eq!(
                Glob::union_includes(&references, &glob(included)),
                Some(expected),
                "{includers:?} include {included:?}"
            );
        }
        let empty: [&Glob; 0] = [];
        assert_eq!(Glob::union_includes(&empty, &glob("*")), Some(false));
        assert_eq!(
            Glob::union_includes(&[&glob("*a"), &glob("*b"), &glob("*?")], &glob("*?")),
            Some(true)
        );
    }

    #[test]
    fn intersection_examples() {
        let cases = [
            ("a*", "*b", true),
            ("a*", "b*", false),
            ("aaa*", "*bbb", true),
            ("a*b", "b*a", false),
            ("?", "日", true),
            ("??", "日", false),
            ("*x*", "*", true),
            ("*a?", "*b?", false),
            ("*a*", "*b*", true),
            ("lit\\*star", "lit?star", true),
            ("lit\\*star", "litXstar", false),
        ];
        for (first, second, expected) in cases {
            assert_eq!(
                glob(first).intersects(&glob(second)),
                Some(expected),
                "{first:?} and {second:?}"
            );
            assert_eq!(
                glob(second).intersects(&glob(first)),
                Some(expected),
                "{second:?} and {first:?}"
            );
        }
    }

    #[test]
    fn witnesses_are_real() {
        let witness = uncovered_name(&[&glob("fs.read_*")], &glob("fs.*"))
            .unwrap()
            .unwrap();
        assert!(glob("fs.*").is_match(&witness) && !glob("fs.read_*").is_match(&witness));
        let common = common_name(&glob("aaa*"), &glob("*bbb")).unwrap().unwrap();
        assert_eq!(common, "aaabbb");
    }

    #[test]
    fn relations_give_up_past_the_budget() {
        let twenty = "?".repeat(20);
        let a_far_from_the_end = glob(&format!("*a{twenty}"));
        let b_far_from_the_end = glob(&format!("*b{twenty}"));
        let started = std::time::Instant::now();
        assert_eq!(a_far_from_the_end.intersects(&b_far_from_the_end), None);
        assert_eq!(
            glob(&format!("*b{twenty}*")).includes(&glob(&format!("*xb{twenty}"))),
            None
        );
        eprintln!("searches over budget took {:?}", started.elapsed());
        // A name one matches and the other does not settles it without a search.
        assert_eq!(
            glob(&format!("*b{twenty}*")).includes(&glob(&format!("*a{twenty}"))),
            Some(false)
        );
        // Small exponential cases are still decided.
        assert_eq!(glob("*a???").intersects(&glob("*b???")), Some(false));
        assert_eq!(glob("*a???").includes(&glob("*a??a?")), Some(false));
    }

    #[test]
    fn long_patterns_are_related_quickly() {
        let long_literal: String = (0..500)
            .map(|index| char::from(b'a' + (index % 26) as u8))
            .collect();
        let first = glob(&format!("{long_literal}*{long_literal}"));
        let second = glob(&format!("{long_literal}?*?{long_literal}"));
        let letters: String = ('a'..='z').collect();
        let scattered: String = letters
            .chars()
            .map(|letter| format!("*{letter}"))
            .collect::<String>()
            + "*";
        let spaced: String = letters
            .chars()
            .map(|letter| format!("?{letter}*"))
            .collect();
        let started = std::time::Instant::now();
        assert_eq!(first.includes(&second), Some(true));
        assert_eq!(second.includes(&first), Some(false));
        assert_eq!(first.intersects(&second), Some(true));
        assert_eq!(glob(&scattered).includes(&glob(&spaced)), Some(true));
        assert_eq!(glob(&spaced).includes(&glob(&scattered)), Some(false));
        assert_eq!(glob(&spaced).intersects(&glob(&scattered)), Some(true));
        eprintln!("long pattern relations took {:?}", started.elapsed());
    }

    // --- reference implementations -------------------------------------------------

    /// A token of the reference matcher, written independently of the module's parser.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Reference {
        Char(char),
        One,
        Many,
    }

    /// The reference reading of a pattern; `None` when it is invalid.
    fn reference_tokens(pattern: &str) -> Option<Vec<Reference>> {
        let characters: Vec<char> = pattern.chars().collect();
        if characters.is_empty() {
            return None;
        }
        let mut tokens = Vec::new();
        let mut index = 0;
        while index < characters.len() {
            match characters[index] {
                '*' => tokens.push(Reference::Many),
                '?' => tokens.push(Reference::One),
                '\\' => {
                    let next = *characters.get(index + 1)?;
                    if matches!(next, '*' | '?' | '\\') {
                        tokens.push(Reference::Char(next));
                    } else {
                        tokens.push(Reference::Char('\\'));
                        tokens.push(Reference::Char(next));
                    }
                    index += 1;
                }
                other => tokens.push(Reference::Char(other)),
            }
            index += 1;
        }
        Some(tokens)
    }

    /// Backtracking reference matcher.
    fn reference_match(tokens: &[Reference], name: &[char]) -> bool {
        match tokens.split_first() {
            None => name.is_empty(),
            Some((Reference::Many, rest)) => {
                (0..=name.len()).any(|skip| reference_match(rest, &name[skip..]))
            }
            Some((Reference::One, rest)) => !name.is_empty() && reference_match(rest, &name[1..]),
            Some((Reference::Char(expected), rest)) => {
                name.first() == Some(expected) && reference_match(rest, &name[1..])
            }
        }
    }

    fn reference_matches(pattern: &str, name: &str) -> bool {
        let name: Vec<char> = name.chars().collect();
        reference_tokens(pattern).is_some_and(|tokens| reference_match(&tokens, &name))
    }

    /// States of the reference automaton of a union: (pattern, position) pairs.
    type ReferenceSet = BTreeSet<(usize, usize)>;

    fn reference_close(patterns: &[Vec<Reference>], mut set: ReferenceSet) -> ReferenceSet {
        loop {
            let skipped: Vec<(usize, usize)> = set
                .iter()
                .filter(|(pattern, position)| {
                    patterns[*pattern].get(*position) == Some(&Reference::Many)
                })
                .map(|(pattern, position)| (*pattern, position + 1))
                .filter(|state| !set.contains(state))
                .collect();
            if skipped.is_empty() {
                return set;
            }
            set.extend(skipped);
        }
    }

    fn reference_step(
        patterns: &[Vec<Reference>],
        set: &ReferenceSet,
        symbol: Option<char>,
    ) -> ReferenceSet {
        let mut next = ReferenceSet::new();
        for &(pattern, position) in set {
            match patterns[pattern].get(position) {
                Some(Reference::Many) => {
                    next.insert((pattern, position));
                }
                Some(Reference::One) => {
                    next.insert((pattern, position + 1));
                }
                Some(Reference::Char(expected)) if Some(*expected) == symbol => {
                    next.insert((pattern, position + 1));
                }
                _ => {}
            }
        }
        reference_close(patterns, next)
    }

    fn reference_accepts(patterns: &[Vec<Reference>], set: &ReferenceSet) -> bool {
        set.iter()
            .any(|(pattern, position)| *position == patterns[*pattern].len())
    }

    /// Whether some name brings the two reference automata into a pair of sets for
    /// which `goal(left accepts, right accepts)` holds: a plain, unpruned subset
    /// construction over the literal characters plus `None` for any other character.
    fn reference_search(
        left: &[Vec<Reference>],
        right: &[Vec<Reference>],
        goal: fn(bool, bool) -> bool,
    ) -> bool {
        let mut symbols: BTreeSet<Option<char>> = [None].into_iter().collect();
        for token in left.iter().chain(right).flatten() {
            if let Reference::Char(character) = token {
                symbols.insert(Some(*character));
            }
        }
        let start = |patterns: &[Vec<Reference>]| {
            reference_close(
                patterns,
                (0..patterns.len()).map(|pattern| (pattern, 0)).collect(),
            )
        };
        let mut pending = vec![(start(left), start(right))];
        let mut seen: HashSet<(ReferenceSet, ReferenceSet)> = pending.iter().cloned().collect();
        while let Some((left_set, right_set)) = pending.pop() {
            if goal(
                reference_accepts(left, &left_set),
                reference_accepts(right, &right_set),
            ) {
                return true;
            }
            for symbol in &symbols {
                let next = (
                    reference_step(left, &left_set, *symbol),
                    reference_step(right, &right_set, *symbol),
                );
                if seen.insert(next.clone()) {
                    pending.push(next);
                }
            }
        }
        false
    }

    fn reference_union_includes(includers: &[&str], included: &str) -> bool {
        let left: Vec<Vec<Reference>> = includers
            .iter()
            .filter_map(|pattern| reference_tokens(pattern))
            .collect();
        let right: Vec<Vec<Reference>> = reference_tokens(included).into_iter().collect();
        !reference_search(&left, &right, |left, right| right && !left)
    }

    fn reference_intersects(first: &str, second: &str) -> bool {
        let left: Vec<Vec<Reference>> = reference_tokens(first).into_iter().collect();
        let right: Vec<Vec<Reference>> = reference_tokens(second).into_iter().collect();
        reference_search(&left, &right, |left, right| left && right)
    }

    /// Every name of at most 5 characters over the patterns' literal characters plus
    /// `x`, which stands for every other character.
    fn short_names() -> &'static [String] {
        static NAMES: OnceLock<Vec<String>> = OnceLock::new();
        NAMES.get_or_init(|| {
            let alphabet = ['a', 'b', '*', '?', '\\', 'x'];
            let mut names = vec![String::new()];
            let mut previous = vec![String::new()];
            for _ in 0..5 {
                let longer: Vec<String> = previous
                    .iter()
                    .flat_map(|name| {
                        alphabet
                            .iter()
                            .map(move |character| format!("{name}{character}"))
                    })
                    .collect();
                names.extend(longer.iter().cloned());
                previous = longer;
            }
            names
        })
    }

    #[test]
    fn short_names_cover_all_names_up_to_five_characters() {
        assert_eq!(short_names().len(), 1 + 6 + 36 + 216 + 1296 + 7776);
    }

    #[test]
    fn references_agree_with_examples() {
        assert!(reference_matches("lit\\*star", "lit*star"));
        assert!(!reference_matches("lit\\*star", "litXstar"));
        assert!(reference_union_includes(&["a*", "b*", "*"], "?*"));
        assert!(!reference_union_includes(&["a*", "b*"], "?*"));
        assert!(reference_intersects("aaa*", "*bbb"));
        assert!(!reference_intersects("*a?", "*b?"));
    }

    // --- properties ----------------------------------------------------------------

    /// Patterns over a small alphabet, valid or not.
    fn any_pattern() -> impl Strategy<Value = String> {
        "[ab.*?\\\\]{0,8}"
    }

    /// Names over the same alphabet plus a two-byte character.
    fn any_name() -> impl Strategy<Value = String> {
        "[ab.*?\\\\é]{0,10}"
    }

    /// Valid patterns of at most 4 characters as written.
    fn small_pattern() -> impl Strategy<Value = String> {
        "[ab*?\\\\]{1,4}".prop_filter("valid pattern", |pattern| Glob::parse(pattern).is_ok())
    }

    /// A name the pattern matches under the reference reading: each `*` replaced by
    /// one of `fills`, each `?` by one of `singles`.
    fn instantiate(pattern: &str, fills: &[String], singles: &[char]) -> Option<String> {
        let tokens = reference_tokens(pattern)?;
        let mut name = String::new();
        for (index, token) in tokens.iter().enumerate() {
            match token {
                Reference::Char(character) => name.push(*character),
                Reference::One => name.push(singles[index % singles.len()]),
                Reference::Many => name.push_str(&fills[index % fills.len()]),
            }
        }
        Some(name)
    }

    proptest! {
        #[test]
        fn parse_agrees_with_reference(pattern in any_pattern()) {
            prop_assert_eq!(Glob::parse(&pattern).is_ok(), reference_tokens(&pattern).is_some());
        }

        #[test]
        fn is_match_agrees_with_reference(pattern in any_pattern(), name in any_name()) {
            if let Ok(compiled) = Glob::parse(&pattern) {
                prop_assert_eq!(compiled.is_match(&name), reference_matches(&pattern, &name));
            }
        }

        #[test]
        fn is_match_agrees_with_reference_on_likely_matches(
            pattern in any_pattern(),
            fills in prop::collection::vec(any_name(), 1..4),
            singles in prop::collection::vec(prop::sample::select(vec!['a', 'b', '.', '*', 'é', '日', '🦀']), 1..4),
            cut in 0usize..3,
        ) {
            if let (Ok(compiled), Some(name)) = (Glob::parse(&pattern), instantiate(&pattern, &fills, &singles)) {
                prop_assert!(compiled.is_match(&name), "{:?} should match {:?}", pattern, name);
                // Dropping the last character or adding one often breaks the match.
                let mut changed = name.clone();
                if cut == 0 { changed.pop(); } else if cut == 1 { changed.push('a'); } else { changed.insert(0, 'b'); }
                prop_assert_eq!(compiled.is_match(&changed), reference_matches(&pattern, &changed));
            }
        }

        #[test]
        fn shape_agrees_with_is_match(pattern in any_pattern(), name in any_name()) {
            if let Ok(compiled) = Glob::parse(&pattern) {
                let expected = match compiled.shape() {
                    Shape::Literal(text) => Some(name == text),
                    Shape::Prefix(text) => Some(name.starts_with(&text)),
                    Shape::Suffix(text) => Some(name.ends_with(&text)),
                    Shape::Universal => Some(true),
                    Shape::General => None,
                };
                if let Some(expected) = expected {
                    prop_assert_eq!(compiled.is_match(&name), expected, "{:?} {:?}", pattern, name);
                }
            }
        }

        #[test]
        fn relations_agree_with_brute_force_and_reference(
            first in small_pattern(),
            second in small_pattern(),
            others in prop::collection::vec(small_pattern(), 0..3),
        ) {
            check_relations(&first, &second, &others)?;
        }
    }

    /// Checks `includes`, `union_includes` and `intersects` on small patterns (at most 4
    /// characters as written, over `a b * ? \`; unions of 1 to 3 of them):
    /// - brute force over every name of at most 5 characters (over the literal
    ///   characters plus `x`, which stands for any other character) proves one direction
    ///   only: a short counterexample or common name it finds forces the answer, but it
    ///   cannot prove inclusion or disjointness, as the evidence against them may be
    ///   longer (`aaa*` and `*bbb` share only names of 6 characters or more). Small
    ///   patterns make such cases rare (in 4000 generated cases brute force never
    ///   missed one); the other direction is proven by the next two checks;
    /// - the names the searches give as evidence, checked with the reference matcher,
    ///   prove every "not included" and "intersects" answer;
    /// - an exact reference subset construction, written independently (sets of
    ///   positions, no bit sets, no pruning, no shortcuts), must agree with every answer.
    fn check_relations(first: &str, second: &str, others: &[String]) -> Result<(), TestCaseError> {
        let first_glob = glob(first);
        let second_glob = glob(second);
        let mut union_texts: Vec<&str> = vec![first];
        union_texts.extend(others.iter().map(String::as_str));
        let union_globs: Vec<Glob> = union_texts.iter().map(|text| glob(text)).collect();
        let union: Vec<&Glob> = union_globs.iter().collect();

        let names = short_names();
        let matches = |pattern: &str| -> Vec<bool> {
            names
                .iter()
                .map(|name| reference_matches(pattern, name))
                .collect()
        };
        let first_matches = matches(first);
        let second_matches = matches(second);
        let union_matches: Vec<bool> = union_texts
            .iter()
            .map(|text| matches(text))
            .fold(vec![false; names.len()], |all, one| {
                all.iter().zip(one).map(|(a, b)| *a || b).collect()
            });

        let short_counterexample = second_matches
            .iter()
            .zip(&first_matches)
            .any(|(second, first)| *second && !first);
        let short_union_counterexample = second_matches
            .iter()
            .zip(&union_matches)
            .any(|(second, union)| *second && !union);
        let short_common_name = second_matches
            .iter()
            .zip(&first_matches)
            .any(|(second, first)| *second && *first);

        let includes = first_glob.includes(&second_glob);
        let union_includes = Glob::union_includes(&union, &second_glob);
        let intersects = first_glob.intersects(&second_glob);

        prop_assert_eq!(
            includes,
            Some(reference_union_includes(&[first], second)),
            "{:?} includes {:?}",
            first,
            second
        );
        prop_assert_eq!(
            union_includes,
            Some(reference_union_includes(&union_texts, second)),
            "{:?} include {:?}",
            union_texts,
            second
        );
        prop_assert_eq!(
            intersects,
            Some(reference_intersects(first, second)),
            "{:?} intersects {:?}",
            first,
            second
        );
        prop_assert_eq!(intersects, second_glob.intersects(&first_glob));

        if short_counterexample {
            prop_assert_eq!(includes, Some(false));
        }
        if short_union_counterexample {
            prop_assert_eq!(union_includes, Some(false));
        }
        if short_common_name {
            prop_assert_eq!(intersects, Some(true));
        }

        // The searches themselves, past the public functions' shortcuts, and the
        // names they give as evidence.
        let over_budget = |_| TestCaseError::fail("over budget");
        let uncovered = uncovered_name(&[&first_glob], &second_glob).map_err(over_budget)?;
        prop_assert_eq!(Some(uncovered.is_none()), includes);
        if let Some(witness) = uncovered {
            prop_assert!(reference_matches(second, &witness), "{:?}", witness);
            prop_assert!(!reference_matches(first, &witness), "{:?}", witness);
        }
        let uncovered = uncovered_name(&union, &second_glob).map_err(over_budget)?;
        prop_assert_eq!(Some(uncovered.is_none()), union_includes);
        if let Some(witness) = uncovered {
            prop_assert!(reference_matches(second, &witness), "{:?}", witness);
            let covered = union_texts
                .iter()
                .any(|text| reference_matches(text, &witness));
            prop_assert!(!covered, "{:?}", witness);
        }
        let common = common_name(&first_glob, &second_glob).map_err(over_budget)?;
        prop_assert_eq!(Some(common.is_some()), intersects);
        if let Some(witness) = common {
            prop_assert!(reference_matches(first, &witness), "{:?}", witness);
            prop_assert!(reference_matches(second, &witness), "{:?}", witness);
        }
        Ok(())
    }
}
