//! The real MCP clients (tests/e2e/python/client.py on the official Python SDK,
//! tests/e2e/ts/client.mjs on the official TypeScript SDK) and what they report.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

use super::process::run_bounded;

/// A client run is bounded inside the client (60 s); this is the outer safety net.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(150);

/// Which official SDK drives the scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sdk {
    /// `mcp` from PyPI, connect mode `auto`: the SDK's default, which probes
    /// `server/discover` (revision 2026-07-28) and falls back to `initialize`.
    Python,
    /// `mcp` from PyPI forced to the `initialize` handshake (`--mode legacy`), whose
    /// requests and responses differ from the 2026 revision's (sessions, event streams).
    PythonLegacy,
    /// `@modelcontextprotocol/sdk` from npm.
    TypeScript,
}

/// Every SDK configuration the e2e tests drive.
pub const ALL_SDKS: [Sdk; 3] = [Sdk::Python, Sdk::PythonLegacy, Sdk::TypeScript];

/// What the client presents.
#[derive(Debug, Clone)]
pub enum Credential {
    /// Nothing.
    None,
    /// `Authorization: Bearer <token>` (a JWT, or an API key with its prefix).
    Bearer(String),
    /// `X-API-Key: <key>`.
    ApiKey(String),
}

/// What the client does once connected.
#[derive(Debug, Clone, Default)]
pub struct Scenario {
    /// Send `tools/list`.
    pub list_tools: bool,
    /// Call these tools, in order.
    pub calls: Vec<String>,
    /// Fetch the `resource_metadata` URL of the first challenge.
    pub metadata: bool,
}

impl Scenario {
    /// List the tools, then call `calls`.
    pub fn list_and_call(calls: &[&str]) -> Scenario {
        Scenario {
            list_tools: true,
            calls: calls.iter().map(|name| name.to_string()).collect(),
            metadata: false,
        }
    }
}

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Panics with the install command unless the Python SDK is importable.
pub fn require_python() {
    static CHECKED: OnceLock<Result<(), String>> = OnceLock::new();
    let checked = CHECKED.get_or_init(|| {
        let mut command = crate::external::python();
        command.args(["-c", "import mcp, httpx2, uvicorn, anyio"]);
        match run_bounded("python", command, Duration::from_secs(60)) {
            (0, _, _) => Ok(()),
            (_, _, stderr) => Err(stderr),
        }
    });
    if let Err(stderr) = checked {
        panic!(
            "the Python MCP SDK is missing from `{}`: run the tests with `scripts/test.sh`, \
             which installs it (tests/e2e/python/requirements.txt) into a virtual \
             environment and sets TOOLGATE_PYTHON:\n{stderr}",
            crate::external::python_program()
        );
    }
}

/// Panics with the install command unless the TypeScript SDK is installed.
pub fn require_node() {
    let package =
        repository().join("tests/e2e/ts/node_modules/@modelcontextprotocol/sdk/package.json");
    assert!(
        package.is_file(),
        "the TypeScript MCP SDK is missing ({} not found); install it with \
         `npm ci --prefix tests/e2e/ts`",
        package.display()
    );
}

/// The SDK's client program for `url`, with the SDK's mode and the credential given.
pub fn client_command(sdk: Sdk, url: &str, credential: &Credential) -> Command {
    let mut command = match sdk {
        Sdk::Python | Sdk::PythonLegacy => {
            require_python();
            let mut command = crate::external::python();
            command.arg(repository().join("tests/e2e/python/client.py"));
            command
        }
        Sdk::TypeScript => {
            require_node();
            let mut command = Command::new("node");
            command.arg(repository().join("tests/e2e/ts/client.mjs"));
            command
        }
    };
    command.arg(url);
    if sdk == Sdk::PythonLegacy {
        command.args(["--mode", "legacy"]);
    }
    match credential {
        Credential::None => {}
        Credential::Bearer(token) => {
            command.args(["--token", token]);
        }
        Credential::ApiKey(key) => {
            command.args(["--api-key", key]);
        }
    }
    command
}

