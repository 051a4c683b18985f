//! OpenTelemetry traces of gated requests, exported over OTLP/HTTP.
//!
//! Each request on the MCP path becomes one server span (`POST /mcp`) with a child span
//! per stage: `toolgate.authenticate`, `toolgate.decide` and `toolgate.forward` (a client
//! span, whose id the upstream receives as the parent in a W3C `traceparent` header).
//! A valid `traceparent` from the client continues its trace; a client trace marked not
//! sampled is not recorded and its header is forwarded as it came; without one (or with
//! a malformed one) the gate starts a trace.
//!
//! Spans are exported by [`super::otlp`]'s thread, behind a bounded queue that never
//! blocks a request (a full queue drops the trace and counts it, [`Traces::dropped`]).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::otlp::{push_string, Attributes, Exporter, Items, OtlpConfig, OtlpError, Signal};

/// The W3C trace context header.
pub const TRACEPARENT: &str = "traceparent";

/// The trace exporter: cheap to clone, shared by every request.
#[derive(Debug, Clone)]
pub struct Traces {
    exporter: Exporter<RequestTrace>,
}

impl Traces {
    /// Starts the exporter thread. The endpoint (`.../v1/traces`) must be an `http` or
    /// `https` URL.
    pub fn start(config: OtlpConfig) -> Result<Traces, OtlpError> {
        Ok(Traces {
            exporter: Exporter::start(config, "toolgate-traces")?,
        })
    }

    /// Queues a finished request's spans; never blocks.
    pub(crate) fn record(&self, trace: RequestTrace) {
        self.exporter.send(trace);
    }

    /// Exports everything queued, waiting at most `bound` (blocking the thread);
    /// whether it finished.
    pub fn flush(&self, bound: Duration) -> bool {
        self.exporter.flush(bound)
    }

    /// Requests whose spans were dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.exporter.dropped()
    }

    /// Spans the endpoint accepted.
    pub fn exported(&self) -> u64 {
        self.exporter.exported()
    }

    /// Exports that failed (their spans are lost).
    pub fn failed_exports(&self) -> u64 {
        self.exporter.failed_exports()
    }
}

/// A W3C trace context: the ids of a trace and of the span a new span descends from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TraceContext {
    pub trace_id: [u8; 16],
    pub parent: [u8; 8],
    pub sampled: bool,
}

impl TraceContext {
    /// Reads a `traceparent` value (version `00`, or a later version read as `00`);
    /// `None` when it is malformed or holds an all-zero id.
    pub(crate) fn parse(value: &str) -> Option<TraceContext> {
        let mut parts = value.trim().split('-');
        let version = parts.next()?;
        let trace = parts.next()?;
        let parent = parts.next()?;
        let flags = parts.next()?;
        if version.len() != 2 || version == "ff" || !is_lower_hex(version) {
            return None;
        }
        // Version 00 has exactly four fields; later versions may add more.
        if version == "00" && parts.next().is_some() {
            return None;
        }
        let trace_id: [u8; 16] = decode_hex(trace)?;
        let parent: [u8; 8] = decode_hex(parent)?;
        let flags: [u8; 1] = decode_hex(flags)?;
        if trace_id == [0; 16] || parent == [0; 8] {
            return None;
        }
        Some(TraceContext {
            trace_id,
            parent,
            sampled: flags[0] & 1 == 1,
        })
    }
}

/// The header value naming `span` of `trace` as the parent, sampled.
pub(crate) fn traceparent(trace_id: &[u8; 16], span: &[u8; 8]) -> String {
    format!("00-{}-{}-01", hex(trace_id), hex(span))
}

fn is_lower_hex(text: &str) -> bool {
    text.bytes()
        .all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'))
}

fn decode_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    if text.len() != N * 2 || !is_lower_hex(text) {
        return None;
    }
    let mut out = [0u8; N];
    for (index, byte) in out.iter_mut().enumerate() {
        let pair = text.get(index * 2..index * 2 + 2)?;
        *byte = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(text, "{byte:02x}");
    }
    text
}

