//! Graceful shutdown of `toolgate serve` (the built binary): on `SIGTERM` or `SIGINT`
//! the listener closes at once, requests and event streams in flight finish with the
//! upstream's real answer within `[shutdown] grace_seconds`, and the process exits 0.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::audit::tempdir;
use super::health::{key_file, post_call, upstream, write_config, Running};

/// Waits (at most `bound`) until a new connection to `gate` is refused, checking each
/// time that the gate is still running (draining, not gone).
async fn refused_while_running(gate: &mut Running, bound: Duration) {
    let deadline = Instant::now() + bound;
    loop {
        assert!(
            gate.exited().is_none(),
            "the gate exited before its requests in flight finished; stderr:\n{}",
            gate.log()
        );
        match tokio::net::TcpStream::connect(gate.address).await {
            Err(error) => {
                assert_eq!(
                    error.kind(),
                    std::io::ErrorKind::ConnectionRefused,
                    "{error}"
                );
                return;
            }
            Ok(_) => {
                assert!(
                    Instant::now() < deadline,
                    "new connections still accepted {bound:?} after the signal; stderr:\n{}",
                    gate.log()
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_refuses_new_connections_and_lets_requests_and_streams_in_flight_finish() {
    let directory = tempdir();
    let key = key_file(&directory);
    let (upstream, recording) = upstream().await;
    let config = write_config(&directory, &upstream, "[shutdown]\ngrace_seconds = 120\n");
    let mut gate = Running::start(&config);

    // A call the upstream holds, and an event stream whose last event it holds.
    let slow = {
        let url = gate.url.clone();
        let key = key.clone();
        tokio::spawn(async move {
            let response = post_call(&url, Some(&key), 1, "fs.read_slow").await;
            let status = response.status().as_u16();
            (status, response.json::<Value>().await)
        })
    };
    recording
        .arrived("fs.read_slow", Duration::from_secs(30))
        .await;
    let mut stream = post_call(&gate.url, Some(&key), 2, "fs.read_stream").await;
    assert_eq!(stream.status(), 200);
    let first = tokio::time::timeout(Duration::from_secs(30), stream.chunk())
        .await
        .expect("the first event arrives")
        .unwrap()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&first).contains("notifications/progress"),
        "{first:?}"
    );

    gate.signal("TERM");
    refused_while_running(&mut gate, Duration::from_secs(20)).await;

    recording.release();
    let (status, body) = tokio::time::timeout(Duration::from_secs(60), slow)
        .await
        .expect("the call in flight is answered")
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        body.unwrap(),
        json!({"jsonrpc": "2.0", "id": 1, "result": {"slow": "done"}})
    );
    let mut rest = String::new();
    let read = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(chunk) = stream.chunk().await.unwrap() {
            rest.push_str(&String::from_utf8_lossy(&chunk));
        }
    });
    read.await.expect("the stream ends");
    assert!(rest.contains(r#""result":{"stream":"done"}"#), "{rest}");

    let status = gate.exit_within(Duration::from_secs(30)).await;
    assert_eq!(status.code(), Some(0), "stderr:\n{}", gate.log());
    let seen = recording.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_grace_period_bounds_the_wait_for_requests_that_do_not_finish() {
    let directory = tempdir();
    let key = key_file(&directory);
    let (upstream, recording) = upstream().await;
    let config = write_config(&directory, &upstream, "[shutdown]\ngrace_seconds = 1\n");
    let mut gate = Running::start(&config);
    let held = {
        let url = gate.url.clone();
        tokio::spawn(async move {
            let response = reqwest::Client::new()
                .post(&url)
                .timeout(Duration::from_secs(120))
                .header("content-type", "application/json")
                .header("accept", "application/json, text/event-stream")
                .header("authorization", format!("Bearer {key}"))
                .body(super::support::call(1, "fs.read_slow").to_string())
                .send()
                .await;
            response.map(|response| response.status().as_u16())
        })
    };
    recording
        .arrived("fs.read_slow", Duration::from_secs(30))
        .await;
    gate.signal("TERM");
    // Well under the 10 s default: the configured second is what ended the wait.
    let status = gate.exit_within(Duration::from_secs(8)).await;
    assert_eq!(status.code(), Some(0), "stderr:\n{}", gate.log());
    let answer = tokio::time::timeout(Duration::from_secs(30), held)
        .await
        .expect("the client learns the connection closed")
        .unwrap();
    assert!(answer.is_err(), "the held call got an answer: {answer:?}");
    assert!(
        gate.log()
            .contains("connections still open after the grace period"),
        "{}",
        gate.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_stops_an_idle_gate_with_status_zero() {
    let directory = tempdir();
    key_file(&directory);
    let (upstream, _recording) = upstream().await;
    let mut gate = Running::start(&write_config(&directory, &upstream, ""));
    assert_eq!(gate.get(http::Method::GET, "/healthz").await.0, 200);
    gate.signal("INT");
    let status = gate.exit_within(Duration::from_secs(30)).await;
    assert_eq!(status.code(), Some(0), "stderr:\n{}", gate.log());
    assert!(tokio::net::TcpStream::connect(gate.address).await.is_err());
}
