//! The tower layer: [`GateLayer`] wraps a service (an axum router, rmcp's
//! `StreamableHttpService`, a proxy) in a [`GateService`].

use std::net::IpAddr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::{Method, Request, Response, StatusCode};
use jiff::Timestamp;
use tower::{Layer, Service};

use super::audit::AuditSink;
use super::caller::{Caller, Decided};
use super::config::GateConfig;
use super::decision_id::{DecisionId, DECISION_ID_HEADER};
use super::inspect::{self, Inspected};
use super::jsonrpc;
use super::metrics::Metrics;
use super::policy::{ActivePolicy, PolicyHandle};
use super::responses::{self, GateResponse};
use super::session::{self, Sessions};
use super::shadow::{Shadow, ShadowCaller, ShadowReport};
use super::traces::{Decide, RequestTrace, Stage, Tracer, Traces, TRACEPARENT};
use super::{client_ip, headers, shape};
use crate::credentials::{AuthError, Authenticator};

/// What the gate established about a request, in its extensions for the handler.
///
/// The handler also finds the `Arc<Principal>` and the `Arc<ActivePolicy>` the request was
/// decided with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The caller's `sub`, if known.
    pub subject: Option<String>,
    /// The OAuth client, if known.
    pub client: Option<String>,
    /// The caller's effective roles.
    pub roles: Vec<String>,
    /// The caller's effective scopes, as the policy knows them.
    pub scopes: Vec<String>,
    /// The client's address, if known.
    pub client_ip: Option<IpAddr>,
    /// The policy version (digest) the request was decided with.
    pub policy: String,
    /// The uses decided for this request (all allowed, or it would not have arrived).
    pub decisions: Vec<Decided>,
}

/// A tower layer putting the gate in front of a service.
#[derive(Clone)]
pub struct GateLayer {
    gate: Arc<Gate>,
}

/// The gate around one service.
#[derive(Clone)]
pub struct GateService<S> {
    inner: S,
    gate: Arc<Gate>,
}

/// A body for the service and the decisions taken.
type Prepared = (Body, Vec<Decided>);

#[derive(Clone)]
pub(crate) struct Gate {
    config: GateConfig,
    metadata_url: String,
    metadata_paths: [String; 2],
    policy: PolicyHandle,
    authenticator: Authenticator,
    audit: Option<Arc<dyn AuditSink>>,
    metrics: Option<Metrics>,
    shadow: Option<Shadow>,
    traces: Option<Traces>,
    sessions: Arc<Sessions>,
}

impl GateLayer {
    /// A gate deciding with `policy`, authenticating with `authenticator`.
    pub fn new(
        config: GateConfig,
        policy: PolicyHandle,
        authenticator: Authenticator,
    ) -> GateLayer {
        let sessions = Sessions::new(
            config
                .session_secret
                .as_ref()
                .map(super::config::SessionSecret::bytes),
        );
        GateLayer {
            gate: Arc::new(Gate {
                metadata_url: config.metadata_url(),
                metadata_paths: config.metadata_paths(),
                config,
                policy,
                authenticator,
                audit: None,
                metrics: None,
                shadow: None,
                traces: None,
                sessions: Arc::new(sessions),
            }),
        }
    }

    /// The same gate sending every decision to `sink`.
    pub fn with_audit(self, sink: Arc<dyn AuditSink>) -> GateLayer {
        let mut gate = Gate::clone(&self.gate);
        if let Some(metrics) = &gate.metrics {
            metrics.attach_audit(&sink);
        }
        gate.audit = Some(sink);
        GateLayer {
            gate: Arc::new(gate),
        }
    }

    /// The same gate counting its requests and decisions in `metrics`, which also read
    /// the policy handle's reloads, the authenticator's cache and key fetches and the
    /// audit sink's losses when rendered.
    pub fn with_metrics(self, metrics: Metrics) -> GateLayer {
        let mut gate = Gate::clone(&self.gate);
        metrics.attach_policy(&gate.policy);
        metrics.attach_authenticator(&gate.authenticator);
        if let Some(audit) = &gate.audit {
            metrics.attach_audit(audit);
        }
        if let Some(shadow) = &gate.shadow {
            metrics.attach_shadow(shadow);
        }
        gate.metrics = Some(metrics);
        GateLayer {
            gate: Arc::new(gate),
        }
    }

    /// The same gate also deciding every request with `shadow`, a policy that is never
    /// enforced: each decision on which the two disagree (one allows, the other denies)
    /// is logged (`tracing` target `toolgate::shadow`, a JSON line with both decisions
    /// and rules) and counted ([`GateLayer::shadow_report`], and in the metrics).
    pub fn with_shadow(self, shadow: PolicyHandle) -> GateLayer {
        let mut gate = Gate::clone(&self.gate);
        let shadow = Shadow::new(shadow);
        if let Some(metrics) = &gate.metrics {
            metrics.attach_shadow(&shadow);
        }
        gate.shadow = Some(shadow);
        GateLayer {
            gate: Arc::new(gate),
        }
    }