/// A fresh id: a random seed drawn once, then a counter through splitmix64 (a bijection,
/// so ids never repeat within a process), never zero.
fn next_id() -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let seed = *SEED.get_or_init(|| {
        let mut bytes = [0u8; 8];
        let _ = getrandom::fill(&mut bytes);
        u64::from_le_bytes(bytes)
    });
    let mut z = COUNTER
        .fetch_add(1, Ordering::Relaxed)
        .wrapping_add(seed)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    z.max(1)
}

pub(crate) fn new_span_id() -> [u8; 8] {
    next_id().to_be_bytes()
}

fn new_trace_id() -> [u8; 16] {
    let mut id = [0u8; 16];
    let (high, low) = id.split_at_mut(8);
    high.copy_from_slice(&next_id().to_be_bytes());
    low.copy_from_slice(&next_id().to_be_bytes());
    id
}

/// Nanoseconds since the Unix epoch.
pub(crate) fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
        })
}

/// One stage of a request: when it started and ended.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Stage {
    pub start: u64,
    pub end: u64,
}

impl Stage {
    pub(crate) fn begin() -> Stage {
        let start = now_nanos();
        Stage { start, end: start }
    }

    pub(crate) fn finish(mut self) -> Stage {
        self.end = now_nanos().max(self.start);
        self
    }
}

/// What the gate records of one request, turned into spans by the exporter thread.
#[derive(Debug)]
pub(crate) struct RequestTrace {
    pub trace_id: [u8; 16],
    /// The client's span, when its `traceparent` continued a trace.
    pub parent: Option<[u8; 8]>,
    pub root: [u8; 8],
    pub request: Stage,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub decision_id: Option<String>,
    pub authenticate: Option<(Stage, &'static str)>,
    pub decide: Option<(Stage, Decide)>,
    /// The forward span's id (sent upstream in `traceparent`), its time, and the
    /// upstream's status (`None` when it did not answer in time).
    pub forward: Option<([u8; 8], Stage, Option<u16>)>,
}

/// What the decision stage concluded.
#[derive(Debug, Default)]
pub(crate) struct Decide {
    /// Forwarded (every use allowed), or the status of the refusal.
    pub refused: Option<u16>,
    /// Names decided, in order (`kind action name`), with the deciding rule.
    pub decisions: Vec<(String, Option<String>)>,
}

impl Decide {
    /// What the decision stage of the gate concluded.
    pub(crate) fn of(
        prepared: &Result<
            (axum::body::Body, Vec<super::Decided>),
            Box<super::responses::GateResponse>,
        >,
    ) -> Decide {
        match prepared {
            Ok((_, decisions)) => Decide {
                refused: None,
                decisions: decisions
                    .iter()
                    .map(|decided| {
                        let name = format!(
                            "{} {} {}",
                            decided.kind.singular(),
                            decided.action.keyword(),
                            decided.name
                        );
                        (name, decided.rule.clone())
                    })
                    .collect(),
            },
            Err(response) => Decide {
                refused: Some(response.status().as_u16()),
                decisions: Vec::new(),
            },
        }
    }
}

/// The trace of one request, begun when it reaches the MCP path.
#[derive(Debug)]
pub(crate) struct Tracer {
    /// `None`: not recorded (the client's trace is not sampled).
    pub trace: Option<RequestTrace>,
    /// The client's `traceparent`, kept to forward unchanged when not recorded.
    pub incoming: Option<http::HeaderValue>,
}

impl Tracer {
    /// Begins the trace of a request with these headers.
    pub(crate) fn begin(headers: &http::HeaderMap, method: &str, path: &str) -> Tracer {
        let incoming = headers.get(TRACEPARENT).cloned();
        let context = incoming
            .as_ref()
            .and_then(|value| value.to_str().ok())
            .and_then(TraceContext::parse);
        let trace = match context {
            Some(context) if !context.sampled => None,
            Some(context) => Some(RequestTrace::new(context.trace_id, Some(context.parent))),
            None => Some(RequestTrace::new(new_trace_id(), None)),
        };
        let trace = trace.map(|mut trace| {
            trace.method = method.to_string();
            trace.path = path.to_string();
            trace
        });
        Tracer { trace, incoming }
    }

