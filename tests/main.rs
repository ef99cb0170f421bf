//! The integration tests, as one binary (one link, one run). Each area adds its own module.

mod api;
mod batch;
mod city;
mod cli;
mod common;
mod district;
mod from_registers;
mod fusion;
mod fuzz_regressions;
mod parse_eval;
mod parse_golden;
mod parse_props;
mod relation;
mod search;
mod spatial;
mod store_build;
mod synth_fixture;
mod synth_registers;
mod web;
