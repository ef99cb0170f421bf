//! Fusion proper: every source record matched to a standard address, linked to a building, and
//! checked by the rules.
//!
//! - Structured door plates (公安门牌: 街镇, 居委会, 路名, 弄号, 门牌号, 楼幢号 …) are matched by
//!   key (road or village, lane, number, group, building) after the spelling is put right
//!   (typo/old 街镇 names from the alias dictionary, homophone road and village names by sound,
//!   幢 marker variants, Chinese numerals); what the key cannot place falls back to the matcher on
//!   the record's full text.
//! - Free text (12345 诉求地址) goes through the [`Matcher`]; the parse says what was written
//!   non-standardly (no 街镇, 号楼/栋, Chinese numerals) and the match's corrections the rest.
//! - Gazetteer entries (民政地名: 标准名称, 类别, 所属街镇) are compared with what the standard
//!   addresses on that road, compound or village say: a register names one 街镇 per place, the
//!   one holding most of it, so a place straddling a town boundary is flagged only when the
//!   register names a town holding fewer of its addresses than another.
//! - Buildings (规划资源 footprints) are matched to the reference footprints by shape; a footprint
//!   that only matches once read as GCJ-02 is a GCJ-02 anomaly.
//!
//! Links: a record's point (converted from GCJ-02 first when that is what explains it) inside
//! the footprint of its address's building links by `contains`; a point elsewhere or no point
//! links by `road_number` (the building of the standard address with the same road, lane and
//! number). Work runs in parallel over records (rayon; the matcher and R-tree are shared), a page
//! of a source at a time ([`fuse_store_each`]), so memory holds the reference and one page.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use geo::{BoundingRect, Centroid, InteriorPoint, MapCoords, Point, Polygon, Rect};
use rayon::prelude::*;
use serde::Serialize;

use super::compare::same_place;
use super::import::{Field, Mapping, Role, stored_sources};
use super::rules::{RuleId, RuleSet, Severity};
use super::{Error, Result};
use crate::address::community_address_name;
use crate::dictionaries::AliasKind;
use crate::search::{CorrectionKind, Matcher};
use crate::spatial::FootprintIndex;
use crate::spatial::crs::gcj02_to_wgs84;
use crate::spatial::distance::{degree_margins, metres_between, metres_to_polygon};
use crate::store::{SourceRecord, Store};
use crate::{Dictionaries, Level};

/// One source's records, ready to fuse.
#[derive(Debug, Clone)]
pub struct SourceInput {
    /// The source's name.
    pub name: String,
    /// Addresses or buildings.
    pub role: Role,
    /// How its columns map to fields.
    pub mapping: Mapping,
    /// Its records, in source order.
    pub records: Vec<SourceRecord>,
}

/// What one rule found on one record (or entity).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The rule.
    pub rule: RuleId,
    /// The rule's sub-kind (`typo`, `homophone`, `town` …), empty when the rule has none.
    pub kind: String,
    /// How bad.
    pub severity: Severity,
    /// `source_record`, `address` or `building`.
    pub entity_kind: String,
    /// `SOURCE/KEY` for a source record, else the address or building id.
    pub entity_id: String,
    /// The source the record is from (empty for store entities).
    pub source: String,
    /// The record's key in its source (empty for store entities).
    pub record_key: String,
    /// The responsible 街镇 (the assignee), when known.
    pub town: Option<String>,
    /// What is wrong, for people.
    pub message: String,
    /// Evidence (given and expected values, distances).
    pub detail: serde_json::Value,
}

/// What one source record fused to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FusedRecord {
    /// The source.
    pub source: String,
    /// The record's key.
    pub record_key: String,
    /// The standard address it stands for (door level), if any.
    pub address_id: Option<String>,
    /// The building it is linked to, if any.
    pub building_id: Option<String>,
    /// How deep it matched (`number`, `road`, `poi`, `community`, `building`, `none` …).
    pub match_level: String,
    /// How sure, in [0, 1].
    pub score: f64,
    /// How the building was found: `contains`, `contains_gcj02`, `road_number`, `same_footprint`.
    pub link_method: Option<String>,
    /// The fields as this source gives them, normalized (per-field provenance).
    pub fields: BTreeMap<String, String>,
}

/// What fusing the store did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FuseReport {
    /// Records fused, per source.
    pub records: BTreeMap<String, usize>,
    /// Records matched to a door-level standard address, per source.
    pub matched: BTreeMap<String, usize>,
    /// Links written (address ↔ building).
    pub links: usize,
    /// Findings per rule.
    pub findings: BTreeMap<String, usize>,
    /// Anomalies newly queued (a finding already in the queue keeps its review).
    pub new_anomalies: usize,
    /// Seconds spent.
    pub seconds: f64,
}

#[derive(Debug, Clone)]
struct Addr {
    id: String,
    // 街镇, 居委 and road (or village) names repeat across a million addresses: one shared copy
    // each.
    town: Arc<str>,
    community: Arc<str>,
    name: Arc<str>,
    lane: String,
    number: String,
    building_id: Option<String>,
    point: Option<Point<f64>>,
}

/// One shared copy of each distinct name.
#[derive(Default)]
struct Interner(HashSet<Arc<str>>);

impl Interner {
    fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.0.get(s) {
            return a.clone();
        }
        let a: Arc<str> = s.into();
        self.0.insert(a.clone());
        a
    }
}

#[derive(Debug, Default, Clone)]
struct NameInfo {
    towns: BTreeMap<String, usize>,
    min: u32,
    max: u32,
}

impl NameInfo {
    fn majority(&self) -> Option<(&str, usize)> {
        self.towns
            .iter()
            .max_by_key(|(_, n)| **n)
            .map(|(t, n)| (t.as_str(), *n))
    }
}

/// Everything fusion compares sources with, loaded once: the standard addresses by key, the
/// names (and their sounds) of roads, villages and 街镇, the footprint R-tree, the matcher.
pub struct Reference {
    addrs: Vec<Addr>,
    by_id: HashMap<String, u32>,
    by_key: HashMap<String, u32>,
    roads: HashMap<String, NameInfo>,
    road_sound: HashMap<String, Vec<String>>,
    villages: HashMap<String, NameInfo>,
    pois: HashMap<String, NameInfo>,
    communities: HashSet<String>,
    community_sound: HashMap<String, Vec<String>>,
    towns: HashSet<String>,
    town_aliases: HashMap<String, (String, AliasKind)>,
    footprints: FootprintIndex,
    building_pos: HashMap<String, usize>,
    building_addrs: Vec<Vec<u32>>,
    extent: Option<Rect<f64>>,
    matcher: Option<Matcher>,
}

fn key(name: &str, lane: &str, number: &str, group: &str, building: &str) -> String {
    format!("{name}\u{1}{lane}\u{1}{number}\u{1}{group}\u{1}{building}")
}

const CN_DIGITS: &str = "零〇一二两三四五六七八九十";

