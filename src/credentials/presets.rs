//! Claims presets: where common identity providers put roles, scopes and the client id.
//! A policy's `claims` block lines win; the lines it leaves out come from the preset.

use serde::Deserialize;
use serde_json::Value;

use crate::check::ClaimsMap;
use crate::claim_path::ClaimPath;
use crate::eval::Engine;
use crate::principal::{Principal, PrincipalError};

/// The identity providers with a preset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PresetName {
    /// Generic OIDC: the policy language's defaults (`roles`/`role`, `scope`/`scp`,
    /// `client_id`/`azp`).
    #[default]
    Generic,
    /// Auth0: scopes from `permissions` and `scope`, roles from a namespaced claim.
    Auth0,
    /// Microsoft Entra ID: `roles`, `scp`, `azp`/`appid`.
    Entra,
    /// Keycloak: `realm_access.roles` and `resource_access.<client>.roles`.
    Keycloak,
    /// Okta: `groups`, `scp`, `cid`.
    Okta,
}

impl PresetName {
    /// The name as written in configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            PresetName::Generic => "generic",
            PresetName::Auth0 => "auth0",
            PresetName::Entra => "entra",
            PresetName::Keycloak => "keycloak",
            PresetName::Okta => "okta",
        }
    }

    /// The preset of a configuration name.
    pub fn parse(name: &str) -> Option<PresetName> {
        [
            PresetName::Generic,
            PresetName::Auth0,
            PresetName::Entra,
            PresetName::Keycloak,
            PresetName::Okta,
        ]
        .into_iter()
        .find(|preset| preset.as_str() == name)
    }
}

/// What some presets need to know.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PresetOptions {
    /// The claim holding roles, replacing the preset's (Auth0's namespaced claim,
    /// `https://example.com/roles`).
    pub roles_claim: Option<String>,
    /// Keycloak: the client whose `resource_access.<client>.roles` grant roles (read
    /// as the pointer `/resource_access/<client>/roles`, so the id may contain dots).
    pub keycloak_client: Option<String>,
}

/// A preset's claim paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimsPreset {
    name: PresetName,
    map: ClaimsMap,
}

fn strings(paths: &[&str]) -> Vec<ClaimPath> {
    paths.iter().map(|path| ClaimPath::from(*path)).collect()
}

impl ClaimsPreset {
    /// The preset `name` with `options`.
    pub fn new(name: PresetName, options: &PresetOptions) -> ClaimsPreset {
        let mut map = ClaimsMap::default();
        match name {
            PresetName::Generic => {}
            PresetName::Auth0 => {
                map.roles = strings(&["roles"]);
                map.scopes = strings(&["permissions", "scope"]);
                map.client = strings(&["azp", "client_id"]);
            }
            PresetName::Entra => {
                map.roles = strings(&["roles"]);
                map.scopes = strings(&["scp"]);
                map.client = strings(&["azp", "appid"]);
            }
            PresetName::Keycloak => {
                // Dotted on purpose: a token that also carries a top-level
                // `realm_access.roles` is ambiguous, so refused.
                map.roles = strings(&["realm_access.roles"]);
                if let Some(client) = &options.keycloak_client {
                    // A pointer: client ids may contain dots (`mcp.example.com`).
                    let path = ClaimPath::pointer(&["resource_access", client, "roles"]);
                    map.roles.push(path);
                }
                map.scopes = strings(&["scope"]);
                map.client = strings(&["azp", "client_id"]);
            }
            PresetName::Okta => {
                map.roles = strings(&["groups"]);
                map.scopes = strings(&["scp"]);
                map.client = strings(&["cid"]);
            }
        }
        if let Some(claim) = &options.roles_claim {
            map.roles = vec![ClaimPath::lenient(claim)];
        }
        ClaimsPreset { name, map }
    }

    /// Which preset this is.
    pub fn name(&self) -> PresetName {
        self.name
    }

    /// The preset's own paths.
    pub fn claims_map(&self) -> &ClaimsMap {
        &self.map
    }

    /// A policy's claims map completed by this preset: the policy's explicit lines win.
    pub fn apply(&self, policy: &ClaimsMap) -> ClaimsMap {
        policy.with_defaults(&self.map)
    }

    /// The principal of verified claims under `engine`'s policy completed by this preset.
    pub fn principal(&self, engine: &Engine, claims: &Value) -> Result<Principal, PrincipalError> {
        let table = engine.index();
        Principal::from_claims_with_map(table, &self.apply(&table.claims), claims)
    }
}
