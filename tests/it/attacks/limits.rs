//! Issue 11, class 9: denial of service. A request head must arrive within the
//! header-read timeout (`[limits] header_read_timeout_seconds`), and a batch holds at
//! most `[limits] max_batch` messages (default 100).

use std::io::Write;
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use super::harness::{
    read_until_closed, scratch, Findings, Gate, GateOptions, Kind, Upstream, Who,
};

/// Up to how long the gate may take to close a slow head, with a 1 s timeout (generous:
/// the machine is shared).
const CLOSED_WITHIN: Duration = Duration::from_secs(8);

#[test]
fn slow_request_heads_are_cut_off() {
    let dir = scratch("slow-head");
    let upstream = Upstream::start(Kind::GoLike, &dir.0);
    let mut gate = Gate::start(
        &upstream,
        &dir.0,
        &GateOptions {
            extra: "[limits]\nheader_read_timeout_seconds = 1\n",
        },
    );
    // Control: a ping goes through (the gate runs with this configuration).
    let reply = gate
        .endpoint(Who::Limited)
        .post(br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#, &[]);
    assert_eq!(reply.status, 200, "control: {}", reply.describe());

    let mut findings = Findings::new("slow request heads");
    // A partial header line, then silence.
    let mut stream = TcpStream::connect(&gate.address).unwrap();
    stream
        .write_all(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a")
        .unwrap();
    let (_, closed) = read_until_closed(&mut stream, CLOSED_WITHIN);
    findings.check(closed, || {
        format!("a partial head stayed open past {CLOSED_WITHIN:?} (timeout 1 s)")
    });

    // A head trickled one header line every 300 ms: each line is prompt, the head is not.
    let mut stream = TcpStream::connect(&gate.address).unwrap();
    stream
        .write_all(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .unwrap();
    let started = Instant::now();
    let mut cut = false;
    while started.elapsed() < CLOSED_WITHIN {
        thread::sleep(Duration::from_millis(300));
        let line = format!("X-Trickle-{}: a\r\n", started.elapsed().as_millis());
        if stream.write_all(line.as_bytes()).is_err() {
            cut = true;
            break;
        }
        stream.set_nonblocking(true).unwrap();
        let mut probe = [0u8; 1];
        let peeked = std::io::Read::read(&mut stream, &mut probe);
        stream.set_nonblocking(false).unwrap();
        match peeked {
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
            // Data (an error response), end of stream or a reset: the gate gave up.
            _ => {
                cut = true;
                break;
            }
        }
    }
    findings.check(cut, || {
        format!("a head trickled over {CLOSED_WITHIN:?} was still being read (timeout 1 s)")
    });
    gate.service.assert_running();
    findings.finish();
}

/// The same without configuring anything: the default timeout is 10 s (GATE.md).
#[test]
fn slow_request_heads_are_cut_off_by_default() {
    let dir = scratch("slow-head-default");
    let upstream = Upstream::start(Kind::GoLike, &dir.0);
    let mut gate = Gate::start(&upstream, &dir.0, &GateOptions::default());
    let within = Duration::from_secs(20);
    let mut stream = TcpStream::connect(&gate.address).unwrap();
    stream
        .write_all(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: a")
        .unwrap();
    let (_, closed) = read_until_closed(&mut stream, within);
    gate.service.assert_running();
    assert!(
        closed,
        "a partial head stayed open past {within:?} (default timeout 10 s)"
    );
}

/// A batch of `count` pings, their ids carrying `marker`.
fn batch(count: usize, marker: &str) -> String {
    let messages: Vec<String> = (0..count)
        .map(|index| format!(r#"{{"jsonrpc":"2.0","id":"{marker}-{index}","method":"ping"}}"#))
        .collect();
    format!("[{}]", messages.join(","))
}

#[test]
fn batches_over_the_cap_are_refused() {
    let dir = scratch("batch-cap");
    let upstream = Upstream::start(Kind::GoLike, &dir.0);
    let mut gate = Gate::start(&upstream, &dir.0, &GateOptions::default());
    let endpoint = gate.endpoint(Who::Limited);

    // Control: 100 messages (the default cap) go through.
    let reply = endpoint.post(batch(100, "batch-of-100").as_bytes(), &[]);
    assert!(
        reply.status == 200 && upstream.received("batch-of-100-99"),
        "control: a batch of 100 did not go through: {}",
        reply.describe()
    );

    let mut findings = Findings::new("batch cap");
    let reply = endpoint.post(batch(101, "batch-of-101").as_bytes(), &[]);
    findings.check(reply.status == 400, || {
        format!("a batch of 101: expected 400, got {}", reply.describe())
    });
    findings.check(!upstream.received("batch-of-101"), || {
        "a batch of 101 reached the upstream".to_string()
    });
    gate.service.assert_running();
    findings.finish();
}
