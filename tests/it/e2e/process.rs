//! Child processes for the end-to-end tests: servers that announce where they listen, and
//! a guard that kills them when the test ends, passes or panics.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How long a server may take to print its listening line (Python imports are slow on a
/// loaded two-core machine).
const START_TIMEOUT: Duration = Duration::from_secs(90);
/// How much of a server's output is kept for failure messages.
const LOG_LIMIT: usize = 64 * 1024;

/// A running server, killed on drop.
pub struct Service {
    name: String,
    child: Child,
    /// The first line the server printed that names an address, as a URL.
    pub url: String,
    /// The lines of standard output before that one.
    pub preamble: Vec<String>,
    log: Arc<Mutex<String>>,
}

impl Service {
    /// Starts `command` and waits until its standard output names the address it listens
    /// on (see [`listening_url`]). Panics, with everything the server printed, if it
    /// exits or stays silent.
    pub fn start(name: &str, command: Command) -> Service {
        Service::try_start(name, command).unwrap_or_else(|error| panic!("{error}"))
    }

    /// [`Service::start`], giving what went wrong instead of panicking.
    pub fn try_start(name: &str, mut command: Command) -> Result<Service, String> {
        let mut child = spawn_piped(name, &mut command);
        let log = Arc::new(Mutex::new(String::new()));
        drain(child.stderr.take().unwrap(), Arc::clone(&log));
        let lines = lines(child.stdout.take().unwrap(), Arc::clone(&log));
        let mut service = Service {
            name: name.to_string(),
            child,
            url: String::new(),
            preamble: Vec::new(),
            log,
        };
        service.url = service.wait_for_listening(&lines)?;
        Ok(service)
    }

    fn wait_for_listening(&mut self, lines: &mpsc::Receiver<String>) -> Result<String, String> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left.min(Duration::from_millis(200))) {
                Ok(line) => {
                    if let Some(url) = listening_url(&line) {
                        return Ok(url);
                    }
                    self.preamble.push(line);
                }
                Err(mpsc::RecvTimeoutError::Timeout) if !left.is_zero() => {}
                Err(_) => {
                    // Let the output threads catch up with a process that just exited.
                    thread::sleep(Duration::from_millis(200));
                    let status = self.child.try_wait().ok().flatten();
                    return Err(format!(
                        "{} printed no listening line (exit: {status:?}); its output:\n{}",
                        self.name,
                        self.log()
                    ));
                }
            }
        }
    }

    /// What the server printed so far (standard error and standard output, interleaved).
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Panics with the server's output unless it is still running.
    pub fn assert_running(&mut self) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!(
                "{} exited ({status}) during the test; its output:\n{}",
                self.name,
                self.log()
            );
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The URL a server announces on a line, in any of these forms:
/// `{"listening": "http://127.0.0.1:PORT/mcp"}` (or `"url"` / `"address"`, a URL or a
/// bare `host:port`), or free text containing `http://...`.
pub fn listening_url(line: &str) -> Option<String> {
    let line = line.trim();
    if let Ok(serde_json::Value::Object(object)) = serde_json::from_str(line) {
        let value = ["listening", "url", "address", "listen"]
            .iter()
            .find_map(|key| object.get(*key).and_then(|value| value.as_str()))?;
        return Some(as_url(value));
    }
    let start = line.find("http://")?;
    let url = line[start..]
        .split(|character: char| character.is_whitespace() || character == '"' || character == '`')
        .next()?;
    Some(url.trim_end_matches([',', '.', ')']).to_string())
}

fn as_url(value: &str) -> String {
    if value.contains("://") {
        value.to_string()
    } else {
        format!("http://{value}")
    }
}

/// Keeps the tail of `source` in `log`.
fn drain(source: impl Read + Send + 'static, log: Arc<Mutex<String>>) {
    thread::spawn(move || {
        for line in BufReader::new(source).lines() {
            let Ok(line) = line else { break };
            append(&log, &line);
        }
    });
}

/// Sends each line of `source` (also kept in `log`) until the receiver goes away, then
/// keeps draining so the child never blocks on a full pipe.
fn lines(source: impl Read + Send + 'static, log: Arc<Mutex<String>>) -> mpsc::Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(source).lines() {
            let Ok(line) = line else { break };
            append(&log, &line);
            let _ = sender.send(line);
        }
    });
    receiver
}

fn append(log: &Mutex<String>, line: &str) {
    let mut log = log.lock().unwrap();
    log.push_str(line);
    log.push('\n');
    if log.len() > LOG_LIMIT {
        let cut = log.len() - LOG_LIMIT / 2;
        let cut = (cut..log.len())
            .find(|at| log.is_char_boundary(*at))
            .unwrap_or(0);
        log.replace_range(..cut, "[...]\n");
    }
}

/// Starts `command` with no input and its outputs piped; panics if it cannot start.
fn spawn_piped(name: &str, command: &mut Command) -> Child {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
        .spawn()
        .unwrap_or_else(|error| panic!("cannot start {name} ({command:?}): {error}"))
}

/// Runs `command` to completion within `timeout`, killing it past that. Returns its exit
/// code, standard output and standard error.
pub fn run_bounded(name: &str, mut command: Command, timeout: Duration) -> (i32, String, String) {
    let mut child = spawn_piped(name, &mut command);
    let stdout = collect(child.stdout.take().unwrap());
    let stderr = collect(child.stderr.take().unwrap());
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{name} did not finish within {timeout:?}: {command:?}");
        }
        thread::sleep(Duration::from_millis(20));
    };
    let stdout = stdout.join().unwrap();
    let stderr = stderr.join().unwrap();
    (status.code().unwrap_or(-1), stdout, stderr)
}

fn collect(mut source: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut text = String::new();
        let _ = source.read_to_string(&mut text);
        text
    })
}

#[test]
fn listening_lines_in_every_announced_form_give_a_url() {
    let cases = [
        (
            r#"{"listening": "http://127.0.0.1:4100/mcp"}"#,
            Some("http://127.0.0.1:4100/mcp"),
        ),
        (
            r#"{"listen": "127.0.0.1:4100"}"#,
            Some("http://127.0.0.1:4100"),
        ),
        (
            "toolgate: listening on http://127.0.0.1:4100/mcp, upstream ...",
            Some("http://127.0.0.1:4100/mcp"),
        ),
        ("compiling policy", None),
        (r#"{"event": "reload"}"#, None),
    ];
    for (line, expected) in cases {
        assert_eq!(listening_url(line).as_deref(), expected, "{line}");
    }
}
