//! TLS in `toolgate serve`, with certificates made in the test (rcgen): the listener
//! terminates TLS and follows a renewed certificate; an `https` upstream is verified
//! against a configured CA and shown a client certificate. Assertions are on what the
//! client received and what the recording upstream executed.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, Issuer, KeyPair};
use serde_json::Value;
use tower::ServiceExt;

use super::audit::tempdir;
use super::health::{key_file, recording_router, upstream, write_config, Recording};
use super::served::{refused_at_start, Running};
use super::support::{call, POLICY, RESOURCE};

/// A certificate authority made for the test.
struct Authority {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl Authority {
    fn new(name: &str) -> Authority {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        Authority {
            issuer: CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap(),
        }
    }

    fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A leaf certificate for `localhost` and 127.0.0.1: (certificate PEM, key PEM).
    fn leaf(&self, name: &str) -> (String, String) {
        let mut params =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().unwrap();
        let issuer: &Issuer<'_, KeyPair> = &self.issuer;
        let certificate = params.signed_by(&key, issuer).unwrap();
        (certificate.pem(), key.serialize_pem())
    }
}

/// A client trusting `ca` only, with a new connection (and handshake) per request.
fn client(ca: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .tls_certs_only([reqwest::Certificate::from_pem(ca.as_bytes()).unwrap()])
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// A `tools/call` through `client`: the status, or `None` if no HTTP answer came.
async fn status(client: &reqwest::Client, url: &str, key: &str, id: i64) -> Option<u16> {
    client
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("authorization", format!("Bearer {key}"))
        .body(call(id, "fs.read_file").to_string())
        .send()
        .await
        .ok()
        .map(|response| response.status().as_u16())
}

fn write(directory: &Path, name: &str, text: &str) {
    std::fs::write(directory.join(name), text).unwrap();
}

fn executed(recording: &Recording) -> Vec<Value> {
    recording
        .seen()
        .into_iter()
        .map(|seen| seen.message)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_listener_terminates_tls_and_follows_a_renewed_certificate() {
    let directory = tempdir();
    let key = key_file(&directory);
    let (upstream, recording) = upstream().await;
    let (first_ca, second_ca) = (Authority::new("first"), Authority::new("second"));
    let (cert, private) = first_ca.leaf("gate one");
    write(&directory, "cert.pem", &cert);
    write(&directory, "key.pem", &private);
    let config = write_config(
        &directory,
        &upstream,
        "[tls]\ncert_file = \"cert.pem\"\nkey_file = \"key.pem\"\nreload_seconds = 1\n",
    );
    let gate = Running::start(&config);
    assert!(gate.url.starts_with("https://127.0.0.1:"), "{}", gate.url);

    let trusts_first = client(&first_ca.pem());
    let trusts_second = client(&second_ca.pem());
    assert_eq!(status(&trusts_first, &gate.url, &key, 1).await, Some(200));
    assert_eq!(executed(&recording), vec![call(1, "fs.read_file")]);
    // Plain HTTP to the TLS port gets no HTTP answer; a client that does not trust the
    // certificate does not get through either.
    let plain = gate.url.replacen("https://", "http://", 1);
    let plain_status = status(&reqwest::Client::new(), &plain, &key, 2).await;
    assert!(
        plain_status.is_none(),
        "plain HTTP answered {plain_status:?}"
    );
    assert_eq!(status(&trusts_second, &gate.url, &key, 3).await, None);
    assert_eq!(executed(&recording).len(), 1);

    // A broken file is not taken: the certificate in force stays.
    write(&directory, "cert.pem", "not a certificate\n");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !gate.log().contains("TLS certificate not reloaded") {
        assert!(
            Instant::now() < deadline,
            "no reload attempt: {}",
            gate.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status(&trusts_first, &gate.url, &key, 4).await, Some(200));

    // The renewed certificate, from another authority, is served within seconds.
    let (cert, private) = second_ca.leaf("gate two");
    write(&directory, "key.pem", &private);
    write(&directory, "cert.pem", &cert);
    let deadline = Instant::now() + Duration::from_secs(20);
    while status(&client(&second_ca.pem()), &gate.url, &key, 5).await != Some(200) {
        assert!(
            Instant::now() < deadline,
            "the renewed certificate was not served; stderr:\n{}",
            gate.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // A new client (no TLS session to resume) trusting only the first authority fails.
    assert_eq!(
        status(&client(&first_ca.pem()), &gate.url, &key, 6).await,
        None
    );
    let ids: Vec<Value> = executed(&recording)
        .iter()
        .map(|m| m["id"].clone())
        .collect();
    assert_eq!(ids, [1, 4, 5]);
}

/// A TLS upstream that demands a client certificate from `ca`: its URL and record.
async fn tls_upstream(server: (String, String), ca: &str) -> (String, Recording) {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca.as_bytes()).unwrap())
        .unwrap();
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            vec![CertificateDer::from_pem_slice(server.0.as_bytes()).unwrap()],
            PrivateKeyDer::from_pem_slice(server.1.as_bytes()).unwrap(),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (router, recording) = recording_router();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let router = router.clone();
            tokio::spawn(async move {
                let Ok(stream) = acceptor.accept(stream).await else {
                    return;
                };
                let service = hyper::service::service_fn(
                    move |request: http::Request<hyper::body::Incoming>| {
                        router.clone().oneshot(request.map(Body::new))
                    },
                );
                let _ = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
            });
        }
    });
    (format!("https://{address}/upstream/mcp"), recording)
}

/// The gate's configuration for the `https` upstream, with `upstream_tls`.
fn https_config(directory: &Path, upstream: &str, upstream_tls: &str) -> std::path::PathBuf {
    std::fs::write(directory.join("gate.policy"), POLICY).unwrap();
    let path = directory.join("toolgate.toml");
    std::fs::write(
        &path,
        format!(
            "policy = \"gate.policy\"\nlisten = \"127.0.0.1:0\"\nupstream = \"{upstream}\"\n\
             resource = \"{RESOURCE}\"\n\n[api_keys]\nfile = \"keys.toml\"\n\n[upstream_tls]\n{upstream_tls}"
        ),
    )
    .unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_upstream_is_verified_and_shown_a_client_certificate() {
    let directory = tempdir();
    let key = key_file(&directory);
    let ca = Authority::new("internal");
    let (upstream, recording) = tls_upstream(ca.leaf("upstream"), &ca.pem()).await;
    let (cert, private) = ca.leaf("the gate");
    write(&directory, "ca.pem", &ca.pem());
    write(&directory, "client.pem", &cert);
    write(&directory, "client-key.pem", &private);

    let config = https_config(
        &directory,
        &upstream,
        "ca_file = \"ca.pem\"\ncert_file = \"client.pem\"\nkey_file = \"client-key.pem\"\n",
    );
    let gate = Running::start(&config);
    let plain = reqwest::Client::new();
    assert_eq!(status(&plain, &gate.url, &key, 1).await, Some(200));
    assert_eq!(executed(&recording), vec![call(1, "fs.read_file")]);
    drop(gate);

    // Without the client certificate the upstream refuses the connection: 502.
    let config = https_config(&directory, &upstream, "ca_file = \"ca.pem\"\n");
    let gate = Running::start(&config);
    assert_eq!(status(&plain, &gate.url, &key, 2).await, Some(502));
    drop(gate);
    // Trusting another CA, the gate does not talk to this upstream: 502.
    write(&directory, "other-ca.pem", &Authority::new("other").pem());
    let config = https_config(
        &directory,
        &upstream,
        "ca_file = \"other-ca.pem\"\ncert_file = \"client.pem\"\nkey_file = \"client-key.pem\"\n",
    );
    let gate = Running::start(&config);
    assert_eq!(status(&plain, &gate.url, &key, 3).await, Some(502));
    assert_eq!(
        executed(&recording).len(),
        1,
        "only the first call was executed"
    );
}

#[test]
fn unusable_tls_settings_stop_the_gate_with_the_key_named() {
    let directory = tempdir();
    key_file(&directory);
    write(&directory, "cert.pem", &Authority::new("x").leaf("gate").0);
    let config = write_config(
        &directory,
        "http://127.0.0.1:9/mcp",
        "[tls]\ncert_file = \"cert.pem\"\nkey_file = \"missing.pem\"\n",
    );
    let (status, stderr) = refused_at_start(&config);
    assert_eq!(status, 1, "{stderr}");
    assert!(stderr.contains("`tls`: `"), "{stderr}");
    assert!(stderr.contains("missing.pem`"), "{stderr}");

    let config = write_config(
        &directory,
        "http://127.0.0.1:9/mcp",
        "[upstream_tls]\nca_file = \"cert.pem\"\n",
    );
    let (status, stderr) = refused_at_start(&config);
    assert_eq!(status, 1, "{stderr}");
    assert!(
        stderr.contains("`upstream_tls`: only for an `https://` upstream"),
        "{stderr}"
    );
    let config = https_config(
        &directory,
        "https://127.0.0.1:9/mcp",
        "cert_file = \"cert.pem\"\n",
    );
    let (status, stderr) = refused_at_start(&config);
    assert_eq!(status, 1, "{stderr}");
    assert!(
        stderr.contains("`upstream_tls.key_file`: a client certificate needs both"),
        "{stderr}"
    );
}
