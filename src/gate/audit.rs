//! The audit log: one JSON line per decision, never containing a credential.
//!
//! [`JsonLinesAudit`] writes to a file or any writer from its own thread, fed through a
//! bounded queue so a slow disk never holds up a request. When the queue is full the
//! record is dropped, counted ([`JsonLinesAudit::lost`]) and a warning is logged: the
//! gate prefers answering to blocking, and a loss is always visible. [`TracingAudit`]
//! sends each line to `tracing` (target `toolgate::audit`) instead.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::Arc;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

/// One decision, as written to the audit log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    /// When it was decided (RFC 3339, UTC).
    pub time: Timestamp,
    /// The request's decision id, also in the `x-toolgate-decision-id` header the
    /// upstream and the client receive; every decision of one HTTP request (a batch, a
    /// list) shares it.
    pub decision_id: String,
    /// The caller's `sub`, if known.
    pub subject: Option<String>,
    /// The OAuth client, if known.
    pub client: Option<String>,
    /// The caller's effective roles.
    pub roles: Vec<String>,
    /// The JSON-RPC method (`tools/call`, `tools/list`, ...).
    pub method: String,
    /// `call`, `read`, `get` or `list`.
    pub action: &'static str,
    /// `tool`, `resource` or `prompt`.
    pub kind: &'static str,
    /// The tool or prompt name, or the resource URI.
    pub name: String,
    /// `allow` or `deny`.
    pub decision: &'static str,
    /// `allowed`, `denied`, `insufficient_scope` or `no_rule`.
    pub reason: &'static str,
    /// The deciding statement as `PATH:LINE`, or `null` for `no_rule`.
    pub rule: Option<String>,
    /// For `insufficient_scope`, the scopes missing.
    pub missing_scopes: Vec<String>,
    /// The argument paths the deciding rule's condition reads (`arg` atoms); their
    /// values are never recorded, as arguments may hold secrets. Omitted when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub arguments: Vec<String>,
    /// The policy version: the SHA-256 of its text.
    pub policy: String,
    /// The client's address, if known.
    pub client_ip: Option<IpAddr>,
    /// The JSON-RPC request id, if the message had one.
    pub request_id: Option<Value>,
}

impl AuditRecord {
    /// The record as one JSON line (without the line break).
    pub fn to_line(&self) -> String {
        serde_json::to_string(self)
            .unwrap_or_else(|error| format!("{{\"audit_error\":{:?}}}", error.to_string()))
    }
}

/// Where audit records go. `record` is called on the request path: it must not block.
pub trait AuditSink: Send + Sync {
    /// Takes one record.
    fn record(&self, record: AuditRecord);

    /// How many records were lost so far (dropped on a full queue, or not written), for
    /// metrics. The default, none, suits a sink that never drops.
    fn lost(&self) -> u64 {
        0
    }
}

/// Audit records as `tracing` events (level INFO, target `toolgate::audit`), the JSON
/// line as the message.
#[derive(Debug, Clone, Copy, Default)]
pub struct TracingAudit;

impl AuditSink for TracingAudit {
    fn record(&self, record: AuditRecord) {
        tracing::info!(target: "toolgate::audit", "{}", record.to_line());
    }
}

/// Audit records as JSON lines, written by a thread of their own.
#[derive(Debug, Clone)]
pub struct JsonLinesAudit {
    sender: SyncSender<Command>,
    lost: Arc<AtomicU64>,
}

enum Command {
    Record(Box<AuditRecord>),
    Flush(mpsc::Sender<()>),
    Reopen(mpsc::Sender<()>),
}

/// How often a rolling audit log starts a new file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditRotation {
    /// A file per hour: `NAME.YYYY-MM-DD-HH.EXTENSION`.
    Hourly,
    /// A file per day: `NAME.YYYY-MM-DD.EXTENSION`.
    Daily,
}

