//! Starter policies from a server's tool list (`toolgate init`).
//!
//! [`starter`] turns an MCP `tools/list` result into a commented policy and a tests file
//! for it. Each tool is sorted by its MCP annotations into one of three [`Access`]
//! classes, and each class gets a role:
//!
//! | annotations                                    | class         | role        |
//! |------------------------------------------------|---------------|-------------|
//! | `readOnlyHint: true`                           | `Read`        | `read-only` |
//! | `readOnlyHint` false or absent, `destructiveHint: false` | `Write` | `editor` |
//! | otherwise (MCP's defaults: possibly destructive) | `Destructive` | `admin`   |
//!
//! Roles inherit the one below them. Listing and calling any tool needs the scope
//! `tool:read`; calling a tool that changes something also needs `tool:write`; a
//! destructive tool is behind `deny anyone ... unless role admin`. Tools are grouped by
//! their name's prefix (`repo.` in `repo.merge`) and named one by one, never by a glob,
//! so a tool the server adds later is denied until someone adds it. The result passes
//! `toolgate check --deny-warnings --tools MANIFEST`, and the tests pass `toolgate test`.
#![deny(clippy::indexing_slicing)]

use std::fmt;

use crate::check::{ManifestError, ToolManifest};
use crate::source::SourceId;

/// What [`starter`] needs besides the manifest: paths to mention in comments.
#[derive(Debug, Clone)]
pub struct Config {
    /// The manifest's path as the user gave it.
    pub manifest_path: String,
    /// The path the policy will be written to.
    pub policy_path: String,
    /// The path the tests file will be written to.
    pub tests_path: String,
}

/// A starter policy and its tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Starter {
    /// The policy's text.
    pub policy: String,
    /// The tests file's text (it tests the policy beside it with the same stem).
    pub tests: String,
    /// How many tools the manifest lists.
    pub tools: usize,
    /// How many groups of tools (by name prefix) the policy has.
    pub groups: usize,
    /// The roles declared, narrowest first.
    pub roles: Vec<&'static str>,
    /// How many cases the tests file has.
    pub cases: usize,
}

/// Why a manifest gives no starter policy.
///
/// When the manifest does not parse, the JSON parser's error, with the line and column,
/// is the [`source`](std::error::Error::source); the text says what was expected.
#[derive(Debug)]
#[non_exhaustive]
pub enum InitError {
    /// The manifest is not a `tools/list` result (not JSON, or no `tools` array, a tool
    /// without a string `name`, an annotation of the wrong type).
    Manifest(ManifestError),
    /// The manifest lists no tools.
    NoTools,
    /// A tool's name is empty.
    EmptyName,
    /// A tool is listed twice: its name.
    ListedTwice(String),
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InitError::Manifest(error) => error.fmt(f),
            InitError::NoTools => f.write_str("the manifest lists no tools"),
            InitError::EmptyName => f.write_str("a tool has an empty name"),
            InitError::ListedTwice(name) => write!(f, "tool `{name}` is listed twice"),
        }
    }
}

impl std::error::Error for InitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            InitError::Manifest(error) => std::error::Error::source(error),
            InitError::NoTools | InitError::EmptyName | InitError::ListedTwice(_) => None,
        }
    }
}

/// What a tool may do, from its MCP annotations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Access {
    /// `readOnlyHint: true`: it only looks.
    Read,
    /// Not read-only, `destructiveHint: false`: it only adds or changes.
    Write,
    /// Not read-only and not known to be harmless (MCP's default for unannotated tools).
    Destructive,
}

impl Access {
    /// The class of a tool with these hints, following MCP's defaults (`readOnlyHint`
    /// false, `destructiveHint` true).
    pub fn of(read_only: Option<bool>, destructive: Option<bool>) -> Access {
        match (read_only, destructive) {
            (Some(true), _) => Access::Read,
            (_, Some(false)) => Access::Write,
            _ => Access::Destructive,
        }
    }

    /// The role that may call tools of this class.
    pub fn role(self) -> &'static str {
        match self {
            Access::Read => "read-only",
            Access::Write => "editor",
            Access::Destructive => "admin",
        }
    }

    const ALL: [Access; 3] = [Access::Read, Access::Write, Access::Destructive];
}

