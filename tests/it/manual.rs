//! `toolgate completions` and `toolgate man`, read by the programs that use them: the
//! bash completion script is loaded into a real bash and asked to complete, and every
//! manual page is rendered by groff with its warnings on.

use std::path::PathBuf;
use std::process::{Command, Stdio};

fn toolgate(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_toolgate"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// What bash's completion offers for `words` (the last is the word being completed),
/// with the script `toolgate completions bash` printed.
fn bash_completes(words: &[&str]) -> Vec<String> {
    let script = toolgate(&["completions", "bash"]);
    assert!(script.status.success(), "{script:?}");
    let dir = scratch("bash");
    let path = dir.join("toolgate.bash");
    std::fs::write(&path, &script.stdout).unwrap();
    let line = words.join(" ");
    let quoted: Vec<String> = words.iter().map(|word| format!("'{word}'")).collect();
    let program = format!(
        "source '{}'\n\
         COMP_WORDS=({})\n\
         COMP_CWORD={}\n\
         COMP_LINE='{line}'\n\
         COMP_POINT={}\n\
         _toolgate toolgate '{}' '{}'\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        path.display(),
        quoted.join(" "),
        words.len() - 1,
        line.len(),
        words[words.len() - 1],
        words[words.len().saturating_sub(2)],
    );
    let output = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .output()
        .unwrap_or_else(|error| panic!("cannot run bash: {error}"));
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .filter(|word| !word.is_empty())
        .collect()
}

fn scratch(name: &str) -> PathBuf {
    static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "toolgate-manual-{name}-{}-{}",
        std::process::id(),
        COUNT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn bash_completes_commands_subcommands_and_options() {
    assert_eq!(bash_completes(&["toolgate", "ch"]), ["check"]);
    let mut keys = bash_completes(&["toolgate", "key", ""]);
    keys.retain(|word| !word.starts_with('-'));
    keys.sort();
    assert_eq!(keys, ["help", "list", "new", "revoke"]);
    assert_eq!(bash_completes(&["toolgate", "check", "--fo"]), ["--format"]);
    let mut formats = bash_completes(&["toolgate", "check", "--format", ""]);
    formats.sort();
    assert_eq!(formats, ["human", "json", "sarif"]);
}

#[test]
fn every_shell_gets_a_script_and_an_unknown_shell_is_refused() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let output = toolgate(&["completions", shell]);
        assert!(output.status.success(), "{shell}: {output:?}");
        let script = String::from_utf8(output.stdout).unwrap();
        assert!(script.contains("toolgate"), "{shell}");
        assert!(
            script.contains("serve"),
            "{shell}: no `serve` in the script"
        );
    }
    let output = toolgate(&["completions", "tcsh"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("tcsh"));
}

/// The commands `toolgate --help` lists.
fn commands() -> Vec<String> {
    let help = String::from_utf8(toolgate(&["--help"]).stdout).unwrap();
    let listed = help
        .split("Commands:")
        .nth(1)
        .expect("a Commands: section")
        .split("\n\n")
        .next()
        .unwrap();
    listed
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

#[test]
fn every_command_has_a_manual_page_that_groff_renders_without_warnings() {
    let dir = scratch("man");
    let output = toolgate(&["man", "--output", dir.to_str().unwrap()]);
    assert!(output.status.success(), "{output:?}");
    let commands = commands();
    assert!(commands.len() >= 12, "{commands:?}");
    let mut pages = vec!["toolgate".to_string()];
    pages.extend(commands.iter().map(|command| format!("toolgate-{command}")));
    pages.extend([
        "toolgate-key-new".to_string(),
        "toolgate-token-inspect".to_string(),
    ]);
    for page in &pages {
        let path = dir.join(format!("{page}.1"));
        assert!(path.is_file(), "no manual page {page}.1");
        let rendered = Command::new("groff")
            .args(["-man", "-Tutf8", "-ww", "-P-cbou"])
            .arg(&path)
            .env("GROFF_NO_SGR", "1")
            .output()
            .unwrap_or_else(|error| panic!("cannot run groff: {error}"));
        let warnings = String::from_utf8_lossy(&rendered.stderr);
        assert!(
            rendered.status.success() && warnings.is_empty(),
            "{page}: {warnings}"
        );
        let text = String::from_utf8_lossy(&rendered.stdout);
        assert!(
            text.contains("NAME") && text.contains("SYNOPSIS"),
            "{page}:\n{text}"
        );
    }
    let main = std::fs::read_to_string(dir.join("toolgate.1")).unwrap();
    for command in &commands {
        assert!(
            main.contains(command.as_str()),
            "toolgate.1 does not name {command}"
        );
    }
    // Without --output, the main page alone on standard output.
    let printed = toolgate(&["man"]);
    assert!(printed.status.success());
    assert_eq!(String::from_utf8(printed.stdout).unwrap(), main);
    let _ = std::fs::remove_dir_all(&dir);
}
