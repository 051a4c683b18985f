//! Claim paths (docs/language.md, "Conditions", v1.1), read in one place: principal
//! resolution, `claim` atoms, `explain`, the matrix and `token inspect` all use
//! [`ClaimPath`].
//!
//! - A path starting with `/` is an RFC 6901 JSON Pointer and nothing else: segments split
//!   on `/`, `~1` read as `/` and `~0` as `~`; a segment never indexes an array.
//! - Any other path names a top-level claim exactly; when it contains `.`, it also names
//!   the value reached by splitting it on `.` through nested objects. A token holding both
//!   is *ambiguous* ([`Found::Ambiguous`]): a token must not shadow one with the other.
//!
//! Paths are split once, when the policy is checked, never per request.

use std::fmt;

use serde_json::{Map, Value};

/// A claim path, split once.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClaimPath {
    /// The path as written.
    text: Box<str>,
    form: Form,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Form {
    /// A name without `.`: the top-level claim of that name only.
    Name,
    /// A name with `.`: the top-level claim of that name, or these nested segments.
    Dotted(Box<[Box<str>]>),
    /// A JSON Pointer's unescaped segments.
    Pointer(Box<[Box<str>]>),
}

/// What a path finds in a token's claims.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Found<'c> {
    /// No claim at the path.
    Missing,
    /// The one value at the path.
    Value(&'c Value),
    /// A dotted path the token holds both as a top-level name and nested.
    Ambiguous,
}

impl<'c> Found<'c> {
    /// The value, unless missing or ambiguous.
    pub fn value(self) -> Option<&'c Value> {
        match self {
            Found::Value(value) => Some(value),
            Found::Missing | Found::Ambiguous => None,
        }
    }

    /// Whether the path is ambiguous in the token.
    pub fn is_ambiguous(self) -> bool {
        matches!(self, Found::Ambiguous)
    }
}

/// Why a path is not a valid JSON Pointer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathError {
    path: String,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid JSON Pointer `{}`: `~` must be followed by `0` (for `~`) or `1` (for `/`)",
            self.path
        )
    }
}

impl std::error::Error for PathError {}

impl ClaimPath {
    /// A path as written in a policy; an error for a pointer with an invalid `~` escape.
    pub fn parse(text: &str) -> Result<ClaimPath, PathError> {
        let form = match text.strip_prefix('/') {
            Some(pointer) => Form::Pointer(
                pointer
                    .split('/')
                    .map(unescape)
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| PathError {
                        path: text.to_string(),
                    })?
                    .into(),
            ),
            None if text.contains('.') => {
                Form::Dotted(text.split('.').map(Box::from).collect::<Vec<_>>().into())
            }
            None => Form::Name,
        };
        Ok(ClaimPath {
            text: text.into(),
            form,
        })
    }

    /// A path, or for an invalid pointer one that finds nothing (for paths from
    /// configuration already checked, and from tools that show what they cannot read).
    pub fn lenient(text: &str) -> ClaimPath {
        ClaimPath::parse(text).unwrap_or_else(|_| ClaimPath {
            text: text.into(),
            form: Form::Pointer(Box::new([])),
        })
    }

    /// The pointer of these segments, each escaped (`~` as `~0`, `/` as `~1`).
    pub fn pointer(segments: &[&str]) -> ClaimPath {
        let mut text = String::new();
        for segment in segments {
            text.push('/');
            text.push_str(&segment.replace('~', "~0").replace('/', "~1"));
        }
        ClaimPath {
            text: text.into(),
            form: Form::Pointer(segments.iter().map(|s| Box::from(*s)).collect()),
        }
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the path is a JSON Pointer.
    pub fn is_pointer(&self) -> bool {
        matches!(self.form, Form::Pointer(_))
    }

    /// Whether a token could make this path ambiguous (a dotted path).
    pub fn may_be_ambiguous(&self) -> bool {
        matches!(self.form, Form::Dotted(_))
    }

    /// The first segment: the top-level claim a pointer starts at, or the name itself
    /// for a dotted path (its first `.` segment is [`ClaimPath::first_nested`]).
    pub fn first_segment(&self) -> &str {
        match &self.form {
            Form::Pointer(segments) => segments.first().map_or("", |s| s),
            Form::Name | Form::Dotted(_) => &self.text,
        }
    }

    /// The chains of member names the path can read: the top-level name alone, and for
    /// a dotted path also its `.` segments; a pointer's segments.
    pub fn member_chains(&self) -> Vec<Vec<&str>> {
        match &self.form {
            Form::Name => vec![vec![&*self.text]],
            Form::Dotted(segments) => vec![
                vec![&*self.text],
                segments.iter().map(|segment| &**segment).collect(),
            ],
            Form::Pointer(segments) => vec![segments.iter().map(|segment| &**segment).collect()],
        }
    }

    /// What the path finds in `claims`.
    #[inline]
    pub fn find<'c>(&self, claims: &'c Map<String, Value>) -> Found<'c> {
        let found = |value: Option<&'c Value>| value.map_or(Found::Missing, Found::Value);
        match &self.form {
            Form::Name => found(member(claims, &self.text)),
            Form::Pointer(segments) => found(nested(claims, segments)),
            Form::Dotted(segments) => {
                match (member(claims, &self.text), nested(claims, segments)) {
                    (Some(_), Some(_)) => Found::Ambiguous,
                    (top, inner) => found(top.or(inner)),
                }
            }
        }
    }

    /// Puts `value` where this path reads it (a dotted path: its top-level name; a
    /// pointer: nested objects, made as needed). False when something else is there
    /// already, so the claims would not read back as placed.
    pub fn place(&self, claims: &mut Map<String, Value>, value: Value) -> bool {
        match &self.form {
            Form::Name | Form::Dotted(_) => put(claims, &[&*self.text], value),
            Form::Pointer(segments) => put(claims, segments, value),
        }
    }

    /// Puts `value` at a dotted path's nested form: beside [`ClaimPath::place`], it makes
    /// the path ambiguous. False for other paths, or when something else is there.
    pub fn place_nested(&self, claims: &mut Map<String, Value>, value: Value) -> bool {
        match &self.form {
            Form::Dotted(segments) => put(claims, segments, value),
            Form::Name | Form::Pointer(_) => false,
        }
    }
}

