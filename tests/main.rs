//! Integration tests, one binary.

mod synth_fixture;
