//! `toolgate check`: every diagnostic of every policy given, in one run.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use toolgate::{Diagnostic, LoadOptions, Policy, PolicyError, Sources, ToolList};

use crate::render;
use crate::{CheckArgs, Format};

/// The load options of a command given `--tools FILE` (or not); the error is a message
/// for standard error.
pub fn load_options(tools: Option<&Path>) -> Result<LoadOptions, String> {
    let tools = tools
        .map(ToolList::read)
        .transpose()
        .map_err(|error| chain(&error))?;
    Ok(LoadOptions {
        tools,
        ..LoadOptions::default()
    })
}

/// Which diagnostics a command that decides or analyses a policy prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// Warnings and errors (`eval`, `explain`).
    Everything,
    /// Errors only; warnings are left to `toolgate check` (`table`, `diff`).
    Errors,
}

/// Loads the policy at `path` for a command that decides or analyses it. The diagnostics
/// `shown` go to standard error; a policy that does not load ends the command with exit
/// status 2 (after a summary).
pub fn load_policy(path: &Path, options: &LoadOptions, shown: Shown) -> Result<Policy, ExitCode> {
    let colour = render::use_colour(render::stderr_is_terminal());
    match options.load(path) {
        Ok(policy) => {
            if shown == Shown::Everything && !policy.warnings().is_empty() {
                eprint!(
                    "{}",
                    render::human(policy.sources(), policy.warnings(), colour)
                );
            }
            Ok(policy)
        }
        Err(PolicyError::Read(error)) => Err(fail(&chain(&error))),
        Err(PolicyError::Invalid {
            sources,
            diagnostics,
        }) => {
            let diagnostics: Vec<Diagnostic> = match shown {
                Shown::Everything => diagnostics,
                Shown::Errors => diagnostics.into_iter().filter(|d| d.is_error()).collect(),
            };
            eprint!("{}", render::human(&sources, &diagnostics, colour));
            eprintln!("{}", render::summary(&diagnostics));
            Err(ExitCode::from(2))
        }
    }
}

/// Runs `toolgate check`.
pub fn run(args: &CheckArgs) -> ExitCode {
    let options = match load_options(args.tools.as_deref()) {
        Ok(options) => options,
        Err(message) => return fail(&message),
    };
    let mut checked: Vec<(Sources, Vec<Diagnostic>)> = Vec::new();
    for path in &args.paths {
        match options.load(path) {
            Ok(policy) => checked.push((policy.sources().clone(), policy.warnings().to_vec())),
            Err(PolicyError::Invalid {
                sources,
                diagnostics,
            }) => checked.push((sources, diagnostics)),
            Err(PolicyError::Read(error)) => return fail(&chain(&error)),
        }
    }
    let all = || checked.iter().flat_map(|(_, diagnostics)| diagnostics);
    let errors = all().any(Diagnostic::is_error);
    let warnings = all().any(|d| !d.is_error());
    if let Err(error) = print(args.format, &checked) {
        return fail(&format!("cannot write the report: {error}"));
    }
    if errors || (warnings && args.deny_warnings) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn print(format: Format, checked: &[(Sources, Vec<Diagnostic>)]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        Format::Human => {
            let colour = render::use_colour(render::stdout_is_terminal());
            let mut everything = Vec::new();
            for (sources, diagnostics) in checked {
                out.write_all(render::human(sources, diagnostics, colour).as_bytes())?;
                everything.extend(diagnostics.iter().cloned());
            }
            writeln!(out, "{}", render::summary(&everything))?;
        }
        Format::Json => {
            let items: Vec<render::JsonDiagnostic<'_>> = checked
                .iter()
                .flat_map(|(sources, diagnostics)| {
                    diagnostics.iter().map(move |d| render::json(sources, d))
                })
                .collect();
            serde_json::to_writer(&mut out, &items)?;
            writeln!(out)?;
        }
        Format::Sarif => {
            serde_json::to_writer_pretty(&mut out, &render::sarif(checked))?;
            writeln!(out)?;
        }
    }
    out.flush()
}

/// Prints `error: message` and returns exit status 2 (the command could not run).
pub fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

/// An error's text followed by its causes' (`top: cause: cause`), each cause only when
/// the text so far does not already hold it: most of the library's errors end with their
/// cause's text.
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        let more = next.to_string();
        if !more.is_empty() && !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = next.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::chain;

    /// An error with a message and maybe a cause.
    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|layer| layer as _)
        }
    }

    #[test]
    fn causes_are_appended_unless_already_said() {
        let io = Layer("no such file", None);
        let said = Layer("cannot read `x`: no such file", Some(Box::new(io)));
        let top = Layer("cannot read `x`: no such file", Some(Box::new(said)));
        assert_eq!(chain(&top), "cannot read `x`: no such file");
        let unsaid = Layer(
            "not a tools/list result",
            Some(Box::new(Layer("EOF at line 1", None))),
        );
        assert_eq!(chain(&unsaid), "not a tools/list result: EOF at line 1");
    }
}
