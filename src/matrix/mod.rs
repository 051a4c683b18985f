//! The roles x names matrix of a compiled policy (`toolgate table`): to be written.
