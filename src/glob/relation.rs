//! Relating patterns: inclusion and intersection decided exactly on the product of two
//! automata, within a budget (see the module above for the construction).

#![deny(clippy::indexing_slicing)]

use std::collections::HashSet;

use super::{Glob, Token};

/// The most pairs of state sets a relation query visits before it answers `None`.
pub(super) const MAX_PRODUCT_STATES: usize = 100_000;

/// The most 64-bit words of state sets a relation query stores before it answers `None`.
pub(super) const MAX_STORED_WORDS: usize = 1 << 22;

/// The most word operations a relation query spends on transitions before it answers
/// `None`.
pub(super) const MAX_TRANSITION_WORK: usize = 1 << 26;

// ---------------------------------------------------------------------------------------
// Relating patterns

/// The search gave up before deciding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct OverBudget;

/// Work shared by a series of relation questions, in units of word operations; each
/// question also costs [`RelationBudget::QUERY_COST`] for building its automata.
#[derive(Debug)]
pub(crate) struct RelationBudget {
    left: std::cell::Cell<usize>,
}

impl RelationBudget {
    /// What a question costs besides its transitions (about the time to build its
    /// automata, in the time units of a word operation).
    pub const QUERY_COST: usize = 4096;

    /// A budget of `work` units.
    pub fn new(work: usize) -> RelationBudget {
        RelationBudget {
            left: std::cell::Cell::new(work),
        }
    }

    /// Whether nothing is left.
    pub fn is_spent(&self) -> bool {
        self.left.get() == 0
    }

    /// Charges a question's fixed cost; the transition work it may spend, or `None`
    /// when the budget is spent.
    pub(super) fn take_query(&self) -> Option<usize> {
        let left = self.left.get().checked_sub(Self::QUERY_COST)?;
        self.left.set(left);
        Some(left.min(MAX_TRANSITION_WORK))
    }

    pub(super) fn charge(&self, work: usize) {
        self.left.set(self.left.get().saturating_sub(work));
    }
}

/// A name that `other` matches and no glob of `globs` does, if there is one.
pub(super) fn uncovered_name(globs: &[&Glob], other: &Glob) -> Result<Option<String>, OverBudget> {
    uncovered_name_within(globs, other, MAX_TRANSITION_WORK).0
}

/// [`uncovered_name`] within `limit` units of transition work; also the work spent.
pub(super) fn uncovered_name_within(
    globs: &[&Glob],
    other: &Glob,
    limit: usize,
) -> (Result<Option<String>, OverBudget>, usize) {
    let alphabet = Alphabet::of(globs.iter().copied().chain([other]));
    let left = Automaton::new(globs, &alphabet);
    let right = Automaton::new(&[other], &alphabet);
    let mut search = ProductSearch::new(&left, &right, &alphabet, Goal::RightOnly);
    search.limit = limit;
    search.run()
}

/// A name that both patterns match, if there is one.
pub(super) fn common_name(first: &Glob, second: &Glob) -> Result<Option<String>, OverBudget> {
    let alphabet = Alphabet::of([first, second]);
    let left = Automaton::new(&[first], &alphabet);
    let right = Automaton::new(&[second], &alphabet);
    ProductSearch::new(&left, &right, &alphabet, Goal::Both)
        .run()
        .0
}

/// The symbols automata read: each literal character of the patterns involved, then
/// one symbol standing for every other character.
pub(super) struct Alphabet {
    /// The literal characters, sorted, without duplicates.
    literals: Vec<char>,
    /// A character that is not among `literals`, to write the last symbol with.
    other: char,
}

