//! One standard address from the records that name its door: where it is (the footprint its
//! points fall in, else the nearest within the configured distance), its 街镇 and 居/村委 (from the
//! boundary layers at its position, else from what the records say, else inferred from its
//! place's other doors), its support and confidence, and which register gave which field.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use geo::{InteriorPoint, Point};

use super::config::Trust;
use super::merge::{DoorKey, Reading};
use super::read::RegisterRecord;
use crate::spatial::FootprintIndex;

/// The divisions known by name, for records without boundary layers.
pub struct Divisions {
    /// 街镇 name (official and short) → (code, official name).
    pub towns: HashMap<String, (String, String)>,
    /// (town code, 居/村委 name as addresses say it, or official) → (code, official name).
    pub communities: HashMap<(String, String), (String, String)>,
    /// 街镇 code → official name.
    pub town_names: HashMap<String, String>,
    /// 街镇 code → (district name).
    pub district_of_town: HashMap<String, String>,
    /// 居/村委 name as addresses say it → every (town code, code, official name) of that name.
    pub communities_by_name: HashMap<String, Vec<(String, String, String)>>,
}

impl Divisions {
    /// From the coverage's admin divisions.
    pub fn new(coverage: &crate::dictionaries::Coverage) -> Divisions {
        let mut towns = HashMap::new();
        let mut district_of_town = HashMap::new();
        let mut town_names = HashMap::new();
        for t in coverage.towns() {
            town_names.insert(t.code.clone(), t.name.clone());
            for n in [&t.name, &t.short_name] {
                towns
                    .entry(n.clone())
                    .or_insert_with(|| (t.code.clone(), t.name.clone()));
            }
            if let Some(d) = t
                .parent_code
                .as_deref()
                .and_then(|p| coverage.district_of(p))
            {
                district_of_town.insert(t.code.clone(), d.name.clone());
            }
        }
        let mut communities = HashMap::new();
        let mut communities_by_name: HashMap<String, Vec<(String, String, String)>> =
            HashMap::new();
        for c in coverage.communities() {
            let Some(town) = c.parent_code.clone() else {
                continue;
            };
            let spoken = crate::address::community_address_name(&c.name).to_string();
            communities_by_name
                .entry(spoken.clone())
                .or_default()
                .push((town.clone(), c.code.clone(), c.name.clone()));
            for n in [c.name.clone(), c.short_name.clone(), spoken] {
                communities
                    .entry((town.clone(), n))
                    .or_insert_with(|| (c.code.clone(), c.name.clone()));
            }
        }
        Divisions {
            towns,
            town_names,
            communities,
            district_of_town,
            communities_by_name,
        }
    }
}

/// The boundary layers as polygon indexes (a division's code as the "building" id).
pub struct Areas {
    /// 街镇 polygons.
    pub towns: FootprintIndex,
    /// 居/村委 polygons.
    pub communities: FootprintIndex,
    /// Code → name as the layer gives it.
    pub names: HashMap<String, String>,
}

/// What the build needs to place an address.
pub struct Context<'a> {
    /// The records.
    pub records: &'a [RegisterRecord],
    /// Their readings.
    pub readings: &'a [Reading],
    /// Each register's trust, by the record's register index.
    pub trust: &'a [Trust],
    /// Each register's name, by the record's register index.
    pub register_names: &'a [String],
    /// The footprints.
    pub footprints: &'a FootprintIndex,
    /// The boundary layers, when given.
    pub areas: Option<&'a Areas>,
    /// The divisions by name.
    pub divisions: &'a Divisions,
    /// A point in no footprint links to the nearest within this.
    pub max_distance_m: f64,
    /// Footprint (position) → the doors (positions in the door list) whose points lie in it.
    pub claims: &'a HashMap<usize, Vec<usize>>,
    /// The doors, by position.
    pub doors: &'a [&'a DoorKey],
    /// Doors with no point, placed in the footprint that holds the doors numbered on both
    /// sides of them in their lane (door position → footprint position).
    pub bracketed: &'a HashMap<usize, (usize, &'static str)>,
    /// Road centre lines by name.
    pub roads: &'a HashMap<String, Vec<geo::Geometry<f64>>>,
}

