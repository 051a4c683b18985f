//! The Prometheus endpoint of `toolgate serve`: `GET` of `metrics.path` on
//! `metrics.listen`, an address of its own, answered with [`Metrics::render`]; any other
//! path is `404`, any other method `405`. It holds no credential and decides nothing.

use std::net::SocketAddr;

use axum::body::Body;
use axum::Router;
use http::{header, Method, Request, Response, StatusCode};

use super::{MetricsEndpoint, ServeError};
use crate::gate::Metrics;

/// The endpoint, served until dropped.
pub(super) struct Served {
    /// The metrics the gate counts in.
    pub metrics: Metrics,
    /// The address bound (the port chosen, for port 0).
    pub address: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Binds `endpoint.listen` and serves the metrics there.
pub(super) async fn start(file: &str, endpoint: &MetricsEndpoint) -> Result<Served, ServeError> {
    let listener = tokio::net::TcpListener::bind(endpoint.listen)
        .await
        .map_err(|source| ServeError::Listen {
            file: file.to_string(),
            key: "metrics.listen",
            address: endpoint.listen,
            source,
        })?;
    let address = listener.local_addr().map_err(ServeError::Io)?;
    let metrics = Metrics::new(endpoint.config);
    let path = endpoint.path.clone();
    let rendered = metrics.clone();
    let app = Router::new().fallback(move |request: Request<Body>| {
        let metrics = rendered.clone();
        let path = path.clone();
        async move { answer(&metrics, &path, &request) }
    });
    let task = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "the metrics endpoint stopped");
        }
    });
    Ok(Served {
        metrics,
        address,
        task,
    })
}

fn answer(metrics: &Metrics, path: &str, request: &Request<Body>) -> Response<Body> {
    if request.uri().path() != path {
        return plain(StatusCode::NOT_FOUND, "not found\n".to_string());
    }
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "use GET\n".to_string());
    }
    let mut response = Response::new(Body::from(metrics.render()));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static(Metrics::CONTENT_TYPE),
    );
    response
}

fn plain(status: StatusCode, text: String) -> Response<Body> {
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}
