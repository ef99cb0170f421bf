//! [`FootprintIndex`]: every building footprint in an R-tree, bulk-loaded once at start, with
//! exact geometric queries.
//!
//! The tree holds only each footprint's bounding box and its position in a `Vec` of buildings
//! (40 bytes an entry); the box filter finds candidates and geo's exact predicates decide, so a
//! point inside the bounding box of an L-shaped footprint but outside the L is not a hit.

use geo::{BoundingRect, Contains, Coord, Intersects, MultiPolygon, Point, Polygon, Rect};
use rayon::prelude::*;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, Envelope, RStarInsertionStrategy, RTree, RTreeParams};

use super::distance::{degree_margins, metres_to_polygon};
use crate::Building;

/// One R-tree entry: a footprint's bounding box and the building's position in the index.
type Entry = GeomWithData<Rectangle<[f64; 2]>, u32>;

/// Wider nodes than rstar's default (6): at a million footprints a point query is bound by
/// cache misses, one per level, and 16-wide nodes make the tree two levels shallower.
struct WideNodes;

impl RTreeParams for WideNodes {
    const MIN_SIZE: usize = 6;
    const MAX_SIZE: usize = 16;
    const REINSERTION_COUNT: usize = 4;
    type DefaultInsertionStrategy = RStarInsertionStrategy;
}

/// A building found by a distance query, with its distance in metres (0 when the point is in it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hit<'a> {
    /// The building.
    pub building: &'a Building,
    /// Metres from the query point to the footprint (0 inside or on its boundary).
    pub distance_m: f64,
}

/// How footprints must relate to a query polygon in [`FootprintIndex::buildings_in_polygon`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PolygonRelation {
    /// Footprints that touch or overlap the polygon.
    #[default]
    Intersects,
    /// Footprints entirely inside the polygon.
    Within,
}

/// Building footprints in an R-tree (rstar, bulk-loaded), with exact queries.
///
/// All coordinates are WGS84 lon/lat; all distances are metres.
///
/// # Examples
/// ```
/// use dizhi::spatial::FootprintIndex;
/// use dizhi::{Building, BuildingKind};
/// use geo::{point, polygon};
/// let b = Building {
///     id: "B1".into(),
///     footprint: polygon![(x: 121.0, y: 31.0), (x: 121.001, y: 31.0), (x: 121.001, y: 31.001),
///                         (x: 121.0, y: 31.001)],
///     kind: BuildingKind::Shop,
///     floors: 2,
///     tags: vec![],
/// };
/// let index = FootprintIndex::new(vec![b]);
/// let hit = index.containing_building(point!(x: 121.0005, y: 31.0005)).unwrap();
/// assert_eq!(hit.id, "B1");
/// let near = index.nearest_buildings(point!(x: 121.0005, y: 31.0015), 1, 100.0);
/// assert!((near[0].distance_m - 55.6).abs() < 0.1);
/// assert!(index.nearest_buildings(point!(x: 121.0005, y: 31.0015), 1, 50.0).is_empty());
/// ```
#[derive(Debug)]
pub struct FootprintIndex {
    buildings: Vec<Building>,
    tree: RTree<Entry, WideNodes>,
}

impl FootprintIndex {
    /// Bulk-loads the index (O(n log n); a million footprints take about a second).
    ///
    /// Buildings with an empty footprint cannot be placed and are left out of the tree (they are
    /// still counted by [`FootprintIndex::len`] and returned by [`FootprintIndex::building`]).
    pub fn new(buildings: Vec<Building>) -> FootprintIndex {
        let entries: Vec<Entry> = buildings
            .par_iter()
            .enumerate()
            .filter_map(|(i, b)| {
                let r = b.footprint.bounding_rect()?;
                let i = u32::try_from(i).ok()?;
                Some(GeomWithData::new(
                    Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                    i,
                ))
            })
            .collect();
        FootprintIndex {
            buildings,
            tree: RTree::bulk_load_with_params(entries),
        }
    }

