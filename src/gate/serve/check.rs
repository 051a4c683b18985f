//! `toolgate serve --check`: a configuration checked as start-up checks it, without
//! binding the port or contacting anything (docs/serve.md, "Checking a configuration").

use std::path::Path;

use super::config::{self, AuditTarget};
use super::ServeError;
use crate::credentials::{Authenticator, ConfigError, CredentialsConfig};
use crate::gate::ActivePolicy;
use crate::Policy;

/// An Ed25519 public key (RFC 8037, appendix A.2) that stands in for remote keys when
/// the credential settings are checked without fetching anything.
const PLACEHOLDER_JWKS: &str =
    r#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;

/// Checks the configuration file at `path` as `toolgate serve` would before opening its
/// port: every key, the policy (loaded and compiled), the key file, JWT key files and
/// secrets, the revocation file, the session secret, and that the audit file can be
/// appended to. Nothing is bound, no file is created, and neither the upstream nor the
/// identity provider is contacted: remote keys (`jwks_url`, `discovery`) are not
/// fetched, only their URL checked.
///
/// Returns the summary, one line each, or every problem found. A file that is not
/// TOML, or does not have the expected shape, is one problem; otherwise the keys, the
/// policy and the credentials are each checked, whatever the others' problems.
pub async fn check(path: &Path) -> Result<Vec<String>, Vec<ServeError>> {
    let name = path.display().to_string();
    let reading = config::read_file(path);
    let mut problems = Vec::new();
    let config = match reading.config {
        Ok(config) => Some(config),
        Err(errors) => {
            problems.extend(errors.into_iter().map(ServeError::Config));
            None
        }
    };
    let mut policy_line = None;
    if let Some(draft) = &reading.draft {
        match loads("policy", &draft.policy) {
            Ok(line) => policy_line = Some(line),
            Err(source) => problems.push(ServeError::Policy {
                file: name.clone(),
                policy: draft.policy.clone(),
                source,
            }),
        }
        let credentials = &draft.credentials;
        if credentials.jwt.is_some() || credentials.api_keys.is_some() {
            if let Err(source) = credentials_offline(credentials).await {
                problems.push(ServeError::Credentials {
                    file: name.clone(),
                    source,
                });
            }
        }
    }
    if let Some(config) = &config {
        if let Some(tls) = &config.tls {
            if let Err(source) = super::tls::Acceptor::new(tls) {
                problems.push(ServeError::Tls {
                    file: name.clone(),
                    key: "tls",
                    source,
                });
            }
        }
        if config.upstream.scheme_str() == Some("https") {
            if let Err(source) = super::tls::upstream_client(&config.upstream_tls) {
                problems.push(ServeError::Tls {
                    file: name.clone(),
                    key: "upstream_tls",
                    source,
                });
            }
        }
    }
    let mut shadow_line = None;
    if let Some(shadow) = config
        .as_ref()
        .and_then(|config| config.shadow_policy.as_ref())
    {
        match loads("shadow", shadow) {
            Ok(line) => shadow_line = Some(format!("{line}; decided, never enforced")),
            Err(source) => problems.push(ServeError::Policy {
                file: name.clone(),
                policy: shadow.clone(),
                source,
            }),
        }
    }
    if let Some(AuditTarget::Rolling { path, .. }) = config.as_ref().map(|config| &config.audit) {
        let directory = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        if !directory.is_dir() {
            problems.push(ServeError::Audit {
                file: name.clone(),
                path: path.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("the directory `{}` does not exist", directory.display()),
                ),
            });
        }
    }
    if let Some(AuditTarget::File(audit)) = config.as_ref().map(|config| &config.audit) {
        if let Err(source) = appendable(audit) {
            problems.push(ServeError::Audit {
                file: name.clone(),
                path: audit.clone(),
                source,
            });
        }
    }
    match (config, policy_line) {
        (Some(config), Some(policy_line)) if problems.is_empty() => {
            let mut lines = summary(&config, policy_line);
            lines.extend(shadow_line);
            if let Some(tls) = &config.tls {
                lines.push(format!(
                    "  tls       `{}` (checked every {} s)",
                    tls.cert_file.display(),
                    tls.reload.as_secs()
                ));
            }
            if let Some(metrics) = &config.metrics {
                lines.push(format!(
                    "  metrics   {}{} (not bound by --check)",
                    metrics.listen, metrics.path
                ));
            }
            if let Some(traces) = &config.traces {
                lines.push(format!(
                    "  traces    OTLP to {} as `{}` (not contacted by --check)",
                    traces.endpoint, traces.service_name
                ));
            }
            Ok(lines)
        }
        _ => Err(problems),
    }
}

/// The line of a policy that loads (`label` is `policy` or `shadow`), or why it does not.
fn loads(label: &str, path: &Path) -> Result<String, crate::PolicyError> {
    let loaded = Policy::load(path)?;
    let warnings = loaded.warnings().len();
    let policy = ActivePolicy::new(loaded);
    let mut line = format!(
        "  {label:<9} `{}`: loads, digest {}",
        path.display(),
        policy.digest()
    );
    if warnings > 0 {
        line.push_str(&format!(
            ", {warnings} warning{} (`toolgate check` shows them)",
            if warnings == 1 { "" } else { "s" }
        ));
    }
    Ok(line)
}

