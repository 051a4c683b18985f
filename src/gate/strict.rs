//! One reading of a JSON message (docs/gate.md, "One reading of every message").
//!
//! A message passes the gate only if every conforming JSON parser reads it the same way.
//! [`read`] parses the bytes once into a [`Value`] and refuses, in the same pass:
//! - a leading byte order mark, and anything that is not UTF-8 JSON (a lone surrogate
//!   escape such as `"\udcff"` included);
//! - an object with two member names that are equal, or equal once case-folded with
//!   Unicode simple case folding ([`fold`]): `name` and `Name`, `params` and `paramſ`,
//!   `k` and the Kelvin sign. Decoders differ on such objects (first wins, last wins,
//!   case-insensitive matching as in Go's `encoding/json`), so the gate cannot know which
//!   member the server will read.
//!
//! The work is linear in the size of the message: names are compared through a hash set
//! once an object has more than a few members. Nesting is bounded by serde_json's
//! recursion limit (128 levels).

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Objects with more members than this compare names through a hash set.
const LINEAR_MEMBERS: usize = 12;

/// Why a message cannot be read one way only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unreadable {
    /// What is wrong, lowercase, for an error body.
    pub message: String,
    /// Whether the message is JSON, but with names a decoder could confuse (rather than
    /// not JSON at all).
    pub ambiguous: bool,
}

impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Reads `bytes` as one JSON value, refusing what could be read two ways.
pub(crate) fn read(bytes: &[u8]) -> Result<Value, Unreadable> {
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Err(Unreadable {
            message: "the message starts with a byte order mark".to_string(),
            ambiguous: false,
        });
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = OneReading
        .deserialize(&mut deserializer)
        .and_then(|value| deserializer.end().map(|()| value))
        .map_err(|error| Unreadable {
            message: format!("the message is not JSON that reads one way: {error}"),
            ambiguous: error.classify() == serde_json::error::Category::Data,
        })?;
    Ok(value)
}

pub(crate) use crate::fold::fold;

/// Whether `name` is spelled differently from `expected` but folds to it: a member the
/// gate reads, written so that some decoders read it and others do not.
pub(crate) fn is_near_miss(name: &str, expected: &str) -> bool {
    name != expected && fold(name) == expected
}

/// The member names of one object seen so far, folded.
enum Seen {
    Few(Vec<String>),
    Many(ahash::AHashSet<String>),
}

impl Seen {
    /// Adds a folded name; `false` if it was already there.
    fn insert(&mut self, folded: String) -> bool {
        match self {
            Seen::Few(names) => {
                if names.contains(&folded) {
                    return false;
                }
                names.push(folded);
                if names.len() > LINEAR_MEMBERS {
                    let set = names.drain(..).collect();
                    *self = Seen::Many(set);
                }
                true
            }
            Seen::Many(names) => names.insert(folded),
        }
    }
}

/// The seed reading one value under the one-reading rules.
struct OneReading;

impl<'de> DeserializeSeed<'de> for OneReading {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for OneReading {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Value, E> {
        Number::from_f64(value)
            .map(Value::Number)
            .ok_or_else(|| E::custom("a number out of range"))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_string()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut sequence: A) -> Result<Value, A::Error> {
        let mut values = Vec::with_capacity(sequence.size_hint().unwrap_or(0).min(64));
        while let Some(value) = sequence.next_element_seed(OneReading)? {
            values.push(value);
        }
        Ok(Value::Array(values))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut members: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        let mut seen = Seen::Few(Vec::new());
        while let Some(name) = members.next_key::<String>()? {
            if !seen.insert(fold(&name).into_owned()) {
                let earlier = object
                    .keys()
                    .find(|earlier| fold(earlier) == fold(&name))
                    .cloned()
                    .unwrap_or_else(|| name.clone());
                return Err(de::Error::custom(format!(
                    "an object has the member names `{}` and `{}`, which decoders read differently",
                    earlier.escape_debug(),
                    name.escape_debug()
                )));
            }
            let value = members.next_value_seed(OneReading)?;
            object.insert(name, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_fold_to_the_name_but_differ() {
        assert!(is_near_miss("Method", "method"));
        assert!(is_near_miss("param\u{17F}", "params"));
        assert!(!is_near_miss("method", "method"));
        assert!(!is_near_miss("methods", "method"));
    }

    #[test]
    fn equal_and_folded_names_are_refused_anywhere() {
        for body in [
            r#"{"a":1,"a":2}"#,
            r#"{"name":"x","Name":"y"}"#,
            r#"{"params":{},"param\u017f":{}}"#,
            r#"{"k":1,"\u212a":2}"#,
            r#"[{"x":{"y":[{"id":1,"ID":2}]}}]"#,
            r#"{"name":"x","n\u0061me":"y"}"#,
        ] {
            let refused = read(body.as_bytes()).unwrap_err();
            assert!(
                refused.message.contains("decoders read differently"),
                "{body}: {refused}"
            );
        }
    }

    #[test]
    fn large_objects_are_checked_through_the_set() {
        let mut body = String::from("{");
        for index in 0..100 {
            body.push_str(&format!("\"member{index}\":{index},"));
        }
        body.push_str("\"MEMBER7\":0}");
        assert!(read(body.as_bytes()).is_err());
        let fine = body.replace("\"MEMBER7\":0", "\"other\":0");
        assert_eq!(
            read(fine.as_bytes()).unwrap().as_object().unwrap().len(),
            101
        );
    }

    #[test]
    fn byte_order_marks_lone_surrogates_and_trailing_bytes_are_refused() {
        assert!(read(b"\xEF\xBB\xBF{}").is_err());
        assert!(read(br#"{"a":"\udcff"}"#).is_err());
        assert!(read(b"{}\0").is_err());
        assert!(read(b"{\"a\":\"\xff\"}").is_err());
        assert!(read(b"{} {}").is_err());
    }

    #[test]
    fn ordinary_messages_read_as_serde_json_reads_them() {
        let body = r#"{"jsonrpc":"2.0","id":1.5,"method":"tools/call","params":{"name":"x","arguments":{"n":-3,"big":18446744073709551615,"list":[true,null,"s"]}}}"#;
        let expected: Value = serde_json::from_str(body).unwrap();
        assert_eq!(read(body.as_bytes()).unwrap(), expected);
    }
}
