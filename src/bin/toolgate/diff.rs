//! `toolgate diff`: what changes between two policies, cell by cell, each change with a
//! request the two decide differently. The comparison is `toolgate::unstable::diff`; this module
//! reads the arguments and the policies and writes the result as text, JSON or Markdown.

mod human;
mod json;
mod markdown;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::ValueEnum;
use toolgate::unstable::diff::{self, CellSide, Change, Config, Diff, Outcome, Side, Witness};
use toolgate::unstable::matrix::Verdict;
use toolgate::{Kind, LoadOptions};

use crate::check::{fail, load_policy, Shown};
use crate::table::{digest, tool_names};

/// Arguments of `toolgate diff`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The old policy (file or directory).
    old: PathBuf,
    /// The new policy (file or directory).
    new: PathBuf,
    /// A server's `tools/list` result: its tools are the tool names compared (else the
    /// names are derived from both policies' patterns).
    #[arg(long, value_name = "FILE")]
    tools: Option<PathBuf>,
    /// Compare only this kind (default: every kind).
    #[arg(long, value_enum)]
    kind: Option<KindArgument>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Human)]
    format: DiffFormat,
    /// Exit with status 1 when anything changed.
    #[arg(long)]
    exit_code: bool,
}

/// The kinds `--kind` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum KindArgument {
    /// Tools.
    Tool,
    /// Resources.
    Resource,
    /// Prompts.
    Prompt,
}

/// The formats of `toolgate diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DiffFormat {
    /// Text for a terminal.
    Human,
    /// One JSON object (field names in docs/diff.md).
    Json,
    /// A pull-request comment: a summary line, then a table per kind and action.
    Markdown,
}

/// What the renderers need besides the diff.
pub struct Header {
    /// The old policy's path, as given.
    pub old: String,
    /// The new policy's path, as given.
    pub new: String,
    /// SHA-256 of the old policy's text.
    pub old_digest: String,
    /// SHA-256 of the new policy's text.
    pub new_digest: String,
    /// The `--tools` file, if given.
    pub tools: Option<String>,
}

/// Runs `toolgate diff`.
pub fn run(args: &Args) -> ExitCode {
    let kinds = match args.kind {
        None => Kind::ALL.to_vec(),
        Some(KindArgument::Tool) => vec![Kind::Tool],
        Some(KindArgument::Resource) => vec![Kind::Resource],
        Some(KindArgument::Prompt) => vec![Kind::Prompt],
    };
    if args.tools.is_some() && !kinds.contains(&Kind::Tool) {
        return fail(
            "`--tools` lists tools: it cannot be given with `--kind resource` or `--kind prompt`",
        );
    }
    let tools = match args.tools.as_deref().map(tool_names).transpose() {
        Ok(tools) => tools,
        Err(message) => return fail(&message),
    };
    let options = LoadOptions::default();
    let load = |path| load_policy(path, &options, Shown::Errors);
    let (old_policy, new_policy) = match load(&args.old).and_then(|old| Ok((old, load(&args.new)?)))
    {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let config = Config {
        kinds,
        tools,
        ..Config::default()
    };
    let old = Side {
        sources: old_policy.sources(),
        policy: old_policy.checked(),
    };
    let new = Side {
        sources: new_policy.sources(),
        policy: new_policy.checked(),
    };
    let result = diff::diff(old, new, &config);
    let header = Header {
        old: shown(&args.old),
        new: shown(&args.new),
        old_digest: digest(old_policy.sources()),
        new_digest: digest(new_policy.sources()),
        tools: args.tools.as_deref().map(shown),
    };
    let text = match args.format {
        DiffFormat::Human => human::render(&result, &header),
        DiffFormat::Json => json::render(&result, &header),
        DiffFormat::Markdown => markdown::render(&result, &header),
    };
    say!("{}", text.trim_end_matches('\n'));
    if args.exit_code && !result.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

/// The one line written when nothing changed.
pub fn no_changes(diff: &Diff, header: &Header) -> String {
    let mut line = format!(
        "no changes: {} and {} decide all {} cells alike",
        header.old, header.new, diff.cells
    );
    if diff.unsettled > 0 {
        line.push_str(&format!(
            " ({} conditional on both sides could not be compared exhaustively)",
            diff.unsettled
        ));
    }
    line
}

/// What the diff is exact about and where it over-approximates, in sentences.
pub fn scope_notes(diff: &Diff, header: &Header) -> Vec<String> {
    let mut notes = vec![
        "Rows are principals whose role claim holds exactly one role name (and the roles it \
         inherits); a side that does not declare the role grants it nothing (or the role \
         that has the name as an `aka`)."
            .to_string(),
    ];
    let names: Vec<String> = diff
        .columns
        .iter()
        .map(|columns| {
            let count = columns.names.len();
            let plural = if count == 1 {
                columns.kind.singular()
            } else {
                columns.kind.plural()
            };
            match (&header.tools, columns.derived) {
                (Some(file), false) => format!("{count} {plural} from {file}"),
                _ => format!(
                    "{count} {plural} derived from the policies' patterns (each literal name, \
                     and one name standing for each other pattern), not given"
                ),
            }
        })
        .collect();
    if !names.is_empty() {
        notes.push(format!("Names: {}.", names.join("; ")));
    }
    notes.push(
        "Exact for these principals and names: every change reported with a witness is \
         verified by deciding the witness with both policies. Over-approximate for \
         principals holding several unrelated roles (not compared), for names a pattern \
         matches other than the one standing for it, for cells past the matrix's \
         enumeration limit, and for changes reported without a witness."
            .to_string(),
    );
    if diff.unsettled > 0 {
        notes.push(format!(
            "{} cells conditional on both sides, with the same condition in words, could \
             not be compared exhaustively and are not reported.",
            diff.unsettled
        ));
    }
    notes
}

/// A side of a cell in words: its verdict, and the condition when conditional.
pub fn verdict_text(side: &CellSide) -> String {
    match side.verdict {
        Verdict::Conditional if !side.condition.is_empty() => {
            format!("conditional: {}", side.condition)
        }
        verdict => verdict.as_str().to_string(),
    }
}

/// How each policy decides the witness: `old allows (allowed, a.policy:3), new denies
/// (no_rule)`.
pub fn outcomes_text(witness: &Witness) -> String {
    let one = |outcome: &Outcome| {
        let verb = if outcome.allowed { "allows" } else { "denies" };
        match &outcome.rule {
            Some(rule) => format!("{verb} ({}, {rule})", outcome.reason),
            None => format!("{verb} ({})", outcome.reason),
        }
    };
    format!("old {}, new {}", one(&witness.old), one(&witness.new))
}

/// The witness as the one-line request `toolgate eval` reads.
pub fn request_text(change: &Change, witness: &Witness) -> String {
    witness
        .request(change.kind, change.action, &change.name)
        .to_string()
}
