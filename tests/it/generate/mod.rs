//! proptest strategies for random valid policies and random requests against them.
//!
//! Policies are generated as text in the concrete syntax of LANGUAGE.md and cover every
//! statement and condition form. Every generated policy is free of errors (warnings are
//! fine): names are declared before they are referenced, role inheritance and scope
//! implication only point "forward" in a fixed order (so they have no cycles), windows,
//! addresses, zones, instants and patterns are valid. Names, scopes, roles, claim paths
//! and claim values come from small shared pools ([`pools`]) so that rules overlap a lot
//! and requests hit them.

pub mod condition;
pub mod policy;
pub mod pools;
pub mod request;

use proptest::collection::vec;
use proptest::prelude::*;

use crate::reference::RefRequest;

/// A random valid policy, as the text of one `.policy` file.
pub fn policy_text() -> impl Strategy<Value = String> {
    policy::policy_text()
}

/// A random request: claims from the shared pools, any kind with a valid action, a
/// pooled or random name, an IPv4, IPv6, IPv4-mapped or absent address, and a time
/// around daylight-saving transitions and window edges.
pub fn request() -> impl Strategy<Value = RefRequest> {
    request::request(Vec::new())
}

/// A random valid policy and about twenty requests against it, most of them aimed at
/// one of its rules or requirements (same kind, a name one of its patterns matches or
/// nearly matches).
pub fn case() -> impl Strategy<Value = (String, Vec<RefRequest>)> {
    policy::policy().prop_flat_map(|generated| {
        let requests = vec(request::request(generated.targets), 15..=25);
        (Just(generated.text), requests)
    })
}

#[cfg(test)]
mod tests;
