//! The explanation's words: statement texts, notes, readings and reasons as sentences.

use crate::ast::{Action, Effect, Kind};
use crate::check::{Body, Statement};
use crate::eval::{Reason, Truth};
use crate::source::{Sources, Span};
use crate::window::{day_runs, WindowSpec, ALL_DAYS};

use super::{
    ArgRead, ConditionExplanation, Holding, Outcome, Reading, StatementBody, StatementExplanation,
    Status,
};

/// Policy text on one line: comments left out, runs of whitespace made one space.
pub fn one_line(text: &str) -> String {
    let mut kept = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut in_comment = false;
    for character in text.chars() {
        if in_comment {
            in_comment = character != '\n';
            if !in_comment {
                kept.push(' ');
            }
            continue;
        }
        if in_string {
            in_string = escaped || character != '"';
            escaped = !escaped && character == '\\';
        } else if character == '"' {
            in_string = true;
        } else if character == '#' {
            in_comment = true;
            continue;
        }
        kept.push(character);
    }
    kept.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `true`, `false` or `unknown`.
pub fn truth_word(value: Truth) -> &'static str {
    match value {
        Truth::True => "true",
        Truth::False => "false",
        Truth::Unknown => "unknown",
    }
}

/// `Mon` ... `Sun` for Monday = 0.
pub(super) fn weekday(index: u8) -> &'static str {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    DAYS.get(usize::from(index)).copied().unwrap_or("?")
}

/// A window in the language's words: `mon-fri 09:00-17:00`, `fri-mon`, `22:00-02:00 every day`.
pub(super) fn window(window: &WindowSpec) -> String {
    let days = day_list(window.days);
    let Some((start, end)) = window.hours else {
        return format!("{days}, all day");
    };
    let hours = format!("{}-{}", clock(start), clock(end));
    let wraps = if end <= start {
        " (ending the next day)"
    } else {
        ""
    };
    if window.days == ALL_DAYS {
        format!("{hours} every day{wraps}")
    } else {
        format!("{days} {hours}{wraps}")
    }
}

fn clock(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// Days as ranges where they run on (`mon-fri`, `fri-mon`, `sat,sun`, `mon,wed`).
fn day_list(mask: u8) -> String {
    const NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    if mask & ALL_DAYS == ALL_DAYS {
        return "every day".to_string();
    }
    let name = |day: usize| NAMES.get(day % 7).copied().unwrap_or("?");
    let items: Vec<String> = day_runs(mask)
        .into_iter()
        .map(|(day, last)| match last - day {
            0 => name(day).to_string(),
            1 => format!("{},{}", name(day), name(last)),
            _ => format!("{}-{}", name(day), name(last)),
        })
        .collect();
    if items.is_empty() {
        return "no day".to_string();
    }
    items.join(",")
}

/// A statement's text without its condition, on one line.
pub(super) fn statement_text(sources: &Sources, statement: &Statement) -> String {
    let condition = match &statement.body {
        Body::Rule {
            condition: Some(condition),
            ..
        } => condition,
        _ => return one_line(sources.text(statement.span)),
    };
    let before = Span {
        end: condition.span.start.max(statement.span.start),
        ..statement.span
    };
    let text = one_line(sources.text(before));
    match text.strip_suffix(" if") {
        Some(stripped) => stripped.to_string(),
        None => text,
    }
}

/// `` `a`, `b` ``.
fn quoted(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|item| format!("`{item}`")).collect();
    quoted.join(", ")
}

fn at(outcome: &Outcome) -> String {
    outcome
        .rule
        .as_ref()
        .map_or_else(String::new, |site| format!(" at {site}"))
}

