//! The checker's diagnostics, asserted on their code and the text they underline.

use crate::check::{check, Config, ToolManifest};
use crate::diagnostic::Code;
use crate::parse::parse;
use crate::source::Sources;

/// `(code, underlined text)` of every diagnostic of `text`, in order.
fn diagnose_with(text: &str, tools: Option<&[&str]>) -> Vec<(Code, String)> {
    let sources = Sources::from_text("test.policy", text);
    let parsed = parse(&sources);
    let manifest = tools.map(|names| ToolManifest::from_names(names.iter().map(|n| n.to_string())));
    let config = Config {
        tools: manifest.as_ref(),
        incomplete: !parsed.diagnostics.is_empty(),
    };
    let checked = check(&parsed.policy, &config);
    parsed
        .diagnostics
        .iter()
        .chain(&checked.diagnostics)
        .map(|d| (d.code, sources.text(d.span).to_string()))
        .collect()
}

fn diagnose(text: &str) -> Vec<(Code, String)> {
    diagnose_with(text, None)
}

fn expect(text: &str, expected: &[(Code, &str)]) {
    let found = diagnose(text);
    let expected: Vec<(Code, String)> = expected.iter().map(|(c, t)| (*c, t.to_string())).collect();
    assert_eq!(found, expected, "for policy:\n{text}");
}

#[test]
fn clean_policies_have_no_diagnostics() {
    expect(
        "scope \"r\", \"w\"\nscope \"a\" implies \"r\", \"w\"\nrole u\nrole d inherits u aka \"x\"\n\
         require scope \"r\" to list tools \"*\"\nallow u to list tools \"*\"\nallow d to call tools \"*\" if scope \"w\"\n",
        &[],
    );
}

#[test]
fn every_problem_is_reported_in_one_run() {
    expect(
        "role a\nallow a, ghost to call tools \"x\"\nallow a to read tools \"y\"\nallow a to call tools \"z\" if ip in nowhere\n",
        &[(Code::E003, "ghost"), (Code::E005, "read"), (Code::E003, "nowhere")],
    );
}

#[test]
fn duplicates_point_at_the_second_definition() {
    expect(
        "role a\nrole a\nnetwork n = [10.0.0.0/8]\nnetwork n = [::1]\nwindow w = mon\nwindow w = tue\n\
         allow a to call tools \"x\" if ip in n and time in w\n",
        &[(Code::E002, "a"), (Code::E002, "n"), (Code::E002, "w")],
    );
    expect(
        "timezone \"UTC\"\ntimezone \"UTC\"\nclaims { roles from \"r\" }\nclaims { }\n",
        &[(Code::E002, "timezone \"UTC\""), (Code::E002, "claims { }")],
    );
    expect(
        "claims { client from \"a\" client from \"b\" }\n",
        &[(Code::E002, "client")],
    );
}

#[test]
fn undefined_names_everywhere_they_can_appear() {
    expect(
        "role a inherits p\nallow q to call tools \"x\" if role r or ip in n or time in w\n",
        &[
            (Code::E003, "p"),
            (Code::E003, "q"),
            (Code::E003, "r"),
            (Code::E003, "n"),
            (Code::E003, "w"),
        ],
    );
}

#[test]
fn cycles_are_reported_once_each() {
    expect(
        "role a inherits b\nrole b inherits a\nrole c inherits c\nallow a, c to call tools \"x\"\n",
        &[(Code::E004, "a"), (Code::E004, "c")],
    );
    expect(
        "scope \"x\" implies \"y\"\nscope \"y\" implies \"x\"\n",
        &[(Code::E011, "\"x\"")],
    );
}

#[test]
fn actions_must_fit_the_kind() {
    expect(
        "role a\nallow a to list, read resources \"r\"\nallow a to get prompt \"p\"\nallow a to read prompts \"q\"\n",
        &[(Code::E005, "read")],
    );
}

