//! Tests of `toolgate explain`: to be written.
