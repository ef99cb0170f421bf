//! Building footprints in space: an R-tree of footprints with exact queries ([`index`]),
//! reverse lookup from a point to a building and its addresses ([`reverse`]), distances in
//! metres ([`distance`]) and the coordinate systems used in China ([`crs`]).

pub mod answer;
pub mod crs;
pub mod distance;
pub mod index;
pub mod reverse;

pub use crs::Crs;
pub use index::{FootprintIndex, Hit, PolygonRelation};
pub use reverse::{DEFAULT_RADIUS_M, ReverseHit, reverse};