/// An address as the registers make it, before it has an id.
#[derive(Debug, Clone)]
pub struct Assembled {
    /// The door.
    pub key: DoorKey,
    /// The records behind it.
    pub records: Vec<u32>,
    /// District name.
    pub district: String,
    /// 街镇 (code, name), if known.
    pub town: Option<(String, String)>,
    /// 居/村委 (code, name), if known.
    pub community: Option<(String, String)>,
    /// Compound, unit or shop name the records give most.
    pub poi: Option<String>,
    /// The linked footprint (position in the index) and how it was found.
    pub building: Option<(usize, &'static str)>,
    /// Its point, WGS84.
    pub point: Option<(f64, f64)>,
    /// confirmed | single_source | proposed.
    pub support: &'static str,
    /// Distinct registers, sorted.
    pub registers: Vec<u16>,
    /// How sure the build is (0..1).
    pub confidence: f64,
    /// Which source gave which field.
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// The 街镇 the records name when it disagrees with the boundary layer's.
    pub town_conflict: Option<(String, String)>,
}

/// The most frequent value (ties: the smallest), with how many gave it.
fn vote<'a>(values: impl Iterator<Item = &'a str>) -> Option<(&'a str, usize)> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for v in values {
        *counts.entry(v).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(a.0)))
}

