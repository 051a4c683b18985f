//! Random valid policy texts.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{select, subsequence};

use toolgate::Kind;

use super::condition::{clause, subjects};
use super::pools::{
    owned, AKA_VALUES, BOUND_SCOPES, CIDRS, CLIENT_PATHS, MAPPED_CIDRS, NAMES, NETWORK_NAMES,
    PATTERNS, ROLE_NAMES, ROLE_PATHS, SCOPES, SCOPE_PATHS, WINDOW_NAMES, ZONES,
};
use super::request::{argument_hints, ArgHint};

/// How strings are written: with raw glob escapes (`"lit\*star"`) or doubled
/// backslashes (`"lit\\*star"`), and non-ASCII characters raw or as `\u{...}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Write `\*` and `\?` raw in the string rather than as `\\*`, `\\?`.
    pub raw_glob_escapes: bool,
    /// Write non-ASCII characters as `\u{HEX}`.
    pub unicode_escapes: bool,
}

/// What a policy declares, for the statements that refer to it.
#[derive(Debug, Clone)]
pub struct Context {
    /// Declared roles, in declaration (inheritance) order.
    pub roles: Vec<String>,
    /// Declared network names.
    pub networks: Vec<String>,
    /// Declared window names.
    pub windows: Vec<String>,
    /// How strings are written.
    pub style: Style,
    /// Whether the condition may test arguments (the rule's actions are its kind's use
    /// action alone, `call` or `get`).
    pub arguments: bool,
    /// How often each form is drawn.
    pub flavour: Flavour,
}

/// How often the generators draw the forms the v1.1 arguments concern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flavour {
    /// The weight of `arg` atoms among atoms, where allowed (the other forms weigh 28
    /// together: scope atoms 6, claim atoms 4, ...).
    pub arg_weight: u32,
    /// The weights of a rule's or requirement's actions being its kind's use action
    /// alone, `list` alone, and both.
    pub actions: [u32; 3],
    /// How deep a condition nests (`and`, `or`, `not` and parentheses) at most.
    pub depth: u32,
    /// How many atoms a condition aims at.
    pub size: u32,
    /// The chance, in percent, that a rule has a condition.
    pub conditional: u32,
    /// How many requirements a policy has at most.
    pub requirements: usize,
    /// Of three rules, how many have `anyone` as subjects (the rest: roles); 1 or 2.
    pub anyone: u32,
    /// How many files a policy is split into at most (statements go to a random file,
    /// so rules name roles, scopes, networks and windows another file defines).
    pub files: usize,
    /// The chance, in percent, that a policy has a rule naming enough scopes that its
    /// step-up search can reach the engine's bound of 4096 tries.
    pub bound: u32,
    /// Whether ranges include IPv4-mapped IPv6 ones (`::ffff:10.0.0.0/104`).
    pub mapped_ranges: bool,
}

impl Flavour {
    /// Every form, `arg` atoms among them.
    pub const MIXED: Flavour = Flavour {
        arg_weight: 4,
        actions: [2, 1, 2],
        depth: 3,
        size: 10,
        conditional: 60,
        requirements: 3,
        anyone: 1,
        files: 1,
        bound: 0,
        mapped_ranges: false,
    };
    /// Language v1.0 only: no `arg` atoms (requests still carry arguments, which then
    /// change nothing), actions drawn as before v1.1.
    pub const V1: Flavour = Flavour {
        arg_weight: 0,
        actions: [1, 1, 2],
        depth: 3,
        size: 10,
        conditional: 60,
        requirements: 3,
        anyone: 1,
        files: 1,
        bound: 0,
        mapped_ranges: false,
    };
    /// Mostly `call` and `get` rules with smaller conditions, mostly on arguments.
    pub const ARGUMENTS: Flavour = Flavour {
        arg_weight: 40,
        actions: [6, 1, 1],
        depth: 3,
        size: 5,
        conditional: 80,
        requirements: 1,
        anyone: 2,
        files: 1,
        bound: 0,
        mapped_ranges: false,
    };

    /// This flavour with what the differential test adds: up to three files,
    /// IPv4-mapped ranges, and now and then a rule that can reach the step-up bound.
    pub const fn widened(self) -> Flavour {
        Flavour {
            files: 3,
            bound: 10,
            mapped_ranges: true,
            ..self
        }
    }
}

