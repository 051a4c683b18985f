//! Tests of the parser: every form of docs/language.md, spans, and syntax errors.

use super::*;
use crate::ast::{Atom, DayItem, Expr, ExprKind, LiteralValue, StatementKind, Window};

/// The spec's complete example.
const EXAMPLE: &str = r#"# policies/example.policy
timezone "Europe/Berlin"

claims {
  roles  from "roles", "realm_access.roles"
  scopes from "scope", "scp"
  client from "azp", "client_id"
}

scope "tool:read", "tool:write"
scope "tool:admin" implies "tool:read", "tool:write"

role readonly
role user      inherits readonly
role developer inherits user      aka "mcp-developers"
role admin     inherits developer aka "mcp-admins", "Tool.Admin"

network office = [10.0.0.0/8, 192.168.10.0/24, 2001:db8::/32]
window  business_hours = mon-fri 09:00-17:00

require scope "tool:read"  to list tools "*"
require scope "tool:write" to call tools "*"

allow readonly  to list tools "*"
allow user      to call tools "fs.read_*", "github.list_*"
allow developer to call tools "github.*", "fs.*", "logs.*"
allow admin     to call tools "*"
allow anyone    to read resources "docs://*"

deny anyone to call tools "db.drop_*"
  unless role admin and ip in office and time in business_hours
deny anyone to call tools "*" if claim "email_verified" == false
"#;

// ------------------------------------------------------------------ helpers

fn parse_text(text: &str) -> (Sources, Parsed) {
    let sources = Sources::from_text("test.policy", text);
    let parsed = parse(&sources);
    (sources, parsed)
}

/// The statements of `text`, rendered; asserts there is no error.
fn shown(text: &str) -> Vec<String> {
    let (sources, parsed) = parse_text(text);
    assert_eq!(errors_of(&sources, &parsed), Vec::<String>::new(), "{text}");
    parsed
        .policy
        .statements
        .iter()
        .map(show::statement)
        .collect()
}

/// The one statement of `text`, rendered.
fn one(text: &str) -> String {
    let statements = shown(text);
    assert_eq!(statements.len(), 1, "{statements:?}");
    statements.concat()
}

/// The condition of the one rule of `text`, rendered.
fn condition(text: &str) -> String {
    let (_, parsed) = parse_text(&format!("allow a to call tools \"x\" if {text}"));
    assert_eq!(parsed.diagnostics, Vec::new(), "{text}");
    parsed
        .policy
        .statements
        .first()
        .and_then(|statement| match &statement.kind {
            StatementKind::Rule(rule) => rule.condition.as_ref(),
            _ => None,
        })
        .map_or_else(
            || "no condition".to_string(),
            |condition| show::expr(&condition.expr),
        )
}

/// The errors of `text`: `line:column message [underlined]`.
fn errors(text: &str) -> Vec<String> {
    let (sources, parsed) = parse_text(text);
    errors_of(&sources, &parsed)
}

fn errors_of(sources: &Sources, parsed: &Parsed) -> Vec<String> {
    parsed
        .diagnostics
        .iter()
        .map(|diagnostic| {
            assert!(matches!(diagnostic.code, Code::E001 | Code::E012));
            let start = sources.location(diagnostic.span).start;
            let underlined = sources.text(diagnostic.span);
            format!(
                "{}:{} {} [{underlined}]",
                start.line, start.column, diagnostic.message
            )
        })
        .collect()
}

/// The help of the only error of `text`.
fn help(text: &str) -> Option<String> {
    let (_, parsed) = parse_text(text);
    assert_eq!(parsed.diagnostics.len(), 1, "{:?}", parsed.diagnostics);
    parsed
        .diagnostics
        .first()
        .and_then(|error| error.help.clone())
}

/// The texts that the spans of the first statement's parts cover.
fn statement_text(text: &str) -> Vec<String> {
    let (sources, parsed) = parse_text(text);
    parsed
        .policy
        .statements
        .iter()
        .map(|statement| sources.text(statement.span).to_string())
        .collect()
}

/// A compact rendering of the syntax tree.
mod show {
    use crate::ast::*;

    fn texts(texts: &[Text]) -> String {
        let values: Vec<String> = texts
            .iter()
            .map(|text| format!("{:?}", text.value))
            .collect();
        values.join(", ")
    }

    fn idents(idents: &[Ident]) -> String {
        let names: Vec<&str> = idents.iter().map(|ident| ident.name.as_str()).collect();
        names.join(", ")
    }

    fn cidrs(cidrs: &[Cidr]) -> String {
        let texts: Vec<&str> = cidrs.iter().map(|cidr| cidr.text.as_str()).collect();
        format!("[{}]", texts.join(", "))
    }

    pub fn statement(statement: &Statement) -> String {
        match &statement.kind {
            StatementKind::Timezone(zone) => format!("timezone {:?}", zone.value),
            StatementKind::Claims(block) => {
                let lines: Vec<String> = block
                    .lines
                    .iter()
                    .map(|line| format!("{} from {}", line.field.keyword(), texts(&line.paths)))
                    .collect();
                format!("claims {{ {} }}", lines.join("; "))
            }
            StatementKind::Scope(scope) => {
                format!(
                    "scope {} implies {}",
                    texts(&scope.scopes),
                    texts(&scope.implies)
                )
            }
            StatementKind::Role(role) => format!(
                "role {} inherits {} aka {}",
                role.name.name,
                idents(&role.inherits),
                texts(&role.aka)
            ),
            StatementKind::Network(network) => {
                format!("network {} = {}", network.name.name, cidrs(&network.cidrs))
            }
            StatementKind::Window(window) => {
                format!(
                    "window {} = {}",
                    window.name.name,
                    self::window(&window.window)
                )
            }
            StatementKind::Rule(rule) => self::rule(rule),
            StatementKind::Requirement(requirement) => format!(
                "require scope {} to {} {} {}",
                texts(&requirement.scopes),
                actions(&requirement.actions),
                requirement.kind.kind.plural(),
                texts(&requirement.patterns)
            ),
        }
    }