/// Chinese numerals as digits (一二八八 → 1288, 十三 → 13); `None` when not all numerals.
fn cn_number(s: &str) -> Option<String> {
    let d = |c: char| match c {
        '零' | '〇' => Some(0),
        '一' => Some(1),
        '二' | '两' => Some(2),
        '三' => Some(3),
        '四' => Some(4),
        '五' => Some(5),
        '六' => Some(6),
        '七' => Some(7),
        '八' => Some(8),
        '九' => Some(9),
        _ => None,
    };
    let chars: Vec<char> = s.chars().collect();
    if chars.is_empty() {
        return None;
    }
    if let Some(i) = chars.iter().position(|&c| c == '十') {
        let tens = if i == 0 { 1 } else { d(chars[0])? };
        let ones = match chars.get(i + 1) {
            None => 0,
            Some(&c) => d(c)?,
        };
        if i > 1 || chars.len() > i + 2 {
            return None;
        }
        return Some((tens * 10 + ones).to_string());
    }
    chars
        .iter()
        .map(|&c| d(c).map(|v| char::from(b'0' + v as u8)))
        .collect()
}

fn has_cn_numeral(s: &str) -> bool {
    s.chars().any(|c| CN_DIGITS.contains(c))
}

/// A 幢 value without its marker: `3栋` → (`3`, Some("栋")).
fn strip_building_marker(b: &str) -> (String, Option<&'static str>) {
    for m in ["号楼", "栋", "#", "座", "幢", "号"] {
        if let Some(stem) = b.strip_suffix(m) {
            let marker = match m {
                "号楼" => "号楼",
                "栋" => "栋",
                "#" => "#",
                "座" => "座",
                "幢" => "幢",
                _ => "号",
            };
            return (stem.to_string(), Some(marker));
        }
    }
    (b.to_string(), None)
}

impl Reference {
    /// Loads the reference from a store; `matcher` (for free text) may be left out, and then
    /// free-text records match nothing.
    ///
    /// # Examples
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = dizhi::store::Store::open(dir.path()).unwrap();
    /// let dicts = dizhi::Dictionaries::embedded().unwrap();
    /// let reference = dizhi::fuse::Reference::load(&store, &dicts, None).unwrap();
    /// assert_eq!(reference.address_count(), 0);
    /// ```
    pub fn load(
        store: &Store,
        dicts: &Dictionaries,
        matcher: Option<Matcher>,
    ) -> Result<Reference> {
        let mut addrs = Vec::new();
        let mut by_key = HashMap::new();
        let mut roads: HashMap<String, NameInfo> = HashMap::new();
        let mut villages: HashMap<String, NameInfo> = HashMap::new();
        let mut pois: HashMap<String, NameInfo> = HashMap::new();
        let mut communities = HashSet::new();
        let mut names = Interner::default();
        store.for_each_address(|a, _| {
            let name = a
                .road
                .clone()
                .unwrap_or_else(|| community_address_name(&a.community.name).to_string());
            let lane = a.lane.clone().unwrap_or_default();
            let number = a.number.clone().unwrap_or_default();
            let k = key(
                &name,
                &lane,
                &number,
                a.group.as_deref().unwrap_or(""),
                a.building.as_deref().unwrap_or(""),
            );
            by_key.entry(k).or_insert(addrs.len() as u32);
            let n: Option<u32> = a
                .lane
                .as_deref()
                .or(a.number.as_deref())
                .and_then(|n| n.parse().ok());
            let info = if a.road.is_some() {
                roads.entry(name.clone()).or_default()
            } else {
                villages.entry(name.clone()).or_default()
            };
            *info.towns.entry(a.town.name.clone()).or_default() += 1;
            if let Some(n) = n {
                info.min = if info.towns.values().sum::<usize>() == 1 {
                    n
                } else {
                    info.min.min(n)
                };
                info.max = info.max.max(n);
            }
            if let Some(p) = &a.poi {
                *pois
                    .entry(p.clone())
                    .or_default()
                    .towns
                    .entry(a.town.name.clone())
                    .or_default() += 1;
            }
            communities.insert(a.community.name.clone());
            addrs.push(Addr {
                id: a.id,
                town: names.get(&a.town.name),
                community: names.get(&a.community.name),
                name: names.get(&name),
                lane,
                number,
                building_id: a.building_id,
                point: a.point,
            });
        })?;
        let mut road_sound: HashMap<String, Vec<String>> = HashMap::new();
        for r in roads.keys() {
            road_sound
                .entry(crate::search::keys::sound(r))
                .or_default()
                .push(r.clone());
        }
        let mut community_sound: HashMap<String, Vec<String>> = HashMap::new();
        for c in dicts.admin.qingpu_communities() {
            communities.insert(c.name.clone());
        }
        for c in &communities {
            community_sound
                .entry(crate::search::keys::sound(c))
                .or_default()
                .push(c.clone());
        }
        // In name order, so that a tie between names that sound alike goes the same way each run.
        for names in road_sound.values_mut().chain(community_sound.values_mut()) {
            names.sort();
        }
        let towns: HashSet<String> = dicts.admin.qingpu_towns().map(|t| t.name.clone()).collect();
        let town_aliases = dicts
            .aliases
            .iter()
            .filter(|a| a.level == Level::Town && !a.to.is_empty())
            .filter(|a| matches!(a.kind, AliasKind::Typo | AliasKind::OldName))
            // An old unit split into several (青浦镇) is still an old name; the first is named.
            .map(|a| (a.from.clone(), (a.to.join("|"), a.kind)))
            .collect();
        let buildings = store.buildings()?;
        let mut extent: Option<Rect<f64>> = None;
        for b in &buildings {
            if let Some(r) = b.footprint.bounding_rect() {
                extent = Some(match extent {
                    None => r,
                    Some(e) => Rect::new(
                        (e.min().x.min(r.min().x), e.min().y.min(r.min().y)),
                        (e.max().x.max(r.max().x), e.max().y.max(r.max().y)),
                    ),
                });
            }
        }
        let building_pos: HashMap<String, usize> = buildings
            .iter()
            .enumerate()
            .map(|(i, b)| (b.id.clone(), i))
            .collect();
        let mut building_addrs = vec![Vec::new(); buildings.len()];
        for (i, a) in addrs.iter().enumerate() {
            if let Some(&b) = a.building_id.as_ref().and_then(|b| building_pos.get(b)) {
                building_addrs[b].push(i as u32);
            }
        }
        let by_id = addrs
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id.clone(), i as u32))
            .collect();
        Ok(Reference {
            addrs,
            by_id,
            by_key,
            roads,
            road_sound,
            villages,
            pois,
            communities,
            community_sound,
            towns,
            town_aliases,
            footprints: FootprintIndex::new(buildings),
            building_pos,
            building_addrs,
            extent,
            matcher,
        })
    }

    fn addr(&self, id: &str) -> Option<&Addr> {
        self.by_id.get(id).map(|&i| &self.addrs[i as usize])
    }

    /// How many standard addresses the reference holds.
    pub fn address_count(&self) -> usize {
        self.addrs.len()
    }

    /// Fuses one source: a fused record per record and the rules' findings.
    pub fn fuse_source(
        &self,
        input: &SourceInput,
        rules: &RuleSet,
    ) -> (Vec<FusedRecord>, Vec<Finding>) {
        self.fuse_page(
            &input.name,
            input.role,
            &input.mapping,
            &input.records,
            rules,
            &mut FirstSeen::default(),
        )
    }

    /// Fuses a page of a source's records (in parallel); `first` carries the register's first
    /// record per standard address from page to page, for the duplicate check.
    fn fuse_page(
        &self,
        source: &str,
        role: Role,
        mapping: &Mapping,
        records: &[SourceRecord],
        rules: &RuleSet,
        first: &mut FirstSeen,
    ) -> (Vec<FusedRecord>, Vec<Finding>) {
        let ctx = Ctx {
            r: self,
            rules,
            source,
        };
        type PerRecord = (FusedRecord, Vec<Finding>, Option<BTreeMap<Field, String>>);
        let per: Vec<PerRecord> = records
            .par_iter()
            .map(|rec| {
                let raw: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(&rec.raw).unwrap_or_default();
                let fields = mapping.apply(&raw);
                let mut out = Out::new(&ctx, &rec.key);
                let structured = match role {
                    Role::Buildings => {
                        ctx.building(&mut out, &fields, rec.geometry.as_ref());
                        None
                    }
                    Role::Addresses => {
                        if fields.contains_key(&Field::Name) {
                            ctx.gazetteer(&mut out, &fields);
                            None
                        } else if [Field::Road, Field::Community, Field::Number]
                            .iter()
                            .any(|f| mapping.columns.values().any(|m| m == f))
                        {
                            Some(ctx.door_plate(&mut out, &fields, mapping))
                        } else {
                            ctx.free_text(&mut out, &fields);
                            None
                        }
                    }
                };
                (out.fused, out.findings, structured)
            })
            .collect();
        let mut fused = Vec::with_capacity(per.len());
        let mut findings = Vec::new();
        // Duplicates: a later register record naming the same standard address as an earlier
        // one (and the same place by compare()).
        for (f, mut fs, structured) in per {
            if rules.on(RuleId::DuplicateAddress)
                && let (Some(levels), Some(a)) = (&structured, &f.address_id)
                && let Some(&i) = self.by_id.get(a)
            {
                match first.0.get(&i) {
                    Some((earlier, their)) if same_place(&FirstSeen::decode(their), levels) => {
                        fs.push(ctx.finding(
                            RuleId::DuplicateAddress,
                            "",
                            &f.record_key,
                            self.addr_town(a),
                            format!("the same address as record {earlier}"),
                            serde_json::json!({"address_id": a, "earlier": earlier}),
                        ));
                    }
                    Some(_) => {}
                    None => {
                        first
                            .0
                            .insert(i, (f.record_key.clone().into(), FirstSeen::encode(levels)));
                    }
                }
            }
            fused.push(f);
            findings.extend(fs);
        }
        (fused, findings)
    }

    fn addr_town(&self, id: &str) -> Option<String> {
        self.addr(id).map(|a| a.town.to_string())
    }

    /// Findings on the standard addresses themselves: addresses linked to no building.
    pub fn check_addresses(&self, rules: &RuleSet) -> Vec<Finding> {
        if !rules.on(RuleId::AddressWithoutBuilding) {
            return Vec::new();
        }
        self.addrs
            .iter()
            .filter(|a| {
                a.building_id
                    .as_ref()
                    .is_none_or(|b| !self.building_pos.contains_key(b))
            })
            .map(|a| Finding {
                rule: RuleId::AddressWithoutBuilding,
                kind: String::new(),
                severity: rules.severity(RuleId::AddressWithoutBuilding),
                entity_kind: "address".into(),
                entity_id: a.id.clone(),
                source: String::new(),
                record_key: String::new(),
                town: Some(a.town.to_string()),
                message: "no building".into(),
                detail: serde_json::json!({"building_id": a.building_id}),
            })
            .collect()
    }
}