    /// The same gate recording each request on the MCP path as an OpenTelemetry trace
    /// (a server span with a child per stage), continuing the client's W3C
    /// `traceparent` and sending the upstream its own ([`super::traces`]).
    pub fn with_traces(self, traces: Traces) -> GateLayer {
        let mut gate = Gate::clone(&self.gate);
        gate.traces = Some(traces);
        GateLayer {
            gate: Arc::new(gate),
        }
    }

    /// What the shadow policy's comparisons found so far; `None` without one.
    pub fn shadow_report(&self) -> Option<ShadowReport> {
        self.gate
            .shadow
            .as_ref()
            .map(|shadow| shadow.counts.report())
    }

    /// The policy handle (to reload it).
    pub fn policy(&self) -> &PolicyHandle {
        &self.gate.policy
    }
}

impl<S> Layer<S> for GateLayer {
    type Service = GateService<S>;

    fn layer(&self, inner: S) -> GateService<S> {
        GateService {
            inner,
            gate: Arc::clone(&self.gate),
        }
    }
}

impl<S, B, ResponseBody> Service<Request<B>> for GateService<S>
where
    S: Service<Request<Body>, Response = Response<ResponseBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
    ResponseBody: http_body::Body<Data = Bytes> + Send + 'static,
    ResponseBody::Error: Into<axum::BoxError>,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response<Body>, S::Error>>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let ready = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, ready);
        let gate = Arc::clone(&self.gate);
        Box::pin(async move { gate.handle(inner, request).await })
    }
}

impl Gate {
    /// [`Gate::respond`], counting the response's status in the metrics.
    async fn handle<S, B, ResponseBody>(
        &self,
        inner: S,
        request: Request<B>,
    ) -> Result<Response<Body>, S::Error>
    where
        S: Service<Request<Body>, Response = Response<ResponseBody>>,
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<axum::BoxError>,
        ResponseBody: http_body::Body<Data = Bytes> + Send + 'static,
        ResponseBody::Error: Into<axum::BoxError>,
    {
        let mut tracer = None;
        let response = self.respond(inner, request, &mut tracer).await;
        if let (Some(metrics), Ok(response)) = (&self.metrics, &response) {
            metrics.response(response.status());
        }
        if let (
            Some(traces),
            Some(Tracer {
                trace: Some(mut trace),
                ..
            }),
        ) = (&self.traces, tracer)
        {
            // An error from the service is answered 500 by the server around it.
            trace.status = response
                .as_ref()
                .map_or(500, |response| response.status().as_u16());
            trace.request = trace.request.finish();
            traces.record(trace);
        }
        response
    }

