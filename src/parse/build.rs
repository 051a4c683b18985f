//! From pest pairs to the syntax tree.
//!
//! The grammar has already shaped the text, so building only reads pairs in order.
//! Strings get their escapes applied and integers their value here; a bad escape or an
//! integer out of range is an E001 located at it, and the statement is still built.
//! A node's span runs from its first token to the end of its last token (pest's own
//! spans can take in the whitespace after a node).

use pest::iterators::Pair;

use super::escape;
use super::grammar::Rule;
use crate::ast;
use crate::diagnostic::{Code, Diagnostic};
use crate::source::{SourceId, Span};

/// Builds the syntax tree of one statement.
pub(super) struct Builder<'out> {
    /// The statement's file.
    source: SourceId,
    /// Where the text given to pest starts in the file.
    offset: usize,
    /// Errors found while building (bad escapes, integers out of range).
    diagnostics: &'out mut Vec<Diagnostic>,
}

impl<'out> Builder<'out> {
    /// A builder for pairs of text that starts at `offset` in `source`.
    pub fn new(
        source: SourceId,
        offset: usize,
        diagnostics: &'out mut Vec<Diagnostic>,
    ) -> Builder<'out> {
        Builder {
            source,
            offset,
            diagnostics,
        }
    }

    /// The span of `pair`, up to the end of its last token.
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let start = pair.as_span().start();
        Span::new(
            self.source,
            self.offset + start,
            self.offset + token_end(pair),
        )
    }

    fn error(&mut self, span: Span, message: String, help: String) {
        self.diagnostics
            .push(Diagnostic::new(Code::E001, span, message).with_help(help));
    }

    /// The statement of a `statement` pair; `None` if the pairs do not have the
    /// grammar's shape (a parser bug).
    pub fn statement(&mut self, pair: Pair<'_, Rule>) -> Option<ast::Statement> {
        let span = self.span(&pair);
        let inner = pair.into_inner().next()?;
        let kind = match inner.as_rule() {
            Rule::timezone_statement => self.timezone(inner)?,
            Rule::claims_statement => ast::StatementKind::Claims(self.claims(inner)?),
            Rule::scope_statement => ast::StatementKind::Scope(self.scope(inner)),
            Rule::role_statement => ast::StatementKind::Role(self.role(inner)?),
            Rule::network_statement => ast::StatementKind::Network(self.network(inner)?),
            Rule::window_statement => ast::StatementKind::Window(self.window_statement(inner)?),
            Rule::rule_statement => ast::StatementKind::Rule(self.rule(inner)?),
            Rule::requirement_statement => {
                ast::StatementKind::Requirement(self.requirement(inner)?)
            }
            _ => return None,
        };
        Some(ast::Statement { kind, span })
    }

    fn timezone(&mut self, pair: Pair<'_, Rule>) -> Option<ast::StatementKind> {
        let zone = pair
            .into_inner()
            .find(|child| child.as_rule() == Rule::string)?;
        Some(ast::StatementKind::Timezone(self.text(&zone)))
    }

    fn claims(&mut self, pair: Pair<'_, Rule>) -> Option<ast::ClaimsBlock> {
        let lines = pair
            .into_inner()
            .filter(|child| child.as_rule() == Rule::claims_line)
            .map(|line| self.claims_line(line))
            .collect::<Option<Vec<_>>>()?;
        Some(ast::ClaimsBlock { lines })
    }

    fn claims_line(&mut self, pair: Pair<'_, Rule>) -> Option<ast::ClaimsLine> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let field_pair = inner.next()?;
        let field = match field_pair.as_str() {
            "roles" => ast::ClaimField::Roles,
            "scopes" => ast::ClaimField::Scopes,
            _ => ast::ClaimField::Client,
        };
        Some(ast::ClaimsLine {
            field,
            field_span: self.span(&field_pair),
            paths: self.strings(inner),
            span,
        })
    }

    fn scope(&mut self, pair: Pair<'_, Rule>) -> ast::ScopeDecl {
        let mut declaration = ast::ScopeDecl {
            scopes: Vec::new(),
            implies: Vec::new(),
        };
        let mut implied = false;
        for child in pair.into_inner() {
            match child.as_rule() {
                Rule::kw_implies => implied = true,
                Rule::string if implied => declaration.implies.push(self.text(&child)),
                Rule::string => declaration.scopes.push(self.text(&child)),
                _ => {}
            }
        }
        declaration
    }

    fn role(&mut self, pair: Pair<'_, Rule>) -> Option<ast::RoleDecl> {
        let mut names = Vec::new();
        let mut aka = Vec::new();
        for child in pair.into_inner() {
            match child.as_rule() {
                Rule::role_name => names.push(self.ident(&child)),
                Rule::string => aka.push(self.text(&child)),
                _ => {}
            }
        }
        let mut names = names.into_iter();
        Some(ast::RoleDecl {
            name: names.next()?,
            inherits: names.collect(),
            aka,
        })
    }

    fn network(&mut self, pair: Pair<'_, Rule>) -> Option<ast::NetworkDecl> {
        let mut inner = pair.into_inner();
        let name = inner.find(|child| child.as_rule() == Rule::network_name)?;
        let list = inner.find(|child| child.as_rule() == Rule::cidr_list)?;
        Some(ast::NetworkDecl {
            name: self.ident(&name),
            cidrs: self.cidrs(list),
        })
    }

    fn cidrs(&mut self, list: Pair<'_, Rule>) -> Vec<ast::Cidr> {
        list.into_inner()
            .filter(|child| child.as_rule() == Rule::cidr)
            .map(|cidr| ast::Cidr {
                text: cidr.as_str().to_string(),
                span: self.span(&cidr),
            })
            .collect()
    }

    fn window_statement(&mut self, pair: Pair<'_, Rule>) -> Option<ast::WindowDecl> {
        let mut inner = pair.into_inner();
        let name = inner.find(|child| child.as_rule() == Rule::window_name)?;
        let window = inner.find(|child| child.as_rule() == Rule::window)?;
        Some(ast::WindowDecl {
            name: self.ident(&name),
            window: self.window(window)?,
        })
    }

    fn window(&mut self, pair: Pair<'_, Rule>) -> Option<ast::Window> {
        let mut window = ast::Window {
            days: None,
            hours: None,
            tz: None,
            span: self.span(&pair),
        };
        for child in pair.into_inner() {
            match child.as_rule() {
                Rule::days => window.days = Some(self.days(child)?),
                Rule::hours => window.hours = Some(self.hours(child)?),
                Rule::window_zone => {
                    let zone = child
                        .into_inner()
                        .find(|part| part.as_rule() == Rule::string)?;
                    window.tz = Some(self.text(&zone));
                }
                _ => {}
            }
        }
        Some(window)
    }

    fn days(&mut self, pair: Pair<'_, Rule>) -> Option<ast::Days> {
        let span = self.span(&pair);
        let items = pair
            .into_inner()
            .filter(|child| child.as_rule() == Rule::day_item)
            .map(|item| self.day_item(item))
            .collect::<Option<Vec<_>>>()?;
        Some(ast::Days { items, span })
    }

    fn day_item(&mut self, pair: Pair<'_, Rule>) -> Option<ast::DayItem> {
        let span = self.span(&pair);
        let mut days = pair
            .into_inner()
            .filter(|child| child.as_rule() == Rule::day)
            .map(|day| day_of(day.as_str()));
        let first = days.next()??;
        Some(match days.next() {
            Some(last) => ast::DayItem::Range(first, last?, span),
            None => ast::DayItem::Single(first, span),
        })
    }

    fn hours(&mut self, pair: Pair<'_, Rule>) -> Option<ast::Hours> {
        let span = self.span(&pair);
        let mut times = pair
            .into_inner()
            .filter(|child| child.as_rule() == Rule::clock_time)
            .map(|time| self.clock_time(&time));
        Some(ast::Hours {
            start: times.next()?,
            end: times.next()?,
            span,
        })
    }

    fn clock_time(&self, pair: &Pair<'_, Rule>) -> ast::ClockTime {
        let (hour, minute) = pair.as_str().split_once(':').unwrap_or((pair.as_str(), ""));
        ast::ClockTime {
            hour: saturating_number(hour),
            minute: saturating_number(minute),
            span: self.span(pair),
        }
    }

    fn rule(&mut self, pair: Pair<'_, Rule>) -> Option<ast::Rule> {
        let mut effect = ast::Effect::Allow;
        let mut anyone = None;
        let mut roles = Vec::new();
        let mut target = Target::default();
        let mut condition = None;
        for child in pair.into_inner() {
            match child.as_rule() {
                Rule::effect if child.as_str() == "deny" => effect = ast::Effect::Deny,
                Rule::kw_anyone => anyone = Some(self.span(&child)),
                Rule::role_name => roles.push(self.ident(&child)),
                Rule::condition => condition = Some(self.condition(child)?),
                _ => target.add(self, &child),
            }
        }
        let subjects = match anyone {
            Some(span) => ast::Subjects::Anyone(span),
            None => ast::Subjects::Roles(roles),
        };
        Some(ast::Rule {
            effect,
            subjects,
            actions: target.actions,
            kind: target.kind?,
            patterns: target.patterns,
            condition,
        })
    }

    fn requirement(&mut self, pair: Pair<'_, Rule>) -> Option<ast::Requirement> {
        let mut scopes = Vec::new();
        let mut target = Target::default();
        let mut after_to = false;
        for child in pair.into_inner() {
            match child.as_rule() {
                Rule::kw_to => after_to = true,
                Rule::string if !after_to => scopes.push(self.text(&child)),
                _ => target.add(self, &child),
            }
        }
        Some(ast::Requirement {
            scopes,
            actions: target.actions,
            kind: target.kind?,
            patterns: target.patterns,
        })
    }

    fn condition(&mut self, pair: Pair<'_, Rule>) -> Option<ast::Condition> {
        let mut inner = pair.into_inner();
        let keyword = inner.next()?;
        let mode = match keyword.as_rule() {
            Rule::kw_unless => ast::ConditionMode::Unless,
            _ => ast::ConditionMode::If,
        };
        Some(ast::Condition {
            mode,
            keyword_span: self.span(&keyword),
            expr: super::condition::build(self, inner.next()?)?,
        })
    }

    fn atom(&mut self, pair: Pair<'_, Rule>) -> Option<ast::Atom> {
        Some(match pair.as_rule() {
            Rule::kw_true => ast::Atom::Bool(true),
            Rule::kw_false => ast::Atom::Bool(false),
            Rule::scope_atom => ast::Atom::Scope(self.text(&last_child(pair)?)),
            Rule::client_atom => ast::Atom::Client(self.text(&last_child(pair)?)),
            Rule::role_atom => ast::Atom::Role(self.ident(&last_child(pair)?)),
            Rule::ip_atom => ast::Atom::IpIn(self.network_ref(last_child(pair)?)),
            Rule::time_atom => self.time_atom(pair)?,
            Rule::claim_atom => self.claim_atom(pair)?,
            Rule::arg_atom => self.arg_atom(pair)?,
            _ => return None,
        })
    }

    fn network_ref(&mut self, pair: Pair<'_, Rule>) -> ast::NetworkRef {
        match pair.as_rule() {
            Rule::cidr_list => ast::NetworkRef::Inline(self.cidrs(pair)),
            _ => ast::NetworkRef::Named(self.ident(&pair)),
        }
    }

    fn time_atom(&mut self, pair: Pair<'_, Rule>) -> Option<ast::Atom> {
        let mut inner = pair.into_inner().skip(1);
        let keyword = inner.next()?;
        let operand = inner.next()?;
        Some(match (keyword.as_rule(), operand.as_rule()) {
            (Rule::kw_before, _) => ast::Atom::TimeBefore(self.text(&operand)),
            (Rule::kw_after, _) => ast::Atom::TimeAfter(self.text(&operand)),
            (_, Rule::inline_window) => {
                let window = operand
                    .into_inner()
                    .find(|child| child.as_rule() == Rule::window)?;
                ast::Atom::TimeIn(ast::WindowRef::Inline(self.window(window)?))
            }
            _ => ast::Atom::TimeIn(ast::WindowRef::Named(self.ident(&operand))),
        })
    }

    fn claim_atom(&mut self, pair: Pair<'_, Rule>) -> Option<ast::Atom> {
        let mut inner = pair.into_inner().skip(1);
        let path = self.text(&inner.next()?);
        let test = inner.next()?;
        Some(match test.as_rule() {
            Rule::kw_exists => ast::Atom::ClaimExists { path },
            Rule::kw_contains => ast::Atom::ClaimContains {
                path,
                value: self.literal(inner.next()?)?,
            },
            _ => ast::Atom::ClaimCompare {
                path,
                op: match test.as_str() {
                    "!=" => ast::CompareOp::Ne,
                    _ => ast::CompareOp::Eq,
                },
                value: self.literal(inner.next()?)?,
            },
        })
    }

    fn arg_atom(&mut self, pair: Pair<'_, Rule>) -> Option<ast::Atom> {
        let mut inner = pair.into_inner().skip(1);
        let path = self.text(&inner.next()?);
        let test = inner.next()?;
        let test = match test.as_rule() {
            Rule::kw_exists => ast::ArgOperator::Exists,
            Rule::kw_contains => ast::ArgOperator::Contains(self.literal(inner.next()?)?),
            Rule::kw_matches => ast::ArgOperator::Matches(self.text(&inner.next()?)),
            Rule::kw_in => {
                let list = inner.next()?;
                let literals = list
                    .into_inner()
                    .filter(|child| child.as_rule() == Rule::literal)
                    .map(|child| self.literal(child))
                    .collect::<Option<Vec<_>>>()?;
                ast::ArgOperator::In(literals)
            }
            Rule::order => ast::ArgOperator::Order {
                op: match test.as_str() {
                    "<" => ast::OrderOp::Less,
                    "<=" => ast::OrderOp::LessOrEqual,
                    ">" => ast::OrderOp::Greater,
                    _ => ast::OrderOp::GreaterOrEqual,
                },
                value: self.literal(inner.next()?)?,
            },
            _ => ast::ArgOperator::Compare {
                op: match test.as_str() {
                    "!=" => ast::CompareOp::Ne,
                    _ => ast::CompareOp::Eq,
                },
                value: self.literal(inner.next()?)?,
            },
        };
        Some(ast::Atom::Arg { path, test })
    }

    /// A `literal` or `number` pair.
    fn literal(&mut self, pair: Pair<'_, Rule>) -> Option<ast::Literal> {
        let span = self.span(&pair);
        let value = pair.into_inner().next()?;
        let value = match value.as_rule() {
            Rule::string => ast::LiteralValue::String(self.text(&value).value),
            Rule::integer => ast::LiteralValue::Integer(self.integer(&value)),
            Rule::decimal => ast::LiteralValue::Decimal(self.decimal(&value)),
            Rule::kw_true => ast::LiteralValue::Bool(true),
            _ => ast::LiteralValue::Bool(false),
        };
        Some(ast::Literal { value, span })
    }

    fn integer(&mut self, pair: &Pair<'_, Rule>) -> i64 {
        pair.as_str().parse().unwrap_or_else(|_| {
            self.error(
                self.span(pair),
                format!("integer `{}` is out of range", pair.as_str()),
                format!("integers go from `{}` to `{}`", i64::MIN, i64::MAX),
            );
            0
        })
    }

    fn decimal(&mut self, pair: &Pair<'_, Rule>) -> ast::Decimal {
        ast::Decimal::parse(pair.as_str()).unwrap_or_else(|| {
            self.error(
                self.span(pair),
                format!("number `{}` is out of range", pair.as_str()),
                "decimals must be finite".to_string(),
            );
            ast::Decimal::parse("0.0").unwrap_or_else(ast::Decimal::zero)
        })
    }

    /// The strings among `pairs`.
    fn strings<'i>(&mut self, pairs: impl Iterator<Item = Pair<'i, Rule>>) -> Vec<ast::Text> {
        pairs
            .filter(|pair| pair.as_rule() == Rule::string)
            .map(|pair| self.text(&pair))
            .collect()
    }

    /// A string literal's value; bad escapes are reported.
    fn text(&mut self, pair: &Pair<'_, Rule>) -> ast::Text {
        let (value, errors) = escape::decode(pair.as_str());
        let start = self.offset + pair.as_span().start();
        for error in errors {
            let span = Span::new(
                self.source,
                start + error.range.start,
                start + error.range.end,
            );
            self.error(span, error.message, error.help);
        }
        ast::Text {
            value,
            span: self.span(pair),
        }
    }

    fn ident(&self, pair: &Pair<'_, Rule>) -> ast::Ident {
        ast::Ident {
            name: pair.as_str().to_string(),
            span: self.span(pair),
        }
    }
}