/// Puts `value` under `segments`, making objects as needed; false when a segment holds a
/// non-object on the way or the last one is taken.
fn put<S: AsRef<str>>(claims: &mut Map<String, Value>, segments: &[S], value: Value) -> bool {
    let Some((last, parents)) = segments.split_last() else {
        return false;
    };
    let mut object = claims;
    for segment in parents {
        let slot = object
            .entry(segment.as_ref().to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(inner) = slot else {
            return false;
        };
        object = inner;
    }
    if object.contains_key(last.as_ref()) {
        return false;
    }
    object.insert(last.as_ref().to_string(), value);
    true
}

impl fmt::Display for ClaimPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl From<&str> for ClaimPath {
    /// [`ClaimPath::lenient`].
    fn from(text: &str) -> ClaimPath {
        ClaimPath::lenient(text)
    }
}

/// The value reached through nested objects (never through arrays).
fn nested<'c>(claims: &'c Map<String, Value>, segments: &[Box<str>]) -> Option<&'c Value> {
    let (first, rest) = segments.split_first()?;
    let mut current = member(claims, first)?;
    for segment in rest {
        current = member(current.as_object()?, segment)?;
    }
    Some(current)
}

/// The member `name` of `object`. A small object (the usual token or call arguments) is
/// scanned comparing lengths first, which skips most byte comparisons; the sorted map's
/// own search compares bytes at every step, and costs more at these sizes.
#[inline]
fn member<'c>(object: &'c Map<String, Value>, name: &str) -> Option<&'c Value> {
    const SCANNED: usize = 16;
    if object.len() > SCANNED {
        return object.get(name);
    }
    object
        .iter()
        .find(|(key, _)| key.len() == name.len() && key.as_str() == name)
        .map(|(_, value)| value)
}

/// One pointer segment with `~1` and `~0` read; `None` for any other `~`.
fn unescape(segment: &str) -> Option<Box<str>> {
    if !segment.contains('~') {
        return Some(segment.into());
    }
    let mut out = String::with_capacity(segment.len());
    let mut chars = segment.chars();
    while let Some(c) = chars.next() {
        if c != '~' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('0') => out.push('~'),
            Some('1') => out.push('/'),
            _ => return None,
        }
    }
    Some(out.into())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    fn find<'c>(claims: &'c Map<String, Value>, path: &str) -> Found<'c> {
        ClaimPath::parse(path).unwrap().find(claims)
    }

    #[test]
    fn dotted_paths_read_one_form_and_refuse_both() {
        let claims = object(json!({"a.b": 1, "a": {"b": 2}, "x": {"y": {"z": 3}}, "t.u": 4}));
        assert_eq!(find(&claims, "a.b"), Found::Ambiguous);
        assert_eq!(find(&claims, "x.y.z"), Found::Value(&json!(3)));
        assert_eq!(find(&claims, "t.u"), Found::Value(&json!(4)));
        assert_eq!(find(&claims, "x.q"), Found::Missing);
        assert_eq!(find(&claims, "a"), Found::Value(&json!({"b": 2})));
    }

    #[test]
    fn pointers_keep_dots_and_unescape() {
        let claims = object(json!({
            "resource_access": {"mcp.example.com": {"roles": ["dev"]}},
            "a/b": {"c~d": 1},
            "resource_access.mcp.example.com.roles": ["admin"],
            "list": [{"x": 1}],
        }));
        let path = "/resource_access/mcp.example.com/roles";
        assert_eq!(find(&claims, path), Found::Value(&json!(["dev"])));
        assert_eq!(find(&claims, "/a~1b/c~0d"), Found::Value(&json!(1)));
        assert_eq!(find(&claims, "/list/0/x"), Found::Missing, "no array index");
        assert!(ClaimPath::parse("/a~2b").is_err());
        assert!(ClaimPath::parse("/a~").is_err());
        assert_eq!(ClaimPath::lenient("/a~").find(&claims), Found::Missing);
        let built = ClaimPath::pointer(&["a/b", "c~d"]);
        assert_eq!(built.as_str(), "/a~1b/c~0d");
        assert_eq!(built, ClaimPath::parse("/a~1b/c~0d").unwrap());
    }

    #[test]
    fn placed_values_read_back() {
        let mut claims = Map::new();
        let pointer = ClaimPath::parse("/user/email_verified").unwrap();
        let dotted = ClaimPath::parse("env.stage").unwrap();
        assert!(pointer.place(&mut claims, json!(true)));
        assert!(dotted.place(&mut claims, json!("prod")));
        assert!(!dotted.place(&mut claims, json!("again")));
        assert!(!ClaimPath::parse("/user/email_verified/x")
            .unwrap()
            .place(&mut claims, json!(1)));
        assert_eq!(pointer.find(&claims), Found::Value(&json!(true)));
        assert_eq!(dotted.find(&claims), Found::Value(&json!("prod")));
        assert!(dotted.place_nested(&mut claims, json!("dev")));
        assert_eq!(dotted.find(&claims), Found::Ambiguous);
        assert!(!pointer.place_nested(&mut claims, json!(1)));
    }
}