/// Where the writer thread writes: a file it can reopen, or any other writer.
trait Destination: Write + Send {
    /// Opens the file again (after `logrotate` moved it); other writers do nothing.
    fn reopen(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A file appended to, reopened by path on request.
struct Reopenable {
    path: PathBuf,
    file: BufWriter<File>,
}

impl Reopenable {
    fn open(path: &Path) -> io::Result<Reopenable> {
        Ok(Reopenable {
            path: path.to_path_buf(),
            file: BufWriter::new(append(path)?),
        })
    }
}

fn append(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

impl Write for Reopenable {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.file.write(bytes)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Destination for Reopenable {
    fn reopen(&mut self) -> io::Result<()> {
        self.file.flush()?;
        self.file = BufWriter::new(append(&self.path)?);
        Ok(())
    }
}

/// Any writer, buffered.
struct Fixed<W: Write>(BufWriter<W>);

impl<W: Write> Write for Fixed<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.write(bytes)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl<W: Write + Send> Destination for Fixed<W> {}

impl JsonLinesAudit {
    /// How many records wait for the writer at most, by default.
    pub const DEFAULT_CAPACITY: usize = 65_536;

    /// Appends to the file at `path`, creating it. [`JsonLinesAudit::reopen`] opens it
    /// again by its path, for `logrotate` and the like.
    pub fn open(path: &Path) -> io::Result<JsonLinesAudit> {
        let file = Reopenable::open(path)?;
        JsonLinesAudit::start(Box::new(file), JsonLinesAudit::DEFAULT_CAPACITY)
    }

    /// Appends to a new file every hour or day, named after `path` with the date before
    /// its extension (`audit.jsonl` → `audit.2026-12-03.jsonl`), in `path`'s directory;
    /// the newest `keep` files are kept (0: all), older ones deleted.
    pub fn rolling(
        path: &Path,
        rotation: AuditRotation,
        keep: usize,
    ) -> io::Result<JsonLinesAudit> {
        use tracing_appender::rolling::{RollingFileAppender, Rotation};
        let directory = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let prefix = path
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_else(|| "audit".to_string());
        let mut builder = RollingFileAppender::builder()
            .rotation(match rotation {
                AuditRotation::Hourly => Rotation::HOURLY,
                AuditRotation::Daily => Rotation::DAILY,
            })
            .filename_prefix(prefix);
        if let Some(extension) = path.extension() {
            builder = builder.filename_suffix(extension.to_string_lossy().into_owned());
        }
        if keep > 0 {
            builder = builder.max_log_files(keep);
        }
        let appender = builder
            .build(directory)
            .map_err(|error| io::Error::other(error.to_string()))?;
        JsonLinesAudit::start(
            Box::new(Fixed(BufWriter::new(appender))),
            JsonLinesAudit::DEFAULT_CAPACITY,
        )
    }

    /// Writes to `writer` (standard output, say), with a queue of `capacity` records.
    pub fn new(writer: impl Write + Send + 'static, capacity: usize) -> io::Result<JsonLinesAudit> {
        JsonLinesAudit::start(Box::new(Fixed(BufWriter::new(writer))), capacity)
    }

    fn start(destination: Box<dyn Destination>, capacity: usize) -> io::Result<JsonLinesAudit> {
        let (sender, receiver) = mpsc::sync_channel(capacity.max(1));
        let lost = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&lost);
        std::thread::Builder::new()
            .name("toolgate-audit".to_string())
            .spawn(move || write_lines(destination, &receiver, &counter))?;
        Ok(JsonLinesAudit { sender, lost })
    }

    /// Writes what is queued, then opens the file again by its path (a file from
    /// [`JsonLinesAudit::open`]; other writers are only flushed), and waits for it. A
    /// file that cannot be opened again is logged, and records go to the old one.
    pub fn reopen(&self) {
        let (done, wait) = mpsc::channel();
        if self.sender.send(Command::Reopen(done)).is_ok() {
            let _ = wait.recv();
        }
    }

    /// How many records were lost: dropped on a full queue or failed to write.
    pub fn lost(&self) -> u64 {
        self.lost.load(Ordering::Relaxed)
    }

    /// Waits until every record taken so far is written and flushed.
    pub fn flush(&self) {
        let (done, wait) = mpsc::channel();
        if self.sender.send(Command::Flush(done)).is_ok() {
            let _ = wait.recv();
        }
    }
}

impl AuditSink for JsonLinesAudit {
    fn lost(&self) -> u64 {
        JsonLinesAudit::lost(self)
    }

    fn record(&self, record: AuditRecord) {
        match self.sender.try_send(Command::Record(Box::new(record))) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                let lost = self.lost.fetch_add(1, Ordering::Relaxed) + 1;
                if lost.is_power_of_two() {
                    tracing::warn!(lost, "audit queue full: audit records dropped");
                }
            }
        }
    }
}

/// Writes `record` as one JSON line, serialised straight into the writer's buffer (no
/// string of its own). A record that fails half-way still ends its line, so the next
/// one starts on a line of its own.
fn write_line(writer: &mut impl Write, record: &AuditRecord) -> io::Result<()> {
    let written = serde_json::to_writer(&mut *writer, record).map_err(io::Error::other);
    let ended = writer.write_all(b"\n");
    written.and(ended)
}

/// How long the writer sleeps when the queue is empty. It polls rather than waits on
/// the queue, so that queueing a record never has to wake a thread: on the request path a
/// record costs a move into the queue, and the JSON is written here.
const IDLE: std::time::Duration = std::time::Duration::from_millis(5);

fn write_lines(mut writer: Box<dyn Destination>, receiver: &Receiver<Command>, lost: &AtomicU64) {
    loop {
        let first = match receiver.try_recv() {
            Ok(command) => command,
            Err(mpsc::TryRecvError::Empty) => {
                std::thread::sleep(IDLE);
                continue;
            }
            Err(mpsc::TryRecvError::Disconnected) => return,
        };
        let mut waiting = Vec::new();
        let mut next = Some(first);
        while let Some(command) = next {
            match command {
                Command::Record(record) => {
                    if let Err(error) = write_line(&mut writer, &record) {
                        lost.fetch_add(1, Ordering::Relaxed);
                        tracing::error!(%error, "audit record not written");
                    }
                }
                Command::Flush(done) => waiting.push(done),
                Command::Reopen(done) => {
                    if let Err(error) = writer.reopen() {
                        tracing::error!(%error, "the audit file could not be opened again; writing to the old one");
                    }
                    waiting.push(done);
                }
            }
            next = receiver.try_recv().ok();
        }
        if let Err(error) = writer.flush() {
            tracing::error!(%error, "audit log not flushed");
        }
        for done in waiting {
            let _ = done.send(());
        }
    }
}