    fn actions(actions: &[ActionName]) -> String {
        let words: Vec<&str> = actions
            .iter()
            .map(|action| action.action.keyword())
            .collect();
        words.join(", ")
    }

    fn rule(rule: &Rule) -> String {
        let subjects = match &rule.subjects {
            Subjects::Anyone(_) => "anyone".to_string(),
            Subjects::Roles(roles) => idents(roles),
        };
        let condition = rule.condition.as_ref().map_or(String::new(), |condition| {
            let mode = match condition.mode {
                ConditionMode::If => "if",
                ConditionMode::Unless => "unless",
            };
            format!(" {mode} {}", expr(&condition.expr))
        });
        format!(
            "{} {subjects} to {} {} {}{condition}",
            rule.effect.keyword(),
            actions(&rule.actions),
            rule.kind.kind.plural(),
            texts(&rule.patterns)
        )
    }

    pub fn window(window: &Window) -> String {
        let mut parts = Vec::new();
        if let Some(days) = &window.days {
            let items: Vec<String> = days.items.iter().map(day_item).collect();
            parts.push(items.join(","));
        }
        if let Some(hours) = &window.hours {
            parts.push(format!(
                "{}:{}-{}:{}",
                hours.start.hour, hours.start.minute, hours.end.hour, hours.end.minute
            ));
        }
        if let Some(zone) = &window.tz {
            parts.push(format!("tz {:?}", zone.value));
        }
        parts.join(" ")
    }

    fn day_item(item: &DayItem) -> String {
        match item {
            DayItem::Single(day, _) => day.keyword().to_string(),
            DayItem::Range(first, last, _) => format!("{}-{}", first.keyword(), last.keyword()),
        }
    }

    pub fn expr(expr: &Expr) -> String {
        match &expr.kind {
            ExprKind::Or(operands) => format!("(or {})", list(operands)),
            ExprKind::And(operands) => format!("(and {})", list(operands)),
            ExprKind::Not(operand) => format!("(not {})", self::expr(operand)),
            ExprKind::Atom(atom) => self::atom(atom),
        }
    }

    fn list(operands: &[Expr]) -> String {
        let shown: Vec<String> = operands.iter().map(expr).collect();
        shown.join(" ")
    }

    fn atom(atom: &Atom) -> String {
        match atom {
            Atom::Scope(scope) => format!("scope {:?}", scope.value),
            Atom::Role(role) => format!("role {}", role.name),
            Atom::Client(client) => format!("client {:?}", client.value),
            Atom::IpIn(NetworkRef::Named(name)) => format!("ip in {}", name.name),
            Atom::IpIn(NetworkRef::Inline(list)) => format!("ip in {}", cidrs(list)),
            Atom::TimeIn(WindowRef::Named(name)) => format!("time in {}", name.name),
            Atom::TimeIn(WindowRef::Inline(inline)) => format!("time in [{}]", window(inline)),
            Atom::TimeBefore(instant) => format!("time before {:?}", instant.value),
            Atom::TimeAfter(instant) => format!("time after {:?}", instant.value),
            Atom::ClaimCompare { path, op, value } => {
                let op = match op {
                    CompareOp::Eq => "==",
                    CompareOp::Ne => "!=",
                };
                format!("claim {:?} {op} {}", path.value, literal(value))
            }
            Atom::ClaimContains { path, value } => {
                format!("claim {:?} contains {}", path.value, literal(value))
            }
            Atom::ClaimExists { path } => format!("claim {:?} exists", path.value),
            Atom::Arg { path, test } => {
                let test = match test {
                    ArgOperator::Compare { op, value } => {
                        let op = match op {
                            CompareOp::Eq => "==",
                            CompareOp::Ne => "!=",
                        };
                        format!("{op} {}", literal(value))
                    }
                    ArgOperator::In(values) => {
                        let shown: Vec<String> = values.iter().map(literal).collect();
                        format!("in [{}]", shown.join(", "))
                    }
                    ArgOperator::Contains(value) => format!("contains {}", literal(value)),
                    ArgOperator::Matches(pattern) => format!("matches {:?}", pattern.value),
                    ArgOperator::Order { op, value } => {
                        format!("{} {}", op.symbol(), literal(value))
                    }
                    ArgOperator::Exists => "exists".to_string(),
                };
                format!("arg {:?} {test}", path.value)
            }
            Atom::Bool(value) => value.to_string(),
        }
    }

    fn literal(literal: &Literal) -> String {
        match &literal.value {
            LiteralValue::String(value) => format!("{value:?}"),
            LiteralValue::Integer(value) => value.to_string(),
            LiteralValue::Decimal(value) => value.to_string(),
            LiteralValue::Bool(value) => value.to_string(),
        }
    }
}

// ------------------------------------------------------------------ the spec's example

