//! The attack suite of issue 11 (GATE.md, "One reading of every message"): `toolgate
//! serve` in front of three real upstreams on loopback (the TypeScript SDK's
//! `createMcpExpressApp`, the Python SDK, and a server that reads JSON as Go's
//! `encoding/json` does), attacked the way issue 11 found the gate could be.
//!
//! The oracle is the upstream's own record (tests/e2e/attack/: every request it received,
//! headers and raw body, and everything it executed) and the bytes the client received,
//! never the gate's status code alone. Each test first shows the attack working against
//! the upstream without the gate (so a pass is not a harness that attacks nothing), then
//! runs every variant through the gate and reports all variants that went through.
//! docs/e2e.md, "The attack suite", lists the classes.

mod charset;
mod decisions;
mod folding;
mod harness;
mod headers;
mod limits;
mod list_ids;
mod resumption;
mod sse_framing;
mod step_up;
