//! The source extracts a platform really receives — 公安门牌, 民政地名, 规划资源 buildings, 12345
//! work orders — each with its own columns and the faults real sources have, and the truth: which
//! standard address or building each record stands for, and every fault that was injected.

use std::collections::BTreeMap;

use geo::{Coord, MapCoords};
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::geometry::round7;
use super::places::Places;
use super::roads::Road;
use crate::address::community_address_name;
use crate::crs::wgs84_to_gcj02;
use crate::dictionaries::{AliasKind, Dictionaries};
use crate::{AddressKind, BuildingKind, StandardAddress};

mod hotline;
pub(super) use hotline::{HOTLINE_COLUMNS, spoken};

/// A kind of fault injected into a source record.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// A character of a name replaced by one that sounds the same (华腾路 → 华藤路).
    Homophone,
    /// A misspelt 街镇 seen in real data (徐径镇).
    Typo,
    /// A 街镇 named by the old 乡镇 it was merged from (凤溪镇 for 华新镇).
    OldName,
    /// A level left out (no 街镇).
    MissingLevel,
    /// 幢 written 栋/号楼/#/座.
    BuildingMarkerVariant,
    /// Numbers written in Chinese numerals (三号).
    ChineseNumerals,
    /// The point moved off its building.
    ShiftedPoint,
    /// Coordinates given in GCJ-02 rather than WGS84.
    Gcj02Point,
    /// The same address recorded twice.
    Duplicate,
    /// A door plate whose address does not exist in the standard list (no such building).
    NonexistentAddress,
    /// A building that no address points to.
    BuildingWithoutAddress,
    /// The 街镇 given disagrees with the one whose area holds the place.
    WrongTown,
    /// The floor count disagrees with the building's.
    WrongFloors,
}

impl FaultKind {
    /// Every fault kind.
    pub const ALL: [FaultKind; 13] = [
        FaultKind::Homophone,
        FaultKind::Typo,
        FaultKind::OldName,
        FaultKind::MissingLevel,
        FaultKind::BuildingMarkerVariant,
        FaultKind::ChineseNumerals,
        FaultKind::ShiftedPoint,
        FaultKind::Gcj02Point,
        FaultKind::Duplicate,
        FaultKind::NonexistentAddress,
        FaultKind::BuildingWithoutAddress,
        FaultKind::WrongTown,
        FaultKind::WrongFloors,
    ];

    /// The fault's name in the truth files.
    pub fn as_str(self) -> &'static str {
        crate::wire::name(&self)
    }
}

/// One injected fault: which record, which field, what it should be and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub source: &'static str,
    pub record_id: String,
    pub kind: FaultKind,
    pub field: &'static str,
    pub true_value: String,
    pub given_value: String,
}

/// What a source record truly stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TruthLink {
    pub source: &'static str,
    pub record_id: String,
    pub address_id: String,
    pub building_id: String,
}

