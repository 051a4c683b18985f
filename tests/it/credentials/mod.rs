//! Credentials: JWT validation and its attack suite, remote keys, API keys, the
//! principal cache, claims presets, configuration and `toolgate token inspect`.

mod api_keys;
mod attacks;
mod cache;
mod claims;
mod config;
mod inspect;
mod jwks;
mod paths;
mod refresh;
mod rotation;
mod support;
