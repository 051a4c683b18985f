//! Issue 11, class 5: event-stream events the gate cannot read. An event that is not
//! JSON to the gate (a lone surrogate escape, a leading byte order mark, `data :` with a
//! space, a NUL after the JSON) must be dropped and the stream ended, never passed on:
//! the client must not read a denied tool's name.

use super::harness::{
    scratch, Endpoint, Findings, Gate, GateOptions, Kind, Upstream, Who, DENIED_TOOLS,
};

const LIST: &[u8] = br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;

const FRAMINGS: [&str; 4] = ["sse-surrogate", "sse-bom", "sse-data-space", "sse-nul"];

#[test]
fn unreadable_events_never_reach_the_client() {
    let dir = scratch("sse-framing");
    let upstream = Upstream::start(Kind::GoLike, &dir.0);

    // Baseline, unprotected: each framing carries the whole list.
    for framing in FRAMINGS {
        let reply = Endpoint::direct(&upstream).post(LIST, &[("X-Attack-Framing", framing)]);
        assert_eq!(
            reply.leaks(&DENIED_TOOLS).len(),
            2,
            "{framing}: {}",
            reply.describe()
        );
        assert_eq!(
            reply.header("content-type").as_deref(),
            Some("text/event-stream")
        );
    }

    let mut gate = Gate::start(&upstream, &dir.0, &GateOptions::default());
    let endpoint = gate.endpoint(Who::Limited);
    // Control: a well-formed event stream is filtered.
    let control = endpoint.post(LIST, &[("X-Attack-Framing", "sse")]);
    assert!(
        control.leaks(&DENIED_TOOLS).is_empty() && control.text().contains("github.list_issues"),
        "control: a plain event stream is not filtered: {}",
        control.describe()
    );

    let mut findings = Findings::new("unreadable events");
    for framing in FRAMINGS {
        let reply = endpoint.post(LIST, &[("X-Attack-Framing", framing)]);
        let leaks = reply.leaks(&DENIED_TOOLS);
        findings.check(leaks.is_empty(), || {
            format!(
                "`{framing}`: the client read {leaks:?}: {}",
                reply.describe()
            )
        });
    }
    gate.service.assert_running();
    findings.finish();
}
