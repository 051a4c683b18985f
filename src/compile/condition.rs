//! Conditions compiled to trees over ids; client and claim tests become principal atoms.

use ahash::AHashMap;
use smallvec::SmallVec;

use crate::ast::Effect;
use crate::check::{ArgTest, CheckedPolicy, Cond, CondKind};
use crate::ids::{ArgTestId, PrincipalAtomId};
use crate::index::{Condition, Node, PrincipalAtom};

/// Collects compiled conditions and the principal atoms they use.
pub(super) struct Compiler<'p> {
    policy: &'p CheckedPolicy,
    atoms: Vec<PrincipalAtom>,
    atom_ids: AHashMap<PrincipalAtom, PrincipalAtomId>,
    arg_tests: Vec<ArgTest>,
    arg_test_ids: AHashMap<ArgTest, ArgTestId>,
    conditions: Vec<Condition>,
}

impl<'p> Compiler<'p> {
    pub(super) fn new(policy: &'p CheckedPolicy) -> Compiler<'p> {
        Compiler {
            policy,
            atoms: Vec::new(),
            atom_ids: AHashMap::new(),
            arg_tests: Vec::new(),
            arg_test_ids: AHashMap::new(),
            conditions: Vec::new(),
        }
    }

    /// Compiles the condition of a rule with `effect`; returns its index.
    pub(super) fn add(&mut self, condition: &Cond, effect: Effect) -> u32 {
        let root = self.node(condition, crate::arguments::favourable_at_root(effect));
        let named = self.policy.named_scopes(condition);
        let index = u32::try_from(self.conditions.len()).unwrap_or(u32::MAX);
        self.conditions.push(Condition {
            root,
            named_scopes: SmallVec::from_vec(named),
        });
        index
    }

    /// `favourable`: the value an `arg` atom here takes when the caller is favoured.
    fn node(&mut self, condition: &Cond, favourable: bool) -> Node {
        match &condition.kind {
            CondKind::Const(value) => Node::Const(*value),
            CondKind::Scope(scope) => Node::Scope(*scope),
            CondKind::Role(role) => Node::Role(*role),
            CondKind::Client(client) => self.atom(PrincipalAtom::Client(client.as_str().into())),
            CondKind::Claim(test) => self.atom(PrincipalAtom::Claim(test.clone())),
            CondKind::Arg(test) => Node::Arg {
                test: self.arg_test(test),
                favourable,
            },
            CondKind::Ip(network) => Node::Ip(*network),
            CondKind::Window(window) => Node::Window(*window),
            CondKind::Before(instant) => Node::Before(*instant),
            CondKind::After(instant) => Node::After(*instant),
            CondKind::Not(inner) => Node::Not(Box::new(self.node(inner, !favourable))),
            CondKind::And(items) => Node::And(
                items
                    .iter()
                    .map(|item| self.node(item, favourable))
                    .collect(),
            ),
            CondKind::Or(items) => Node::Or(
                items
                    .iter()
                    .map(|item| self.node(item, favourable))
                    .collect(),
            ),
        }
    }

    fn atom(&mut self, atom: PrincipalAtom) -> Node {
        let next = PrincipalAtomId::from_index(self.atoms.len());
        let id = *self.atom_ids.entry(atom.clone()).or_insert(next);
        if id == next {
            self.atoms.push(atom);
        }
        Node::Atom(id)
    }

    fn arg_test(&mut self, test: &ArgTest) -> ArgTestId {
        let next = ArgTestId::from_index(self.arg_tests.len());
        let id = *self.arg_test_ids.entry(test.clone()).or_insert(next);
        if id == next {
            self.arg_tests.push(test.clone());
        }
        id
    }

    pub(super) fn finish(self) -> (Vec<PrincipalAtom>, Vec<ArgTest>, Vec<Condition>) {
        (self.atoms, self.arg_tests, self.conditions)
    }
}
