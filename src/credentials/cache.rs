//! The principal cache: verified credentials, kept until their expiry and never past it
//! (nor past a maximum age, nor past a change of the verifying scheme's keys), each with
//! the principal last resolved from it.
//!
//! Entries are found by a keyed hash of the credential's length and last 32 bytes (for a
//! JWT, the end of its signature: unpredictable, and no entry exists without a valid
//! signature), then compared byte for byte with the whole credential, so no collision can
//! hand out another credential's principal. Hashing only the tail keeps a hit's cost
//! independent of the token's length.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use ahash::{AHashMap, RandomState};
use jiff::Timestamp;

use super::{AuthError, Identity};
use crate::eval::Engine;
use crate::principal::Principal;

/// The default number of cached credentials.
pub const DEFAULT_CACHE_CAPACITY: usize = 10_000;

/// The default longest time a verified credential is served from the cache: 5 minutes.
pub const DEFAULT_CACHE_MAX_AGE: Duration = Duration::from_secs(300);

/// How the principal cache is bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheConfig {
    /// The most credentials kept; 0 turns the cache off.
    pub capacity: usize,
    /// The longest a credential is served from the cache after it was verified (and
    /// never past its own expiry); then it is verified again. Zero caches nothing.
    pub max_age: Duration,
}

impl Default for CacheConfig {
    fn default() -> CacheConfig {
        CacheConfig {
            capacity: DEFAULT_CACHE_CAPACITY,
            max_age: DEFAULT_CACHE_MAX_AGE,
        }
    }
}

/// One verified credential.
#[derive(Debug)]
pub(crate) struct Entry {
    /// The whole credential.
    credential: Box<[u8]>,
    /// The scheme that verified it (its address), so one scheme's result is never
    /// served for another.
    scheme: usize,
    /// The scheme's key generation before it verified the credential: a hit under
    /// another generation is verified again.
    generation: u64,
    pub(crate) identity: Arc<Identity>,
    /// The credential's expiry, or the end of its maximum age in the cache if sooner.
    expires_at: Timestamp,
    /// The principal resolved from it against one engine.
    principal: Mutex<Option<Arc<Principal>>>,
}

impl Entry {
    pub(crate) fn new(
        credential: &[u8],
        (scheme, generation): (usize, u64),
        identity: Arc<Identity>,
        expires_at: Timestamp,
        principal: Arc<Principal>,
    ) -> Entry {
        Entry {
            credential: credential.into(),
            scheme,
            generation,
            identity,
            expires_at,
            principal: Mutex::new(Some(principal)),
        }
    }

    /// The key generation it was verified under.
    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// The principal for `engine`: the one cached if it was resolved by `engine`'s table,
    /// else resolved again from the cached identity (no signature is verified).
    pub(crate) fn principal(
        &self,
        engine: &Engine,
        resolve: impl FnOnce(&Identity) -> Result<Principal, AuthError>,
    ) -> Result<Arc<Principal>, AuthError> {
        let table = engine.index().id;
        let mut slot = self
            .principal
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(principal) = slot.as_ref().filter(|p| p.table_id == table) {
            return Ok(Arc::clone(principal));
        }
        let principal = Arc::new(resolve(&self.identity)?);
        *slot = Some(Arc::clone(&principal));
        Ok(principal)
    }
}

/// The entries sharing one hash (almost always one).
type Bucket = Vec<Arc<Entry>>;

/// The buckets by hash, and how many entries they hold.
#[derive(Debug, Default)]
struct Entries {
    buckets: AHashMap<u64, Bucket>,
    count: usize,
}

