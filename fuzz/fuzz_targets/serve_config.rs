//! Any text as `toolgate serve`'s TOML configuration: never a panic; an error names the
//! file and says what is wrong; a configuration that checks has credentials configured
//! (the gate never starts open).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use toolgate::gate::serve::ServeConfig;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match ServeConfig::parse(text, "fuzz.toml", Path::new("/nonexistent/base")) {
        Ok(config) => {
            let credentials = &config.credentials;
            assert!(credentials.jwt.is_some() || credentials.api_keys.is_some(), "{text}");
            assert_eq!(config.name, "fuzz.toml");
        }
        Err(error) => {
            assert_eq!(error.file, "fuzz.toml");
            assert!(!error.message.is_empty(), "{text}");
            assert!(!error.to_string().is_empty());
        }
    }
});
