//! `toolgate fmt` and `toolgate::unstable::format`: golden layouts, comments kept, the command's
//! exit statuses, and properties on random policies: the formatted text parses,
//! formatting it again changes nothing, every comment survives, and every decision
//! stays the same.
//!
//! The property tests run 1,000 generated policies each by default;
//! `TOOLGATE_PROPTEST_CASES` raises that to a tenth of its value (see differential.rs).

use std::path::Path;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;
use toolgate::unstable::eval::{Engine, Request};
use toolgate::unstable::format::{self, FormatError};
use toolgate::unstable::source::{Sources, Span};
use toolgate::unstable::wire;

use crate::cli::{toolgate, Scratch};
use crate::generate;
use crate::reference::RefRequest;

// ---------------------------------------------------------------- helpers

/// The formatted text, which must be stable.
fn fmt(text: &str) -> String {
    let formatted = format::format(text).unwrap_or_else(|error| panic!("{error:?}\n{text}"));
    let again = format::format(&formatted).unwrap_or_else(|error| panic!("{error:?}"));
    assert_eq!(again, formatted, "formatting twice changed the text");
    formatted
}

/// The comments of a policy text (`#` to the end of the line, outside strings), their
/// trailing whitespace removed, sorted.
fn comment_texts(text: &str) -> Vec<String> {
    let mut comments = Vec::new();
    let mut in_string = false;
    let mut characters = text.char_indices().peekable();
    while let Some((offset, character)) = characters.next() {
        match character {
            '"' => in_string = !in_string,
            '\\' if in_string => {
                characters.next();
            }
            '\n' => in_string = false,
            '#' if !in_string => {
                let rest = &text[offset..];
                let comment = &rest[..rest.find('\n').unwrap_or(rest.len())];
                comments.push(comment.trim_end().to_string());
                while characters.peek().is_some_and(|&(_, c)| c != '\n') {
                    characters.next();
                }
            }
            _ => {}
        }
    }
    comments.sort();
    comments
}

/// The offsets of whitespace outside strings and comments, where a comment may go.
fn comment_slots(text: &str) -> Vec<usize> {
    let mut slots = Vec::new();
    let mut in_string = false;
    let mut in_comment = false;
    let mut characters = text.char_indices();
    while let Some((offset, character)) = characters.next() {
        if in_comment {
            in_comment = character != '\n';
            continue;
        }
        match character {
            '"' => in_string = !in_string,
            '\\' if in_string => {
                characters.next();
            }
            '#' if !in_string => in_comment = true,
            ' ' | '\t' | '\n' if !in_string => slots.push(offset),
            _ => {}
        }
    }
    slots
}

/// `text` with comments put in at some of its whitespace: after words, on lines of
/// their own, after empty lines, with CRLF line ends.
fn inject_comments(text: &str, picks: &[(usize, u8)]) -> String {
    let slots = comment_slots(text);
    if slots.is_empty() {
        return text.to_string();
    }
    let mut chosen: Vec<(usize, u8, usize)> = picks
        .iter()
        .enumerate()
        .map(|(number, &(pick, style))| (slots[pick % slots.len()], style, number))
        .collect();
    chosen.sort();
    chosen.dedup_by_key(|(offset, _, _)| *offset);
    let mut out = text.to_string();
    for (offset, style, number) in chosen.into_iter().rev() {
        let comment = match style {
            0 => format!(" # c{number}\n"),
            1 => format!("\n# c{number} own line\n"),
            2 => format!("\n\n    # c{number} \"quoted # hash\"  \n"),
            _ => format!("\t#c{number}\r\n"),
        };
        out.insert_str(offset, &comment);
    }
    out
}

/// Cases per property: 1,000, or a tenth of `TOOLGATE_PROPTEST_CASES` when larger.
fn cases() -> u32 {
    let asked: u32 = std::env::var("TOOLGATE_PROPTEST_CASES")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(0);
    (asked / 10).max(1000)
}

fn run<S: Strategy>(strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    if let Err(error) = runner.run(&strategy, test) {
        panic!("{error}");
    }
}

