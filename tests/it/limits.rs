//! Every limit of `toolgate::Limits`: at the limit a policy loads, one past it
//! the policy is refused with an E012 naming the limit, and a changed limit is obeyed.

use serde_json::json;
use toolgate::unstable::ast::{Action, Kind};
use toolgate::unstable::eval::{Reason, Request};
use toolgate::unstable::source::LoadError;
use toolgate::Limits;
use toolgate::{Code, Diagnostic, LoadOptions, Policy, PolicyError, Sources};

/// Options loading within `limits`.
fn with(limits: &Limits) -> LoadOptions {
    LoadOptions {
        limits: *limits,
        ..LoadOptions::default()
    }
}

/// The diagnostics of a policy that must not load.
fn refused(text: &str, limits: &Limits) -> Vec<Diagnostic> {
    match with(limits).load_text("limits.policy", text) {
        Ok(_) => panic!("loaded over a limit:\n{}", shorten(text)),
        Err(PolicyError::Invalid { diagnostics, .. }) => diagnostics,
        Err(other) => panic!("{other}"),
    }
}

/// The E012s of a refused policy, as `message | help`.
fn limit_errors(text: &str, limits: &Limits) -> Vec<String> {
    refused(text, limits)
        .into_iter()
        .filter(|diagnostic| diagnostic.code == Code::E012)
        .map(|diagnostic| {
            format!(
                "{} | {}",
                diagnostic.message,
                diagnostic.help.unwrap_or_default()
            )
        })
        .collect()
}

fn loads(text: &str, limits: &Limits) -> Policy {
    with(limits)
        .load_text("limits.policy", text)
        .unwrap_or_else(|error| panic!("{error}\n{}", shorten(text)))
}

fn shorten(text: &str) -> String {
    text.chars().take(200).collect()
}

fn defaults() -> Limits {
    Limits::default()
}

#[test]
fn the_defaults_are_documented_values() {
    let limits = Limits::default();
    assert_eq!(limits.policy_bytes, 4 * 1024 * 1024);
    assert_eq!(limits.statements, 100_000);
    assert_eq!(limits.roles, 10_000);
    assert_eq!(limits.scopes, 10_000);
    assert_eq!(limits.condition_depth, 64);
    assert_eq!(limits.pattern_chars, 1024);
    assert_eq!(limits.pattern_wildcards, 64);
    assert_eq!(limits.string_chars, 4096);
    assert_eq!(limits.claim_path_segments, 32);
    assert_eq!(limits.arg_atoms, 10_000);
    assert_eq!(limits.name_bytes, 65_536);
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/limits.md")).unwrap();
    for field in [
        "policy_bytes",
        "statements",
        "roles",
        "scopes",
        "condition_depth",
        "pattern_chars",
        "pattern_wildcards",
        "string_chars",
        "claim_path_segments",
        "arg_atoms",
        "name_bytes",
    ] {
        assert!(
            doc.contains(&format!("`{field}`")),
            "docs/limits.md lacks `{field}`"
        );
    }
}

#[test]
fn policy_text_over_the_byte_limit_is_not_parsed() {
    let limits = Limits {
        policy_bytes: 64,
        ..defaults()
    };
    let text = "#\n".repeat(31) + "role a\n";
    assert_eq!(text.len(), 69);
    let roomy = Limits {
        policy_bytes: 69,
        ..defaults()
    };
    loads(&text, &roomy);
    let errors = limit_errors(&text, &limits);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("limit exceeded: 69 bytes of policy text, the most is 64"));
    assert!(errors[0].contains("`policy_bytes`"));
    // Two files count together: the diagnostic is at the start of the second.
    let mut sources = Sources::from_text("a.policy", "#\n".repeat(32));
    sources.add("b.policy", "role b\n");
    let Err(PolicyError::Invalid { diagnostics, .. }) = with(&limits).load_sources(sources) else {
        panic!("two files over the limit together loaded");
    };
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(diagnostics[0].span.source.0, 1);
}

#[test]
fn reading_stops_at_the_byte_limit() {
    let folder = std::env::temp_dir().join(format!("toolgate-limits-{}", std::process::id()));
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("a.policy"), "# 3456\n".repeat(7) + "role a\n").unwrap();
    std::fs::write(folder.join("b.policy"), "# 3456\n".repeat(7) + "role b\n").unwrap();
    let limits = Limits {
        policy_bytes: 100,
        ..defaults()
    };
    let error = with(&limits).load(&folder).unwrap_err();
    let PolicyError::Read(LoadError::TooLarge { path, limit }) = &error else {
        panic!("{error}");
    };
    assert!(path.ends_with("b.policy"), "{path}");
    assert_eq!(*limit, 100);
    assert!(error.to_string().contains("`policy_bytes`"), "{error}");
    let roomy = Limits {
        policy_bytes: 112,
        ..defaults()
    };
    assert!(with(&roomy).load(&folder).is_ok());
    assert!(Policy::load(&folder).is_ok());
    std::fs::remove_dir_all(&folder).unwrap();
}

