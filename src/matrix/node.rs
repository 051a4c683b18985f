//! Conditions as the matrix evaluates them: the checked condition with the row's role
//! atoms folded to constants, simplified, and each remaining atom given a slot in the
//! cell's assignment.

use jiff::Timestamp;

use crate::check::{ClaimTest, Cond, CondKind};
use crate::decide::Truth;
use crate::ids::{NetworkId, ScopeId, WindowId};
use crate::source::Span;

/// An atom whose value the request's facts decide.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Atom {
    /// The effective scopes hold the scope.
    Scope(ScopeId),
    /// The client id equals the string.
    Client(String),
    /// A claim test.
    Claim(ClaimTest),
    /// The address is in the network.
    Ip(NetworkId),
    /// The time is in the window.
    Window(WindowId),
    /// The time is before the instant.
    Before(Timestamp),
    /// The time is at or after the instant (the negation of `Before` of the same instant).
    After(Timestamp),
}

/// A leaf: an atom and its slot in the cell's assignment (set by [`Node::assign_slots`];
/// scope atoms read the scope vector directly and need no slot).
#[derive(Debug, Clone)]
pub(crate) struct Leaf {
    pub atom: Atom,
    pub slot: usize,
}

/// A simplified condition.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub kind: NodeKind,
    /// The text the node comes from.
    pub span: Span,
}

/// The forms of a simplified condition.
#[derive(Debug, Clone)]
pub(crate) enum NodeKind {
    Const(bool),
    Leaf(Leaf),
    Not(Box<Node>),
    And(Vec<Node>),
    Or(Vec<Node>),
}

/// The values a cell's atoms take in one assignment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Env<'a> {
    /// Effective scopes, by scope id.
    pub scopes: &'a [bool],
    /// Client and claim atoms, by slot; `None` when unknown (an ambiguous claim path).
    pub principal: &'a [Option<bool>],
    /// Network atoms by slot; `None` when the request has no address.
    pub ip: Option<&'a [bool]>,
    /// Time atoms by slot (`Window`, and `Before` of each instant).
    pub time: &'a [bool],
}

/// The values the matrix gives `arg` atoms: a cell is decided once with the arguments
/// most favourable to the caller and once with the least (docs/language.md, "Listing with
/// arguments"); an allow with the least favourable holds for every call, a deny with the
/// most favourable for every call, and anything between depends on the arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ArgumentsTaken {
    /// Each `arg` atom takes the value that favours the caller in its rule.
    Favourable,
    /// Each `arg` atom takes the other value.
    Unfavourable,
}

/// How a condition is lowered: which roles are held, and what `arg` atoms become.
#[derive(Clone, Copy)]
pub(crate) struct Lowering<'a> {
    pub has_role: &'a dyn Fn(usize) -> bool,
    pub arguments: ArgumentsTaken,
}

impl Node {
    /// The condition with role atoms decided by `has_role`, `arg` atoms as `arguments`
    /// says (`favourable`: the favourable value at this node) and constants folded.
    pub fn lower(cond: &Cond, lowering: Lowering<'_>, favourable: bool) -> Node {
        let has_role = lowering.has_role;
        let leaf = |atom: Atom| NodeKind::Leaf(Leaf { atom, slot: 0 });
        let kind = match &cond.kind {
            CondKind::Arg(_) => NodeKind::Const(match lowering.arguments {
                ArgumentsTaken::Favourable => favourable,
                ArgumentsTaken::Unfavourable => !favourable,
            }),
            CondKind::Const(value) => NodeKind::Const(*value),
            CondKind::Role(role) => NodeKind::Const(has_role(role.index())),
            CondKind::Scope(scope) => leaf(Atom::Scope(*scope)),
            CondKind::Client(client) => leaf(Atom::Client(client.clone())),
            CondKind::Claim(test) => leaf(Atom::Claim(test.clone())),
            CondKind::Ip(network) => leaf(Atom::Ip(*network)),
            CondKind::Window(window) => leaf(Atom::Window(*window)),
            CondKind::Before(instant) => leaf(Atom::Before(*instant)),
            CondKind::After(instant) => leaf(Atom::After(*instant)),
            CondKind::Not(inner) => not(Node::lower(inner, lowering, !favourable)),
            CondKind::And(items) => return junction(items, cond.span, lowering, favourable, true),
            CondKind::Or(items) => return junction(items, cond.span, lowering, favourable, false),
        };
        Node {
            kind,
            span: cond.span,
        }
    }

