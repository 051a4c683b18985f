//! OTLP/HTTP export in the JSON encoding, off the request path: what traces
//! ([`super::traces`]) and OTLP decision logs ([`super::OtlpAudit`]) share.
//!
//! Items reach an exporter thread through a bounded queue that never blocks the sender
//! (a full queue drops the item and counts it); the thread sends them in batches
//! (`POST {endpoint}`, `application/json`, the encoding the OpenTelemetry Collector's
//! `otlphttp` receiver reads) every `interval` or when a batch is full, and exports what
//! is queued when the last handle is dropped or [`Exporter::flush`] asks.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// Where and how an OTLP signal (traces, or decision logs) is exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtlpConfig {
    /// The OTLP/HTTP URL, e.g. `http://127.0.0.1:4318/v1/traces` or `.../v1/logs`.
    pub endpoint: String,
    /// `service.name` of the exported resource. Default `toolgate`.
    pub service_name: String,
    /// The most items waiting to be exported; more are dropped. Default 4096.
    pub queue: usize,
    /// The most items in one export. Default 512.
    pub batch: usize,
    /// How long an item waits at most before its batch is sent. Default 1 s.
    pub interval: Duration,
    /// How long one export may take. Default 10 s.
    pub timeout: Duration,
}

impl OtlpConfig {
    /// The defaults, exporting to `endpoint`.
    pub fn new(endpoint: impl Into<String>) -> OtlpConfig {
        OtlpConfig {
            endpoint: endpoint.into(),
            service_name: "toolgate".to_string(),
            queue: 4096,
            batch: 512,
            interval: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
        }
    }
}

/// Why an exporter could not start.
#[derive(Debug)]
pub struct OtlpError(String);

impl std::fmt::Display for OtlpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for OtlpError {}

/// One OTLP signal: how its export request is shaped and what JSON items a queued item
/// becomes.
pub(crate) trait Signal: Send + 'static {
    /// `resourceSpans` or `resourceLogs`.
    const RESOURCE: &'static str;
    /// `scopeSpans` or `scopeLogs`.
    const SCOPE: &'static str;
    /// `spans` or `logRecords`.
    const ITEMS: &'static str;
    /// The instrumentation scope's name.
    const SCOPE_NAME: &'static str;
    /// Appends the item's JSON records.
    fn write(&self, out: &mut Vec<Value>);
}

/// A handle on one exporter thread: cheap to clone.
#[derive(Debug)]
pub(crate) struct Exporter<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Clone for Exporter<T> {
    fn clone(&self) -> Exporter<T> {
        Exporter {
            shared: Arc::clone(&self.shared),
        }
    }
}

#[derive(Debug)]
struct Shared<T> {
    sender: SyncSender<Message<T>>,
    counts: Arc<Counts>,
}

/// What the exporter thread has done.
#[derive(Debug, Default)]
struct Counts {
    dropped: AtomicU64,
    exported: AtomicU64,
    failed: AtomicU64,
    failed_records: AtomicU64,
}

#[derive(Debug)]
enum Message<T> {
    Item(Box<T>),
    /// Export what is queued, then acknowledge.
    Flush(SyncSender<()>),
}

