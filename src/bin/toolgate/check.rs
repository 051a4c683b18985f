//! `toolgate check`: every diagnostic of every policy given, in one run.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use toolgate::check::{self, ToolManifest};
use toolgate::diagnostic::Diagnostic;
use toolgate::parse;
use toolgate::source::Sources;

use crate::render;
use crate::{CheckArgs, Format};

/// The manifest file's text and path, read once for every policy.
pub struct ManifestFile {
    path: String,
    text: String,
}

/// Reads a `--tools` file; the error is a message for standard error.
pub fn read_manifest(path: &Path) -> Result<ManifestFile, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("cannot read `{}`: {error}", path.display()))?;
    let file = ManifestFile {
        path: path.display().to_string(),
        text,
    };
    ToolManifest::parse(&file.text, toolgate::source::SourceId(0))
        .map_err(|error| format!("`{}`: {}", file.path, chain(&error)))?;
    Ok(file)
}

/// Parses and checks one policy; the manifest, if any, is added to its sources.
pub fn check_policy(
    sources: &mut Sources,
    manifest: Option<&ManifestFile>,
) -> (Vec<Diagnostic>, Option<check::CheckedPolicy>) {
    let parsed = parse::parse(sources);
    let tools = manifest.and_then(|file| {
        let id = sources.add(file.path.clone(), file.text.clone());
        ToolManifest::parse(&file.text, id).ok()
    });
    let config = check::Config {
        tools: tools.as_ref(),
        incomplete: !parsed.diagnostics.is_empty(),
    };
    let checked = check::check(&parsed.policy, &config);
    let mut diagnostics = parsed.diagnostics;
    diagnostics.extend(checked.diagnostics);
    diagnostics.sort_by_key(|d| (d.span.source, d.span.start, d.code));
    let policy = checked
        .policy
        .filter(|_| !diagnostics.iter().any(Diagnostic::is_error));
    (diagnostics, policy)
}

/// Reads and checks the policy at `path` as `toolgate table` and `toolgate diff` do: on
/// errors, prints them (with the source) and a summary to standard error and returns
/// exit status 2; warnings are left to `toolgate check`.
pub fn load_checked(path: &Path) -> Result<(Sources, check::CheckedPolicy), ExitCode> {
    let mut sources = Sources::from_path(path).map_err(|error| fail(&chain(&error)))?;
    let (diagnostics, policy) = check_policy(&mut sources, None);
    let Some(policy) = policy else {
        let errors: Vec<_> = diagnostics.into_iter().filter(|d| d.is_error()).collect();
        let colour = render::use_colour(render::stderr_is_terminal());
        eprint!("{}", render::human(&sources, &errors, colour));
        eprintln!("{}", render::summary(&errors));
        return Err(ExitCode::from(2));
    };
    Ok((sources, policy))
}

/// Runs `toolgate check`.
pub fn run(args: &CheckArgs) -> ExitCode {
    let manifest = match args.tools.as_deref().map(read_manifest).transpose() {
        Ok(manifest) => manifest,
        Err(message) => return fail(&message),
    };
    let mut checked: Vec<(Sources, Vec<Diagnostic>)> = Vec::new();
    for path in &args.paths {
        let mut sources = match Sources::from_path(path) {
            Ok(sources) => sources,
            Err(error) => return fail(&chain(&error)),
        };
        let (diagnostics, _) = check_policy(&mut sources, manifest.as_ref());
        checked.push((sources, diagnostics));
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
