//! A small lexer over policy text, apart from the grammar.
//!
//! The grammar does the real parsing; this lexer only finds tokens where the parser
//! needs them without running the grammar: the token an error message talks about,
//! the lines where a statement may restart, and the nesting depth of a condition.
//! It splits text the way the grammar does (same whitespace, comments and strings).

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TokenKind {
    /// A run of name characters: a keyword, a name, a number, a day.
    Word,
    /// A string literal; `terminated` is false when the line ends before the closing quote.
    String {
        /// Whether the closing quote was found.
        terminated: bool,
    },
    /// Any other character, or `==` / `!=`.
    Symbol,
}

/// One token: its kind and byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Token<'text> {
    /// What it is.
    pub kind: TokenKind,
    /// Byte offset of its first byte.
    pub start: usize,
    /// Byte offset one past its last byte.
    pub end: usize,
    /// Its text.
    pub text: &'text str,
}

impl Token<'_> {
    /// Whether this token is the word `word`.
    pub fn is_word(&self, word: &str) -> bool {
        self.kind == TokenKind::Word && self.text == word
    }
}

/// The keywords that start a statement.
pub(super) const STATEMENT_KEYWORDS: [&str; 9] = [
    "allow", "deny", "require", "role", "scope", "network", "window", "timezone", "claims",
];

/// Whether `character` may appear in a name after its first character.
pub(super) fn is_name_char(character: char) -> bool {
    character.is_ascii_alphanumeric() || character == '_' || character == '-'
}

/// Whether `character` is whitespace to the grammar.
fn is_whitespace(character: char) -> bool {
    matches!(character, ' ' | '\t' | '\r' | '\n' | '\u{feff}')
}

/// The offset of the first token at or after `position`: whitespace and comments skipped.
pub(super) fn skip_trivia(text: &str, mut position: usize) -> usize {
    loop {
        let rest = text.get(position..).unwrap_or("");
        let trimmed = rest.trim_start_matches(is_whitespace);
        position += rest.len() - trimmed.len();
        if !trimmed.starts_with('#') {
            return position;
        }
        position += trimmed.find('\n').unwrap_or(trimmed.len());
    }
}

/// The tokens of `text` from a byte offset on.
#[derive(Debug, Clone)]
pub(super) struct Lexer<'text> {
    text: &'text str,
    position: usize,
}

impl<'text> Lexer<'text> {
    /// A lexer starting at `position` (a token start or trivia).
    pub fn new(text: &'text str, position: usize) -> Lexer<'text> {
        Lexer { text, position }
    }
}

impl<'text> Iterator for Lexer<'text> {
    type Item = Token<'text>;

    fn next(&mut self) -> Option<Token<'text>> {
        let start = skip_trivia(self.text, self.position);
        let rest = self.text.get(start..)?;
        let first = rest.chars().next()?;
        let (kind, length) = if first.is_ascii_alphanumeric() || first == '_' {
            (TokenKind::Word, word_length(rest))
        } else if first == '"' {
            string_length(rest)
        } else {
            (TokenKind::Symbol, symbol_length(rest, first))
        };
        let end = start + length;
        self.position = end;
        Some(Token {
            kind,
            start,
            end,
            text: self.text.get(start..end).unwrap_or(""),
        })
    }
}

/// The byte length of the run of name characters `rest` starts with.
fn word_length(rest: &str) -> usize {
    rest.find(|character: char| !is_name_char(character))
        .unwrap_or(rest.len())
}

/// The byte length of the string `rest` starts with (up to the closing quote or the
/// end of the line), and whether it is terminated.
fn string_length(rest: &str) -> (TokenKind, usize) {
    let mut characters = rest.char_indices().skip(1);
    while let Some((offset, character)) = characters.next() {
        match character {
            '"' => return (TokenKind::String { terminated: true }, offset + 1),
            '\n' | '\r' => return (TokenKind::String { terminated: false }, offset),
            '\\' => {
                if let Some((escaped_offset, '\n' | '\r')) = characters.next() {
                    return (TokenKind::String { terminated: false }, escaped_offset);
                }
            }
            _ => {}
        }
    }
    (TokenKind::String { terminated: false }, rest.len())
}

/// The byte length of the symbol `rest` starts with.
fn symbol_length(rest: &str, first: char) -> usize {
    if rest.starts_with("==") || rest.starts_with("!=") {
        2
    } else {
        first.len_utf8()
    }
}

/// The end of the last token that starts at or after `from`, if there is one.
pub(super) fn last_token_end(text: &str, from: usize) -> Option<usize> {
    Lexer::new(text, from).last().map(|token| token.end)
}

/// The statement keyword `text` starts with at `position`, if any (whole word).
pub(super) fn statement_keyword_at(text: &str, position: usize) -> Option<&'static str> {
    let rest = text.get(position..)?;
    STATEMENT_KEYWORDS.into_iter().find(|keyword| {
        rest.strip_prefix(keyword)
            .is_some_and(|after| !after.starts_with(is_name_char))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(TokenKind, &str)> {
        Lexer::new(text, 0)
            .map(|token| (token.kind, token.text))
            .collect()
    }

    #[test]
    fn splits_words_strings_and_symbols() {
        let terminated = TokenKind::String { terminated: true };
        assert_eq!(
            kinds("role a-b # note\n\"x\\\"y\" == ("),
            vec![
                (TokenKind::Word, "role"),
                (TokenKind::Word, "a-b"),
                (terminated, "\"x\\\"y\""),
                (TokenKind::Symbol, "=="),
                (TokenKind::Symbol, "("),
            ]
        );
    }

    #[test]
    fn an_unterminated_string_ends_at_the_line_end() {
        let open = TokenKind::String { terminated: false };
        assert_eq!(
            kinds("\"abc\nrole"),
            vec![(open, "\"abc"), (TokenKind::Word, "role")]
        );
        assert_eq!(kinds("\"ab\\"), vec![(open, "\"ab\\")]);
    }

    #[test]
    fn trivia_and_keywords() {
        assert_eq!(skip_trivia("  # x\n\t# y\n  role", 0), 13);
        assert_eq!(skip_trivia("# only", 0), 6);
        assert_eq!(statement_keyword_at("role x", 0), Some("role"));
        assert_eq!(statement_keyword_at("roles x", 0), None);
        assert_eq!(statement_keyword_at("allowed", 0), None);
        assert_eq!(last_token_end("allow a if  # c\n", 0), Some(10));
    }
}
