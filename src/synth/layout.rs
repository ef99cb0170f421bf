//! The district's layout: its real 街镇 and 居/村委 placed plausibly inside it, each 居/村委 the
//! area of the points nearer to its seed than to any other (a Voronoi cell), each 街镇 the union
//! of its 居/村委. The bundled demo district has a hand-placed town plan; any other Shanghai
//! district is laid out around its centre (`dictionaries/shanghai_district_centres.tsv`).

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rstar::RTree;
use rstar::primitives::GeomWithData;

use super::geometry::{DISTRICT_BOUNDS, Frame};
use crate::dictionaries::{AdminDivision, AdminLevel, DEMO_DISTRICT, Dictionaries};

/// Where each town of the demo district lies (lon, lat of its centre), how far it reaches (km),
/// and whether it is mostly built-up. Hand-placed after the towns' real positions.
const TOWN_PLAN: [(&str, f64, f64, f64, bool); 11] = [
    ("夏阳街道", 121.105, 31.140, 3.0, true),
    ("盈浦街道", 121.110, 31.172, 2.6, true),
    ("香花桥街道", 121.145, 31.198, 3.6, true),
    ("朱家角镇", 121.040, 31.100, 6.5, false),
    ("练塘镇", 121.030, 31.010, 6.5, false),
    ("金泽镇", 120.930, 31.060, 7.5, false),
    ("赵巷镇", 121.195, 31.150, 3.6, true),
    ("徐泾镇", 121.265, 31.178, 3.6, true),
    ("华新镇", 121.215, 31.228, 3.9, true),
    ("重固镇", 121.150, 31.242, 3.0, false),
    ("白鹤镇", 121.060, 31.250, 4.6, false),
];

const DISTRICT_CENTRES: &str = include_str!("../../dictionaries/shanghai_district_centres.tsv");

/// A district of the centres table: code, centre (lon, lat), radius (km) and residents (10,000s).
pub(super) type DistrictRow = (&'static str, f64, f64, f64, f64);

/// Every district of the centres table, in the table's order.
pub(super) fn district_rows() -> Vec<DistrictRow> {
    DISTRICT_CENTRES
        .lines()
        .filter(|l| !l.starts_with('#'))
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            Some((
                *cols.first()?,
                cols.get(2)?.parse().ok()?,
                cols.get(3)?.parse().ok()?,
                cols.get(4)?.parse().ok()?,
                cols.get(5)?.parse().ok()?,
            ))
        })
        .collect()
}

/// The centre (lon, lat) and radius (km) of a district, from the centres table.
fn district_centre(code: &str) -> Option<(f64, f64, f64)> {
    district_rows()
        .into_iter()
        .find(|r| r.0 == code)
        .map(|r| (r.1, r.2, r.3))
}

/// The ground a district may build on when it is generated as part of the whole city: the points
/// nearer its centre than any other district's, each distance counted in that district's radius
/// (a weighted Voronoi cell), so that neighbouring districts never build on the same ground.
#[derive(Debug, Clone)]
struct Territory {
    own: (f64, f64, f64),
    others: Vec<(f64, f64, f64)>,
}

impl Territory {
    /// The district's territory among all of the centres table's districts.
    fn in_city(rows: &[DistrictRow], code: &str) -> Option<Territory> {
        let own = rows.iter().find(|r| r.0 == code).map(|r| (r.1, r.2, r.3))?;
        let others = rows
            .iter()
            .filter(|r| r.0 != code)
            .map(|r| (r.1, r.2, r.3))
            .collect();
        Some(Territory { own, others })
    }

    /// Whether the point (lon, lat) is the district's.
    fn owns(&self, lon: f64, lat: f64) -> bool {
        let km_per_deg_lon = 111.32 * 31.2f64.to_radians().cos();
        let reach = |&(clon, clat, r): &(f64, f64, f64)| {
            let (dx, dy) = ((lon - clon) * km_per_deg_lon, (lat - clat) * 110.574);
            (dx * dx + dy * dy).sqrt() / r
        };
        let mine = reach(&self.own);
        self.others.iter().all(|o| mine <= reach(o))
    }

