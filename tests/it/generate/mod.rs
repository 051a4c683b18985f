//! proptest strategies for random valid policies and random requests against them.
//!
//! Policies are generated as text in the concrete syntax of LANGUAGE.md and cover every
//! statement and condition form. Every generated policy is free of errors (warnings are
//! fine): names are declared before they are referenced, role inheritance and scope
//! implication only point "forward" in a fixed order (so they have no cycles), windows,
//! addresses, zones, instants and patterns are valid. Names, scopes, roles, claim paths
//! and claim values come from small shared pools ([`pools`]) so that rules overlap a lot
//! and requests hit them. Conditions test arguments (`arg`, v1.1) on rules whose actions
//! are their kind's use action alone; `call` and `get` requests carry random arguments,
//! `list` and `read` requests none.

pub mod condition;
pub mod policy;
pub mod pools;
pub mod request;

use proptest::collection::vec;
use proptest::prelude::*;

use crate::reference::RefRequest;

pub use policy::{listing, Flavour};

/// A random valid policy, as the text of one `.policy` file, every form mixed.
pub fn policy_text() -> impl Strategy<Value = String> {
    policy_text_with(Flavour::MIXED)
}

/// A random valid policy of `flavour`, as the text of one `.policy` file.
pub fn policy_text_with(flavour: Flavour) -> impl Strategy<Value = String> {
    policy::policy_text(flavour)
}

/// A random request: claims from the shared pools, any kind with a valid action, a
/// pooled or random name, an IPv4, IPv6, IPv4-mapped or absent address, and a time
/// around daylight-saving transitions and window edges, and for `call` and `get` random
/// arguments.
pub fn request() -> impl Strategy<Value = RefRequest> {
    request::request(Vec::new(), Vec::new(), false)
}

/// A random valid policy and about twenty requests against it, most of them aimed at
/// one of its rules or requirements (same kind, a name one of its patterns matches or
/// nearly matches). Every form mixed.
pub fn case() -> impl Strategy<Value = (String, Vec<RefRequest>)> {
    case_with(Flavour::MIXED)
}

/// [`case`] with a policy of `flavour`, as one text (the files joined; use a flavour
/// with `files: 1` when the text is to be read as one file).
pub fn case_with(flavour: Flavour) -> impl Strategy<Value = (String, Vec<RefRequest>)> {
    case_files(flavour).prop_map(|(files, requests)| {
        let text = files.into_iter().map(|(_, text)| text).collect();
        (text, requests)
    })
}

/// A random valid policy of `flavour` as `(file name, text)` pairs in policy order, and
/// about twenty requests against it.
pub fn case_files(
    flavour: Flavour,
) -> impl Strategy<Value = (Vec<(String, String)>, Vec<RefRequest>)> {
    policy::policy(flavour).prop_flat_map(|generated| {
        let hints = generated
            .files
            .iter()
            .flat_map(|(_, text)| request::argument_hints(text))
            .collect();
        let requests = vec(
            request::request(generated.targets, hints, generated.bound),
            15..=25,
        );
        (Just(generated.files), requests)
    })
}

#[cfg(test)]
mod tests;
