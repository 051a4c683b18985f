//! `toolgate serve` as a process for the gate tests: started from a configuration file,
//! its listening line read, its standard error kept for failure messages, signalled,
//! killed on drop.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use toolgate::credentials::api_key::{generate, KeyEntry, KeyFile};

/// Writes a key file with one key for a reader into `directory`: the key.
pub fn key_file(directory: &Path) -> String {
    let (key, digest) = generate("reader-bot").unwrap();
    let file = KeyFile {
        keys: vec![KeyEntry {
            id: "reader-bot".into(),
            sha256: digest,
            roles: vec!["reader".into()],
            scopes: vec!["tool:read".into()],
            client: Some("ci".into()),
            created: None,
            expires: None,
            revoked: false,
        }],
    };
    file.save(&directory.join("keys.toml")).unwrap();
    key
}

/// `toolgate serve` running; killed on drop. Its standard error is kept for failure
/// messages.
pub struct Running {
    child: Child,
    /// The MCP endpoint, from the listening line.
    pub url: String,
    /// `http://ADDRESS:PORT` (`https://` with `[tls]`).
    pub base: String,
    /// The bound address.
    pub address: SocketAddr,
    /// The metrics endpoint's URL, from the `metrics on` line, when metrics are served.
    pub metrics: Option<String>,
    log: Arc<Mutex<String>>,
    /// The standard output lines after the listening line.
    lines: Mutex<std::sync::mpsc::Receiver<String>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    /// Starts `toolgate serve --config CONFIG` and waits (at most 120 s) for its
    /// listening line.
    pub fn start(config: &Path) -> Running {
        let mut child = Command::new(env!("CARGO_BIN_EXE_toolgate"))
            .args(["serve", "--config"])
            .arg(config)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let mut stderr = child.stderr.take().unwrap();
        let kept = Arc::clone(&log);
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(read) = stderr.read(&mut buffer) {
                if read == 0 {
                    break;
                }
                let text = String::from_utf8_lossy(&buffer[..read]).to_string();
                kept.lock().unwrap().push_str(&text);
            }
        });
        let stdout = child.stdout.take().unwrap();
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = sender.send(line);
            }
        });
        let mut running = Running {
            child,
            url: String::new(),
            base: String::new(),
            address: SocketAddr::from(([127, 0, 0, 1], 0)),
            metrics: None,
            log,
            lines: Mutex::new(receiver),
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        let line = loop {
            let wait = deadline.saturating_duration_since(Instant::now());
            let line = running
                .lines
                .lock()
                .unwrap()
                .recv_timeout(wait)
                .unwrap_or_else(|_| panic!("no listening line; stderr:\n{}", running.log()));
            match line.strip_prefix("metrics on ") {
                Some(url) => running.metrics = Some(url.to_string()),
                None => break line,
            }
        };
        let url = line
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected line {line:?}"))
            .to_string();
        let (scheme, rest) = url.split_once("://").unwrap();
        let authority = rest.split('/').next().unwrap();
        running.address = authority.parse().unwrap();
        running.base = format!("{scheme}://{authority}");
        running.url = url;
        running
    }

    /// The next line the gate writes on standard output (at most `bound` away).
    pub fn next_line(&self, bound: Duration) -> String {
        self.lines
            .lock()
            .unwrap()
            .recv_timeout(bound)
            .unwrap_or_else(|_| panic!("no line on standard output; stderr:\n{}", self.log()))
    }

    /// What the gate logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Sends a signal (`TERM`, `INT`) to the gate.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success(), "kill -{name} failed");
    }

    /// The exit status, if the gate has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().unwrap()
    }

    /// Waits (at most `bound`) for the gate to exit: its status.
    pub async fn exit_within(&mut self, bound: Duration) -> ExitStatus {
        let deadline = Instant::now() + bound;
        loop {
            if let Some(status) = self.exited() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the gate did not exit within {bound:?}; stderr:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Runs `toolgate serve --config CONFIG` to its end, for a configuration it must refuse:
/// asserts it never printed a listening line; its exit status and standard error.
pub fn refused_at_start(config: &Path) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_toolgate"))
        .args(["serve", "--config"])
        .arg(config)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(output.stdout.is_empty(), "it must not listen");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).to_string(),
    )
}
