//! Filtering list responses to the entries the caller may list.
//!
//! A response is matched to its request by JSON-RPC id. In its `result`, the `tools`,
//! `resources` or `prompts` array keeps only the entries whose `list` decision is allow;
//! an entry without a string `name` (`uri` for resources) is dropped, and a member that
//! is not an array becomes empty.

use serde_json::Value;

use super::caller::{Caller, Origin};
use crate::ast::Kind;

/// The list requests of one body, by id, and who asked.
pub(crate) struct ListFilter {
    pub caller: Caller,
    /// Each list request: its id, its kind and its method.
    pub lists: Vec<(Value, Kind, String)>,
}

impl ListFilter {
    /// Filters a JSON response body: one response or a batch of them.
    pub fn filter_body(&self, body: &mut Value) {
        match body {
            Value::Array(messages) => {
                for message in messages {
                    self.filter_message(message);
                }
            }
            message => {
                self.filter_message(message);
            }
        }
    }

    /// Filters one response message if it answers a list request.
    pub fn filter_message(&self, message: &mut Value) -> bool {
        let Some(object) = message.as_object_mut() else {
            return false;
        };
        if object.contains_key("method") {
            return false;
        }
        let Some(id) = object.get("id") else {
            return false;
        };
        let Some((id, kind, method)) = self.lists.iter().find(|(list_id, ..)| list_id == id) else {
            return false;
        };
        let origin = Origin {
            method,
            id: Some(id),
        };
        if let Some(Value::Object(result)) = object.get_mut("result") {
            if let Some(entries) = result.get_mut(kind.plural()) {
                self.keep_listable(*kind, entries, &origin);
            }
        }
        true
    }

    fn keep_listable(&self, kind: Kind, entries: &mut Value, origin: &Origin<'_>) {
        let field = match kind {
            Kind::Resource => "uri",
            Kind::Tool | Kind::Prompt => "name",
        };
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
