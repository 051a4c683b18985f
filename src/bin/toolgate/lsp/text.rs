//! A document's text and the conversion between the library's byte offsets and the
//! protocol's positions (0-based line, character offset in UTF-16 code units, the
//! protocol's default encoding).

use lsp_types::{Position, Range};

/// A document's text with the start of each line.
#[derive(Debug, Clone, Default)]
pub struct Text {
    text: String,
    line_starts: Vec<usize>,
}

impl Text {
    /// The text, indexed.
    pub fn new(text: String) -> Text {
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(at, _)| at + 1))
            .collect();
        Text { text, line_starts }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The position of a byte offset; an offset past the end is the end, one inside a
    /// character is that character's start.
    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while offset > 0 && !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = match self.line_starts.binary_search(&offset) {
            Ok(exact) => exact,
            Err(next) => next.saturating_sub(1),
        };
        let start = self.line_starts.get(line).copied().unwrap_or(0);
        let character: usize = self
            .text
            .get(start..offset)
            .unwrap_or("")
            .chars()
            .map(char::len_utf16)
            .sum();
        Position::new(saturate(line), saturate(character))
    }

    /// The range of a byte range.
    pub fn range(&self, range: std::ops::Range<usize>) -> Range {
        Range::new(self.position(range.start), self.position(range.end))
    }

    /// The byte offset of a position: `None` for a line past the last; a character past
    /// the line's end is its end (before the line break), one inside a surrogate pair is
    /// the character's start.
    pub fn offset(&self, position: Position) -> Option<usize> {
        let line = usize::try_from(position.line).ok()?;
        let start = *self.line_starts.get(line)?;
        let end = self
            .line_starts
            .get(line + 1)
            .copied()
            .unwrap_or(self.text.len());
        let line_text = self.text.get(start..end)?;
        let line_text = line_text.trim_end_matches(['\n', '\r']);
        let wanted = usize::try_from(position.character).unwrap_or(usize::MAX);
        let mut units = 0;
        for (at, character) in line_text.char_indices() {
            units += character.len_utf16();
            if units > wanted {
                return Some(start + at);
            }
        }
        Some(start + line_text.len())
    }

    /// The end of the text.
    pub fn end(&self) -> Position {
        self.position(self.text.len())
    }

    /// The whole text's range.
    pub fn whole(&self) -> Range {
        Range::new(Position::new(0, 0), self.end())
    }

    /// Replaces `range` (the whole text when `None`) with `new_text`, as a
    /// `didChange` content change says; `false`, changing nothing, when the range is
    /// not in the text.
    pub fn apply(&mut self, range: Option<Range>, new_text: &str) -> bool {
        let Some(range) = range else {
            *self = Text::new(new_text.to_string());
            return true;
        };
        let (Some(start), Some(end)) = (self.offset(range.start), self.offset(range.end)) else {
            return false;
        };
        if start > end {
            return false;
        }
        let mut text = std::mem::take(&mut self.text);
        text.replace_range(start..end, new_text);
        *self = Text::new(text);
        true
    }
}

fn saturate(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_offsets_and_positions() {
        let text = Text::new("role a\nrole b\n".to_string());
        assert_eq!(text.position(0), Position::new(0, 0));
        assert_eq!(text.position(7), Position::new(1, 0));
        assert_eq!(text.position(12), Position::new(1, 5));
        assert_eq!(text.position(99), Position::new(2, 0));
        assert_eq!(text.offset(Position::new(1, 5)), Some(12));
        assert_eq!(text.offset(Position::new(2, 0)), Some(14));
        assert_eq!(text.offset(Position::new(3, 0)), None);
        // Past the end of a line: the line's end, not the next line.
        assert_eq!(text.offset(Position::new(0, 80)), Some(6));
        assert_eq!(text.end(), Position::new(2, 0));
    }

    #[test]
    fn characters_are_utf16_code_units() {
        // `é` is 2 bytes and 1 unit; `😀` is 4 bytes and 2 units (a surrogate pair).
        let text = Text::new("# é😀\nrole é😀x\n".to_string());
        let x = text.as_str().find('x').unwrap();
        assert_eq!(text.position(x), Position::new(1, 8));
        assert_eq!(text.offset(Position::new(1, 8)), Some(x));
        let smile = text.as_str().rfind('😀').unwrap();
        assert_eq!(text.position(smile), Position::new(1, 6));
        // Inside the pair: the character's start.
        assert_eq!(text.offset(Position::new(1, 7)), Some(smile));
        // A byte offset inside a character is the character's start.
        assert_eq!(text.position(smile + 2), Position::new(1, 6));
        assert_eq!(text.position(3), Position::new(0, 2));
        assert_eq!(text.position(4), Position::new(0, 3));
        for offset in 0..=text.as_str().len() {
            if text.as_str().is_char_boundary(offset) {
                assert_eq!(text.offset(text.position(offset)), Some(offset), "{offset}");
            }
        }
    }

    #[test]
    fn crlf_line_ends_are_not_characters() {
        let text = Text::new("ab\r\ncd".to_string());
        assert_eq!(text.offset(Position::new(0, 9)), Some(2));
        assert_eq!(text.position(4), Position::new(1, 0));
    }

    #[test]
    fn changes_apply_by_range_or_whole() {
        let mut text = Text::new("role é\nrole b\n".to_string());
        let range = Range::new(Position::new(0, 5), Position::new(0, 6));
        assert!(text.apply(Some(range), "admin"));
        assert_eq!(text.as_str(), "role admin\nrole b\n");
        let outside = Range::new(Position::new(9, 0), Position::new(9, 1));
        assert!(!text.apply(Some(outside), "x"));
        let backwards = Range::new(Position::new(1, 2), Position::new(0, 1));
        assert!(!text.apply(Some(backwards), "x"));
        assert!(text.apply(None, "new"));
        assert_eq!(text.as_str(), "new");
        assert_eq!(
            text.whole(),
            Range::new(Position::new(0, 0), Position::new(0, 3))
        );
    }
}
