//! Claim extraction: scopes as string or array, nested role paths, presets, and the
//! policy's `claims` lines winning over a preset.

use proptest::prelude::*;
use serde_json::{json, Value};
use toolgate::credentials::{ClaimsPreset, PresetName, PresetOptions};
use toolgate::{Engine, Policy};

const ROLES: [&str; 4] = ["viewer", "developer", "admin", "ops"];
const SCOPES: [&str; 4] = ["tools:read", "tools:write", "files:read", "mcp:admin"];

fn engine(claims_block: &str) -> Engine {
    let mut text = format!("{claims_block}\n");
    for role in ROLES {
        text.push_str(&format!(
            "role {role}\nallow {role} to call tools \"{role}.*\"\n"
        ));
    }
    for scope in SCOPES {
        text.push_str(&format!(
            "scope \"{scope}\"\nallow anyone to call tools \"s.{scope}\" if scope \"{scope}\"\n"
        ));
    }
    Policy::from_text("claims.policy", &text)
        .unwrap()
        .into_engine()
}

fn sorted(mut names: Vec<&str>) -> Vec<String> {
    names.sort_unstable();
    names.dedup();
    names.into_iter().map(String::from).collect()
}

fn subset(pool: &'static [&'static str; 4]) -> impl Strategy<Value = Vec<&'static str>> {
    proptest::sample::subsequence(pool.to_vec(), 0..=4)
}

/// Nests `value` under the dotted `path`.
fn nested(path: &[String], value: Value) -> Value {
    path.iter()
        .rev()
        .fold(value, |inner, key| json!({ key.as_str(): inner }))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn scopes_as_string_or_array_are_the_same(scopes in subset(&SCOPES), noise in "[a-z]{1,8}") {
        let engine = engine("");
        let table = engine.index();
        let mut held = scopes.clone();
        held.push(&noise);
        let as_string = engine.principal(&json!({"scope": held.join(" ")})).unwrap();
        let as_array = engine.principal(&json!({"scp": held})).unwrap();
        let spaced = engine.principal(&json!({"scope": format!("  {}\t", held.join("   "))})).unwrap();
        prop_assert_eq!(sorted(as_string.scope_names(table)), sorted(scopes.clone()));
        prop_assert_eq!(sorted(as_array.scope_names(table)), sorted(scopes.clone()));
        prop_assert_eq!(sorted(spaced.scope_names(table)), sorted(scopes));
    }

    #[test]
    fn nested_role_paths_are_followed(
        roles in subset(&ROLES),
        path in proptest::collection::vec("[a-z]{1,6}", 1..4),
        as_string in any::<bool>(),
    ) {
        let dotted = path.join(".");
        let engine = engine(&format!("claims {{\n  roles from \"{dotted}\"\n}}"));
        let value = match (as_string, roles.first()) {
            (true, Some(first)) => json!(first),
            _ => json!(roles),
        };
        let expected = if as_string { roles.first().copied().into_iter().collect() } else { roles.clone() };
        let principal = engine.principal(&nested(&path, value)).unwrap();
        prop_assert_eq!(sorted(principal.role_names(engine.index())), sorted(expected));
        // The default paths no longer count once the policy names its own.
        let ignored = engine.principal(&json!({"roles": ROLES})).unwrap();
        prop_assert!(ignored.role_names(engine.index()).is_empty());
    }

    #[test]
    fn explicit_policy_lines_win_over_any_preset(
        preset in prop_oneof![
            Just(PresetName::Generic), Just(PresetName::Auth0), Just(PresetName::Entra),
            Just(PresetName::Keycloak), Just(PresetName::Okta)
        ],
        roles in subset(&ROLES),
    ) {
        let engine = engine("claims {\n  roles from \"custom.roles\"\n}");
        let preset = ClaimsPreset::new(preset, &PresetOptions::default());
        let claims = json!({
            "custom": {"roles": roles}, "roles": ROLES, "groups": ROLES,
            "realm_access": {"roles": ROLES},
        });
        let principal = preset.principal(&engine, &claims).unwrap();
        prop_assert_eq!(sorted(principal.role_names(engine.index())), sorted(roles));
    }
}

fn preset(name: PresetName, options: PresetOptions) -> ClaimsPreset {
    ClaimsPreset::new(name, &options)
}

#[test]
fn presets_read_each_providers_claims() {
    let engine = engine("");
    let table = engine.index();
    let cases = [
        (
            preset(
                PresetName::Keycloak,
                PresetOptions {
                    keycloak_client: Some("mcp".into()),
                    ..Default::default()
                },
            ),
            json!({"realm_access": {"roles": ["viewer"]}, "resource_access": {"mcp": {"roles": ["ops"]}, "other": {"roles": ["admin"]}},
                   "scope": "tools:read", "azp": "kc-client"}),
            (vec!["ops", "viewer"], vec!["tools:read"], "kc-client"),
        ),
        (
            preset(
                PresetName::Auth0,
                PresetOptions {
                    roles_claim: Some("https://example.com/roles".into()),
                    ..Default::default()
                },
            ),
            json!({"https://example.com/roles": ["admin"], "permissions": ["tools:write"], "scope": "files:read", "azp": "a0"}),
            (vec!["admin"], vec!["files:read", "tools:write"], "a0"),
        ),
        (
            preset(PresetName::Entra, PresetOptions::default()),
            json!({"roles": ["developer"], "scp": "tools:read tools:write", "appid": "entra-app"}),
            (
                vec!["developer"],
                vec!["tools:read", "tools:write"],
                "entra-app",
            ),
        ),
        (
            preset(PresetName::Okta, PresetOptions::default()),
            json!({"groups": ["ops", "Everyone"], "scp": ["mcp:admin"], "cid": "okta-app", "roles": ["admin"]}),
            (vec!["ops"], vec!["mcp:admin"], "okta-app"),
        ),
        (
            preset(PresetName::Generic, PresetOptions::default()),
            json!({"role": "viewer", "scope": "tools:read", "client_id": "generic"}),
            (vec!["viewer"], vec!["tools:read"], "generic"),
        ),
    ];
    for (preset, claims, (roles, scopes, client)) in cases {
        let principal = preset.principal(&engine, &claims).unwrap();
        assert_eq!(
            sorted(principal.role_names(table)),
            sorted(roles),
            "{:?}",
            preset.name()
        );
        assert_eq!(
            sorted(principal.scope_names(table)),
            sorted(scopes),
            "{:?}",
            preset.name()
        );
        assert_eq!(principal.client(), Some(client), "{:?}", preset.name());
    }
}

#[test]
fn a_preset_fills_only_the_lines_the_policy_leaves_out() {
    let engine = engine("claims {\n  scopes from \"perms\"\n}");
    let keycloak = preset(PresetName::Keycloak, PresetOptions::default());
    let claims = json!({"realm_access": {"roles": ["admin"]}, "scope": "tools:read", "perms": ["files:read"], "roles": ["ops"]});
    let principal = keycloak.principal(&engine, &claims).unwrap();
    assert_eq!(
        principal.role_names(engine.index()),
        ["admin"],
        "roles from the preset"
    );
    assert_eq!(
        principal.scope_names(engine.index()),
        ["files:read"],
        "scopes from the policy"
    );
    let plain = engine.principal(&claims).unwrap();
    assert_eq!(
        plain.role_names(engine.index()),
        ["ops"],
        "without the preset, the defaults"
    );
}
