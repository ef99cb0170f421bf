//! Measuring dizhi against labelled data. The labelled files are read at run time from where the
//! caller says (../shared/data/parsing); none of their content is part of the project.

pub mod parse;
pub mod relation;

pub use parse::{
    EvalReport, LabelScore, Labelled, Mismatch, STRUCTURAL, Scheme, ShownSpans, evaluate,
    evaluate_file, predicted_spans, read_labelled,
};
