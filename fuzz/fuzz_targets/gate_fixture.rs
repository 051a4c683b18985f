//! The gate behind the `jsonrpc` and `readings` targets: a fixed policy, callers named
//! by their bearer token, and a server behind the gate that keeps the body it got.
//! Included by both targets with `#[path]`.

use std::convert::Infallible;
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::{Body, Bytes};
use http::{Request, Response};
use http_body_util::BodyExt;
use tower::Service;
use toolgate::credentials::{Authenticator, BoxFuture, CredentialError, Identity, Scheme};
use toolgate::gate::{GateConfig, GateLayer, PolicyHandle};
use toolgate::{Engine, Policy, PrincipalParts};

pub const POLICY: &str = r#"scope "tool:read", "tool:write"
role reader
role writer inherits reader
require scope "tool:write" to call tools "fs.write_*"
allow reader to call tools "fs.read_*"
allow writer to call tools "fs.*"
allow anyone to list, read resources "docs://*"
allow reader to list, get prompts "review-*"
deny anyone to call tools "db.drop_*"
deny anyone to call tools "net.*" unless ip in [10.0.0.0/8]
allow anyone to call tools "net.*"
allow reader to call tools "k8s.scale" if arg "cluster" in ["dev", "staging"]
allow writer to call tools "k8s.logs"
deny anyone to call tools "k8s.*" if arg "cluster" matches "prod*" or arg "/target/cluster" exists
"#;

pub const CALLERS: [(&str, &[&str], &[&str]); 3] = [
    ("reader", &["reader"], &["tool:read"]),
    ("writer", &["writer"], &["tool:read", "tool:write"]),
    ("nobody", &[], &[]),
];

/// `Authorization: Bearer NAME` for a caller of [`CALLERS`].
pub struct Callers;

pub fn parts(name: &str) -> Option<PrincipalParts> {
    let (_, roles, scopes) = CALLERS.iter().find(|caller| caller.0 == name)?;
    Some(PrincipalParts {
        subject: Some(name.to_string()),
        roles: roles.iter().map(|role| role.to_string()).collect(),
        scopes: scopes.iter().map(|scope| scope.to_string()).collect(),
        client: None,
    })
}

impl Scheme for Callers {
    fn authenticate<'a>(&'a self, head: &'a http::request::Parts) -> BoxFuture<'a, Option<Result<Identity, CredentialError>>> {
        Box::pin(async move {
            let token = head.headers.get("authorization")?.to_str().ok()?.strip_prefix("Bearer ")?;
            Some(parts(token).map(|parts| Identity::Parts { parts, expires_at: None }).ok_or(CredentialError::Malformed))
        })
    }
}

pub type Forwarded = Arc<Mutex<Option<Bytes>>>;

pub struct Fixture {
    pub runtime: tokio::runtime::Runtime,
    pub layer: GateLayer,
    pub engine: Engine,
}

pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let loaded = |name| match Policy::from_text(name, POLICY) {
            Ok(loaded) => loaded,
            Err(error) => panic!("{error}"),
        };
        let policy = PolicyHandle::new(loaded("gate.policy"));
        let config = GateConfig::new("http://127.0.0.1:8080/mcp").unwrap_or_else(|error| panic!("{error}"));
        let authenticator = Authenticator::new().with_scheme(Callers);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap_or_else(|error| panic!("{error}"));
        Fixture { runtime, layer: GateLayer::new(config, policy, authenticator), engine: loaded("oracle.policy").into_engine() }
    })
}

/// The server behind the gate: keeps the body it got, answers an empty result.
pub fn server(forwarded: Forwarded) -> impl Service<Request<Body>, Response = Response<Body>, Error = Infallible, Future = impl Send> + Clone + Send {
    tower::service_fn(move |request: Request<Body>| {
        let forwarded = Arc::clone(&forwarded);
        async move {
            let body = request.into_body().collect().await.map(|body| body.to_bytes()).unwrap_or_default();
            if let Ok(mut slot) = forwarded.lock() {
                *slot = Some(body);
            }
            let mut response = Response::new(Body::from(r#"{"jsonrpc":"2.0","id":1,"result":{}}"#));
            response.headers_mut().insert("content-type", http::HeaderValue::from_static("application/json"));
            Ok::<_, Infallible>(response)
        }
    })
}

