//! The gate on the wire: the tower layer driven in process, and `toolgate serve`.

mod arguments;
mod audit;
mod audit_files;
mod health;
mod input;
mod list_faults;
mod lists;
mod metadata;
mod metrics;
mod otlp;
mod paths;
mod reload;
mod response_paths;
mod responses;
mod serve;
mod serve_check;
mod served;
mod shadow;
mod shutdown;
mod support;
mod timing;
mod tls;
mod watched_files;
