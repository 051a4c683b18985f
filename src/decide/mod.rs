//! The one decision procedure of docs/language.md ("Deciding"), generic over how facts
//! are known.
//!
//! A matching deny whose condition holds or is unknown decides; then unmet requirements
//! (`insufficient_scope`, naming every missing scope); then the first matching allow
//! that holds; then the smallest step-up to an allow rule, or `no_rule`. A `list`
//! request that no `list` statement decides follows use, for the arguments that favour
//! the caller.
//!
//! Three callers run it, each with its own [`Facts`]: the engine over compiled bit sets
//! (`eval`), `explain` over the checked policy (recording what each condition read), and
//! the matrix over symbolic assignments of a cell's atoms. It is monomorphised for each,
//! so the engine's hot path pays nothing for the other two.

mod step_up;
mod truth;

use smallvec::SmallVec;

pub use truth::Truth;

use crate::ids::ScopeId;

/// How a caller knows the facts the procedure reads.
pub(crate) trait Facts {
    /// An allow or deny rule of a program.
    type Rule;
    /// A `require` statement of a program.
    type Requirement;
    /// A set of effective scopes to try a step-up with.
    type Hypothesis;

    /// Whether the rule's subject matches the principal.
    fn matches(&self, rule: &Self::Rule) -> bool;
    /// The value of the rule's condition (true when it has none).
    fn truth(&self, rule: &Self::Rule) -> Truth;
    /// The value of the rule's condition with the scopes of `hypothesis`.
    fn truth_with(&self, rule: &Self::Rule, hypothesis: &Self::Hypothesis) -> Truth;
    /// The scopes the rule's condition names, sorted by name; `None` without a
    /// condition.
    fn named_scopes<'s>(&'s self, rule: &'s Self::Rule) -> Option<&'s [ScopeId]>;
    /// Every scope the requirement needs.
    fn required<'s>(&'s self, requirement: &'s Self::Requirement) -> &'s [ScopeId];
    /// Whether the principal holds `scope` (directly or by implication).
    fn held(&self, scope: ScopeId) -> bool;
    /// A hypothesis holding exactly the principal's scopes.
    fn hypothesis(&self) -> Self::Hypothesis;
    /// Resets `hypothesis` to the principal's scopes, reusing its storage.
    fn reset(&self, hypothesis: &mut Self::Hypothesis);
    /// Adds `scope` and every scope it implies to `hypothesis`.
    fn grant(&self, hypothesis: &mut Self::Hypothesis, scope: ScopeId);
    /// The same facts with every `arg` atom at the value that favours the caller in its
    /// rule (for a listing that follows use).
    fn favourable(&self) -> Self
    where
        Self: Sized;
}

/// The statements that match one action on one name, each list in policy order.
pub(crate) struct Program<'p, R, Q> {
    /// The deny rules.
    pub denies: &'p [R],
    /// The requirements.
    pub requirements: &'p [Q],
    /// The allow rules.
    pub allows: &'p [R],
}

/// The scopes of an `insufficient_scope` verdict, by id, without repeats.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Scopes {
    /// The scopes the token lacks.
    pub missing: SmallVec<[ScopeId; 4]>,
    /// Every scope the deciding statements need, held or missing.
    pub required: SmallVec<[ScopeId; 4]>,
}

/// How the procedure ended, borrowing the deciding statement.
pub(crate) enum Verdict<'p, R, Q> {
    /// This deny rule matched and its condition held or was unknown.
    Denied(&'p R),
    /// Requirements are unmet; this is the first.
    Unmet(&'p Q, Scopes),
    /// This allow rule matched and held.
    Allowed(&'p R),
    /// The scopes would make this allow rule hold.
    StepUp(&'p R, Scopes),
    /// Nothing allows it.
    NoRule,
}

impl<R, Q> Verdict<'_, R, Q> {
    /// Whether the verdict allows.
    #[inline]
    pub fn is_allowed(&self) -> bool {
        matches!(self, Verdict::Allowed(_))
    }
}

/// Runs `program`: denies, then requirements, then allows, then step-up.
#[inline]
pub(crate) fn decide<'p, F: Facts>(
    facts: &F,
    program: Program<'p, F::Rule, F::Requirement>,
) -> Verdict<'p, F::Rule, F::Requirement> {
    for rule in program.denies {
        if facts.matches(rule) && facts.truth(rule) != Truth::False {
            return Verdict::Denied(rule);
        }
    }
    if let Some((first, scopes)) = unmet(facts, program.requirements) {
        return Verdict::Unmet(first, scopes);
    }
    for rule in program.allows {
        if facts.matches(rule) && facts.truth(rule) == Truth::True {
            return Verdict::Allowed(rule);
        }
    }
    match step_up::find(facts, program.allows) {
        Some((rule, scopes)) => Verdict::StepUp(rule, scopes),
        None => Verdict::NoRule,
    }
}

/// A `list` request's verdicts: the `list` program's, and the use program's when
/// listing followed use.
pub(crate) struct Listing<'p, R, Q> {
    /// The `list` program's verdict.
    pub listing: Verdict<'p, R, Q>,
    /// The use program's verdict (with favourable arguments), when `listing` was
    /// `no_rule`.
    pub using: Option<Verdict<'p, R, Q>>,
}

impl<'p, R, Q> Listing<'p, R, Q> {
    /// Whether use decides the listing: listing followed use, and use allows.
    #[inline]
    pub fn decided_by_use(&self) -> bool {
        self.using.as_ref().is_some_and(Verdict::is_allowed)
    }

    /// Whether the request is allowed.
    pub fn is_allowed(&self) -> bool {
        self.listing.is_allowed() || self.decided_by_use()
    }

    /// The request's verdict: the use's when it decides, else the listing's.
    #[inline]
    pub fn verdict(self) -> Verdict<'p, R, Q> {
        match self.using {
            Some(using) if using.is_allowed() => using,
            _ => self.listing,
        }
    }
}

/// Decides a `list` request: the `list` program, and when it ends in `no_rule`, the use
/// program `using` with the arguments that favour the caller (listing follows use);
/// both verdicts are kept (for `explain`).
#[inline]
pub(crate) fn list<'p, F: Facts>(
    facts: &F,
    list: Program<'p, F::Rule, F::Requirement>,
    using: Program<'p, F::Rule, F::Requirement>,
) -> Listing<'p, F::Rule, F::Requirement> {
    let listing = decide(facts, list);
    let using = follows_use(&listing).then(|| decide(&facts.favourable(), using));
    Listing { listing, using }
}

/// Whether a listing that ended in `listing` follows use: only `no_rule` does.
#[inline]
fn follows_use<R, Q>(listing: &Verdict<'_, R, Q>) -> bool {
    matches!(listing, Verdict::NoRule)
}

/// Every missing scope of the unmet requirements, every scope they need, and the first
/// unmet requirement.
fn unmet<'p, F: Facts>(
    facts: &F,
    requirements: &'p [F::Requirement],
) -> Option<(&'p F::Requirement, Scopes)> {
    let first = requirements.iter().find(|requirement| {
        facts
            .required(requirement)
            .iter()
            .any(|scope| !facts.held(*scope))
    })?;
    let mut scopes = Scopes::default();
    for scope in requirements
        .iter()
        .flat_map(|requirement| facts.required(requirement))
    {
        if !facts.held(*scope) && !scopes.missing.contains(scope) {
            scopes.missing.push(*scope);
        }
        if !scopes.required.contains(scope) {
            scopes.required.push(*scope);
        }
    }
    Some((first, scopes))
}
