//! An rmcp streamable-HTTP MCP server protected by toolgate.
//!
//! ```sh
//! cargo run --example mcp_server -- --policy policies/example.policy --port 8080
//! ```
//!
//! It listens on loopback only. At start-up it makes a few credentials valid for this run
//! only (API keys for each role of the example policy, and HS256 JWTs) and prints them on
//! standard output, one a line (`api-key ROLE KEY`, `jwt NAME TOKEN`), then
//! `listening on http://127.0.0.1:PORT/mcp`. `--port 0` picks a free port; `--no-gate`
//! serves the same tools unprotected, as a baseline for measuring what the gate adds.
//!
//! The tools are simulated (nothing is read, written, dropped or executed), named after
//! what `policies/example.policy` governs: the safe `fs.read_file`,
//! `github.list_issues`, the writing `fs.write_file`, `github.create_issue`,
//! `logs.tail`, and the dangerous `db.drop_table` and `shell.exec`. `fs.read_identity`
//! echoes who called it, read from the request extensions the gate fills.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use axum::Router;
use clap::Parser;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    ListResourcesResult, PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse,
    ReadResourceResult, Resource, ResourceContents, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{schemars, tool, tool_handler, tool_router, ErrorData, RoleServer, ServerHandler};
use serde::Deserialize;

use toolgate::credentials::api_key::{generate, KeyEntry, KeyFile};
use toolgate::credentials::{ApiKeyScheme, Authenticator, Clock, JwtScheme, JwtSettings, KeySet};
use toolgate::gate::{
    Authorization, GateConfig, GateLayer, PolicyHandle, TracingAudit, WatchConfig,
};

/// The issuer of the example's own tokens.
const ISSUER: &str = "toolgate-example";

#[derive(Debug, Parser)]
#[command(about = "An MCP server protected by toolgate (loopback only)")]
struct Args {
    /// The policy file or directory.
    #[arg(long, default_value = "policies/example.policy")]
    policy: PathBuf,
    /// The port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Serve the same tools without the gate: a baseline for measuring what it adds.
    #[arg(long)]
    no_gate: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mcp_server: {error}");
            ExitCode::from(1)
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let policy = PolicyHandle::load(&args.policy, toolgate::LoadOptions::default())?;
    let _watcher = policy.watch(WatchConfig::default())?;
    let _hangups = policy.reload_on_sighup()?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await?;
    let address = listener.local_addr()?;
    let resource = format!("http://{address}/mcp");
    let authenticator = dev_credentials(&resource)?;
    let gate = GateLayer::new(GateConfig::new(&resource)?, policy, authenticator)
        .with_audit(Arc::new(TracingAudit));
    let files = Arc::new(Mutex::new(BTreeMap::from([(
        "README.md".to_string(),
        "# example\nA file of the simulated workspace.\n".to_string(),
    )])));
    let mcp = StreamableHttpService::new(
        move || Ok(DevTools::new(Arc::clone(&files))),
        Arc::new(LocalSessionManager::default()),
        StreamableHttpServerConfig::default(),
    );
    // The service answers the MCP path only (not `/mcp/...`); the gate refuses every
    // other path itself too.
    let inner = Router::new().route_service("/mcp", mcp);
    let app = if args.no_gate {
        eprintln!("warning: --no-gate: every request is served without authorization");
        inner
    } else {
        Router::new().fallback_service(tower::Layer::layer(&gate, inner))
    };
    println!("listening on {resource}");
    eprintln!("try: curl -s {resource} -H 'Authorization: Bearer <key>' -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' -d '{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{{\"protocolVersion\":\"2025-06-18\",\"capabilities\":{{}},\"clientInfo\":{{\"name\":\"curl\",\"version\":\"1\"}}}}}}'");
    let listener = axum::serve::ListenerExt::tap_io(listener, |stream| {
        let _ = stream.set_nodelay(true);
    });
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}

/// API keys for each role of the example policy and HS256 JWTs, made for this run only
/// and printed once on standard output.
fn dev_credentials(resource: &str) -> Result<Authenticator, Box<dyn std::error::Error>> {
    let roles: [(&str, &[&str]); 4] = [
        ("readonly", &["tool:read"]),
        ("user", &["tool:read", "tool:write"]),
        ("developer", &["tool:read", "tool:write"]),
        ("admin", &["tool:admin"]),
    ];
    let mut file = KeyFile::default();
    for (role, scopes) in roles {
        let (key, digest) = generate(role)?;
        println!("api-key {role} {key}");
        file.keys.push(KeyEntry {
            id: role.to_string(),
            sha256: digest,
            roles: vec![role.to_string()],
            scopes: scopes.iter().map(|scope| scope.to_string()).collect(),
            client: Some("example-cli".to_string()),
            created: None,
            expires: None,
            revoked: false,
        });
    }
    let mut secret = [0u8; 32];
    getrandom::fill(&mut secret).map_err(|error| format!("no randomness: {error}"))?;
    let tokens = [
        ("developer", "mcp-developers", "tool:read tool:write"),
        ("user-without-write", "user", "tool:read"),
    ];
    for (name, role, scope) in tokens {
        println!(
            "jwt {name} {}",
            token(&secret, resource, name, role, scope)?
        );
    }
    let mut settings = JwtSettings::new(ISSUER, resource);
    settings.algorithms = vec![jsonwebtoken::Algorithm::HS256];
    Ok(Authenticator::new()
        .with_scheme(JwtScheme::new(settings, KeySet::from_hmac_secret(&secret)))
        .with_scheme(ApiKeyScheme::new(&file, Clock::system())))
}

