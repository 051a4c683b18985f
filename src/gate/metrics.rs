//! Prometheus metrics of the gate (docs/serve.md, "Metrics").
//!
//! [`Metrics`] holds a registry of low-cardinality series: decisions by kind, action,
//! decision and reason (tool names only when [`MetricsConfig::names`] is on),
//! authentication failures by reason, responses by status, latency histograms of the
//! authentication, the decisions and the upstream, policy reloads and the digest in
//! force, key fetches, the principal cache, open connections and streams, and audit
//! records lost. Counting on the request path is an atomic increment on a counter made
//! in advance; what other parts already count (the policy handle, the authenticator,
//! the audit sink) is read when the metrics are rendered.
//!
//! ```no_run
//! use toolgate::credentials::Authenticator;
//! use toolgate::gate::{GateConfig, GateLayer, Metrics, MetricsConfig, PolicyHandle};
//!
//! # fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let metrics = Metrics::new(MetricsConfig::default());
//! let policy = PolicyHandle::load("policies/example.policy", Default::default())?;
//! let gate = GateLayer::new(GateConfig::new("http://127.0.0.1:8080/mcp")?, policy, Authenticator::new())
//!     .with_metrics(metrics.clone());
//! // Serve `metrics.render()` with `Metrics::CONTENT_TYPE` on a port of its own.
//! # Ok(()) }
//! ```

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};

use super::audit::AuditSink;
use super::caller::{use_index, USES};
use super::policy::PolicyHandle;
use super::shadow::Shadow;
use crate::ast::{Action, Kind};
use crate::credentials::{AuthError, Authenticator};
use crate::eval::Reason;

/// What the metrics count beyond the defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MetricsConfig {
    /// Also count decisions per tool, resource or prompt name
    /// (`toolgate_decisions_by_name_total`): one series per name the gate decides, so only
    /// for servers with a bounded set of names.
    pub names: bool,
}

