//! Integration tests, one binary: each module is one area.

mod parse_eval;
mod parse_golden;
mod parse_props;
