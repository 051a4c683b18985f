//! The layer decides every request it receives: the MCP endpoint (decided), the metadata
//! document, or a refusal. Mounted as docs used to recommend (`nest_service`, which also
//! routes `/mcp/` and `/mcp/anything` to the service), a service that ignores the path
//! must still receive nothing undecided. The oracle is what the service received.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::Router;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::Value;
use toolgate::gate::{GateConfig, GateLayer};
use tower::ServiceExt;

use super::support::*;

/// What the service received: each request's path and body.
type Received = Arc<Mutex<Vec<(String, Value)>>>;

/// A service that answers every path with a tool result, recording each request's path
/// (as the client sent it) and body (as JSON, or as a string if it is not JSON).
fn recorder(received: Received) -> Router {
    let service = tower::service_fn(move |request: Request<Body>| {
        let received = Arc::clone(&received);
        async move {
            // The path the client sent (`nest_service` strips its prefix from the URI).
            let path = request
                .extensions()
                .get::<axum::extract::OriginalUri>()
                .map_or(request.uri().path(), |original| original.0.path())
                .to_string();
            let body = request.into_body().collect().await.unwrap().to_bytes();
            let body = serde_json::from_slice(&body)
                .unwrap_or_else(|_| Value::from(String::from_utf8_lossy(&body).into_owned()));
            received.lock().unwrap().push((path, body));
            let body = r#"{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"executed"}]}}"#;
            let response = http::Response::builder()
                .header("content-type", "application/json")
                .body(Body::from(body))
                .unwrap();
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    Router::new().nest_service("/mcp", service)
}

fn app(received: &Received) -> Router {
    let layer = GateLayer::new(
        GateConfig::new(RESOURCE).unwrap(),
        policy_handle(POLICY),
        authenticator(),
    );
    Router::new().fallback_service(tower::Layer::layer(&layer, recorder(Arc::clone(received))))
}

fn post_to(path: &str, tool: &str) -> Request<Body> {
    let mut request = Request::post(path)
        .header("content-type", "application/json")
        .header("authorization", "Bearer reader-token")
        .body(Body::from(call(1, tool).to_string()))
        .unwrap();
    from(&mut request, "203.0.113.7:5000");
    request
}

#[tokio::test]
async fn no_path_but_the_mcp_endpoint_reaches_the_service() {
    let received = Arc::new(Mutex::new(Vec::new()));
    let app = app(&received);
    for path in [
        "/mcp/",
        "/mcp/anything",
        "/mcp//",
        "/mcp/mcp",
        "/mcp/.",
        "/MCP",
    ] {
        let reply = Reply::read(
            app.clone()
                .oneshot(post_to(path, "db.drop_table"))
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert!(
            !String::from_utf8_lossy(&reply.body).contains("executed"),
            "{path}"
        );
        // An allowed call on another path is refused too: there is one endpoint.
        let reply = Reply::read(
            app.clone()
                .oneshot(post_to(path, "fs.read_file"))
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(*received.lock().unwrap(), Vec::<(String, Value)>::new());

    // The endpoint itself: the denied call is refused, the allowed one executed.
    let reply = Reply::read(
        app.clone()
            .oneshot(post_to("/mcp", "db.drop_table"))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(*received.lock().unwrap(), Vec::<(String, Value)>::new());
    let reply = Reply::read(
        app.clone()
            .oneshot(post_to("/mcp", "fs.read_file"))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        *received.lock().unwrap(),
        [("/mcp".to_string(), call(1, "fs.read_file"))]
    );
}