    /// The territory as seen from the district's centre in `frame`: for each of [`RAYS`]
    /// directions, how far (m) the district's ground reaches before another's begins (a
    /// star-shaped part of the territory, all of it where the territory is star-shaped).
    fn reach_by_ray(&self, frame: &Frame) -> Vec<f64> {
        let centre = frame.to_xy(self.own.0, self.own.1);
        let (w, h) = frame.extent();
        let max = (w * w + h * h).sqrt();
        let owns = |d: f64, angle: f64| {
            let (x, y) = (centre.0 + d * angle.cos(), centre.1 + d * angle.sin());
            let (lon, lat) = frame.to_lonlat(x, y);
            self.owns(lon, lat)
        };
        (0..RAYS)
            .map(|k| {
                let angle = k as f64 * std::f64::consts::TAU / RAYS as f64;
                let mut inside = 0.0;
                let mut step = 100.0;
                while inside + step < max && owns(inside + step, angle) {
                    inside += step;
                }
                // Bisect the 100 m step down to a metre.
                while step > 1.0 {
                    step /= 2.0;
                    if owns(inside + step, angle) {
                        inside += step;
                    }
                }
                inside
            })
            .collect()
    }
}

/// How many directions a territory's outline is sampled in.
const RAYS: usize = 720;

/// The frame every territory is measured in, whichever district is being laid out: a
/// neighbour's outline is then the very same line as seen from either side.
const CITY_BOUNDS: (f64, f64, f64, f64) = (120.8, 30.6, 122.1, 31.95);

/// Every district's territory in the whole city, measured once (in the city's frame) for all
/// the districts laid out in it.
#[derive(Debug, Clone)]
pub struct CityTerritories {
    city: Frame,
    /// Per district: its code, its centre in the city's frame and its reach per direction.
    all: Vec<(&'static str, (f64, f64), Vec<f64>)>,
}

impl CityTerritories {
    /// Measures the territory of every district of the centres table.
    pub fn measure() -> CityTerritories {
        let city = Frame::new(CITY_BOUNDS);
        let rows = district_rows();
        let all = rows
            .iter()
            .filter_map(|r| {
                let t = Territory::in_city(&rows, r.0)?;
                Some((r.0, city.to_xy(r.1, r.2), t.reach_by_ray(&city)))
            })
            .collect();
        CityTerritories { city, all }
    }
}

/// A territory laid into a district's frame: its reach per direction from its centre, measured
/// in the city's frame, and its outline in the district's.
#[derive(Debug, Clone)]
struct TerritoryShape {
    /// The district's frame and the city's.
    frame: Frame,
    city: Frame,
    /// The centre, and the reach per direction, in the city's frame.
    centre: (f64, f64),
    reach: Vec<f64>,
    /// The outline in the district's frame.
    outline: geo::Polygon<f64>,
    /// The outlines (district frame) of the neighbouring districts that come near this one's.
    /// Each outline is drawn through points of a curved border, so two neighbours' outlines
    /// cross in slivers: areas leave out what lies in a neighbour's outline, so that no two
    /// districts' areas overlap.
    neighbours: Vec<geo::Polygon<f64>>,
}

impl TerritoryShape {
    /// The territory of `code` among `territories`, laid into `frame`.
    fn new(territories: &CityTerritories, code: &str, frame: &Frame) -> Option<TerritoryShape> {
        use geo::{BoundingRect, Intersects};
        let city = territories.city;
        let outline = |centre: (f64, f64), reach: &[f64]| -> geo::Polygon<f64> {
            let ring: Vec<(f64, f64)> = reach
                .iter()
                .enumerate()
                .map(|(k, &d)| {
                    let angle = k as f64 * std::f64::consts::TAU / RAYS as f64;
                    let (lon, lat) =
                        city.to_lonlat(centre.0 + d * angle.cos(), centre.1 + d * angle.sin());
                    frame.to_xy(lon, lat)
                })
                .collect();
            geo::Polygon::new(ring.into(), vec![])
        };
        let (_, centre, reach) = territories.all.iter().find(|t| t.0 == code)?;
        let own = outline(*centre, reach);
        let own_box = own.bounding_rect();
        let neighbours = territories
            .all
            .iter()
            .filter(|t| t.0 != code)
            .map(|(_, c, r)| outline(*c, r))
            .filter(
                |o| matches!((o.bounding_rect(), own_box), (Some(a), Some(b)) if a.intersects(&b)),
            )
            .collect();
        Some(TerritoryShape {
            frame: *frame,
            city,
            centre: *centre,
            reach: reach.clone(),
            outline: own,
            neighbours,
        })
    }

    /// A point of the district's frame in the city's.
    fn in_city(&self, p: (f64, f64)) -> (f64, f64) {
        let (lon, lat) = self.frame.to_lonlat(p.0, p.1);
        self.city.to_xy(lon, lat)
    }