/// The actions, kind and patterns of a rule or requirement, read in order.
#[derive(Default)]
struct Target {
    actions: Vec<ast::ActionName>,
    kind: Option<ast::KindName>,
    patterns: Vec<ast::Text>,
}

impl Target {
    fn add(&mut self, builder: &mut Builder<'_>, pair: &Pair<'_, Rule>) {
        match pair.as_rule() {
            Rule::action => {
                if let Some(action) = ast::Action::from_keyword(pair.as_str()) {
                    let span = builder.span(pair);
                    self.actions.push(ast::ActionName { action, span });
                }
            }
            Rule::kind => {
                if let Some(kind) = kind_of(pair.as_str()) {
                    let span = builder.span(pair);
                    self.kind = Some(ast::KindName { kind, span });
                }
            }
            Rule::string => self.patterns.push(builder.text(pair)),
            _ => {}
        }
    }
}

/// The kind a kind keyword names (singular or plural).
fn kind_of(word: &str) -> Option<ast::Kind> {
    ast::Kind::ALL
        .into_iter()
        .find(|kind| word == kind.singular() || word == kind.plural())
}

/// The day a day keyword names.
fn day_of(word: &str) -> Option<ast::Day> {
    ast::Day::ALL.into_iter().find(|day| day.keyword() == word)
}

/// A run of digits as a number, saturating at `u32::MAX`.
fn saturating_number(digits: &str) -> u32 {
    digits
        .bytes()
        .filter(u8::is_ascii_digit)
        .fold(0u32, |value, digit| {
            value
                .saturating_mul(10)
                .saturating_add(u32::from(digit - b'0'))
        })
}

/// The last child of `pair`.
fn last_child<'i>(pair: Pair<'i, Rule>) -> Option<Pair<'i, Rule>> {
    pair.into_inner().last()
}

/// The end of the last token of `pair` (its last innermost pair).
fn token_end(pair: &Pair<'_, Rule>) -> usize {
    let mut current = pair.clone();
    while let Some(last) = current.clone().into_inner().last() {
        current = last;
    }
    current.as_span().end()
}

impl super::condition::Atoms for Builder<'_> {
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        Builder::span(self, pair)
    }

    fn atom_expr(&mut self, atom: Pair<'_, Rule>, span: Span) -> Option<ast::Expr> {
        let atom = self.atom(atom.into_inner().next()?)?;
        Some(ast::Expr {
            kind: ast::ExprKind::Atom(atom),
            span,
        })
    }
}