impl Alphabet {
    pub(super) fn of<'a>(globs: impl IntoIterator<Item = &'a Glob>) -> Alphabet {
        let mut literals: Vec<char> = globs.into_iter().flat_map(Glob::literal_chars).collect();
        literals.sort_unstable();
        literals.dedup();
        let other = ('a'..='z')
            .chain('A'..='Z')
            .chain('0'..='9')
            .chain('\u{E000}'..=char::MAX)
            .find(|candidate| literals.binary_search(candidate).is_err())
            .unwrap_or(char::REPLACEMENT_CHARACTER);
        Alphabet { literals, other }
    }

    /// How many symbols there are.
    pub(super) fn len(&self) -> usize {
        self.literals.len() + 1
    }

    /// The symbol of a literal character.
    pub(super) fn symbol_of(&self, character: char) -> Option<usize> {
        self.literals.binary_search(&character).ok()
    }

    /// A character that the symbol stands for.
    pub(super) fn character_of(&self, symbol: usize) -> char {
        self.literals.get(symbol).copied().unwrap_or(self.other)
    }
}

/// A nondeterministic automaton for a union of patterns. Each pattern of `n` tokens
/// owns `n + 1` consecutive states: state `i` expects token `i`, the last accepts.
/// State sets are bit sets of `words` 64-bit words, always closed under the empty
/// moves of stars (a star's state also reaches the next state).
pub(super) struct Automaton {
    words: usize,
    start: Vec<u64>,
    accepting: Vec<u64>,
    /// The states of stars, which loop on every symbol.
    stars: Vec<u64>,
    /// The states from which only stars remain: every continuation is accepted.
    universal: Vec<u64>,
    /// For each symbol, the states whose token reads it and moves on:
    /// `words` words per symbol.
    advancing: Vec<u64>,
    /// The token of each state, `None` for accepting states.
    state_tokens: Vec<Option<Token>>,
}

impl Automaton {
    pub(super) fn new(globs: &[&Glob], alphabet: &Alphabet) -> Automaton {
        let token_lists: Vec<Vec<Token>> = globs.iter().map(|glob| glob.tokens()).collect();
        let states: usize = token_lists.iter().map(|tokens| tokens.len() + 1).sum();
        let words = states.div_ceil(64).max(1);
        let mut automaton = Automaton {
            words,
            start: vec![0; words],
            accepting: vec![0; words],
            stars: vec![0; words],
            universal: vec![0; words],
            advancing: vec![0; words * alphabet.len()],
            state_tokens: Vec::with_capacity(states),
        };
        for tokens in &token_lists {
            automaton.add_pattern(tokens, alphabet);
        }
        let mut start = std::mem::take(&mut automaton.start);
        automaton.close(&mut start);
        automaton.start = start;
        automaton
    }

    /// Adds the states of one pattern after those already there.
    pub(super) fn add_pattern(&mut self, tokens: &[Token], alphabet: &Alphabet) {
        let offset = self.state_tokens.len();
        set_bit(&mut self.start, offset);
        set_bit(&mut self.accepting, offset + tokens.len());
        let mut only_stars_follow = true;
        for (index, token) in tokens.iter().enumerate().rev() {
            let state = offset + index;
            only_stars_follow &= *token == Token::AnyRun;
            if only_stars_follow {
                set_bit(&mut self.universal, state);
            }
            match token {
                Token::AnyRun => set_bit(&mut self.stars, state),
                Token::AnyChar => {
                    for symbol in 0..alphabet.len() {
                        self.set_advancing(symbol, state);
                    }
                }
                Token::Literal(character) => {
                    if let Some(symbol) = alphabet.symbol_of(*character) {
                        self.set_advancing(symbol, state);
                    }
                }
            }
        }
        self.state_tokens.extend(tokens.iter().copied().map(Some));
        self.state_tokens.push(None);
    }

    pub(super) fn set_advancing(&mut self, symbol: usize, state: usize) {
        let range = symbol * self.words..(symbol + 1) * self.words;
        if let Some(mask) = self.advancing.get_mut(range) {
            set_bit(mask, state);
        }
    }

    /// Adds to `set` the states that stars in it reach without reading anything. One
    /// pass is enough: stars collapse, so a star's next state is never a star.
    pub(super) fn close(&self, set: &mut [u64]) {
        let mut carry = 0;
        for (word, star) in set.iter_mut().zip(&self.stars) {
            let skipping = *word & star;
            *word |= (skipping << 1) | carry;
            carry = skipping >> 63;
        }
    }

