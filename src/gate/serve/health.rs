//! The health endpoints of `toolgate serve`, answered before the gate: never
//! authenticated, never forwarded, `GET` and `HEAD` only (docs/serve.md, "Health").
//!
//! - liveness (`/healthz`): `200` whenever the process serves;
//! - readiness (`/readyz`): `200` when the upstream accepts a connection and, with JWT
//!   validation configured, the signing keys are held; otherwise `503` with the names of
//!   the checks that failed. A policy is always in force once the gate serves (one that
//!   does not load stops start-up; a reload that fails keeps the previous one).
//!
//! Bodies are small JSON objects that name checks only: never an address, a key id or a
//! secret.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use http::header::{HeaderValue, ALLOW, CACHE_CONTROL, CONTENT_TYPE};
use http::{Method, Request, Response, StatusCode, Uri};
use serde_json::{json, Value};

use super::config::HealthPaths;

/// How long the readiness check waits for the upstream to accept a connection.
pub const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(1);

/// How long one upstream check answers for: probes within it share its outcome, so a
/// storm of probes opens at most one connection to the upstream per interval.
pub const UPSTREAM_CACHE: Duration = Duration::from_secs(1);

/// The health endpoints, shared by every connection.
#[derive(Clone)]
pub(super) struct Health {
    inner: Arc<Inner>,
}

struct Inner {
    paths: HealthPaths,
    upstream: UpstreamCheck,
    /// Whether the signing keys are held; `None` without JWT validation.
    keys: Option<Arc<AtomicBool>>,
}

impl Health {
    /// The endpoints at `paths`, checking `upstream` and, when JWT validation is
    /// configured, `keys`.
    pub(super) fn new(paths: HealthPaths, upstream: &Uri, keys: Option<Arc<AtomicBool>>) -> Health {
        Health {
            inner: Arc::new(Inner {
                paths,
                upstream: UpstreamCheck::new(upstream),
                keys,
            }),
        }
    }

    /// What `request` asks of the health endpoints; `None` for every other path.
    pub(super) fn probe<B>(&self, request: &Request<B>) -> Option<Probe> {
        let path = request.uri().path();
        let ready = if path == self.inner.paths.live {
            false
        } else if path == self.inner.paths.ready {
            true
        } else {
            return None;
        };
        let method = request.method();
        Some(if method == Method::GET || method == Method::HEAD {
            Probe::Asked {
                ready,
                head: method == Method::HEAD,
            }
        } else {
            Probe::OtherMethod
        })
    }

    /// The answer to a probe.
    pub(super) async fn answer(&self, probe: Probe) -> Response<Body> {
        let (ready, head) = match probe {
            Probe::Asked { ready, head } => (ready, head),
            Probe::OtherMethod => {
                let body = json!({"status": "method not allowed"});
                let mut response = reply(StatusCode::METHOD_NOT_ALLOWED, &body, false);
                response
                    .headers_mut()
                    .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
                return response;
            }
        };
        if !ready {
            return reply(StatusCode::OK, &json!({"status": "live"}), head);
        }
        let failed = self.failed().await;
        if failed.is_empty() {
            reply(StatusCode::OK, &json!({"status": "ready"}), head)
        } else {
            let body = json!({"status": "not ready", "failed": failed});
            reply(StatusCode::SERVICE_UNAVAILABLE, &body, head)
        }
    }

    /// The readiness checks that fail now, by name.
    async fn failed(&self) -> Vec<&'static str> {
        let mut failed = Vec::new();
        if !self.inner.upstream.answers().await {
            failed.push("upstream");
        }
        if let Some(keys) = &self.inner.keys {
            if !keys.load(Ordering::Acquire) {
                failed.push("keys");
            }
        }
        failed
    }
}

/// A request for a health endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Probe {
    /// `GET` or `HEAD` of the liveness (`ready: false`) or readiness endpoint.
    Asked {
        /// Readiness rather than liveness.
        ready: bool,
        /// `HEAD`: the status without a body.
        head: bool,
    },
    /// Any other method: `405`.
    OtherMethod,
}

/// A JSON response that no cache keeps; without a body for `HEAD`.
fn reply(status: StatusCode, body: &Value, head: bool) -> Response<Body> {
    let body = if head {
        Body::empty()
    } else {
        Body::from(body.to_string())
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Whether the upstream accepts a TCP connection, checked at most once per
/// [`UPSTREAM_CACHE`] and within [`UPSTREAM_TIMEOUT`].
struct UpstreamCheck {
    /// The host (without IPv6 brackets) and port, when the URI names them.
    target: Option<(String, u16)>,
    /// When the last check ran and what it found; held during a check, so concurrent
    /// probes wait for it and share its outcome.
    last: tokio::sync::Mutex<Option<(Instant, bool)>>,
}

impl UpstreamCheck {
    fn new(upstream: &Uri) -> UpstreamCheck {
        let target = upstream.host().map(|host| {
            let host = host.trim_start_matches('[').trim_end_matches(']');
            (host.to_string(), upstream.port_u16().unwrap_or(80))
        });
        UpstreamCheck {
            target,
            last: tokio::sync::Mutex::new(None),
        }
    }

    async fn answers(&self) -> bool {
        let mut last = self.last.lock().await;
        if let Some((at, answered)) = *last {
            if at.elapsed() < UPSTREAM_CACHE {
                return answered;
            }
        }
        let answered = match &self.target {
            Some((host, port)) => matches!(
                tokio::time::timeout(
                    UPSTREAM_TIMEOUT,
                    tokio::net::TcpStream::connect((host.as_str(), *port))
                )
                .await,
                Ok(Ok(_))
            ),
            None => false,
        };
        if !answered {
            tracing::debug!("readiness: the upstream does not accept connections");
        }
        *last = Some((Instant::now(), answered));
        answered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_hosts_lose_their_brackets() {
        let uri: Uri = "http://[::1]:9000/mcp".parse().unwrap();
        let check = UpstreamCheck::new(&uri);
        assert_eq!(check.target, Some(("::1".to_string(), 9000)));
        let uri: Uri = "http://upstream.internal/mcp".parse().unwrap();
        let check = UpstreamCheck::new(&uri);
        assert_eq!(check.target, Some(("upstream.internal".to_string(), 80)));
    }
}
