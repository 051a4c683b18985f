//! Explanations of one decision for people (`toolgate explain`): to be written.
