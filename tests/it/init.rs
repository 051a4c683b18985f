//! Tests of `toolgate init`: to be written.
