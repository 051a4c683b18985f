//! Tests of `toolgate sarif`: to be written.