    /// The constant this node folded to, if it did.
    pub fn constant(&self) -> Option<bool> {
        match self.kind {
            NodeKind::Const(value) => Some(value),
            _ => None,
        }
    }

    /// Every atom of the node, in order.
    pub fn atoms<'n>(&'n self, into: &mut Vec<&'n Atom>) {
        match &self.kind {
            NodeKind::Const(_) => {}
            NodeKind::Leaf(leaf) => into.push(&leaf.atom),
            NodeKind::Not(inner) => inner.atoms(into),
            NodeKind::And(items) | NodeKind::Or(items) => {
                items.iter().for_each(|item| item.atoms(into))
            }
        }
    }

    /// Gives each leaf its slot.
    pub fn assign_slots(&mut self, slot_of: &dyn Fn(&Atom) -> usize) {
        match &mut self.kind {
            NodeKind::Const(_) => {}
            NodeKind::Leaf(leaf) => leaf.slot = slot_of(&leaf.atom),
            NodeKind::Not(inner) => inner.assign_slots(slot_of),
            NodeKind::And(items) | NodeKind::Or(items) => {
                items.iter_mut().for_each(|item| item.assign_slots(slot_of))
            }
        }
    }

    /// The node's value in `env`, scopes read from `scopes`.
    pub fn truth(&self, env: &Env<'_>, scopes: &[bool]) -> Truth {
        match &self.kind {
            NodeKind::Const(value) => Truth::from(*value),
            NodeKind::Leaf(leaf) => leaf_truth(leaf, env, scopes),
            NodeKind::Not(inner) => !inner.truth(env, scopes),
            NodeKind::And(items) => Truth::all(items.iter().map(|item| item.truth(env, scopes))),
            NodeKind::Or(items) => Truth::any(items.iter().map(|item| item.truth(env, scopes))),
        }
    }
}

fn leaf_truth(leaf: &Leaf, env: &Env<'_>, scopes: &[bool]) -> Truth {
    let read = |values: &[bool]| values.get(leaf.slot).copied().unwrap_or(false);
    match &leaf.atom {
        Atom::Scope(scope) => Truth::from(scopes.get(scope.index()).copied().unwrap_or(false)),
        Atom::Client(_) | Atom::Claim(_) => match env.principal.get(leaf.slot) {
            Some(Some(value)) => Truth::from(*value),
            Some(None) => Truth::Unknown,
            None => Truth::False,
        },
        Atom::Ip(_) => env.ip.map_or(Truth::Unknown, |ip| Truth::from(read(ip))),
        Atom::Window(_) | Atom::Before(_) => Truth::from(read(env.time)),
        Atom::After(_) => Truth::from(!read(env.time)),
    }
}

fn not(inner: Node) -> NodeKind {
    match inner.constant() {
        Some(value) => NodeKind::Const(!value),
        None => NodeKind::Not(Box::new(inner)),
    }
}

/// `and` (`conjunction`) or `or` of the lowered items: the absorbing constant wins, the
/// neutral one is dropped, a single item stands alone (with its own span).
fn junction(
    items: &[Cond],
    span: Span,
    lowering: Lowering<'_>,
    favourable: bool,
    conjunction: bool,
) -> Node {
    let constant = |value| Node {
        kind: NodeKind::Const(value),
        span,
    };
    let mut kept = Vec::new();
    for item in items {
        let node = Node::lower(item, lowering, favourable);
        match node.constant() {
            Some(value) if value != conjunction => return constant(value),
            Some(_) => {}
            None => kept.push(node),
        }
    }
    if kept.len() > 1 {
        let kind = if conjunction {
            NodeKind::And(kept)
        } else {
            NodeKind::Or(kept)
        };
        return Node { kind, span };
    }
    kept.pop().unwrap_or_else(|| constant(conjunction))
}
