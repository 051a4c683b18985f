//! Untrusted text for a terminal: control characters shown as visible symbols.
//!
//! `toolgate check` shows policy source through annotate-snippets, which shows the C0
//! controls and DEL as their Control Pictures (`␛` for ESC, `␡` for DEL), drops the
//! zero-width joiner and shows the bidirectional formatting characters (U+202A to
//! U+202E, U+2066 to U+2069) as `�`. The other human outputs (`table`, `explain`,
//! `token inspect`) print tool names, resource URIs, claim values and request fields
//! that third parties choose; they go through [`visible`], which applies that same
//! table (the binary's tests hold it against annotate-snippets'
//! `normalize_untrusted_str`, so both follow one rule, without the library depending on
//! a rendering crate) and also shows what a name may hold but source lines do not: tab
//! and line feed as `␉` and `␊`, and the C1 controls (U+0080 to U+009F, among them CSI)
//! as `�`. The result holds no character a terminal acts on and none that reorders the
//! text around it.

use std::borrow::Cow;

/// `text` with every control character (C0, DEL, C1) and every bidirectional
/// formatting character replaced by a visible symbol; borrowed when there is none.
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(replaced) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for character in text.chars() {
        match character {
            // The C0 controls have their Control Pictures at U+2400 + code; DEL at U+2421.
            '\0'..='\u{1F}' => {
                shown.push(char::from_u32(0x2400 + u32::from(character)).unwrap_or('\u{FFFD}'))
            }
            '\u{7F}' => shown.push('\u{2421}'),
            '\u{200D}' => {}
            '\u{80}'..='\u{9F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => {
                shown.push('\u{FFFD}')
            }
            other => shown.push(other),
        }
    }
    Cow::Owned(shown)
}

/// Whether [`visible`] replaces (or, for the zero-width joiner, drops) `character`.
fn replaced(character: char) -> bool {
    character.is_control()
        || matches!(
            character,
            '\u{200D}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed() {
        assert!(matches!(visible("fs.read_file ✓ ü"), Cow::Borrowed(_)));
    }

    #[test]
    fn controls_become_symbols() {
        assert_eq!(visible("a\u{1b}[31mb"), "a\u{241B}[31mb");
        assert_eq!(visible("\0\u{7}\u{7F}"), "\u{2400}\u{2407}\u{2421}");
        assert_eq!(visible("a\tb\nc\rd"), "a\u{2409}b\u{240A}c\u{240D}d");
        assert_eq!(visible("a\u{9B}31m\u{85}"), "a\u{FFFD}31m\u{FFFD}");
    }

    #[test]
    fn bidirectional_overrides_become_symbols() {
        for override_ in ['\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}'] {
            assert_eq!(
                visible(&format!("tool{override_}cod.exe")),
                "tool\u{FFFD}cod.exe"
            );
        }
    }

    #[test]
    fn nothing_a_terminal_acts_on_remains() {
        let every: String = (0u32..0x2200).filter_map(char::from_u32).collect();
        let shown = visible(&every);
        assert!(!shown.chars().any(replaced), "{shown:?}");
    }
}
