//! Issue 11, class 4: resumption. `GET /mcp` with `Last-Event-ID` makes the TypeScript
//! SDK replay the stored events of a stream (its event store primes every POST stream
//! with an event id); the replayed list must be filtered like the original, and a session
//! id (with its event ids) is no use to another principal.

use std::time::Duration;

use super::harness::{
    scratch, Endpoint, Findings, Gate, GateOptions, Kind, Reply, Session, Upstream, Who,
    DENIED_TOOLS,
};

const LIST: &[u8] = br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
const SSE: [(&str, &str); 1] = [("X-Attack-Framing", "sse")];

/// Lists the tools in `session` and replays that POST's stream with `GET`, presented by
/// `replayer` (the same session, or its id in another principal's hands).
fn list_then_replay(session: &Session, replayer: &Session, probe: &str) -> (Reply, Reply) {
    let list = session.post(LIST, &[]);
    // The SDK's event store primes every POST stream with an event of empty data and an
    // id (MCP resumption): a gate that drops it breaks resumption for every client.
    let event = list.first_event_id().unwrap_or_else(|| {
        panic!(
            "no priming event id on the list stream (resumption broken): {}",
            list.describe()
        )
    });
    let replay = replayer.send(
        "GET",
        b"",
        &[
            ("Accept", "text/event-stream"),
            ("Last-Event-ID", &event),
            ("X-Attack-Probe", probe),
        ],
        Duration::from_secs(2),
    );
    (list, replay)
}

#[test]
fn resumed_streams_are_filtered_and_bound_to_their_principal() {
    let dir = scratch("resumption");
    let upstream = Upstream::start(Kind::TypeScript, &dir.0);

    // Baseline, unprotected: the replay repeats the whole list.
    let direct = Endpoint::direct(&upstream).session(&SSE);
    let (_, replay) = list_then_replay(&direct, &direct, "baseline");
    assert_eq!(
        replay.leaks(&DENIED_TOOLS).len(),
        2,
        "baseline: GET with Last-Event-ID replayed no list: {}",
        replay.describe()
    );

    let mut gate = Gate::start(&upstream, &dir.0, &GateOptions::default());
    let mut findings = Findings::new("resumption");
    let limited = gate.endpoint(Who::Limited).session(&SSE);

    // The same principal resuming its own stream.
    let (list, replay) = list_then_replay(&limited, &limited, "own-replay");
    assert!(
        list.leaks(&DENIED_TOOLS).is_empty(),
        "control: the POST stream's list is not filtered: {}",
        list.describe()
    );
    let leaks = replay.leaks(&DENIED_TOOLS);
    findings.check(leaks.is_empty(), || {
        format!(
            "own session, GET with Last-Event-ID: the client read {leaks:?}: {}",
            replay.describe()
        )
    });

    // Another principal presenting `limited`'s session id.
    for (who, name) in [(Who::Guest, "guest"), (Who::Admin, "admin")] {
        let stolen = limited.as_seen_by(&gate.endpoint(who));
        // A tool result of `limited`'s, then its replay by the other principal.
        let private = format!("private-result-of-limited-for-{name}");
        let echo = format!(
            r#"{{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{{"name":"public.echo","arguments":{{"text":"{private}"}}}}}}"#
        );
        let result = limited.post(echo.as_bytes(), &[]);
        assert!(
            result.text().contains(&private),
            "control: {}",
            result.describe()
        );
        let event = result
            .first_event_id()
            .unwrap_or_else(|| panic!("no priming event id: {}", result.describe()));
        let probe = format!("stolen-get-{name}");
        let replay = stolen.send(
            "GET",
            b"",
            &[
                ("Accept", "text/event-stream"),
                ("Last-Event-ID", &event),
                ("X-Attack-Probe", &probe),
            ],
            Duration::from_secs(2),
        );
        findings.check(!replay.text().contains(&private), || {
            format!(
                "`{name}` replayed `limited`'s tool result: {}",
                replay.describe()
            )
        });
        findings.check(replay.status / 100 == 4, || {
            format!(
                "`{name}` GET with `limited`'s session: expected 4xx, got {}",
                replay.describe()
            )
        });
        findings.check(!upstream.received(&probe), || {
            format!("`{name}` GET with `limited`'s session reached the upstream")
        });

        let probe = format!("stolen-post-{name}");
        let reply = stolen.post(LIST, &[("X-Attack-Probe", &probe)]);
        findings.check(reply.status / 100 == 4, || {
            format!(
                "`{name}` POST with `limited`'s session: expected 4xx, got {}",
                reply.describe()
            )
        });
        findings.check(!upstream.received(&probe), || {
            format!("`{name}` POST with `limited`'s session reached the upstream")
        });
    }
    gate.service.assert_running();
    findings.finish();
}
