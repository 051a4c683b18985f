//! The integration tests: one binary, one module per area.

// Tests abort on broken fixtures by design.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod api;
mod attacks;
mod cli;
mod corpus;
mod credentials;
mod deploy;
mod diff;
mod differential;
mod e2e;
mod examples;
mod explain;
mod external;
mod fail_closed;
mod format;
mod gate;
mod generate;
mod golden;
mod idp;
mod init;
mod limits;
mod lsp;
mod manual;
mod matrix;
mod quickstart;
mod reference;
mod regressions;
mod sarif;
mod scripts;
mod test_reports;
mod testing;
