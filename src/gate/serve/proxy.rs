//! The upstream side of `toolgate serve`: requests the gate allowed, forwarded with
//! streaming bodies both ways, without the caller's credentials.

use std::convert::Infallible;
use std::task::{Context, Poll};

use axum::body::Body;
use base64::Engine as _;
use futures_util::future::BoxFuture;
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Request, Response, StatusCode, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::tls::{TlsError, UpstreamTls};
use crate::gate::headers;
use crate::gate::layer::Authorization;
use crate::gate::responses;

/// Credentials the caller presented: never passed upstream.
const CREDENTIALS: [&str; 2] = ["authorization", "x-api-key"];

/// The principal headers the upstream gets.
const SUBJECT: &str = "x-toolgate-subject";
const CLIENT: &str = "x-toolgate-client";
const ROLES: &str = "x-toolgate-roles";
/// The client's address, as the gate knows it.
const FORWARDED_FOR: &str = "x-forwarded-for";

/// The protected server, as a tower service.
#[derive(Clone)]
pub(crate) struct Upstream {
    client: Client<HttpsConnector<HttpConnector>, Body>,
    uri: Uri,
    mcp_path: String,
}

impl Upstream {
    /// The upstream at `uri`; an `https` one verified as `tls` says.
    pub fn new(uri: Uri, mcp_path: String, tls: &UpstreamTls) -> Result<Upstream, TlsError> {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.enforce_http(false);
        let config = if uri.scheme_str() == Some("https") {
            super::tls::upstream_client(tls)?
        } else {
            // Never used for an `http` upstream: no roots needed.
            super::tls::no_roots()?
        };
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(config)
            .https_or_http()
            .enable_http1()
            .wrap_connector(connector);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(Upstream {
            client,
            uri,
            mcp_path,
        })
    }

    fn target(&self, incoming: &Uri) -> Option<Uri> {
        let path = self.uri.path();
        let path_and_query = match incoming.query() {
            Some(query) => format!("{path}?{query}"),
            None => path.to_string(),
        };
        Uri::builder()
            .scheme(self.uri.scheme_str()?)
            .authority(self.uri.authority()?.as_str())
            .path_and_query(path_and_query)
            .build()
            .ok()
    }
}

impl tower::Service<Request<Body>> for Upstream {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _context: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let upstream = self.clone();
        Box::pin(async move { Ok(upstream.forward(request).await) })
    }
}

impl Upstream {
    async fn forward(&self, request: Request<Body>) -> Response<Body> {
        let (mut head, body) = request.into_parts();
        let path = head
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map_or(head.uri.path(), |original| original.0.path());
        if path != self.mcp_path {
            return responses::error(
                StatusCode::NOT_FOUND,
                None,
                crate::gate::jsonrpc::INVALID_REQUEST,
                &format!("only the MCP endpoint `{}` is served here", self.mcp_path),
            );
        }
        let Some(target) = self.target(&head.uri) else {
            return responses::upstream(StatusCode::BAD_GATEWAY, "the upstream URI is not usable");
        };
        let Some(authorization) = head.extensions.get::<Authorization>().cloned() else {
            // The gate always leaves one: without it nothing is forwarded.
            return responses::upstream(StatusCode::INTERNAL_SERVER_ERROR, "no authorization");
        };
        head.uri = target;
        head.version = http::Version::HTTP_11;
        clean(&mut head.headers);
        principal_headers(&mut head.headers, &authorization);
        if let Some(address) = authorization.client_ip {
            if let Ok(value) = HeaderValue::from_str(&address.to_string()) {
                head.headers.insert(FORWARDED_FOR, value);
            }
        }
        let outgoing = Request::from_parts(head, body);
        match self.client.request(outgoing).await {
            Ok(response) => {
                let (mut parts, body) = response.into_parts();
                headers::strip_hop_by_hop(&mut parts.headers);
                Response::from_parts(parts, Body::new(body))
            }
            Err(error) => {
                tracing::warn!(%error, "upstream request failed");
                responses::upstream(
                    StatusCode::BAD_GATEWAY,
                    "the upstream server is unavailable",
                )
            }
        }
    }
}

/// Removes the caller's credentials, every header a server could read as a forwarding
/// header, and `Host` (the client sets the upstream's). Hop-by-hop and forged principal
/// headers are already gone: the gate in front removed them before reading anything.
fn clean(headers: &mut HeaderMap) {
    for name in CREDENTIALS {
        headers.remove(name);
    }
    headers.remove(http::header::HOST);
    headers::strip_forwarding(headers);
}

fn principal_headers(headers: &mut HeaderMap, authorization: &Authorization) {
    let mut set = |name: &'static str, value: Option<String>| {
        if let Some(value) = value {
            headers.insert(HeaderName::from_static(name), header_value(&value));
        }
    };
    set(SUBJECT, authorization.subject.clone());
    set(CLIENT, authorization.client.clone());
    set(ROLES, Some(authorization.roles.join(",")));
}

/// The value as is when a header can carry it, else in the SEP-2243 form
/// `=?base64?...?=`.
fn header_value(value: &str) -> HeaderValue {
    let plain = value.bytes().all(|byte| (b' '..=b'~').contains(&byte))
        && !value.starts_with(' ')
        && !value.ends_with(' ')
        && !value.starts_with("=?base64?");
    if plain {
        if let Ok(header) = HeaderValue::from_str(value) {
            return header;
        }
    }
    let encoded = base64::engine::general_purpose::STANDARD.encode(value.as_bytes());
    HeaderValue::from_str(&format!("=?base64?{encoded}?=")).unwrap_or(HeaderValue::from_static(""))
}