/// The lines `--check` prints for a configuration that works.
fn summary(config: &config::ServeConfig, policy_line: String) -> Vec<String> {
    let mut lines = vec![
        format!(
            "{}: the configuration is valid (nothing was bound, fetched or contacted)",
            config.name
        ),
        policy_line,
        format!("  listen    {} (not bound by --check)", config.listen),
        format!("  upstream  {} (not contacted by --check)", config.upstream),
        format!("  mcp path  {}", config.gate.mcp_path),
    ];
    if let Some(jwt) = &config.credentials.jwt {
        let source = [
            ("jwks_file", jwt.jwks_file.is_some()),
            ("jwk_file", jwt.jwk_file.is_some()),
            ("jwks", jwt.jwks.is_some()),
            ("jwks_url", jwt.jwks_url.is_some()),
            ("discovery", jwt.discovery),
            ("pem_file", jwt.pem_file.is_some()),
            ("hs256_secret_file", jwt.hs256_secret_file.is_some()),
        ]
        .into_iter()
        .find_map(|(key, set)| set.then_some(key))
        .unwrap_or("none");
        let fetched = if fetches_keys(&config.credentials) {
            " (not fetched by --check; `toolgate serve` fetches them at start-up)"
        } else {
            ""
        };
        lines.push(format!(
            "  jwt       issuer `{}`, keys from `{source}`{fetched}",
            jwt.issuer
        ));
    }
    if let Some(api_keys) = &config.credentials.api_keys {
        lines.push(format!("  api keys  `{}`", api_keys.file.display()));
    }
    lines.push(match &config.health {
        Some(paths) => format!("  health    {} (live), {} (ready)", paths.live, paths.ready),
        None => "  health    off".to_string(),
    });
    lines.push(match &config.audit {
        AuditTarget::File(path) => format!("  audit     `{}`", path.display()),
        AuditTarget::Rolling {
            path,
            rotation,
            keep,
        } => format!(
            "  audit     `{}`, a new file {}, {}",
            path.display(),
            match rotation {
                crate::gate::AuditRotation::Hourly => "every hour",
                crate::gate::AuditRotation::Daily => "every day",
            },
            if *keep == 0 {
                "all kept".to_string()
            } else {
                format!("the newest {keep} kept")
            }
        ),
        AuditTarget::Stdout => "  audit     standard output".to_string(),
        AuditTarget::Tracing => "  audit     standard error (tracing)".to_string(),
        AuditTarget::Off => "  audit     off".to_string(),
        AuditTarget::Otlp(otlp) => format!(
            "  audit     OTLP logs to {} (not contacted by --check)",
            otlp.endpoint
        ),
    });
    lines.push(format!(
        "  shutdown  open connections get {} s to finish",
        config.shutdown_grace.as_secs()
    ));
    lines
}

/// Whether the JWT settings fetch their keys (`jwks_url`, `discovery`).
pub(super) fn fetches_keys(credentials: &CredentialsConfig) -> bool {
    credentials
        .jwt
        .as_ref()
        .is_some_and(|jwt| jwt.jwks_url.is_some() || jwt.discovery)
}

/// Builds the authenticator from every credential setting without fetching anything:
/// a remote key source (`jwks_url` or `discovery`, when it is the only source) is
/// replaced by a placeholder key after its URL is checked, so the algorithms, secrets,
/// revocation file, preset and API key file are checked exactly as start-up checks
/// them.
pub(super) async fn credentials_offline(
    credentials: &CredentialsConfig,
) -> Result<(), ConfigError> {
    let mut credentials = credentials.clone();
    if let Some(jwt) = credentials.jwt.as_mut() {
        let sources = [
            jwt.jwks_file.is_some(),
            jwt.jwk_file.is_some(),
            jwt.jwks.is_some(),
            jwt.jwks_url.is_some(),
            jwt.discovery,
            jwt.pem_file.is_some(),
        ]
        .into_iter()
        .filter(|set| *set)
        .count();
        // With several sources start-up refuses them before fetching anything.
        if sources == 1 && (jwt.jwks_url.is_some() || jwt.discovery) {
            let (key, url) = match &jwt.jwks_url {
                Some(url) => ("jwt.jwks_url", url.as_str()),
                None => ("jwt.discovery", jwt.issuer.as_str()),
            };
            fetchable(url).map_err(|message| ConfigError::new(key, message))?;
            jwt.jwks_url = None;
            jwt.discovery = false;
            jwt.jwks = Some(PLACEHOLDER_JWKS.to_string());
        }
    }
    Authenticator::from_config(&credentials).await.map(drop)
}

/// Why keys could not be fetched from `text`, as start-up says it (the credentials'
/// own rule: `https`, or `http` to a loopback host only).
fn fetchable(text: &str) -> Result<(), String> {
    crate::credentials::keys::checked_url(text)
        .map(drop)
        .map_err(|error| error.to_string())
}

/// Whether records can be appended to the audit file, without creating it: an existing
/// file is opened for appending, a new one needs its directory.
fn appendable(path: &Path) -> std::io::Result<()> {
    if path.exists() {
        return std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map(drop);
    }
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    if directory.is_dir() {
        Ok(())
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("its directory `{}` does not exist", directory.display()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_fetched_over_https_or_from_loopback_only() {
        assert!(fetchable("https://idp.example.com/keys").is_ok());
        assert!(fetchable("http://127.0.0.1:9/keys").is_ok());
        assert!(fetchable("http://[::1]:9/keys").is_ok());
        assert!(fetchable("http://localhost/keys").is_ok());
        let plain = fetchable("http://idp.example.com/keys").unwrap_err();
        assert!(plain.contains("plain HTTP"), "{plain}");
        assert!(fetchable("ftp://idp.example.com/keys").is_err());
        assert!(fetchable("not a url").is_err());
    }

    #[test]
    fn the_placeholder_is_a_usable_key() {
        assert!(crate::credentials::KeySet::from_jwk_text(PLACEHOLDER_JWKS).is_ok());
    }
}
