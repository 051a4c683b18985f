//! Any text through parse, check and compile: never a panic, and every diagnostic's
//! span lies inside its file on character boundaries.
#![no_main]

use libfuzzer_sys::fuzz_target;
use toolgate::check::{self, Config};
use toolgate::source::Sources;
use toolgate::{compile, parse};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let sources = Sources::from_text("fuzz.policy", text);
    let parsed = parse::parse(&sources);
    let config = Config {
        tools: None,
        incomplete: !parsed.diagnostics.is_empty(),
    };
    let checked = check::check(&parsed.policy, &config);
    for diagnostic in parsed.diagnostics.iter().chain(&checked.diagnostics) {
        let range = diagnostic.span.range();
        assert!(range.start <= range.end && range.end <= text.len(), "{diagnostic:?}");
        assert!(text.is_char_boundary(range.start) && text.is_char_boundary(range.end));
        let _ = sources.location(diagnostic.span);
    }
    if let Some(policy) = checked.policy {
        let _ = compile::compile(&sources, &policy);
    }
});
