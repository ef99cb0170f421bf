//! The parser's accuracy on the labelled dev sets in ../shared/data/parsing (read at run time,
//! skipped with a message when absent). The floors are the measured values (naacl2019 dev 0.906,
//! swei412 dev 0.951 structural micro-F1), rounded down: a change that
//! lowers them fails here.

use std::path::PathBuf;

use dizhi::eval::{Scheme, evaluate_file};

use crate::parse_golden::parser;

fn dataset(rel: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/parsing")
        .join(rel);
    if path.exists() {
        Some(path)
    } else {
        eprintln!(
            "skipping: {} not found (../shared is absent)",
            path.display()
        );
        None
    }
}

#[test]
fn naacl2019_dev_structural_micro_f1() {
    let Some(path) = dataset("naacl2019/dev.txt") else {
        return;
    };
    let report = evaluate_file(parser(), &path, Scheme::Bio).expect("read dev");
    assert!(report.structural_micro_f1 >= 0.905, "{}", report.to_table());
}

#[test]
fn swei412_dev_structural_micro_f1() {
    let Some(path) = dataset("swei412/dev.txt") else {
        return;
    };
    let report = evaluate_file(parser(), &path, Scheme::Bmes).expect("read dev");
    assert!(report.structural_micro_f1 >= 0.95, "{}", report.to_table());
}
