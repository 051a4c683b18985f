//! The pest parser generated from `grammar/policy.pest`.

/// The policy grammar; [`Rule`] names its rules.
#[derive(pest_derive::Parser)]
#[grammar = "grammar/policy.pest"]
pub(super) struct PolicyParser;
