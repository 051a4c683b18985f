//! Filtering list responses to the entries the caller may list, by shape.
//!
//! Every JSON-RPC response the client can read is filtered, whatever its `id` and
//! whatever request it seems to answer: servers compare ids their own way (`1.0` answered
//! as `1`, `"1"` routed as `1`), and a resumed or GET stream answers no request of this
//! body at all. In a message's `result`, the members `tools`, `prompts`, `resources` and
//! `resourceTemplates` keep only the entries whose `list` decision is allow: tools and
//! prompts by `name`, resources by `uri`, resource templates by `uriTemplate`. An entry
//! without that member as a string is dropped; a member that is not an array becomes
//! empty. Names are matched case-folded, so `Result` or `Tools` (which case-insensitive
//! decoders read) are filtered too; two members that fold to one name never get here
//! (the message is unreadable, [`super::strict`]).

use serde_json::Value;

use super::caller::{Caller, Origin};
use super::strict::fold;
use crate::ast::Kind;

/// A list member of a `result`: its folded name, what it lists, the member naming each
/// entry, and the method that asks for it (for the audit log).
struct List {
    member: &'static str,
    kind: Kind,
    field: &'static str,
    method: &'static str,
}

const LISTS: [List; 4] = [
    List {
        member: "tools",
        kind: Kind::Tool,
        field: "name",
        method: "tools/list",
    },
    List {
        member: "prompts",
        kind: Kind::Prompt,
        field: "name",
        method: "prompts/list",
    },
    List {
        member: "resources",
        kind: Kind::Resource,
        field: "uri",
        method: "resources/list",
    },
    List {
        member: "resourcetemplates",
        kind: Kind::Resource,
        field: "uriTemplate",
        method: "resources/templates/list",
    },
];

/// Filters what one caller reads.
pub(crate) struct ListFilter {
    pub caller: Caller,
}

impl ListFilter {
    /// Filters a JSON body: one message or a batch of them. `true` if any list was
    /// found (and the body must be written anew).
    pub fn filter_body(&self, body: &mut Value) -> bool {
        match body {
            Value::Array(messages) => {
                // Every message is filtered: no short-circuit. A batch within a batch is
                // no message, but a client that flattens it must find nothing unfiltered
                // (nesting is bounded by the reader's recursion limit).
                let mut found = false;
                for message in messages {
                    found |= self.filter_body(message);
                }
                found
            }
            message => self.filter_message(message),
        }
    }

    /// Filters one message's `result`; `true` if it holds a list.
    fn filter_message(&self, message: &mut Value) -> bool {
        let Some(object) = message.as_object_mut() else {
            return false;
        };
        let id = object.get("id").cloned();
        let mut found = false;
        for (name, result) in object.iter_mut() {
            if fold(name) != "result" {
                continue;
            }
            let Value::Object(result) = result else {
                continue;
            };
            for (member, entries) in result.iter_mut() {
                let folded = fold(member);
                if let Some(list) = LISTS.iter().find(|list| list.member == folded) {
                    let origin = Origin {
                        method: list.method,
                        id: id.as_ref(),
                    };
                    self.keep_listable(list.kind, list.field, entries, &origin);
                    found = true;
                }
            }
        }
        found
    }

    fn keep_listable(&self, kind: Kind, field: &str, entries: &mut Value, origin: &Origin<'_>) {
        let Value::Array(list) = entries else {
            *entries = Value::Array(Vec::new());
            return;
        };
        list.retain(|entry| {
            entry
                .get(field)
                .and_then(Value::as_str)
                .is_some_and(|name| self.caller.may_list(kind, name, origin))
        });
    }
}
