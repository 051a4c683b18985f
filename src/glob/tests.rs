//! Tests of matching and of the relations between patterns.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use super::matching::{find_literal, SHORT_LITERAL};
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
