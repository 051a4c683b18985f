//! Decision logs as OpenTelemetry log records, exported over OTLP/HTTP
//! (`[audit] otlp_endpoint`): one log record per audit record, its body the same JSON line
//! as a file's, the fields a collector filters on as attributes.

use std::time::Duration;

use super::audit::{AuditRecord, AuditSink};
use super::otlp::{push_string, Attributes, Exporter, Items, OtlpConfig, OtlpError, Signal};
use super::traces::now_nanos;

/// An [`AuditSink`] exporting records as OTLP log records, in batches, from a thread of
/// its own behind a bounded queue: a record never waits; one that finds the queue full
/// is dropped, and counted in [`AuditSink::lost`] with the records of failed exports.
#[derive(Debug, Clone)]
pub struct OtlpAudit {
    exporter: Exporter<AuditRecord>,
}

impl OtlpAudit {
    /// Starts the exporter thread. The endpoint (`.../v1/logs`) must be an `http` or
    /// `https` URL.
    pub fn start(config: OtlpConfig) -> Result<OtlpAudit, OtlpError> {
        Ok(OtlpAudit {
            exporter: Exporter::start(config, "toolgate-audit-otlp")?,
        })
    }

    /// Exports everything queued, waiting at most `bound` (blocking the thread);
    /// whether it finished.
    pub fn flush(&self, bound: Duration) -> bool {
        self.exporter.flush(bound)
    }

    /// Log records the endpoint accepted.
    pub fn exported(&self) -> u64 {
        self.exporter.exported()
    }
}

impl AuditSink for OtlpAudit {
    fn record(&self, record: AuditRecord) {
        self.exporter.send(record);
    }

    fn lost(&self) -> u64 {
        self.exporter.dropped() + self.exporter.failed_records()
    }
}

impl Signal for AuditRecord {
    const RESOURCE: &'static str = "resourceLogs";
    const SCOPE: &'static str = "scopeLogs";
    const ITEMS: &'static str = "logRecords";
    const SCOPE_NAME: &'static str = "toolgate.audit";

    fn write(&self, items: &mut Items) {
        use std::fmt::Write as _;
        let time = u64::try_from(self.time.as_nanosecond()).unwrap_or(0);
        let out = items.next();
        let _ = write!(
            out,
            "{{\"timeUnixNano\":\"{time}\",\"observedTimeUnixNano\":\"{}\",\
             \"severityNumber\":9,\"severityText\":\"INFO\",\
             \"eventName\":\"toolgate.decision\",\"body\":{{\"stringValue\":",
            now_nanos()
        );
        push_string(out, &self.to_line());
        out.push_str("},");
        let mut attributes = Attributes::start(out);
        attributes
            .text("toolgate.decision_id", &self.decision_id)
            .text("toolgate.decision", self.decision)
            .text("toolgate.reason", self.reason)
            .text("toolgate.kind", self.kind)
            .text("toolgate.action", self.action)
            .text("toolgate.name", &self.name)
            .text("toolgate.method", &self.method)
            .text("toolgate.policy", &self.policy);
        if let Some(rule) = &self.rule {
            attributes.text("toolgate.rule", rule);
        }
        if let Some(subject) = &self.subject {
            attributes.text("enduser.id", subject);
        }
        if let Some(client) = &self.client {
            attributes.text("toolgate.client", client);
        }
        if let Some(ip) = &self.client_ip {
            attributes.text("client.address", &ip.to_string());
        }
        if !self.roles.is_empty() {
            attributes.texts("toolgate.roles", self.roles.iter().map(String::as_str));
        }
        attributes.finish();
        out.push('}');
    }
}
