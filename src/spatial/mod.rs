//! Building footprints in space: an R-tree of footprints with exact queries ([`index`]),
//! reverse lookup from a point to a building and its addresses ([`reverse`]), distances in
//! metres ([`distance`]), the coordinate systems used in China ([`crs`]), the systems registers and
//! layers arrive in, projected ones included ([`projection`]), and road centre lines in an R-tree
//! for drawing maps ([`roads`]).

pub mod answer;
pub mod distance;
pub mod index;
pub mod reverse;
pub mod roads;

// The coordinate systems live in [`crate::crs`], below both this layer and the GIS readers (which
// the store uses); re-exported here, where callers have always found them.
pub use crate::crs::{self, Crs, ProjectionError, SourceCrs, projection};
pub use index::{FootprintIndex, Hit, PolygonRelation};
pub use reverse::{DEFAULT_RADIUS_M, ReverseHit, reverse};