    /// The `traceparent` the upstream gets: the forward span as the parent when recorded,
    /// else the client's header as it came (its own trace, not sampled); the span id of
    /// the forward span, when recorded.
    pub(crate) fn upstream_header(&self) -> (Option<http::HeaderValue>, Option<[u8; 8]>) {
        match &self.trace {
            Some(trace) => {
                let span = new_span_id();
                let value = http::HeaderValue::from_str(&traceparent(&trace.trace_id, &span)).ok();
                (value, Some(span))
            }
            None => (self.incoming.clone(), None),
        }
    }
}

impl RequestTrace {
    fn new(trace_id: [u8; 16], parent: Option<[u8; 8]>) -> RequestTrace {
        RequestTrace {
            trace_id,
            parent,
            root: new_span_id(),
            request: Stage::begin(),
            method: String::new(),
            path: String::new(),
            status: 0,
            decision_id: None,
            authenticate: None,
            decide: None,
            forward: None,
        }
    }

    /// Writes the request's spans as OTLP JSON.
    fn write_spans(&self, items: &mut Items) {
        let trace_id = hex(&self.trace_id);
        let root = hex(&self.root);
        let name = format!("{} {}", self.method, self.path);
        let parent = self.parent.map(|parent| hex(&parent));
        let head = Head {
            trace_id: &trace_id,
            span_id: &root,
            parent: parent.as_deref(),
            name: &name,
            kind: SERVER,
            stage: self.request,
        };
        let out = head.open(items.next());
        let mut attributes = Attributes::start(out);
        attributes
            .text("http.request.method", &self.method)
            .text("url.path", &self.path)
            .int("http.response.status_code", u64::from(self.status));
        if let Some(id) = &self.decision_id {
            attributes.text("toolgate.decision_id", id);
        }
        attributes.finish();
        close(out, self.status >= 500);
        if let Some((stage, outcome)) = self.authenticate {
            let span_id = hex(&new_span_id());
            let head = Head {
                trace_id: &trace_id,
                span_id: &span_id,
                parent: Some(&root),
                name: "toolgate.authenticate",
                kind: INTERNAL,
                stage,
            };
            let out = head.open(items.next());
            Attributes::start(out)
                .text("toolgate.authentication", outcome)
                .finish();
            close(out, false);
        }
        if let Some((stage, decide)) = &self.decide {
            let span_id = hex(&new_span_id());
            let head = Head {
                trace_id: &trace_id,
                span_id: &span_id,
                parent: Some(&root),
                name: "toolgate.decide",
                kind: INTERNAL,
                stage: *stage,
            };
            let out = head.open(items.next());
            let mut attributes = Attributes::start(out);
            let outcome = if decide.refused.is_some() {
                "refused"
            } else {
                "forwarded"
            };
            attributes.text("toolgate.outcome", outcome);
            if let Some(status) = decide.refused {
                attributes.int("http.response.status_code", u64::from(status));
            }
            if !decide.decisions.is_empty() {
                attributes
                    .texts(
                        "toolgate.decisions",
                        decide.decisions.iter().map(|(name, _)| name.as_str()),
                    )
                    .texts(
                        "toolgate.rules",
                        decide
                            .decisions
                            .iter()
                            .map(|(_, rule)| rule.as_deref().unwrap_or("")),
                    );
            }
            attributes.finish();
            close(out, false);
        }
        if let Some((id, stage, status)) = self.forward {
            let span_id = hex(&id);
            let head = Head {
                trace_id: &trace_id,
                span_id: &span_id,
                parent: Some(&root),
                name: "toolgate.forward",
                kind: CLIENT,
                stage,
            };
            let out = head.open(items.next());
            let mut attributes = Attributes::start(out);
            match status {
                Some(status) => attributes.int("http.response.status_code", u64::from(status)),
                None => attributes.text("error.type", "timeout"),
            };
            attributes.finish();
            close(out, status.is_none_or(|status| status >= 500));
        }
    }
}

impl Signal for RequestTrace {
    const RESOURCE: &'static str = "resourceSpans";
    const SCOPE: &'static str = "scopeSpans";
    const ITEMS: &'static str = "spans";
    const SCOPE_NAME: &'static str = "toolgate";