#[test]
fn values_are_validated() {
    expect(
        "role a\nallow a to call tools \"x\" if ip in [10.0.0.0/40] or time before \"soon\" or time in [mon 09:00-09:00]\n",
        &[(Code::E006, "10.0.0.0/40"), (Code::E009, "\"soon\""), (Code::E007, "09:00-09:00")],
    );
    expect("window w = tz \"UTC\"\n", &[(Code::E007, "tz \"UTC\"")]);
    expect(
        "timezone \"Nowhere/City\"\n",
        &[(Code::E008, "\"Nowhere/City\"")],
    );
    expect(
        "role a\nallow a to call tools \"\"\n",
        &[(Code::E010, "\"\"")],
    );
}

#[test]
fn windows_accept_24_00_only_as_an_end() {
    expect(
        "window w = 22:00-24:00\nrole a\nallow a to call tools \"x\" if time in w\n",
        &[],
    );
    expect("window w = 24:00-01:00\n", &[(Code::E007, "24:00")]);
    expect("window w = 24:30-01:00\n", &[(Code::E007, "24:30")]);
    expect("window w = 08:00-25:00\n", &[(Code::E007, "25:00")]);
}

#[test]
fn unused_roles_and_undeclared_scopes() {
    expect(
        "role lonely\nrole bundle inherits used\nrole used\nallow used to call tools \"x\"\n",
        &[(Code::W001, "lonely")],
    );
    expect(
        "scope \"a\"\nrequire scope \"b\" to call tools \"*\"\nscope \"c\" implies \"d\"\n",
        &[(Code::W002, "\"b\""), (Code::W002, "\"d\"")],
    );
    // Without any declaration, scopes need none.
    expect("require scope \"b\" to call tools \"*\"\n", &[]);
}

#[test]
fn syntax_errors_silence_usage_warnings() {
    let found = diagnose("role admin\nallow admin to call tools \"x\" if\n");
    assert_eq!(
        found.iter().map(|(c, _)| *c).collect::<Vec<_>>(),
        [Code::E001]
    );
}

#[test]
fn redundancy_is_decided_on_languages_not_text() {
    expect(
        "role u\nallow u to call tools \"a*\"\nallow u to call tools \"ab?c\"\n",
        &[(Code::W003, "allow u to call tools \"ab?c\"")],
    );
    // `a*` covers the earlier `a*b`; `a*b` does not cover `a*` (names not ending in `b`).
    expect(
        "role u\nallow u to call tools \"a*b\"\nallow u to call tools \"a*\"\n",
        &[(Code::W003, "allow u to call tools \"a*b\"")],
    );
    // A union covers what no single pattern does.
    expect(
        "role u\nallow u to call tools \"x*\", \"*y\"\nallow u to call tools \"x?y\"\n",
        &[(Code::W003, "allow u to call tools \"x?y\"")],
    );
    // Inherited roles: a rule for the parent covers the child's.
    expect(
        "role p\nrole c inherits p\nallow p to call tools \"t\"\nallow c to call tools \"t\" if true\n",
        &[(Code::W003, "allow c to call tools \"t\" if true")],
    );
    // Equal unconditional rules: only the later one is redundant.
    expect(
        "role u\nallow u to call tools \"t\"\nallow u to call tools \"t\"\n",
        &[(Code::W003, "allow u to call tools \"t\"")],
    );
    // More actions cover fewer, not the other way round.
    expect(
        "role u\nallow u to call tools \"t\"\nallow u to call, list tools \"t\"\n",
        &[(Code::W003, "allow u to call tools \"t\"")],
    );
}

#[test]
fn unconditional_denies_override_allows() {
    expect(
        "role u\ndeny anyone to call tools \"x.*\"\nallow u to call tools \"x.y\"\nallow u to call tools \"x.*\", \"z\"\n",
        &[(Code::W004, "allow u to call tools \"x.y\"")],
    );
    // A conditional deny does not always override.
    expect(
        "role u\ndeny anyone to call tools \"x.*\" if false\nallow u to call tools \"x.y\"\n",
        &[],
    );
}