    /// Whether every point of the box `lo`–`hi` (district frame) is outside the outline
    /// (`Some(true)`), every point inside it (`Some(false)`), or neither is sure (`None`).
    fn outside_box(&self, lo: (f64, f64), hi: (f64, f64)) -> Option<bool> {
        // Both frames scale each axis and shift: a box stays a box.
        let (lo, hi) = (self.in_city(lo), self.in_city(hi));
        let nearest = (
            self.centre.0.clamp(lo.0, hi.0) - self.centre.0,
            self.centre.1.clamp(lo.1, hi.1) - self.centre.1,
        );
        let farthest = (
            (lo.0 - self.centre.0)
                .abs()
                .max((hi.0 - self.centre.0).abs()),
            (lo.1 - self.centre.1)
                .abs()
                .max((hi.1 - self.centre.1).abs()),
        );
        let (near, far) = (nearest.0.hypot(nearest.1), farthest.0.hypot(farthest.1));
        let max = self.reach.iter().copied().fold(0.0, f64::max);
        let min = self.reach.iter().copied().fold(f64::MAX, f64::min);
        if near > max {
            Some(true)
        } else if far <= min * 0.999 {
            Some(false)
        } else {
            None
        }
    }

    /// Whether `p` (district frame metres) lies inside the outline, a little on the safe side:
    /// between two sampled directions the shorter reach counts.
    fn holds(&self, p: (f64, f64)) -> bool {
        let p = self.in_city(p);
        let (dx, dy) = (p.0 - self.centre.0, p.1 - self.centre.1);
        let turn = dy.atan2(dx).rem_euclid(std::f64::consts::TAU);
        let k = ((turn / std::f64::consts::TAU * RAYS as f64) as usize).min(RAYS - 1);
        let reach = self.reach[k].min(self.reach[(k + 1) % RAYS]);
        (dx * dx + dy * dy).sqrt() <= reach * 0.999
    }
}

/// A 街镇 placed in the district.
#[derive(Debug, Clone)]
pub struct Town {
    pub code: String,
    pub name: String,
    pub center: (f64, f64),
    pub radius: f64,
    pub urban: bool,
    /// The spacing of the town's road grid, in metres.
    pub spacing: f64,
}

/// A 居/村委 placed in the district.
#[derive(Debug, Clone)]
pub struct Community {
    pub code: String,
    /// The official name (东厍村村委会, 东盛社区居委会).
    pub name: String,
    pub town: usize,
    pub seed: (f64, f64),
    /// A 村委会 (village) rather than a 居委会.
    pub village: bool,
}

pub struct Layout {
    /// The district laid out (its code and name).
    pub district: AdminDivision,
    pub frame: Frame,
    pub towns: Vec<Town>,
    pub communities: Vec<Community>,
    seeds: RTree<GeomWithData<[f64; 2], usize>>,
    /// The district's share of the ground when it is laid out as part of the whole city.
    territory: Option<TerritoryShape>,
}

impl Layout {
    /// The bundled demo district's layout.
    #[cfg(test)]
    pub fn new(dicts: &Dictionaries, seed: u64) -> Layout {
        let district = dicts
            .admin
            .by_code(DEMO_DISTRICT)
            .expect("the demo district is in the list");
        Layout::in_district_within(dicts, district, seed, None, (300.0, 380.0))
    }