#[test]
fn statements_past_the_limit_are_not_read() {
    let limits = Limits {
        statements: 3,
        ..defaults()
    };
    let policy = "role a\nrole b\nallow a, b to call tools \"x\"\n";
    loads(policy, &limits);
    let over = format!("{policy}role c\nrole d\n");
    let errors = limit_errors(&over, &limits);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("limit exceeded: more than 3 statements"));
    // Statements with syntax errors count too, so errors are bounded as well.
    let garbage = "role\n".repeat(10_000);
    let diagnostics = refused(&garbage, &limits);
    assert_eq!(diagnostics.len(), 4, "three syntax errors and the E012");
    assert_eq!(diagnostics[3].code, Code::E012);
}

#[test]
fn roles_and_scopes_are_counted_once_each() {
    let limits = Limits {
        roles: 3,
        scopes: 2,
        ..defaults()
    };
    let fits = "role a\nrole b inherits a\nrole c\nscope \"x\" implies \"y\"\n\
                allow a, b, c to call tools \"t\" if scope \"x\" or scope \"y\"\n\
                require scope \"y\" to call tools \"u\"\n";
    loads(fits, &limits);
    let errors = limit_errors(&format!("{fits}role d\n"), &limits);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("limit exceeded: more than 3 roles"));
    assert!(errors[0].contains("`roles`"));
    // A scope only used, never declared, counts too.
    let used = format!("{fits}allow a to call tools \"v\" if scope \"z\"\n");
    let errors = limit_errors(&used, &limits);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("limit exceeded: more than 2 scopes"));
    // A long inheritance chain at the default limit loads in bounded memory.
    let mut chain = String::from("role r0\n");
    for role in 1..10_000 {
        chain.push_str(&format!("role r{role} inherits r{}\n", role - 1));
    }
    chain.push_str("allow r9999 to call tools \"x\"\n");
    let engine = loads(&chain, &defaults()).into_engine();
    let principal = engine.principal(&json!({"roles": "r9999"})).unwrap();
    let request = Request::new(Kind::Tool, Action::Call, "x").unwrap();
    assert!(engine.decide(&principal, &request).is_allowed());
    chain.push_str("role one_too_many\n");
    assert_eq!(limit_errors(&chain, &defaults()).len(), 1);
}

#[test]
fn conditions_nest_to_the_depth_limit() {
    let nested = |depth: usize| {
        format!(
            "role a\nallow a to call tools \"x\" if {}true{}\n",
            "(".repeat(depth),
            ")".repeat(depth)
        )
    };
    loads(&nested(64), &defaults());
    let errors = limit_errors(&nested(65), &defaults());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("limit exceeded: more than 64 levels of `(` and `not`"));
    assert!(errors[0].contains("`condition_depth`"));
    let shallow = Limits {
        condition_depth: 2,
        ..defaults()
    };
    loads(&nested(2), &shallow);
    assert_eq!(limit_errors(&nested(3), &shallow).len(), 1);
    let nots = "role a\nallow a to call tools \"x\" if not not not true\n";
    assert_eq!(limit_errors(nots, &shallow).len(), 1);
    // Deeper than 64 cannot be configured: the grammar uses native stack per level.
    let deep = Limits {
        condition_depth: 10_000,
        ..defaults()
    };
    assert_eq!(limit_errors(&nested(65), &deep).len(), 1);
}

#[test]
fn patterns_have_a_length_and_a_wildcard_limit() {
    let rule = |pattern: &str| format!("role a\nallow a to call tools \"{pattern}\"\n");
    loads(&rule(&"é".repeat(1024)), &defaults());
    let errors = limit_errors(&rule(&"é".repeat(1025)), &defaults());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("limit exceeded: 1025 characters in a pattern, the most is 1024"));
    assert!(errors[0].contains("`pattern_chars`"));
    loads(&rule(&"*?".repeat(32)), &defaults());
    let errors = limit_errors(&rule(&"*?".repeat(33)), &defaults());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("limit exceeded: 66 wildcards in a pattern, the most is 64"));
    // Escaped wildcards are literals.
    loads(&rule(&"\\\\*".repeat(100)), &defaults());
    // Requirements' patterns too.
    let requirement = format!("require scope \"s\" to call tools \"{}\"\n", "?".repeat(65));
    assert_eq!(limit_errors(&requirement, &defaults()).len(), 1);
    // Raised limits are obeyed: the pattern loads and matches.
    let roomy = Limits {
        pattern_chars: 4000,
        pattern_wildcards: 2000,
        ..defaults()
    };
    let long = "a*".repeat(1500);
    let engine = loads(&rule(&long), &roomy).into_engine();
    let principal = engine.principal(&json!({"roles": ["a"]})).unwrap();
    let name = "a".repeat(1500);
    let request = Request::new(Kind::Tool, Action::Call, &name).unwrap();
    assert!(engine.decide(&principal, &request).is_allowed());
}