/// A register's first record per standard address (by the address's index): its key and its
/// normalized fields, packed into one string each (a million of them stay small).
#[derive(Default)]
struct FirstSeen(HashMap<u32, (Box<str>, Box<str>)>);

impl FirstSeen {
    fn encode(fields: &BTreeMap<Field, String>) -> Box<str> {
        let mut s = String::new();
        for (f, v) in fields {
            s.push_str(f.as_str());
            s.push('\u{1}');
            s.push_str(v);
            s.push('\u{2}');
        }
        s.into()
    }

    fn decode(s: &str) -> BTreeMap<Field, String> {
        s.split_terminator('\u{2}')
            .filter_map(|kv| {
                let (f, v) = kv.split_once('\u{1}')?;
                Some((f.parse().ok()?, v.to_string()))
            })
            .collect()
    }
}

struct Ctx<'a> {
    r: &'a Reference,
    rules: &'a RuleSet,
    source: &'a str,
}

struct Out {
    fused: FusedRecord,
    findings: Vec<Finding>,
}

impl Out {
    fn new(ctx: &Ctx<'_>, key: &str) -> Out {
        Out {
            fused: FusedRecord {
                source: ctx.source.to_string(),
                record_key: key.to_string(),
                address_id: None,
                building_id: None,
                match_level: "none".into(),
                score: 0.0,
                link_method: None,
                fields: BTreeMap::new(),
            },
            findings: Vec::new(),
        }
    }
}

fn parse_point(fields: &BTreeMap<Field, String>) -> Option<Point<f64>> {
    let lon: f64 = fields.get(&Field::Lon)?.parse().ok()?;
    let lat: f64 = fields.get(&Field::Lat)?.parse().ok()?;
    (lon.is_finite() && lat.is_finite()).then(|| Point::new(lon, lat))
}