    /// The layout of any Shanghai district: the demo district after its town plan, any other
    /// around its centre (the district's own towns on a sunflower spiral, 街道 innermost); kept
    /// to its territory among `territories` (its areas clipped to it, [`Layout::holds`] false
    /// outside it) when the district is one of the whole city's.
    pub fn in_district_within(
        dicts: &Dictionaries,
        district: &AdminDivision,
        seed: u64,
        territories: Option<&CityTerritories>,
        spacing: (f64, f64),
    ) -> Layout {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x1a70_u64);
        let district_towns: Vec<&AdminDivision> = dicts.admin.children(&district.code).collect();
        let (frame, towns): (Frame, Vec<Town>) = if district.code == DEMO_DISTRICT {
            let frame = Frame::new(DISTRICT_BOUNDS);
            let towns = district_towns
                .iter()
                .map(|t| {
                    let &(_, lon, lat, radius_km, urban) = TOWN_PLAN
                        .iter()
                        .find(|p| p.0 == t.name)
                        .expect("every town of the demo district has a plan");
                    Town {
                        code: t.code.clone(),
                        name: t.name.clone(),
                        center: frame.to_xy(lon, lat),
                        radius: radius_km * 1000.0,
                        urban,
                        spacing: if urban { spacing.0 } else { spacing.1 },
                    }
                })
                .collect();
            (frame, towns)
        } else {
            spiral_towns(district, &district_towns, spacing)
        };
        let (w, h) = frame.extent();
        let nearest_town = |p: (f64, f64)| {
            (0..towns.len())
                .min_by(|&a, &b| {
                    let da = dist(p, towns[a].center) / towns[a].radius;
                    let db = dist(p, towns[b].center) / towns[b].radius;
                    da.total_cmp(&db)
                })
                .unwrap_or(0)
        };
        let mut communities = Vec::new();
        let district_communities = dicts.admin.divisions().filter(|d| {
            d.level == AdminLevel::Community && d.code.starts_with(&district.code[..6])
        });
        for d in district_communities {
            let Some(town) = towns
                .iter()
                .position(|t| Some(&t.code) == d.parent_code.as_ref())
            else {
                continue;
            };
            debug_assert_eq!(d.level, AdminLevel::Community);
            let village = d.name.ends_with("村委会");
            let t = &towns[town];
            // 居委 crowd the town centre, villages spread around it.
            let seed_point = loop {
                let u: f64 = rng.random();
                let angle: f64 = rng.random_range(0.0..std::f64::consts::TAU);
                let r = if village {
                    t.radius * (0.3 + 0.75 * u.sqrt())
                } else {
                    t.radius * 0.55 * u.sqrt()
                };
                let p = (t.center.0 + r * angle.cos(), t.center.1 + r * angle.sin());
                let inside = p.0 > 600.0 && p.1 > 600.0 && p.0 < w - 600.0 && p.1 < h - 600.0;
                if inside && nearest_town(p) == town {
                    break p;
                }
            };
            communities.push(Community {
                code: d.code.clone(),
                name: d.name.clone(),
                town,
                seed: seed_point,
                village,
            });
        }
        let seeds = RTree::bulk_load(
            communities
                .iter()
                .enumerate()
                .map(|(i, c)| GeomWithData::new([c.seed.0, c.seed.1], i))
                .collect(),
        );
        let territory = territories.and_then(|t| TerritoryShape::new(t, &district.code, &frame));
        Layout {
            district: district.clone(),
            frame,
            towns,
            communities,
            seeds,
            territory,
        }
    }

    /// The community whose area holds the point.
    pub fn community_at(&self, p: (f64, f64)) -> usize {
        self.seeds
            .nearest_neighbor(&[p.0, p.1])
            .map(|g| g.data)
            .unwrap_or(0)
    }

    /// The community's area: its Voronoi cell clipped to the district, in the local frame.
    pub fn community_area(&self, c: usize) -> Vec<(f64, f64)> {
        let (w, h) = self.frame.extent();
        let mut poly = vec![(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)];
        let s = self.communities[c].seed;
        for (j, other) in self.communities.iter().enumerate() {
            if j == c {
                continue;
            }
            // Keep the half-plane of points nearer to s than to other.seed.
            let o = other.seed;
            let n = (o.0 - s.0, o.1 - s.1);
            let mid = ((o.0 + s.0) / 2.0, (o.1 + s.1) / 2.0);
            let k = n.0 * mid.0 + n.1 * mid.1;
            poly = clip_half_plane(&poly, n, k);
            if poly.is_empty() {
                break;
            }
        }
        match &self.territory {
            Some(t) if !poly.is_empty() => clip_to_territory(&poly, t),
            _ => poly,
        }
    }

    /// Claims in `occupancy` the ground of the neighbouring districts (none for a district of
    /// its own).
    pub fn claim_neighbours_ground(&self, occupancy: &mut super::geometry::Occupancy) {
        if let Some(t) = &self.territory {
            occupancy.claim_where(|lo, hi| t.outside_box(lo, hi), |p| !t.holds(p));
        }
    }

    /// Whether the point (frame metres) is the district's ground: always, unless the district is
    /// laid out as one of the whole city's and the point lies in a neighbour's territory.
    pub fn holds(&self, p: (f64, f64)) -> bool {
        self.territory.as_ref().is_none_or(|t| t.holds(p))
    }
}

