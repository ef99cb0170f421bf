//! [`RoadIndex`]: road centre lines in an R-tree, for drawing the roads around a building on the
//! web page's map (the store keeps them as WKB; this loads them once at start).

use geo::{BoundingRect, Geometry, Intersects, LineString, MultiLineString, Rect};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

use crate::store::RoadRecord;

/// A road: its id, standard name and centre line (WGS84 lon/lat).
#[derive(Debug, Clone, PartialEq)]
pub struct Road {
    /// Stable id.
    pub id: String,
    /// Its standard name, e.g. `华腾路`.
    pub name: String,
    /// Its centre line, one or more parts.
    pub line: MultiLineString<f64>,
}

/// Roads in an R-tree of the bounding boxes of their parts.
///
/// # Examples
/// ```
/// use dizhi::spatial::roads::RoadIndex;
/// use dizhi::store::RoadRecord;
/// use geo::{coord, line_string, Geometry, Rect};
/// let road = RoadRecord {
///     id: "R1".into(),
///     name: "华腾路".into(),
///     town_code: None,
///     geometry: Some(Geometry::LineString(line_string![(x: 121.0, y: 31.0), (x: 121.01, y: 31.0)])),
/// };
/// let index = RoadIndex::new(vec![road]);
/// let near = Rect::new(coord!(x: 121.004, y: 30.999), coord!(x: 121.005, y: 31.001));
/// assert_eq!(index.roads_in_box(near)[0].name, "华腾路");
/// let away = Rect::new(coord!(x: 121.004, y: 31.001), coord!(x: 121.005, y: 31.002));
/// assert!(index.roads_in_box(away).is_empty());
/// ```
#[derive(Debug, Default)]
pub struct RoadIndex {
    roads: Vec<Road>,
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, u32>>,
}

impl RoadIndex {
    /// Bulk-loads the roads that have a line geometry (others cannot be drawn and are left out).
    pub fn new(records: Vec<RoadRecord>) -> RoadIndex {
        let roads: Vec<Road> = records
            .into_iter()
            .filter_map(|r| {
                let line = match r.geometry? {
                    Geometry::LineString(l) => MultiLineString::new(vec![l]),
                    Geometry::MultiLineString(m) => m,
                    _ => return None,
                };
                Some(Road {
                    id: r.id,
                    name: r.name,
                    line,
                })
            })
            .collect();
        let mut entries = Vec::new();
        for (i, road) in roads.iter().enumerate() {
            let Ok(i) = u32::try_from(i) else { break };
            // One entry per part, so a long road's box does not cover the whole district.
            for part in &road.line {
                if let Some(r) = part.bounding_rect() {
                    entries.push(GeomWithData::new(
                        Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]),
                        i,
                    ));
                }
            }
        }
        RoadIndex {
            roads,
            tree: RTree::bulk_load(entries),
        }
    }

    /// How many roads it holds.
    pub fn len(&self) -> usize {
        self.roads.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.roads.is_empty()
    }

    /// Every road whose centre line intersects the box, in index order, each once.
    pub fn roads_in_box(&self, rect: Rect<f64>) -> Vec<&Road> {
        let envelope =
            AABB::from_corners([rect.min().x, rect.min().y], [rect.max().x, rect.max().y]);
        let mut found: Vec<usize> = self
            .tree
            .locate_in_envelope_intersecting(&envelope)
            .map(|e| e.data as usize)
            .collect();
        found.sort_unstable();
        found.dedup();
        found
            .into_iter()
            .map(|i| &self.roads[i])
            .filter(|r| r.line.iter().any(|l: &LineString<f64>| l.intersects(&rect)))
            .collect()
    }
}
