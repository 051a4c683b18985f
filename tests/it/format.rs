//! Tests of `toolgate format`: to be written.
