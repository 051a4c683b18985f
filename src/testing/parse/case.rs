//! `expect EFFECT ACTION KIND "NAME" [OPTION ...]`: one case.

use std::net::IpAddr;

use jiff::Timestamp;

use super::Parser;
use crate::ast::{Action, Effect, Kind};
use crate::eval::Reason;
use crate::source::Span;
use crate::testing::error::{ErrorCode, TestError};
use crate::testing::{Case, CaseRequest, Expected, RuleExpectation};

/// The options a case may give, each at most once.
const OPTIONS: [&str; 7] = ["as", "at", "from", "with", "reason", "missing", "rule"];

/// What a case's options say; `None` where it says nothing.
#[derive(Debug, Default)]
struct Options {
    principal: Option<usize>,
    time: Option<Timestamp>,
    ip: Option<Option<IpAddr>>,
    reason: Option<(Reason, Span)>,
    missing: Option<(Vec<String>, Span)>,
    rule: Option<(RuleExpectation, Span)>,
    arguments: Option<(serde_json::Map<String, serde_json::Value>, Span)>,
    given: Vec<&'static str>,
}

impl Parser<'_> {
    /// The rest of an `expect` line, `keyword` being the span of `expect`.
    pub(super) fn case(&mut self, keyword: Span) -> Result<Case, TestError> {
        let effect = self.effect()?;
        let (action, action_span) = self.action()?;
        let (kind, kind_span) = self.kind()?;
        if !kind.allows(action) {
            return Err(TestError::new(
                ErrorCode::T004,
                action_span.to(kind_span),
                format!(
                    "`{}` is not an action on {}; they take `list` and `{}`",
                    action.keyword(),
                    kind.plural(),
                    kind.use_action().keyword()
                ),
            ));
        }
        let (name, mut end) = self.cursor.string()?;
        let mut options = Options::default();
        while !self.cursor.at_line_end() {
            end = self.option(&mut options)?;
        }
        let span = keyword.to(end);
        let principal = options
            .principal
            .or(self.defaults.principal)
            .ok_or_else(|| incomplete(span, "principal", "as NAME"))?;
        let time = options
            .time
            .or(self.defaults.time)
            .ok_or_else(|| incomplete(span, "time", "at 2026-11-26T10:00:00Z"))?;
        let ip = options.ip.unwrap_or(self.defaults.ip);
        let arguments = match options.arguments.take() {
            Some((_, span)) if action == Action::List || action == Action::Read => {
                return Err(TestError::new(
                    ErrorCode::T004,
                    span,
                    format!(
                        "`{}` requests carry no arguments; `with` goes with `call` or `get`",
                        action.keyword()
                    ),
                ))
            }
            Some((arguments, _)) => Some(arguments),
            None => None,
        };
        let expected = expectation(effect, options)?;
        Ok(Case {
            span,
            principal,
            request: CaseRequest {
                kind,
                action,
                name,
                ip,
                time,
                arguments,
            },
            expected,
        })
    }

    fn effect(&mut self) -> Result<Effect, TestError> {
        match self.cursor.word() {
            Some(("allow", _)) => Ok(Effect::Allow),
            Some(("deny", _)) => Ok(Effect::Deny),
            Some((word, span)) => Err(TestError::new(
                ErrorCode::T001,
                span,
                format!("expected `allow` or `deny` after `expect`, found `{word}`"),
            )),
            None => Err(self.expected("`allow` or `deny` after `expect`")),
        }
    }

    fn action(&mut self) -> Result<(Action, Span), TestError> {
        match self.cursor.word() {
            Some((word, span)) => Action::from_keyword(word)
                .map(|action| (action, span))
                .ok_or_else(|| {
                    TestError::new(
                        ErrorCode::T001,
                        span,
                        format!("expected `list`, `call`, `read` or `get`, found `{word}`"),
                    )
                }),
            None => Err(self.expected("an action (`list`, `call`, `read` or `get`)")),
        }
    }

    fn kind(&mut self) -> Result<(Kind, Span), TestError> {
        let found = self.cursor.word();
        let kind = found.and_then(|(word, _)| match word {
            "tool" | "tools" => Some(Kind::Tool),
            "resource" | "resources" => Some(Kind::Resource),
            "prompt" | "prompts" => Some(Kind::Prompt),
            _ => None,
        });
        match (kind, found) {
            (Some(kind), Some((_, span))) => Ok((kind, span)),
            (_, Some((word, span))) => Err(TestError::new(
                ErrorCode::T001,
                span,
                format!("expected `tool`, `resource` or `prompt`, found `{word}`"),
            )),
            _ => Err(self.expected("`tool`, `resource` or `prompt`")),
        }
    }

    /// One option of a case; returns the span of its last token.
    fn option(&mut self, options: &mut Options) -> Result<Span, TestError> {
        let Some((word, span)) = self.cursor.word() else {
            return Err(self
                .expected("an option (`as`, `at`, `from`, `with`, `reason`, `missing`, `rule`)"));
        };
        let Some(option) = OPTIONS.iter().copied().find(|option| *option == word) else {
            return Err(
                TestError::new(ErrorCode::T001, span, format!("unknown option `{word}`"))
                    .with_help(
                        "a case takes `as`, `at`, `from`, `with`, `reason`, `missing` and `rule`",
                    ),
            );
        };
        if options.given.contains(&option) {
            return Err(TestError::new(
                ErrorCode::T003,
                span,
                format!("`{option}` is given twice in this case"),
            ));
        }
        options.given.push(option);
        let start = self.cursor.position();
        match option {
            "as" => options.principal = Some(self.principal_reference()?),
            "at" => options.time = Some(self.instant()?),
            "from" => options.ip = Some(self.address()?),
            "with" => options.arguments = Some(self.arguments()?),
            "reason" => options.reason = Some(self.reason()?),
            "missing" => options.missing = Some(self.missing()?),
            _ => options.rule = Some(self.rule()?),
        }
        Ok(self.cursor.span(start, self.cursor.position()))
    }

    /// `with {JSON}`: the call's arguments, a JSON object.
    fn arguments(
        &mut self,
    ) -> Result<(serde_json::Map<String, serde_json::Value>, Span), TestError> {
        self.cursor.skip_blanks();
        let (value, span) = self.cursor.json()?;
        match value {
            serde_json::Value::Object(arguments) => Ok((arguments, span)),
            _ => Err(TestError::new(
                ErrorCode::T001,
                span,
                "the arguments after `with` must be a JSON object".to_string(),
            )),
        }
    }

    fn reason(&mut self) -> Result<(Reason, Span), TestError> {
        let Some((word, span)) = self.cursor.word() else {
            return Err(self.expected("a reason"));
        };
        let reason = match word {
            "allowed" => Reason::Allowed,
            "denied" => Reason::Denied,
            "insufficient_scope" => Reason::InsufficientScope,
            "no_rule" => Reason::NoRule,
            _ => {
                return Err(TestError::new(
                    ErrorCode::T001,
                    span,
                    format!("unknown reason `{word}`"),
                )
                .with_help(
                    "the reasons are `allowed`, `denied`, `insufficient_scope` and `no_rule`",
                ))
            }
        };
        Ok((reason, span))
    }

    /// `none`, or scopes as strings separated by commas.
    fn missing(&mut self) -> Result<(Vec<String>, Span), TestError> {
        self.cursor.skip_blanks();
        let start = self.cursor.position();
        if self.cursor.peek() != Some('"') {
            return match self.cursor.word() {
                Some(("none", span)) => Ok((Vec::new(), span)),
                _ => Err(self.expected("missing scopes as strings (`\"tool:write\"`) or `none`")),
            };
        }
        let mut scopes = vec![self.cursor.string()?.0];
        while self.cursor.eat(',').is_some() {
            scopes.push(self.cursor.string()?.0);
        }
        scopes.sort_unstable();
        scopes.dedup();
        Ok((scopes, self.cursor.span(start, self.cursor.position())))
    }

    /// `none`, a line number, or `"FILE:LINE"`.
    fn rule(&mut self) -> Result<(RuleExpectation, Span), TestError> {
        self.cursor.skip_blanks();
        if self.cursor.peek() == Some('"') {
            let (text, span) = self.cursor.string()?;
            let site = text
                .rsplit_once(':')
                .and_then(|(file, line)| Some((file, positive(line)?)))
                .filter(|(file, _)| !file.is_empty());
            return match site {
                Some((file, line)) => Ok((
                    RuleExpectation::Site {
                        file: file.to_string(),
                        line,
                    },
                    span,
                )),
                None => Err(TestError::new(
                    ErrorCode::T004,
                    span,
                    format!("`{text}` is not a rule location"),
                )
                .with_help("write `FILE:LINE`, such as `\"example.policy:30\"`")),
            };
        }
        match self.cursor.word() {
            Some(("none", span)) => Ok((RuleExpectation::None, span)),
            Some((word, span)) => positive(word)
                .map(|line| (RuleExpectation::Line(line), span))
                .ok_or_else(|| {
                    TestError::new(
                        ErrorCode::T004,
                        span,
                        format!("`{word}` is not a rule location"),
                    )
                    .with_help("write a line number, `\"FILE:LINE\"` or `none`")
                }),
            None => Err(self.expected("a line number, `\"FILE:LINE\"` or `none`")),
        }
    }
}