    /// Writes into `next` the closed set reached from `current` by reading `symbol`:
    /// states whose token reads it move on, stars stay, then stars are skipped.
    pub(super) fn step(&self, current: &[u64], symbol: usize, next: &mut [u64]) {
        let range = symbol * self.words..(symbol + 1) * self.words;
        let Some(advancing) = self.advancing.get(range) else {
            next.fill(0);
            return;
        };
        let mut moving_carry = 0;
        let mut skipping_carry = 0;
        let words = current.iter().zip(advancing).zip(&self.stars);
        for (target, ((word, advance), star)) in next.iter_mut().zip(words) {
            let moving = word & advance;
            let reached = (moving << 1) | moving_carry | (word & star);
            moving_carry = moving >> 63;
            let skipping = reached & star;
            *target = reached | (skipping << 1) | skipping_carry;
            skipping_carry = skipping >> 63;
        }
    }

    /// A text that leads from the first state of `set` to acceptance.
    pub(super) fn completion(&self, set: &[u64], alphabet: &Alphabet) -> String {
        let Some(state) = first_bit(set) else {
            return String::new();
        };
        let remaining = self.state_tokens.get(state..).unwrap_or_default();
        remaining
            .iter()
            .map_while(|token| *token)
            .filter_map(|token| match token {
                Token::Literal(character) => Some(character),
                Token::AnyChar => Some(alphabet.other),
                Token::AnyRun => None,
            })
            .collect()
    }
}

/// What a product search looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Goal {
    /// A name the right side accepts and the left side does not.
    RightOnly,
    /// A name both sides accept.
    Both,
}

/// What to do with a pair of state sets.
pub(super) enum Verdict {
    /// The goal is reached: the name read so far, then this text.
    Reached { completion: String },
    /// No continuation can reach the goal.
    Prune,
    /// Look at the successors.
    Expand,
}

/// A breadth-first search of the pairs of state sets reachable by reading the same
/// name on both sides.
pub(super) struct ProductSearch<'a> {
    left: &'a Automaton,
    right: &'a Automaton,
    alphabet: &'a Alphabet,
    goal: Goal,
    /// Every pair found, each `left.words + right.words` words, in discovery order.
    pairs: Vec<u64>,
    /// For each pair but the first, the pair it was reached from and the symbol read.
    parents: Vec<Option<(usize, usize)>>,
    seen: HashSet<Box<[u64]>>,
    work: usize,
    /// The most transition work allowed.
    limit: usize,
}

