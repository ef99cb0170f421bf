//! From text to a standard address: parse, anchor, retrieve candidates, rerank level by level.

use std::collections::BTreeMap;

use tantivy::Searcher;
use tantivy::schema::Field;

mod anchors;
mod judge;
mod outside;
mod retrieve;
mod split;

use judge::{hit_value, judge, partial_text};

use super::names::NameTable;
use super::{AddressIndex, Candidate, Correction, CorrectionKind, Match, MatchLevel, Result};
use crate::Level;
use crate::address::{Parse, Parser};
use crate::dictionaries::{AliasKind, Coverage, Dictionaries};

/// The score of a match above the door when a door was asked for: on noisy queries about one
/// such answer in four is a door the matcher missed rather than one the library lacks.
const PARTIAL_DOOR_ASKED: f64 = 0.8;

/// How close a runner-up under another corrected name may come before the answer is contested.
const CONTESTED_MARGIN: f64 = 0.05;

/// How many candidates are reranked.
const CANDIDATES: usize = 12;

/// What the input asks for, after parsing: the place levels as standard addresses hold them.
#[derive(Debug, Default, Clone)]
struct Wanted {
    town: Option<String>,
    community: Option<String>,
    road: Option<String>,
    poi: Option<String>,
    group: Option<String>,
    lane: Option<String>,
    number: Option<String>,
    building: Option<String>,
    detail: Option<String>,
    /// The district named (its official name), if any.
    district: Option<String>,
    /// The first six digits of that district's code, when the data covers it.
    district_code: Option<String>,
    /// Roads named after the first (赵巷|湾西路: a town's short name read as a road).
    later_roads: Vec<String>,
    /// A community and the place right after it as one name (枫鑫社区|文化活动中心: a public
    /// place named after its community).
    community_and_poi: Option<String>,
}

impl Wanted {
    /// Nothing asked below the road, compound or village: no lane, door, group or building.
    fn nothing_below(&self) -> bool {
        self.lane.is_none()
            && self.number.is_none()
            && self.group.is_none()
            && self.building.is_none()
    }