/// A tabular source: its header and rows.
pub struct Table {
    pub name: &'static str,
    pub header: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

/// One record of a footprint source: its id, footprint and other columns.
pub type FootprintRecord = (String, geo::Polygon<f64>, Vec<(&'static str, String)>);

/// A source of building footprints.
pub struct FootprintSource {
    pub name: &'static str,
    pub features: Vec<FootprintRecord>,
}

/// Every source and the truth about them.
pub struct Sources {
    pub tables: Vec<Table>,
    pub footprints: Vec<FootprintSource>,
    pub faults: Vec<Fault>,
    pub links: Vec<TruthLink>,
}

pub const GONGAN: &str = "gongan_menpai";
pub const MINZHENG: &str = "minzheng_diming";
pub const GUIHUA: &str = "guihua_buildings";
pub const HOTLINE: &str = "hotline_12345";

/// The columns of the 公安门牌 extract.
pub const GONGAN_COLUMNS: [&str; 12] = [
    "门牌编号",
    "区县",
    "街镇",
    "居委会",
    "路名",
    "弄号",
    "门牌号",
    "楼幢号",
    "村组",
    "地址全称",
    "经度",
    "纬度",
];

/// A 公安门牌 record as it would be with no fault: the column values for a standard address.
pub fn gongan_clean(a: &StandardAddress) -> BTreeMap<&'static str, String> {
    let (lon, lat) = a.point.map(|p| (p.x(), p.y())).unwrap_or_default();
    let mut m = BTreeMap::new();
    m.insert("区县", a.district.clone());
    m.insert("街镇", a.town.name.clone());
    m.insert("居委会", a.community.name.clone());
    m.insert("路名", a.road.clone().unwrap_or_default());
    m.insert("弄号", a.lane.clone().unwrap_or_default());
    m.insert("门牌号", a.number.clone().unwrap_or_default());
    m.insert("楼幢号", a.building.clone().unwrap_or_default());
    m.insert("村组", a.group.clone().unwrap_or_default());
    m.insert("经度", format!("{lon:.7}"));
    m.insert("纬度", format!("{lat:.7}"));
    m.insert("地址全称", gongan_full_text(&m, "幢"));
    m
}

/// The full text a 公安 record composes from its own columns.
pub fn gongan_full_text(m: &BTreeMap<&'static str, String>, building_marker: &str) -> String {
    let get = |k: &str| m.get(k).map(String::as_str).unwrap_or("");
    let mut s = String::from("上海市");
    s.push_str(get("区县"));
    s.push_str(get("街镇"));
    if get("路名").is_empty() {
        s.push_str(community_address_name(get("居委会")));
        if !get("村组").is_empty() {
            s.push_str(get("村组"));
            s.push('组');
        }
    } else {
        s.push_str(get("路名"));
    }
    if !get("弄号").is_empty() {
        s.push_str(get("弄号"));
        s.push('弄');
    }
    if !get("门牌号").is_empty() {
        s.push_str(get("门牌号"));
        s.push('号');
    }
    if !get("楼幢号").is_empty() {
        s.push_str(get("楼幢号"));
        if get("楼幢号").chars().all(|c| c.is_ascii_digit()) {
            s.push_str(building_marker);
        }
    }
    s
}

/// Replaces one character of `name` that has homophones; `None` when none has.
pub(super) fn homophone_of(
    name: &str,
    dicts: &Dictionaries,
    rng: &mut ChaCha8Rng,
) -> Option<String> {
    let chars: Vec<char> = name.chars().collect();
    let candidates: Vec<usize> = (0..chars.len())
        .filter(|&i| {
            !dicts.homophones_of(chars[i]).is_empty() && !"路街道镇村区号".contains(chars[i])
        })
        .collect();
    let &i = candidates.choose(rng)?;
    let mut out = chars.clone();
    out[i] = *dicts.homophones_of(chars[i]).choose(rng)?;
    Some(out.into_iter().collect())
}

/// The 街镇 that holds most of a place's addresses: the one a register names for a road or
/// compound that straddles a town boundary. A tie goes to the name that sorts last (as
/// [`Iterator::max_by_key`] over the sorted counts gives it); the rule flags no town that holds
/// as many addresses as the majority.
fn majority_town(addrs: &[&StandardAddress]) -> String {
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for a in addrs {
        *count.entry(a.town.name.as_str()).or_default() += 1;
    }
    count
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(t, _)| t.to_string())
        .unwrap_or_default()
}

/// Moves a lon/lat point `m` metres in direction `angle`.
fn offset(lon: f64, lat: f64, m: f64, angle: f64) -> (f64, f64) {
    let dlat = m * angle.sin() / 110_574.0;
    let dlon = m * angle.cos() / (111_320.0 * lat.to_radians().cos());
    (round7(lon + dlon), round7(lat + dlat))
}

pub(crate) fn build_sources(
    places: &Places,
    roads: &[Road],
    dicts: &Dictionaries,
    district_code: &str,
    seed: u64,
    ids: &super::IdBase,
) -> Sources {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x50_u64);
    let mut faults = Vec::new();
    let mut links = Vec::new();
    let towns: Vec<String> = dicts
        .admin
        .children(district_code)
        .map(|t| t.name.clone())
        .collect();