impl Ctx<'_> {
    fn finding(
        &self,
        rule: RuleId,
        kind: &str,
        key: &str,
        town: Option<String>,
        message: String,
        detail: serde_json::Value,
    ) -> Finding {
        Finding {
            rule,
            kind: kind.to_string(),
            severity: self.rules.severity(rule),
            entity_kind: "source_record".into(),
            entity_id: format!("{}/{}", self.source, key),
            source: self.source.to_string(),
            record_key: key.to_string(),
            town,
            message,
            detail,
        }
    }

    fn push(
        &self,
        out: &mut Out,
        rule: RuleId,
        kind: &str,
        town: Option<String>,
        message: String,
        detail: serde_json::Value,
    ) {
        if self.rules.on(rule) {
            let f = self.finding(rule, kind, &out.fused.record_key, town, message, detail);
            out.findings.push(f);
        }
    }

    /// A name written like a known one: itself, or the known name with the same sound that
    /// `rank` scores highest (the one with this door plate, in the 街镇 and 居委 the record
    /// gives); a known name gives way only to one that scores higher.
    fn known_or_homophone<'n>(
        &self,
        name: &'n str,
        known: &dyn Fn(&str) -> bool,
        sounds: &'n HashMap<String, Vec<String>>,
        rank: &dyn Fn(&str) -> u8,
    ) -> Option<(String, bool)> {
        let same = sounds.get(&crate::search::keys::sound(name));
        // The best-ranked of the names that sound alike (the first on a tie).
        let best = |except: Option<&str>| {
            let mut best: Option<(u8, &String)> = None;
            for n in same.into_iter().flatten() {
                let score = rank(n);
                if Some(n.as_str()) != except && best.is_none_or(|(b, _)| score > b) {
                    best = Some((score, n));
                }
            }
            best
        };
        if known(name) {
            // A known name can itself be a homophone of another (珠和路 for 朱和路, 鸣珠路 for
            // 明珠路): when the other has this door plate where the record says it is, and this
            // one has it elsewhere or not at all, it is the other.
            if let Some((score, other)) = best(Some(name))
                && score > rank(name)
            {
                return Some((other.clone(), true));
            }
            return Some((name.to_string(), false));
        }
        // Several known names may sound alike (港华路, 港花路, 青金路, 庆金路): it is a homophone of
        // one of them either way.
        best(None).map(|(_, n)| (n.clone(), true))
    }

    /// A structured door plate; returns its normalized fields for the duplicate check.
    fn door_plate(
        &self,
        out: &mut Out,
        fields: &BTreeMap<Field, String>,
        mapping: &Mapping,
    ) -> BTreeMap<Field, String> {
        let r = self.r;
        let mut norm = fields.clone();
        norm.remove(&Field::Address);
        norm.remove(&Field::Lon);
        norm.remove(&Field::Lat);
        norm.remove(&Field::Id);
        norm.remove(&Field::District);
        let mut town = None;
        // 街镇: missing, misspelt, old.
        let gives_town = mapping.columns.values().any(|f| *f == Field::Town);
        match fields.get(&Field::Town) {
            None if gives_town => self.push(
                out,
                RuleId::MissingLevel,
                "town",
                None,
                "no 街镇".into(),
                serde_json::json!({"level": "town"}),
            ),
            None => {}
            Some(t) if r.towns.contains(t) => town = Some(t.clone()),
            Some(t) => {
                if let Some((to, kind)) = r.town_aliases.get(t) {
                    let kind = if *kind == AliasKind::Typo {
                        "typo"
                    } else {
                        "old_name"
                    };
                    self.push(
                        out,
                        RuleId::NonStandardSpelling,
                        kind,
                        Some(to.clone()),
                        format!("街镇 {t} for {to}"),
                        serde_json::json!({"field": "town", "given": t, "standard": to}),
                    );
                    // For a split old unit the standard address says which of its successors.
                    if !to.contains('|') {
                        norm.insert(Field::Town, to.clone());
                        town = Some(to.clone());
                    }
                } else {
                    self.push(
                        out,
                        RuleId::NonStandardSpelling,
                        "unknown_town",
                        None,
                        format!("unknown 街镇 {t}"),
                        serde_json::json!({"field": "town", "given": t}),
                    );
                }
            }
        }
        // Road or village; among names that sound alike, the one with this door plate, and of
        // those the one whose standard address is in the 街镇 (2) and 居委 (1) the record gives.
        let plate_rank = |n: &str, community_too: bool| -> u8 {
            let g = |f: Field| fields.get(&f).map(String::as_str).unwrap_or("");
            let b = strip_building_marker(g(Field::Building)).0;
            let Some(&i) = r.by_key.get(&key(
                n,
                g(Field::Lane),
                g(Field::Number),
                g(Field::Group),
                &b,
            )) else {
                return 0;
            };
            let a = &r.addrs[i as usize];
            1 + 2 * u8::from(town.as_deref() == Some(&*a.town))
                + u8::from(
                    community_too
                        && fields.get(&Field::Community).map(String::as_str) == Some(&*a.community),
                )
        };
        let mut name_known = false;
        let mut name = String::new();
        if let Some(road) = fields.get(&Field::Road) {
            match self.known_or_homophone(road, &|n| r.roads.contains_key(n), &r.road_sound, &|n| {
                plate_rank(n, true)
            }) {
                Some((n, fixed)) => {
                    if fixed {
                        self.push(
                            out,
                            RuleId::NonStandardSpelling,
                            "homophone",
                            town.clone(),
                            format!("路名 {road} for {n}"),
                            serde_json::json!({"field": "road", "given": road, "standard": n}),
                        );
                        norm.insert(Field::Road, n.clone());
                    }
                    name = n;
                    name_known = true;
                }
                None => self.push(
                    out,
                    RuleId::UnknownRoad,
                    "road",
                    town.clone(),
                    format!("unknown road {road}"),
                    serde_json::json!({"given": road}),
                ),
            }
        }
        if let Some(c) = fields.get(&Field::Community) {
            match self.known_or_homophone(
                c,
                &|n| r.communities.contains(n),
                &r.community_sound,
                &|n| plate_rank(community_address_name(n), false),
            ) {
                Some((n, fixed)) => {
                    if fixed {
                        self.push(
                            out,
                            RuleId::NonStandardSpelling,
                            "homophone",
                            town.clone(),
                            format!("居委会 {c} for {n}"),
                            serde_json::json!({"field": "community", "given": c, "standard": n}),
                        );
                        norm.insert(Field::Community, n.clone());
                    }
                    if name.is_empty() && !fields.contains_key(&Field::Road) {
                        name = community_address_name(&n).to_string();
                        name_known = r.villages.contains_key(&name);
                    }
                }
                None if !fields.contains_key(&Field::Road) => self.push(
                    out,
                    RuleId::UnknownRoad,
                    "village",
                    town.clone(),
                    format!("unknown 居/村委 {c}"),
                    serde_json::json!({"given": c}),
                ),
                None => {}
            }
        }
        // Numbers: Chinese numerals, then the 幢 marker.
        for f in [Field::Lane, Field::Number, Field::Group, Field::Building] {
            if let Some(v) = norm.get(&f).cloned()
                && has_cn_numeral(&v)
            {
                let (stem, marker) = strip_building_marker(&v);
                if let Some(d) = cn_number(&stem) {
                    self.push(
                        out,
                        RuleId::NonStandardSpelling,
                        "chinese_numerals",
                        town.clone(),
                        format!("{} {v} in Chinese numerals", f.as_str()),
                        serde_json::json!({"field": f.as_str(), "given": v, "standard": d}),
                    );
                    norm.insert(f, format!("{d}{}", marker.unwrap_or("")));
                }
            }
        }
        if let Some(b) = norm.get(&Field::Building).cloned() {
            let (stem, marker) = strip_building_marker(&b);
            if let Some(m) = marker
                && m != "幢"
            {
                self.push(
                    out,
                    RuleId::NonStandardSpelling,
                    "building_marker_variant",
                    town.clone(),
                    format!("楼幢号 {b}: {m} for 幢"),
                    serde_json::json!({"field": "building", "given": b, "standard": format!("{stem}幢")}),
                );
            }
            norm.insert(Field::Building, stem);
        }
        let get = |f: Field| norm.get(&f).map(String::as_str).unwrap_or("");
        let found = r
            .by_key
            .get(&key(
                &name,
                get(Field::Lane),
                get(Field::Number),
                get(Field::Group),
                get(Field::Building),
            ))
            .map(|&i| &r.addrs[i as usize]);
        let point = parse_point(fields);
        match found {
            Some(a) => {
                out.fused.address_id = Some(a.id.clone());
                out.fused.match_level = "number".into();
                out.fused.score = 1.0;
                if town.is_some() && town.as_deref() != Some(&*a.town) {
                    self.push(
                        out,
                        RuleId::SourcesDisagreeTown,
                        "town",
                        Some(a.town.to_string()),
                        format!(
                            "街镇 {} but the standard address is in {}",
                            get(Field::Town),
                            a.town
                        ),
                        serde_json::json!({"given": get(Field::Town), "standard": &*a.town}),
                    );
                }
                if let Some(c) = norm.get(&Field::Community)
                    && r.communities.contains(c)
                    && !a.community.is_empty()
                    && c.as_str() != &*a.community
                {
                    self.push(
                        out,
                        RuleId::SourcesDisagreeTown,
                        "community",
                        Some(a.town.to_string()),
                        format!("居委 {c} but the standard address is in {}", a.community),
                        serde_json::json!({"given": c, "standard": &*a.community}),
                    );
                }
                let a = a.clone();
                self.place_point(out, &a, point);
            }
            None => {
                if name_known {
                    let range = if fields.contains_key(&Field::Road) {
                        r.roads.get(&name)
                    } else {
                        r.villages.get(&name)
                    };
                    let town = town
                        .clone()
                        .or_else(|| range.and_then(|i| i.majority().map(|(t, _)| t.to_string())));
                    let n: Option<u32> = [Field::Lane, Field::Number]
                        .iter()
                        .find_map(|f| norm.get(f))
                        .and_then(|n| n.parse().ok());
                    if let (Some(info), Some(n)) = (range, n) {
                        let margin = self.rules.param(RuleId::NumberOutOfRange, "margin", 0.1);
                        let lo = f64::from(info.min) * (1.0 - margin);
                        let hi = f64::from(info.max) * (1.0 + margin);
                        if f64::from(n) < lo || f64::from(n) > hi {
                            self.push(
                                out,
                                RuleId::NumberOutOfRange,
                                "",
                                town.clone(),
                                format!(
                                    "{name} {n} outside its known range {}–{}",
                                    info.min, info.max
                                ),
                                serde_json::json!({"number": n, "min": info.min, "max": info.max}),
                            );
                        }
                    }
                    self.push(
                        out,
                        RuleId::UnknownAddress,
                        "",
                        town,
                        format!("no standard address {name} {}", fields.get(&Field::Address).map(String::as_str).unwrap_or("")),
                        serde_json::json!({"name": name, "lane": get(Field::Lane), "number": get(Field::Number), "building": get(Field::Building)}),
                    );
                    out.fused.match_level = "road".into();
                    out.fused.score = 0.5;
                } else if let (Some(text), Some(m)) = (fields.get(&Field::Address), &r.matcher) {
                    // A name the key cannot place: let the matcher try the full text.
                    let found = m.normalize(text);
                    out.fused.match_level = found.level.as_str().to_string();
                    out.fused.score = found.score;
                    if let Some(id) = &found.id
                        && let Some(a) = r.addr(id).cloned()
                    {
                        out.fused.address_id = Some(a.id.clone());
                        self.place_point(out, &a, point);
                    }
                }
                if let Some(p) = point {
                    self.check_extent(out, p);
                }
            }
        }
        out.fused.fields = norm
            .iter()
            .map(|(f, v)| (f.as_str().to_string(), v.clone()))
            .collect();
        norm
    }

    fn check_extent(&self, out: &mut Out, p: Point<f64>) -> bool {
        let Some(e) = self.r.extent else {
            return true;
        };
        let margin = self
            .rules
            .param(RuleId::CoordinatesOutsideDistrict, "margin_m", 2000.0);
        let (mlon, mlat) = degree_margins(p, margin);
        let inside = p.x() >= e.min().x - mlon
            && p.x() <= e.max().x + mlon
            && p.y() >= e.min().y - mlat
            && p.y() <= e.max().y + mlat;
        if !inside {
            self.push(
                out,
                RuleId::CoordinatesOutsideDistrict,
                "",
                None,
                format!("point {:.6},{:.6} outside the district", p.x(), p.y()),
                serde_json::json!({"lon": p.x(), "lat": p.y()}),
            );
        }
        inside
    }

    /// Links a matched record to a building and checks its point against it.
    fn place_point(&self, out: &mut Out, a: &Addr, point: Option<Point<f64>>) {
        let r = self.r;
        let own = a
            .building_id
            .as_ref()
            .and_then(|b| r.building_pos.get(b).copied());
        let town = Some(a.town.to_string());
        let Some(p) = point else {
            if let Some(b) = own {
                out.fused.building_id = r.footprints.building(b).map(|b| b.id.clone());
                out.fused.link_method = Some("road_number".into());
            }
            return;
        };
        if !self.check_extent(out, p) {
            if let Some(b) = own {
                out.fused.building_id = r.footprints.building(b).map(|b| b.id.clone());
                out.fused.link_method = Some("road_number".into());
            }
            return;
        }
        let Some(own_i) = own else {
            // No building to check against: the address point is the reference.
            if let Some(ap) = a.point {
                let d = metres_between(p, ap);
                let conv = gcj02_to_wgs84(p.x(), p.y());
                let dc = metres_between(Point::new(conv.0, conv.1), ap);
                if d > self
                    .rules
                    .param(RuleId::Gcj02ShiftSuspected, "min_offset_m", 100.0)
                    && dc < 25.0
                {
                    self.push(
                        out,
                        RuleId::Gcj02ShiftSuspected,
                        "point",
                        town,
                        format!("the point is {d:.0} m off its address; as GCJ-02 it is {dc:.0} m"),
                        serde_json::json!({"offset_m": d, "residual_m": dc}),
                    );
                }
            }
            return;
        };
        let Some(own_b) = r.footprints.building(own_i) else {
            return;
        };
        let link = |out: &mut Out, method: &str| {
            out.fused.building_id = Some(own_b.id.clone());
            out.fused.link_method = Some(method.to_string());
        };
        let d = metres_to_polygon(p, &own_b.footprint);
        let tol = self
            .rules
            .param(RuleId::PointOutsideBuilding, "tolerance_m", 3.0);
        if d <= tol {
            link(out, "contains");
            return;
        }
        let conv = gcj02_to_wgs84(p.x(), p.y());
        let conv = Point::new(conv.0, conv.1);
        let dc = metres_to_polygon(conv, &own_b.footprint);
        let min_offset = self
            .rules
            .param(RuleId::Gcj02ShiftSuspected, "min_offset_m", 100.0);
        let residual = self
            .rules
            .param(RuleId::Gcj02ShiftSuspected, "max_residual_m", 5.0);
        if d >= min_offset && dc <= residual {
            self.push(
                out,
                RuleId::Gcj02ShiftSuspected,
                "point",
                town,
                format!("the point is {d:.0} m from its building; read as GCJ-02 it is inside"),
                serde_json::json!({"offset_m": d, "residual_m": dc, "wgs84": [conv.x(), conv.y()]}),
            );
            link(out, "contains_gcj02");
            return;
        }
        link(out, "road_number");
        let other = r.footprints.containing_index(p).filter(|&i| i != own_i);
        let disagree = other.map(|i| {
            let theirs = &r.building_addrs[i];
            !theirs.is_empty()
                && !theirs.iter().any(|&j| {
                    let b = &r.addrs[j as usize];
                    b.name == a.name
                        && b.lane == a.lane
                        && (b.number == a.number || !a.lane.is_empty())
                })
        });
        if disagree == Some(true) {
            let bid = other
                .and_then(|i| r.footprints.building(i))
                .map(|b| b.id.clone());
            self.push(
                out,
                RuleId::PointInDisagreeingBuilding,
                "",
                town,
                format!(
                    "the point is in building {} whose addresses are elsewhere",
                    bid.as_deref().unwrap_or("?")
                ),
                serde_json::json!({"building_id": bid, "offset_m": d}),
            );
        } else {
            self.push(
                out,
                RuleId::PointOutsideBuilding,
                "",
                town,
                format!("the point is {d:.0} m from its building {}", own_b.id),
                serde_json::json!({"building_id": own_b.id, "offset_m": d}),
            );
        }
    }

    /// A free-text record (a work order): the matcher, and what the parse says was non-standard.
    fn free_text(&self, out: &mut Out, fields: &BTreeMap<Field, String>) {
        let r = self.r;
        let Some(text) = fields.get(&Field::Address) else {
            return;
        };
        let point = parse_point(fields);
        let Some(matcher) = &r.matcher else {
            return;
        };
        let parse = matcher.parser().parse(text);
        let m = matcher
            .normalize_parse(&parse)
            .unwrap_or_else(|_| crate::search::Match::none(text));
        out.fused.match_level = m.level.as_str().to_string();
        out.fused.score = m.score;
        let town = m.town.clone();
        if !parse.components.iter().any(|c| c.level == Level::Town) {
            self.push(
                out,
                RuleId::MissingLevel,
                "town",
                town.clone(),
                "no 街镇".into(),
                serde_json::json!({"level": "town"}),
            );
        }
        for c in &m.corrections {
            let same_sound =
                crate::search::keys::sound(&c.from) == crate::search::keys::sound(&c.to);
            let kind = match c.why {
                CorrectionKind::Homophone => "homophone",
                // A name the text runs into (青浦湾通路 for 湾通路) is no misspelling.
                CorrectionKind::Typo if c.from.contains(c.to.as_str()) => continue,
                CorrectionKind::Typo if same_sound => "homophone",
                CorrectionKind::Typo => "typo",
                CorrectionKind::OldName => "old_name",
                CorrectionKind::Variant => continue,
            };
            self.push(
                out,
                RuleId::NonStandardSpelling,
                kind,
                town.clone(),
                format!("{} for {}", c.from, c.to),
                serde_json::json!({"given": c.from, "standard": c.to}),
            );
        }
        let mut numerals = false;
        let mut variant = None;
        for c in &parse.components {
            let t = c.span_text(text);
            if matches!(
                c.level,
                Level::Group | Level::Lane | Level::Number | Level::Building
            ) && has_cn_numeral(&t)
            {
                numerals = true;
            }
            let marked = match c.level {
                Level::Number => t.ends_with("号楼"),
                Level::Building => ["栋", "号楼", "#", "座"].iter().any(|m| t.ends_with(m)),
                _ => false,
            };
            if marked {
                variant = Some(t);
            }
        }
        if numerals {
            self.push(
                out,
                RuleId::NonStandardSpelling,
                "chinese_numerals",
                town.clone(),
                "numbers in Chinese numerals".into(),
                serde_json::json!({"given": text}),
            );
        }
        if let Some(v) = variant {
            self.push(
                out,
                RuleId::NonStandardSpelling,
                "building_marker_variant",
                town.clone(),
                format!("{v}: a variant of the 幢/号 marker"),
                serde_json::json!({"given": v}),
            );
        }
        let found = m.id.as_ref().and_then(|id| r.addr(id)).cloned();
        match found {
            Some(a) => {
                out.fused.address_id = Some(a.id.clone());
                self.place_point(out, &a, point);
            }
            None => {
                if let Some(p) = point
                    && self.check_extent(out, p)
                    && r.footprints.containing_index(p).is_none()
                {
                    let conv = gcj02_to_wgs84(p.x(), p.y());
                    if let Some(i) = r.footprints.containing_index(Point::new(conv.0, conv.1)) {
                        out.fused.building_id = r.footprints.building(i).map(|b| b.id.clone());
                        out.fused.link_method = Some("contains_gcj02".into());
                        self.push(
                            out,
                            RuleId::Gcj02ShiftSuspected,
                            "point",
                            town,
                            "the point is in no building; read as GCJ-02 it is in one".into(),
                            serde_json::json!({"wgs84": [conv.0, conv.1]}),
                        );
                    }
                }
            }
        }
        out.fused.fields = BTreeMap::from([("address".to_string(), text.clone())]);
        if let Some(a) = &m.address {
            out.fused.fields.insert("standard".into(), a.clone());
        }
    }

    /// A gazetteer entry: its name checked, its 街镇 compared with the standard addresses'.
    fn gazetteer(&self, out: &mut Out, fields: &BTreeMap<Field, String>) {
        let r = self.r;
        let Some(name) = fields.get(&Field::Name) else {
            return;
        };
        let category = fields
            .get(&Field::Category)
            .map(String::as_str)
            .unwrap_or("");
        let given_town = fields.get(&Field::Town).cloned();
        let (table, level) = match category {
            "道路" => (&r.roads, "road"),
            "村" => (&r.villages, "community"),
            _ => (&r.pois, "poi"),
        };
        let mut std_name = name.clone();
        if !table.contains_key(name) {
            let fixed = if level == "road" {
                self.known_or_homophone(name, &|n| r.roads.contains_key(n), &r.road_sound, &|n| {
                    u8::from(
                        given_town.as_ref().is_some_and(|t| {
                            r.roads.get(n).is_some_and(|i| i.towns.contains_key(t))
                        }),
                    )
                })
            } else {
                None
            };
            match fixed {
                Some((n, true)) => {
                    self.push(
                        out,
                        RuleId::NonStandardSpelling,
                        "homophone",
                        given_town.clone(),
                        format!("标准名称 {name} for {n}"),
                        serde_json::json!({"field": "name", "given": name, "standard": n}),
                    );
                    std_name = n;
                }
                _ => {
                    self.push(
                        out,
                        RuleId::UnknownRoad,
                        level,
                        given_town.clone(),
                        format!("unknown {category} {name}"),
                        serde_json::json!({"given": name}),
                    );
                    return;
                }
            }
        }
        out.fused.match_level = level.into();
        out.fused.score = 1.0;
        if let (Some(info), Some(t)) = (table.get(&std_name), &given_town)
            && let Some((major, n)) = info.majority()
        {
            // A place over a town boundary is registered with the town that holds most of it;
            // naming the other one is still wrong, and the steward is shown the split.
            let given_n = info.towns.get(t).copied().unwrap_or(0);
            if t != major && given_n < n {
                let message = if given_n > 0 {
                    format!(
                        "{std_name} in {t} here; it straddles {t} ({given_n} addresses) and \
                         {major} ({n}), most of it in {major}"
                    )
                } else {
                    format!("{std_name} in {t} here, in {major} by its standard addresses")
                };
                self.push(
                    out,
                    RuleId::SourcesDisagreeTown,
                    "town",
                    Some(major.to_string()),
                    message,
                    serde_json::json!({"given": t, "standard": major, "standard_count": n,
                        "given_count": given_n, "towns": info.towns}),
                );
            }
        }
        if let Some(p) = parse_point(fields) {
            self.check_extent(out, p);
        }
        out.fused.fields = BTreeMap::from([
            ("name".to_string(), std_name),
            ("category".to_string(), category.to_string()),
        ]);
        if let Some(t) = given_town {
            out.fused.fields.insert("town".into(), t);
        }
    }

    /// A building footprint: matched to a reference footprint by shape, its floors compared.
    fn building(
        &self,
        out: &mut Out,
        fields: &BTreeMap<Field, String>,
        geometry: Option<&geo::Geometry<f64>>,
    ) {
        let r = self.r;
        let polygon: Option<Polygon<f64>> = match geometry {
            Some(geo::Geometry::Polygon(p)) => Some(p.clone()),
            Some(geo::Geometry::MultiPolygon(mp)) => mp.0.first().cloned(),
            _ => None,
        };
        let Some(polygon) = polygon else {
            return;
        };
        // A point inside the footprint (an L-shaped building's centroid is outside it).
        let (Some(c), Some(bbox)) = (polygon.interior_point(), polygon.bounding_rect()) else {
            return;
        };
        let same_box = |i: usize, bbox: Rect<f64>, tol: f64| {
            r.footprints
                .building(i)
                .and_then(|b| b.footprint.bounding_rect())
                .is_some_and(|o| {
                    (o.min().x - bbox.min().x).abs() < tol
                        && (o.min().y - bbox.min().y).abs() < tol
                        && (o.max().x - bbox.max().x).abs() < tol
                        && (o.max().y - bbox.max().y).abs() < tol
                })
        };
        let mut found = r
            .footprints
            .containing_index(c)
            .filter(|&i| same_box(i, bbox, 2e-6))
            .map(|i| (i, "same_footprint"));
        if found.is_none() {
            let conv = |p: geo::Coord<f64>| {
                let (x, y) = gcj02_to_wgs84(p.x, p.y);
                geo::Coord { x, y }
            };
            let converted = polygon.map_coords(conv);
            let cc = converted
                .interior_point()
                .map(|p| p.0)
                .unwrap_or_else(|| conv(c.0));
            let cbox = converted
                .bounding_rect()
                .unwrap_or_else(|| Rect::new(conv(bbox.min()), conv(bbox.max())));
            if let Some(i) = r
                .footprints
                .containing_index(Point(cc))
                .filter(|&i| same_box(i, cbox, 3e-6))
            {
                let d = metres_between(c, Point(cc));
                if d >= self
                    .rules
                    .param(RuleId::Gcj02ShiftSuspected, "min_offset_m", 100.0)
                {
                    self.push(
                        out,
                        RuleId::Gcj02ShiftSuspected,
                        "footprint",
                        self.building_town(i),
                        format!(
                            "the footprint is {d:.0} m off; read as GCJ-02 it is building {}",
                            r.footprints
                                .building(i)
                                .map(|b| b.id.as_str())
                                .unwrap_or("?")
                        ),
                        serde_json::json!({"offset_m": d}),
                    );
                }
                found = Some((i, "same_footprint_gcj02"));
            } else if let Some(i) = r.footprints.containing_index(c) {
                found = Some((i, "contains_centroid"));
            }
        }
        let Some((i, method)) = found else {
            return;
        };
        let Some(b) = r.footprints.building(i) else {
            return;
        };
        out.fused.building_id = Some(b.id.clone());
        out.fused.link_method = Some(method.into());
        out.fused.match_level = "building".into();
        out.fused.score = 1.0;
        let town = self.building_town(i);
        if let Some(f) = fields.get(&Field::Floors)
            && let Ok(n) = f.parse::<u16>()
            && n != b.floors
        {
            self.push(
                out,
                RuleId::FloorsDisagree,
                "",
                town.clone(),
                format!("{n} floors here, {} in the reference", b.floors),
                serde_json::json!({"given": n, "reference": b.floors, "building_id": b.id}),
            );
        }
        if r.building_addrs[i].is_empty() {
            self.push(
                out,
                RuleId::BuildingWithoutAddress,
                "",
                town,
                format!("building {} has no address", b.id),
                serde_json::json!({"building_id": b.id}),
            );
        }
        out.fused.fields = fields
            .iter()
            .map(|(f, v)| (f.as_str().to_string(), v.clone()))
            .collect();
    }

    fn building_town(&self, i: usize) -> Option<String> {
        if let Some(&j) = self.r.building_addrs[i].first() {
            return Some(self.r.addrs[j as usize].town.to_string());
        }
        // An unaddressed building: the 街镇 of the nearest addressed one.
        let b = self.r.footprints.building(i)?;
        let c = b.footprint.centroid()?;
        self.r
            .footprints
            .nearest_buildings(c, 8, 500.0)
            .iter()
            .find_map(|h| {
                let k = self.r.building_pos.get(&h.building.id)?;
                let &j = self.r.building_addrs[*k].first()?;
                Some(self.r.addrs[j as usize].town.to_string())
            })
    }
}

