//! The README's quick start, run as written: its commands are read from the README's
//! "Quick start" section and run in a copy of `examples/quickstart/`, then the gate it
//! starts is called with the requests the README shows, and the upstream's own record of
//! what it executed is the oracle. The shipped files must be what the commands write.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn quickstart() -> PathBuf {
    repository().join("examples/quickstart")
}

/// The code blocks of the README's "Quick start" section, each as its lines.
fn readme_blocks() -> Vec<Vec<String>> {
    let readme = std::fs::read_to_string(repository().join("README.md")).unwrap();
    let start = readme
        .find("\n## Quick start\n")
        .expect("the README has a Quick start section");
    let section = &readme[start + 1..];
    let section = &section[..section[3..]
        .find("\n## ")
        .map_or(section.len(), |at| at + 3)];
    let mut blocks = Vec::new();
    let mut current: Option<Vec<String>> = None;
    for line in section.lines() {
        if line.starts_with("```") {
            match current.take() {
                Some(block) => blocks.push(block),
                None => current = Some(Vec::new()),
            }
        } else if let Some(block) = current.as_mut() {
            block.push(line.to_string());
        }
    }
    assert!(
        current.is_none(),
        "an unclosed code block in the quick start"
    );
    blocks
}

/// A command line without its trailing comment (two spaces or more, then `#`).
fn command_of(line: &str) -> String {
    let trimmed = match line.find("  #") {
        Some(at) => &line[..at],
        None => line,
    };
    trimmed.trim().to_string()
}

/// A scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A copy of `examples/quickstart/` without the files the quick start writes.
fn copy_of_the_example() -> Scratch {
    static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "toolgate-quickstart-{}-{}",
        std::process::id(),
        COUNT.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["upstream.py", "toolgate.toml"] {
        std::fs::copy(quickstart().join(name), dir.join(name)).unwrap();
    }
    Scratch(dir)
}

/// Runs one command of the quick start's first block in `dir`: `python3 ...` with the
/// tests' Python, `toolgate ...` with the binary under test, `> FILE` as the shell does.
fn run_line(dir: &Path, command: &str) {
    assert!(
        !command.contains(['\'', '"', '$', '|', '&', ';']),
        "the quick start's commands stay plain (this test splits them on spaces): {command}"
    );
    let (command, redirect) = match command.split_once(" > ") {
        Some((command, file)) => (command, Some(file.trim())),
        None => (command, None),
    };
    let words: Vec<&str> = command.split_whitespace().collect();
    let mut process = match words.first() {
        Some(&"python3") => crate::external::python(),
        Some(&"toolgate") => Command::new(env!("CARGO_BIN_EXE_toolgate")),
        _ => panic!("a quick start command this test cannot run: {command}"),
    };
    let output = process
        .args(&words[1..])
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "`{command}` failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if let Some(file) = redirect {
        std::fs::write(dir.join(file), &output.stdout).unwrap();
    }
}

/// A process whose standard error is kept, killed when dropped.
struct Running {
    child: Child,
    stderr: Arc<Mutex<String>>,
    lines: Receiver<String>,
}

impl Running {
    fn start(mut command: Command) -> Running {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let kept = Arc::clone(&stderr);
        let (sender, lines) = mpsc::channel();
        let mut pipe = child.stderr.take().unwrap();
        let errors = sender.clone();
        std::thread::spawn(move || {
            let mut text = String::new();
            let mut buffer = [0u8; 4096];
            while let Ok(read) = pipe.read(&mut buffer) {
                if read == 0 {
                    break;
                }
                text.push_str(&String::from_utf8_lossy(&buffer[..read]));
                while let Some(end) = text.find('\n') {
                    let line: String = text.drain(..=end).collect();
                    kept.lock().unwrap().push_str(&line);
                    let _ = errors.send(line.trim_end().to_string());
                }
            }
        });
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = sender.send(line);
            }
        });
        Running {
            child,
            stderr,
            lines,
        }
    }

    /// The rest of the first line (stdout or stderr) that starts with `prefix`.
    fn wait_for(&self, prefix: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix(prefix) {
                        return rest.to_string();
                    }
                }
                Err(_) => break,
            }
        }
        panic!("no line starting {prefix:?}; stderr:\n{}", self.log());
    }

    fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The JSON bodies of the `mcp '...'` calls in the quick start's last block.