    /// The box around every footprint (min lon, min lat, max lon, max lat); `None` when empty.
    ///
    /// # Examples
    /// ```
    /// use dizhi::spatial::FootprintIndex;
    /// assert_eq!(FootprintIndex::new(vec![]).extent(), None);
    /// ```
    pub fn extent(&self) -> Option<[f64; 4]> {
        if self.tree.size() == 0 {
            return None;
        }
        let e = self.tree.root().envelope();
        let (lo, hi) = (e.lower(), e.upper());
        Some([lo[0], lo[1], hi[0], hi[1]])
    }

    /// How many buildings the index holds.
    pub fn len(&self) -> usize {
        self.buildings.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.buildings.is_empty()
    }

    /// Every building, in the order they were given.
    pub fn buildings(&self) -> &[Building] {
        &self.buildings
    }

    /// The building at a position of [`FootprintIndex::buildings`].
    pub fn building(&self, i: usize) -> Option<&Building> {
        self.buildings.get(i)
    }

    /// Bytes the index owns on the heap: the buildings (ids, rings, tags) and the tree
    /// (estimated from its entry count; rstar does not expose its node sizes).
    pub fn heap_bytes(&self) -> usize {
        let per_building: usize = self
            .buildings
            .iter()
            .map(|b| {
                let rings = std::iter::once(b.footprint.exterior()).chain(b.footprint.interiors());
                b.id.capacity()
                    + rings
                        .map(|r| r.0.capacity() * size_of::<Coord<f64>>())
                        .sum::<usize>()
                    + std::mem::size_of_val(b.footprint.interiors())
                    + b.tags
                        .iter()
                        .map(|t| t.capacity() + size_of::<String>())
                        .sum::<usize>()
            })
            .sum();
        // Leaves hold the entries; inner nodes add about a tenth again (fan-out ~16).
        let tree = self.tree.size() * size_of::<Entry>() * 11 / 10;
        self.buildings.capacity() * size_of::<Building>() + per_building + tree
    }

    /// The building whose footprint contains the point (its boundary included), or `None`.
    ///
    /// Exact: the footprint itself is tested after the bounding-box filter. If footprints
    /// overlap, the first in index order wins.
    pub fn containing_building(&self, p: Point<f64>) -> Option<&Building> {
        self.containing_index(p).map(|i| &self.buildings[i])
    }

    /// [`FootprintIndex::containing_building`] for many points at once, on every core; the
    /// answers are in the order of `points`.
    ///
    /// The points are visited in Z-order (Morton order of their coordinates), so that
    /// consecutive lookups walk the same tree nodes and footprints while they are still in cache:
    /// at a million footprints that is several times faster than visiting them as given.
    pub fn containing_buildings(&self, points: &[Point<f64>]) -> Vec<Option<&Building>> {
        let mut order: Vec<(u64, u32)> = points
            .par_iter()
            .enumerate()
            .map(|(i, p)| (morton(*p), i as u32))
            .collect();
        order.par_sort_unstable();
        let found: Vec<Option<usize>> = order
            .par_iter()
            .map(|&(_, i)| self.containing_index(points[i as usize]))
            .collect();
        let mut out = vec![None; points.len()];
        for (&(_, i), f) in order.iter().zip(found) {
            out[i as usize] = f.map(|b| &self.buildings[b]);
        }
        out
    }

    /// The position of the building containing the point.
    pub fn containing_index(&self, p: Point<f64>) -> Option<usize> {
        let c = p.0;
        self.tree
            .locate_all_at_point(&[c.x, c.y])
            .map(|e| e.data as usize)
            .find(|&i| self.buildings[i].footprint.intersects(&c))
    }