/// A generated policy: its files, and the glob patterns its rules and requirements use
/// (so that requests can be aimed at them).
#[derive(Debug, Clone)]
pub struct Generated {
    /// `(file name, text)` in policy order (names sorted, as a directory is read).
    pub files: Vec<(String, String)>,
    /// What each rule and requirement is about.
    pub targets: Vec<Aim>,
    /// Whether a rule names the step-up-bound scopes ([`BOUND_SCOPES`]).
    pub bound: bool,
}

/// Every file's text, each after a `# == NAME` line (for messages).
pub fn listing(files: &[(String, String)]) -> String {
    files
        .iter()
        .map(|(name, text)| format!("# == {name}\n{text}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The names of a policy's files, in policy order.
const FILE_NAMES: [&str; 3] = ["a.policy", "b.policy", "c.policy"];

/// The kind of a rule or requirement and its patterns' string values (as the glob sees
/// them).
#[derive(Debug, Clone)]
pub struct Aim {
    /// The kind.
    pub kind: Kind,
    /// The patterns' values.
    pub patterns: Vec<String>,
    /// What the rule's `arg` atoms test (none for requirements).
    pub hints: Vec<ArgHint>,
}

/// A statement's text and what it is about, if it is a rule or requirement.
type Piece = (String, Option<Aim>);

/// A random valid policy text (one file: use a flavour with `files: 1`).
pub fn policy_text(flavour: Flavour) -> impl Strategy<Value = String> {
    policy(flavour).prop_map(|generated| {
        generated
            .files
            .into_iter()
            .map(|(_, text)| text)
            .collect::<String>()
    })
}

/// A random valid policy with what its rules and requirements are about.
pub fn policy(flavour: Flavour) -> impl Strategy<Value = Generated> {
    let most_files = flavour.files.clamp(1, FILE_NAMES.len());
    context(flavour)
        .prop_flat_map(statements)
        .prop_flat_map(move |pieces| {
            let count = pieces.len();
            (
                Just(pieces).prop_shuffle(),
                vec(separator(), count),
                vec(0..most_files, count),
                1..=most_files,
            )
        })
        .prop_map(|(pieces, separators, places, file_count)| {
            let mut texts = vec![String::new(); file_count];
            let mut targets = Vec::new();
            let mut bound = false;
            for (((statement, aim), separator), place) in
                pieces.into_iter().zip(separators).zip(places)
            {
                bound |= statement.contains("\"bound.*\"");
                let text = &mut texts[place % file_count];
                text.push_str(&statement);
                text.push_str(separator);
                targets.extend(aim);
            }
            let files = FILE_NAMES
                .iter()
                .map(|name| (*name).to_owned())
                .zip(texts)
                .collect();
            Generated {
                files,
                targets,
                bound,
            }
        })
}

/// What goes between statements: newlines, blank lines, comments, or a single space.
fn separator() -> impl Strategy<Value = &'static str> {
    select(vec![
        "\n",
        "\n",
        "\n\n",
        "\n# a comment\n",
        "  # trailing comment\n",
        " ",
    ])
}

/// The declared names and the string style.
fn context(flavour: Flavour) -> impl Strategy<Value = Context> {
    (
        Just(owned(&ROLE_NAMES)).prop_shuffle(),
        1..=ROLE_NAMES.len(),
        subsequence(owned(&NETWORK_NAMES), 0..=NETWORK_NAMES.len()),
        subsequence(owned(&WINDOW_NAMES), 0..=WINDOW_NAMES.len()),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            move |(roles, count, networks, windows, raw_glob_escapes, unicode_escapes)| Context {
                roles: roles.into_iter().take(count).collect(),
                networks,
                windows,
                style: Style {
                    raw_glob_escapes,
                    unicode_escapes,
                },
                arguments: false,
                flavour,
            },
        )
}

/// Every statement of a policy over `context`, in no particular order.
fn statements(context: Context) -> impl Strategy<Value = Vec<Piece>> {
    let style = context.style;
    let role_statements: Vec<BoxedStrategy<String>> = (0..context.roles.len())
        .map(|index| role_statement(&context.roles, index, style))
        .collect();
    let mapped = context.flavour.mapped_ranges;
    let network_statements: Vec<BoxedStrategy<String>> = context
        .networks
        .iter()
        .map(|name| network_statement(name.clone(), mapped))
        .collect();
    let window_statements: Vec<BoxedStrategy<String>> = context
        .windows
        .iter()
        .map(|name| window_statement(name.clone(), style))
        .collect();
    (
        proptest::option::of(
            select(ZONES.to_vec()).prop_map(move |zone| format!("timezone {}", quote(zone, style))),
        ),
        proptest::option::of(claims_block(style)),
        vec(scope_statement(style), 0..=3),
        role_statements,
        network_statements,
        window_statements,
        vec(rule(context.clone()), 2..=12),
        vec(
            requirement(style, context.flavour),
            0..=context.flavour.requirements,
        ),
        bound_rule_or_none(style, context.flavour.bound),
    )
        .prop_map(
            |(timezone, claims, scopes, roles, networks, windows, rules, requirements, bound)| {
                let definitions = timezone
                    .into_iter()
                    .chain(claims)
                    .chain(scopes)
                    .chain(roles)
                    .chain(networks)
                    .chain(windows);
                let mut all: Vec<Piece> = definitions.map(|text| (text, None)).collect();
                all.extend(rules);
                all.extend(requirements);
                all.extend(bound);
                all
            },
        )
}

/// `claims { ... }` with one to three lines in any order.
fn claims_block(style: Style) -> impl Strategy<Value = String> {
    let line = |field: &'static str, pool: &'static [&'static str]| {
        proptest::option::of(
            subsequence(pool.to_vec(), 1..=2.min(pool.len()))
                .prop_shuffle()
                .prop_map(move |paths| format!("{field} from {}", quote_list(&paths, style))),
        )
    };
    (
        line("roles", &ROLE_PATHS),
        line("scopes", &SCOPE_PATHS),
        line("client", &CLIENT_PATHS),
    )
        .prop_map(|(roles, scopes, client)| {
            let lines: Vec<String> = [roles, scopes, client].into_iter().flatten().collect();
            lines
        })
        .prop_filter("a claims block with at least one line", |lines| {
            !lines.is_empty()
        })
        .prop_shuffle()
        .prop_map(|lines| format!("claims {{\n  {}\n}}", lines.join("\n  ")))
}

/// `scope S, ... [implies S, ...]`; implied scopes always come later in the pool.
fn scope_statement(style: Style) -> impl Strategy<Value = String> {
    (1..SCOPES.len())
        .prop_flat_map(|split| {
            let broader = SCOPES[..split].to_vec();
            let narrower = SCOPES[split..].to_vec();
            (
                subsequence(broader, 1..=2.min(split)),
                subsequence(narrower, 0..=2.min(SCOPES.len() - split)),
            )
        })
        .prop_map(move |(broader, narrower)| {
            let mut text = format!("scope {}", quote_list(&broader, style));
            if !narrower.is_empty() {
                text.push_str(&format!(" implies {}", quote_list(&narrower, style)));
            }
            text
        })
}

/// `role NAME [inherits ...] [aka ...]`; a role only inherits roles declared before it.
fn role_statement(roles: &[String], index: usize, style: Style) -> BoxedStrategy<String> {
    let name = roles[index].clone();
    let earlier = roles[..index].to_vec();
    let most_parents = earlier.len().min(2);
    (
        subsequence(earlier, 0..=most_parents),
        subsequence(AKA_VALUES.to_vec(), 0..=2),
    )
        .prop_map(move |(parents, aka)| {
            let mut text = format!("role {name}");
            if !parents.is_empty() {
                text.push_str(&format!(" inherits {}", parents.join(", ")));
            }
            if !aka.is_empty() {
                text.push_str(&format!(" aka {}", quote_list(&aka, style)));
            }
            text
        })
        .boxed()
}

/// `network NAME = [CIDR, ...]`.
fn network_statement(name: String, mapped: bool) -> BoxedStrategy<String> {
    cidr_list(mapped)
        .prop_map(move |list| format!("network {name} = {list}"))
        .boxed()
}

/// `[CIDR, ...]` with one to three pooled ranges, IPv4-mapped ones among them when
/// `mapped`.
pub fn cidr_list(mapped: bool) -> impl Strategy<Value = String> {
    let mut pool = CIDRS.to_vec();
    if mapped {
        pool.extend(MAPPED_CIDRS);
    }
    subsequence(pool, 1..=3)
        .prop_shuffle()
        .prop_map(|cidrs| format!("[{}]", cidrs.join(", ")))
}

/// With a chance of `percent` in a hundred, a [`bound_rule`].
fn bound_rule_or_none(style: Style, percent: u32) -> BoxedStrategy<Option<Piece>> {
    if percent == 0 {
        return Just(None).boxed();
    }
    proptest::option::weighted(f64::from(percent.min(100)) / 100.0, bound_rule(style)).boxed()
}

/// A rule naming many scopes (from [`BOUND_SCOPES`]): `allow anyone to call tools
/// "bound.*" if scope A and ... and (scope X or ... [or true])`. The conjunction needs
/// two to six scopes and the disjunction one more (or none, with `or true`), among up
/// to twenty named; a token holding few of them makes the smallest step-up need more
/// than the engine's 4096 tries, one holding most makes it quick.
fn bound_rule(style: Style) -> impl Strategy<Value = Piece> {
    (
        Just(owned(&BOUND_SCOPES)).prop_shuffle(),
        2usize..=6,
        12usize..=BOUND_SCOPES.len(),
        any::<bool>(),
    )
        .prop_map(move |(scopes, needed, named, or_true)| {
            let atom = |scope: &String| format!("scope {}", quote(scope, style));
            let (all, either) = scopes[..named].split_at(needed);
            let mut alternatives: Vec<String> = either.iter().map(atom).collect();
            if or_true {
                alternatives.push("true".to_owned());
            }
            let mut operands: Vec<String> = all.iter().map(atom).collect();
            operands.push(format!("({})", alternatives.join(" or ")));
            let text = format!(
                "allow anyone to call tools \"bound.*\"\n  if {}",
                operands.join(" and ")
            );
            let aim = Aim {
                kind: Kind::Tool,
                patterns: vec!["bound.*".to_owned()],
                hints: Vec::new(),
            };
            (text, Some(aim))
        })
}

/// `window NAME = WINDOW`.
fn window_statement(name: String, style: Style) -> BoxedStrategy<String> {
    window_text(style)
        .prop_map(move |window| format!("window {name} = {window}"))
        .boxed()
}

/// `[DAYS] [HH:MM-HH:MM] [tz "Zone"]` with days or hours or both.
pub fn window_text(style: Style) -> impl Strategy<Value = String> {
    (
        proptest::option::of(days()),
        proptest::option::of(hours()),
        proptest::option::of(select(ZONES.to_vec())),
    )
        .prop_filter("a window needs days or hours", |(days, hours, _)| {
            days.is_some() || hours.is_some()
        })
        .prop_map(move |(days, hours, zone)| {
            let mut parts: Vec<String> = Vec::new();
            parts.extend(days);
            parts.extend(hours);
            parts.extend(zone.map(|zone| format!("tz {}", quote(zone, style))));
            parts.join(" ")
        })
}

/// Day keywords, Monday first.
const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// One to three items: single days and ranges, wrapping (`fri-mon`) and one-day
/// (`mon-mon`) ones included.
fn days() -> impl Strategy<Value = String> {
    let item = prop_oneof![
        select(DAYS.to_vec()).prop_map(str::to_owned),
        (
            select(DAYS.to_vec()),
            select(DAYS.to_vec()),
            select(vec!["-", " - "])
        )
            .prop_map(|(first, last, dash)| format!("{first}{dash}{last}")),
    ];
    (vec(item, 1..=3), select(vec![",", ", "])).prop_map(|(items, comma)| items.join(comma))
}

/// `HH:MM-HH:MM`: any start but `24:00`, any end up to `24:00`, never equal; ends before
/// starts wrap past midnight.
fn hours() -> impl Strategy<Value = String> {
    let minute = || select(vec![0u32, 0, 0, 30, 59, 15]);
    let start = (0u32..24, minute());
    let end = prop_oneof![
        6 => (0u32..24, minute()),
        1 => Just((24u32, 0u32)),
    ];
    (start, end)
        .prop_filter("start and end differ", |(start, end)| start != end)
        .prop_map(|((start_hour, start_minute), (end_hour, end_minute))| {
            format!("{start_hour:02}:{start_minute:02}-{end_hour:02}:{end_minute:02}")
        })
}

/// `allow|deny SUBJECTS to ACTIONS KIND PATTERNS [if|unless COND]`; the condition tests
/// arguments only when the actions are the kind's use action alone and it is `call` or
/// `get` (anything else would be E013).
fn rule(context: Context) -> impl Strategy<Value = Piece> {
    target(context.style, context.flavour).prop_flat_map(move |(target, aim, use_only)| {
        let mut context = context.clone();
        context.arguments = use_only && aim.as_ref().is_some_and(|aim| aim.kind != Kind::Resource);
        (
            select(vec!["allow", "allow", "deny"]),
            subjects(context.clone()),
            Just((target, aim)),
            proptest::option::weighted(
                f64::from(context.flavour.conditional) / 100.0,
                clause(context),
            ),
        )
            .prop_map(|(effect, subjects, (target, aim), clause)| {
                let text = format!(
                    "{effect} {subjects} to {target}{}",
                    clause.unwrap_or_default()
                );
                let aim = aim.map(|aim| Aim {
                    hints: argument_hints(&text),
                    ..aim
                });
                (text, aim)
            })
    })
}

/// `require scope S, ... to ACTIONS KIND PATTERNS`.
fn requirement(style: Style, flavour: Flavour) -> impl Strategy<Value = Piece> {
    (subsequence(SCOPES.to_vec(), 1..=2), target(style, flavour)).prop_map(
        move |(scopes, (target, aim, _))| {
            let text = format!("require scope {} to {target}", quote_list(&scopes, style));
            (text, aim)
        },
    )
}

/// `ACTIONS KIND PATTERNS` (valid actions for the kind, singular or plural kind word, one
/// to three patterns), what it is about, and whether its actions are the use action
/// alone.
fn target(style: Style, flavour: Flavour) -> impl Strategy<Value = (String, Option<Aim>, bool)> {
    let kinds = vec![
        Kind::Tool,
        Kind::Tool,
        Kind::Tool,
        Kind::Resource,
        Kind::Prompt,
    ];
    let [use_only, list_only, both] = flavour.actions;
    let actions = prop_oneof![
        use_only => Just(vec![1usize]),
        list_only => Just(vec![0usize]),
        both => subsequence(vec![0usize, 1], 2).prop_shuffle(),
    ];
    (select(kinds), any::<bool>(), actions, vec(pattern(), 1..=3)).prop_map(
        move |(kind, plural_word, action_indices, patterns)| {
            let actions: Vec<&str> = action_indices
                .iter()
                .map(|index| match index {
                    0 => "list",
                    _ => kind.use_action().keyword(),
                })
                .collect();
            let kind_word = if plural_word {
                kind.plural()
            } else {
                kind.singular()
            };
            let quoted: Vec<String> = patterns
                .iter()
                .map(|pattern| quote(pattern, style))
                .collect();
            let text = format!("{} {kind_word} {}", actions.join(", "), quoted.join(", "));
            let use_only = action_indices == [1];
            (
                text,
                Some(Aim {
                    kind,
                    patterns,
                    hints: Vec::new(),
                }),
                use_only,
            )
        },
    )
}

/// A glob pattern's string value: pooled shapes, escaped literal names, random ones.
pub fn pattern() -> impl Strategy<Value = String> {
    prop_oneof![
        1 => Just("*".to_owned()),
        4 => select(PATTERNS.to_vec()).prop_map(str::to_owned),
        2 => select(NAMES.to_vec()).prop_map(glob_escape),
        2 => random_pattern(),
    ]
}

/// A name as a pattern matching exactly it.
pub fn glob_escape(name: &str) -> String {
    let mut pattern = String::new();
    for character in name.chars() {
        if matches!(character, '*' | '?' | '\\') {
            pattern.push('\\');
        }
        pattern.push(character);
    }
    pattern
}

/// One to five random pieces: literals, `*`, `?`, and every escape form. Never ends in
/// a lone backslash, never empty.
fn random_pattern() -> impl Strategy<Value = String> {
    let piece = select(vec![
        "fs", "db", ".", "_", "a", "x", "q", "\u{e9}", "/", "*", "*", "?", "\\*", "\\?", "\\\\",
        "\\x",
    ]);
    vec(piece, 1..=5).prop_map(|pieces| pieces.concat())
}

/// A string literal with the policy's style.
pub fn quote(value: &str, style: Style) -> String {
    let characters: Vec<char> = value.chars().collect();
    let mut text = String::from("\"");
    for (index, character) in characters.iter().enumerate() {
        match character {
            '"' => text.push_str("\\\""),
            '\\' => {
                let next = characters.get(index + 1);
                if style.raw_glob_escapes && matches!(next, Some('*' | '?')) {
                    text.push('\\');
                } else {
                    text.push_str("\\\\");
                }
            }
            '\n' => text.push_str("\\n"),
            '\t' => text.push_str("\\t"),
            other if !other.is_ascii() && style.unicode_escapes => {
                text.push_str(&format!("\\u{{{:x}}}", u32::from(*other)));
            }
            other => text.push(*other),
        }
    }
    text.push('"');
    text
}

/// `"a", "b", ...`.
fn quote_list<S: AsRef<str>>(values: &[S], style: Style) -> String {
    values
        .iter()
        .map(|value| quote(value.as_ref(), style))
        .collect::<Vec<_>>()
        .join(", ")
}