    // 公安门牌: one door plate per address, some missing, some faulty, some duplicated, some for
    // buildings that do not exist.
    let mut gongan = Table {
        name: GONGAN,
        header: GONGAN_COLUMNS.to_vec(),
        rows: Vec::new(),
    };
    let push_gongan = |m: &BTreeMap<&'static str, String>, rows: &mut Vec<Vec<String>>| -> String {
        let id = format!("GA{:08}", ids.gongan + rows.len() + 1);
        let mut row = vec![id.clone()];
        row.extend(
            GONGAN_COLUMNS[1..]
                .iter()
                .map(|k| m.get(k).cloned().unwrap_or_default()),
        );
        rows.push(row);
        id
    };
    for a in &places.addresses {
        if rng.random_bool(0.03) {
            continue;
        }
        let clean = gongan_clean(a);
        let mut m = clean.clone();
        let mut record_faults: Vec<(FaultKind, &'static str)> = Vec::new();
        let roll: f64 = rng.random();
        let name_field = if a.road.is_some() {
            "路名"
        } else {
            "居委会"
        };
        if roll < 0.010 {
            if let Some(h) = homophone_of(&m[name_field], dicts, &mut rng) {
                m.insert(name_field, h);
                record_faults.push((FaultKind::Homophone, name_field));
            }
        } else if roll < 0.016 {
            let typos: Vec<&str> = dicts
                .aliases
                .iter()
                .filter(|al| al.kind == AliasKind::Typo && al.to == [a.town.name.clone()])
                .map(|al| al.from.as_str())
                .collect();
            if let Some(t) = typos.choose(&mut rng) {
                m.insert("街镇", t.to_string());
                record_faults.push((FaultKind::Typo, "街镇"));
            }
        } else if roll < 0.022 {
            let old: Vec<&str> = dicts
                .aliases
                .iter()
                .filter(|al| {
                    al.kind == AliasKind::OldName
                        && al.to.contains(&a.town.name)
                        && al.from.ends_with('镇')
                })
                .map(|al| al.from.as_str())
                .collect();
            if let Some(t) = old.choose(&mut rng) {
                m.insert("街镇", t.to_string());
                record_faults.push((FaultKind::OldName, "街镇"));
            }
        } else if roll < 0.042 {
            m.insert("街镇", String::new());
            record_faults.push((FaultKind::MissingLevel, "街镇"));
        } else if roll < 0.047 {
            let (lon, lat) = a.point.map(|p| (p.x(), p.y())).unwrap_or_default();
            let angle = rng.random_range(0.0..std::f64::consts::TAU);
            let (lon, lat) = offset(lon, lat, rng.random_range(60.0..250.0), angle);
            m.insert("经度", format!("{lon:.7}"));
            m.insert("纬度", format!("{lat:.7}"));
            record_faults.push((FaultKind::ShiftedPoint, "经度"));
            record_faults.push((FaultKind::ShiftedPoint, "纬度"));
        }
        if a.building.is_some() && rng.random_bool(0.3) {
            let variant = *["栋", "号楼", "#", "座"].choose(&mut rng).unwrap_or(&"栋");
            m.insert("楼幢号", format!("{}{variant}", m["楼幢号"]));
            record_faults.push((FaultKind::BuildingMarkerVariant, "楼幢号"));
        }
        m.insert("地址全称", gongan_full_text(&m, "幢"));
        // The record's faults and its truth link; a duplicate carries the same ones.
        let record_truth = |id: &str, faults: &mut Vec<Fault>, links: &mut Vec<TruthLink>| {
            for (kind, field) in &record_faults {
                faults.push(Fault {
                    source: GONGAN,
                    record_id: id.to_string(),
                    kind: *kind,
                    field,
                    true_value: clean[field].clone(),
                    given_value: m[field].clone(),
                });
            }
            links.push(TruthLink {
                source: GONGAN,
                record_id: id.to_string(),
                address_id: a.id.clone(),
                building_id: a.building_id.clone().unwrap_or_default(),
            });
        };
        let id = push_gongan(&m, &mut gongan.rows);
        record_truth(&id, &mut faults, &mut links);
        if rng.random_bool(0.005) {
            let dup = push_gongan(&m, &mut gongan.rows);
            faults.push(Fault {
                source: GONGAN,
                record_id: dup.clone(),
                kind: FaultKind::Duplicate,
                field: "门牌编号",
                true_value: id.clone(),
                given_value: dup.clone(),
            });
            record_truth(&dup, &mut faults, &mut links);
        }
        if a.kind == AddressKind::Street && rng.random_bool(0.004) {
            // A plate for a door that does not exist: far beyond the road's last number.
            let mut m = clean.clone();
            let n: u32 = a
                .number
                .as_deref()
                .and_then(|n| n.parse().ok())
                .unwrap_or(1);
            let fake = (n + 8000 + rng.random_range(0..500) * 2).to_string();
            m.insert("门牌号", fake.clone());
            let (lon, lat) = a.point.map(|p| (p.x(), p.y())).unwrap_or_default();
            let (lon, lat) = offset(lon, lat, 40.0, rng.random_range(0.0..std::f64::consts::TAU));
            m.insert("经度", format!("{lon:.7}"));
            m.insert("纬度", format!("{lat:.7}"));
            m.insert("地址全称", gongan_full_text(&m, "幢"));
            let id = push_gongan(&m, &mut gongan.rows);
            faults.push(Fault {
                source: GONGAN,
                record_id: id.clone(),
                kind: FaultKind::NonexistentAddress,
                field: "门牌号",
                true_value: String::new(),
                given_value: fake,
            });
            links.push(TruthLink {
                source: GONGAN,
                record_id: id,
                address_id: String::new(),
                building_id: String::new(),
            });
        }
    }

    // 民政地名: roads, compounds, villages and units with the 街镇 they belong to.
    let mut minzheng = Table {
        name: MINZHENG,
        header: vec![
            "地名代码",
            "标准名称",
            "类别",
            "所属街镇",
            "门牌起",
            "门牌止",
            "经度",
            "纬度",
        ],
        rows: Vec::new(),
    };
    // Per road, compound (POI) and village: the addresses on it. A register holds one 所属街镇
    // per place even where a road or compound straddles a town boundary: the town that holds
    // most of it (by its addresses), which administers it. The first address stands for the
    // place's point (its gate).
    let mut by_road: BTreeMap<usize, Vec<&StandardAddress>> = BTreeMap::new();
    let mut by_poi: BTreeMap<&str, Vec<&StandardAddress>> = BTreeMap::new();
    let mut by_village: BTreeMap<&str, Vec<&StandardAddress>> = BTreeMap::new();
    for (a, road) in places.addresses.iter().zip(&places.address_road) {
        if let Some(r) = road {
            by_road.entry(*r).or_default().push(a);
        }
        if let Some(poi) = &a.poi {
            by_poi.entry(poi.as_str()).or_default().push(a);
        }
        if a.kind == AddressKind::Village {
            by_village
                .entry(a.community.code.as_str())
                .or_default()
                .push(a);
        }
    }
    let mut entries: Vec<(String, &str, String, String, String, &StandardAddress)> = Vec::new();
    for (r, addrs) in &by_road {
        let numbers = addrs.iter().filter_map(|a| {
            a.lane
                .as_deref()
                .or(a.number.as_deref())?
                .parse::<u32>()
                .ok()
        });
        let (lo, hi) = numbers.fold((u32::MAX, 0), |(lo, hi), n| (lo.min(n), hi.max(n)));
        entries.push((
            roads[*r].name.clone(),
            "道路",
            majority_town(addrs),
            lo.to_string(),
            hi.to_string(),
            addrs[0],
        ));
    }
    for (poi, addrs) in &by_poi {
        let a = addrs[0];
        let category = match a.kind {
            AddressKind::Residential => "小区",
            _ => "单位",
        };
        let gate = a
            .lane
            .clone()
            .or_else(|| a.number.clone())
            .unwrap_or_default();
        entries.push((
            poi.to_string(),
            category,
            majority_town(addrs),
            gate.clone(),
            gate,
            a,
        ));
    }
    for addrs in by_village.values() {
        let a = addrs[0];
        entries.push((
            community_address_name(&a.community.name).to_string(),
            "村",
            majority_town(addrs),
            String::new(),
            String::new(),
            a,
        ));
    }
    for (name, category, town, lo, hi, a) in entries {
        let id = format!("MZ{:07}", ids.minzheng + minzheng.rows.len() + 1);
        let mut given_town = town.clone();
        let mut given_name = name.clone();
        if rng.random_bool(0.02) {
            if let Some(other) = towns
                .iter()
                .filter(|t| **t != town)
                .collect::<Vec<_>>()
                .choose(&mut rng)
            {
                given_town = other.to_string();
                faults.push(Fault {
                    source: MINZHENG,
                    record_id: id.clone(),
                    kind: FaultKind::WrongTown,
                    field: "所属街镇",
                    true_value: town.clone(),
                    given_value: given_town.clone(),
                });
            }
        } else if category == "道路"
            && rng.random_bool(0.01)
            && let Some(h) = homophone_of(&name, dicts, &mut rng)
        {
            given_name = h;
            faults.push(Fault {
                source: MINZHENG,
                record_id: id.clone(),
                kind: FaultKind::Homophone,
                field: "标准名称",
                true_value: name.clone(),
                given_value: given_name.clone(),
            });
        }
        let (lon, lat) = a.point.map(|p| (p.x(), p.y())).unwrap_or_default();
        minzheng.rows.push(vec![
            id.clone(),
            given_name,
            category.to_string(),
            given_town,
            lo,
            hi,
            format!("{lon:.7}"),
            format!("{lat:.7}"),
        ]);
        links.push(TruthLink {
            source: MINZHENG,
            record_id: id,
            address_id: a.id.clone(),
            building_id: a.building_id.clone().unwrap_or_default(),
        });
    }

    // 规划资源 buildings: footprints with their own ids and uses; some in GCJ-02, some with the
    // wrong floor count; the buildings no address points to are there too.
    let mut guihua = FootprintSource {
        name: GUIHUA,
        features: Vec::new(),
    };
    let unaddressed: std::collections::HashSet<&str> =
        places.unaddressed.iter().map(String::as_str).collect();
    for b in &places.buildings {
        if rng.random_bool(0.02) {
            continue;
        }
        let id = format!("GH{:08}", ids.guihua + guihua.features.len() + 1);
        let usage = match b.kind {
            BuildingKind::Residential => "住宅",
            BuildingKind::VillageHouse => "农村住房",
            BuildingKind::Shop => "商业",
            BuildingKind::Factory => "工业",
            BuildingKind::Office => "办公",
            BuildingKind::School => "教育",
            BuildingKind::Public => "公共设施",
        };
        let mut floors = b.floors;
        let mut footprint = b.footprint.clone();
        let roll: f64 = rng.random();
        if roll < 0.02 {
            footprint = footprint.map_coords(|c| {
                let (x, y) = wgs84_to_gcj02(c.x, c.y);
                Coord {
                    x: round7(x),
                    y: round7(y),
                }
            });
            let first = b.footprint.exterior().0[0];
            let moved = footprint.exterior().0[0];
            faults.push(Fault {
                source: GUIHUA,
                record_id: id.clone(),
                kind: FaultKind::Gcj02Point,
                field: "geometry",
                true_value: format!("{:.7},{:.7}", first.x, first.y),
                given_value: format!("{:.7},{:.7}", moved.x, moved.y),
            });
        } else if roll < 0.03 {
            floors += rng.random_range(1..=5);
            faults.push(Fault {
                source: GUIHUA,
                record_id: id.clone(),
                kind: FaultKind::WrongFloors,
                field: "层数",
                true_value: b.floors.to_string(),
                given_value: floors.to_string(),
            });
        }
        if unaddressed.contains(b.id.as_str()) {
            faults.push(Fault {
                source: GUIHUA,
                record_id: id.clone(),
                kind: FaultKind::BuildingWithoutAddress,
                field: "建筑编号",
                true_value: String::new(),
                given_value: id.clone(),
            });
        }
        guihua.features.push((
            id.clone(),
            footprint,
            vec![("用途", usage.to_string()), ("层数", floors.to_string())],
        ));
        links.push(TruthLink {
            source: GUIHUA,
            record_id: id,
            address_id: String::new(),
            building_id: b.id.clone(),
        });
    }

    let hotline = hotline::work_orders(places, dicts, &mut rng, ids, &mut faults, &mut links);

    Sources {
        tables: vec![gongan, minzheng, hotline],
        footprints: vec![guihua],
        faults,
        links,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_place_over_a_town_boundary_is_registered_with_the_town_holding_most_of_it() {
        let door = |t: &str| {
            let mut a = StandardAddress::new("A", AddressKind::Residential);
            a.town.name = t.into();
            a
        };
        // (the doors' towns in address order, the town the register names)
        let cases: &[(&[&str], &str)] = &[
            (&["华新镇"], "华新镇"),
            // The first door over the boundary does not decide.
            (&["白鹤镇", "华新镇", "华新镇"], "华新镇"),
            (&["华新镇", "白鹤镇", "白鹤镇", "练塘镇"], "白鹤镇"),
            // A tie goes to the name that sorts last, as the rule's majority does.
            (&["华新镇", "白鹤镇"], "白鹤镇"),
        ];
        for (towns, want) in cases {
            let doors: Vec<StandardAddress> = towns.iter().map(|t| door(t)).collect();
            let refs: Vec<&StandardAddress> = doors.iter().collect();
            assert_eq!(majority_town(&refs), *want, "{towns:?}");
        }
    }
}
