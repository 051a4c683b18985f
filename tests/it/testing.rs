//! Tests of `toolgate testing`: to be written.
