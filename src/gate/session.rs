//! MCP sessions bound to the principal that opened them, with no state shared between
//! gates.
//!
//! The upstream's `Mcp-Session-Id` never reaches the client as it is: the client gets
//! `<upstream id>.<tag>`, where the tag is an HMAC-SHA256 (truncated to 128 bits) of the
//! principal (subject and client) and the upstream id, keyed by the gate's session
//! secret. A request presenting a session id is forwarded with the upstream id only if
//! the tag is right for the principal presenting it; otherwise it is `404` (the session
//! does not exist for this caller), so another principal holding a user's session id
//! (and event ids) can neither post into the session nor replay its stream. Gates sharing
//! one secret (replicas behind a load balancer) accept each other's session ids.

use aws_lc_rs::hmac;
use base64::Engine as _;
use subtle::ConstantTimeEq as _;

use crate::principal::Principal;

/// The header carrying the session id (MCP streamable HTTP).
pub(crate) const HEADER: &str = "mcp-session-id";

/// The bytes of the tag kept (128 bits).
const TAG_BYTES: usize = 16;

/// The shortest secret accepted.
pub const MIN_SECRET_BYTES: usize = 32;

/// Seals and opens session ids.
pub(crate) struct Sessions {
    /// `None` only if no random key could be made: then no session id opens.
    key: Option<hmac::Key>,
}

impl Sessions {
    /// Sessions keyed by `secret`, or by a fresh random key when there is none (sessions
    /// then last as long as this process).
    pub fn new(secret: Option<&[u8]>) -> Sessions {
        let key = match secret {
            Some(secret) => Some(hmac::Key::new(hmac::HMAC_SHA256, secret)),
            None => {
                let mut random = [0u8; 32];
                match aws_lc_rs::rand::fill(&mut random) {
                    Ok(()) => Some(hmac::Key::new(hmac::HMAC_SHA256, &random)),
                    Err(_) => {
                        tracing::error!("no randomness for the session key: no session opens");
                        None
                    }
                }
            }
        };
        Sessions { key }
    }

    /// The id the client sees for the upstream's `upstream` id.
    pub fn seal(&self, upstream: &str, principal: &Principal) -> String {
        format!("{upstream}.{}", self.tag(upstream, principal))
    }

    /// The upstream's id, if `presented` was sealed for `principal`.
    pub fn open<'p>(&self, presented: &'p str, principal: &Principal) -> Option<&'p str> {
        let (upstream, tag) = presented.rsplit_once('.')?;
        self.key.as_ref()?;
        let expected = self.tag(upstream, principal);
        bool::from(expected.as_bytes().ct_eq(tag.as_bytes())).then_some(upstream)
    }

    fn tag(&self, upstream: &str, principal: &Principal) -> String {
        let Some(key) = &self.key else {
            return String::new();
        };
        let mut context = hmac::Context::with_key(key);
        for part in [
            principal.subject().unwrap_or(""),
            principal.client().unwrap_or(""),
            upstream,
        ] {
            context.update(&(part.len() as u64).to_be_bytes());
            context.update(part.as_bytes());
        }
        let tag = context.sign();
        let kept = tag.as_ref().get(..TAG_BYTES).unwrap_or(tag.as_ref());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(kept)
    }
}
