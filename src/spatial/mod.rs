//! Building footprints in space: coordinate systems (and, with the footprint issue, the R-tree).

pub mod crs;
