//! Measuring dizhi against labelled data. The labelled files are read at run time from where the
//! caller says (../shared/data/parsing); none of their content is part of the project.

pub mod parse;

pub use parse::{
    EvalReport, LabelScore, Labelled, STRUCTURAL, Scheme, evaluate, evaluate_file, read_labelled,
};
