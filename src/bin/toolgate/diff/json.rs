//! `toolgate diff --format json`: one object; the field names are documented in
//! docs/diff.md and kept stable.

use serde_json::{json, Value};
use toolgate::unstable::diff::{CellSide, Change, Diff, Outcome};

use super::Header;

/// The object, on one line.
pub fn render(diff: &Diff, header: &Header) -> String {
    let rows: Vec<Value> = diff
        .rows
        .iter()
        .map(|row| {
            json!({
                "name": row.name,
                "old_roles": row.old_roles,
                "new_roles": row.new_roles,
                "in_old": row.in_old,
                "in_new": row.in_new,
            })
        })
        .collect();
    let names: Vec<Value> = diff
        .columns
        .iter()
        .map(|columns| {
            let names: Vec<Value> = columns
                .names
                .iter()
                .map(|name| json!({"name": name.name, "pattern": name.pattern}))
                .collect();
            json!({
                "kind": columns.kind.singular(),
                "derived": columns.derived,
                "names": names,
            })
        })
        .collect();
    let changes: Vec<Value> = diff.changes.iter().map(change).collect();
    let document = json!({
        "old": {"policy": header.old, "sha256": header.old_digest},
        "new": {"policy": header.new, "sha256": header.new_digest},
        "tools": header.tools,
        "changed": !diff.is_empty(),
        "cells": diff.cells,
        "unsettled": diff.unsettled,
        "rows": rows,
        "names": names,
        "changes": changes,
    });
    document.to_string() + "\n"
}

fn change(change: &Change) -> Value {
    let witness = change.witness.as_ref().map(|witness| {
        json!({
            "request": witness.request(change.kind, change.action, &change.name),
            "old": outcome(&witness.old),
            "new": outcome(&witness.new),
        })
    });
    json!({
        "role": change.row,
        "kind": change.kind.singular(),
        "action": change.action.keyword(),
        "name": change.name,
        "pattern": change.pattern,
        "old": side(&change.old),
        "new": side(&change.new),
        "exact": change.exact,
        "witness": witness,
    })
}

fn side(side: &CellSide) -> Value {
    let condition = (!side.condition.is_empty()).then_some(side.condition.as_str());
    json!({
        "verdict": side.verdict.as_str(),
        "condition": condition,
        "rules": side.rules,
        "exhaustive": side.exhaustive,
    })
}

fn outcome(outcome: &Outcome) -> Value {
    json!({
        "decision": if outcome.allowed { "allow" } else { "deny" },
        "reason": outcome.reason,
        "rule": outcome.rule,
    })
}
