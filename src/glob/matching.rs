//! Matching a compiled pattern against a name: segments anchored at both ends, the
//! middle ones at their leftmost place (see the module above for why that is safe).

#![deny(clippy::indexing_slicing)]

use super::Token;

/// A part of a pattern between two stars.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub(super) struct Segment {
    /// Literal texts and runs of `?`, in order; adjacent pieces are never of one kind.
    pub(super) pieces: Vec<Piece>,
}

/// A piece of a segment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Piece {
    /// Text that must appear as is.
    Literal(Box<str>),
    /// This many `?`: that many characters, whatever they are.
    AnyChars(usize),
}

/// Groups tokens into the segments between stars, collapsing consecutive stars.
pub(super) fn segments_of(tokens: &[Token]) -> Vec<Segment> {
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
pub(super) struct SegmentBuilder {
    pieces: Vec<Piece>,
    literal: String,
}

impl SegmentBuilder {
    pub(super) fn push_literal(&mut self, character: char) {
        self.literal.push(character);
    }

    pub(super) fn push_any_char(&mut self) {
        self.flush_literal();
        if let Some(Piece::AnyChars(count)) = self.pieces.last_mut() {
            *count += 1;
        } else {
            self.pieces.push(Piece::AnyChars(1));
        }
    }

    pub(super) fn flush_literal(&mut self) {
        if !self.literal.is_empty() {
            let text = std::mem::take(&mut self.literal);
            self.pieces.push(Piece::Literal(text.into_boxed_str()));
        }
    }

    pub(super) fn finish(&mut self) -> Segment {
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
pub(super) fn match_starred(
    first: &Segment,
    middle: &[Segment],
    last: &Segment,
    name: &str,
) -> bool {
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
    pub(super) fn as_literal(&self) -> Option<&str> {
        match self.pieces.as_slice() {
            [] => Some(""),
            [Piece::Literal(text)] => Some(text),
            _ => None,
        }
    }

    /// Where a match that starts at byte `start` of `name` ends, if there is one.
    pub(super) fn match_forward(&self, name: &[u8], start: usize) -> Option<usize> {
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
    pub(super) fn match_backward(&self, name: &[u8], end: usize) -> Option<usize> {
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
    pub(super) fn find(&self, window: &str, from: usize) -> Option<usize> {
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
pub(super) const SHORT_LITERAL: usize = 16;

/// The first byte offset at or after `from` where `text` occurs in `window`.
///
/// A short text is searched for by its first byte, then compared whole: at most
/// [`SHORT_LITERAL`] comparisons per byte of `window`, so still linear in the name.
pub(super) fn find_literal(window: &str, from: usize, text: &str) -> Option<usize> {
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
pub(super) fn skip_chars_forward(name: &[u8], position: usize, count: usize) -> Option<usize> {
    let mut position = position;
    for _ in 0..count {
        position += char_width(*name.get(position)?);
    }
    Some(position)
}

/// The byte position `count` characters before `position`.
pub(super) fn skip_chars_backward(name: &[u8], position: usize, count: usize) -> Option<usize> {
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
pub(super) fn char_width(lead: u8) -> usize {
    (lead.leading_ones() as usize).max(1)
}

/// Whether `byte` continues a UTF-8 character rather than starting one.
pub(super) fn is_continuation_byte(byte: u8) -> bool {
    byte & 0b1100_0000 == 0b1000_0000
}
