//! Decision ids: one per request the gate authenticates, in its audit records, its
//! shadow-policy log lines, the `x-toolgate-decision-id` header sent upstream and the
//! same header on the response, so that a support ticket quoting the header finds the
//! records (docs/gate.md, "Audit").

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

/// The header carrying the decision id, to the upstream and back to the client. A
/// client's own header of that name is removed, as every `x-toolgate-` header is.
pub const DECISION_ID_HEADER: &str = "x-toolgate-decision-id";

/// A request's decision id: a random 64-bit prefix drawn once per process, then a
/// counter, written as 32 lowercase hexadecimal digits. Unique within a process and,
/// with overwhelming likelihood, across replicas; it is not a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DecisionId(u128);

impl DecisionId {
    /// The next id of this process.
    pub fn next() -> DecisionId {
        static PREFIX: OnceLock<u64> = OnceLock::new();
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let prefix = *PREFIX.get_or_init(|| {
            let mut bytes = [0u8; 8];
            // Without randomness the ids are still unique within the process.
            let _ = getrandom::fill(&mut bytes);
            u64::from_le_bytes(bytes)
        });
        let count = COUNTER.fetch_add(1, Ordering::Relaxed);
        DecisionId((u128::from(prefix) << 64) | u128::from(count))
    }

    /// As a header value.
    pub(crate) fn header_value(self) -> http::HeaderValue {
        // 32 hexadecimal digits are always a valid header value.
        http::HeaderValue::from_str(&self.to_string())
            .unwrap_or_else(|_| http::HeaderValue::from_static("invalid"))
    }
}

impl fmt::Display for DecisionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_distinct_hexadecimal_and_share_the_process_prefix() {
        let first = DecisionId::next();
        let second = DecisionId::next();
        assert_ne!(first, second);
        let (a, b) = (first.to_string(), second.to_string());
        assert_eq!(a.len(), 32);
        assert!(a
            .bytes()
            .all(|byte| byte.is_ascii_hexdigit() && !byte.is_ascii_uppercase()));
        assert_eq!(a[..16], b[..16]);
        assert_eq!(first.header_value().to_str().unwrap(), a);
    }
}