/// A district with no town plan: a frame around its centre, its towns on a sunflower spiral
/// inside the district's disk (街道 first, so the built-up ones are innermost), each reaching
/// about its share of the area.
fn spiral_towns(
    district: &AdminDivision,
    towns: &[&AdminDivision],
    spacing: (f64, f64),
) -> (Frame, Vec<Town>) {
    let (lon, lat, radius_km) = district_centre(&district.code).unwrap_or((121.45, 31.2, 8.0));
    let r = radius_km * 1000.0;
    let margin = r * 1.1;
    let m_per_deg_lon = 111_320.0 * lat.to_radians().cos();
    let frame = Frame::new((
        lon - margin / m_per_deg_lon,
        lat - margin / 110_574.0,
        lon + margin / m_per_deg_lon,
        lat + margin / 110_574.0,
    ));
    let centre = frame.to_xy(lon, lat);
    let mut ordered: Vec<&&AdminDivision> = towns.iter().collect();
    // 街道 before 镇 and the rest, each in code order.
    ordered.sort_by_key(|t| (!t.name.ends_with("街道"), t.code.clone()));
    let n = ordered.len().max(1) as f64;
    let golden = std::f64::consts::PI * (3.0 - 5f64.sqrt());
    let placed = ordered
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let urban = t.name.ends_with("街道");
            let d = r * 0.78 * ((i as f64 + 0.5) / n).sqrt();
            let angle = i as f64 * golden;
            Town {
                code: t.code.clone(),
                name: t.name.clone(),
                center: (centre.0 + d * angle.cos(), centre.1 + d * angle.sin()),
                radius: (r * 1.05 / n.sqrt()).max(1500.0),
                urban,
                spacing: if urban { spacing.0 } else { spacing.1 },
            }
        })
        .collect::<Vec<_>>();
    // Back in the list's order, as the demo's towns are.
    let mut towns_out = placed;
    towns_out.sort_by(|a, b| a.code.cmp(&b.code));
    (frame, towns_out)
}

pub fn dist(a: (f64, f64), b: (f64, f64)) -> f64 {
    ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt()
}

/// The largest part of a convex area inside the territory's outline and outside its
/// neighbours' (an open ring, as `clip_half_plane` gives them).
fn clip_to_territory(poly: &[(f64, f64)], territory: &TerritoryShape) -> Vec<(f64, f64)> {
    use geo::{Area, BooleanOps, BoundingRect, Intersects};
    let area = geo::Polygon::new(poly.to_vec().into(), vec![]);
    let mut parts = area.intersection(&territory.outline);
    let bounds = area.bounding_rect();
    for n in &territory.neighbours {
        if matches!((n.bounding_rect(), bounds), (Some(a), Some(b)) if a.intersects(&b)) {
            parts = parts.difference(n);
        }
    }
    let Some(largest) = parts
        .0
        .into_iter()
        .max_by(|a, b| a.unsigned_area().total_cmp(&b.unsigned_area()))
    else {
        return Vec::new();
    };
    let mut ring: Vec<(f64, f64)> = largest.exterior().coords().map(|c| (c.x, c.y)).collect();
    ring.pop();
    ring
}

/// Sutherland–Hodgman: the part of a convex polygon where `n·p <= k`.
fn clip_half_plane(poly: &[(f64, f64)], n: (f64, f64), k: f64) -> Vec<(f64, f64)> {
    let side = |p: (f64, f64)| n.0 * p.0 + n.1 * p.1 - k;
    let mut out = Vec::with_capacity(poly.len() + 1);
    for i in 0..poly.len() {
        let (p, q) = (poly[i], poly[(i + 1) % poly.len()]);
        let (sp, sq) = (side(p), side(q));
        if sp <= 0.0 {
            out.push(p);
        }
        if (sp <= 0.0) != (sq <= 0.0) {
            let t = sp / (sp - sq);
            out.push((p.0 + t * (q.0 - p.0), p.1 + t * (q.1 - p.1)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_community_is_placed_in_its_town() {
        let dicts = Dictionaries::embedded().unwrap();
        let layout = Layout::new(&dicts, 7);
        assert_eq!(layout.towns.len(), 11);
        assert_eq!(layout.communities.len(), 330);
        for (i, c) in layout.communities.iter().enumerate() {
            assert_eq!(layout.community_at(c.seed), i);
            assert!(c.code.starts_with(&layout.towns[c.town].code[..9]));
        }
    }

    #[test]
    fn areas_tile_the_district() {
        let dicts = Dictionaries::embedded().unwrap();
        let layout = Layout::new(&dicts, 7);
        let area = |poly: &[(f64, f64)]| {
            let n = poly.len();
            (0..n)
                .map(|i| poly[i].0 * poly[(i + 1) % n].1 - poly[(i + 1) % n].0 * poly[i].1)
                .sum::<f64>()
                / 2.0
        };
        let total: f64 = (0..layout.communities.len())
            .map(|c| area(&layout.community_area(c)))
            .sum();
        let (w, h) = layout.frame.extent();
        assert!((total - w * h).abs() / (w * h) < 1e-9);
    }
}
