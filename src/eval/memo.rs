//! The per-kind memo of name classes for names not written literally in the policy.
//!
//! Sharded read-write locks over hash maps; a hit takes one uncontended read lock. Each
//! shard holds at most [`PER_SHARD`] names of at most [`MAX_NAME_BYTES`] bytes (longer
//! names are matched every time) and is emptied when full, so hostile names (random
//! resource URIs) cost memory that stays bounded and never change a decision: a program
//! is a pure function of the name's pattern set. A lock poisoned by a panic elsewhere
//! is taken over: the maps only ever hold complete entries.

use std::sync::{Arc, Mutex, PoisonError, RwLock};

use ahash::AHashMap;

use crate::compile::{build_class, matching};
use crate::ids::PatternId;
use crate::index::{ClassProgram, Index, NameIndex, NameMap};

const SHARDS: usize = 16;
/// Names memoised per shard at most.
pub const PER_SHARD: usize = 4096;
/// The longest name memoised, in bytes.
pub const MAX_NAME_BYTES: usize = 256;

type Shard = RwLock<NameMap>;

/// Programs of names seen, and of pattern sets seen, for one kind.
#[derive(Debug)]
pub(crate) struct Memo {
    shards: Vec<Shard>,
    classes: Mutex<AHashMap<Box<[PatternId]>, Arc<ClassProgram>>>,
}

impl Memo {
    /// A memo seeded with the classes built at compile time.
    pub fn new(index: &NameIndex) -> Memo {
        Memo {
            shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
            classes: Mutex::new(index.classes.clone()),
        }
    }

    /// Runs `then` on the program of `name`, finding and memoising it on first sight.
    /// The name is hashed once, with the index's hasher.
    pub fn with<R>(
        &self,
        table: &Index,
        index: &NameIndex,
        name: &str,
        then: impl FnOnce(&ClassProgram) -> R,
    ) -> R {
        let hash = index.hasher.hash_one(name);
        if let Some(program) = index.exact.get(hash, name) {
            return then(program);
        }
        let shard = self.shard(hash, name);
        if let Some(shard) = shard {
            let map = shard.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(program) = map.get(hash, name) {
                return then(program);
            }
        }
        let program = self.class_of(table, index, name);
        if let Some(shard) = shard {
            let mut map = shard.write().unwrap_or_else(PoisonError::into_inner);
            if map.len() >= PER_SHARD {
                map.clear();
            }
            map.insert(&index.hasher, hash, name.into(), program.clone());
        }
        then(&program)
    }

    /// The shard of `name`, whose hash is `hash`: chosen by bits the hash table uses
    /// neither for its buckets nor for its tags.
    fn shard(&self, hash: u64, name: &str) -> Option<&Shard> {
        if name.len() > MAX_NAME_BYTES {
            return None;
        }
        self.shards.get(((hash >> 32) % SHARDS as u64) as usize)
    }

    fn class_of(&self, table: &Index, index: &NameIndex, name: &str) -> Arc<ClassProgram> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Policy;

    const POLICY: &str = "role a\nallow a to call tools \"fs.*\"\ndeny a to call tools \"*.rm\"\n";

    /// The program of `name` as text, through `memo`.
    fn program(memo: &Memo, table: &Index, name: &str) -> String {
        memo.with(table, &table.kinds[0], name, |class| format!("{class:?}"))
    }

    #[test]
    fn poisoned_locks_are_taken_over_and_answers_do_not_change() {
        let loaded = Policy::from_text("a.policy", POLICY).unwrap();
        let table = loaded.engine().index();
        let names = ["fs.read", "fs.rm", "db.rm", "other"];
        let fresh = Memo::new(&table.kinds[0]);
        let expected: Vec<String> = names.iter().map(|n| program(&fresh, table, n)).collect();
        let memo = Memo::new(&table.kinds[0]);
        program(&memo, table, "fs.read");
        std::thread::scope(|scope| {
            for name in names {
                let hash = table.kinds[0].hasher.hash_one(name);
                let shard = memo.shard(hash, name).unwrap();
                let poisoner = scope.spawn(move || {
                    let _held = shard.write().unwrap();
                    panic!("poisoning the shard of `{name}`");
                });
                assert!(poisoner.join().is_err());
                assert!(shard.is_poisoned());
            }
            let classes = scope.spawn(|| {
                let _held = memo.classes.lock().unwrap();
                panic!("poisoning the class map");
            });
            assert!(classes.join().is_err());
        });
        assert!(memo.classes.is_poisoned());
        let got: Vec<String> = names.iter().map(|n| program(&memo, table, n)).collect();
        assert_eq!(got, expected);
        // Twice: the second answer comes from the memo the poisoned locks still guard.
        let again: Vec<String> = names.iter().map(|n| program(&memo, table, n)).collect();
        assert_eq!(again, expected);
    }

    #[test]
    fn long_names_are_decided_but_not_kept() {
        let loaded = Policy::from_text("a.policy", POLICY).unwrap();
        let table = loaded.engine().index();
        let memo = Memo::new(&table.kinds[0]);
        let long = format!("fs.{}", "x".repeat(MAX_NAME_BYTES));
        let short = Memo::new(&table.kinds[0]);
        assert_eq!(program(&memo, table, &long), program(&short, table, "fs.x"));
        let hash = table.kinds[0].hasher.hash_one(&*long);
        assert!(memo.shard(hash, &long).is_none());
        let kept: usize = memo
            .shards
            .iter()
            .map(|shard| shard.read().unwrap().len())
            .sum();
        assert_eq!(kept, 0);
    }
}