fn requests(block: &[String]) -> Vec<Value> {
    block
        .iter()
        .filter_map(|line| line.strip_prefix("mcp '"))
        .map(|rest| {
            let body = &rest[..rest.rfind('\'').expect("a closing quote")];
            serde_json::from_str(body).unwrap_or_else(|error| panic!("{body}: {error}"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_quick_start_runs_as_written() {
    let blocks = readme_blocks();
    assert_eq!(blocks.len(), 3, "{blocks:#?}");
    let scratch = copy_of_the_example();
    let dir = scratch.0.as_path();

    // The first block: from the tool list to a checked, tested policy and its table.
    let first: Vec<String> = blocks[0].iter().map(|line| command_of(line)).collect();
    assert_eq!(
        first[0],
        "cargo build --release && export PATH=\"$PWD/target/release:$PATH\""
    );
    assert_eq!(first[1], "cd examples/quickstart");
    assert!(first.len() >= 7, "{first:#?}");
    for command in &first[2..] {
        run_line(dir, command);
    }
    // What the commands wrote is what the repository ships.
    for name in ["tools.json", "toolgate.policy", "toolgate.tests"] {
        assert_eq!(
            std::fs::read_to_string(dir.join(name)).unwrap(),
            std::fs::read_to_string(quickstart().join(name)).unwrap(),
            "examples/quickstart/{name} is not what the quick start writes"
        );
    }
    let table = std::fs::read_to_string(dir.join("table.html")).unwrap();
    assert!(
        table.starts_with("<!DOCTYPE html>"),
        "{}",
        &table[..100.min(table.len())]
    );
    for tool in [
        "notes.search",
        "notes.read",
        "notes.create",
        "notes.delete",
        "shell.exec",
    ] {
        assert!(table.contains(tool), "the table lacks {tool}");
    }

    // The second block: a key, the upstream, the gate.
    let second: Vec<String> = blocks[1].iter().map(|line| command_of(line)).collect();
    assert_eq!(
        second,
        [
            "toolgate key new --file keys.toml --id alice --role editor --scope tool:read --scope tool:write",
            "python3 upstream.py &",
            "toolgate serve --config toolgate.toml",
        ]
    );
    let key_words: Vec<&str> = second[0].split_whitespace().collect();
    let output = Command::new(env!("CARGO_BIN_EXE_toolgate"))
        .args(&key_words[1..])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let key = String::from_utf8(output.stdout).unwrap().trim().to_string();
    assert!(
        !key.is_empty() && !key.contains(char::is_whitespace),
        "{key:?}"
    );

    // upstream.py serves on 9000 by default and the shipped configuration points there;
    // the test moves both to free ports.
    let config = std::fs::read_to_string(dir.join("toolgate.toml")).unwrap();
    let listen_line = "listen   = \"127.0.0.1:8080\"";
    let upstream_line = "upstream = \"http://127.0.0.1:9000/mcp\"";
    assert!(
        config.contains(listen_line) && config.contains(upstream_line),
        "{config}"
    );
    let mut upstream_command = crate::external::python();
    upstream_command
        .arg("upstream.py")
        .args(["--port", "0"])
        .current_dir(dir);
    let upstream = Running::start(upstream_command);
    let upstream_url = upstream.wait_for("listening on ");
    let config = config
        .replace(listen_line, "listen   = \"127.0.0.1:0\"")
        .replace(upstream_line, &format!("upstream = \"{upstream_url}\""));
    std::fs::write(dir.join("toolgate.toml"), config).unwrap();
    let mut gate_command = Command::new(env!("CARGO_BIN_EXE_toolgate"));
    gate_command
        .args(["serve", "--config", "toolgate.toml"])
        .current_dir(dir);
    let gate = Running::start(gate_command);
    let gate_url = gate.wait_for("listening on ");

    // The third block: the calls, as the README's `mcp` function sends them.
    let calls = requests(&blocks[2]);
    assert_eq!(calls.len(), 3, "{:#?}", blocks[2]);
    let send = |body: &Value, key: Option<&str>| {
        let mut request = reqwest::Client::new()
            .post(&gate_url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(body.to_string());
        if let Some(key) = key {
            request = request.header("x-api-key", key);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            (status, text)
        }
    };

    let (status, text) = send(&calls[0], Some(&key)).await;
    assert_eq!(status, 200, "{text}\n{}", gate.log());
    let listed: Value = serde_json::from_str(&text).unwrap();
    let names: Vec<&str> = listed["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tool| tool["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["notes.search", "notes.read", "notes.create"]);

    let (status, text) = send(&calls[1], Some(&key)).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("notes.create ran with"), "{text}");

    let (status, text) = send(&calls[2], Some(&key)).await;
    assert_eq!(status, 403, "{text}");
    let refused: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(refused["id"], 3, "{text}");
    assert!(refused["error"].is_object(), "{text}");

    // Without the key, nothing: 401, and the upstream is not reached.
    let (status, _) = send(&calls[2], None).await;
    assert_eq!(status, 401);

    // The oracle: what the upstream executed. The allowed call, with its arguments, and
    // nothing else; the delete never reached it.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !upstream.log().contains("executed notes.create") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let executed: Vec<String> = upstream
        .log()
        .lines()
        .filter(|line| line.starts_with("executed "))
        .map(str::to_string)
        .collect();
    assert_eq!(executed, ["executed notes.create {\"title\": \"hi\"}"]);
}

/// The upstream answers `tools/call` for a tool the gate refused when called directly:
/// so the test above, where the call does not execute, shows the gate stopping it.
#[test]
fn the_quick_start_upstream_runs_what_it_is_sent() {
    let mut command = crate::external::python();
    command
        .arg(quickstart().join("upstream.py"))
        .args(["--port", "0"]);
    let upstream = Running::start(command);
    let url = upstream.wait_for("listening on ");
    let address = url
        .strip_prefix("http://")
        .and_then(|rest| rest.strip_suffix("/mcp"))
        .unwrap()
        .to_string();
    let body = r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"notes.delete","arguments":{"id":"n1"}}}"#;
    let mut stream = std::net::TcpStream::connect(&address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let request = format!(
        "POST /mcp HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    std::io::Write::write_all(&mut stream, request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("notes.delete ran with"), "{response}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !upstream.log().contains("executed notes.delete") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        upstream
            .log()
            .contains("executed notes.delete {\"id\": \"n1\"}"),
        "{}",
        upstream.log()
    );
}