    /// Up to `k` buildings within `max_distance_m` metres of the point, nearest first (ties by id).
    pub fn nearest_buildings(&self, p: Point<f64>, k: usize, max_distance_m: f64) -> Vec<Hit<'_>> {
        let mut hits = self.buildings_within_distance(p, max_distance_m);
        hits.truncate(k);
        hits
    }

    /// Every building within `max_distance_m` metres of the point, nearest first (ties by id).
    pub fn buildings_within_distance(&self, p: Point<f64>, max_distance_m: f64) -> Vec<Hit<'_>> {
        self.indexes_within_distance(p, max_distance_m)
            .into_iter()
            .map(|(i, distance_m)| Hit {
                building: &self.buildings[i],
                distance_m,
            })
            .collect()
    }

    /// The positions (in [`FootprintIndex::buildings`]) of every building within
    /// `max_distance_m` metres of the point, with their distances, nearest first (ties by id).
    pub fn indexes_within_distance(&self, p: Point<f64>, max_distance_m: f64) -> Vec<(usize, f64)> {
        if !max_distance_m.is_finite()
            || max_distance_m < 0.0
            || !p.x().is_finite()
            || !p.y().is_finite()
        {
            return Vec::new();
        }
        let (dlon, dlat) = degree_margins(p, max_distance_m);
        let envelope =
            AABB::from_corners([p.x() - dlon, p.y() - dlat], [p.x() + dlon, p.y() + dlat]);
        let mut hits: Vec<(usize, f64)> = self
            .tree
            .locate_in_envelope_intersecting(&envelope)
            .filter_map(|e| {
                let i = e.data as usize;
                let distance_m = metres_to_polygon(p, &self.buildings[i].footprint);
                (distance_m <= max_distance_m).then_some((i, distance_m))
            })
            .collect();
        hits.sort_by(|a, b| {
            a.1.total_cmp(&b.1)
                .then_with(|| self.buildings[a.0].id.cmp(&self.buildings[b.0].id))
        });
        hits
    }

    /// Every building whose footprint intersects the box (touching counts), in index order.
    ///
    /// # Examples
    /// ```
    /// use dizhi::spatial::FootprintIndex;
    /// use geo::{coord, Rect};
    /// let index = FootprintIndex::new(vec![]);
    /// assert!(index.buildings_in_box(Rect::new(coord!(x: 121.0, y: 31.0), coord!(x: 121.1, y: 31.1))).is_empty());
    /// ```
    pub fn buildings_in_box(&self, rect: Rect<f64>) -> Vec<&Building> {
        let envelope =
            AABB::from_corners([rect.min().x, rect.min().y], [rect.max().x, rect.max().y]);
        let mut found: Vec<usize> = self
            .tree
            .locate_in_envelope_intersecting(&envelope)
            .map(|e| e.data as usize)
            .filter(|&i| {
                let b = &self.buildings[i];
                // A footprint whose box lies inside the query box intersects it; test the rest.
                envelope.contains_envelope(&bbox_of(&b.footprint)) || b.footprint.intersects(&rect)
            })
            .collect();
        found.sort_unstable();
        found.into_iter().map(|i| &self.buildings[i]).collect()
    }

    /// Every building whose footprint intersects (or lies within) the polygon, in index order.
    pub fn buildings_in_polygon(
        &self,
        area: &MultiPolygon<f64>,
        relation: PolygonRelation,
    ) -> Vec<&Building> {
        let mut found: Vec<usize> = Vec::new();
        for part in area {
            let Some(r) = part.bounding_rect() else {
                continue;
            };
            let envelope = AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
            found.extend(
                self.tree
                    .locate_in_envelope_intersecting(&envelope)
                    .map(|e| e.data as usize),
            );
        }
        found.sort_unstable();
        found.dedup();
        found
            .into_iter()
            .map(|i| &self.buildings[i])
            .filter(|b| match relation {
                PolygonRelation::Intersects => area.intersects(&b.footprint),
                PolygonRelation::Within => area.contains(&b.footprint),
            })
            .collect()
    }
}

/// The Morton (Z-order) key of a lon/lat point: 32 bits of each coordinate, interleaved.
fn morton(p: Point<f64>) -> u64 {
    fn spread(v: u32) -> u64 {
        let mut x = u64::from(v);
        x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
        x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
        x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
        x = (x | (x << 2)) & 0x3333_3333_3333_3333;
        x = (x | (x << 1)) & 0x5555_5555_5555_5555;
        x
    }
    // `as` saturates (and maps NaN to 0), so any input gives a key.
    let x = ((p.x() + 180.0) / 360.0 * 4_294_967_295.0) as u32;
    let y = ((p.y() + 90.0) / 180.0 * 4_294_967_295.0) as u32;
    spread(x) | (spread(y) << 1)
}