    fn from_parse(p: &Parse, corrections: &mut Vec<Correction>) -> Wanted {
        // 华伦智圣服饰|聚成路, 坎山|勇建村: a name the parser cut from before a road or village on
        // length alone is read as written: the name lookup takes the longest tail the library
        // has (南桥徐祥荷路 → 徐祥荷路, where the parser's cut 祥荷路 is another district's road).
        let whole = p.with_glued_names_whole();
        let p: &Parse = &whole;
        let get = |level: Level| p.component(level).map(|c| c.value.clone());
        let mut w = Wanted {
            town: get(Level::Town),
            community: get(Level::Community),
            road: get(Level::Road),
            poi: get(Level::Poi),
            group: get(Level::Group),
            // 1288支弄 said for 1288弄: a numbered 支弄 with no 弄 is the lane.
            lane: get(Level::Lane)
                .or_else(|| get(Level::Subroad).filter(|v| v.bytes().all(|b| b.is_ascii_digit()))),
            number: get(Level::Number),
            building: get(Level::Building),
            district: get(Level::District),
            later_roads: p
                .components
                .iter()
                .filter(|c| c.level == Level::Road)
                .skip(1)
                .map(|c| c.value.clone())
                .collect(),
            ..Wanted::default()
        };
        // A public place named after its community (枫鑫社区|文化活动中心).
        let community_then_poi = match (p.component(Level::Community), p.component(Level::Poi)) {
            (Some(c), Some(poi)) if c.end == poi.start => Some((c, poi)),
            _ => None,
        };
        w.community_and_poi = community_then_poi.map(|(c, poi)| format!("{}{}", c.text, poi.text));
        // 东星村28组1449号，就是雅晖幼儿园对面, 峰翠小学旁边，太北村25组50号: a place named
        // right beside the place word is a landmark near the address, not part of it, when the
        // rest names a door of its own (a community named in the landmark's name goes with it:
        // 宁竹社区文化活动中心旁边，周浜村20组142号).
        if let (Some(near), Some(poi)) = (&p.near, p.component(Level::Poi))
            && (poi.end == near.start || near.end == poi.start)
            && w.number.is_some()
        {
            let community = match community_then_poi {
                Some(_) => p
                    .components
                    .iter()
                    .filter(|c| c.level == Level::Community)
                    .nth(1)
                    .map(|c| c.value.clone()),
                None => w.community.clone(),
            };
            if w.road.is_some() || (community.is_some() && w.group.is_some()) {
                w.poi = None;
                w.community = community;
                w.community_and_poi = None;
            }
        }
        // 青龙大队18小队: a village by its commune-era name, known by the group after it (a
        // 交警大队 has none).
        if w.community.is_none()
            && w.group.is_some()
            && let Some(stem) = w.poi.as_deref().and_then(|n| n.strip_suffix("大队"))
            && stem.chars().count() >= 2
        {
            w.community = Some(format!("{}村", stem.trim_end_matches("生产")));
            w.poi = None;
        }
        if w.town.is_none() {
            w.town = p
                .inferred
                .iter()
                .find(|i| i.level == Level::Town)
                .map(|i| i.value.clone());
        }
        // In a compound (its lane, or its name standing for road+lane), 3号楼 is the door number;
        // so it is on a road or in a village group when no door is said (华腾路78号楼).
        let in_compound = w.lane.is_some()
            || (w.poi.is_some() && w.road.is_none())
            || w.road.is_some()
            || w.group.is_some();
        if in_compound
            && w.number.is_none()
            && let Some(b) = w.building.take()
        {
            if let Some(c) = p.component(Level::Building) {
                corrections.push(Correction {
                    from: c.text.clone(),
                    to: format!("{b}号"),
                    why: CorrectionKind::Variant,
                });
            }
            w.number = Some(b);
        }
        let detail: String = [
            (Level::Unit, "单元"),
            (Level::Floor, "层"),
            (Level::Room, "室"),
        ]
        .iter()
        .filter_map(|(l, marker)| get(*l).map(|v| format!("{v}{marker}")))
        .collect();
        w.detail = (!detail.is_empty()).then_some(detail);
        w
    }
}

/// A name the candidates must carry, and how it was found.
#[derive(Debug, Clone)]
struct Anchor {
    field: Field,
    value: String,
    /// The level it stands for.
    level: MatchLevel,
    correction: Option<Correction>,
    /// How much the way it was found lowers the score.
    factor: f64,
}

/// One retrieved standard address.
#[derive(Debug, Clone, Default)]
struct Hit {
    id: String,
    address: String,
    town: String,
    town_code: String,
    community: String,
    community_code: String,
    road: Option<String>,
    poi: Option<String>,
    lane: Option<String>,
    number: Option<String>,
    group: Option<String>,
    building: Option<String>,
    building_id: Option<String>,
    lon: Option<f64>,
    lat: Option<f64>,
}

/// A hit judged against what was wanted.
#[derive(Debug, Clone)]
struct Judged {
    hit: Hit,
    level: MatchLevel,
    /// The match names this one address.
    pinned: bool,
    score: f64,
}

/// Normalizes free text to standard addresses: the parser, the index and the alias tables,
/// built once and shared across threads.
///
/// # Examples
/// ```no_run
/// use dizhi::search::{AddressIndex, Matcher, MatchLevel};
/// let dicts = dizhi::Dictionaries::embedded().unwrap();
/// let matcher = Matcher::new(AddressIndex::open("dizhi-data".as_ref()).unwrap(), &dicts).unwrap();
/// let m = matcher.normalize("青浦华新镇华腾路1288弄3号楼502室").unwrap();
/// assert!(m.level <= MatchLevel::Road);
/// ```
pub struct Matcher {
    index: AddressIndex,
    parser: Parser,
    /// Admin alias → (official names, kind), for corrections.
    aliases: BTreeMap<String, (Vec<String>, AliasKind)>,
    /// 12-digit codes of the covered towns and communities by name.
    codes: BTreeMap<String, String>,
    /// The divisions the data covers.
    coverage: Coverage,
    /// What callers type before a suggestion key (上海市青浦区 …), longest first.
    pub(super) district_prefixes: Vec<String>,
    roads: NameTable,
    pois: NameTable,
    villages: NameTable,
    /// The covered towns and communities, for names said by sound (华欣镇 for 华新镇).
    admin_names: NameTable,
    /// The generic ends of compound names (花园, 苑), longest first.
    compound_ends: Vec<String>,
}