    async fn respond<S, B, ResponseBody>(
        &self,
        mut inner: S,
        request: Request<B>,
        tracer: &mut Option<Tracer>,
    ) -> Result<Response<Body>, S::Error>
    where
        S: Service<Request<Body>, Response = Response<ResponseBody>>,
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<axum::BoxError>,
        ResponseBody: http_body::Body<Data = Bytes> + Send + 'static,
        ResponseBody::Error: Into<axum::BoxError>,
    {
        let (mut head, body) = request.into_parts();
        // Headers that describe the connection, and forged principal headers, go before
        // anything is read.
        headers::strip_hop_by_hop(&mut head.headers);
        headers::strip_principal(&mut head.headers);
        let policy = self.policy.current();
        let path = request_path(&head).to_string();
        if header_bytes(&head.headers) > self.config.limits.max_header_bytes {
            return Ok(responses::headers_too_large(
                self.config.limits.max_header_bytes,
            ));
        }
        if let Some(response) = self.metadata(&head.method, &path, &policy) {
            return Ok(response);
        }
        if path != self.config.mcp_path {
            return Ok(not_found(&self.config.mcp_path));
        }
        if self.traces.is_some() {
            *tracer = Some(Tracer::begin(&head.headers, head.method.as_str(), &path));
        }
        let stage = Stage::begin();
        let authenticated = self.authenticate(&head, policy).await;
        let caller = match authenticated {
            Ok(caller) => {
                if let Some(trace) = tracer_trace(tracer) {
                    trace.authenticate = Some((stage.finish(), "ok"));
                    trace.decision_id = Some(caller.decision_id.to_string());
                }
                caller
            }
            Err(response) => {
                if let Some(trace) = tracer_trace(tracer) {
                    trace.authenticate = Some((stage.finish(), "refused"));
                }
                return Ok(response);
            }
        };
        let decision_id = caller.decision_id.header_value();
        let identified = |mut response: Response<Body>| {
            response
                .headers_mut()
                .insert(DECISION_ID_HEADER, decision_id.clone());
            response
        };
        head.headers
            .insert(DECISION_ID_HEADER, caller.decision_id.header_value());
        if let Err(response) = self.open_session(&mut head.headers, &caller) {
            return Ok(identified(*response));
        }
        let started = Instant::now();
        let stage = Stage::begin();
        let prepared = self.prepare(&head, body, &caller).await;
        if let Some(metrics) = &self.metrics {
            metrics.decision_time(started.elapsed());
        }
        if let Some(trace) = tracer_trace(tracer) {
            trace.decide = Some((stage.finish(), Decide::of(&prepared)));
        }
        let (body, decisions) = match prepared {
            Ok(prepared) => prepared,
            Err(response) => return Ok(identified(*response)),
        };
        // A compressed response could not be filtered: ask for none.
        head.headers.remove(http::header::ACCEPT_ENCODING);
        insert_extensions(&mut head.extensions, &caller, decisions);
        let forward_span = tracer.as_ref().and_then(|tracer| {
            let (value, span) = tracer.upstream_header();
            head.headers.remove(TRACEPARENT);
            if let Some(value) = value {
                head.headers.insert(TRACEPARENT, value);
            }
            span
        });
        let call = inner.call(Request::from_parts(head, body));
        let forwarded = Instant::now();
        let stage = Stage::begin();
        let answered = tokio::time::timeout(self.config.limits.request_timeout, call).await;
        if let Some(metrics) = &self.metrics {
            metrics.upstream_time(forwarded.elapsed());
        }
        if let (Some(trace), Some(span)) = (tracer_trace(tracer), forward_span) {
            let status = match &answered {
                Ok(Ok(response)) => Some(response.status().as_u16()),
                Ok(Err(_)) | Err(_) => None,
            };
            trace.forward = Some((span, stage.finish(), status));
        }
        let response = match answered {
            Err(_) => {
                return Ok(identified(responses::upstream(
                    StatusCode::GATEWAY_TIMEOUT,
                    "the server did not answer in time",
                )))
            }
            Ok(Err(error)) => return Err(error),
            Ok(Ok(response)) => response,
        };
        let principal = Arc::clone(&caller.principal);
        let mut response = shape::shape(response, caller, &self.config.limits).await;
        self.seal_session(response.headers_mut(), &principal);
        Ok(identified(response))
    }

    /// The upstream's session id in place of the one the client presented, if it was
    /// sealed for this caller; a `404` otherwise (the session does not exist for them).
    fn open_session(
        &self,
        headers: &mut http::HeaderMap,
        caller: &Caller,
    ) -> Result<(), Box<GateResponse>> {
        let mut values = headers.get_all(session::HEADER).iter();
        let Some(presented) = values.next() else {
            return Ok(());
        };
        let refused = || {
            Box::new(responses::error(
                StatusCode::NOT_FOUND,
                None,
                jsonrpc::INVALID_REQUEST,
                "the session does not exist",
            ))
        };
        if values.next().is_some() {
            return Err(refused());
        }
        let upstream = presented
            .to_str()
            .ok()
            .and_then(|presented| self.sessions.open(presented, &caller.principal))
            .and_then(|upstream| http::HeaderValue::from_str(upstream).ok())
            .ok_or_else(refused)?;
        headers.insert(session::HEADER, upstream);
        Ok(())
    }

    /// The upstream's session id in a response, sealed for the caller.
    fn seal_session(&self, headers: &mut http::HeaderMap, principal: &crate::principal::Principal) {
        let Some(upstream) = headers.get(session::HEADER) else {
            return;
        };
        let sealed = upstream
            .to_str()
            .ok()
            .map(|upstream| self.sessions.seal(upstream, principal))
            .and_then(|sealed| http::HeaderValue::from_str(&sealed).ok());
        match sealed {
            Some(sealed) => {
                headers.insert(session::HEADER, sealed);
            }
            None => {
                headers.remove(session::HEADER);
            }
        }
    }

    /// The body for the service: a `POST` read, checked and decided (with the decisions
    /// taken); for `GET` and `DELETE`, none (a body there is `400`).
    async fn prepare<B>(
        &self,
        head: &http::request::Parts,
        body: B,
        caller: &Caller,
    ) -> Result<Prepared, Box<GateResponse>>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<axum::BoxError>,
    {
        match head.method {
            Method::POST => {
                let inspected = self.inspect(head, body, caller).await?;
                Ok((Body::from(inspected.bytes), inspected.decisions))
            }
            Method::GET | Method::DELETE => {
                inspect::read_empty(&head.headers, body, &self.config.limits).await?;
                Ok((Body::empty(), Vec::new()))
            }
            _ => Err(Box::new(responses::method_not_allowed())),
        }
    }