    fn write(&self, items: &mut Items) {
        self.write_spans(items);
    }
}

const INTERNAL: u8 = 1;
const SERVER: u8 = 2;
const CLIENT: u8 = 3;

/// What every span starts with.
struct Head<'a> {
    trace_id: &'a str,
    span_id: &'a str,
    parent: Option<&'a str>,
    name: &'a str,
    kind: u8,
    stage: Stage,
}

impl Head<'_> {
    /// Opens the span's object and writes its fields up to its attributes.
    fn open(self, out: &mut String) -> &mut String {
        use std::fmt::Write as _;
        let _ = write!(
            out,
            "{{\"traceId\":\"{}\",\"spanId\":\"{}\",",
            self.trace_id, self.span_id
        );
        if let Some(parent) = self.parent {
            let _ = write!(out, "\"parentSpanId\":\"{parent}\",");
        }
        out.push_str("\"name\":");
        push_string(out, self.name);
        let _ = write!(
            out,
            ",\"kind\":{},\"startTimeUnixNano\":\"{}\",\"endTimeUnixNano\":\"{}\",",
            self.kind, self.stage.start, self.stage.end
        );
        out
    }
}

/// Closes a span after its attributes.
fn close(out: &mut String, error: bool) {
    out.push_str(if error {
        ",\"status\":{\"code\":2}}"
    } else {
        ",\"status\":{\"code\":0}}"
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_traceparent_is_read_as_the_w3c_specification_says() {
        let context =
            TraceContext::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
                .expect("valid");
        assert_eq!(hex(&context.trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(hex(&context.parent), "00f067aa0ba902b7");
        assert!(context.sampled);
        let unsampled =
            TraceContext::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
        assert!(!unsampled.expect("valid").sampled);
        // A later version may carry more fields.
        assert!(
            TraceContext::parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xyz")
                .is_some()
        );
        for malformed in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
            "0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e47é6-00f067aa0ba902b7-01",
        ] {
            assert_eq!(TraceContext::parse(malformed), None, "{malformed}");
        }
    }

    #[test]
    fn ids_are_distinct_and_never_zero() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..10_000 {
            let id = new_span_id();
            assert_ne!(id, [0; 8]);
            assert!(seen.insert(id));
        }
        let header = traceparent(&new_trace_id(), &new_span_id());
        assert!(TraceContext::parse(&header).expect("valid").sampled);
    }

    #[test]
    fn a_request_becomes_a_server_span_with_a_child_per_stage() {
        let mut trace = RequestTrace::new([7; 16], Some([9; 8]));
        trace.method = "POST".into();
        trace.path = "/mcp".into();
        trace.status = 200;
        trace.authenticate = Some((Stage::begin().finish(), "ok"));
        trace.decide = Some((
            Stage::begin().finish(),
            Decide {
                refused: None,
                decisions: vec![("tool call fs.read".into(), Some("p.policy:3".into()))],
            },
        ));
        trace.forward = Some(([5; 8], Stage::begin().finish(), Some(200)));
        let mut items = Items::default();
        trace.write(&mut items);
        let spans: Vec<serde_json::Value> =
            serde_json::from_str(&format!("[{}]", items.text())).expect("valid JSON");
        let names: Vec<&str> = spans.iter().filter_map(|s| s["name"].as_str()).collect();
        assert_eq!(
            names,
            [
                "POST /mcp",
                "toolgate.authenticate",
                "toolgate.decide",
                "toolgate.forward"
            ]
        );
        assert_eq!(spans[0]["parentSpanId"], "0909090909090909");
        for child in &spans[1..] {
            assert_eq!(child["parentSpanId"], spans[0]["spanId"]);
            assert_eq!(child["traceId"], "07070707070707070707070707070707");
        }
        assert_eq!(spans[3]["spanId"], "0505050505050505");
        assert_eq!(spans[3]["kind"], 3);
    }
}