/// A line number: digits, at least 1.
fn positive(text: &str) -> Option<u32> {
    let digits = text.bytes().all(|b| b.is_ascii_digit());
    text.parse::<u32>().ok().filter(|line| digits && *line > 0)
}

/// T005 for a case that lacks a principal or a time.
fn incomplete(span: Span, what: &str, example: &str) -> TestError {
    let keyword = example.split(' ').next().unwrap_or(example);
    TestError::new(ErrorCode::T005, span, format!("this case has no {what}")).with_help(format!(
        "add `{example}` to the case, or an `{keyword}` line above it"
    ))
}

/// The expectation, refusing combinations no decision can have.
fn expectation(effect: Effect, options: Options) -> Result<Expected, TestError> {
    let reason = options.reason.map(|(reason, _)| reason);
    let impossible = |span: Span, message: &str| {
        Err(TestError::new(ErrorCode::T004, span, message.to_string())
            .with_label("no decision can have this"))
    };
    if let Some((reason, span)) = options.reason {
        if effect == Effect::Allow && reason != Reason::Allowed {
            return impossible(span, "an allowed request has reason `allowed`");
        }
        if effect == Effect::Deny && reason == Reason::Allowed {
            return impossible(span, "a denied request never has reason `allowed`");
        }
    }
    if let Some((scopes, span)) = &options.missing {
        let scoped = effect == Effect::Deny
            && reason.is_none_or(|reason| reason == Reason::InsufficientScope);
        if !scopes.is_empty() && !scoped {
            return impossible(
                *span,
                "only a denial with reason `insufficient_scope` has missing scopes",
            );
        }
    }
    if let Some((rule, span)) = &options.rule {
        let none = *rule == RuleExpectation::None;
        let no_rule = effect == Effect::Deny && reason.is_none_or(|r| r == Reason::NoRule);
        let has_rule = reason.is_none_or(|r| r != Reason::NoRule);
        if none && !no_rule {
            return impossible(*span, "only reason `no_rule` comes without a deciding rule");
        }
        if !none && !has_rule {
            return impossible(*span, "reason `no_rule` has no deciding rule");
        }
    }
    Ok(Expected {
        effect,
        reason,
        missing_scopes: options.missing.map(|(scopes, _)| scopes),
        rule: options.rule.map(|(rule, _)| rule),
    })
}
