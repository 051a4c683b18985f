//! Policy test files (`toolgate test`): to be written.