    /// The metadata document, for a `GET` of one of its paths.
    fn metadata(&self, method: &Method, path: &str, policy: &ActivePolicy) -> Option<GateResponse> {
        let is_metadata = self.metadata_paths.iter().any(|known| known == path);
        (is_metadata && (method == Method::GET || method == Method::HEAD)).then(|| {
            responses::metadata(
                self.config.resource(),
                &self.config.authorization_servers,
                policy.scopes_supported(),
            )
        })
    }

    async fn authenticate(
        &self,
        head: &http::request::Parts,
        policy: Arc<ActivePolicy>,
    ) -> Result<Caller, GateResponse> {
        let started = Instant::now();
        let authenticated = self.authenticator.principal(head, policy.engine()).await;
        if let Some(metrics) = &self.metrics {
            metrics.authentication_time(started.elapsed());
            if let Err(error) = &authenticated {
                metrics.authentication_failure(error);
            }
        }
        let principal = match authenticated {
            Ok(principal) => principal,
            Err(AuthError::Missing) => {
                return Err(responses::unauthenticated(
                    &self.metadata_url,
                    policy.scopes_supported(),
                ))
            }
            Err(AuthError::Invalid(refused)) => {
                return Err(responses::invalid_token(&self.metadata_url, refused))
            }
        };
        let shadow = match &self.shadow {
            Some(shadow) => Some(self.shadow_caller(shadow, head).await),
            None => None,
        };
        Ok(Caller {
            shadow,
            decision_id: DecisionId::next(),
            ip: client_ip::client_ip(
                head,
                &self.config.trusted_proxies,
                self.config.client_ip_header,
            ),
            principal,
            policy,
            time: Timestamp::now(),
            audit: self.audit.clone(),
            list_audit: self.config.list_audit,
            audit_mask: self.config.audit_mask,
            metrics: self.metrics.clone(),
        })
    }

    /// The shadow policy in force now, and the caller's principal under it (`None` if
    /// their identity does not resolve there).
    async fn shadow_caller(&self, shadow: &Shadow, head: &http::request::Parts) -> ShadowCaller {
        let policy = shadow.policy.current();
        let principal = match self.authenticator.identity(head).await {
            Ok(identity) => self
                .authenticator
                .resolve(&identity, policy.engine())
                .ok()
                .map(Arc::new),
            Err(_) => None,
        };
        ShadowCaller {
            policy,
            principal,
            counts: Arc::clone(&shadow.counts),
        }
    }

    async fn inspect<B>(
        &self,
        head: &http::request::Parts,
        body: B,
        caller: &Caller,
    ) -> Result<Inspected, Box<GateResponse>>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<axum::BoxError>,
    {
        let bytes = inspect::read_body(&head.headers, body, &self.config.limits).await?;
        inspect::inspect(
            &head.headers,
            bytes,
            caller,
            &self.metadata_url,
            self.config.limits.max_batch,
        )
    }
}

/// Any path but the MCP endpoint and the metadata document: refused, never passed to
/// the service (which may not look at the path at all).
fn not_found(mcp_path: &str) -> GateResponse {
    responses::error(
        StatusCode::NOT_FOUND,
        None,
        jsonrpc::INVALID_REQUEST,
        &format!("only the MCP endpoint `{mcp_path}` is served here"),
    )
}

/// The path as the client sent it, before any axum nesting stripped a prefix.
fn request_path(head: &http::request::Parts) -> &str {
    head.extensions
        .get::<axum::extract::OriginalUri>()
        .map_or(head.uri.path(), |original| original.0.path())
}

/// The total size of the header names and values.
fn header_bytes(headers: &http::HeaderMap) -> usize {
    headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .fold(0usize, usize::saturating_add)
}

fn insert_extensions(extensions: &mut http::Extensions, caller: &Caller, decisions: Vec<Decided>) {
    extensions.insert(Authorization {
        subject: caller.principal.subject().map(str::to_string),
        client: caller.principal.client().map(str::to_string),
        roles: caller.role_names(),
        scopes: caller.scope_names(),
        client_ip: caller.ip,
        policy: caller.policy.digest().to_string(),
        decisions,
    });
    extensions.insert(Arc::clone(&caller.principal));
    extensions.insert(Arc::clone(&caller.policy));
}

/// The trace being recorded, if any.
fn tracer_trace(tracer: &mut Option<Tracer>) -> Option<&mut RequestTrace> {
    tracer.as_mut().and_then(|tracer| tracer.trace.as_mut())
}
