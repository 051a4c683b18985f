//! Three-valued evaluation of compiled conditions.

use std::net::IpAddr;

pub(crate) use crate::arguments::Arguments;
use jiff::Timestamp;

use crate::ids::Bits;
use crate::table::{Node, Table};

/// A condition's value: true, false, or unknown (missing request data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Truth {
    /// Holds.
    True,
    /// Does not hold.
    False,
    /// Cannot be decided: the request lacks data the condition reads.
    Unknown,
}

impl Truth {
    fn not(self) -> Truth {
        match self {
            Truth::True => Truth::False,
            Truth::False => Truth::True,
            Truth::Unknown => Truth::Unknown,
        }
    }
}

impl From<bool> for Truth {
    fn from(value: bool) -> Truth {
        if value {
            Truth::True
        } else {
            Truth::False
        }
    }
}

/// What a condition reads: the principal's bits and the request's address, time and
/// arguments.
#[derive(Clone, Copy)]
pub(crate) struct Facts<'a> {
    pub table: &'a Table,
    pub roles: &'a Bits,
    pub scopes: &'a Bits,
    pub atoms: &'a Bits,
    /// Claim atoms on a path the token makes ambiguous.
    pub unknown: &'a Bits,
    pub ip: Option<IpAddr>,
    pub time: Timestamp,
    pub arguments: Arguments<'a>,
}

impl Facts<'_> {
    /// The value of `node`, reading scopes from `scopes` (the principal's, or a step-up
    /// hypothesis).
    pub fn truth(&self, node: &Node, scopes: &Bits) -> Truth {
        match node {
            Node::Const(value) => Truth::from(*value),
            Node::Scope(scope) => Truth::from(scopes.contains(scope.index())),
            Node::Role(role) => Truth::from(self.roles.contains(role.index())),
            Node::Atom(atom) if self.unknown.contains(atom.index()) => Truth::Unknown,
            Node::Atom(atom) => Truth::from(self.atoms.contains(atom.index())),
            Node::Arg { test, favourable } => match self.arguments {
                Arguments::Favourable => Truth::from(*favourable),
                Arguments::Given(arguments) => self
                    .table
                    .arg_tests
                    .get(test.index())
                    .and_then(|test| crate::arguments::holds(arguments, test))
                    .map_or(Truth::Unknown, Truth::from),
            },
            Node::Ip(network) => match self.ip {
                None => Truth::Unknown,
                Some(ip) => Truth::from(
                    self.table
                        .networks
                        .get(network.index())
                        .is_some_and(|network| network.contains(ip)),
                ),
            },
            Node::Window(window) => Truth::from(
                self.table
                    .windows
                    .get(window.index())
                    .is_some_and(|window| window.contains(self.time)),
            ),
            Node::Before(instant) => Truth::from(self.time < *instant),
            Node::After(instant) => Truth::from(self.time >= *instant),
            Node::Not(inner) => self.truth(inner, scopes).not(),
            Node::And(items) => self.all(items, scopes),
            Node::Or(items) => self.any(items, scopes),
        }
    }

    fn all(&self, items: &[Node], scopes: &Bits) -> Truth {
        let mut result = Truth::True;
        for item in items {
            match self.truth(item, scopes) {
                Truth::False => return Truth::False,
                Truth::Unknown => result = Truth::Unknown,
                Truth::True => {}
            }
        }
        result
    }

    fn any(&self, items: &[Node], scopes: &Bits) -> Truth {
        let mut result = Truth::False;
        for item in items {
            match self.truth(item, scopes) {
                Truth::True => return Truth::True,
                Truth::Unknown => result = Truth::Unknown,
                Truth::False => {}
            }
        }
        result
    }

    /// The value of condition `index` (an absent condition is true).
    pub fn condition(&self, index: Option<u32>, scopes: &Bits) -> Truth {
        match index {
            None => Truth::True,
            Some(index) => self
                .table
                .conditions
                .get(index as usize)
                .map_or(Truth::Unknown, |condition| {
                    self.truth(&condition.root, scopes)
                }),
        }
    }
}