impl Matcher {
    /// A matcher over an open index: reads the index's road, compound and village names, and
    /// takes the divisions it covers from the index ([`AddressIndex::coverage`]).
    pub fn new(index: AddressIndex, dicts: &Dictionaries) -> Result<Matcher> {
        let coverage = index.coverage(&dicts.admin)?;
        Matcher::with_coverage(index, dicts, coverage)
    }

    /// A matcher over an open index that takes `coverage` as inside.
    pub fn with_coverage(
        index: AddressIndex,
        dicts: &Dictionaries,
        coverage: Coverage,
    ) -> Result<Matcher> {
        let aliases = dicts
            .aliases
            .iter()
            .map(|a| (a.from.clone(), (a.to.clone(), a.kind)))
            .collect();
        let codes: BTreeMap<String, String> = coverage
            .towns()
            .chain(coverage.communities())
            .map(|d| (d.name.clone(), d.code.clone()))
            .collect();
        let searcher = index.reader.searcher();
        let f = index.fields;
        let roads = NameTable::read(&searcher, f.road, true)?;
        let parser = Parser::with_coverage(dicts, coverage.clone());
        let mut compound_ends = parser.compound_suffixes();
        compound_ends.sort_by_key(|s| std::cmp::Reverse(s.chars().count()));
        let pois = NameTable::read(&searcher, f.poi, false)?
            .with_compound_stems(&compound_ends)
            .with_firm_stems();
        let villages = NameTable::read(&searcher, f.village, false)?;
        let admin_names = NameTable::from_names(codes.keys().map(String::as_str));
        Ok(Matcher {
            admin_names,
            compound_ends,
            index,
            parser,
            aliases,
            codes,
            district_prefixes: super::suggest::district_prefixes(&coverage),
            coverage,
            roads,
            pois,
            villages,
        })
    }

    /// The parser the matcher uses.
    pub fn parser(&self) -> &Parser {
        &self.parser
    }

    /// The index the matcher searches.
    pub fn index(&self) -> &AddressIndex {
        &self.index
    }

    /// The divisions the data covers: what is not in them is `outside`.
    pub fn coverage(&self) -> &Coverage {
        &self.coverage
    }

    /// The name of the covered district a town or community code lies in (嘉定区); the covered
    /// area's name when the code says none.
    pub(crate) fn district_name(&self, code: &str) -> String {
        match self.coverage.district_of(code) {
            Some(d) => d.name.clone(),
            None => self.coverage.label(),
        }
    }

    /// Normalizes one input. An input that matches nothing is a match of level `none`; an `Err`
    /// is the index failing, never the input.
    pub fn normalize(&self, input: &str) -> Result<Match> {
        self.normalize_parse(&self.parser.parse(input))
    }

