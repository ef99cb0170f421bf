//! The road network: the demo district's real roads placed in their towns, a generated grid of roads in every
//! town, and the generated road names.

use std::collections::BTreeSet;

use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::geometry::{Occupancy, OrientedRect};
use super::layout::{Layout, dist};
use crate::dictionaries::Dictionaries;

/// Characters road names are made of (place syllables and auspicious words of the demo district).
const NAME_CHARS: &str = "华崧盈青沪赵徐泾重白鹤朱练金泽香花桥淀湖漕嘉松明珠诸光新业科秀民安汇龙凤溪福泉山胜利振兴丰庆和平春晖育才文博雅盛泰康宁德顺昌隆通达瑞祥云霞翠竹梅兰桂荷柳杨枫岭峰湾港塘浜泖蒸商莲西东南北中章浦阳城园林乐海天高长永宏鑫";

/// The generated road names, the same for every seed (so that they can live in a dictionary):
/// two name characters and a suffix; some come in directional pairs (城中北路 / 城中南路 are
/// different roads). Real road names and admin names are left out.
///
/// # Examples
/// ```
/// let dicts = dizhi::Dictionaries::embedded().unwrap();
/// let names = dizhi::synth::generated_road_names(&dicts);
/// assert!(names.len() >= 3000);
/// assert!(!names.iter().any(|n| n == "华腾路"));
/// ```
pub fn generated_road_names(dicts: &Dictionaries) -> Vec<String> {
    road_name_pool(dicts, DICTIONARY_NAMES)
}

/// How many generated names the road dictionary holds (and a single district draws from first).
const DICTIONARY_NAMES: usize = 4000;

/// At least `wanted` generated road names: the dictionary's [`generated_road_names`] first, in
/// the same order, then more drawn the same way, so that every district of a whole-city
/// generation gets names of its own (Shanghai does not give two roads one name). Two-character
/// stems run out near 20,000 names; three-character stems follow.
fn road_name_pool(dicts: &Dictionaries, wanted: usize) -> Vec<String> {
    let chars: Vec<char> = NAME_CHARS.chars().collect();
    let mut rng = ChaCha8Rng::seed_from_u64(0x5eed_0ad5);
    let mut taken: BTreeSet<String> = dicts
        .roads
        .iter()
        .filter(|r| r.real)
        .map(|r| r.name.clone())
        .collect();
    let mut stems: BTreeSet<String> = taken
        .iter()
        .map(|n| crate::dictionaries::road_stem(n).to_string())
        .collect();
    let mut out = Vec::new();
    let mut tries = 0;
    // Past this many draws two-character stems are nearly all taken.
    const TWO_CHARACTER_TRIES: usize = 200_000;
    while out.len() < wanted && tries < TWO_CHARACTER_TRIES + wanted * 20 {
        tries += 1;
        let a = *chars.choose(&mut rng).unwrap_or(&'华');
        let b = *chars.choose(&mut rng).unwrap_or(&'新');
        if a == b {
            continue;
        }
        let mut stem: String = [a, b].iter().collect();
        if tries > TWO_CHARACTER_TRIES {
            let c = *chars.choose(&mut rng).unwrap_or(&'路');
            if c == b {
                continue;
            }
            stem.push(c);
        }
        // One road per stem (华徐路 and 华徐公路 would be ambiguous when 公路 is said as 路).
        if dicts.admin.by_name(&stem).next().is_some() || !stems.insert(stem.clone()) {
            continue;
        }
        let roll: f64 = rng.random();
        let names: Vec<String> = if roll < 0.08 {
            // A directional pair (or set) of distinct roads.
            let dirs: &[&str] = if rng.random_bool(0.5) {
                &["东路", "西路"]
            } else {
                &["北路", "南路", "中路"]
            };
            dirs.iter().map(|d| format!("{stem}{d}")).collect()
        } else {
            let suffix = match roll {
                r if r < 0.80 => "路",
                r if r < 0.88 => "公路",
                r if r < 0.91 => "大道",
                r if r < 0.98 => "街",
                _ => "巷",
            };
            vec![format!("{stem}{suffix}")]
        };
        if names.iter().any(|n| taken.contains(n)) {
            continue;
        }
        for n in names {
            taken.insert(n.clone());
            out.push(n);
        }
    }
    out
}

