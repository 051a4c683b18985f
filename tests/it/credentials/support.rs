//! Test keys (generated once with aws-lc-rs), token signing, and a loopback HTTP server.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair, RsaPublicKeyComponents,
    ECDSA_P256_SHA256_FIXED_SIGNING,
};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use jiff::Timestamp;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use toolgate::credentials::{install_crypto_provider, Clock, JwtScheme, JwtSettings, KeySet, Keys};

pub const ISSUER: &str = "https://idp.example.com/";
pub const RESOURCE: &str = "https://mcp.example.com/mcp";
/// The tests' "now": 2026-11-26T10:00:00Z.
pub const NOW: i64 = 1_795_687_200;

/// One signing key and its public forms.
pub struct TestKey {
    pub algorithm: Algorithm,
    pub kid: String,
    pub encoding: EncodingKey,
    /// The public key as a JWK (with `kid`).
    pub jwk: Value,
    /// The public key as PEM (`PUBLIC KEY`).
    pub public_pem: String,
}

fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|chunk| std::str::from_utf8(chunk).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn rsa_key(kid: &str) -> TestKey {
    let pair = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let pkcs8: Pkcs8V1Der = pair.as_der().unwrap();
    let encoding =
        EncodingKey::from_rsa_pem(pem("PRIVATE KEY", pkcs8.as_ref()).as_bytes()).unwrap();
    let components = RsaPublicKeyComponents::<Vec<u8>>::from(pair.public_key());
    let spki: PublicKeyX509Der = pair.public_key().as_der().unwrap();
    TestKey {
        algorithm: Algorithm::RS256,
        kid: kid.into(),
        encoding,
        jwk: json!({"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
                    "n": b64(&components.n), "e": b64(&components.e)}),
        public_pem: pem("PUBLIC KEY", spki.as_ref()),
    }
}

pub fn ec_key(kid: &str) -> TestKey {
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let pkcs8 = pair.to_pkcs8v1().unwrap();
    let point = pair.public_key().as_ref().to_vec();
    let (x, y) = point[1..].split_at(32);
    let spki: PublicKeyX509Der = pair.public_key().as_der().unwrap();
    TestKey {
        algorithm: Algorithm::ES256,
        kid: kid.into(),
        encoding: EncodingKey::from_ec_der(pkcs8.as_ref()),
        jwk: json!({"kty": "EC", "kid": kid, "crv": "P-256", "x": b64(x), "y": b64(y)}),
        public_pem: pem("PUBLIC KEY", spki.as_ref()),
    }
}

pub fn ed_key(kid: &str) -> TestKey {
    let pair = Ed25519KeyPair::generate().unwrap();
    let pkcs8 = pair.to_pkcs8().unwrap();
    let spki: PublicKeyX509Der = pair.public_key().as_der().unwrap();
    TestKey {
        algorithm: Algorithm::EdDSA,
        kid: kid.into(),
        encoding: EncodingKey::from_ed_der(pkcs8.as_ref()),
        jwk: json!({"kty": "OKP", "kid": kid, "crv": "Ed25519", "x": b64(pair.public_key().as_ref())}),
        public_pem: pem("PUBLIC KEY", spki.as_ref()),
    }
}

/// The process's shared test keys (RSA generation is slow: once).
pub struct Keyring {
    pub rsa: TestKey,
    pub ec: TestKey,
    pub ed: TestKey,
    /// A second RSA key, never published (for bad signatures and rotation).
    pub other_rsa: TestKey,
}

pub fn keyring() -> &'static Keyring {
    static KEYS: OnceLock<Keyring> = OnceLock::new();
    KEYS.get_or_init(|| {
        install_crypto_provider();
        Keyring {
            rsa: rsa_key("rsa-1"),
            ec: ec_key("ec-1"),
            ed: ed_key("ed-1"),
            other_rsa: rsa_key("rsa-2"),
        }
    })
}

pub fn jwks(keys: &[&TestKey]) -> String {
    json!({"keys": keys.iter().map(|key| key.jwk.clone()).collect::<Vec<_>>()}).to_string()
}

/// Good claims at [`NOW`].
pub fn claims() -> Value {
    json!({
        "iss": ISSUER, "aud": RESOURCE, "sub": "user-1",
        "exp": NOW + 3600, "iat": NOW - 10, "nbf": NOW - 10, "jti": "jti-1",
        "scope": "tools:read", "roles": ["developer"],
    })
}

/// [`claims`] with some claims replaced (`null` removes one).
pub fn claims_with(changes: Value) -> Value {
    let mut claims = claims();
    for (name, value) in changes.as_object().unwrap() {
        if value.is_null() {
            claims.as_object_mut().unwrap().remove(name);
        } else {
            claims[name] = value.clone();
        }
    }
    claims
}

