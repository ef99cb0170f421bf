//! Measuring dizhi against labelled data: the parser on character-labelled files ([`parse`]),
//! the relation of two addresses on labelled pairs ([`relation`]), the matcher on noisy queries
//! with known answers ([`noisy`] makes them, [`normalize`] scores them), reverse lookups on seeded
//! points ([`reverse`]), and fusion's anomalies
//! and links against the generator's truth ([`fusion`]). Real labelled files are read at run
//! time from where the caller says (../shared/data); none of their content is part of the
//! project.

pub mod fusion;
pub mod noisy;
pub mod normalize;
pub mod parse;
pub mod registers;
pub mod relation;
pub mod reverse;

/// The `p` quantile (0..=1) of durations sorted ascending; zero for none.
pub(crate) fn percentile(sorted: &[std::time::Duration], p: f64) -> std::time::Duration {
    sorted
        .get(((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1)))
        .copied()
        .unwrap_or_default()
}

pub use parse::{
    EvalReport, LabelScore, Labelled, Mismatch, STRUCTURAL, Scheme, ShownSpans, evaluate,
    evaluate_file, failures_tsv, predicted_spans, read_labelled,
};
