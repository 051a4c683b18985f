//! The canonical layout of policy files (`toolgate fmt`): to be written.