/// How many records of a source fusion holds at once.
const PAGE: usize = 16_384;

/// Fuses every source in the store (truth files aside): fused records and links replaced per
/// source, anomalies queued (new ones only; one already queued keeps its status and review),
/// each source in one transaction. Returns the report and every finding (for a CSV report);
/// [`fuse_store_each`] does the same without holding the findings.
pub fn fuse_store(
    store: &mut Store,
    reference: &Reference,
    rules: &RuleSet,
) -> Result<(FuseReport, Vec<Finding>)> {
    let mut all = Vec::new();
    let report = fuse_store_each(store, reference, rules, |f| all.push(f.clone()))?;
    Ok((report, all))
}

/// [`fuse_store`], streaming: each source is read, fused and written a page of records at a
/// time inside its one transaction, and each finding is handed to `on_finding` once written, so
/// memory holds the reference and one page rather than a whole source and all its findings.
///
/// # Examples
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let mut store = dizhi::store::Store::open(dir.path()).unwrap();
/// let dicts = dizhi::Dictionaries::embedded().unwrap();
/// let reference = dizhi::fuse::Reference::load(&store, &dicts, None).unwrap();
/// let rules = dizhi::fuse::RuleSet::default_rules();
/// let mut seen = 0;
/// let report = dizhi::fuse::fuse_store_each(&mut store, &reference, &rules, |_| seen += 1)
///     .unwrap();
/// assert_eq!((report.links, seen), (0, 0));
/// ```
pub fn fuse_store_each(
    store: &mut Store,
    reference: &Reference,
    rules: &RuleSet,
    mut on_finding: impl FnMut(&Finding),
) -> Result<FuseReport> {
    let started = std::time::Instant::now();
    let mut report = FuseReport::default();
    for (id, name, role, mapping) in stored_sources(store)? {
        let tx = store.connection_mut().transaction()?;
        tx.execute("DELETE FROM fused_records WHERE source = ?1", [&name])?;
        tx.execute("DELETE FROM links WHERE source = ?1", [&name])?;
        let mut first = FirstSeen::default();
        let mut current: HashSet<String> = HashSet::new();
        let (mut records, mut matched) = (0, 0);
        // The findings go to `on_finding` only once the source's transaction has committed: a
        // source rolled back reports none. Held meanwhile, one per finding (not per record).
        let mut held: Vec<Finding> = Vec::new();
        crate::store::source_record_pages(&tx, id, PAGE, |page| -> Result<()> {
            let (fused, findings) =
                reference.fuse_page(&name, role, &mapping, &page, rules, &mut first);
            drop(page);
            records += fused.len();
            matched += fused.iter().filter(|f| f.address_id.is_some()).count();
            report.links += write_fused(&tx, &name, role, &fused)?;
            report.new_anomalies += insert_findings(&tx, &findings)?;
            for f in &findings {
                current.insert(finding_key(f.rule.as_str(), &f.kind, &f.entity_id));
                *report
                    .findings
                    .entry(f.rule.as_str().to_string())
                    .or_default() += 1;
            }
            held.extend(findings);
            Ok(())
        })?;
        retire_stale(&tx, &name, &current)?;
        tx.commit()?;
        held.iter().for_each(&mut on_finding);
        report.records.insert(name.clone(), records);
        report.matched.insert(name, matched);
    }
    let extra = reference.check_addresses(rules);
    report.new_anomalies += write_findings(store, &extra)?;
    for f in &extra {
        *report
            .findings
            .entry(f.rule.as_str().to_string())
            .or_default() += 1;
        on_finding(f);
    }
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Writes a page of fused records and their links; returns the links written.
fn write_fused(
    tx: &rusqlite::Transaction<'_>,
    source: &str,
    role: Role,
    fused: &[FusedRecord],
) -> Result<usize> {
    let mut links = 0;
    let mut ins = tx.prepare_cached(
        "INSERT OR REPLACE INTO fused_records (source, record_key, address_id, building_id, \
         match_level, score, link_method, fields) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    let mut link = tx.prepare_cached(
        "INSERT OR REPLACE INTO links (address_id, building_id, source, method, confidence) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for f in fused {
        let fields = serde_json::to_string(&f.fields).unwrap_or_else(|_| "{}".into());
        ins.execute(rusqlite::params![
            f.source,
            f.record_key,
            f.address_id,
            f.building_id,
            f.match_level,
            f.score,
            f.link_method,
            fields
        ])?;
        if role == Role::Addresses
            && let (Some(a), Some(b), Some(m)) = (&f.address_id, &f.building_id, &f.link_method)
        {
            let confidence = if m.starts_with("contains") { 0.95 } else { 0.8 };
            link.execute(rusqlite::params![a, b, source, m, confidence])?;
            links += 1;
        }
    }
    Ok(links)
}

/// What makes an anomaly the same finding from one fusion to the next: rule, kind, entity.
fn finding_key(rule: &str, kind: &str, entity: &str) -> String {
    format!("{rule}\u{1}{kind}\u{1}{entity}")
}

/// Open anomalies of a source that fusion no longer finds (the data or the rules changed) are
/// resolved by `fuse`, with a `stale` review and an audit entry; reviewed ones are left alone.
fn retire_stale(
    tx: &rusqlite::Transaction<'_>,
    source: &str,
    current: &HashSet<String>,
) -> Result<()> {
    let stale: Vec<i64> = {
        let mut stmt = tx.prepare(
            "SELECT id, rule, kind, entity_id FROM anomalies WHERE source = ?1 \
             AND status = 'open' AND rule != 'objection'",
        )?;
        let rows = stmt.query_map([source], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, rule, kind, entity) = row?;
            if !current.contains(&finding_key(&rule, &kind, &entity)) {
                out.push(id);
            }
        }
        out
    };
    for id in stale {
        tx.execute(
            "UPDATE anomalies SET status = 'resolved', \
             updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
            [id],
        )?;
        tx.execute(
            "INSERT INTO reviews (anomaly_id, reviewer, decision, note, at) VALUES \
             (?1, 'fuse', 'stale', 'no longer found by fusion', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
            [id],
        )?;
        super::audit(
            tx,
            "fuse",
            "anomaly.stale",
            &format!("anomaly:{id}"),
            Some(r#"{"status":"open"}"#),
            Some(r#"{"status":"resolved","why":"no longer found by fusion"}"#),
        )?;
    }
    Ok(())
}

fn write_findings(store: &mut Store, findings: &[Finding]) -> Result<usize> {
    let tx = store.connection_mut().transaction()?;
    let n = insert_findings(&tx, findings)?;
    tx.commit()?;
    Ok(n)
}

fn insert_findings(tx: &rusqlite::Transaction<'_>, findings: &[Finding]) -> Result<usize> {
    let mut stmt = tx.prepare_cached(
        "INSERT OR IGNORE INTO anomalies (rule, kind, severity, entity_kind, entity_id, message, \
         detail, status, source, record_key, assignee, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'open', ?8, ?9, ?10, \
         strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
    )?;
    let mut new = 0;
    for f in findings {
        let n = stmt.execute(rusqlite::params![
            f.rule.as_str(),
            f.kind,
            f.severity.as_str(),
            f.entity_kind,
            f.entity_id,
            f.message,
            f.detail.to_string(),
            (!f.source.is_empty()).then_some(&f.source),
            (!f.record_key.is_empty()).then_some(&f.record_key),
            f.town
        ])?;
        if n > 0 {
            let id = tx.last_insert_rowid();
            let after = serde_json::json!({"status": "open", "rule": f.rule.as_str(), "kind": f.kind, "entity": f.entity_id});
            super::audit(
                tx,
                "fuse",
                "anomaly.create",
                &format!("anomaly:{id}"),
                None,
                Some(&after.to_string()),
            )?;
            new += 1;
        }
    }
    Ok(new)
}

/// Reads a file as a source without storing it (for `dizhi check FILE`): CSV/XLSX/GeoJSON/…
/// through the same readers as import, into a temporary store.
pub fn read_file_source(path: &std::path::Path, role: Role, map: &[String]) -> Result<SourceInput> {
    // A fresh directory with a random name (never a predictable path another user could plant).
    let dir = tempfile::Builder::new()
        .prefix("dizhi-check-")
        .tempdir()
        .map_err(|e| Error::file(path, e))?;
    let mut scratch = Store::open(dir.path())?;
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("file")
        .to_string();
    let result = (|| {
        let report = super::import_file(&mut scratch, path, &name, role, map)?;
        let id = scratch
            .sources()?
            .into_iter()
            .find(|s| s.name == name)
            .map(|s| s.id)
            .ok_or_else(|| Error::NotFound(name.clone()))?;
        Ok(SourceInput {
            name: name.clone(),
            role,
            mapping: report.mapping,
            records: scratch.source_records(id)?,
        })
    })();
    drop(scratch);
    drop(dir);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_numerals_as_numbers() {
        assert_eq!(cn_number("一二八八").as_deref(), Some("1288"));
        assert_eq!(cn_number("十三").as_deref(), Some("13"));
        assert_eq!(cn_number("十").as_deref(), Some("10"));
        assert_eq!(cn_number("四十").as_deref(), Some("40"));
        assert_eq!(cn_number("二十五").as_deref(), Some("25"));
        assert_eq!(cn_number("三零五").as_deref(), Some("305"));
        assert_eq!(cn_number("3"), None);
    }

    #[test]
    fn building_markers_are_stripped() {
        assert_eq!(strip_building_marker("3栋"), ("3".into(), Some("栋")));
        assert_eq!(strip_building_marker("3号楼"), ("3".into(), Some("号楼")));
        assert_eq!(strip_building_marker("3"), ("3".into(), None));
    }
}
