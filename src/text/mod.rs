//! Text before parsing: normalization (width, numerals, variants) with a map back to the input,
//! and segmentation by jieba with the project's address dictionaries.

pub mod normalize;
pub mod numerals;
pub mod personal;
pub mod segment;
pub mod sound;

pub use normalize::{Normalized, normalize};

/// Whether `c` is a CJK unified ideograph (a Chinese character of a name).
pub fn is_han(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c)
}
pub use segment::{Segment, Segmenter};