    /// Normalizes an already parsed input.
    pub fn normalize_parse(&self, p: &Parse) -> Result<Match> {
        let mut m = Match::none(&p.input);
        if let Some(o) = &p.outside {
            return self.outside_or_ours(p, o, m);
        }
        let mut corrections = self.admin_corrections(p);
        let mut wanted = Wanted::from_parse(p, &mut corrections);
        for name in [&mut wanted.town, &mut wanted.community] {
            if let Some(n) = name.as_mut()
                && !self.codes.contains_key(n.as_str())
                && let [one] = self.admin_names.same_sound(n).as_slice()
            {
                corrections.push(Correction {
                    from: n.clone(),
                    to: one.to_string(),
                    why: CorrectionKind::Homophone,
                });
                *n = one.to_string();
            }
        }
        wanted.district_code = wanted.district.as_ref().and_then(|d| {
            let covered = self.coverage.districts().iter().find(|c| &c.name == d)?;
            covered.code.get(..6).map(str::to_string)
        });
        m.detail = wanted.detail.clone();
        self.number_glued_to_name(&mut wanted);
        let searcher = self.index.reader.searcher();
        // 白鹤青龙16-260: a village said without 村 before a dashed pair is read as that village's
        // group and door first, when the library has them (else the name stays what was said).
        let village_read = self.bare_village_dash_reading(&searcher, p, &wanted)?;
        let anchors = match &village_read {
            Some((village, _)) => village.clone(),
            None => self.anchors(&wanted),
        };
        if anchors.is_empty() {
            self.admin_only(&mut m, &wanted);
            m.corrections = corrections;
            return Ok(m);
        }
        // The input as written, the door required: when no address has it, another reading
        // (a run of digits cut, a range of doors, a dash read as 弄, a door said twice) is tried
        // before the partial answers are read,
        // which only the input as written falls back to.
        let mut judged = match &village_read {
            Some(_) => Vec::new(),
            None => self.ranked(&searcher, &anchors, &wanted, true)?,
        };
        let mut reading_factor = 1.0;
        let read_again = if let Some((_, r)) = village_read {
            Some(r)
        } else if judged.first().is_some_and(|j| j.pinned) {
            None
        } else {
            match self.split_reading(&searcher, p, &anchors, &wanted)? {
                Some(r) => Some(r),
                None => match self.door_range_reading(&searcher, p, &anchors, &wanted)? {
                    Some(r) => Some(r),
                    None => match self.dash_lane_reading(&searcher, p, &anchors, &wanted)? {
                        Some(r) => Some(r),
                        None => self.door_twice_reading(&searcher, p, &anchors, &wanted)?,
                    },
                },
            }
        };
        if read_again.is_none() && judged.is_empty() {
            judged = self.ranked(&searcher, &anchors, &wanted, false)?;
        }
        if let Some(r) = read_again {
            // 202弄28403: the library says where the dropped 号 goes.
            m.detail = r.wanted.detail.clone();
            wanted = r.wanted;
            judged = r.judged;
            reading_factor = r.factor;
            corrections.push(r.correction);
        }
        let Some(mut best) = judged.first().cloned() else {
            self.admin_only(&mut m, &wanted);
            m.corrections = corrections;
            return Ok(m);
        };
        let anchor = anchors
            .iter()
            .find(|a| hit_value(&best.hit, a) == Some(a.value.as_str()))
            .unwrap_or(&anchors[0]);
        // 春泉派出所, 翠春小学: a place named alone that the library holds at one address (a
        // school, a police station) names that address.
        // The place's own anchor, not its road's (天祥路边上的怡湾幼儿园).
        let place = anchors.iter().find(|a| {
            a.level == MatchLevel::Poi && hit_value(&best.hit, a) == Some(a.value.as_str())
        });
        if matches!(best.level, MatchLevel::Poi | MatchLevel::Road)
            && !best.pinned
            && wanted.nothing_below()
            && best.hit.number.is_some()
            && let Some(place) = place
            && searcher.doc_freq(&tantivy::Term::from_field_text(place.field, &place.value))? == 1
        {
            best.pinned = true;
            best.level = MatchLevel::Number;
        }
        // 祥平机械厂1幢, 某小学2号楼: a firm or public place named with a building and no door
        // (its door is a road number the caller does not say): the one address of those names
        // with that building, in the town said if one was.
        let building_only = p
            .component(Level::Building)
            .filter(|_| p.component(Level::Number).is_none());
        if best.level == MatchLevel::Poi
            && !best.pinned
            && wanted.lane.is_none()
            && wanted.group.is_none()
            && let Some(said) = building_only
        {
            let b = said.value.clone();
            let hits: Vec<Hit> = self
                .with_building(&searcher, &anchors, &b)?
                .into_iter()
                .filter(|h| wanted.town.as_ref().is_none_or(|t| *t == h.town))
                .collect();
            if let [hit] = hits.as_slice()
                && let Some(a) = anchors
                    .iter()
                    .find(|a| hit_value(hit, a) == Some(a.value.as_str()))
            {
                let mut w = wanted.clone();
                w.number = hit.number.clone();
                w.building = Some(b);
                best = judge::judge(hit.clone(), a, &w);
                // The building said stays a building, not the door it was first taken for.
                corrections.retain(|c| c.from != said.text);
            }
        }
        if let Some(c) = &anchor.correction {
            corrections.push(c.clone());
        }
        let ties: Vec<&Judged> = judged[1..]
            .iter()
            .filter(|j| {
                j.level == best.level
                    && j.pinned
                    && best.pinned
                    && (j.score - best.score).abs() < 1e-9
            })
            .collect();
        // A near runner-up found under another corrected name (章胜路149号: 章盛路 by sound, or
        // 章胜南路 with its side dropped, both have a 149号): the caller said neither, so the
        // answer is not sure.
        let contested = anchor.correction.is_some()
            && judged[1..].iter().any(|j| {
                j.level == best.level
                    && j.pinned
                    && best.pinned
                    && best.score - j.score < CONTESTED_MARGIN
                    && hit_value(&j.hit, anchor) != Some(anchor.value.as_str())
            });
        let mut score = best.score * reading_factor;
        if !ties.is_empty() {
            score *= 0.5;
        } else if contested {
            score *= 0.9;
        }
        if p.reason.is_some() {
            score *= 0.95;
        }
        m.level = best.level;
        m.score = (score * 1000.0).round() / 1000.0;
        m.town = Some(best.hit.town.clone());
        m.town_code = Some(best.hit.town_code.clone());
        if best.pinned {
            m.id = Some(best.hit.id.clone());
            m.address = Some(best.hit.address.clone());
            m.community = Some(best.hit.community.clone());
            m.community_code = Some(best.hit.community_code.clone());
            m.building_id = best.hit.building_id.clone();
            m.lon = best.hit.lon;
            m.lat = best.hit.lat;
        } else {
            let group_matched = wanted.group.is_some() && wanted.group == best.hit.group;
            let district = self.district_name(&best.hit.town_code);
            m.address = Some(partial_text(
                &district,
                &best.hit,
                best.level,
                group_matched,
            ));
            if matches!(
                best.level,
                MatchLevel::Lane | MatchLevel::Poi | MatchLevel::Number | MatchLevel::Community
            ) {
                m.community = Some(best.hit.community.clone());
                m.community_code = Some(best.hit.community_code.clone());
                m.lon = best.hit.lon;
                m.lat = best.hit.lat;
            }
        }
        let mut seen = vec![best.hit.id.clone()];
        for j in judged.iter().skip(1) {
            if m.candidates.len() >= 5 {
                break;
            }
            if seen.contains(&j.hit.id) || !j.pinned {
                continue;
            }
            seen.push(j.hit.id.clone());
            let tie = ties.iter().any(|t| t.hit.id == j.hit.id);
            m.candidates.push(Candidate {
                id: j.hit.id.clone(),
                address: j.hit.address.clone(),
                level: j.level,
                score: ((if tie { score } else { j.score * 0.5 }) * 1000.0).round() / 1000.0,
                tie,
            });
        }
        m.corrections = corrections;
        Ok(m)
    }

