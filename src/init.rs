//! Starter policies from a server's tool list (`toolgate init`): to be written.