/// Runs one scenario with one SDK and returns its report.
pub fn run(sdk: Sdk, url: &str, credential: &Credential, scenario: &Scenario) -> Report {
    let mut command = client_command(sdk, url, credential);
    if scenario.list_tools {
        command.arg("--list-tools");
    }
    for name in &scenario.calls {
        command.args(["--call", name]);
    }
    if scenario.metadata {
        command.arg("--metadata");
    }
    let (status, stdout, stderr) = run_bounded(&format!("{sdk:?} client"), command, CLIENT_TIMEOUT);
    assert_eq!(status, 0, "{sdk:?} client failed:\n{stdout}\n{stderr}");
    let value: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|error| {
        panic!("{sdk:?} client printed no JSON ({error}):\n{stdout}\n{stderr}")
    });
    Report { sdk, value }
}

/// The tool name of a call given as `NAME` or `NAME=JSON` (its arguments).
pub fn name_of(call: &str) -> &str {
    call.split_once('=').map_or(call, |(name, _)| name)
}

/// One client run's observations (see the clients' doc comments for the shape).
pub struct Report {
    /// The SDK that made them.
    pub sdk: Sdk,
    /// The JSON object the client printed.
    pub value: Value,
}

impl Report {
    /// The `initialize` step (for the Python client in `auto` mode: the `server/discover`
    /// probe and the fallback handshake).
    pub fn initialize(&self) -> Step<'_> {
        Step {
            report: self,
            value: &self.value["initialize"],
            what: "initialize".into(),
        }
    }

    /// The `tools/list` step.
    pub fn tools(&self) -> Step<'_> {
        Step {
            report: self,
            value: &self.value["tools"],
            what: "tools/list".into(),
        }
    }

    /// The sorted names `tools/list` returned; panics unless it succeeded.
    pub fn tool_names(&self) -> Vec<String> {
        let step = self.tools();
        step.assert_ok();
        step.value["names"]
            .as_array()
            .unwrap()
            .iter()
            .map(|name| name.as_str().unwrap().to_string())
            .collect()
    }

    /// The call of `name` (given as `NAME` or `NAME=JSON`).
    pub fn call(&self, name: &str) -> Step<'_> {
        let name = name_of(name);
        let value = self.value["calls"]
            .as_array()
            .and_then(|calls| calls.iter().find(|call| call["name"] == name))
            .unwrap_or_else(|| panic!("{:?} made no call of `{name}`: {}", self.sdk, self.value));
        Step {
            report: self,
            value,
            what: format!("tools/call `{name}`"),
        }
    }
}

/// One step of a scenario: its outcome and the HTTP exchange that answered it.
pub struct Step<'a> {
    report: &'a Report,
    /// The step's JSON.
    pub value: &'a Value,
    what: String,
}

impl Step<'_> {
    fn context(&self) -> String {
        format!("{:?} {}: {}", self.report.sdk, self.what, self.value)
    }

    /// The HTTP status of the step's own request.
    pub fn status(&self) -> Option<u64> {
        self.value["status"].as_u64()
    }

    /// The `WWW-Authenticate` header of the step's own response.
    pub fn www_authenticate(&self) -> &str {
        self.value["www_authenticate"].as_str().unwrap_or("")
    }

    /// The text of a successful call's result.
    pub fn text(&self) -> &str {
        self.value["text"].as_str().unwrap_or("")
    }

    /// Asserts the SDK call succeeded (for a tool call: and the tool did not fail).
    pub fn assert_ok(&self) {
        assert_eq!(self.value["ok"], true, "{}", self.context());
        assert_ne!(self.value["is_error"], true, "{}", self.context());
        assert_eq!(self.status(), Some(200), "{}", self.context());
    }

    /// Asserts the SDK call failed on an HTTP `status`.
    pub fn assert_refused(&self, status: u64) {
        assert_eq!(self.value["ok"], false, "{}", self.context());
        assert_eq!(self.status(), Some(status), "{}", self.context());
    }

    /// Asserts the challenge carries `parameter` (for example `error="invalid_token"`).
    pub fn assert_challenge_has(&self, parameter: &str) {
        let header = self.www_authenticate();
        assert!(
            header.starts_with("Bearer ") && header.contains(parameter),
            "expected `{parameter}` in the challenge; {}",
            self.context()
        );
    }

    /// Asserts the challenge does not carry `parameter`.
    pub fn assert_challenge_lacks(&self, parameter: &str) {
        assert!(
            !self.www_authenticate().contains(parameter),
            "unexpected `{parameter}` in the challenge; {}",
            self.context()
        );
    }
}
