//! Random conditions: nested `and`/`or`/`not`/parentheses over every atom form; `arg`
//! atoms only where the rule's actions are its kind's use action alone (elsewhere they
//! are error E013).

use proptest::prelude::*;
use proptest::sample::{select, subsequence};

use super::policy::{cidr_list, quote, window_text, Context, Flavour};
use super::pools::{
    ARG_GLOBS, ARG_NUMBERS, ARG_PATHS, ARG_STRINGS, CLAIM_DECIMALS, CLAIM_INTEGERS, CLAIM_PATHS,
    CLAIM_STRINGS, CLIENTS, DATES, SCOPES,
};

/// A condition tree; atoms are already rendered.
#[derive(Debug, Clone)]
pub enum Tree {
    /// `a or b ...`.
    Or(Vec<Tree>),
    /// `a and b ...`.
    And(Vec<Tree>),
    /// `not a`.
    Not(Box<Tree>),
    /// `(a)`, written with parentheses even where none are needed.
    Group(Box<Tree>),
    /// An atom's text.
    Atom(String),
}

/// Where a tree is written: as a disjunction, a conjunction operand or a negation operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Disjunction,
    Conjunction,
    Negation,
}

impl Tree {
    /// The condition's text, with parentheses wherever precedence needs them.
    pub fn render(&self) -> String {
        self.render_at(Level::Disjunction)
    }

    fn render_at(&self, level: Level) -> String {
        match self {
            Tree::Or(children) => {
                let text = join(children, Level::Conjunction, " or ");
                parenthesize_above(text, level, Level::Disjunction)
            }
            Tree::And(children) => {
                let text = join(children, Level::Negation, " and ");
                parenthesize_above(text, level, Level::Conjunction)
            }
            Tree::Not(inner) => format!("not {}", inner.render_at(Level::Negation)),
            Tree::Group(inner) => format!("({})", inner.render_at(Level::Disjunction)),
            Tree::Atom(text) => text.clone(),
        }
    }
}

/// Children rendered at `level`, joined by `separator`.
fn join(children: &[Tree], level: Level, separator: &str) -> String {
    children
        .iter()
        .map(|child| child.render_at(level))
        .collect::<Vec<_>>()
        .join(separator)
}

/// Wraps `text` in parentheses when it is written deeper than `own` allows.
fn parenthesize_above(text: String, level: Level, own: Level) -> String {
    if level > own {
        format!("({text})")
    } else {
        text
    }
}

/// A random condition over the declarations in `context`.
pub fn tree(context: Context) -> impl Strategy<Value = Tree> {
    let Flavour { depth, size, .. } = context.flavour;
    atom(context)
        .prop_map(Tree::Atom)
        .prop_recursive(depth, size, 3, |inner| {
            prop_oneof![
                3 => proptest::collection::vec(inner.clone(), 2..=3).prop_map(Tree::Or),
                3 => proptest::collection::vec(inner.clone(), 2..=3).prop_map(Tree::And),
                2 => inner.clone().prop_map(|tree| Tree::Not(Box::new(tree))),
                1 => inner.prop_map(|tree| Tree::Group(Box::new(tree))),
            ]
        })
}

/// One atom of any form, as text.
pub fn atom(context: Context) -> BoxedStrategy<String> {
    let style = context.style;
    let mut choices: Vec<(u32, BoxedStrategy<String>)> = vec![
        (6, scope_atom(context.clone())),
        (
            2,
            select(CLIENTS.to_vec())
                .prop_map(move |client| format!("client {}", quote(client, style)))
                .boxed(),
        ),
        (2, inline_ip_atom(context.flavour.mapped_ranges)),
        (2, inline_time_atom(context.clone())),
        (2, instant_atom()),
        (4, claim_atom(context.clone())),
        (
            1,
            select(vec!["true", "false"])
                .prop_map(str::to_owned)
                .boxed(),
        ),
    ];
    if !context.roles.is_empty() {
        let roles = context.roles.clone();
        choices.push((
            3,
            select(roles)
                .prop_map(|role| format!("role {role}"))
                .boxed(),
        ));
    }
    if !context.networks.is_empty() {
        let networks = context.networks.clone();
        choices.push((
            3,
            select(networks)
                .prop_map(|name| format!("ip in {name}"))
                .boxed(),
        ));
    }
    if context.arguments && context.flavour.arg_weight > 0 {
        choices.push((context.flavour.arg_weight, arg_atom(style)));
    }
    if !context.windows.is_empty() {
        let windows = context.windows.clone();
        choices.push((
            3,
            select(windows)
                .prop_map(|name| format!("time in {name}"))
                .boxed(),
        ));
    }
    proptest::strategy::Union::new_weighted(choices).boxed()
}

/// `scope "S"`, sometimes a scope nobody declared.
fn scope_atom(context: Context) -> BoxedStrategy<String> {
    let style = context.style;
    prop_oneof![
        9 => select(SCOPES.to_vec()),
        1 => Just("extra:scope"),
    ]
    .prop_map(move |scope| format!("scope {}", quote(scope, style)))
    .boxed()
}

/// `ip in [CIDR, ...]`.
fn inline_ip_atom(mapped: bool) -> BoxedStrategy<String> {
    cidr_list(mapped)
        .prop_map(|list| format!("ip in {list}"))
        .boxed()
}