impl<'a> ProductSearch<'a> {
    pub(super) fn new(
        left: &'a Automaton,
        right: &'a Automaton,
        alphabet: &'a Alphabet,
        goal: Goal,
    ) -> ProductSearch<'a> {
        ProductSearch {
            left,
            right,
            alphabet,
            goal,
            pairs: Vec::new(),
            parents: Vec::new(),
            seen: HashSet::new(),
            work: 0,
            limit: MAX_TRANSITION_WORK,
        }
    }

    pub(super) fn width(&self) -> usize {
        self.left.words + self.right.words
    }

    /// A name that reaches the goal, `None` if none does; and the work spent.
    pub(super) fn run(mut self) -> (Result<Option<String>, OverBudget>, usize) {
        let found = self.search();
        (found, self.work)
    }

    pub(super) fn search(&mut self) -> Result<Option<String>, OverBudget> {
        let mut start = self.left.start.clone();
        start.extend_from_slice(&self.right.start);
        self.discover(&start, None)?;
        let mut current = Vec::with_capacity(self.width());
        let mut next = vec![0; self.width()];
        let mut index = 0;
        while let Some(pair) = self.pair(index) {
            current.clear();
            current.extend_from_slice(pair);
            match self.verdict(&current) {
                Verdict::Reached { completion } => {
                    return Ok(Some(self.name_to(index) + &completion));
                }
                Verdict::Prune => {}
                Verdict::Expand => self.expand(index, &current, &mut next)?,
            }
            index += 1;
        }
        Ok(None)
    }

    /// Records the successors of the pair at `index`.
    pub(super) fn expand(
        &mut self,
        index: usize,
        current: &[u64],
        next: &mut [u64],
    ) -> Result<(), OverBudget> {
        let split = self.left.words;
        let Some((current_left, current_right)) = current.split_at_checked(split) else {
            return Err(OverBudget);
        };
        for symbol in 0..self.alphabet.len() {
            self.work += current.len();
            if self.work > self.limit {
                return Err(OverBudget);
            }
            let Some((next_left, next_right)) = next.split_at_mut_checked(split) else {
                return Err(OverBudget);
            };
            self.left.step(current_left, symbol, next_left);
            self.right.step(current_right, symbol, next_right);
            if !self.seen.contains(&*next) {
                self.discover(next, Some((index, symbol)))?;
            }
        }
        Ok(())
    }

    /// Records a new pair.
    pub(super) fn discover(
        &mut self,
        pair: &[u64],
        parent: Option<(usize, usize)>,
    ) -> Result<(), OverBudget> {
        if self.parents.len() >= MAX_PRODUCT_STATES
            || self.pairs.len() + pair.len() > MAX_STORED_WORDS
        {
            return Err(OverBudget);
        }
        self.pairs.extend_from_slice(pair);
        self.parents.push(parent);
        self.seen.insert(pair.into());
        Ok(())
    }

    /// The pair found `index`-th.
    pub(super) fn pair(&self, index: usize) -> Option<&[u64]> {
        let width = self.width();
        self.pairs.get(index * width..(index + 1) * width)
    }

    /// The name read to reach the pair found `index`-th.
    pub(super) fn name_to(&self, index: usize) -> String {
        let mut symbols = Vec::new();
        let mut current = index;
        while let Some(Some((parent, symbol))) = self.parents.get(current) {
            symbols.push(self.alphabet.character_of(*symbol));
            current = *parent;
        }
        symbols.iter().rev().collect()
    }

    pub(super) fn verdict(&self, pair: &[u64]) -> Verdict {
        let (left, right) = pair.split_at(self.left.words.min(pair.len()));
        match self.goal {
            Goal::RightOnly => self.right_only_verdict(left, right),
            Goal::Both => self.both_verdict(left, right),
        }
    }

    pub(super) fn right_only_verdict(&self, left: &[u64], right: &[u64]) -> Verdict {
        if is_empty(right) || overlaps(left, &self.left.universal) {
            Verdict::Prune
        } else if overlaps(right, &self.right.accepting) && !overlaps(left, &self.left.accepting) {
            Verdict::Reached {
                completion: String::new(),
            }
        } else if is_empty(left) {
            Verdict::Reached {
                completion: self.right.completion(right, self.alphabet),
            }
        } else {
            Verdict::Expand
        }
    }

    pub(super) fn both_verdict(&self, left: &[u64], right: &[u64]) -> Verdict {
        if is_empty(left) || is_empty(right) {
            Verdict::Prune
        } else if overlaps(left, &self.left.accepting) && overlaps(right, &self.right.accepting) {
            Verdict::Reached {
                completion: String::new(),
            }
        } else if overlaps(left, &self.left.universal) {
            Verdict::Reached {
                completion: self.right.completion(right, self.alphabet),
            }
        } else if overlaps(right, &self.right.universal) {
            Verdict::Reached {
                completion: self.left.completion(left, self.alphabet),
            }
        } else {
            Verdict::Expand
        }
    }
}

pub(super) fn set_bit(set: &mut [u64], index: usize) {
    if let Some(word) = set.get_mut(index / 64) {
        *word |= 1 << (index % 64);
    }
}

pub(super) fn first_bit(set: &[u64]) -> Option<usize> {
    set.iter()
        .position(|word| *word != 0)
        .and_then(|index| Some(index * 64 + set.get(index)?.trailing_zeros() as usize))
}

pub(super) fn is_empty(set: &[u64]) -> bool {
    set.iter().all(|word| *word == 0)
}

pub(super) fn overlaps(set: &[u64], other: &[u64]) -> bool {
    set.iter().zip(other).any(|(word, other)| word & other != 0)
}
