//! Call arguments worth trying in a witness search: for every `arg` atom of the
//! statements matching a cell in either policy, values that make it hold, fail, or be
//! unknown.

use serde_json::{Map, Value};

use crate::ast::{Action, Kind, LiteralValue};
use crate::check::{ArgOp, ArgTest, Body, CheckedPolicy};
use crate::claim_path::ClaimPath;

use super::names::fill_glob;

/// Argument objects tried at most per cell.
const MOST_OBJECTS: usize = 256;

/// The argument objects to try for `action` on `name`: `None` (no arguments) first, then
/// one object per path and value, then combinations over several paths (at most
/// [`MOST_OBJECTS`] in all). Empty paths list: only `None`.
pub(crate) fn candidates(
    policies: [&CheckedPolicy; 2],
    kind: Kind,
    action: Action,
    name: &str,
) -> Vec<Option<Map<String, Value>>> {
    let mut objects = vec![None];
    if action != kind.use_action() || action == Action::Read {
        return objects;
    }
    let mut paths: Vec<(ClaimPath, Vec<Value>)> = Vec::new();
    let statements = policies
        .iter()
        .flat_map(|policy| &policy.statements)
        .filter(|statement| statement.matching_pattern(kind, action, name).is_some());
    for statement in statements {
        let Body::Rule {
            condition: Some(condition),
            ..
        } = &statement.body
        else {
            continue;
        };
        condition.each_arg(|_, test, _| {
            let values = match paths.iter_mut().find(|(path, _)| *path == test.path) {
                Some((_, values)) => values,
                None => {
                    paths.push((test.path.clone(), vec![Value::Null]));
                    match paths.last_mut() {
                        Some((_, values)) => values,
                        None => return,
                    }
                }
            };
            for value in values_for(test) {
                if !values.contains(&value) {
                    values.push(value);
                }
            }
        });
    }
    for (path, values) in &paths {
        for value in values {
            let mut object = Map::new();
            if path.place(&mut object, value.clone()) {
                push_new(&mut objects, object);
            }
        }
    }
    if paths.len() > 1 {
        combine(&paths, &mut objects);
    }
    objects.truncate(MOST_OBJECTS);
    objects
}

/// Adds objects holding a value (or nothing) at every path, in mixed-radix order, until
/// [`MOST_OBJECTS`].
fn combine(paths: &[(ClaimPath, Vec<Value>)], objects: &mut Vec<Option<Map<String, Value>>>) {
    let radices: Vec<usize> = paths.iter().map(|(_, values)| values.len() + 1).collect();
    let mut choices = vec![0usize; radices.len()];
    while objects.len() < MOST_OBJECTS {
        let mut object = Map::new();
        let mut placed = true;
        for ((path, values), choice) in paths.iter().zip(&choices) {
            if let Some(value) = choice.checked_sub(1).and_then(|index| values.get(index)) {
                placed &= path.place(&mut object, value.clone());
            }
        }
        if placed {
            push_new(objects, object);
        }
        if !advance(&mut choices, &radices) {
            return;
        }
    }
}

fn push_new(objects: &mut Vec<Option<Map<String, Value>>>, object: Map<String, Value>) {
    let object = Some(object);
    if !objects.contains(&object) {
        objects.push(object);
    }
}

/// The next choice vector (first digit fastest); false after the last.
fn advance(choices: &mut [usize], radices: &[usize]) -> bool {
    for (choice, radix) in choices.iter_mut().zip(radices) {
        *choice += 1;
        if *choice < *radix {
            return true;
        }
        *choice = 0;
    }
    false
}

/// Values around what one test compares with.
fn values_for(test: &ArgTest) -> Vec<Value> {
    match &test.test {
        ArgOp::Compare { value, .. } => around(value),
        ArgOp::In(values) => values.iter().flat_map(around).collect(),
        ArgOp::Contains(value) => vec![
            Value::Array(vec![json(value)]),
            Value::Array(Vec::new()),
            json(value),
        ],
        ArgOp::Matches(glob) => vec![
            Value::from(fill_glob(glob.as_str(), "a")),
            Value::from(fill_glob(glob.as_str(), "..")),
            Value::from(format!("{}~", fill_glob(glob.as_str(), "b"))),
            Value::from(5),
        ],
        ArgOp::Order { value, .. } => around(value),
        ArgOp::Exists => vec![Value::Bool(true)],
    }
}

/// The literal, values just beside it, and a value of another type.
fn around(literal: &LiteralValue) -> Vec<Value> {
    match literal {
        LiteralValue::String(text) => vec![Value::from(text.as_str()), Value::from("other")],
        LiteralValue::Integer(number) => vec![
            Value::from(*number),
            Value::from(number.saturating_sub(1)),
            Value::from(number.saturating_add(1)),
            Value::from("text"),
        ],
        LiteralValue::Decimal(number) => vec![
            Value::from(number.value()),
            Value::from(number.value() - 0.5),
            Value::from(number.value() + 0.5),
            Value::from("text"),
        ],
        LiteralValue::Bool(value) => vec![Value::Bool(*value), Value::Bool(!*value)],
    }
}

fn json(literal: &LiteralValue) -> Value {
    match literal {
        LiteralValue::String(text) => Value::from(text.as_str()),
        LiteralValue::Integer(number) => Value::from(*number),
        LiteralValue::Decimal(number) => Value::from(number.value()),
        LiteralValue::Bool(value) => Value::Bool(*value),
    }
}