/// An HS256 access token valid for an hour.
fn token(
    secret: &[u8],
    resource: &str,
    name: &str,
    role: &str,
    scope: &str,
) -> Result<String, jsonwebtoken::errors::Error> {
    let now = jiff::Timestamp::now().as_second();
    let claims = serde_json::json!({
        "iss": ISSUER,
        "aud": resource,
        "sub": format!("{name}-jwt"),
        "azp": "example-cli",
        "roles": [role],
        "scope": scope,
        "iat": now,
        "exp": now + 3600,
    });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
}

/// The simulated tools.
#[derive(Clone)]
struct DevTools {
    files: Arc<Mutex<BTreeMap<String, String>>>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct PathArgs {
    /// A file of the simulated workspace.
    path: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct WriteArgs {
    /// A file of the simulated workspace.
    path: String,
    /// Its new contents.
    content: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct RepositoryArgs {
    /// `owner/name`.
    repository: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct IssueArgs {
    /// `owner/name`.
    repository: String,
    /// The issue's title.
    title: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct TableArgs {
    /// The table to drop.
    table: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
struct CommandArgs {
    /// The command line.
    command: String,
}

#[tool_router]
impl DevTools {
    fn new(files: Arc<Mutex<BTreeMap<String, String>>>) -> DevTools {
        DevTools { files }
    }

    #[tool(
        name = "fs.read_file",
        description = "Read a file of the simulated workspace"
    )]
    fn read_file(&self, Parameters(args): Parameters<PathArgs>) -> Result<String, ErrorData> {
        let files = self.files.lock().map_err(|_| internal())?;
        files
            .get(&args.path)
            .cloned()
            .ok_or_else(|| ErrorData::invalid_params(format!("no file `{}`", args.path), None))
    }

    #[tool(
        name = "fs.write_file",
        description = "Write a file of the simulated workspace"
    )]
    fn write_file(&self, Parameters(args): Parameters<WriteArgs>) -> Result<String, ErrorData> {
        let mut files = self.files.lock().map_err(|_| internal())?;
        let bytes = args.content.len();
        files.insert(args.path.clone(), args.content);
        Ok(format!("wrote {bytes} bytes to `{}`", args.path))
    }

    #[tool(
        name = "fs.read_identity",
        description = "Who is calling: the subject, roles and client the gate established"
    )]
    fn read_identity(&self, context: RequestContext<RoleServer>) -> Result<String, ErrorData> {
        let authorization = context
            .extensions
            .get::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Authorization>())
            .ok_or_else(internal)?;
        let identity = serde_json::json!({
            "subject": authorization.subject,
            "client": authorization.client,
            "roles": authorization.roles,
            "scopes": authorization.scopes,
            "client_ip": authorization.client_ip,
            "policy": authorization.policy,
        });
        Ok(identity.to_string())
    }

    #[tool(
        name = "github.list_issues",
        description = "List a repository's open issues"
    )]
    fn list_issues(&self, Parameters(args): Parameters<RepositoryArgs>) -> String {
        format!(
            "{}: #1 the example works, #2 add more tools",
            args.repository
        )
    }

    #[tool(
        name = "github.create_issue",
        description = "Open an issue (simulated)"
    )]
    fn create_issue(&self, Parameters(args): Parameters<IssueArgs>) -> String {
        format!("would open `{}` in {}", args.title, args.repository)
    }

    #[tool(
        name = "logs.tail",
        description = "The last lines of the server log (simulated)"
    )]
    fn tail_logs(&self) -> String {
        "12:00:00 INFO started\n12:00:01 INFO listening".to_string()
    }

    #[tool(
        name = "db.drop_table",
        description = "Drop a database table (dangerous; simulated)"
    )]
    fn drop_table(&self, Parameters(args): Parameters<TableArgs>) -> String {
        format!("would drop table `{}` (nothing was dropped)", args.table)
    }

    #[tool(
        name = "shell.exec",
        description = "Run a shell command (dangerous; never run here)"
    )]
    fn exec(&self, Parameters(args): Parameters<CommandArgs>) -> String {
        format!("would run `{}` (nothing was run)", args.command)
    }
}

fn internal() -> ErrorData {
    ErrorData::internal_error("the request carries no authorization", None)
}

const RESOURCES: [(&str, &str); 2] = [
    ("docs://readme", "How to use the example server."),
    (
        "file:///etc/hosts",
        "A resource no rule allows: hidden from resources/list.",
    ),
];

#[tool_handler]
impl ServerHandler for DevTools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .build(),
        )
        .with_instructions("Simulated developer tools behind toolgate.")
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let resources = RESOURCES
            .iter()
            .map(|(uri, description)| Resource::new(*uri, *uri).with_description(*description))
            .collect();
        Ok(ListResourcesResult::with_all_items(resources))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let Some((uri, text)) = RESOURCES.iter().find(|(uri, _)| *uri == request.uri) else {
            return Err(ErrorData::invalid_params(
                format!("no resource `{}`", request.uri),
                None,
            ));
        };
        Ok(ReadResourceResult::new(vec![ResourceContents::text(*text, *uri)]).into())
    }
}
