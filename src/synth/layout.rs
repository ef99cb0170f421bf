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

/// The centre (lon, lat) and radius (km) of a district, from the centres table.
fn district_centre(code: &str) -> Option<(f64, f64, f64)> {
    DISTRICT_CENTRES
        .lines()
        .filter(|l| !l.starts_with('#'))
        .skip(1)
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .find(|cols| cols.first() == Some(&code))
        .and_then(|cols| {
            Some((
                cols.get(2)?.parse().ok()?,
                cols.get(3)?.parse().ok()?,
                cols.get(4)?.parse().ok()?,
            ))
        })
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
}

impl Layout {
    /// The bundled demo district's layout.
    #[cfg(test)]
    pub fn new(dicts: &Dictionaries, seed: u64) -> Layout {
        let district = dicts
            .admin
            .by_code(DEMO_DISTRICT)
            .expect("the demo district is in the list");
        Layout::in_district(dicts, district, seed)
    }

    /// The layout of any Shanghai district: the demo district after its town plan, any other
    /// around its centre (the district's own towns on a sunflower spiral, 街道 innermost).
    pub fn in_district(dicts: &Dictionaries, district: &AdminDivision, seed: u64) -> Layout {
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
                        spacing: if urban { 300.0 } else { 380.0 },
                    }
                })
                .collect();
            (frame, towns)
        } else {
            spiral_towns(district, &district_towns)
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
        Layout {
            district: district.clone(),
            frame,
            towns,
            communities,
            seeds,
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
        poly
    }
}

/// A district with no town plan: a frame around its centre, its towns on a sunflower spiral
/// inside the district's disk (街道 first, so the built-up ones are innermost), each reaching
/// about its share of the area.
fn spiral_towns(district: &AdminDivision, towns: &[&AdminDivision]) -> (Frame, Vec<Town>) {
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
                spacing: if urban { 300.0 } else { 380.0 },
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