/// A decision as the formatter must keep it: effect, reason, missing scopes, and the
/// deciding statement by its index among the policy's statements (lines move).
type Kept = (bool, &'static str, Vec<String>, Option<usize>);

/// Loads `sources` (which must have no errors) and decides each request.
fn decide_all(sources: Sources, requests: &[Request<'_>], claims: &[Value]) -> Vec<Kept> {
    let statements: Vec<Span> = toolgate::unstable::parse::parse(&sources)
        .policy
        .statements
        .iter()
        .map(|statement| statement.span)
        .collect();
    let engine: Engine = match toolgate::LoadOptions::default().load_sources(sources) {
        Ok(loaded) => loaded.into_engine(),
        Err(error) => panic!("{error}"),
    };
    requests
        .iter()
        .zip(claims)
        .map(|(request, claims)| {
            let Ok(principal) = engine.principal(claims) else {
                // Refused (an ambiguous claims-map path): the same before and after.
                return (false, "refused", Vec::new(), None);
            };
            let decision = engine.decide(&principal, request);
            let statement = decision.rule.map(|site| {
                statements
                    .iter()
                    .position(|&span| span == site.span)
                    .expect("the deciding statement is a statement of the policy")
            });
            (
                decision.is_allowed(),
                decision.reason.as_str(),
                decision
                    .missing_scopes
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
                statement,
            )
        })
        .collect()
}

fn decide_generated(text: &str, requests: &[RefRequest]) -> Vec<Kept> {
    let built: Vec<Request<'_>> = requests
        .iter()
        .map(|request| Request {
            kind: request.kind,
            action: request.action,
            name: &request.name,
            ip: request.ip,
            time: request.time,
            arguments: request.arguments.as_ref().and_then(Value::as_object),
        })
        .collect();
    let claims: Vec<Value> = requests.iter().map(|r| r.claims.clone()).collect();
    decide_all(
        Sources::from_text("generated.policy", text),
        &built,
        &claims,
    )
}

/// The files of `sources`, each formatted, under the same names and in the same order.
fn formatted_sources(sources: &Sources) -> Sources {
    let mut formatted = Sources::new();
    for (_, file) in sources.iter() {
        formatted.add(file.name(), fmt(file.text()));
    }
    formatted
}

/// Decides JSON request lines against `sources`.
fn decide_json(sources: Sources, lines: &[String]) -> Vec<Kept> {
    let default_time: jiff::Timestamp = "2026-11-26T10:00:00Z".parse().unwrap();
    let parsed: Vec<wire::JsonRequest<'_>> = lines
        .iter()
        .map(|line| wire::parse_request(line).unwrap())
        .collect();
    let claims: Vec<Value> = parsed
        .iter()
        .map(|request| serde_json::from_str(request.claims.get()).unwrap())
        .collect();
    let requests: Vec<Request<'_>> = parsed
        .iter()
        .map(|request| Request {
            kind: request.kind,
            action: request.action,
            name: &request.name,
            ip: request.ip,
            time: request.time.unwrap_or(default_time),
            arguments: None,
        })
        .collect();
    decide_all(sources, &requests, &claims)
}

/// Formats every file of the policy at `path` and checks that the formatted policy
/// decides `requests` (JSON lines) as the original does.
fn assert_same_decisions(path: &Path, requests: &[String]) {
    let original = Sources::from_path(path).unwrap();
    for (_, file) in original.iter() {
        assert_eq!(
            comment_texts(&fmt(file.text())),
            comment_texts(file.text()),
            "{}",
            file.name()
        );
    }
    let formatted = formatted_sources(&original);
    let before = decide_json(original, requests);
    let after = decide_json(formatted, requests);
    assert_eq!(before, after, "{}", path.display());
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

// ---------------------------------------------------------------- golden layouts

/// The example of LANGUAGE.md (as `policies/example.policy` has it) is canonical.
#[test]
fn the_spec_example_is_in_the_canonical_layout() {
    let text = std::fs::read_to_string(root().join("policies/example.policy")).unwrap();
    assert!(text.contains("role developer inherits user      aka \"mcp-developers\""));
    assert_eq!(fmt(&text), text);
}

/// The bundled server policy keeps its layout but for three documented changes: runs
/// of empty lines become one, a continued list goes under its first item, and a long
/// condition is broken one operand per line.
#[test]
fn the_server_example_changes_only_where_documented() {
    let text = std::fs::read_to_string(root().join("policies/mcp-server.policy")).unwrap();
    let formatted = fmt(&text);
    assert!(!formatted.contains("\n\n\n"));
    assert!(formatted.contains(concat!(
        "require scope \"tool:write\" to call tools \"repo.create_branch\", \"repo.merge\", \"issues.create\",\n",
        "                                         \"deploy.*\", \"db.migrate\", \"db.drop_table\"\n",
    )));
    assert!(formatted.contains(concat!(
        "deny anyone to call tools \"db.drop_table\", \"admin.*\"\n",
        "  unless role admin\n",
        "    and claim \"amr\" contains \"mfa\"\n",
        "    and ip in office\n",
        "    and (time in business_hours or claim \"break_glass.approved\" == true)\n",
    )));
    let squeezed =
        |text: &str| -> Vec<String> { text.split_whitespace().map(str::to_string).collect() };
    assert_eq!(squeezed(&formatted), squeezed(&text));
    assert!(formatted.contains(concat!(
        "role read-only                     aka \"mcp-readonly\", \"Tool.Read\", \"MCP Read-only\"\n",
        "role user       inherits read-only aka \"mcp-users\", \"Tool.User\", \"MCP User\"\n",
    )));
}

const MESSY: &str = "\
\n\
\n\
# header comment\n\
\n\
timezone    \"Europe/Berlin\"   # zone\n\
claims { # the claims\n\
  # roles first\n\
  roles from \"roles\" ,\"realm_access.roles\"   # two paths\n\
  client   from \"azp\"\n\
  # before the brace\n\
}\n\
scope \"a\",\"b\" implies \"c\"   # implied\n\
scope \"longer\"   implies \"d\"\n\
role readonly role developer inherits readonly aka \"dev\" # devs\n\
role admin inherits developer,\n\
   # a comment inside\n\
   readonly aka \"adm\"\n\
network office=[10.0.0.0/8,  192.168.0.0/16]\n\
window business_hours = mon - fri , sat 09:00-17:00 tz \"UTC\"\n\
window w2 = tz \"UTC\"\n\
\n\
\n\
\n\
allow readonly to list tools \"*\"\n\
allow developer , admin to call tools \"github.*\" if ((role admin)) and not (scope \"x\" or scope \"y\") # trailing\n\
deny anyone to call tool \"db.drop_*\" # after patterns\n\
  # before unless\n\
  unless role admin and ip in office and time in business_hours\n\
require scope \"a\" to call tools \"*\"\n\
require scope \"longer\", \"b\" to list,call tools \"x\" , # mid\n\
  \"y\"\n\
\n\
\t\tdeny anyone to call tools \"x\" if claim \"n\" == -5 or claim \"m\" != \"q\\u{e9}\" and time before \"2026-01-01T00:00:00Z\" or time in [sat,sun]\n\
deny anyone to call tools \"y\" if claim \"a\" exists and claim \"b\" contains true   \n\
# the end\n\
\n\
\n\
# really the end   \n\
\n";

const MESSY_FORMATTED: &str = "\
# header comment

timezone \"Europe/Berlin\" # zone
claims {                 # the claims
  # roles first
  roles  from \"roles\", \"realm_access.roles\" # two paths
  client from \"azp\"
  # before the brace
}
scope \"a\", \"b\" implies \"c\" # implied
scope \"longer\" implies \"d\"
role readonly
role developer inherits readonly            aka \"dev\" # devs
role admin     inherits developer,
                        # a comment inside
                        readonly aka \"adm\"
network office = [10.0.0.0/8, 192.168.0.0/16]
window  business_hours = mon-fri,sat 09:00-17:00 tz \"UTC\"
window  w2             = tz \"UTC\"

allow readonly         to list tools \"*\"
allow developer, admin to call tools \"github.*\"
  if (role admin) and not (scope \"x\" or scope \"y\") # trailing
deny anyone            to call tool \"db.drop_*\"    # after patterns
  # before unless
  unless role admin and ip in office and time in business_hours
require scope \"a\"           to call tools \"*\"
require scope \"longer\", \"b\" to list, call tools \"x\", # mid
                                                \"y\"

deny anyone to call tools \"x\"
  if claim \"n\" == -5
    or claim \"m\" != \"q\\u{e9}\" and time before \"2026-01-01T00:00:00Z\"
    or time in [sat,sun]
deny anyone to call tools \"y\"
  if claim \"a\" exists and claim \"b\" contains true
# the end

# really the end
";

#[test]
fn a_messy_file_gets_the_canonical_layout() {
    assert_eq!(fmt(MESSY), MESSY_FORMATTED);
    assert_eq!(comment_texts(MESSY), comment_texts(MESSY_FORMATTED));
}

#[test]
fn arg_conditions_take_the_canonical_layout() {
    let text = "\
allow a to call tools \"x\" if arg \"n\"<=5 and arg \"f\" in [\"pdf\",\"csv\" ,2.50]
deny anyone to call tools \"x\" unless arg \"p\"   matches \"docs/*\" or arg \"/a~1b\" exists
allow a to get prompts \"p\" if arg \"t\" != -0.5 and arg \"l\" contains \"x\" and arg \"q\" > 1
";
    let want = "\
allow a     to call tools \"x\"
  if arg \"n\" <= 5 and arg \"f\" in [\"pdf\", \"csv\", 2.50]
deny anyone to call tools \"x\"
  unless arg \"p\" matches \"docs/*\" or arg \"/a~1b\" exists
allow a     to get prompts \"p\"
  if arg \"t\" != -0.5 and arg \"l\" contains \"x\" and arg \"q\" > 1
";
    assert_eq!(fmt(text), want);
}

#[test]
fn conditions_stay_on_the_line_or_go_below_it() {
    let text = "\
allow a to call tools \"x\" if role a
allow a to call tools \"x\" if role a or role b
allow a to call tools \"x\" unless not (role a)
allow a to call tools \"x\" if claim \"https://example.com/a/very/long/claim/path/that/goes/on\" == \"some value\"
";
    let want = "\
allow a to call tools \"x\" if role a
allow a to call tools \"x\"
  if role a or role b
allow a to call tools \"x\" unless not (role a)
allow a to call tools \"x\"
  if claim \"https://example.com/a/very/long/claim/path/that/goes/on\" == \"some value\"
";
    assert_eq!(fmt(text), want);
}

#[test]
fn long_chains_are_broken_one_operand_per_line() {
    let text = "deny anyone to call tools \"db.*\" unless (role a and scope \"tool:admin\" and ip in [10.0.0.0/8, 192.168.0.0/16]) or (role b and time in [mon-fri 09:00-17:00 tz \"Europe/Berlin\"] and claim \"amr\" contains \"mfa\") or client \"x\"
deny anyone to call tools \"db.*\" unless not (role a and scope \"tool:admin\" and ip in [10.0.0.0/8, 192.168.0.0/16] or role b and time in [mon-fri 09:00-17:00 tz \"Europe/Berlin\"] and claim \"amr\" contains \"mfa\" and client \"a-long-client-name\")
";
    let want = "\
deny anyone to call tools \"db.*\"
  unless (role a and scope \"tool:admin\" and ip in [10.0.0.0/8, 192.168.0.0/16])
    or (role b and time in [mon-fri 09:00-17:00 tz \"Europe/Berlin\"] and claim \"amr\" contains \"mfa\")
    or client \"x\"
deny anyone to call tools \"db.*\"
  unless not (role a and scope \"tool:admin\" and ip in [10.0.0.0/8, 192.168.0.0/16]
      or role b
        and time in [mon-fri 09:00-17:00 tz \"Europe/Berlin\"]
        and claim \"amr\" contains \"mfa\"
        and client \"a-long-client-name\")
";
    assert_eq!(fmt(text), want);
}

#[test]
fn long_lists_continue_under_their_first_item() {
    let text = "\
scope \"tool:read\", \"tool:write\", \"tool:admin\", \"deploy:prod\", \"deploy:staging\", \"db:read\", \"db:write\"
role a role b role c
allow a, b, c to call tools \"github.create_issue\", \"github.list_issues\", \"github.create_pull_request\", \"fs.read_file\"
";
    let want = "\
scope \"tool:read\", \"tool:write\", \"tool:admin\", \"deploy:prod\", \"deploy:staging\", \"db:read\",
      \"db:write\"
role a
role b
role c
allow a, b, c to call tools \"github.create_issue\", \"github.list_issues\",
                            \"github.create_pull_request\", \"fs.read_file\"
";
    assert_eq!(fmt(text), want);
}

#[test]
fn parentheses_are_kept_where_written_and_single() {
    let text =
        "allow a to call tools \"x\" if (((role a))) and (role b or (role c)) and not (not true)\n";
    let want =
        "allow a to call tools \"x\"\n  if (role a) and (role b or (role c)) and not (not true)\n";
    assert_eq!(fmt(text), want);
}

#[test]
fn strings_and_values_are_kept_as_written() {
    let text = "network n = [10.0.0.1/8,::ffff:10.0.0.0/104]\nwindow w = sun-mon,wed 9:00-24:00\nallow anyone to get prompt \"a\\u{e9}\\*\\\\\" if claim \"x\" != 007\n";
    let want = "network n = [10.0.0.1/8, ::ffff:10.0.0.0/104]\nwindow  w = sun-mon,wed 9:00-24:00\nallow anyone to get prompt \"a\\u{e9}\\*\\\\\" if claim \"x\" != 007\n";
    assert_eq!(fmt(text), want);
}

#[test]
fn comments_in_odd_places_stay_next_to_their_words() {
    let text = "\
allow a # after the effect's subject
  to # after to
  call tools \"x\" if ( # after the parenthesis
  role a # after the atom
  # own line inside the condition
  or role b)
window w = mon # inside the days
  - fri
claims {
  # alone in the block
}
";
    let formatted = fmt(text);
    assert_eq!(comment_texts(&formatted), comment_texts(text));
    let want = "\
allow a # after the effect's subject
  to    # after to
  call tools \"x\"
  if (     # after the parenthesis
    role a # after the atom
    # own line inside the condition
    or role b)
window w = mon-fri # inside the days
claims {
  # alone in the block
}
";
    assert_eq!(formatted, want);
}

/// Two comments after words of one piece (`mon - fri`, or a run of closing
/// parentheses printed as one): the second goes on a line of its own.
#[test]
fn comments_inside_words_printed_as_one() {
    let text = "window w = mon # a\n - fri # b\nallow x to call tools \"y\" if ((role a # c\n) # d\n) and true # e\nrole z\n";
    let want = "\
window w = mon-fri # a
# b
allow x to call tools \"y\"
  if (role a # c
    )        # d
    and true # e
role z
";
    assert_eq!(fmt(text), want);
}

#[test]
fn line_ends_byte_order_marks_and_empty_files() {
    assert_eq!(
        fmt("\u{feff}role a\r\nrole b # x\r\n\r\n\r\nrole c"),
        "role a\nrole b # x\n\nrole c\n"
    );
    assert_eq!(fmt(""), "");
    assert_eq!(fmt("\n\n  \n"), "");
    assert_eq!(fmt("# only\n\n\n# comments\n"), "# only\n\n# comments\n");
}

#[test]
fn a_file_with_syntax_errors_is_not_formatted() {
    let error = format::format("role a\nallow a call tools \"x\"\nrole\n").unwrap_err();
    let FormatError::Syntax(diagnostics) = error else {
        panic!("{error:?}");
    };
    assert_eq!(diagnostics.len(), 2, "{diagnostics:?}");
    assert!(diagnostics.iter().all(|d| d.code == toolgate::Code::E001));
    assert!(!format::is_formatted("role").is_ok_and(|ok| ok));
    assert_eq!(format::is_formatted("role a\n"), Ok(true));
    assert_eq!(format::is_formatted("role  a\n"), Ok(false));
}

/// Errors other than syntax errors do not stop formatting.
#[test]
fn the_diagnostics_corpus_formats_unless_it_has_syntax_errors() {
    let folder = root().join("tests/cases/diagnostics");
    let mut files = Vec::new();
    let mut folders = vec![folder];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "policy") {
                files.push(path);
            }
        }
    }
    assert!(files.len() > 10);
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let syntax_errors =
            !toolgate::unstable::parse::parse(&Sources::from_text("p", text.as_str()))
                .diagnostics
                .is_empty();
        match format::format(&text) {
            Err(FormatError::Syntax(_)) => assert!(syntax_errors, "{}", path.display()),
            Err(error) => panic!("{}: {error}", path.display()),
            Ok(formatted) => {
                assert!(!syntax_errors, "{}", path.display());
                assert_eq!(fmt(&formatted), formatted);
                assert_eq!(comment_texts(&formatted), comment_texts(&text));
            }
        }
    }
}

// ---------------------------------------------------------------- example policies

#[test]
fn example_policies_decide_the_same_formatted() {
    let mut checked = 0;
    for entry in std::fs::read_dir(root().join("policies")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "policy") {
            continue;
        }
        let requests = std::fs::read_to_string(path.with_extension("requests.jsonl")).unwrap();
        let lines: Vec<String> = requests
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(str::to_string)
            .collect();
        assert!(lines.len() >= 25);
        assert_same_decisions(&path, &lines);
        checked += 1;
    }
    assert!(checked >= 2);
}

#[test]
fn case_corpus_policies_decide_the_same_formatted() {
    let dirs = crate::corpus::case_dirs();
    assert!(dirs.len() > 20);
    for case_dir in dirs {
        let lines: Vec<String> = case_dir
            .cases
            .iter()
            .map(|case| serde_json::to_string(&case.request).unwrap())
            .collect();
        assert_same_decisions(&case_dir.policy, &lines);
    }
}

/// A comment at each place a comment can go in the example policies, one at a time.
#[test]
fn a_comment_anywhere_in_the_examples_survives() {
    for name in ["example.policy", "mcp-server.policy"] {
        let text = std::fs::read_to_string(root().join("policies").join(name)).unwrap();
        let slots = comment_slots(&text);
        assert!(slots.len() > 100);
        for (number, _) in slots.iter().enumerate() {
            let style = u8::try_from(number % 4).unwrap();
            let commented = inject_comments(&text, &[(number, style)]);
            let formatted = fmt(&commented);
            assert_eq!(
                comment_texts(&formatted),
                comment_texts(&commented),
                "{commented}"
            );
        }
    }
}

// ---------------------------------------------------------------- the command

#[test]
fn check_lists_unformatted_files_and_changes_nothing() {
    let scratch = Scratch::new("fmt-check");
    let tidy = scratch.file("tidy.policy", "role a\n");
    let messy = scratch.file("messy.policy", MESSY);
    scratch.file("notes.txt", "not a policy");
    let dir = scratch.0.to_str().unwrap();

    let output = toolgate(&["fmt", "--check", dir], None);
    assert_eq!(output.status, 1, "{}", output.stderr);
    assert_eq!(output.stdout, format!("would reformat {messy}\n"));
    assert_eq!(std::fs::read_to_string(&messy).unwrap(), MESSY);

    let output = toolgate(&["fmt", "--check", &tidy], None);
    assert_eq!(output.status, 0, "{}", output.stderr);
    assert_eq!(output.stdout, "");
}

#[test]
fn fmt_rewrites_files_and_directories() {
    let scratch = Scratch::new("fmt-write");
    let single = scratch.file("single.policy", "role   a\n");
    std::fs::create_dir(scratch.0.join("dir")).unwrap();
    let messy = scratch.file("dir/messy.policy", MESSY);
    let tidy = scratch.file("dir/tidy.policy", "role b\n");
    let dir = scratch.0.join("dir");
    let dir = dir.to_str().unwrap();

    let output = toolgate(&["fmt", &single, dir], None);
    assert_eq!(output.status, 0, "{}", output.stderr);
    assert_eq!(std::fs::read_to_string(&single).unwrap(), "role a\n");
    assert_eq!(std::fs::read_to_string(&messy).unwrap(), MESSY_FORMATTED);
    assert_eq!(std::fs::read_to_string(&tidy).unwrap(), "role b\n");

    let output = toolgate(&["fmt", "--check", &single, dir], None);
    assert_eq!(output.status, 0, "{}", output.stdout);
    assert_eq!(output.stdout, "");
}

#[test]
fn syntax_errors_and_unreadable_paths_exit_2() {
    let scratch = Scratch::new("fmt-errors");
    let bad = scratch.file("bad.policy", "role a\nallow a call tools \"x\"\n");
    let messy = scratch.file("messy.policy", "role   b\n");

    let output = toolgate(&["fmt", &bad, &messy], None);
    assert_eq!(output.status, 2);
    assert!(output.stderr.contains("E001"), "{}", output.stderr);
    assert!(output.stderr.contains("bad.policy"), "{}", output.stderr);
    assert_eq!(
        std::fs::read_to_string(&bad).unwrap(),
        "role a\nallow a call tools \"x\"\n"
    );
    // The other files are still formatted.
    assert_eq!(std::fs::read_to_string(&messy).unwrap(), "role b\n");

    let output = toolgate(&["fmt", "--check", &bad], None);
    assert_eq!(output.status, 2);
    assert_eq!(output.stdout, "");

    let missing = scratch.0.join("missing.policy");
    let output = toolgate(&["fmt", missing.to_str().unwrap()], None);
    assert_eq!(output.status, 2);
    assert!(output.stderr.contains("cannot read"), "{}", output.stderr);

    let empty = scratch.0.join("empty");
    std::fs::create_dir(&empty).unwrap();
    let output = toolgate(&["fmt", empty.to_str().unwrap()], None);
    assert_eq!(output.status, 2);
    assert!(
        output.stderr.contains("no `.policy` file"),
        "{}",
        output.stderr
    );

    let output = toolgate(&["fmt"], None);
    assert_eq!(output.status, 2);
}

// ---------------------------------------------------------------- properties

/// Layout rules every formatted text keeps.
fn assert_clean(text: &str) -> Result<(), TestCaseError> {
    prop_assert!(!text.contains('\r'));
    prop_assert!(!text.contains('\t') || text.contains('#'));
    prop_assert!(!text.contains("\n\n\n"));
    prop_assert!(!text.starts_with('\n'));
    prop_assert!(text.is_empty() || (text.ends_with('\n') && !text.ends_with("\n\n")));
    for line in text.lines() {
        prop_assert_eq!(line.trim_end(), line, "trailing whitespace");
    }
    Ok(())
}

#[test]
fn formatted_policies_parse_and_formatting_again_changes_nothing() {
    run(generate::policy_text(), |text| {
        let formatted = format::format(&text)
            .map_err(|error| TestCaseError::fail(format!("{error:?}\n{text}")))?;
        let parsed =
            toolgate::unstable::parse::parse(&Sources::from_text("f.policy", formatted.as_str()));
        prop_assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
        let again = format::format(&formatted)
            .map_err(|error| TestCaseError::fail(format!("{error:?}\n{formatted}")))?;
        prop_assert_eq!(&again, &formatted, "original:\n{}", text);
        prop_assert_eq!(comment_texts(&formatted), comment_texts(&text));
        assert_clean(&formatted)
    });
}

#[test]
fn formatting_never_changes_a_decision() {
    run(generate::case(), |(text, requests)| {
        let formatted = format::format(&text)
            .map_err(|error| TestCaseError::fail(format!("{error:?}\n{text}")))?;
        let before = decide_generated(&text, &requests);
        let after = decide_generated(&formatted, &requests);
        prop_assert_eq!(
            before,
            after,
            "original:\n{}\nformatted:\n{}",
            text,
            formatted
        );
        Ok(())
    });
}

#[test]
fn comments_anywhere_survive_formatting() {
    let strategy = (generate::case(), vec((any::<usize>(), 0u8..4), 0..12));
    run(strategy, |((text, requests), picks)| {
        let commented = inject_comments(&text, &picks);
        let formatted = format::format(&commented)
            .map_err(|error| TestCaseError::fail(format!("{error:?}\n{commented}")))?;
        prop_assert_eq!(
            comment_texts(&formatted),
            comment_texts(&commented),
            "original:\n{}\nformatted:\n{}",
            commented,
            formatted
        );
        let again = format::format(&formatted)
            .map_err(|error| TestCaseError::fail(format!("{error:?}\n{formatted}")))?;
        prop_assert_eq!(&again, &formatted, "original:\n{}", commented);
        assert_clean(&formatted)?;
        let before = decide_generated(&commented, &requests);
        let after = decide_generated(&formatted, &requests);
        prop_assert_eq!(
            before,
            after,
            "original:\n{}\nformatted:\n{}",
            commented,
            formatted
        );
        Ok(())
    });
}

#[test]
fn the_test_helpers_find_comments_and_slots() {
    let text = "role a # x \"y\"\nscope \"#\\\"#\" # z\n";
    assert_eq!(comment_texts(text), ["# x \"y\"", "# z"]);
    let slots = comment_slots(text);
    assert_eq!(slots, [4, 6, 20, 27]);
    let injected = inject_comments("role a", &[(0, 1)]);
    assert_eq!(injected, "role\n# c0 own line\n a");
}