/// `time in [WINDOW]`.
fn inline_time_atom(context: Context) -> BoxedStrategy<String> {
    window_text(context.style)
        .prop_map(|window| format!("time in [{window}]"))
        .boxed()
}

/// `time before S` / `time after S` with an RFC 3339 instant near the request times.
fn instant_atom() -> BoxedStrategy<String> {
    (select(vec!["before", "after"]), instant())
        .prop_map(|(word, instant)| format!("time {word} \"{instant}\""))
        .boxed()
}

/// An RFC 3339 instant on a pooled date, in UTC or with an offset, sometimes fractional.
pub fn instant() -> impl Strategy<Value = String> {
    (
        select(DATES.to_vec()),
        0u32..24,
        select(vec![0u32, 0, 30, 59]),
        select(vec![0u32, 0, 59]),
        select(vec!["", "", ".5", ".000000001"]),
        select(vec!["Z", "Z", "+00:00", "+02:00", "-05:00", "+10:30"]),
    )
        .prop_map(|(date, hour, minute, second, fraction, offset)| {
            format!("{date}T{hour:02}:{minute:02}:{second:02}{fraction}{offset}")
        })
}

/// `claim S == | != | contains LITERAL` or `claim S exists`.
fn claim_atom(context: Context) -> BoxedStrategy<String> {
    let style = context.style;
    let path = select(CLAIM_PATHS.to_vec());
    let comparison = (select(vec!["==", "!=", "contains"]), literal(style))
        .prop_map(|(operator, literal)| format!("{operator} {literal}"));
    let test = prop_oneof![3 => comparison, 1 => Just("exists".to_owned())];
    (path, test)
        .prop_map(move |(path, test)| format!("claim {} {test}", quote(path, style)))
        .boxed()
}

/// A string, integer, decimal or boolean literal.
fn literal(style: super::policy::Style) -> BoxedStrategy<String> {
    prop_oneof![
        3 => select(CLAIM_STRINGS.to_vec()).prop_map(move |text| quote(text, style)),
        2 => select(CLAIM_INTEGERS.to_vec()).prop_map(|integer| integer.to_string()),
        1 => select(CLAIM_DECIMALS.to_vec()).prop_map(str::to_owned),
        1 => select(vec!["true", "false"]).prop_map(str::to_owned),
    ]
    .boxed()
}

/// `arg S OP ...`: every operator (`==`, `!=`, `in`, `contains`, `matches`, `<`, `<=`,
/// `>`, `>=`, `exists`) on a pooled path, with string, integer, decimal and boolean
/// literals.
fn arg_atom(style: super::policy::Style) -> BoxedStrategy<String> {
    let compare = (select(vec!["==", "!="]), arg_literal(style))
        .prop_map(|(operator, literal)| format!("{operator} {literal}"));
    let listed = proptest::collection::vec(arg_literal(style), 1..=3)
        .prop_map(|literals| format!("in [{}]", literals.join(", ")));
    let contains = arg_literal(style).prop_map(|literal| format!("contains {literal}"));
    let matches =
        select(ARG_GLOBS.to_vec()).prop_map(move |glob| format!("matches {}", quote(glob, style)));
    let order = (
        select(vec!["<", "<=", ">", ">="]),
        select(ARG_NUMBERS.to_vec()),
    )
        .prop_map(|(operator, number)| format!("{operator} {number}"));
    let test = prop_oneof![
        3 => compare,
        2 => listed,
        2 => contains,
        3 => matches,
        3 => order,
        1 => Just("exists".to_owned()),
    ];
    (select(ARG_PATHS.to_vec()), test)
        .prop_map(move |(path, test)| format!("arg {} {test}", quote(path, style)))
        .boxed()
}

/// A literal an argument is compared with: strings, integers and decimals around the
/// request values, booleans.
fn arg_literal(style: super::policy::Style) -> BoxedStrategy<String> {
    prop_oneof![
        3 => select(ARG_STRINGS.to_vec()).prop_map(move |text| quote(text, style)),
        3 => select(ARG_NUMBERS.to_vec()).prop_map(str::to_owned),
        1 => select(vec!["true", "false"]).prop_map(str::to_owned),
    ]
    .boxed()
}

/// A condition clause: ` if C` or ` unless C`, sometimes on its own line.
pub fn clause(context: Context) -> impl Strategy<Value = String> {
    (
        select(vec!["if", "unless"]),
        select(vec![" ", " ", "\n  "]),
        tree(context),
    )
        .prop_map(|(keyword, separator, tree)| format!("{separator}{keyword} {}", tree.render()))
}

/// Distinct role names for a rule's subjects, or `anyone`.
pub fn subjects(context: Context) -> BoxedStrategy<String> {
    if context.roles.is_empty() {
        return Just("anyone".to_owned()).boxed();
    }
    let most = context.roles.len().min(3);
    let anyone = context.flavour.anyone.clamp(1, 2);
    prop_oneof![
        anyone => Just("anyone".to_owned()),
        3 - anyone => subsequence(context.roles.clone(), 1..=most).prop_shuffle().prop_map(|roles| roles.join(", ")),
    ]
    .boxed()
}
