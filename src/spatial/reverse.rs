//! Reverse lookup: a point → the building that contains it, or else the nearest one within a
//! radius.

use geo::Point;

use super::index::FootprintIndex;
use crate::Building;

/// How far reverse lookup looks for a building when the point is in none: 50 m.
pub const DEFAULT_RADIUS_M: f64 = 50.0;

/// The answer of [`reverse`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReverseHit<'a> {
    /// The building.
    pub building: &'a Building,
    /// 0 when the point is in the footprint, otherwise metres to its nearest edge.
    pub distance_m: f64,
    /// Whether the point is in the footprint (on its boundary counts).
    pub inside: bool,
}

/// The building containing `p`; outside every footprint, the nearest building within
/// `radius_m` metres; otherwise `None`.
///
/// # Examples
/// ```
/// use dizhi::spatial::{reverse, FootprintIndex};
/// use dizhi::{Building, BuildingKind};
/// use geo::{point, polygon};
/// let index = FootprintIndex::new(vec![Building {
///     id: "B1".into(),
///     footprint: polygon![(x: 121.0, y: 31.0), (x: 121.001, y: 31.0), (x: 121.001, y: 31.001)],
///     kind: BuildingKind::Shop, floors: 1, tags: vec![],
/// }]);
/// let hit = reverse(&index, point!(x: 121.0008, y: 31.0002), 50.0).unwrap();
/// assert!(hit.inside && hit.distance_m == 0.0);
/// let near = reverse(&index, point!(x: 121.0012, y: 31.0005), 50.0).unwrap();
/// assert!(!near.inside && near.distance_m > 15.0 && near.distance_m < 25.0);
/// assert!(reverse(&index, point!(x: 121.01, y: 31.0005), 50.0).is_none());
/// ```
pub fn reverse(index: &FootprintIndex, p: Point<f64>, radius_m: f64) -> Option<ReverseHit<'_>> {
    if let Some(building) = index.containing_building(p) {
        return Some(ReverseHit {
            building,
            distance_m: 0.0,
            inside: true,
        });
    }
    index
        .nearest_buildings(p, 1, radius_m)
        .into_iter()
        .next()
        .map(|h| ReverseHit {
            building: h.building,
            distance_m: h.distance_m,
            inside: false,
        })
}