#[test]
fn parses_the_complete_example() {
    assert_eq!(
        shown(EXAMPLE),
        [
            r#"timezone "Europe/Berlin""#,
            r#"claims { roles from "roles", "realm_access.roles"; scopes from "scope", "scp"; client from "azp", "client_id" }"#,
            r#"scope "tool:read", "tool:write" implies "#,
            r#"scope "tool:admin" implies "tool:read", "tool:write""#,
            "role readonly inherits  aka ",
            "role user inherits readonly aka ",
            r#"role developer inherits user aka "mcp-developers""#,
            r#"role admin inherits developer aka "mcp-admins", "Tool.Admin""#,
            "network office = [10.0.0.0/8, 192.168.10.0/24, 2001:db8::/32]",
            "window business_hours = mon-fri 9:0-17:0",
            r#"require scope "tool:read" to list tools "*""#,
            r#"require scope "tool:write" to call tools "*""#,
            r#"allow readonly to list tools "*""#,
            r#"allow user to call tools "fs.read_*", "github.list_*""#,
            r#"allow developer to call tools "github.*", "fs.*", "logs.*""#,
            r#"allow admin to call tools "*""#,
            r#"allow anyone to read resources "docs://*""#,
            r#"deny anyone to call tools "db.drop_*" unless (and role admin ip in office time in business_hours)"#,
            r#"deny anyone to call tools "*" if claim "email_verified" == false"#,
        ]
    );
}

#[test]
fn example_spans_cover_whole_statements() {
    let texts = statement_text(EXAMPLE);
    assert_eq!(
        texts.first().map(String::as_str),
        Some("timezone \"Europe/Berlin\"")
    );
    assert_eq!(
        texts.get(17).map(String::as_str),
        Some("deny anyone to call tools \"db.drop_*\"\n  unless role admin and ip in office and time in business_hours")
    );
    assert!(texts
        .get(1)
        .is_some_and(|claims| claims.starts_with("claims {") && claims.ends_with('}')));
}

// ------------------------------------------------------------------ statements