/// Assembles one door's address.
pub fn assemble(cx: &Context<'_>, door: usize, key: &DoorKey, records: &[u32]) -> Assembled {
    let name_of = |r: u16| cx.register_names[r as usize].as_str();
    let registers: Vec<u16> = records
        .iter()
        .map(|&i| cx.records[i as usize].register)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let authorities = registers
        .iter()
        .filter(|&&r| cx.trust[r as usize] == Trust::Register)
        .count();
    let support = match (authorities, registers.len()) {
        (0, _) => "proposed",
        (_, n) if n >= 2 => "confirmed",
        _ => "single_source",
    };
    let mut fields = serde_json::Map::new();

    // The footprint: each point votes for the footprint it lies in (an authority's point counts
    // twice), else for the nearest within the distance.
    let mut votes: BTreeMap<usize, (usize, &'static str)> = BTreeMap::new();
    let mut first_voter: HashMap<usize, u32> = HashMap::new();
    for &i in records {
        let r = &cx.records[i as usize];
        let Some((lon, lat)) = r.point else { continue };
        let weight = if cx.trust[r.register as usize] == Trust::Register {
            2
        } else {
            1
        };
        let p = Point::new(lon, lat);
        let (at, method, w) = match cx.footprints.containing_index(p) {
            Some(b) => (b, "contains", weight * 2),
            // A point in no footprint (in the street before the door, or off by a little): the
            // nearest footprint no other door's point lies in — a door plate is mostly a
            // building of its own — else the nearest.
            None => {
                let near = cx.footprints.indexes_within_distance(p, cx.max_distance_m);
                let free = near.iter().find(|(b, _)| {
                    cx.claims
                        .get(b)
                        .is_none_or(|doors| doors.iter().all(|d| *d == door))
                });
                // The footprint that holds the doors numbered next to this one in its lane
                // (a building with several 号 holds a run of them) comes first.
                let sibling = near
                    .iter()
                    .filter_map(|&(b, m)| Some((sibling_gap(cx, door, key, b)?, m, b)))
                    .min_by(|x, y| x.0.cmp(&y.0).then(x.1.total_cmp(&y.1)))
                    .filter(|&(gap, _, _)| gap <= 2)
                    .map(|(_, m, b)| (b, m));
                let facing = (!key.village)
                    .then(|| facing_footprint(cx, &key.place, p))
                    .flatten()
                    .map(|b| (b, 0.0));
                match facing
                    .as_ref()
                    .or(sibling.as_ref())
                    .or(free)
                    .or(near.first())
                {
                    Some(&(b, _)) => (b, "nearest", weight),
                    None => continue,
                }
            }
        };
        let e = votes.entry(at).or_insert((0, method));
        e.0 += w;
        if method == "contains" {
            e.1 = "contains";
        }
        first_voter.entry(at).or_insert(i);
    }
    let building = votes
        .iter()
        .max_by(|a, b| (a.1).0.cmp(&(b.1).0).then(b.0.cmp(a.0)))
        .map(|(&b, &(_, method))| (b, method))
        .or_else(|| cx.bracketed.get(&door).copied());
    if let Some((b, how @ ("siblings" | "interpolated" | "site"))) = building {
        fields.insert(
            "building".into(),
            format!("{how}:{}", cx.footprints.buildings()[b].id).into(),
        );
    }
    if let Some((b, method)) =
        building.filter(|(_, m)| !matches!(*m, "siblings" | "interpolated" | "site"))
    {
        let r = &cx.records[first_voter[&b] as usize];
        fields.insert(
            "building".into(),
            format!("{method}:{}:{}", name_of(r.register), r.key).into(),
        );
    }
    // The point: a record's point in the linked footprint, else the footprint's interior point,
    // else the records' mean point.
    let point = match building {
        Some((b, _)) => {
            let fp = &cx.footprints.buildings()[b].footprint;
            records
                .iter()
                .filter_map(|&i| cx.records[i as usize].point)
                .find(|&(x, y)| cx.footprints.containing_index(Point::new(x, y)) == Some(b))
                .or_else(|| fp.interior_point().map(|p| (p.x(), p.y())))
        }
        None => {
            let pts: Vec<(f64, f64)> = records
                .iter()
                .filter_map(|&i| cx.records[i as usize].point)
                .collect();
            (!pts.is_empty()).then(|| {
                let n = pts.len() as f64;
                (
                    pts.iter().map(|p| p.0).sum::<f64>() / n,
                    pts.iter().map(|p| p.1).sum::<f64>() / n,
                )
            })
        }
    };

    // 街镇 and 居/村委: the boundary layers at the point first; what the records say otherwise.
    let said_town = vote(
        records
            .iter()
            .filter_map(|&i| cx.readings[i as usize].town.as_deref()),
    )
    .and_then(|(t, _)| cx.divisions.towns.get(t).cloned());
    let area_at = |index: &FootprintIndex, (x, y): (f64, f64)| {
        index
            .containing_building(Point::new(x, y))
            .map(|b| b.id.clone())
    };
    let mut town_conflict = None;
    let town = match (cx.areas, point) {
        (Some(areas), Some(p)) => match area_at(&areas.towns, p) {
            Some(code) => {
                let name = cx
                    .divisions
                    .town_names
                    .get(&code)
                    .or_else(|| areas.names.get(&code))
                    .cloned()
                    .unwrap_or_default();
                if let Some((said, said_name)) = &said_town
                    && *said != code
                {
                    town_conflict = Some((said.clone(), said_name.clone()));
                }
                fields.insert("town".into(), "boundaries".into());
                Some((code, name))
            }
            None => said_town.clone(),
        },
        _ => {
            if said_town.is_some() {
                fields.insert("town".into(), "text".into());
            }
            said_town.clone()
        }
    };
    let community = match (cx.areas, point) {
        (Some(areas), Some(p)) => area_at(&areas.communities, p).map(|code| {
            fields.insert("community".into(), "boundaries".into());
            let name = areas.names.get(&code).cloned().unwrap_or_default();
            (code, name)
        }),
        _ => None,
    }
    .or_else(|| {
        let town_code = &town.as_ref()?.0;
        let said = if key.village {
            Some(key.place.as_str())
        } else {
            vote(
                records
                    .iter()
                    .filter_map(|&i| cx.readings[i as usize].community.as_deref()),
            )
            .map(|(c, _)| c)
        }?;
        let found = cx
            .divisions
            .communities
            .get(&(town_code.clone(), said.to_string()))
            .cloned();
        if found.is_some() {
            fields.insert("community".into(), "text".into());
        }
        found
    });
    // A 居/村委 code names its 街镇 (the first nine digits): the boundary's community decides
    // when no 街镇 layer did.
    let town = match (&community, fields.get("town")) {
        (Some((code, _)), None | Some(serde_json::Value::String(_)))
            if fields.get("town").and_then(|v| v.as_str()) != Some("boundaries")
                && fields.get("community").and_then(|v| v.as_str()) == Some("boundaries") =>
        {
            let town_code = format!("{}000", code.get(..9).unwrap_or(""));
            match cx.divisions.town_names.get(&town_code) {
                Some(name) => {
                    if let Some((said, said_name)) = &said_town
                        && *said != town_code
                    {
                        town_conflict = Some((said.clone(), said_name.clone()));
                    }
                    fields.insert("town".into(), "boundaries".into());
                    Some((town_code, name.clone()))
                }
                None => town,
            }
        }
        _ => town,
    };
    // A village named in no known 街镇: the one village of that name in the covered districts
    // gives both.
    let (town, community) = match (town, community) {
        (None, None) if key.village => {
            match cx
                .divisions
                .communities_by_name
                .get(&key.place)
                .map(Vec::as_slice)
            {
                Some([(town_code, code, name)]) => {
                    fields.insert("community".into(), "text".into());
                    fields.insert("town".into(), "inferred".into());
                    let town = cx
                        .divisions
                        .town_names
                        .get(town_code)
                        .map(|n| (town_code.clone(), n.clone()));
                    (town, Some((code.clone(), name.clone())))
                }
                _ => (None, None),
            }
        }
        other => other,
    };
    let district = town
        .as_ref()
        .and_then(|(code, _)| cx.divisions.district_of_town.get(code).cloned())
        .unwrap_or_default();
    let poi = vote(
        records
            .iter()
            .filter_map(|&i| cx.readings[i as usize].poi.as_deref()),
    )
    .map(|(p, _)| p.to_string());

    let mut confidence: f64 = match support {
        "confirmed" => 0.95,
        "single_source" => 0.85,
        _ => 0.5,
    };
    match building {
        None => confidence -= 0.1,
        Some((_, "nearest")) => confidence -= 0.05,
        Some((_, "siblings")) => confidence -= 0.1,
        Some((_, "interpolated" | "site")) => confidence -= 0.15,
        Some(_) => {}
    }
    if town_conflict.is_some() {
        confidence -= 0.1;
    }
    Assembled {
        key: key.clone(),
        records: records.to_vec(),
        district,
        town,
        community,
        poi,
        building,
        point,
        support,
        registers,
        confidence: confidence.clamp(0.0, 1.0),
        fields,
        town_conflict,
    }
}

/// A door with no 街镇 from boundaries or text takes the 街镇 most of its road's (or village's)
/// other doors have, marked as inferred.
pub fn infer_towns(assembled: &mut [Assembled], divisions: &Divisions) {
    let mut by_place: HashMap<&str, BTreeMap<&(String, String), usize>> = HashMap::new();
    for a in assembled.iter() {
        if let Some(t) = &a.town {
            *by_place
                .entry(a.key.place.as_str())
                .or_default()
                .entry(t)
                .or_default() += 1;
        }
    }
    let inferred: Vec<Option<(String, String)>> = assembled
        .iter()
        .map(|a| {
            if a.town.is_some() {
                return None;
            }
            by_place
                .get(a.key.place.as_str())?
                .iter()
                .max_by(|x, y| x.1.cmp(y.1).then(y.0.cmp(x.0)))
                .map(|(t, _)| (*t).clone())
        })
        .collect();
    for (a, t) in assembled.iter_mut().zip(inferred) {
        if let Some(t) = t {
            a.district = divisions
                .district_of_town
                .get(&t.0)
                .cloned()
                .unwrap_or_default();
            a.town = Some(t);
            a.fields.insert("town".into(), "inferred".into());
            a.confidence = (a.confidence - 0.05).max(0.0);
        }
    }
}

/// Which footprints each door's points lie in: footprint (position) → doors (positions).
pub fn claims(
    records: &[RegisterRecord],
    footprints: &FootprintIndex,
    doors: &[&[u32]],
) -> HashMap<usize, Vec<usize>> {
    use rayon::prelude::*;
    let pairs: Vec<(usize, usize)> = doors
        .par_iter()
        .enumerate()
        .flat_map_iter(|(d, rs)| {
            let mut held: Vec<usize> = rs
                .iter()
                .filter_map(|&i| records[i as usize].point)
                .filter_map(|(x, y)| footprints.containing_index(Point::new(x, y)))
                .collect();
            held.sort_unstable();
            held.dedup();
            held.into_iter().map(move |b| (b, d))
        })
        .collect();
    let mut claims: HashMap<usize, Vec<usize>> = HashMap::new();
    for (b, d) in pairs {
        claims.entry(b).or_default().push(d);
    }
    claims
}

/// The door number as a number, when it is one.
pub(super) fn door_number(k: &DoorKey) -> Option<u32> {
    k.number.parse().ok()
}

/// Whether two doors stand in one run of numbers: the same road (or village), 弄 and 组, and
/// no 幢 under the number.
fn same_run(a: &DoorKey, b: &DoorKey) -> bool {
    a.place == b.place
        && a.village == b.village
        && a.lane == b.lane
        && a.group == b.group
        && a.building.is_empty()
        && b.building.is_empty()
}

/// How far (in door numbers) the nearest door of this door's run whose point lies in footprint
/// `b` is from this one.
fn sibling_gap(cx: &Context<'_>, door: usize, key: &DoorKey, b: usize) -> Option<u32> {
    let n = door_number(key)?;
    cx.claims
        .get(&b)?
        .iter()
        .filter(|&&d| d != door && same_run(cx.doors[d], key))
        .filter_map(|&d| door_number(cx.doors[d]).map(|m| m.abs_diff(n)))
        .min()
}

/// The footprint a point in the street stands in front of, seen from its road: from the nearest
/// point of the named road's centre line through the point, the first footprint within the link
/// distance. `None` without the road's line or when the ray meets no footprint.
fn facing_footprint(cx: &Context<'_>, road: &str, p: Point<f64>) -> Option<usize> {
    use geo::{Closest, ClosestPoint};
    let lines = cx.roads.get(road)?;
    let on_road = lines
        .iter()
        .filter_map(|g| match g.closest_point(&p) {
            Closest::Intersection(q) | Closest::SinglePoint(q) => Some(q),
            Closest::Indeterminate => None,
        })
        .min_by(|a, b| {
            crate::spatial::distance::metres_between(*a, p)
                .total_cmp(&crate::spatial::distance::metres_between(*b, p))
        })?;
    let metres_per_lat = 111_320.0;
    let metres_per_lon = metres_per_lat * p.y().to_radians().cos();
    let (dx, dy) = (
        (p.x() - on_road.x()) * metres_per_lon,
        (p.y() - on_road.y()) * metres_per_lat,
    );
    let length = (dx * dx + dy * dy).sqrt();
    if length.is_nan() || length <= 0.5 {
        return None;
    }
    let (ux, uy) = (dx / length, dy / length);
    let steps = cx.max_distance_m.ceil() as usize;
    (1..=steps).find_map(|m| {
        let m = m as f64;
        let q = Point::new(
            p.x() + ux * m / metres_per_lon,
            p.y() + uy * m / metres_per_lat,
        );
        cx.footprints.containing_index(q)
    })
}