/// Verified credentials, found by hash and compared in full.
#[derive(Debug)]
pub(crate) struct PrincipalCache {
    entries: RwLock<Entries>,
    hasher: RandomState,
    config: CacheConfig,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl Default for PrincipalCache {
    fn default() -> PrincipalCache {
        PrincipalCache::new(CacheConfig::default())
    }
}

impl PrincipalCache {
    pub(crate) fn new(config: CacheConfig) -> PrincipalCache {
        PrincipalCache {
            entries: RwLock::new(Entries::default()),
            hasher: RandomState::new(),
            config,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// A request answered from the cache.
    pub(crate) fn count_hit(&self) {
        self.hits.fetch_add(1, Ordering::Relaxed);
    }

    /// A request with a cacheable credential not in the cache.
    pub(crate) fn count_miss(&self) {
        self.misses.fetch_add(1, Ordering::Relaxed);
    }

    /// Hits and misses so far.
    pub(crate) fn hits_and_misses(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    /// The keyed hash of a credential's length and last 32 bytes.
    fn hash(&self, credential: &[u8]) -> u64 {
        let tail = credential.len().saturating_sub(32);
        let last = credential.get(tail..).unwrap_or(credential);
        self.hasher.hash_one((credential.len(), last))
    }

    /// `read(entry)` for the entry of `credential` from `scheme`, if it has not expired
    /// at `now`; the entry is read under the cache's read lock.
    pub(crate) fn read<T>(
        &self,
        credential: &[u8],
        scheme: usize,
        now: Timestamp,
        read: impl FnOnce(&Entry) -> T,
    ) -> Option<T> {
        let hash = self.hash(credential);
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        let entry = entries
            .buckets
            .get(&hash)?
            .iter()
            .find(|entry| *entry.credential == *credential)?;
        (entry.scheme == scheme && now < entry.expires_at).then(|| read(entry))
    }

    /// Keeps `entry` from `now` until its expiry or the cache's maximum age, whichever
    /// comes first.
    pub(crate) fn insert(&self, mut entry: Entry, now: Timestamp) {
        let oldest = jiff::SignedDuration::try_from(self.config.max_age)
            .ok()
            .and_then(|age| now.checked_add(age).ok());
        if let Some(oldest) = oldest {
            entry.expires_at = entry.expires_at.min(oldest);
        }
        if self.config.capacity == 0 || now >= entry.expires_at {
            return;
        }
        let hash = self.hash(&entry.credential);
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if entries.count >= self.config.capacity {
            make_room(&mut entries, self.config.capacity, now);
        }
        let Entries { buckets, count } = &mut *entries;
        let bucket = buckets.entry(hash).or_default();
        let before = bucket.len();
        bucket.retain(|old| old.credential != entry.credential);
        let replaced = before - bucket.len();
        bucket.push(Arc::new(entry));
        *count = (*count + 1).saturating_sub(replaced);
    }

    pub(crate) fn remove(&self, credential: &[u8]) {
        let hash = self.hash(credential);
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        let Some(bucket) = entries.buckets.get_mut(&hash) else {
            return;
        };
        let before = bucket.len();
        bucket.retain(|entry| *entry.credential != *credential);
        let removed = before - bucket.len();
        if bucket.is_empty() {
            entries.buckets.remove(&hash);
        }
        entries.count = entries.count.saturating_sub(removed);
    }

    pub(crate) fn len(&self) -> usize {
        self.entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .count
    }
}

/// Drops expired entries; if the cache is still full, drops the tenth of it that
/// expires soonest (so a full cache is swept once per that many insertions).
fn make_room(entries: &mut Entries, capacity: usize, now: Timestamp) {
    retain(entries, |entry| now < entry.expires_at);
    if entries.count < capacity {
        return;
    }
    let mut expiries: Vec<Timestamp> = entries
        .buckets
        .values()
        .flatten()
        .map(|entry| entry.expires_at)
        .collect();
    let evict = (capacity / 10).max(1);
    let cut = evict.min(expiries.len()).saturating_sub(1);
    let (_, threshold, _) = expiries.select_nth_unstable(cut);
    let threshold = *threshold;
    let mut removed = 0;
    retain(entries, |entry| {
        let evicted = removed < evict && entry.expires_at <= threshold;
        removed += usize::from(evicted);
        !evicted
    });
}

/// Keeps the entries `keep` accepts, keeping the count right.
fn retain(entries: &mut Entries, mut keep: impl FnMut(&Entry) -> bool) {
    let mut count = 0;
    entries.buckets.retain(|_, bucket| {
        bucket.retain(|entry| keep(entry));
        count += bucket.len();
        !bucket.is_empty()
    });
    entries.count = count;
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use serde_json::json;

    use super::*;
    use crate::Policy;

    const POLICY: &str = "role reader\nallow reader to call tools \"fs.*\"\n";

    fn engine() -> Engine {
        Policy::from_text("a.policy", POLICY).unwrap().into_engine()
    }

    fn now() -> Timestamp {
        "2026-11-26T10:00:00Z".parse().unwrap()
    }

    /// An entry for `credential` holding a reader's claims, valid for an hour.
    fn entry(engine: &Engine, credential: &[u8]) -> Entry {
        let claims = json!({"roles": ["reader"]});
        let principal = Arc::new(engine.principal(&claims).unwrap());
        let expires_at = now() + jiff::SignedDuration::from_hours(1);
        let identity = Arc::new(Identity::Claims {
            claims,
            expires_at: Some(expires_at),
        });
        Entry::new(credential, (1, 0), identity, expires_at, principal)
    }

    fn cached(cache: &PrincipalCache, credential: &[u8], at: Timestamp) -> bool {
        cache.read(credential, 1, at, |_| ()).is_some()
    }

    #[test]
    fn entries_are_found_by_the_whole_credential_and_scheme_until_expiry() {
        let engine = engine();
        let cache = PrincipalCache::default();
        cache.insert(entry(&engine, b"token-one"), now());
        assert!(cached(&cache, b"token-one", now()));
        assert!(!cached(&cache, b"token-two", now()));
        assert!(cache.read(b"token-one", 2, now(), |_| ()).is_none());
        let later = now() + jiff::SignedDuration::from_hours(1);
        assert!(!cached(&cache, b"token-one", later));
    }

    /// A panic while a cache lock is held (a poisoned lock) loses no revocation and
    /// hands out no principal that was not resolved in full: every write under the lock
    /// is a whole insertion or removal, and a resolver that panics leaves the slot as
    /// it was.
    #[test]
    fn poisoned_locks_keep_revocation_and_principals_right() {
        let engine = engine();
        let cache = PrincipalCache::default();
        cache.insert(entry(&engine, b"kept"), now());
        cache.insert(entry(&engine, b"revoked"), now());
        std::thread::scope(|scope| {
            let poisoner = scope.spawn(|| {
                let _held = cache.entries.write().unwrap();
                panic!("poisoning the principal cache");
            });
            assert!(poisoner.join().is_err());
        });
        assert!(cache.entries.is_poisoned());
        cache.remove(b"revoked");
        assert!(!cached(&cache, b"revoked", now()));
        assert!(cached(&cache, b"kept", now()));
        assert_eq!(cache.len(), 1);

        let entry = entry(&engine, b"slot");
        let other = engine_with_another_table();
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = entry.principal(&other, |_| panic!("a resolver that panics"));
        }));
        assert!(panicked.is_err());
        let resolved = entry
            .principal(&other, |identity| match identity {
                Identity::Claims { claims, .. } => other.principal(claims).map_err(|_| {
                    AuthError::Invalid(crate::credentials::CredentialError::Malformed)
                }),
                Identity::Parts { .. } => panic!("a claims entry"),
            })
            .unwrap();
        assert_eq!(resolved.table_id, other.index().id);
        let again = entry
            .principal(&other, |_| panic!("resolved once"))
            .unwrap();
        assert!(Arc::ptr_eq(&resolved, &again));
    }

    fn engine_with_another_table() -> Engine {
        Policy::from_text(
            "b.policy",
            "role reader\nallow reader to call tools \"db.*\"\n",
        )
        .unwrap()
        .into_engine()
    }
}
