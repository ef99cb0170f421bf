//! dizhi (地址): Chinese address standardization and building footprints for a district's unified
//! address platform, first for 青浦区, Shanghai.
//!
//! # The pipeline
//!
//! Free text is normalized (width, numerals, marker variants), segmented by jieba with the
//! project's address dictionaries, and parsed into components with levels and spans
//! ([`address`]). Standard addresses live in an embedded store ([`store`]) built from sources — for
//! now the synthetic district that [`synth`] generates — and are linked to building footprints.
//!
//! # By stage
//!
//! - [`dictionaries`]: admin divisions, roads, level markers, aliases, homophones; the jieba user
//!   dictionary generated from them.
//! - [`text`]: [`text::normalize`] (full-width → half-width, Chinese numerals → digits where they
//!   are numbers, dash and space variants) with a char map back to the input;
//!   [`text::Segmenter`] (jieba-rs with the user dictionary generated from the dictionaries).
//! - [`address`]: [`Level`], [`Component`], [`StandardAddress`], [`Building`]; the [`Parser`]
//!   (built once, shared) turning text into a [`Parse`]: components with level, text, value, span
//!   and confidence, a near-qualifier, masked phone/ID numbers, where an address outside 青浦 is,
//!   upper levels inferred from the dictionaries, and a reason when the parse is partial.
//! - [`eval`]: span-exact precision/recall/F1 of the parser on character-per-line labelled files.
//! - [`synth`]: a deterministic generator of a realistic synthetic 青浦 at any scale, with sources
//!   that disagree and a truth file for every injected fault.
//! - [`store`]: the embedded SQLite database of a data directory, and `build` from a source dir.

pub mod address;
pub mod dictionaries;
pub mod eval;
pub mod text;

pub use address::{
    canonical_marker, AddressKind, AddressStatus, AdminRef, Building, BuildingKind, Component,
    Level, StandardAddress,
};
pub use address::{Inferred, Masked, MaskedKind, Near, Outside, Parse, Parser};
pub use dictionaries::Dictionaries;