#[test]
fn host_bits_and_allow_everything() {
    expect(
        "role u\nnetwork n = [10.1.2.3/16]\nallow u to call tools \"x\" if ip in n\n",
        &[(Code::W005, "10.1.2.3/16")],
    );
    expect(
        "allow anyone to call tools \"**\"\n",
        &[(Code::W008, "\"**\"")],
    );
    expect("allow anyone to call tools \"*\" if scope \"s\"\n", &[]);
}

#[test]
fn tool_manifest_warnings() {
    let tools = ["fs.read", "fs.write", "db.drop"];
    let found = diagnose_with(
        "role u\nallow u to call tools \"fs.*\", \"gh.*\"\ndeny anyone to call tools \"fs.write\"\n",
        Some(&tools),
    );
    let codes: Vec<(Code, &str)> = found.iter().map(|(c, t)| (*c, t.as_str())).collect();
    assert_eq!(codes[0], (Code::W006, "\"gh.*\""));
    let uncallable = found.iter().filter(|(c, _)| *c == Code::W007).count();
    assert_eq!(uncallable, 2, "fs.write and db.drop: {found:?}");
}

#[test]
fn arg_conditions_on_listing_or_reading_are_errors_once_per_rule() {
    expect(
        "allow anyone to list, call tools \"x\" if arg \"a\" == 1 and arg \"b\" exists\n\
         allow anyone to read resources \"r\" unless arg \"p\" matches \"*..*\"\n\
         allow anyone to list prompts \"p\" if true and (not arg \"t\" in [\"a\"])\n\
         allow anyone to call tools \"y\" if arg \"a\" == 1\n",
        &[
            (Code::E013, "arg \"a\" == 1"),
            (Code::E013, "arg \"p\" matches \"*..*\""),
            (Code::E013, "arg \"t\" in [\"a\"]"),
        ],
    );
}

#[test]
fn an_empty_or_dangling_arg_glob_is_e010() {
    expect(
        "allow anyone to call tools \"x\" if arg \"p\" matches \"\"\n",
        &[(Code::E010, "\"\"")],
    );
}

#[test]
fn arg_paths_are_judged_against_input_schemas() {
    let manifest_text = r#"{"tools":[
        {"name":"k8s.scale","inputSchema":{"type":"object","properties":{"replicas":{"type":"integer"},"cluster":{"type":"string"}}}},
        {"name":"k8s.logs","inputSchema":{"type":"object","properties":{"pod":{}}}},
        {"name":"legacy"}
    ]}"#;
    let manifest =
        ToolManifest::parse(manifest_text, crate::source::SourceId(9)).expect("a manifest");
    let text = "allow anyone to call tools \"k8s.scale\" if arg \"replica\" <= 5\n\
                allow anyone to call tools \"k8s.*\" if arg \"pod\" exists and arg \"cluster.name\" == \"a\"\n\
                allow anyone to call tools \"k8s.*\" if arg \"/cluster/x\" exists or arg \"zzz\" exists\n\
                allow anyone to call tools \"legacy\" if arg \"anything\" exists\n\
                allow anyone to get prompts \"k8s.scale\" if arg \"nothing\" exists\n";
    let sources = Sources::from_text("test.policy", text);
    let parsed = parse(&sources);
    let config = Config {
        tools: Some(&manifest),
        incomplete: false,
    };
    let checked = check(&parsed.policy, &config);
    let found: Vec<(Code, String, Option<String>)> = checked
        .diagnostics
        .iter()
        .filter(|d| d.code == Code::W009)
        .map(|d| (d.code, sources.text(d.span).to_string(), d.help.clone()))
        .collect();
    assert_eq!(
        found,
        vec![
            (
                Code::W009,
                "arg \"replica\" <= 5".to_string(),
                Some("did you mean `replicas`?".to_string())
            ),
            (
                Code::W009,
                "arg \"zzz\" exists".to_string(),
                Some("the matched tools declare `cluster`, `pod`, `replicas`".to_string())
            ),
        ]
    );
}
