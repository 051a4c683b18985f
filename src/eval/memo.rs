//! The per-kind memo of name classes for names not written literally in the policy.
//!
//! Sharded read-write locks over hash maps; a hit takes one uncontended read lock. Each
//! shard holds at most [`PER_SHARD`] names and is emptied when full, so hostile names
//! (random resource URIs) cost memory that stays bounded and never change a decision:
//! a program is a pure function of the name's pattern set.

use std::sync::{Arc, Mutex, PoisonError, RwLock};

use ahash::AHashMap;

use crate::compile::{build_class, matching};
use crate::ids::PatternId;
use crate::table::{ClassProgram, NameIndex, Table};

const SHARDS: usize = 16;
/// Names memoised per shard at most.
pub const PER_SHARD: usize = 4096;

type Shard = RwLock<AHashMap<Box<str>, Arc<ClassProgram>>>;

/// Programs of names seen, and of pattern sets seen, for one kind.
#[derive(Debug)]
pub(crate) struct Memo {
    hasher: ahash::RandomState,
    shards: Vec<Shard>,
    classes: Mutex<AHashMap<Box<[PatternId]>, Arc<ClassProgram>>>,
}

impl Memo {
    /// A memo seeded with the classes built at compile time.
    pub fn new(index: &NameIndex) -> Memo {
        Memo {
            hasher: ahash::RandomState::new(),
            shards: (0..SHARDS).map(|_| RwLock::new(AHashMap::new())).collect(),
            classes: Mutex::new(index.classes.clone()),
        }
    }

    /// Runs `then` on the program of `name`, finding and memoising it on first sight.
    pub fn with<R>(
        &self,
        table: &Table,
        index: &NameIndex,
        name: &str,
        then: impl FnOnce(&ClassProgram) -> R,
    ) -> R {
        if let Some(program) = index.exact.get(name) {
            return then(program);
        }
        let shard = self.shard(name);
        if let Some(shard) = shard {
            let map = shard.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(program) = map.get(name) {
                return then(program);
            }
        }
        let program = self.class_of(table, index, name);
        if let Some(shard) = shard {
            let mut map = shard.write().unwrap_or_else(PoisonError::into_inner);
            if map.len() >= PER_SHARD {
                map.clear();
            }
            map.insert(name.into(), program.clone());
        }
        then(&program)
    }

    fn shard(&self, name: &str) -> Option<&Shard> {
        let hash = self.hasher.hash_one(name);
        self.shards.get((hash % SHARDS as u64) as usize)
    }

    fn class_of(&self, table: &Table, index: &NameIndex, name: &str) -> Arc<ClassProgram> {
        let patterns = matching(index, name);
        let mut classes = self.classes.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(program) = classes.get(patterns.as_slice()) {
            return program.clone();
        }
        let program = Arc::new(build_class(index, &table.statements, &patterns));
        if classes.len() < SHARDS * PER_SHARD {
            classes.insert(patterns.into_vec().into_boxed_slice(), program.clone());
        }
        program
    }
}
