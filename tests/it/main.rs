//! The integration tests: one binary, one module per area.

// Tests abort on broken fixtures by design.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod api;
mod cli;
mod corpus;
mod differential;
mod examples;
mod explain;
mod format;
mod generate;
mod golden;
mod init;
mod matrix;
mod reference;
mod sarif;
mod testing;