/// One tool as the generator sees it.
#[derive(Debug)]
struct Tool {
    name: String,
    title: Option<String>,
    access: Access,
    annotated: bool,
    idempotent: bool,
    open_world: bool,
    /// The top-level properties of its `inputSchema`, each with its JSON type when the
    /// schema names one: what `arg` conditions can constrain.
    arguments: Vec<(String, Option<String>)>,
}

/// Tools sharing a name prefix (`None`: the tools without one).
#[derive(Debug)]
struct Group<'m> {
    prefix: Option<String>,
    tools: Vec<&'m Tool>,
}

/// A starter policy and tests for the `tools/list` result `manifest`.
pub fn starter(manifest: &str, config: &Config) -> Result<Starter, InitError> {
    let tools = read_tools(manifest)?;
    let groups = group(&tools);
    let roles: Vec<&'static str> = Access::ALL
        .iter()
        .filter(|access| tools.iter().any(|tool| tool.access == **access))
        .map(|access| access.role())
        .collect();
    let policy = policy::write(&tools, &groups, &roles, config);
    let (tests, cases) = tests::write(&tools, &roles, config);
    Ok(Starter {
        policy,
        tests,
        tools: tools.len(),
        groups: groups.len(),
        roles,
        cases,
    })
}

fn read_tools(manifest: &str) -> Result<Vec<Tool>, InitError> {
    let manifest = ToolManifest::parse(manifest, SourceId(0)).map_err(InitError::Manifest)?;
    if manifest.tools.is_empty() {
        return Err(InitError::NoTools);
    }
    let mut tools: Vec<Tool> = Vec::with_capacity(manifest.tools.len());
    for entry in manifest.tools {
        if entry.name.is_empty() {
            return Err(InitError::EmptyName);
        }
        if tools.iter().any(|tool| tool.name == entry.name) {
            return Err(InitError::ListedTwice(entry.name));
        }
        let arguments = entry
            .properties
            .unwrap_or_default()
            .into_iter()
            .map(|property| (property.name, property.kind))
            .collect();
        let hints = entry.annotations.unwrap_or_default();
        tools.push(Tool {
            access: Access::of(hints.read_only_hint, hints.destructive_hint),
            annotated: entry.annotations.is_some(),
            idempotent: hints.idempotent_hint == Some(true),
            open_world: hints.open_world_hint != Some(false),
            title: entry.title,
            name: entry.name,
            arguments,
        });
    }
    Ok(tools)
}

/// Groups tools by prefix, in the order their first tool is listed; the tools without
/// a prefix come last.
fn group(tools: &[Tool]) -> Vec<Group<'_>> {
    let mut groups: Vec<Group<'_>> = Vec::new();
    let mut others: Vec<&Tool> = Vec::new();
    for tool in tools {
        match prefix(&tool.name, tools) {
            Some(prefix) => match groups
                .iter_mut()
                .find(|g| g.prefix.as_deref() == Some(prefix))
            {
                Some(group) => group.tools.push(tool),
                None => groups.push(Group {
                    prefix: Some(prefix.to_string()),
                    tools: vec![tool],
                }),
            },
            None => others.push(tool),
        }
    }
    if !others.is_empty() {
        groups.push(Group {
            prefix: None,
            tools: others,
        });
    }
    groups
}

/// A name's prefix: the text before its first `.`, `/` or `:`; else before its first
/// `_` or `-` when another tool shares it (`github_create_issue`, `github_list_repos`).
fn prefix<'n>(name: &'n str, tools: &[Tool]) -> Option<&'n str> {
    if let Some((prefix, _)) = name.split_once(['.', '/', ':']) {
        return Some(prefix).filter(|prefix| !prefix.is_empty());
    }
    let candidate = soft_prefix(name)?;
    let shared = tools
        .iter()
        .filter(|tool| !tool.name.contains(['.', '/', ':']))
        .filter(|tool| soft_prefix(&tool.name) == Some(candidate))
        .count();
    Some(candidate).filter(|_| shared >= 2)
}

/// The text before a name's first `_` or `-`, if not empty.
fn soft_prefix(name: &str) -> Option<&str> {
    name.split_once(['_', '-'])
        .map(|(prefix, _)| prefix)
        .filter(|prefix| !prefix.is_empty())
}