/// A statement's part in the decision, in words.
pub(super) fn note(statement: &StatementExplanation, decision: &Outcome) -> String {
    let decides = statement.decides;
    let reason = decision.reason;
    match &statement.status {
        Status::NotForPrincipal => "not for this principal".to_string(),
        Status::Fires if decides => "the deny fires and decides".to_string(),
        Status::Fires => format!(
            "the deny fires too; the earlier deny{} decides",
            at(decision)
        ),
        Status::DoesNotApply => "the deny does not apply".to_string(),
        Status::Met => "met".to_string(),
        Status::Unmet { .. } if decides => "this decides (insufficient_scope)".to_string(),
        Status::Unmet { .. } if reason == Reason::Denied => "a deny decides first".to_string(),
        Status::Unmet { .. } => format!("the first unmet requirement{} decides", at(decision)),
        Status::Holds if decides => "allows: the first allow rule that holds".to_string(),
        Status::Holds => match reason {
            Reason::Denied => "would allow, but a deny wins".to_string(),
            Reason::InsufficientScope => "would allow, but a requirement is unmet".to_string(),
            _ => format!("would allow too; the earlier allow{} decides", at(decision)),
        },
        Status::DoesNotHold {
            step_up: Some(scopes),
        } => format!(
            "does not hold; with {} added to the token it would (step-up)",
            quoted(scopes)
        ),
        Status::DoesNotHold { step_up: None } => match condition_of(statement) {
            Some(condition) if condition.applies == Truth::Unknown => {
                "does not hold: an unknown condition never allows".to_string()
            }
            _ => "does not hold".to_string(),
        },
    }
}

fn condition_of(statement: &StatementExplanation) -> Option<&ConditionExplanation> {
    match &statement.body {
        StatementBody::Rule { condition, .. } => condition.as_ref(),
        StatementBody::Require { .. } => None,
    }
}

fn deciding<'s>(
    decision: &Outcome,
    statements: &'s [StatementExplanation],
) -> Option<&'s StatementExplanation> {
    let index = decision.statement?;
    statements.iter().find(|statement| statement.index == index)
}

/// Why an action's decision came out as it did.
pub(super) fn why(
    kind: Kind,
    action: Action,
    name: &str,
    decision: &Outcome,
    statements: &[StatementExplanation],
) -> String {
    let deciding = deciding(decision, statements);
    let applies = deciding
        .and_then(condition_of)
        .map(|condition| condition.applies);
    match (decision.reason, decision.effect) {
        (Reason::Denied, _) => match applies {
            None => "an unconditional deny rule matches, and a deny overrides every allow".into(),
            Some(Truth::Unknown) => "a deny rule whose condition is unknown fires (the engine \
                 fails closed), and a deny overrides every allow"
                .into(),
            Some(_) => "a deny rule whose condition holds overrides every allow".into(),
        },
        (Reason::InsufficientScope, _) if deciding.is_some_and(is_requirement) => format!(
            "no deny fired, but the token lacks {} that a matching requirement needs; \
             requirements are checked before any allow rule",
            quoted(&decision.missing_scopes)
        ),
        (Reason::InsufficientScope, _) => format!(
            "no allow rule holds now, but adding {} to the token would satisfy the allow rule{}; \
             no smaller set of scopes would satisfy any (ties go to the earlier rule)",
            quoted(&decision.missing_scopes),
            at(decision)
        ),
        (Reason::Allowed, _) => "no deny fired and every requirement is met; this is the first \
             allow rule in policy order whose subject matches and whose condition holds"
            .into(),
        (Reason::NoRule, _) if statements.is_empty() => format!(
            "no rule or requirement is about `{}` on {} `{name}`: nothing allows it",
            action.keyword(),
            kind.singular()
        ),
        (Reason::NoRule, _) => "no allow rule holds for this principal, and no scopes added to \
             the token would make one hold"
            .into(),
    }
}

fn is_requirement(statement: &StatementExplanation) -> bool {
    matches!(statement.body, StatementBody::Require { .. })
}

/// Why a `list` that found no rule of its own ended as it did.
pub(super) fn listing_follows_use(use_action: Action, using: &Outcome) -> String {
    let verb = use_action.keyword();
    if using.effect == Effect::Allow {
        format!(
            "listing found no rule of its own, and listing follows use: `{verb}` on the same \
             name is allowed{}",
            at(using)
        )
    } else {
        format!(
            "listing found no rule of its own; listing follows use, but `{verb}` on the same \
             name is not allowed either ({}), so the listing stays `no_rule`",
            using.reason.as_str()
        )
    }
}

