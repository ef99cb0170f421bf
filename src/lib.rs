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
//!   and confidence, a near-qualifier, masked phone/ID numbers, where an address outside the data's
//!   districts is ([`dictionaries::Coverage`]: what a data directory covers is part of its data),
//!   upper levels inferred from the dictionaries, and a reason when the parse is partial.
//! - [`eval`]: span-exact precision/recall/F1 of the parser on character-per-line labelled files.
//! - [`synth`]: a deterministic generator of a realistic synthetic Shanghai district (青浦 by
//!   default) at any scale, with sources that disagree and a truth file for every injected fault.
//! - [`store`]: the embedded SQLite database of a data directory, and `build` from a source dir.
//! - [`search`]: the tantivy index of standard addresses; [`search::Matcher`] normalizes text to a
//!   standard address with a match level and a calibrated score, and suggests completions.
//! - [`setup`]: a fresh data directory is filled with the bundled district on first start.
//! - [`spatial`]: building footprints in an R-tree ([`spatial::FootprintIndex`]: containing
//!   building, k nearest and all within a distance in metres, box and polygon queries), reverse
//!   lookup ([`spatial::reverse()`]).
//! - [`crs`]: coordinate systems ([`crs::Crs`]: WGS84, GCJ-02, BD-09) and the systems layers and
//!   registers arrive in ([`crs::SourceCrs`], projected ones included), below both the spatial
//!   layer and the GIS readers.
//! - [`batch`]: CSV/TSV (UTF-8 or GBK) and XLSX files normalized row by row over all cores,
//!   every row back in input order with `dizhi_` columns and a status; resumable.
//! - [`api`]: the HTTP service (axum): [`api::AppState`] built once, [`api::app`] the router,
//!   keys with roles, one error shape, request ids, Prometheus metrics, the OpenAPI document.
//! - [`web`]: the page `dizhi serve` shows at `/` (search, map, batch), embedded, offline.
//! - [`gis`]: GeoJSON, GeoPackage and Shapefile (UTF-8/GBK) in and out, invalid geometries
//!   reported with the feature id and geo's reason.

pub mod address;
pub mod api;
pub mod batch;
pub mod crs;
pub mod dictionaries;
pub mod eval;
pub mod fuse;
pub mod fuzz;
pub mod gis;
pub mod level;
pub mod search;
pub mod setup;
pub mod spatial;
pub mod store;
pub mod synth;
pub mod text;
pub mod web;
pub mod wire;

pub use address::{
    AddressKind, AddressStatus, AdminRef, Building, BuildingKind, Component, Level,
    StandardAddress, canonical_marker,
};
pub use address::{Inferred, Masked, MaskedKind, Near, Outside, Parse, Parser};
pub use dictionaries::Dictionaries;
