//! The formatter's view of the source text: token positions and comments.
//!
//! The syntax tree has no comments and no spans for keywords and punctuation, so the
//! formatter lexes the text once more, the way the grammar splits it (same whitespace,
//! comments and strings): token positions let it find the keywords of a statement in
//! the text, and comments come with where they are and what is around them.

/// A `#` comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Comment {
    /// The comment's text from `#`, trailing whitespace removed.
    pub text: String,
    /// Byte offset of the `#`.
    pub start: usize,
    /// Whether nothing but whitespace comes before it on its line.
    pub own_line: bool,
    /// Whether an empty line separates it from the token or comment before it.
    pub blank_before: bool,
}

/// The tokens and comments of a text.
#[derive(Debug, Clone, Default)]
pub(super) struct Lexed {
    /// Byte ranges of the tokens, in order.
    pub tokens: Vec<(usize, usize)>,
    /// The comments, in order.
    pub comments: Vec<Comment>,
}

/// Whether `character` is whitespace to the grammar.
fn is_whitespace(character: char) -> bool {
    matches!(character, ' ' | '\t' | '\r' | '\n' | '\u{feff}')
}

/// Whether `character` may continue a name, keyword or number.
fn is_name_char(character: char) -> bool {
    character.is_ascii_alphanumeric() || character == '_' || character == '-'
}

/// Splits `text` into tokens and comments.
pub(super) fn lex(text: &str) -> Lexed {
    let mut lexed = Lexed::default();
    let mut position = 0;
    while let Some(first) = text.get(position..).and_then(|rest| rest.chars().next()) {
        let rest = text.get(position..).unwrap_or("");
        if is_whitespace(first) {
            position += first.len_utf8();
        } else if first == '#' {
            let length = rest.find('\n').unwrap_or(rest.len());
            let body = rest.get(..length).unwrap_or("");
            lexed.comments.push(Comment {
                text: body.trim_end_matches(is_whitespace).to_string(),
                start: position,
                own_line: own_line(text, position),
                blank_before: blank_before(text, position),
            });
            position += length;
        } else {
            let length = if first == '"' {
                string_length(rest)
            } else if first.is_ascii_alphanumeric() || first == '_' {
                rest.find(|character: char| !is_name_char(character))
                    .unwrap_or(rest.len())
            } else if rest.starts_with("==") || rest.starts_with("!=") {
                2
            } else {
                first.len_utf8()
            };
            lexed.tokens.push((position, position + length));
            position += length;
        }
    }
    lexed
}

/// The byte length of the string literal `rest` starts with (to the closing quote, or
/// to the end of the line when there is none).
fn string_length(rest: &str) -> usize {
    let mut characters = rest.char_indices().skip(1);
    while let Some((offset, character)) = characters.next() {
        match character {
            '"' => return offset + 1,
            '\n' | '\r' => return offset,
            '\\' => {
                if let Some((escaped, '\n' | '\r')) = characters.next() {
                    return escaped;
                }
            }
            _ => {}
        }
    }
    rest.len()
}

/// Whether only whitespace comes before `offset` on its line.
fn own_line(text: &str, offset: usize) -> bool {
    text.get(..offset)
        .unwrap_or("")
        .chars()
        .rev()
        .take_while(|&character| character != '\n')
        .all(is_whitespace)
}

/// Whether an empty line lies between `offset` and the text before it (the end of the
/// previous token or comment). Always false at the start of the text.
pub(super) fn blank_before(text: &str, offset: usize) -> bool {
    let before = text.get(..offset).unwrap_or("");
    let gap: Vec<char> = before
        .chars()
        .rev()
        .take_while(|&character| is_whitespace(character))
        .collect();
    gap.len() < before.chars().count() && gap.iter().filter(|&&c| c == '\n').count() >= 2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_outside_strings_with_their_surroundings() {
        let text = "role a # one\n\n  # two \"x\"\r\nscope \"#no\" # three\n";
        let lexed = lex(text);
        let comments: Vec<(&str, bool, bool)> = lexed
            .comments
            .iter()
            .map(|c| (c.text.as_str(), c.own_line, c.blank_before))
            .collect();
        assert_eq!(
            comments,
            [
                ("# one", false, false),
                ("# two \"x\"", true, true),
                ("# three", false, false)
            ]
        );
        let tokens: Vec<&str> = lexed.tokens.iter().map(|&(s, e)| &text[s..e]).collect();
        assert_eq!(tokens, ["role", "a", "scope", "\"#no\""]);
    }

    #[test]
    fn symbols_and_words() {
        let text = "claim \"a\\\"b\" != -5 (mon-fri)";
        let lexed = lex(text);
        let tokens: Vec<&str> = lexed.tokens.iter().map(|&(s, e)| &text[s..e]).collect();
        assert_eq!(
            tokens,
            ["claim", "\"a\\\"b\"", "!=", "-", "5", "(", "mon-fri", ")"]
        );
    }

    #[test]
    fn blank_lines_need_something_before() {
        assert!(!blank_before("\n\n\nrole", 3));
        assert!(blank_before("x\n\nrole", 3));
        assert!(!blank_before("x\n  role", 4));
    }
}