/// `"name"` as a policy pattern matching exactly the name: string escapes for `"`, `\`
/// and control characters, glob escapes for `*` and `?`.
fn pattern_literal(name: &str) -> String {
    let mut out = String::from("\"");
    for character in name.chars() {
        match character {
            '*' => out.push_str(r"\*"),
            '?' => out.push_str(r"\?"),
            '\\' => out.push_str(r"\\\\"),
            other => push_string_character(&mut out, other),
        }
    }
    out.push('"');
    out
}

/// `"name"` as a string of a tests file.
fn string_literal(name: &str) -> String {
    let mut out = String::from("\"");
    for character in name.chars() {
        match character {
            '\\' => out.push_str(r"\\"),
            other => push_string_character(&mut out, other),
        }
    }
    out.push('"');
    out
}

fn push_string_character(out: &mut String, character: char) {
    match character {
        '"' => out.push_str("\\\""),
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        other if other.is_control() => out.push_str(&format!("\\u{{{:x}}}", u32::from(other))),
        other => out.push(other),
    }
}

/// Text for a comment: one line, control characters replaced, at most `limit` characters.
fn comment_text(text: &str, limit: usize) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let cleaned = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    if cleaned.chars().count() <= limit {
        return cleaned;
    }
    let cut: String = cleaned.chars().take(limit.saturating_sub(3)).collect();
    format!("{}...", cut.trim_end())
}

/// `head "a", "b", ...`, wrapped before column 92 with continuation lines aligned.
fn statement(head: &str, literals: &[String]) -> String {
    let indent = " ".repeat(head.chars().count() + 1);
    let mut out = head.to_string();
    let mut column = out.chars().count();
    for (index, literal) in literals.iter().enumerate() {
        let piece = if index + 1 < literals.len() {
            format!("{literal},")
        } else {
            literal.clone()
        };
        let width = piece.chars().count() + 1;
        if index > 0 && column + width > 92 {
            out.push('\n');
            out.push_str(&indent);
            column = indent.chars().count();
        } else {
            out.push(' ');
            column += 1;
        }
        out.push_str(&piece);
        column += width - 1;
    }
    out
}

mod policy {
    //! The policy's text.

    use super::{comment_text, pattern_literal, statement, Access, Config, Group, Tool};

