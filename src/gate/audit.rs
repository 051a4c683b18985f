//! The audit log: one JSON line per decision, never containing a credential.
//!
//! [`JsonLinesAudit`] writes to a file or any writer from its own thread, fed through a
//! bounded queue so a slow disk never holds up a request. When the queue is full the
//! record is dropped, counted ([`JsonLinesAudit::lost`]) and a warning is logged: the
//! gate prefers answering to blocking, and a loss is always visible. [`TracingAudit`]
//! sends each line to `tracing` (target `toolgate::audit`) instead.

use std::fs::OpenOptions;
use std::io::{self, BufWriter, Write};
use std::net::IpAddr;
use std::path::Path;
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
    Line(String),
    Flush(mpsc::Sender<()>),
}

impl JsonLinesAudit {
    /// How many records wait for the writer at most, by default.
    pub const DEFAULT_CAPACITY: usize = 65_536;

    /// Appends to the file at `path`, creating it.
    pub fn open(path: &Path) -> io::Result<JsonLinesAudit> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        JsonLinesAudit::new(file, JsonLinesAudit::DEFAULT_CAPACITY)
    }

    /// Writes to `writer`, with a queue of `capacity` records.
    pub fn new(writer: impl Write + Send + 'static, capacity: usize) -> io::Result<JsonLinesAudit> {
        let (sender, receiver) = mpsc::sync_channel(capacity.max(1));
        let lost = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&lost);
        std::thread::Builder::new()
            .name("toolgate-audit".to_string())
            .spawn(move || write_lines(BufWriter::new(writer), &receiver, &counter))?;
        Ok(JsonLinesAudit { sender, lost })
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
    fn record(&self, record: AuditRecord) {
        match self.sender.try_send(Command::Line(record.to_line())) {
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

fn write_lines(mut writer: impl Write, receiver: &Receiver<Command>, lost: &AtomicU64) {
    while let Ok(first) = receiver.recv() {
        let mut waiting = Vec::new();
        let mut next = Some(first);
        while let Some(command) = next {
            match command {
                Command::Line(line) => {
                    if let Err(error) = writeln!(writer, "{line}") {
                        lost.fetch_add(1, Ordering::Relaxed);
                        tracing::error!(%error, "audit record not written");
                    }
                }
                Command::Flush(done) => waiting.push(done),
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