    /// 嘉松府十九, 松瑞新村十七: a door said aloud right after a compound or village name, with
    /// no marker, was read as part of the name. When the name is not in the library but the
    /// name without its trailing numerals is, the numerals are the door.
    fn number_glued_to_name(&self, w: &mut Wanted) {
        if w.number.is_some() {
            return;
        }
        for (name, table) in [(&mut w.poi, &self.pois), (&mut w.road, &self.roads)] {
            let Some(n) = name.as_ref() else { continue };
            if table.contains(n) {
                continue;
            }
            let chars: Vec<char> = n.chars().collect();
            let keep = chars
                .iter()
                .rposition(|&c| !"零〇幺一二两三四五六七八九十百千".contains(c))
                .map_or(0, |i| i + 1);
            if keep < 2 || keep == chars.len() {
                continue;
            }
            let stem: String = chars[..keep].iter().collect();
            if let Some(v) = crate::text::numerals::to_digits(&chars[keep..])
                && (table.contains(&stem) || !table.same_sound(&stem).is_empty())
            {
                *name = Some(stem);
                w.number = Some(v);
                return;
            }
        }
    }

    /// The candidates for what is wanted, judged and best first.
    fn ranked(
        &self,
        searcher: &Searcher,
        anchors: &[Anchor],
        wanted: &Wanted,
        pinned_only: bool,
    ) -> Result<Vec<Judged>> {
        let hits = self.retrieve(searcher, anchors, wanted, pinned_only)?;
        let better = |a: &Judged, b: &Judged| {
            a.level
                .cmp(&b.level)
                .then(b.pinned.cmp(&a.pinned))
                .then(b.score.total_cmp(&a.score))
                .then(a.hit.id.cmp(&b.hit.id))
        };
        // A hit may carry several anchors' names (兴康路 and 明霞府, its compound on that road):
        // it is judged as the one that takes it deepest.
        let mut judged: Vec<Judged> = hits
            .into_iter()
            .filter_map(|hit| {
                let carried: Vec<&Anchor> = anchors
                    .iter()
                    .filter(|a| hit_value(&hit, a) == Some(a.value.as_str()))
                    .collect();
                match carried.as_slice() {
                    [] => Some(judge(hit, &anchors[0], wanted)),
                    [one] => Some(judge(hit, one, wanted)),
                    several => several
                        .iter()
                        .map(|a| judge(hit.clone(), a, wanted))
                        .min_by(better),
                }
            })
            .collect();
        judged.sort_by(better);
        Ok(judged)
    }

