//! Conditions, from pairs to [`ast::Expr`] without recursion.
//!
//! A condition nests as deep as its parentheses and `not`s. The nesting check bounds
//! that depth before the grammar runs, and this builder walks the pairs with a stack of
//! its own, so building never needs more native stack for a deeper condition.

use pest::iterators::{Pair, Pairs};

use super::grammar::Rule;
use crate::ast::{Expr, ExprKind};
use crate::source::Span;

/// What building a condition needs from the statement builder: spans, and the atoms
/// (whose forms are the statements' business: literals, windows, networks).
pub(super) trait Atoms {
    /// The span of `pair`.
    fn span(&self, pair: &Pair<'_, Rule>) -> Span;
    /// The expression of an `atom` pair, spanning `span`.
    fn atom_expr(&mut self, atom: Pair<'_, Rule>, span: Span) -> Option<Expr>;
}

/// The expression of a `disjunction` pair.
pub(super) fn build<A: Atoms>(builder: &mut A, disjunction: Pair<'_, Rule>) -> Option<Expr> {
    let mut walk = Walk {
        builder,
        frames: Vec::new(),
    };
    let mut step = Step::Enter(disjunction);
    loop {
        step = match step {
            Step::Enter(pair) => walk.enter(pair)?,
            Step::Leave(expr) => walk.leave(expr),
            Step::Done(expr) => return Some(expr),
            Step::Next => walk.next()?,
        };
    }
}

/// What the walk does next.
enum Step<'i> {
    /// Start on a pair.
    Enter(Pair<'i, Rule>),
    /// Hand a finished expression to the innermost open frame.
    Leave(Expr),
    /// Move to the innermost list's next operand.
    Next,
    /// The whole condition is built.
    Done(Expr),
}

/// An expression being built, waiting for its operands.
enum Frame<'i> {
    /// `a or b ...` or `a and b ...`: the operands left and those built.
    List {
        is_or: bool,
        span: Span,
        rest: Pairs<'i, Rule>,
        operands: Vec<Expr>,
    },
    /// `not a`, waiting for `a`.
    Not(Span),
    /// `( a )`, waiting for `a`.
    Group(Span),
}

/// The state of one walk over a condition's pairs.
struct Walk<'b, 'i, A> {
    builder: &'b mut A,
    frames: Vec<Frame<'i>>,
}

impl<'i, A: Atoms> Walk<'_, 'i, A> {
    /// Opens a frame for `pair`, or builds it when it is an atom.
    fn enter(&mut self, pair: Pair<'i, Rule>) -> Option<Step<'i>> {
        let span = self.builder.span(&pair);
        if matches!(pair.as_rule(), Rule::disjunction | Rule::conjunction) {
            self.frames.push(Frame::List {
                is_or: pair.as_rule() == Rule::disjunction,
                span,
                rest: pair.into_inner(),
                operands: Vec::new(),
            });
            return Some(Step::Next);
        }
        let mut inner = pair.into_inner();
        let first = inner.next()?;
        match first.as_rule() {
            Rule::kw_not => {
                self.frames.push(Frame::Not(span));
                Some(Step::Enter(inner.next()?))
            }
            Rule::group => {
                self.frames.push(Frame::Group(span));
                let body = first
                    .into_inner()
                    .find(|child| child.as_rule() == Rule::disjunction)?;
                Some(Step::Enter(body))
            }
            _ => Some(Step::Leave(self.builder.atom_expr(first, span)?)),
        }
    }

    /// Gives `expr` to the innermost frame; with no frame left, it is the condition.
    fn leave(&mut self, expr: Expr) -> Step<'i> {
        match self.frames.last_mut() {
            None => Step::Done(expr),
            Some(Frame::List { operands, .. }) => {
                operands.push(expr);
                Step::Next
            }
            Some(Frame::Not(span)) => {
                let kind = ExprKind::Not(Box::new(expr));
                let span = *span;
                self.frames.pop();
                Step::Leave(Expr { kind, span })
            }
            Some(Frame::Group(span)) => {
                let span = *span;
                self.frames.pop();
                Step::Leave(Expr { span, ..expr })
            }
        }
    }

    /// Enters the innermost list's next operand, or closes the list.
    fn next(&mut self) -> Option<Step<'i>> {
        let Some(Frame::List { rest, .. }) = self.frames.last_mut() else {
            return None;
        };
        let operand =
            rest.find(|child| matches!(child.as_rule(), Rule::conjunction | Rule::negation));
        if let Some(operand) = operand {
            return Some(Step::Enter(operand));
        }
        let Some(Frame::List {
            is_or,
            span,
            mut operands,
            ..
        }) = self.frames.pop()
        else {
            return None;
        };
        if operands.len() == 1 {
            return operands.pop().map(Step::Leave);
        }
        let kind = if is_or {
            ExprKind::Or(operands)
        } else {
            ExprKind::And(operands)
        };
        Some(Step::Leave(Expr { kind, span }))
    }
}