#[test]
fn parses_each_statement_form() {
    assert_eq!(one(r#"timezone "UTC""#), r#"timezone "UTC""#);
    assert_eq!(one(r#"scope "a""#), r#"scope "a" implies "#);
    assert_eq!(
        one(r#"scope "a", "b" implies "c""#),
        r#"scope "a", "b" implies "c""#
    );
    assert_eq!(one("role a"), "role a inherits  aka ");
    assert_eq!(one(r#"role a aka "x""#), r#"role a inherits  aka "x""#);
    assert_eq!(one("role a inherits b, c"), "role a inherits b, c aka ");
    assert_eq!(one("network n = [::1]"), "network n = [::1]");
    assert_eq!(one("window w = sat,sun"), "window w = sat,sun");
    assert_eq!(
        one(r#"require scope "a", "b" to list, call tool "x", "y""#),
        r#"require scope "a", "b" to list, call tools "x", "y""#
    );
    assert_eq!(
        one(r#"deny a, b to get prompt "p""#),
        r#"deny a, b to get prompts "p""#
    );
}

#[test]
fn kinds_are_singular_or_plural_and_any_action_parses() {
    for (kind, plural) in [
        ("tool", "tools"),
        ("tools", "tools"),
        ("resource", "resources"),
        ("resources", "resources"),
        ("prompt", "prompts"),
        ("prompts", "prompts"),
    ] {
        assert_eq!(
            one(&format!(
                "allow anyone to list, call, read, get {kind} \"*\""
            )),
            format!("allow anyone to list, call, read, get {plural} \"*\"")
        );
    }
}

#[test]
fn claims_lines_are_optional_in_any_order_and_may_repeat() {
    assert_eq!(one("claims {}"), "claims {  }");
    assert_eq!(
        one(r#"claims { client from "a" roles from "b" }"#),
        r#"claims { client from "a"; roles from "b" }"#
    );
    assert_eq!(
        one("claims {\n scopes from \"a\"\n scopes from \"b\", \"c\"\n}"),
        r#"claims { scopes from "a"; scopes from "b", "c" }"#
    );
}

#[test]
fn names_may_contain_keywords_and_days() {
    assert_eq!(one("role allowed"), "role allowed inherits  aka ");
    assert_eq!(
        one("role _x-1 inherits tool_user"),
        "role _x-1 inherits tool_user aka "
    );
    assert_eq!(one("window mon-fri = mon-fri"), "window mon-fri = mon-fri");
    assert_eq!(one("role mon"), "role mon inherits  aka ");
}

#[test]
fn windows_take_every_form() {
    assert_eq!(one("window w = mon-fri"), "window w = mon-fri");
    assert_eq!(
        one("window w = fri-mon 22:00-02:00"),
        "window w = fri-mon 22:0-2:0"
    );
    assert_eq!(one("window w = sat, sun"), "window w = sat,sun");
    assert_eq!(
        one("window w = mon,wed-fri,sun"),
        "window w = mon,wed-fri,sun"
    );
    assert_eq!(one("window w = 09:00-17:00"), "window w = 9:0-17:0");
    assert_eq!(
        one(r#"window w = mon 0:00-24:00 tz "America/New_York""#),
        r#"window w = mon 0:0-24:0 tz "America/New_York""#
    );
    assert_eq!(one(r#"window w = tz "UTC""#), r#"window w = tz "UTC""#);
    assert_eq!(
        one("window w = mon - fri 9:00 - 17:00"),
        "window w = mon-fri 9:0-17:0"
    );
}

#[test]
fn clock_times_are_kept_as_written() {
    assert_eq!(one("window w = 25:61-99:99"), "window w = 25:61-99:99");
    assert_eq!(
        one("window w = 99999999999:00-1:99999999999"),
        format!("window w = {}:0-1:{}", u32::MAX, u32::MAX)
    );
}

#[test]
fn addresses_are_kept_as_written() {
    assert_eq!(
        one("network n = [10.0.0.256/33, fe80::1%eth0, ::ffff:10.1.2.3]"),
        "network n = [10.0.0.256/33, fe80::1%eth0, ::ffff:10.1.2.3]"
    );
}

// ------------------------------------------------------------------ conditions

#[test]
fn parses_every_atom() {
    assert_eq!(condition(r#"scope "a""#), r#"scope "a""#);
    assert_eq!(condition("role admin"), "role admin");
    assert_eq!(condition(r#"client "cli""#), r#"client "cli""#);
    assert_eq!(condition("ip in office"), "ip in office");
    assert_eq!(
        condition("ip in [10.0.0.0/8, ::1]"),
        "ip in [10.0.0.0/8, ::1]"
    );
    assert_eq!(condition("time in hours"), "time in hours");
    assert_eq!(
        condition(r#"time in [mon-fri 09:00-17:00 tz "UTC"]"#),
        r#"time in [mon-fri 9:0-17:0 tz "UTC"]"#
    );
    assert_eq!(condition("time in [ sat,sun ]"), "time in [sat,sun]");
    assert_eq!(
        condition(r#"time before "2030-01-01T00:00:00Z""#),
        r#"time before "2030-01-01T00:00:00Z""#
    );
    assert_eq!(condition(r#"time after "x""#), r#"time after "x""#);
    assert_eq!(condition(r#"claim "a" exists"#), r#"claim "a" exists"#);
    assert_eq!(condition("true"), "true");
    assert_eq!(condition("false"), "false");
}

#[test]
fn parses_claim_literals() {
    assert_eq!(condition(r#"claim "a" == "x""#), r#"claim "a" == "x""#);
    assert_eq!(condition(r#"claim "a" != 42"#), r#"claim "a" != 42"#);
    assert_eq!(condition(r#"claim "a" == -7"#), r#"claim "a" == -7"#);
    assert_eq!(condition(r#"claim "a"==true"#), r#"claim "a" == true"#);
    assert_eq!(
        condition(r#"claim "a" contains false"#),
        r#"claim "a" contains false"#
    );
    assert_eq!(
        condition(r#"claim "a" == -9223372036854775808"#),
        r#"claim "a" == -9223372036854775808"#
    );
    assert_eq!(
        condition(r#"claim "https://example.com/roles" contains "x""#),
        r#"claim "https://example.com/roles" contains "x""#
    );
}

#[test]
fn not_binds_tighter_than_and_tighter_than_or() {
    assert_eq!(
        condition("role a or role b and not role c"),
        "(or role a (and role b (not role c)))"
    );
    assert_eq!(
        condition("not role a and role b or role c and role d"),
        "(or (and (not role a) role b) (and role c role d))"
    );
    assert_eq!(condition("true or false or true"), "(or true false true)");
    assert_eq!(condition("not not true"), "(not (not true))");
}

#[test]
fn parentheses_group() {
    assert_eq!(
        condition("(role a or role b) and role c"),
        "(and (or role a role b) role c)"
    );
    assert_eq!(condition("not (true and false)"), "(not (and true false))");
    assert_eq!(condition("((true))"), "true");
    assert_eq!(condition("(not(true))or(false)"), "(or (not true) false)");
}

/// The first statement's rule, if it is one.
fn first_rule(parsed: &Parsed) -> Option<&ast::Rule> {
    match &parsed.policy.statements.first()?.kind {
        StatementKind::Rule(rule) => Some(rule),
        _ => None,
    }
}

/// The operands of an `and` or `or`.
fn operands(expr: &Expr) -> &[Expr] {
    match &expr.kind {
        ExprKind::And(operands) | ExprKind::Or(operands) => operands,
        _ => &[],
    }
}

#[test]
fn expression_spans_include_parentheses() {
    let text = "allow a to call tools \"x\" if ( role a or role b ) and not ( true ) # c\n";
    let (sources, parsed) = parse_text(text);
    let condition = first_rule(&parsed).and_then(|rule| rule.condition.as_ref());
    assert_eq!(
        condition.map(|condition| sources.text(condition.keyword_span)),
        Some("if")
    );
    let expr = condition.map(|condition| &condition.expr);
    assert_eq!(
        expr.map(|expr| sources.text(expr.span)),
        Some("( role a or role b ) and not ( true )")
    );
    let top = expr.map_or(&[][..], operands);
    let texts: Vec<&str> = top
        .iter()
        .map(|operand| sources.text(operand.span))
        .collect();
    assert_eq!(texts, ["( role a or role b )", "not ( true )"]);
    let inner: Vec<&str> = top
        .iter()
        .flat_map(|operand| match &operand.kind {
            ExprKind::Not(not) => vec![sources.text(not.span)],
            _ => operands(operand)
                .iter()
                .map(|expr| sources.text(expr.span))
                .collect(),
        })
        .collect();
    assert_eq!(inner, ["role a", "role b", "( true )"]);
}

#[test]
fn node_spans_cover_their_text() {
    let text = "deny anyone to call tools \"a\\\"b\" if claim \"n\" == -12 and time in [ sat , sun 01:00-02:00 ]";
    let (sources, parsed) = parse_text(text);
    let rule = first_rule(&parsed);
    let pattern = rule.and_then(|rule| rule.patterns.first());
    assert_eq!(
        pattern.map(|pattern| sources.text(pattern.span)),
        Some("\"a\\\"b\"")
    );
    assert_eq!(pattern.map(|pattern| pattern.value.as_str()), Some("a\"b"));
    assert_eq!(rule.map(|rule| sources.text(rule.kind.span)), Some("tools"));
    let action = rule.and_then(|rule| rule.actions.first());
    assert_eq!(action.map(|action| sources.text(action.span)), Some("call"));
    let expr = rule
        .and_then(|rule| rule.condition.as_ref())
        .map(|condition| &condition.expr);
    let top = expr.map_or(&[][..], operands);
    let (claim, window) = match top.iter().map(|operand| &operand.kind).collect::<Vec<_>>()[..] {
        [ExprKind::Atom(claim), ExprKind::Atom(Atom::TimeIn(ast::WindowRef::Inline(window)))] => {
            (Some(claim), Some(window))
        }
        _ => (None, None),
    };
    let (path, value) = match claim {
        Some(Atom::ClaimCompare { path, value, .. }) => (Some(path), Some(value)),
        _ => (None, None),
    };
    assert_eq!(path.map(|path| sources.text(path.span)), Some("\"n\""));
    assert_eq!(value.map(|value| sources.text(value.span)), Some("-12"));
    assert_eq!(
        value.map(|value| &value.value),
        Some(&LiteralValue::Integer(-12))
    );
    assert_eq!(
        window.map(|window| window_spans(&sources, window)),
        Some(())
    );
}

fn window_spans(sources: &Sources, window: &Window) {
    assert_eq!(sources.text(window.span), "sat , sun 01:00-02:00");
    let days = window.days.as_ref().map(|days| sources.text(days.span));
    assert_eq!(days, Some("sat , sun"));
    let hours = window.hours.as_ref();
    assert_eq!(
        hours.map(|hours| sources.text(hours.span)),
        Some("01:00-02:00")
    );
    assert_eq!(
        hours.map(|hours| sources.text(hours.end.span)),
        Some("02:00")
    );
    let item = window.days.as_ref().and_then(|days| days.items.get(1));
    assert!(
        matches!(item, Some(DayItem::Single(ast::Day::Sun, span)) if sources.text(*span) == "sun")
    );
}

#[test]
fn declaration_spans_cover_their_text() {
    let text = "role  admin inherits dev aka \"x\" # trailing\nclaims { roles from \"r\" }\n";
    let (sources, parsed) = parse_text(text);
    let kinds: Vec<&StatementKind> = parsed.policy.statements.iter().map(|s| &s.kind).collect();
    let (role, claims) = match kinds[..] {
        [StatementKind::Role(role), StatementKind::Claims(claims)] => (Some(role), Some(claims)),
        _ => (None, None),
    };
    assert_eq!(role.map(|role| sources.text(role.name.span)), Some("admin"));
    let parent = role.and_then(|role| role.inherits.first());
    assert_eq!(parent.map(|parent| sources.text(parent.span)), Some("dev"));
    let aka = role.and_then(|role| role.aka.first());
    assert_eq!(aka.map(|aka| sources.text(aka.span)), Some("\"x\""));
    let line = claims.and_then(|claims| claims.lines.first());
    assert_eq!(
        line.map(|line| sources.text(line.span)),
        Some("roles from \"r\"")
    );
    assert_eq!(
        line.map(|line| sources.text(line.field_span)),
        Some("roles")
    );
    assert_eq!(
        statement_text(text),
        [
            "role  admin inherits dev aka \"x\"",
            "claims { roles from \"r\" }"
        ]
    );
}

// ------------------------------------------------------------------ boundaries

#[test]
fn a_statement_ends_where_the_next_keyword_begins() {
    assert_eq!(
        shown("deny anyone to call tools \"x\" unless role admin\nrole x"),
        [
            r#"deny anyone to call tools "x" unless role admin"#,
            "role x inherits  aka ",
        ]
    );
    assert_eq!(
        shown("allow a to call tools \"x\" if scope \"s\"\nscope \"t\""),
        [
            r#"allow a to call tools "x" if scope "s""#,
            r#"scope "t" implies "#
        ]
    );
    assert_eq!(
        shown("allow a to call tools \"x\" if role a and\nrole b\nrole c"),
        [
            r#"allow a to call tools "x" if (and role a role b)"#,
            "role c inherits  aka ",
        ]
    );
    assert_eq!(
        shown("role a role b inherits a scope \"x\" scope \"y\""),
        [
            "role a inherits  aka ",
            "role b inherits a aka ",
            r#"scope "x" implies "#,
            r#"scope "y" implies "#,
        ]
    );
}

#[test]
fn requirements_and_conditions_may_continue_on_the_next_line() {
    assert_eq!(
        shown("require\nscope \"x\"\nto call tools \"y\"\nscope \"x\""),
        [
            r#"require scope "x" to call tools "y""#,
            r#"scope "x" implies "#
        ]
    );
    assert_eq!(
        shown("deny anyone to call tools \"x\" unless\nrole a or\nscope \"s\"\nrole a"),
        [
            r#"deny anyone to call tools "x" unless (or role a scope "s")"#,
            "role a inherits  aka ",
        ]
    );
    assert_eq!(
        shown("deny anyone to call tools \"x\" if not\nrole a\nrole b"),
        [
            r#"deny anyone to call tools "x" if (not role a)"#,
            "role b inherits  aka "
        ]
    );
}

#[test]
fn an_unterminated_string_spoils_only_its_statement() {
    let text = "allow a to call tools \"x\nallow b to call tools \"y\"\n";
    assert_eq!(errors(text), ["1:23 unterminated string [\"x]"]);
    let (_, parsed) = parse_text(text);
    assert_eq!(parsed.policy.statements.len(), 1);
}

#[test]
fn statements_span_lines_and_ignore_comments() {
    let text =
        "allow # who\n  admin, # more\n  dev\nto\ncall\ntools # kind\n\"x\" # pattern\n# end\n";
    assert_eq!(shown(text), [r#"allow admin, dev to call tools "x""#]);
    assert_eq!(
        statement_text(text),
        ["allow # who\n  admin, # more\n  dev\nto\ncall\ntools # kind\n\"x\""]
    );
    assert_eq!(
        shown("role a#comment\nrole b"),
        ["role a inherits  aka ", "role b inherits  aka "]
    );
    assert_eq!(
        one("scope \"#not a comment\""),
        r##"scope "#not a comment" implies "##
    );
    assert_eq!(shown(""), Vec::<String>::new());
    assert_eq!(shown("  # only a comment"), Vec::<String>::new());
    assert_eq!(
        shown("\u{feff}role a\r\nrole b\r\n"),
        ["role a inherits  aka ", "role b inherits  aka "]
    );
}

#[test]
fn several_files_make_one_policy() {
    let mut sources = Sources::new();
    let first = sources.add("a.policy", "role a\n");
    let second = sources.add("b.policy", "role b\nrole\n");
    let parsed = parse(&sources);
    let files: Vec<SourceId> = parsed
        .policy
        .statements
        .iter()
        .map(|s| s.span.source)
        .collect();
    assert_eq!(files, [first, second]);
    assert_eq!(parsed.diagnostics.len(), 1);
    assert_eq!(
        parsed.diagnostics.first().map(|error| error.span.source),
        Some(second)
    );
}

// ------------------------------------------------------------------ strings and numbers

#[test]
fn strings_apply_escapes() {
    assert_eq!(
        one(r#"scope "a\"b", "c\\d", "e\nf", "g\th", "\u{e9}\u{1F600}""#),
        "scope \"a\\\"b\", \"c\\\\d\", \"e\\nf\", \"g\\th\", \"\u{e9}\u{1F600}\" implies "
    );
}

#[test]
fn glob_escapes_reach_the_pattern_as_written() {
    let (_, parsed) = parse_text(r#"allow a to call tools "lit\*star", "q\?", "b\\*""#);
    assert_eq!(parsed.diagnostics, Vec::new());
    let patterns: Vec<String> = match parsed.policy.statements.first().map(|s| &s.kind) {
        Some(StatementKind::Rule(rule)) => rule.patterns.iter().map(|p| p.value.clone()).collect(),
        _ => Vec::new(),
    };
    assert_eq!(patterns, [r"lit\*star", r"q\?", r"b\*"]);
}

#[test]
fn bad_escapes_are_errors_at_the_escape() {
    assert_eq!(
        errors("role a aka \"x\\qy\", \"\\u{D800}\"\nrole b"),
        [
            r"1:14 invalid escape `\q` in a string [\q]",
            r"1:21 `\u{D800}` is not a valid unicode code point [\u{D800}]",
        ]
    );
    let (_, parsed) = parse_text("role a aka \"x\\qy\"\nrole b");
    assert_eq!(parsed.policy.statements.len(), 2);
}

#[test]
fn integers_out_of_range_are_errors() {
    let text = "allow a to call tools \"x\" if claim \"n\" == 9223372036854775808";
    assert_eq!(
        errors(text),
        ["1:43 integer `9223372036854775808` is out of range [9223372036854775808]"]
    );
    assert_eq!(
        condition(r#"claim "n" == 9223372036854775807"#),
        r#"claim "n" == 9223372036854775807"#
    );
}

// ------------------------------------------------------------------ syntax errors

#[test]
fn errors_name_what_was_expected_and_found() {
    let cases = [
        (
            "allow to call tools \"x\"",
            "1:7 expected a role name or `anyone`, found `to` [to]",
        ),
        (
            "allow admin call tools \"x\"",
            "1:13 expected `to` or `,`, found `call` [call]",
        ),
        (
            "allow admin to call tools",
            "1:26 expected a string, found end of file []",
        ),
        (
            "timezone Europe/Berlin",
            "1:10 expected a string, found `Europe/Berlin` [Europe/Berlin]",
        ),
        (
            "role allow",
            "1:6 expected a role name, found `allow` [allow]",
        ),
        (
            "alow admin to call tools \"x\"",
            "1:1 expected a statement, found `alow` [alow]",
        ),
        (
            "role admin inherit user",
            "1:12 expected `inherits`, `aka` or a new statement, found `inherit` [inherit]",
        ),
        (
            "allow a to call tools \"x\" if\n",
            "1:29 expected a condition, found end of file []",
        ),
        (
            "allow a to call tols \"x\"",
            "1:17 expected a kind (`tools`, `resources` or `prompts`) or `,`, found `tols` [tols]",
        ),
        (
            "network office = [10.0.0.0/8\n\n",
            "1:29 expected `,` or `]`, found end of file []",
        ),
        (
            "window w = 09:00",
            "1:17 expected `-`, found end of file []",
        ),
        (
            "allow a to call tools \"x\ny\"",
            "1:23 unterminated string [\"x]",
        ),
        (
            "allow a to call tools \"x\" if claim \"a\" = 1",
            "1:40 expected `contains`, `exists`, `==` or `!=`, found `=` [=]",
        ),
        (
            "claims { role from \"x\" }",
            "1:10 expected `roles`, `scopes`, `client` or `}`, found `role` [role]",
        ),
        (
            "allow \"admin\" to call tools \"x\"",
            "1:7 expected a role name or `anyone`, found `\"admin\"` [\"admin\"]",
        ),
        (
            "allow a to call tools \"x\" if (role a",
            "1:37 expected `and`, `or` or `)`, found end of file []",
        ),
        (
            "window w = allow",
            "1:12 expected days like `mon-fri`, hours like `09:00-17:00`, or `tz`, found `allow` [allow]",
        ),
        (
            "allow a to call tools \"x\" if time at \"now\"",
            "1:35 expected `in`, `before` or `after`, found `at` [at]",
        ),
        (
            "allow a to call tools \"x\" if claim \"n\" == .5",
            "1:43 expected a string, a number, `true` or `false`, found `.` [.]",
        ),
        (
            "network n = []",
            "1:14 expected an IP address or CIDR, found `]` []]",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(errors(text), [expected], "{text}");
    }
}

#[test]
fn errors_help_fix_the_mistake() {
    assert_eq!(
        help("role allow").as_deref(),
        Some("`allow` is a keyword; rename the role")
    );
    // The keywords of v1.1 too.
    assert_eq!(
        help("role arg").as_deref(),
        Some("`arg` is a keyword; rename the role")
    );
    assert_eq!(
        help("role matches").as_deref(),
        Some("`matches` is a keyword; rename the role")
    );
    // A misspelled v1.1 operator is named.
    assert_eq!(
        help("allow a to call tools \"x\" if arg \"path\" mathces \"y*\"").as_deref(),
        Some("did you mean `matches`?")
    );
    assert_eq!(
        help("allow a to call tools \"x\" if ip in to").as_deref(),
        Some("`to` is a keyword; rename the network")
    );
    assert_eq!(
        help("alow a to call tools \"x\"").as_deref(),
        Some("did you mean `allow`?")
    );
    assert_eq!(
        help("role a inherit b").as_deref(),
        Some("did you mean `inherits`?")
    );
    assert_eq!(
        help("allow a to call tols \"x\"").as_deref(),
        Some("did you mean `tools`?")
    );
    assert_eq!(
        help("timezone Europe/Berlin").as_deref(),
        Some("strings are written in double quotes: `\"Europe/Berlin\"`")
    );
    assert_eq!(
        help("allow \"admin\" to call tools \"x\"").as_deref(),
        Some("a role name is written without quotes")
    );
    assert_eq!(
        help("allow a to call tools \"x\ny\"").as_deref(),
        Some("end the string with `\"` on the same line")
    );
}

#[test]
fn a_missing_condition_is_reported_on_its_line() {
    let errors = errors("role admin\nallow admin to call tools \"x\" if\n");
    assert_eq!(errors.len(), 1);
    assert!(errors
        .iter()
        .all(|error| error.starts_with("2:") || error.starts_with("3:")));
}

#[test]
fn every_error_is_reported_and_good_statements_are_kept() {
    let text = "role a\nallow to call tools \"x\"\nrole b\nrole\nrole c\ndeny a to cal tools \"y\"\nrole d\n";
    assert_eq!(
        errors(text),
        [
            "2:7 expected a role name or `anyone`, found `to` [to]",
            "5:1 expected a role name, found `role` [role]",
            "6:11 expected an action (`list`, `call`, `read` or `get`), found `cal` [cal]",
        ]
    );
    let (_, parsed) = parse_text(text);
    let names: Vec<String> = parsed
        .policy
        .statements
        .iter()
        .map(show::statement)
        .collect();
    assert_eq!(
        names,
        [
            "role a inherits  aka ",
            "role b inherits  aka ",
            "role c inherits  aka ",
            "role d inherits  aka ",
        ]
    );
}

#[test]
fn consecutive_broken_statements_are_reported_separately() {
    let text =
        "allow to call tools \"x\"\ndeny anyone to call tools\nallow b to call tools \"y\"\n";
    assert_eq!(
        errors(text),
        [
            "1:7 expected a role name or `anyone`, found `to` [to]",
            "3:1 expected a string, found `allow` [allow]",
        ]
    );
    assert_eq!(shown("allow b to call tools \"y\"").len(), 1);
    let (_, parsed) = parse_text(text);
    assert_eq!(parsed.policy.statements.len(), 1);
}

#[test]
fn a_broken_condition_does_not_cascade() {
    let text = "deny anyone to call tools \"x\" unless (role admin or or\n  role dev or ((\n  scope \"x\")\nrole kept\n";
    assert_eq!(errors(text), ["1:53 expected a condition, found `or` [or]"]);
    assert_eq!(errors(text).len(), 1, "{:?}", errors(text));
    let (_, parsed) = parse_text(text);
    let names: Vec<String> = parsed
        .policy
        .statements
        .iter()
        .map(show::statement)
        .collect();
    assert_eq!(names, ["role kept inherits  aka "]);

    let stray =
        "allow a to call tools \"x\" if role a) and\nrole b or (\nscope \"y\" and\nrole c\n";
    assert_eq!(
        errors(stray),
        ["1:36 expected `and`, `or` or a new statement, found `)` [)]"]
    );
    let (_, parsed) = parse_text(stray);
    let names: Vec<String> = parsed
        .policy
        .statements
        .iter()
        .map(show::statement)
        .collect();
    assert_eq!(names, ["role c inherits  aka "]);
}

#[test]
fn statement_after_an_error_at_a_line_start_is_kept() {
    let text = "allow a to call tools \"x\" if\nallow b to call tools \"y\"\n";
    assert_eq!(
        errors(text),
        ["2:1 expected a condition, found `allow` [allow]"]
    );
    let (_, parsed) = parse_text(text);
    assert_eq!(parsed.policy.statements.len(), 1);
}

// ------------------------------------------------------------------ hostile input

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    for opener in ["(", "not ", "not (", "( not "] {
        let text = format!(
            "role a\nallow a to call tools \"x\" if {}\nrole b\n",
            opener.repeat(100_000)
        );
        let errors = errors(&text);
        assert_eq!(errors.len(), 1, "{opener}");
        assert!(
            errors
                .iter()
                .all(|error| error.contains("limit exceeded: more than 64 levels of `(` and `not`")),
            "{errors:?}"
        );
        let (_, parsed) = parse_text(&text);
        assert_eq!(parsed.policy.statements.len(), 2);
    }
}

#[test]
fn nesting_up_to_the_limit_parses() {
    let text = format!(
        "allow a to call tools \"x\" if {}true{}",
        "(".repeat(64),
        ")".repeat(64)
    );
    assert_eq!(
        condition(&text.replace("allow a to call tools \"x\" if ", "")),
        "true"
    );
    let nots = format!("{}true", "not ".repeat(64));
    assert!(condition(&nots).starts_with("(not (not"));
    let over = format!("{}true{}", "(".repeat(65), ")".repeat(65));
    assert_eq!(
        errors(&format!("allow a to call tools \"x\" if {over}")),
        ["1:94 limit exceeded: more than 64 levels of `(` and `not` [(]"]
    );
}

#[test]
fn long_flat_conditions_parse() {
    let text = format!("true{}", " and not true or (false)".repeat(5_000));
    assert!(condition(&text).starts_with("(or (and true (not true))"));
}

#[test]
fn every_prefix_of_the_example_parses_without_panicking() {
    for (end, _) in EXAMPLE.char_indices() {
        let prefix = EXAMPLE.get(..end).unwrap_or("");
        let (_, parsed) = parse_text(prefix);
        assert!(
            parsed.diagnostics.len() <= 2,
            "{prefix}: {:?}",
            parsed.diagnostics
        );
    }
}

#[test]
fn garbage_does_not_panic() {
    let pieces = [
        "(", ")", "not", "\"", "\\", "#", "\n", "role", "allow", "[", "]", "{", "}", "if", "=",
        "é", "\u{feff}", "-", ":", "09:00", "\"\\u{", "mon", "-1", ",",
    ];
    let mut seed = 7u64;
    for _ in 0..300 {
        let mut text = String::new();
        for _ in 0..40 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let index = usize::try_from(seed >> 33).unwrap_or(0) % pieces.len();
            text.push_str(pieces.get(index).copied().unwrap_or(" "));
            text.push(' ');
        }
        let (_, parsed) = parse_text(&text);
        assert!(parsed.policy.statements.len() <= 40);
    }
}

// ------------------------------------------------------------------ arguments (v1.1)

#[test]
fn parses_every_arg_operator() {
    let cases = [
        (r#"arg "a" == "x""#, r#"arg "a" == "x""#),
        (r#"arg "a"!=5"#, r#"arg "a" != 5"#),
        (
            r#"arg "a" in ["pdf", 2, 2.5, true]"#,
            r#"arg "a" in ["pdf", 2, 2.5, true]"#,
        ),
        (r#"arg "a" contains "x""#, r#"arg "a" contains "x""#),
        (
            r#"arg "path" matches "docs/*""#,
            r#"arg "path" matches "docs/*""#,
        ),
        (r#"arg "n" < 0"#, r#"arg "n" < 0"#),
        (r#"arg "n" <= 31"#, r#"arg "n" <= 31"#),
        (r#"arg "n">-0.5"#, r#"arg "n" > -0.5"#),
        (r#"arg "n" >= 10.25"#, r#"arg "n" >= 10.25"#),
        (r#"arg "/a~1b/c" exists"#, r#"arg "/a~1b/c" exists"#),
        (r#"claim "ratio" == 0.75"#, r#"claim "ratio" == 0.75"#),
    ];
    for (written, shown) in cases {
        assert_eq!(condition(written), shown, "{written}");
    }
    assert_eq!(
        condition(r#"not arg "f" matches "*..*" and arg "q.limit" <= 50"#),
        r#"(and (not arg "f" matches "*..*") arg "q.limit" <= 50)"#
    );
}

#[test]
fn arg_errors_say_what_was_expected() {
    let cases = [
        (
            r#"allow a to call tools "x" if arg "n" < "5""#,
            r#"1:40 expected a number, found `"5"` ["5"]"#,
        ),
        (
            r#"allow a to call tools "x" if arg "n" in []"#,
            "1:42 expected a string, a number, `true` or `false`, found `]` []]",
        ),
        (
            r#"allow a to call tools "x" if arg "n" matches 5"#,
            "1:46 expected a string, found `5` [5]",
        ),
        (
            r#"allow a to call tools "x" if arg n == 1"#,
            "1:34 expected a string, found `n` [n]",
        ),
        (
            r#"allow a to call tools "x" if arg "n" = 1"#,
            "1:38 expected `in`, `contains`, `exists`, `matches`, `==`, `!=`, `<`, `<=`, `>` or `>=`, found `=` [=]",
        ),
        (
            r#"allow a to call tools "x" if arg "n" == 1."#,
            "1:41 expected a string, a number, `true` or `false`, found `1.` [1.]",
        ),
    ];
    let found: Vec<(String, Vec<String>)> = cases
        .iter()
        .map(|(text, _)| (text.to_string(), errors(text)))
        .collect();
    let expected: Vec<(String, Vec<String>)> = cases
        .iter()
        .map(|(text, error)| (text.to_string(), vec![error.to_string()]))
        .collect();
    assert_eq!(found, expected);
}

#[test]
fn arg_and_matches_are_keywords() {
    assert_eq!(
        errors("role arg"),
        vec!["1:6 expected a role name, found `arg` [arg]".to_string()]
    );
    assert_eq!(
        errors("role matches"),
        vec!["1:6 expected a role name, found `matches` [matches]".to_string()]
    );
}