fn bbox_of(p: &Polygon<f64>) -> AABB<[f64; 2]> {
    match p.bounding_rect() {
        Some(r) => AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
        None => AABB::from_point([f64::NAN, f64::NAN]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BuildingKind;
    use geo::{coord, point, polygon};

    fn building(id: &str, footprint: Polygon<f64>) -> Building {
        Building {
            id: id.into(),
            footprint,
            kind: BuildingKind::Residential,
            floors: 6,
            tags: vec![],
        }
    }

    /// An L: the square (0,0)–(2,2) without its top-right quarter, scaled to ~100 m.
    fn l_shape() -> Polygon<f64> {
        let s = 0.0005;
        polygon![(x: 121.0, y: 31.0), (x: 121.0 + 2.0 * s, y: 31.0), (x: 121.0 + 2.0 * s, y: 31.0 + s),
                 (x: 121.0 + s, y: 31.0 + s), (x: 121.0 + s, y: 31.0 + 2.0 * s), (x: 121.0, y: 31.0 + 2.0 * s)]
    }

    #[test]
    fn a_point_in_the_box_but_outside_the_l_is_not_contained() {
        let index = FootprintIndex::new(vec![building("L", l_shape())]);
        assert_eq!(
            index
                .containing_building(point!(x: 121.0002, y: 31.0002))
                .map(|b| b.id.as_str()),
            Some("L")
        );
        let notch = point!(x: 121.0008, y: 31.0008);
        assert!(index.containing_building(notch).is_none());
        // It is near, though: 0.0003° of longitude (28.6 m at 31°N) from the L's inner edge.
        let hit = index.nearest_buildings(notch, 1, 50.0);
        assert_eq!(hit.len(), 1);
        assert!(
            (hit[0].distance_m - 28.6).abs() < 0.1,
            "{}",
            hit[0].distance_m
        );
    }

    #[test]
    fn boundary_points_count_as_inside() {
        let index = FootprintIndex::new(vec![building("L", l_shape())]);
        assert!(
            index
                .containing_building(point!(x: 121.0, y: 31.0003))
                .is_some()
        );
    }

    #[test]
    fn box_and_polygon_queries_are_exact() {
        let index = FootprintIndex::new(vec![building("L", l_shape())]);
        // A box inside the notch touches the L's bounding box but not the L.
        let notch = Rect::new(
            coord!(x: 121.0007, y: 31.0007),
            coord!(x: 121.0009, y: 31.0009),
        );
        assert!(index.buildings_in_box(notch).is_empty());
        let overlapping = Rect::new(coord!(x: 120.9, y: 30.9), coord!(x: 121.0001, y: 31.0001));
        assert_eq!(index.buildings_in_box(overlapping).len(), 1);
        let big = MultiPolygon(vec![
            Rect::new(coord!(x: 120.9, y: 30.9), coord!(x: 121.1, y: 31.1)).to_polygon(),
        ]);
        assert_eq!(
            index
                .buildings_in_polygon(&big, PolygonRelation::Within)
                .len(),
            1
        );
        let half = MultiPolygon(vec![overlapping.to_polygon()]);
        assert_eq!(
            index
                .buildings_in_polygon(&half, PolygonRelation::Intersects)
                .len(),
            1
        );
        assert!(
            index
                .buildings_in_polygon(&half, PolygonRelation::Within)
                .is_empty()
        );
    }

    #[test]
    fn bad_query_input_gives_no_answers_not_panics() {
        let index = FootprintIndex::new(vec![building("L", l_shape())]);
        assert!(
            index
                .containing_building(point!(x: f64::NAN, y: 31.0))
                .is_none()
        );
        assert!(
            index
                .buildings_within_distance(point!(x: 121.0, y: 31.0), f64::NAN)
                .is_empty()
        );
        assert!(
            index
                .buildings_within_distance(point!(x: 121.0, y: 31.0), -1.0)
                .is_empty()
        );
    }
}