#[test]
fn strings_and_claim_paths_have_limits() {
    let long = "s".repeat(4097);
    for text in [
        format!("scope \"{long}\"\n"),
        format!("role a aka \"{long}\"\nallow a to call tools \"x\"\n"),
        format!("role a\nallow a to call tools \"x\" if client \"{long}\"\n"),
        format!("role a\nallow a to call tools \"x\" if claim \"c\" == \"{long}\"\n"),
        format!("role {long}\nallow {long} to call tools \"x\"\n"),
    ] {
        let errors = limit_errors(&text, &defaults());
        assert!(!errors.is_empty(), "{}", shorten(&text));
        assert!(errors.iter().all(|error| error.contains("`string_chars`")));
        assert!(errors[0].contains("4097 characters in a string, the most is 4096"));
    }
    let path = |segments: usize| vec!["k"; segments].join(".");
    let claim = |segments: usize| {
        format!(
            "role a\nallow a to call tools \"x\" if claim \"{}\" exists\n",
            path(segments)
        )
    };
    loads(&claim(32), &defaults());
    let errors = limit_errors(&claim(33), &defaults());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0]
        .starts_with("limit exceeded: 33 segments in a claim or argument path, the most is 32"));
    let block = format!("claims {{\n  roles from \"{}\"\n}}\n", path(40));
    assert_eq!(limit_errors(&block, &defaults()).len(), 1);
    let argument = format!(
        "allow anyone to call tools \"x\" if arg \"{}\" exists\n",
        path(33)
    );
    let errors = limit_errors(&argument, &defaults());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].contains("`claim_path_segments`"), "{errors:?}");
    let long_literal =
        format!("allow anyone to call tools \"x\" if arg \"a\" in [\"b\", \"{long}\"]\n");
    assert_eq!(limit_errors(&long_literal, &defaults()).len(), 1);
}

#[test]
fn arg_atoms_have_a_limit_over_the_whole_policy() {
    let limits = Limits {
        arg_atoms: 2,
        ..Limits::default()
    };
    let two = "allow anyone to call tools \"x\" if arg \"a\" == 1 and arg \"b\" == 2\n";
    loads(two, &limits);
    let three = format!("{two}deny anyone to call tools \"y\" if arg \"c\" exists\n");
    let refusals: Vec<_> = refused(&three, &limits)
        .into_iter()
        .filter(|diagnostic| diagnostic.code == Code::E012)
        .collect();
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    let sources = toolgate::Sources::from_text("limits.policy", &three);
    assert_eq!(sources.text(refusals[0].span), "arg \"c\" exists");
    assert_eq!(
        refusals[0].message,
        "limit exceeded: more than 2 `arg` conditions"
    );
    assert!(refusals[0]
        .help
        .as_deref()
        .unwrap_or_default()
        .contains("`arg_atoms`"));
}

#[test]
fn names_over_the_name_limit_are_denied_unmatched() {
    let limits = Limits {
        name_bytes: 8,
        ..defaults()
    };
    let engine = loads("allow anyone to call tools \"*\"\n", &limits).into_engine();
    let principal = engine.principal(&json!({})).unwrap();
    let fits = Request::new(Kind::Tool, Action::Call, "12345678").unwrap();
    assert!(engine.decide(&principal, &fits).is_allowed());
    let over = Request::new(Kind::Tool, Action::Call, "123456789").unwrap();
    let decision = engine.decide(&principal, &over);
    assert!(!decision.is_allowed());
    assert_eq!(decision.reason, Reason::NoRule);
    let listed = engine.filter_listable(
        &principal,
        Kind::Tool,
        ["short", "much-too-long"],
        None,
        jiff::Timestamp::UNIX_EPOCH,
    );
    assert_eq!(listed, ["short"]);
}

#[test]
fn every_limit_diagnostic_has_a_span_inside_its_file() {
    let text = format!(
        "scope \"{}\"\nrole a\nallow a to call tools \"{}\" if claim \"{}\" exists\n",
        "x".repeat(5000),
        "*".repeat(70),
        vec!["k"; 40].join(".")
    );
    let diagnostics: Vec<Diagnostic> = refused(&text, &defaults())
        .into_iter()
        .filter(|diagnostic| diagnostic.code == Code::E012)
        .collect();
    assert_eq!(diagnostics.len(), 3, "{diagnostics:?}");
    let sources = Sources::from_text("limits.policy", text.as_str());
    for diagnostic in &diagnostics {
        let range = diagnostic.span.range();
        assert!(range.start < range.end && range.end <= text.len());
        let underlined = sources.text(diagnostic.span);
        assert!(
            underlined.starts_with('"') && underlined.ends_with('"'),
            "{underlined}"
        );
    }
}