    /// Corrections the parser made to admin names (徐径镇 → 徐泾镇), from the alias table.
    fn admin_corrections(&self, p: &Parse) -> Vec<Correction> {
        p.components
            .iter()
            .filter(|c| matches!(c.level, Level::Town | Level::District))
            .filter_map(|c| {
                let (to, kind) = self.aliases.get(&c.text)?;
                if *kind == AliasKind::Variant || !to.contains(&c.value) {
                    return None;
                }
                Some(Correction {
                    from: c.text.clone(),
                    to: c.value.clone(),
                    why: match kind {
                        AliasKind::Typo => CorrectionKind::Typo,
                        AliasKind::OldName => CorrectionKind::OldName,
                        AliasKind::Variant => CorrectionKind::Variant,
                    },
                })
            })
            .collect()
    }

    /// An answer from the admin levels alone: community, town or district. Sure of itself only
    /// when the input asked for no more than that.
    fn admin_only(&self, m: &mut Match, w: &Wanted) {
        let asked_more = w.road.is_some()
            || w.poi.is_some()
            || w.lane.is_some()
            || w.number.is_some()
            || w.group.is_some()
            || w.building.is_some();
        let sure = if asked_more { 0.4 } else { 0.9 };
        if let Some(c) = &w.community
            && let Some(code) = self.codes.get(c)
        {
            m.level = MatchLevel::Community;
            m.community = Some(c.clone());
            m.community_code = Some(code.clone());
            m.address = Some(c.clone());
            m.score = sure;
            let town_code = format!("{}000", code.get(..9).unwrap_or(code));
            if let Some(town) = self.codes.iter().find(|(_, tc)| **tc == town_code) {
                m.town = Some(town.0.clone());
                m.town_code = Some(town.1.clone());
            }
            return;
        }
        if let Some(t) = &w.town
            && let Some(code) = self.codes.get(t)
        {
            m.level = MatchLevel::Town;
            m.town = Some(t.clone());
            m.town_code = Some(code.clone());
            m.address = Some(format!("{}{t}", self.district_name(code)));
            m.score = sure;
            return;
        }
        if let Some(d) = &w.district {
            m.level = MatchLevel::District;
            let covered = self.coverage.districts().iter().find(|c| &c.name == d);
            m.address = Some(covered.map_or_else(|| self.coverage.label(), |c| c.name.clone()));
            m.score = sure;
        }
    }
}