impl<T: Signal> Exporter<T> {
    /// Starts the exporter thread. The endpoint must be an `http` or `https` URL.
    pub(crate) fn start(config: OtlpConfig, thread: &str) -> Result<Exporter<T>, OtlpError> {
        let url = reqwest::Url::parse(&config.endpoint)
            .map_err(|error| OtlpError(format!("`{}`: {error}", config.endpoint)))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(OtlpError(format!(
                "`{}` is not an http or https URL",
                config.endpoint
            )));
        }
        let (sender, receiver) = mpsc::sync_channel(config.queue.max(1));
        let counts = Arc::new(Counts::default());
        let thread_counts = Arc::clone(&counts);
        std::thread::Builder::new()
            .name(thread.to_string())
            .spawn(move || run::<T>(&url, &config, &thread_counts, &receiver))
            .map_err(|error| OtlpError(format!("cannot start the exporter: {error}")))?;
        Ok(Exporter {
            shared: Arc::new(Shared { sender, counts }),
        })
    }

    /// Queues an item; never blocks. A full queue drops it (counted).
    pub(crate) fn send(&self, item: T) {
        if self
            .shared
            .sender
            .try_send(Message::Item(Box::new(item)))
            .is_err()
        {
            self.shared.counts.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Exports everything queued, waiting at most `bound` (blocking the thread);
    /// whether it finished.
    pub(crate) fn flush(&self, bound: Duration) -> bool {
        let deadline = Instant::now() + bound;
        let (done, finished) = mpsc::sync_channel(1);
        let mut message = Message::Flush(done);
        loop {
            match self.shared.sender.try_send(message) {
                Ok(()) => break,
                Err(TrySendError::Full(back)) if Instant::now() < deadline => {
                    message = back;
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => return false,
            }
        }
        finished
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .is_ok()
    }

    /// Items dropped because the queue was full.
    pub(crate) fn dropped(&self) -> u64 {
        self.shared.counts.dropped.load(Ordering::Relaxed)
    }

    /// Records (spans, log records) the endpoint accepted.
    pub(crate) fn exported(&self) -> u64 {
        self.shared.counts.exported.load(Ordering::Relaxed)
    }

    /// Exports that failed (their records are lost).
    pub(crate) fn failed_exports(&self) -> u64 {
        self.shared.counts.failed.load(Ordering::Relaxed)
    }

    /// Items (spans, log records) of the exports that failed.
    pub(crate) fn failed_records(&self) -> u64 {
        self.shared.counts.failed_records.load(Ordering::Relaxed)
    }
}

/// A JSON `KeyValue` attribute.
pub(crate) fn attribute(key: &str, value: Value) -> Value {
    json!({"key": key, "value": value})
}

/// A string attribute.
pub(crate) fn text(key: &str, value: &str) -> Value {
    attribute(key, json!({"stringValue": value}))
}

/// The exporter thread: batches until `interval` passes, a batch fills, or a flush.
fn run<T: Signal>(
    url: &reqwest::Url,
    config: &OtlpConfig,
    counts: &Counts,
    receiver: &Receiver<Message<T>>,
) {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        tracing::error!("otlp: cannot start the exporter's runtime; nothing is exported");
        return;
    };
    let client = match reqwest::Client::builder().timeout(config.timeout).build() {
        Ok(client) => client,
        Err(error) => {
            tracing::error!("otlp: cannot build the HTTP client: {error}");
            return;
        }
    };
    let mut batch: Vec<T> = Vec::new();
    loop {
        let acknowledge = match receiver.recv_timeout(config.interval) {
            Ok(Message::Item(item)) => {
                batch.push(*item);
                if batch.len() < config.batch {
                    continue;
                }
                None
            }
            Ok(Message::Flush(done)) => Some(done),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => {
                runtime.block_on(export(&client, url, config, counts, &mut batch));
                return;
            }
        };
        // What is already queued goes in the same export.
        while let Ok(Message::Item(item)) = receiver.try_recv() {
            batch.push(*item);
        }
        runtime.block_on(export(&client, url, config, counts, &mut batch));
        if let Some(done) = acknowledge {
            let _ = done.try_send(());
        }
    }
}

async fn export<T: Signal>(
    client: &reqwest::Client,
    url: &reqwest::Url,
    config: &OtlpConfig,
    counts: &Counts,
    batch: &mut Vec<T>,
) {
    if batch.is_empty() {
        return;
    }
    let mut items = Vec::new();
    for item in batch.drain(..) {
        item.write(&mut items);
    }
    let count = items.len() as u64;
    let body = json!({T::RESOURCE: [{
        "resource": {"attributes": [text("service.name", &config.service_name)]},
        T::SCOPE: [{
            "scope": {"name": T::SCOPE_NAME, "version": env!("CARGO_PKG_VERSION")},
            T::ITEMS: items,
        }],
    }]});
    let sent = client
        .post(url.clone())
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(body.to_string())
        .send()
        .await;
    match sent {
        Ok(response) if response.status().is_success() => {
            counts.exported.fetch_add(count, Ordering::Relaxed);
        }
        Ok(response) => {
            counts.failed.fetch_add(1, Ordering::Relaxed);
            counts.failed_records.fetch_add(count, Ordering::Relaxed);
            tracing::warn!(status = %response.status(), records = count, endpoint = %url, "otlp: the endpoint refused an export");
        }
        Err(error) => {
            counts.failed.fetch_add(1, Ordering::Relaxed);
            counts.failed_records.fetch_add(count, Ordering::Relaxed);
            tracing::warn!(records = count, endpoint = %url, "otlp: export failed: {error}");
        }
    }
}
