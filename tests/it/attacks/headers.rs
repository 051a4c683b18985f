//! Issue 11, classes 6 and 7: forwarding and principal headers. Behind a trusted proxy
//! that writes only `X-Forwarded-For` (nginx's default; here the test itself, on
//! 127.0.0.1), a client-sent `Forwarded` or `X-Real-IP` must not move the client into the
//! office network, and must not reach the upstream; a client-sent principal header in
//! any spelling (`_` for `-`, any case) must not reach the upstream either.

use super::harness::{naming, scratch, Findings, Gate, GateOptions, Kind, Upstream, Who};
use serde_json::Value;

const DROP: &[u8] =
    br#"{"jsonrpc":"2.0","id":"drop","method":"tools/call","params":{"name":"db.drop_table"}}"#;
const ECHO: &[u8] = br#"{"jsonrpc":"2.0","id":"echo","method":"tools/call","params":{"name":"public.echo","arguments":{"text":"hi"}}}"#;
const LIST: &[u8] = br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;

/// The outside address the trusted proxy reports, and the office one a client claims.
const OUTSIDE: &str = "203.0.113.7";
const OFFICE: &str = "10.9.9.9";

/// The headers of the one request that carried `X-Attack-Probe: probe`, as the upstream
/// received them.
fn received_headers(upstream: &Upstream, probe: &str) -> Vec<(String, String)> {
    let records = upstream.records();
    let request = records
        .iter()
        .find(|record| record["kind"] == "request" && record["headers"].to_string().contains(probe))
        .unwrap_or_else(|| panic!("no request with probe `{probe}` reached the upstream"));
    request["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| {
            let text = |value: &Value| value.as_str().unwrap().to_string();
            (text(&pair[0]), text(&pair[1]))
        })
        .collect()
}

#[test]
fn client_forwarding_headers_are_neither_believed_nor_forwarded() {
    let dir = scratch("forwarding");
    let upstream = Upstream::start(Kind::GoLike, &dir.0);
    let mut gate = Gate::start(&upstream, &dir.0, &GateOptions::default());
    let admin = gate.endpoint(Who::Admin);

    // Controls: the proxy's own `X-Forwarded-For` decides (office: allowed and run;
    // outside: denied, not run), so the `ip in office` deny and the trust both work.
    let mark = upstream.mark();
    let reply = admin.post(DROP, &[("X-Forwarded-For", OFFICE)]);
    assert_eq!(
        naming(&upstream.executed_since(mark), "db.drop_table").len(),
        1,
        "control: from the office (per the trusted proxy) `db.drop_table` should run: {}",
        reply.describe()
    );
    let mark = upstream.mark();
    let reply = admin.post(DROP, &[("X-Forwarded-For", OUTSIDE)]);
    assert!(
        upstream.executed_since(mark).is_empty() && reply.status == 403,
        "control: from outside `db.drop_table` should be denied: {}",
        reply.describe()
    );

    let mut findings = Findings::new("client forwarding headers");
    let variants: [(&str, Vec<(&str, String)>); 5] = [
        (
            "`Forwarded: for=` beside the proxy's X-Forwarded-For",
            vec![
                ("X-Forwarded-For", OUTSIDE.into()),
                ("Forwarded", format!("for={OFFICE}")),
            ],
        ),
        (
            "`Forwarded` before the proxy's X-Forwarded-For",
            vec![
                ("Forwarded", format!("for=\"{OFFICE}\";proto=http")),
                ("X-Forwarded-For", OUTSIDE.into()),
            ],
        ),
        (
            "`X-Real-IP` beside the proxy's X-Forwarded-For",
            vec![
                ("X-Forwarded-For", OUTSIDE.into()),
                ("X-Real-IP", OFFICE.into()),
            ],
        ),
        (
            "`Forwarded` alone",
            vec![("Forwarded", format!("for={OFFICE}"))],
        ),
        ("`X-Real-IP` alone", vec![("X-Real-IP", OFFICE.into())]),
    ];
    for (variant, headers) in &variants {
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(name, value)| (*name, value.as_str()))
            .collect();
        let mark = upstream.mark();
        let reply = admin.post(DROP, &headers);
        let executed = upstream.executed_since(mark);
        findings.check(executed.is_empty(), || {
            format!(
                "{variant}: the ip deny was lifted, the upstream executed {executed:?} ({})",
                reply.describe()
            )
        });
    }

    // What the upstream receives of an allowed request carrying every forwarding header.
    let probe = "forwarding-probe";
    let reply = admin.post(
        ECHO,
        &[
            ("X-Forwarded-For", OUTSIDE),
            ("Forwarded", "for=10.9.9.9;host=evil.example"),
            ("X-Real-IP", OFFICE),
            ("X-Forwarded-Host", "evil.example"),
            ("X-Forwarded-Proto", "gopher"),
            ("X-Attack-Probe", probe),
        ],
    );
    assert_eq!(reply.status, 200, "control: {}", reply.describe());
    let headers = received_headers(&upstream, probe);
    for (name, value) in &headers {
        let lower = name.to_ascii_lowercase().replace('_', "-");
        let client_sent = [
            "forwarded",
            "x-real-ip",
            "x-forwarded-host",
            "x-forwarded-proto",
        ];
        findings.check(!client_sent.contains(&lower.as_str()), || {
            format!("the upstream received the client's `{name}: {value}`")
        });
    }
    let forwarded_for: Vec<&String> = headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("x-forwarded-for"))
        .map(|(_, value)| value)
        .collect();
    findings.check(
        forwarded_for.len() == 1
            && forwarded_for[0].contains(OUTSIDE)
            && !forwarded_for[0].contains(OFFICE),
        || format!("the upstream's X-Forwarded-For is not the gate's client address: {forwarded_for:?}"),
    );
    gate.service.assert_running();
    findings.finish();
}

#[test]
fn forged_principal_headers_never_reach_the_upstream() {
    let dir = scratch("principal-headers");
    let upstream = Upstream::start(Kind::GoLike, &dir.0);
    let mut gate = Gate::start(&upstream, &dir.0, &GateOptions::default());
    let guest = gate.endpoint(Who::Guest);
    let mut findings = Findings::new("forged principal headers");
    let spellings = [
        "X_Toolgate_Roles",
        "x-toolgate_roles",
        "X-TOOLGATE-ROLES",
        "x_toolgate_subject",
        "X-Toolgate_Client",
    ];
    for (index, spelling) in spellings.iter().enumerate() {
        let probe = format!("principal-probe-{index}");
        let reply = guest.post(
            LIST,
            &[(spelling, "admin-forged"), ("X-Attack-Probe", &probe)],
        );
        assert_eq!(
            reply.status,
            200,
            "control `{spelling}`: {}",
            reply.describe()
        );
        for (name, value) in received_headers(&upstream, &probe) {
            let normal = name.to_ascii_lowercase().replace('_', "-");
            findings.check(
                !(normal.starts_with("x-toolgate-") && value.contains("admin-forged")),
                || format!("sent as `{spelling}`: the upstream received `{name}: {value}`"),
            );
        }
    }
    gate.service.assert_running();
    findings.finish();
}
