//! Tests of `toolgate matrix`: to be written.