    pub(super) fn write(
        tools: &[Tool],
        groups: &[Group<'_>],
        roles: &[&'static str],
        config: &Config,
    ) -> String {
        let mut out = header(tools, groups, config);
        out.push_str(&definitions(roles));
        for group in groups {
            out.push_str(&section(group, roles));
        }
        out
    }

    fn header(tools: &[Tool], groups: &[Group<'_>], config: &Config) -> String {
        let count = |access: Access| tools.iter().filter(|t| t.access == access).count();
        format!(
            "# A starter policy written by `toolgate init` from the server's tool list\n\
             # `{manifest}` ({tools} in {groups}). Review it, then:\n\
             #   toolgate check --deny-warnings {policy} --tools {manifest}\n\
             #   toolgate test {tests}\n\
             #\n\
             # Each tool was sorted by its MCP annotations:\n\
             #   readOnlyHint: true                 -> role `read-only` may call it ({read})\n\
             #   destructiveHint: false             -> role `editor` may call it ({write})\n\
             #   anything else, or no annotations   -> only `admin` may call it ({destructive});\n\
             #     MCP treats a tool that is not read-only as possibly destructive unless\n\
             #     it says `destructiveHint: false`.\n\
             # Tools are named one by one, never by a pattern such as \"repo.*\": a tool\n\
             # the server adds later is denied to everyone until you add it here.\n\
             # Tools marked \"reaches outside\" (openWorldHint) talk to systems beyond the\n\
             # server; consider conditions for them (`if ip in office`, a time window).\n\n",
            policy = config.policy_path,
            tests = config.tests_path,
            manifest = config.manifest_path,
            tools = plural(tools.len(), "tool"),
            groups = plural(groups.len(), "group"),
            read = count(Access::Read),
            write = count(Access::Write),
            destructive = count(Access::Destructive),
        )
    }

    fn definitions(roles: &[&'static str]) -> String {
        let mut out = String::from(
            "# Where roles and scopes are in the access token (these are the defaults).\n\
             # Change them for your identity provider, e.g. `roles from \"realm_access.roles\"`\n\
             # for Keycloak realm roles.\n\
             claims {\n  roles  from \"roles\", \"role\"\n  scopes from \"scope\", \"scp\"\n}\n\n\
             # OAuth scopes: tool:read to see the tools and call those that only look;\n\
             # tool:write as well to call those that change something.\n\
             scope \"tool:read\", \"tool:write\"\n\n\
             # Roles, narrowest first. Each has everything the role it inherits has.\n\
             # Add the values your identity provider sends for them: `aka \"mcp-admins\"`.\n",
        );
        let width = roles.iter().map(|role| role.len()).max().unwrap_or(0);
        let mut below: Option<&str> = None;
        for role in roles {
            match below {
                Some(parent) => out.push_str(&format!("role {role:<width$} inherits {parent}\n")),
                None => out.push_str(&format!("role {role}\n")),
            }
            below = Some(role);
        }
        out.push_str(
            "\n# Seeing and calling any tool needs tool:read. (A caller sees in tools/list\n\
             # exactly the tools it may call.)\n\
             require scope \"tool:read\" to list, call tools \"*\"\n",
        );
        out
    }

    fn section(group: &Group<'_>, roles: &[&'static str]) -> String {
        let title = match &group.prefix {
            Some(prefix) => format!("{prefix}: {}", plural(group.tools.len(), "tool")),
            None => format!("tools without a prefix: {}", group.tools.len()),
        };
        let mut out = format!("\n\n# {}\n# {title}\n", "-".repeat(75));
        let width = group
            .tools
            .iter()
            .map(|t| t.name.chars().count())
            .max()
            .unwrap_or(0);
        for tool in &group.tools {
            out.push_str(&format!(
                "#   {:<width$}  {}\n",
                comment_text(&tool.name, 60),
                describe(tool)
            ));
            if !tool.arguments.is_empty() {
                out.push_str(&format!(
                    "#   {:<width$}    arguments: {}\n",
                    "",
                    arguments(tool)
                ));
            }
        }
        if let Some(example) = group.tools.iter().find_map(|tool| tool.arguments.first()) {
            out.push_str(&format!(
                "# Constrain a call by its arguments with `arg`: `if arg \"{}\" {}`.\n",
                comment_text(&example.0, 40),
                match example.1.as_deref() {
                    Some("integer" | "number") => "<= 10",
                    Some("boolean") => "== true",
                    _ => "matches \"prefix/*\"",
                }
            ));
        }
        let names = |access: Access| -> Vec<String> {
            group
                .tools
                .iter()
                .filter(|tool| tool.access == access)
                .map(|tool| pattern_literal(&tool.name))
                .collect()
        };
        let changing: Vec<String> = group
            .tools
            .iter()
            .filter(|tool| tool.access != Access::Read)
            .map(|tool| pattern_literal(&tool.name))
            .collect();
        if !changing.is_empty() {
            out.push_str(&statement(
                "require scope \"tool:write\" to call tools",
                &changing,
            ));
            out.push('\n');
        }
        let width = roles.iter().map(|role| role.len()).max().unwrap_or(0);
        for access in Access::ALL {
            let literals = names(access);
            if !literals.is_empty() {
                let head = format!("allow {:<width$} to call tools", access.role());
                out.push_str(&statement(&head, &literals));
                out.push('\n');
            }
        }
        let destructive = names(Access::Destructive);
        if !destructive.is_empty() {
            out.push_str(
                "# Destructive: nobody but an admin, even if a broader allow is added later.\n\
                 # Tighten it as needed: `unless role admin and ip in office`.\n",
            );
            out.push_str(&statement("deny anyone to call tools", &destructive));
            out.push_str("\n  unless role admin\n");
        }
        out
    }

    /// `name (type), ...`, the argument names a policy can constrain.
    fn arguments(tool: &Tool) -> String {
        let shown: Vec<String> = tool
            .arguments
            .iter()
            .map(|(name, kind)| match kind {
                Some(kind) => format!("{} ({kind})", comment_text(name, 40)),
                None => comment_text(name, 40),
            })
            .collect();
        comment_text(&shown.join(", "), 200)
    }

    fn describe(tool: &Tool) -> String {
        let mut words: Vec<String> = Vec::new();
        if let Some(title) = &tool.title {
            words.push(format!("\"{}\"", comment_text(title, 40)));
        }
        words.push(
            match (tool.access, tool.annotated) {
                (_, false) => "no annotations: treated as destructive",
                (Access::Read, _) => "read-only",
                (Access::Write, _) => "changes things, not destructive",
                (Access::Destructive, _) => "destructive",
            }
            .to_string(),
        );
        if tool.annotated && tool.access != Access::Read && tool.idempotent {
            words.push("idempotent".to_string());
        }
        if tool.annotated && tool.open_world {
            words.push("reaches outside".to_string());
        }
        words.join(", ")
    }

    fn plural(count: usize, word: &str) -> String {
        if count == 1 {
            format!("1 {word}")
        } else {
            format!("{count} {word}s")
        }
    }
}

mod tests {
    //! The tests file's text: every tool called by a principal of every role, one
    //! without a role and one without scopes, with the decision the policy gives.

    use super::{string_literal, Access, Config, Tool};

    /// A principal of the tests: its name, the role it holds, and whether its token
    /// carries tool:write.
    struct Subject {
        name: &'static str,
        role: Option<Access>,
        write: bool,
    }

    pub(super) fn write(
        tools: &[Tool],
        roles: &[&'static str],
        config: &Config,
    ) -> (String, usize) {
        let mut out = format!(
            "# {tests}: starter tests for {policy}, written by `toolgate init`.\n\
             # Run them with `toolgate test {tests}`. Each case is a request and the\n\
             # decision the policy must give; add a case for every decision you rely on,\n\
             # and keep them passing as the policy changes (docs/testing.md).\n\n\
             at 2026-01-05T10:00:00Z   # any fixed time: the starter policy has no time windows\n\n",
            tests = config.tests_path,
            policy = config.policy_path,
        );
        let subjects = subjects(tools);
        for subject in &subjects {
            let roles_claim = match subject.role {
                Some(access) => format!("\"roles\": [\"{}\"], ", access.role()),
                None => String::new(),
            };
            let scope = if subject.write {
                "tool:read tool:write"
            } else {
                "tool:read"
            };
            out.push_str(&format!(
                "principal {:<9} = {{\"sub\": \"{}\", {roles_claim}\"scope\": \"{scope}\"}}\n",
                subject.name, subject.name
            ));
        }
        out.push_str("principal no-scopes = {\"sub\": \"no-scopes\", \"roles\": [\"");
        out.push_str(roles.last().copied().unwrap_or("admin"));
        out.push_str("\"]}\n");
        let width = tools
            .iter()
            .map(|tool| string_literal(&tool.name).chars().count())
            .max()
            .unwrap_or(0);
        let mut cases = 0;
        for subject in &subjects {
            out.push_str(&format!("\n{}\nas {}\n", about(subject), subject.name));
            for tool in tools {
                let (effect, rest) = outcome(subject, tool);
                let name = string_literal(&tool.name);
                out.push_str(&format!(
                    "  expect {effect:<5} call tool {name:<width$}  {rest}\n"
                ));
                cases += 1;
            }
            if let Some(tool) = tools.first() {
                let listed = call_allowed(subject, tool);
                let (effect, reason) = if listed {
                    ("allow", "allowed")
                } else {
                    ("deny", "no_rule")
                };
                let name = string_literal(&tool.name);
                out.push_str(&format!(
                    "  expect {effect:<5} list tool {name:<width$}  reason {reason}   \
                     # tools/list shows what it may call\n"
                ));
                cases += 1;
            }
        }
        if let Some(tool) = tools.first() {
            out.push_str(&format!(
                "\n# A token without scopes is told which scope to obtain.\nas no-scopes\n  \
                 expect deny list tool {} reason insufficient_scope missing \"tool:read\"\n",
                string_literal(&tool.name)
            ));
            cases += 1;
        }
        if let Some(tool) = tools.iter().find(|tool| tool.access != Access::Read) {
            out.push_str(&format!(
                "  expect deny call tool {} reason insufficient_scope missing \"tool:read\", \"tool:write\"\n",
                string_literal(&tool.name)
            ));
            cases += 1;
        }
        (out, cases)
    }

    fn subjects(tools: &[Tool]) -> Vec<Subject> {
        let mut subjects: Vec<Subject> = Access::ALL
            .iter()
            .filter(|access| tools.iter().any(|tool| tool.access == **access))
            .map(|access| Subject {
                name: access.role(),
                role: Some(*access),
                write: *access != Access::Read,
            })
            .collect();
        if tools.iter().any(|tool| tool.access == Access::Destructive) {
            // The only principal a destructive tool's `require scope "tool:write"`
            // decides for: the deny lets no one else that far.
            subjects.push(Subject {
                name: "admin-ro",
                role: Some(Access::Destructive),
                write: false,
            });
        }
        subjects.push(Subject {
            name: "no-role",
            role: None,
            write: true,
        });
        subjects
    }

    fn about(subject: &Subject) -> String {
        match subject.role {
            Some(Access::Destructive) if !subject.write => {
                "# admin without tool:write: a tool that changes things needs the scope,\n\
                 # whatever the role."
                    .to_string()
            }
            Some(Access::Read) => {
                "# read-only (scope tool:read): calls the tools that only look.".to_string()
            }
            Some(Access::Write) => {
                "# editor (tool:read and tool:write): also the tools that change things."
                    .to_string()
            }
            Some(Access::Destructive) => {
                "# admin (tool:read and tool:write): every tool, the destructive ones too."
                    .to_string()
            }
            None => "# A token with both scopes but no role we know: no tool.".to_string(),
        }
    }

    fn call_allowed(subject: &Subject, tool: &Tool) -> bool {
        let writes = tool.access != Access::Read;
        subject.role.is_some_and(|role| role >= tool.access) && (subject.write || !writes)
    }

    /// The decision the starter policy gives a call: the effect, and the reason with
    /// what else the case says.
    fn outcome(subject: &Subject, tool: &Tool) -> (&'static str, String) {
        if tool.access == Access::Destructive && subject.role != Some(Access::Destructive) {
            return ("deny", "reason denied   # not an admin".to_string());
        }
        if tool.access != Access::Read && !subject.write {
            return (
                "deny",
                "reason insufficient_scope missing \"tool:write\"".to_string(),
            );
        }
        if call_allowed(subject, tool) {
            ("allow", "reason allowed".to_string())
        } else {
            ("deny", "reason no_rule".to_string())
        }
    }
}

#[cfg(test)]
mod error_tests {
    use std::error::Error as _;

    use super::{starter, Config, InitError, ManifestError};

    fn config() -> Config {
        Config {
            manifest_path: "tools.json".to_string(),
            policy_path: "toolgate.policy".to_string(),
            tests_path: "toolgate.tests".to_string(),
        }
    }

    #[test]
    fn a_manifest_that_does_not_parse_has_the_json_error_as_source() {
        let error = starter("{\"tools\": [", &config()).unwrap_err();
        assert!(
            matches!(error, InitError::Manifest(ManifestError::NotJson(_))),
            "{error:?}"
        );
        let json = error
            .source()
            .and_then(|s| s.downcast_ref::<serde_json::Error>());
        assert!(json.is_some_and(serde_json::Error::is_eof));
        assert!(error
            .to_string()
            .starts_with("not an MCP `tools/list` result"));

        let error = starter(r#"{"tools": [{"title": "x"}]}"#, &config()).unwrap_err();
        assert!(
            matches!(error, InitError::Manifest(ManifestError::NotToolsList(_))),
            "{error:?}"
        );
        let json = error
            .source()
            .and_then(|s| s.downcast_ref::<serde_json::Error>());
        assert!(json.is_some_and(serde_json::Error::is_data));
    }

    #[test]
    fn what_the_manifest_says_wrong_has_no_source() {
        for (text, message) in [
            (r#"{"tools": []}"#, "the manifest lists no tools"),
            (r#"{"tools": [{"name": ""}]}"#, "a tool has an empty name"),
            (
                r#"{"tools": [{"name": "a"}, {"name": "a"}]}"#,
                "tool `a` is listed twice",
            ),
        ] {
            let error = starter(text, &config()).unwrap_err();
            assert_eq!(error.to_string(), message);
            assert!(error.source().is_none());
        }
        assert!(matches!(
            starter(r#"{"tools": [{"name": "a"}, {"name": "a"}]}"#, &config()),
            Err(InitError::ListedTwice(name)) if name == "a"
        ));
    }
}