/// The gate's metrics; clones share them.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    kind: &'static str,
    action: &'static str,
    decision: &'static str,
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NamedDecisionLabels {
    kind: &'static str,
    action: &'static str,
    decision: &'static str,
    name: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    code: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabels {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ShadowLabels {
    kind: &'static str,
    action: &'static str,
    enforced: &'static str,
    shadow: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DigestLabels {
    digest: String,
}

/// The parts whose own counters are read at rendering.
#[derive(Default)]
struct Sources {
    policy: Option<PolicyHandle>,
    authenticator: Option<Authenticator>,
    audit: Option<Arc<dyn AuditSink>>,
    shadow: Option<Shadow>,
}

/// The reasons, in counter order.
const REASONS: [Reason; 4] = [
    Reason::Allowed,
    Reason::Denied,
    Reason::InsufficientScope,
    Reason::NoRule,
];

struct Inner {
    config: MetricsConfig,
    registry: Mutex<Registry>,
    /// One counter per use and reason, in the order of `USES` x `REASONS`.
    decisions: Vec<Counter>,
    decisions_by_name: Option<Family<NamedDecisionLabels, Counter>>,
    authentication_failures: Family<ReasonLabels, Counter>,
    responses: Family<StatusLabels, Counter>,
    authentication_seconds: Histogram,
    decision_seconds: Histogram,
    upstream_seconds: Histogram,
    policy_reloads: Family<ResultLabels, Counter>,
    policy: Family<DigestLabels, Gauge>,
    key_fetches: Family<ResultLabels, Counter>,
    cache_hits: Counter,
    cache_misses: Counter,
    cache_entries: Gauge,
    connections: Gauge,
    streams: Gauge,
    audit_lost: Counter,
    /// One counter per use, enforced and shadow outcome (`Counts`' order), registered
    /// once a shadow policy is attached.
    shadow_decisions: Vec<Counter>,
    shadow_family: Family<ShadowLabels, Counter>,
    shadow_policy: Family<DigestLabels, Gauge>,
    sources: Mutex<Sources>,
}

/// Latency buckets: 1 µs to about 4 s, each four times the last.
fn latency() -> Histogram {
    Histogram::new(exponential_buckets(1e-6, 4.0, 12))
}

impl Metrics {
    /// The content type of [`Metrics::render`]'s text (OpenMetrics 1.0).
    pub const CONTENT_TYPE: &'static str =
        "application/openmetrics-text; version=1.0.0; charset=utf-8";

    /// New metrics, all zero.
    pub fn new(config: MetricsConfig) -> Metrics {
        let mut registry = Registry::with_prefix("toolgate");
        let decision_family = Family::<DecisionLabels, Counter>::default();
        let mut decisions = Vec::with_capacity(USES.len() * REASONS.len());
        for (kind, action) in USES {
            for reason in REASONS {
                let labels = DecisionLabels {
                    kind: kind.singular(),
                    action: action.keyword(),
                    decision: decision_word(reason),
                    reason: reason.as_str(),
                };
                decisions.push(decision_family.get_or_create(&labels).clone());
            }
        }
        registry.register(
            "decisions",
            "Decisions taken, by kind, action, decision and reason",
            decision_family,
        );
        let decisions_by_name = config.names.then(|| {
            let family = Family::<NamedDecisionLabels, Counter>::default();
            registry.register(
                "decisions_by_name",
                "Decisions taken, by kind, action, decision and name",
                family.clone(),
            );
            family
        });
        let authentication_failures = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "authentication_failures",
            "Requests refused with 401, by reason (`missing` or the credential error's code)",
            authentication_failures.clone(),
        );
        let responses = Family::<StatusLabels, Counter>::default();
        registry.register(
            "responses",
            "Responses on the MCP endpoint, by HTTP status",
            responses.clone(),
        );
        let authentication_seconds = latency();
        registry.register_with_unit(
            "authentication",
            "Time to authenticate a request (cached or verified)",
            Unit::Seconds,
            authentication_seconds.clone(),
        );
        let decision_seconds = latency();
        registry.register_with_unit(
            "decision",
            "Time to read, check and decide a request body",
            Unit::Seconds,
            decision_seconds.clone(),
        );
        let upstream_seconds = latency();
        registry.register_with_unit(
            "upstream",
            "Time from forwarding a request to the upstream's response head",
            Unit::Seconds,
            upstream_seconds.clone(),
        );
        let policy_reloads = Family::<ResultLabels, Counter>::default();
        registry.register(
            "policy_reloads",
            "Policy reloads that put another policy in force (`replaced`) or failed",
            policy_reloads.clone(),
        );
        let policy = Family::<DigestLabels, Gauge>::default();
        registry.register(
            "policy",
            "The policy in force: 1 for its digest (SHA-256 of its text)",
            policy.clone(),
        );
        let key_fetches = Family::<ResultLabels, Counter>::default();
        registry.register(
            "key_fetches",
            "Signing-key (JWKS) fetches, by result",
            key_fetches.clone(),
        );
        let cache_hits = Counter::default();
        registry.register(
            "principal_cache_hits",
            "Requests whose credential was found in the principal cache",
            cache_hits.clone(),
        );
        let cache_misses = Counter::default();
        registry.register(
            "principal_cache_misses",
            "Requests whose credential was verified (not in the principal cache)",
            cache_misses.clone(),
        );
        let cache_entries = Gauge::default();
        registry.register(
            "principal_cache_entries",
            "Credentials in the principal cache",
            cache_entries.clone(),
        );
        let connections = Gauge::default();
        registry.register(
            "open_connections",
            "Client connections open now",
            connections.clone(),
        );
        let streams = Gauge::default();
        registry.register(
            "open_streams",
            "Server-sent event streams being passed to clients now",
            streams.clone(),
        );
        let audit_lost = Counter::default();
        registry.register(
            "audit_records_lost",
            "Audit records dropped on a full queue or not written",
            audit_lost.clone(),
        );
        let shadow_family = Family::<ShadowLabels, Counter>::default();
        let mut shadow_decisions = Vec::with_capacity(USES.len() * 4);
        for (kind, action) in USES {
            for enforced in [false, true] {
                for shadow in [false, true] {
                    let labels = ShadowLabels {
                        kind: kind.singular(),
                        action: action.keyword(),
                        enforced: allow_word(enforced),
                        shadow: allow_word(shadow),
                    };
                    shadow_decisions.push(shadow_family.get_or_create(&labels).clone());
                }
            }
        }
        let shadow_policy = Family::<DigestLabels, Gauge>::default();
        Metrics {
            inner: Arc::new(Inner {
                config,
                registry: Mutex::new(registry),
                decisions,
                decisions_by_name,
                authentication_failures,
                responses,
                authentication_seconds,
                decision_seconds,
                upstream_seconds,
                policy_reloads,
                policy,
                key_fetches,
                cache_hits,
                cache_misses,
                cache_entries,
                connections,
                streams,
                audit_lost,
                shadow_decisions,
                shadow_policy,
                shadow_family,
                sources: Mutex::new(Sources::default()),
            }),
        }
    }

    /// The metrics as OpenMetrics text ([`Metrics::CONTENT_TYPE`]), with the counts of
    /// the attached policy handle, authenticator and audit sink read now.
    pub fn render(&self) -> String {
        self.read_sources();
        let mut text = String::new();
        let registry = self
            .inner
            .registry
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if prometheus_client::encoding::text::encode(&mut text, &registry).is_err() {
            // Writing to a String does not fail; were it to, render nothing partial.
            return "# EOF\n".to_string();
        }
        text
    }

    /// Reads the counts the policy handle, the authenticator and the audit sink keep.
    fn read_sources(&self) {
        let inner = &self.inner;
        let sources = inner.sources.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(policy) = &sources.policy {
            set(&inner.policy_reloads, "replaced", policy.generation());
            set(&inner.policy_reloads, "failed", policy.failed_reloads());
            let digest = policy.current().digest().to_string();
            inner.policy.clear();
            inner.policy.get_or_create(&DigestLabels { digest }).set(1);
        }
        if let Some(authenticator) = &sources.authenticator {
            let statistics = authenticator.statistics();
            let fetches = statistics.key_fetches;
            let succeeded = fetches.started.saturating_sub(fetches.failed);
            set(&inner.key_fetches, "succeeded", succeeded);
            set(&inner.key_fetches, "failed", fetches.failed);
            store(&inner.cache_hits, statistics.cache_hits);
            store(&inner.cache_misses, statistics.cache_misses);
            inner
                .cache_entries
                .set(i64::try_from(statistics.cached).unwrap_or(i64::MAX));
        }
        if let Some(audit) = &sources.audit {
            store(&inner.audit_lost, audit.lost());
        }
        if let Some(shadow) = &sources.shadow {
            let mut counters = inner.shadow_decisions.iter();
            for (kind, action) in USES {
                for enforced in [false, true] {
                    for allowed in [false, true] {
                        if let Some(counter) = counters.next() {
                            store(counter, shadow.counts.get(kind, action, enforced, allowed));
                        }
                    }
                }
            }
            let digest = shadow.policy.current().digest().to_string();
            inner.shadow_policy.clear();
            inner
                .shadow_policy
                .get_or_create(&DigestLabels { digest })
                .set(1);
        }
    }

    /// Reads the comparisons and the digest of a shadow policy at every rendering (its
    /// series appear from then on).
    pub(crate) fn attach_shadow(&self, shadow: &Shadow) {
        let mut sources = self.sources();
        if sources.shadow.is_none() {
            let mut registry = self
                .inner
                .registry
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            registry.register(
                "shadow_decisions",
                "Decisions taken with the shadow policy too, by the enforced and the shadow outcome",
                self.inner.shadow_family.clone(),
            );
            registry.register(
                "shadow_policy",
                "The shadow policy in force: 1 for its digest",
                self.inner.shadow_policy.clone(),
            );
        }
        sources.shadow = Some(shadow.clone());
    }

    /// Reads the reload counts and the digest of `policy` at every rendering.
    pub(crate) fn attach_policy(&self, policy: &PolicyHandle) {
        self.sources().policy = Some(policy.clone());
    }

    /// Reads the cache and key-fetch counts of `authenticator` at every rendering.
    pub(crate) fn attach_authenticator(&self, authenticator: &Authenticator) {
        self.sources().authenticator = Some(authenticator.clone());
    }

    /// Reads the records `audit` lost at every rendering.
    pub(crate) fn attach_audit(&self, audit: &Arc<dyn AuditSink>) {
        self.sources().audit = Some(Arc::clone(audit));
    }

    fn sources(&self) -> std::sync::MutexGuard<'_, Sources> {
        self.inner
            .sources
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts one decision.
    pub(crate) fn decision(&self, kind: Kind, action: Action, reason: Reason, name: &str) {
        let use_index = use_index(kind, action);
        let reason_index = REASONS
            .iter()
            .position(|known| *known == reason)
            .unwrap_or(0);
        if let Some(counter) = self
            .inner
            .decisions
            .get(use_index * REASONS.len() + reason_index)
        {
            counter.inc();
        }
        if let Some(family) = &self.inner.decisions_by_name {
            family
                .get_or_create(&NamedDecisionLabels {
                    kind: kind.singular(),
                    action: action.keyword(),
                    decision: decision_word(reason),
                    name: name.to_string(),
                })
                .inc();
        }
    }

    /// Counts a request refused with `401`.
    pub(crate) fn authentication_failure(&self, error: &AuthError) {
        let reason = match error {
            AuthError::Missing => "missing",
            AuthError::Invalid(error) => error.code(),
        };
        self.inner
            .authentication_failures
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }

    /// Counts a response on the MCP endpoint.
    pub(crate) fn response(&self, status: http::StatusCode) {
        self.inner
            .responses
            .get_or_create(&StatusLabels {
                code: status.as_u16(),
            })
            .inc();
    }

    /// Records the time an authentication took.
    pub(crate) fn authentication_time(&self, elapsed: Duration) {
        self.inner
            .authentication_seconds
            .observe(elapsed.as_secs_f64());
    }

    /// Records the time reading, checking and deciding a body took.
    pub(crate) fn decision_time(&self, elapsed: Duration) {
        self.inner.decision_seconds.observe(elapsed.as_secs_f64());
    }

    /// Records the time the upstream took to answer with its head.
    pub(crate) fn upstream_time(&self, elapsed: Duration) {
        self.inner.upstream_seconds.observe(elapsed.as_secs_f64());
    }

    /// An open client connection, counted until the guard is dropped.
    pub fn connection(&self) -> Open {
        Open::new(&self.inner.connections)
    }

    /// An open event stream, counted until the guard is dropped.
    pub(crate) fn stream(&self) -> Open {
        Open::new(&self.inner.streams)
    }
}

/// Something open (a connection, a stream), counted in a gauge until dropped.
#[derive(Debug)]
pub struct Open {
    gauge: Gauge,
}

impl Open {
    fn new(gauge: &Gauge) -> Open {
        gauge.inc();
        Open {
            gauge: gauge.clone(),
        }
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.gauge.dec();
    }
}

fn allow_word(allowed: bool) -> &'static str {
    if allowed {
        "allow"
    } else {
        "deny"
    }
}

fn decision_word(reason: Reason) -> &'static str {
    if reason == Reason::Allowed {
        "allow"
    } else {
        "deny"
    }
}

