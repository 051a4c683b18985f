//! Newtype ids for interned names, and the bit sets a principal is resolved into.
#![deny(clippy::indexing_slicing)]

use smallvec::SmallVec;

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);

        impl $name {
            /// The id as an index.
            pub fn index(self) -> usize {
                self.0 as usize
            }

            /// The id of an index (saturating; tables never hold 2^32 entries).
            pub fn from_index(index: usize) -> $name {
                $name(u32::try_from(index).unwrap_or(u32::MAX))
            }
        }
    };
}

id_type!(
    /// A declared role.
    RoleId
);
id_type!(
    /// A scope named anywhere in the policy.
    ScopeId
);
id_type!(
    /// A named or inline network.
    NetworkId
);
id_type!(
    /// A named or inline window.
    WindowId
);
id_type!(
    /// A rule or requirement, in policy order.
    StatementId
);
id_type!(
    /// A fact about a principal computed once per token (a `client` or `claim` atom).
    PrincipalAtomId
);
id_type!(
    /// A distinct `arg` test of the policy (v1.1), decided per request.
    ArgTestId
);
id_type!(
    /// A distinct name pattern of one kind.
    PatternId
);

/// A fixed-size set of small ids (roles, scopes, principal atoms), stored inline up to
/// 256 members so that resolving a principal rarely allocates.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Bits {
    words: SmallVec<[u64; 4]>,
}

impl Bits {
    /// An empty set able to hold ids below `capacity`.
    pub fn with_capacity(capacity: usize) -> Bits {
        Bits {
            words: SmallVec::from_elem(0, capacity.div_ceil(64)),
        }
    }

    /// Whether `index` is a member (ids beyond the capacity are not).
    #[inline]
    pub fn contains(&self, index: usize) -> bool {
        self.words
            .get(index / 64)
            .is_some_and(|word| word & (1 << (index % 64)) != 0)
    }

    /// Adds `index` (ignored beyond the capacity).
    pub fn insert(&mut self, index: usize) {
        if let Some(word) = self.words.get_mut(index / 64) {
            *word |= 1 << (index % 64);
        }
    }

    /// Adds every member of `other`.
    pub fn union_with(&mut self, other: &Bits) {
        for (word, add) in self.words.iter_mut().zip(other.words.iter()) {
            *word |= add;
        }
    }

    /// The members, ascending.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(index, word)| {
            let word = *word;
            (0..64)
                .filter(move |bit| word & (1 << bit) != 0)
                .map(move |bit| index * 64 + bit)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_hold_members_within_capacity() {
        let mut bits = Bits::with_capacity(300);
        bits.insert(0);
        bits.insert(299);
        // Capacity rounds up to whole words: 320 ids fit, 320 itself does not.
        bits.insert(320);
        assert!(bits.contains(0) && bits.contains(299));
        assert!(!bits.contains(320) && !bits.contains(1));
        assert_eq!(bits.iter().collect::<Vec<_>>(), vec![0, 299]);
    }
}
