//! Golden parses, one table per kind of address, with a ratchet of known failures.
//!
//! Every case is hand-written in the style of 青浦 addresses (none comes from a labelled set). A
//! case passes when the parse's (level, value) sequence equals the expected one exactly.

mod hotline;
mod industrial;
mod known_failures;
mod outside;
mod residential;
mod street;
mod village;

use std::sync::OnceLock;

use dizhi::{Dictionaries, Level, Parse, Parser};

/// One golden case: the input and the expected components as (level, value).
pub type Case = (&'static str, &'static [(Level, &'static str)]);

/// The parser, built once for the whole test binary.
pub fn parser() -> &'static Parser {
    static PARSER: OnceLock<Parser> = OnceLock::new();
    PARSER.get_or_init(|| Parser::new(&Dictionaries::embedded().expect("embedded dictionaries")))
}

/// The parse's components as (level, value).
pub fn levels(p: &Parse) -> Vec<(Level, String)> {
    p.components
        .iter()
        .map(|c| (c.level, c.value.clone()))
        .collect()
}

/// Whether `case` parses as expected; on mismatch, a line saying how.
pub fn check(case: &Case) -> Result<(), String> {
    let (input, expected) = case;
    let got = levels(&parser().parse(input));
    let want: Vec<(Level, String)> = expected.iter().map(|(l, v)| (*l, v.to_string())).collect();
    if got == want {
        Ok(())
    } else {
        Err(format!("{input}\n   want {want:?}\n   got  {got:?}"))
    }
}

/// Checks a table: every case passes unless it is a listed known failure (which must still fail).
pub fn run_table(name: &str, cases: &[Case]) {
    let mut problems = Vec::new();
    for case in cases {
        let known = known_failures::KNOWN_FAILURES.contains(&case.0);
        match (check(case), known) {
            (Ok(()), false) | (Err(_), true) => {}
            (Ok(()), true) => problems.push(format!(
                "{} now passes: remove it from tests/parse_golden/known_failures.rs",
                case.0
            )),
            (Err(e), false) => problems.push(e),
        }
    }
    assert!(problems.is_empty(), "{name}:\n{}", problems.join("\n"));
}
