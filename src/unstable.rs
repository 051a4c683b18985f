//! toolgate's internals: each stage of the pipeline and the analyses built on it.
//!
//! For toolgate's own binary, tests, benchmarks and fuzz targets. **No stability
//! promise**: anything here may change or go in any release. Embedders use the crate
//! root ([`crate::Policy`], [`crate::Engine`], ...) and the [`crate::gate`] and
//! [`crate::credentials`] modules.
//!
//! The pipeline, one module per stage, each taking the previous stage's output:
//! [`source`] → [`parse`] → [`ast`] → [`check`] → [`compile`] → [`index`] → [`eval`].
//! The analyses run the engine's decision procedure over the checked policy:
//! [`explain`], [`matrix`] (what `toolgate table` shows), [`diff`], [`testing`] (policy
//! test files); [`format`] and [`init`] write policies; [`wire`] is `toolgate eval`'s
//! JSON request and decision forms; [`symbols`] is what `toolgate lsp` knows of names.

#[path = "ast.rs"]
pub mod ast;
#[path = "check/mod.rs"]
pub mod check;
#[path = "claim_path.rs"]
pub mod claim_path;
#[path = "compile/mod.rs"]
pub mod compile;
#[path = "diagnostic.rs"]
pub mod diagnostic;
#[path = "diff/mod.rs"]
pub mod diff;
#[path = "eval/mod.rs"]
pub mod eval;
#[path = "explain/mod.rs"]
pub mod explain;
#[path = "format/mod.rs"]
pub mod format;
#[path = "glob/mod.rs"]
pub mod glob;
#[path = "ids.rs"]
pub mod ids;
#[path = "index.rs"]
pub mod index;
#[path = "init.rs"]
pub mod init;
#[path = "limits.rs"]
pub mod limits;
#[path = "matrix/mod.rs"]
pub mod matrix;
#[path = "net.rs"]
pub mod net;
#[path = "parse/mod.rs"]
pub mod parse;
#[path = "principal.rs"]
pub mod principal;
#[path = "source.rs"]
pub mod source;
#[path = "symbols.rs"]
pub mod symbols;
#[path = "testing/mod.rs"]
pub mod testing;
#[path = "visible.rs"]
pub mod visible;
#[path = "window.rs"]
pub mod window;
#[path = "wire.rs"]
pub mod wire;