/// A token signed by `key` with its `kid` and `typ: at+jwt`.
pub fn sign(key: &TestKey, claims: &Value) -> String {
    let mut header = Header::new(key.algorithm);
    header.kid = Some(key.kid.clone());
    header.typ = Some("at+jwt".into());
    jsonwebtoken::encode(&header, claims, &key.encoding).unwrap()
}

/// A token with a hand-made header and payload, signed by `key` with `algorithm`.
pub fn sign_raw(header: &str, payload: &str, key: &EncodingKey, algorithm: Algorithm) -> String {
    let signed = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
    let signature = jsonwebtoken::crypto::sign(signed.as_bytes(), key, algorithm).unwrap();
    format!("{signed}.{signature}")
}

/// A token with a hand-made header and payload and a made-up signature.
pub fn unsigned(header: &str, payload: &str, signature: &str) -> String {
    format!(
        "{}.{}.{signature}",
        b64(header.as_bytes()),
        b64(payload.as_bytes())
    )
}

/// A clock the test moves.
#[derive(Clone)]
pub struct TestClock(Arc<AtomicI64>);

impl TestClock {
    pub fn new() -> TestClock {
        TestClock(Arc::new(AtomicI64::new(NOW)))
    }
    pub fn set(&self, second: i64) {
        self.0.store(second, Ordering::SeqCst);
    }
    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
    pub fn clock(&self) -> Clock {
        let now = Arc::clone(&self.0);
        Clock::from_fn(move || Timestamp::from_second(now.load(Ordering::SeqCst)).unwrap())
    }
}

pub fn settings(clock: &TestClock) -> JwtSettings {
    let mut settings = JwtSettings::new(ISSUER, RESOURCE);
    settings.clock = clock.clock();
    settings
}

/// A scheme with the keyring's public keys, at [`NOW`].
pub fn scheme() -> JwtScheme {
    let ring = keyring();
    let keys = KeySet::from_jwk_text(&jwks(&[&ring.rsa, &ring.ec, &ring.ed])).unwrap();
    JwtScheme::new(settings(&TestClock::new()), Keys::from(keys))
}

/// A request head with these headers.
pub fn head(headers: &[(&str, &str)]) -> http::request::Parts {
    let mut builder = http::Request::builder().uri("/mcp");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(()).unwrap().into_parts().0
}

pub fn bearer(token: &str) -> http::request::Parts {
    head(&[("authorization", &format!("Bearer {token}"))])
}

/// What the loopback server answers on one path.
#[derive(Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub headers: Vec<(String, String)>,
}

impl Reply {
    pub fn json(body: impl Into<String>) -> Reply {
        Reply {
            status: 200,
            body: body.into(),
            headers: vec![("content-type".into(), "application/json".into())],
        }
    }
}

/// A loopback HTTP/1.1 server answering configured replies and counting hits per path.
#[derive(Clone)]
pub struct Server {
    pub base: String,
    replies: Arc<Mutex<HashMap<String, Reply>>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

impl Server {
    pub async fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = Server {
            base,
            replies: Arc::default(),
            hits: Arc::default(),
        };
        let handle = server.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let handle = handle.clone();
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buffer = [0u8; 4096];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(read) => request.extend_from_slice(&buffer[..read]),
                        }
                    }
                    let text = String::from_utf8_lossy(&request);
                    let path = text.split_whitespace().nth(1).unwrap_or("/").to_string();
                    let reply = handle.reply(&path);
                    let mut response = format!(
                        "HTTP/1.1 {} X\r\ncontent-length: {}\r\nconnection: close\r\n",
                        reply.status,
                        reply.body.len()
                    );
                    for (name, value) in &reply.headers {
                        response.push_str(&format!("{name}: {value}\r\n"));
                    }
                    response.push_str("\r\n");
                    response.push_str(&reply.body);
                    let _ = stream.write_all(response.as_bytes()).await;
                    let _ = stream.shutdown().await;
                });
            }
        });
        server
    }

    fn reply(&self, path: &str) -> Reply {
        *self
            .hits
            .lock()
            .unwrap()
            .entry(path.to_string())
            .or_default() += 1;
        self.replies
            .lock()
            .unwrap()
            .get(path)
            .cloned()
            .unwrap_or(Reply {
                status: 404,
                body: "not found".into(),
                headers: Vec::new(),
            })
    }

    pub fn set(&self, path: &str, reply: Reply) {
        self.replies.lock().unwrap().insert(path.to_string(), reply);
    }

    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }

    pub fn total_hits(&self) -> usize {
        self.hits.lock().unwrap().values().sum()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}
