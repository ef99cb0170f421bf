//! Text before parsing: normalization (width, numerals, variants) with a map back to the input,
//! and segmentation by jieba with the project's address dictionaries.

pub mod normalize;
pub mod numerals;
pub mod personal;
pub mod segment;
pub mod sound;

pub use normalize::{Normalized, normalize};
pub use segment::{Segment, Segmenter};