impl Holding {
    /// `the token holds `s``, `... through `t``, or `the token lacks `s``.
    pub fn describe(&self, scope: &str) -> String {
        match self {
            Holding::Token => format!("the token holds `{scope}`"),
            Holding::Implied(by) => format!("the token holds `{scope}` through `{by}`"),
            Holding::Missing => format!("the token lacks `{scope}`"),
        }
    }
}

impl Reading {
    /// What the atom read, in words.
    pub fn describe(&self) -> String {
        match self {
            Reading::Constant => "a constant".to_string(),
            Reading::Arg { path, read } => match read {
                ArgRead::Value {
                    value,
                    unknown: Some(why),
                } => format!("argument `{path}` is `{value}`, {why}: unknown"),
                ArgRead::Value { value, .. } => format!("argument `{path}` is `{value}`"),
                ArgRead::Missing => format!("argument `{path}` is missing"),
                ArgRead::Ambiguous => format!(
                    "`{path}` is ambiguous (a top-level argument of that name and a nested one): unknown"
                ),
                ArgRead::Favoured { value } => format!(
                    "a listing has no arguments: taken as {value}, the value that favours the caller"
                ),
            },
            Reading::Scope { holding } => holding.held.describe(&holding.scope),
            Reading::Role {
                role,
                effective: true,
            } => {
                format!("effective roles include {role}")
            }
            Reading::Role { role, .. } => format!("{role} is not among the effective roles"),
            Reading::Client {
                client: Some(client),
                ..
            } => format!("the client id is `{client}`"),
            Reading::Client { client: None, .. } => "the token has no client id".to_string(),
            Reading::Ip { address: None, .. } => "no address in the request".to_string(),
            Reading::Ip {
                address: Some(address),
                range: Some(range),
                ..
            } => format!("{address} is in {range}"),
            Reading::Ip {
                address: Some(address),
                ranges,
                ..
            } => format!("{address} is in none of {}", ranges.join(", ")),
            Reading::Window {
                local,
                weekday,
                zone,
                window,
            } => {
                let clock = local.rsplit(' ').next().unwrap_or(local);
                format!("{weekday} {clock} in {zone}; window {window}")
            }
            Reading::Instant {
                instant,
                time,
                before,
            } => {
                let relation = match (before, time < instant) {
                    (true, true) => "is before",
                    (true, false) => "is not before",
                    (false, true) => "is before",
                    (false, false) => "is at or after",
                };
                format!("{time} {relation} {instant}")
            }
            Reading::Claim {
                path,
                ambiguous: true,
                ..
            } => format!(
                "`{path}` is ambiguous (a top-level claim of that name and a nested one): unknown"
            ),
            Reading::Claim {
                path,
                found: Some(value),
                ..
            } => format!("`{path}` is `{}`", short_json(value)),
            Reading::Claim { path, .. } => format!("`{path}` is missing"),
        }
    }
}

/// Compact JSON, cut to about 60 characters.
fn short_json(value: &serde_json::Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= 60 {
        return text;
    }
    let cut: String = text.chars().take(57).collect();
    format!("{cut}...")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_drops_comments_but_not_hashes_in_strings() {
        let text = "allow a to call tools \"x#y\", # note\n  \"z\\\"#\" # more";
        assert_eq!(one_line(text), "allow a to call tools \"x#y\", \"z\\\"#\"");
    }

    #[test]
    fn days_as_ranges() {
        assert_eq!(day_list(0b001_1111), "mon-fri");
        assert_eq!(day_list(0b111_0001), "fri-mon");
        assert_eq!(day_list(0b110_0000), "sat,sun");
        assert_eq!(day_list(0b000_0101), "mon,wed");
        assert_eq!(day_list(0b100_0000), "sun");
        assert_eq!(day_list(ALL_DAYS), "every day");
    }
}