fn set(family: &Family<ResultLabels, Counter>, result: &'static str, value: u64) {
    store(&family.get_or_create(&ResultLabels { result }), value);
}

/// Sets a counter to a total another part keeps.
fn store(counter: &Counter, value: u64) {
    counter.inner().store(value, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_use_and_reason_has_its_own_counter() {
        let metrics = Metrics::new(MetricsConfig::default());
        metrics.decision(Kind::Prompt, Action::Get, Reason::InsufficientScope, "p");
        metrics.decision(Kind::Tool, Action::List, Reason::Allowed, "t");
        metrics.decision(Kind::Tool, Action::List, Reason::Allowed, "u");
        let text = metrics.render();
        assert!(text.contains(
            "toolgate_decisions_total{kind=\"prompt\",action=\"get\",decision=\"deny\",reason=\"insufficient_scope\"} 1\n"
        ), "{text}");
        assert!(text.contains(
            "toolgate_decisions_total{kind=\"tool\",action=\"list\",decision=\"allow\",reason=\"allowed\"} 2\n"
        ), "{text}");
        assert!(text.contains(
            "toolgate_decisions_total{kind=\"tool\",action=\"call\",decision=\"allow\",reason=\"allowed\"} 0\n"
        ), "{text}");
        assert!(!text.contains("decisions_by_name"), "names are off: {text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
    }

    #[test]
    fn names_are_counted_only_when_configured() {
        let metrics = Metrics::new(MetricsConfig { names: true });
        metrics.decision(Kind::Tool, Action::Call, Reason::Denied, "db.drop");
        let text = metrics.render();
        assert!(text.contains(
            "toolgate_decisions_by_name_total{kind=\"tool\",action=\"call\",decision=\"deny\",name=\"db.drop\"} 1\n"
        ), "{text}");
    }

    #[test]
    fn open_things_are_counted_until_dropped() {
        let metrics = Metrics::new(MetricsConfig::default());
        let first = metrics.connection();
        let second = metrics.connection();
        let stream = metrics.stream();
        assert!(metrics.render().contains("toolgate_open_connections 2\n"));
        drop(first);
        drop(stream);
        let text = metrics.render();
        assert!(text.contains("toolgate_open_connections 1\n"), "{text}");
        assert!(text.contains("toolgate_open_streams 0\n"), "{text}");
        drop(second);
    }
}