/// A road of the synthetic district.
#[derive(Debug, Clone)]
pub struct Road {
    pub id: String,
    pub name: String,
    /// Its polyline in the local frame.
    pub points: Vec<(f64, f64)>,
    /// The town it was laid out in (long 公路 cross several).
    pub town: usize,
    /// Whether deep parcels (compounds, parks) front it; the cross streets of the grid and the
    /// long 公路 get shops only, so that the blocks' corners are not claimed twice.
    pub deep: bool,
    /// Whether its name was drawn from the generated names (not a real road's).
    pub generated_name: bool,
}

/// Lays out every road of the district and claims their corridors in `occupancy`.
pub fn road_network(
    layout: &Layout,
    dicts: &Dictionaries,
    seed: u64,
    occupancy: &mut Occupancy,
    ids: &super::IdBase,
) -> Vec<Road> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x40ad_u64);
    let (w, h) = layout.frame.extent();
    let mut roads: Vec<Road> = Vec::new();

    // Long real roads through several towns: a polyline through those towns' centres.
    let mut real_single: Vec<(String, Option<usize>)> = Vec::new();
    // The road dictionary's real roads are the demo district's: another district gets generated
    // names only.
    let real_roads = dicts
        .roads
        .iter()
        .filter(|r| r.real && layout.district.code == crate::dictionaries::DEMO_DISTRICT);
    for r in real_roads {
        let towns: Vec<usize> = r
            .towns
            .iter()
            .filter_map(|name| layout.towns.iter().position(|t| &t.name == name))
            .collect();
        if towns.len() < 2 {
            real_single.push((r.name.clone(), towns.first().copied()));
            continue;
        }
        let mut points: Vec<(f64, f64)> = towns
            .iter()
            .map(|&t| {
                let c = layout.towns[t].center;
                let off = layout.towns[t].radius * 0.35;
                (
                    c.0 + rng.random_range(-off..off),
                    c.1 + rng.random_range(-off..off),
                )
            })
            .collect();
        // Extend both ends past the first and last town.
        let extend = |a: (f64, f64), b: (f64, f64), by: f64| {
            let d = dist(a, b).max(1.0);
            (a.0 + (a.0 - b.0) / d * by, a.1 + (a.1 - b.1) / d * by)
        };
        let first = extend(points[0], points[1], layout.towns[towns[0]].radius * 0.8);
        let n = points.len();
        let last = extend(
            points[n - 1],
            points[n - 2],
            layout.towns[towns[n - 1]].radius * 0.8,
        );
        points.insert(0, first);
        points.push(last);
        for p in &mut points {
            p.0 = p.0.clamp(300.0, w - 300.0);
            p.1 = p.1.clamp(300.0, h - 300.0);
        }
        roads.push(Road {
            id: String::new(),
            name: r.name.clone(),
            points,
            town: towns[0],
            deep: false,
            generated_name: false,
        });
    }

    // A grid of roads in each town, at the town's own angle, clipped to the town.
    // (start, end, deep) of each town's grid segments.
    type Segment = ((f64, f64), (f64, f64), bool);
    let mut town_segments: Vec<Vec<Segment>> = vec![Vec::new(); layout.towns.len()];
    for (t, town) in layout.towns.iter().enumerate() {
        let angle: f64 = rng.random_range(0.0..std::f64::consts::FRAC_PI_2);
        let spacing = town.spacing;
        let reach = town.radius * 1.7;
        for dir in 0..2 {
            let theta = angle + dir as f64 * std::f64::consts::FRAC_PI_2;
            let u = (theta.cos(), theta.sin());
            let n = (-u.1, u.0);
            let lines = (reach * 2.0 / spacing) as i64;
            for k in -lines / 2..=lines / 2 {
                let off = k as f64 * spacing + rng.random_range(-30.0..30.0);
                let base = (town.center.0 + n.0 * off, town.center.1 + n.1 * off);
                // Walk the line, keeping the runs that stay inside this town and the district.
                let step = 25.0;
                let mut run: Option<(f64, f64)> = None;
                let mut s = -reach;
                while s <= reach + step {
                    let p = (base.0 + u.0 * s, base.1 + u.1 * s);
                    let inside = s <= reach
                        && p.0 > 200.0
                        && p.1 > 200.0
                        && p.0 < w - 200.0
                        && p.1 < h - 200.0
                        && layout.holds(p)
                        && layout.communities[layout.community_at(p)].town == t;
                    match (inside, run) {
                        (true, None) => run = Some((s, s)),
                        (true, Some((a, _))) => run = Some((a, s)),
                        (false, Some((a, b))) => {
                            if b - a >= 250.0 {
                                // Long runs change name every couple of kilometres.
                                let pieces =
                                    ((b - a) / rng.random_range(1500.0..3000.0)).ceil().max(1.0);
                                let len = (b - a) / pieces;
                                for i in 0..pieces as usize {
                                    let s0 = a + i as f64 * len;
                                    let s1 = s0 + len
                                        - if (i as f64) + 1.0 < pieces { 20.0 } else { 0.0 };
                                    town_segments[t].push((
                                        (base.0 + u.0 * s0, base.1 + u.1 * s0),
                                        (base.0 + u.0 * s1, base.1 + u.1 * s1),
                                        dir == 0,
                                    ));
                                }
                            }
                            run = None;
                        }
                        (false, None) => {}
                    }
                    s += step;
                }
            }
        }
        // The real roads of this town take the segments nearest its centre.
        town_segments[t].sort_by(|a, b| {
            let ma = ((a.0.0 + a.1.0) / 2.0, (a.0.1 + a.1.1) / 2.0);
            let mb = ((b.0.0 + b.1.0) / 2.0, (b.0.1 + b.1.1) / 2.0);
            dist(ma, town.center).total_cmp(&dist(mb, town.center))
        });
    }

    // This district's names come after those the districts before it used.
    let segments: usize = town_segments.iter().map(Vec::len).sum();
    let generated = road_name_pool(dicts, (ids.road_names + segments).max(DICTIONARY_NAMES));
    let mut next_generated = generated.iter().skip(ids.road_names);
    let mut used_real = vec![false; real_single.len()];
    // Real single-town roads first, in their towns; real roads with no known town go to the
    // busiest towns in turn.
    for (t, segments) in town_segments.iter().enumerate() {
        for (i, &(a, b, deep)) in segments.iter().enumerate() {
            let real = real_single.iter().enumerate().position(|(j, (_, town))| {
                !used_real[j]
                    && (*town == Some(t) || (town.is_none() && i == 1 && layout.towns[t].urban))
            });
            let name = match real {
                Some(j) => {
                    used_real[j] = true;
                    real_single[j].0.clone()
                }
                None => match next_generated.next() {
                    Some(n) => n.clone(),
                    None => continue,
                },
            };
            roads.push(Road {
                id: String::new(),
                name,
                points: vec![a, b],
                town: t,
                deep,
                generated_name: real.is_none(),
            });
        }
    }
    for (i, road) in roads.iter_mut().enumerate() {
        road.id = format!("R{:05}", ids.roads + i + 1);
        for w in road.points.windows(2) {
            claim_corridor(occupancy, w[0], w[1]);
        }
    }
    roads
}

/// Claims a 16 m wide corridor along a road segment, in 100 m pieces.
fn claim_corridor(occupancy: &mut Occupancy, a: (f64, f64), b: (f64, f64)) {
    let len = dist(a, b);
    if len < 1.0 {
        return;
    }
    let u = ((b.0 - a.0) / len, (b.1 - a.1) / len);
    let n = (-u.1, u.0);
    let mut s = 0.0;
    while s < len {
        let piece = (len - s).min(100.0);
        occupancy.claim(&OrientedRect {
            origin: (a.0 + u.0 * s - n.0 * 8.0, a.1 + u.1 * s - n.1 * 8.0),
            u,
            n,
            len: piece,
            depth: 16.0,
        });
        s += piece;
    }
}
