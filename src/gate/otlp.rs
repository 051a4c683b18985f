//! OTLP/HTTP export in the JSON encoding, off the request path: what traces
//! ([`super::traces`]) and OTLP decision logs ([`super::OtlpAudit`]) share.
//!
//! Items reach an exporter thread through a bounded queue that never blocks the sender
//! (a full queue drops the item and counts it) and never wakes the thread, which looks
//! at the queue every 10 ms; it sends the items in batches
//! (`POST {endpoint}`, `application/json`, the encoding the OpenTelemetry Collector's
//! `otlphttp` receiver reads) every `interval` or when a batch is full, and exports what
//! is queued when the last handle is dropped or [`Exporter::flush`] asks.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    fn write(&self, out: &mut Items);
}

/// The JSON records of one export, written straight into its body (no intermediate
/// JSON values: the exporter thread's work per record stays small).
#[derive(Debug, Default)]
pub(crate) struct Items {
    text: String,
    count: u64,
}

impl Items {
    /// The records written so far, comma-separated.
    #[cfg(test)]
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// Begins a record (after a comma when it is not the first): its JSON object is
    /// written into the returned string.
    pub(crate) fn next(&mut self) -> &mut String {
        if self.count > 0 {
            self.text.push(',');
        }
        self.count += 1;
        &mut self.text
    }
}

/// Writes `text` as a JSON string.
pub(crate) fn push_string(out: &mut String, text: &str) {
    use std::fmt::Write as _;
    out.push('"');
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            control if u32::from(control) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(control));
            }
            other => out.push(other),
        }
    }
    out.push('"');
}

/// Writes `"attributes":[...]` one attribute at a time.
pub(crate) struct Attributes<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> Attributes<'a> {
    /// Opens the list.
    pub(crate) fn start(out: &'a mut String) -> Attributes<'a> {
        out.push_str("\"attributes\":[");
        Attributes { out, first: true }
    }

    fn key(&mut self, key: &str) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        self.out.push_str("{\"key\":");
        push_string(self.out, key);
        self.out.push_str(",\"value\":");
    }

    /// A string attribute.
    pub(crate) fn text(&mut self, key: &str, value: &str) -> &mut Self {
        self.key(key);
        self.out.push_str("{\"stringValue\":");
        push_string(self.out, value);
        self.out.push_str("}}");
        self
    }

    /// An integer attribute (OTLP JSON writes 64-bit integers as strings).
    pub(crate) fn int(&mut self, key: &str, value: u64) -> &mut Self {
        use std::fmt::Write as _;
        self.key(key);
        let _ = write!(self.out, "{{\"intValue\":\"{value}\"}}}}");
        self
    }

    /// An array of strings.
    pub(crate) fn texts<'v>(
        &mut self,
        key: &str,
        values: impl IntoIterator<Item = &'v str>,
    ) -> &mut Self {
        self.key(key);
        self.out.push_str("{\"arrayValue\":{\"values\":[");
        for (index, value) in values.into_iter().enumerate() {
            if index > 0 {
                self.out.push(',');
            }
            self.out.push_str("{\"stringValue\":");
            push_string(self.out, value);
            self.out.push('}');
        }
        self.out.push_str("]}}}");
        self
    }

    /// Closes the list.
    pub(crate) fn finish(&mut self) {
        self.out.push(']');
    }
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
    let mut last_export = Instant::now();
    loop {
        // The thread polls rather than waiting on the queue, so that queueing an item
        // never wakes it: a request pays an enqueue, not a context switch.
        std::thread::sleep(POLL);
        let mut acknowledge = Vec::new();
        let mut disconnected = false;
        loop {
            match receiver.try_recv() {
                Ok(Message::Item(item)) => batch.push(*item),
                Ok(Message::Flush(done)) => acknowledge.push(done),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    disconnected = true;
                    break;
                }
            }
            if batch.len() >= config.batch {
                runtime.block_on(export(&client, url, config, counts, &mut batch));
                last_export = Instant::now();
            }
        }
        if !acknowledge.is_empty() || disconnected || last_export.elapsed() >= config.interval {
            runtime.block_on(export(&client, url, config, counts, &mut batch));
            last_export = Instant::now();
        }
        for done in acknowledge {
            let _ = done.try_send(());
        }
        if disconnected {
            return;
        }
    }
}

/// How often the exporter thread looks at its queue.
const POLL: Duration = Duration::from_millis(10);

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
    let mut items = Items::default();
    for item in batch.drain(..) {
        item.write(&mut items);
    }
    let count = items.count;
    let mut body = String::with_capacity(items.text.len() + 256);
    body.push_str("{\"");
    body.push_str(T::RESOURCE);
    body.push_str("\":[{\"resource\":{");
    Attributes::start(&mut body)
        .text("service.name", &config.service_name)
        .finish();
    body.push_str("},\"");
    body.push_str(T::SCOPE);
    body.push_str("\":[{\"scope\":{\"name\":");
    push_string(&mut body, T::SCOPE_NAME);
    body.push_str(",\"version\":");
    push_string(&mut body, env!("CARGO_PKG_VERSION"));
    body.push_str("},\"");
    body.push_str(T::ITEMS);
    body.push_str("\":[");
    body.push_str(&items.text);
    body.push_str("]}]}]}");
    let sent = client
        .post(url.clone())
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(body)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_attributes_are_valid_json() {
        let mut out = String::from("{");
        Attributes::start(&mut out)
            .text("a\"b", "line\nbreak \\ tab\t \u{1} é 😀")
            .int("n", u64::MAX)
            .texts("list", ["x", "\"y\""])
            .finish();
        out.push('}');
        let value: serde_json::Value = serde_json::from_str(&out).expect(&out);
        let attributes = &value["attributes"];
        assert_eq!(attributes[0]["key"], "a\"b");
        assert_eq!(
            attributes[0]["value"]["stringValue"],
            "line\nbreak \\ tab\t \u{1} é 😀"
        );
        assert_eq!(attributes[1]["value"]["intValue"], u64::MAX.to_string());
        assert_eq!(
            attributes[2]["value"]["arrayValue"]["values"][1]["stringValue"],
            "\"y\""
        );
        let mut items = Items::default();
        items.next().push_str("{}");
        items.next().push_str("{}");
        assert_eq!((items.text.as_str(), items.count), ("{},{}", 2));
    }
}
