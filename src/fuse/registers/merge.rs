//! From records to standard addresses: every record parsed, its door key taken (road + 弄 + 号 +
//! 幢, or village + 组 + 号), names repaired towards the standard names the registers hold, and
//! the records that name the same door merged into one address with the registers behind it.

use std::collections::{BTreeMap, HashMap, HashSet};

use rayon::prelude::*;

use super::read::RegisterRecord;
use crate::search::keys::sound;
use crate::{Level, Parser};

/// The levels of one record, as its parse gives them (values normalized by the parser).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reading {
    /// 街镇 (standard name).
    pub town: Option<String>,
    /// 居/村委 or village as written.
    pub community: Option<String>,
    /// Road.
    pub road: Option<String>,
    /// 弄.
    pub lane: Option<String>,
    /// 号.
    pub number: Option<String>,
    /// 组.
    pub group: Option<String>,
    /// Compound, unit or shop name.
    pub poi: Option<String>,
    /// 幢.
    pub building: Option<String>,
}

impl Reading {
    /// The levels of a parse.
    pub fn of(parser: &Parser, text: &str) -> Reading {
        let p = parser.parse(text);
        let get = |level: Level| {
            p.component(level)
                .map(|c| c.value.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        Reading {
            town: get(Level::Town),
            community: get(Level::Community),
            road: get(Level::Road),
            lane: get(Level::Lane),
            number: get(Level::Number),
            group: get(Level::Group),
            poi: get(Level::Poi),
            building: get(Level::Building),
        }
    }

    /// The levels of a record: each split column read at its own level (a 居委会 column is never
    /// taken for a road however its name ends), the levels it leaves empty from the free text.
    pub fn of_record(parser: &Parser, record: &RegisterRecord) -> Reading {
        if record.parts.is_empty() {
            return if record.text.is_empty() {
                Reading::default()
            } else {
                Reading::of(parser, &record.text)
            };
        }
        let mut r = Reading::default();
        for (level, value) in &record.parts {
            let v = value.trim();
            let at = |want: Level, marker: &str| -> Option<String> {
                if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
                    return Some(v.trim_start_matches('0').to_string()).filter(|n| !n.is_empty());
                }
                let bare = v.chars().last().is_some_and(|c| {
                    c.is_ascii_digit()
                        || crate::text::numerals::is_numeral(c)
                        || c.is_ascii_alphabetic()
                });
                let written = if bare {
                    format!("{v}{marker}")
                } else {
                    v.to_string()
                };
                parser
                    .parse(&written)
                    .component(want)
                    .map(|c| c.value.clone())
                    .or_else(|| Some(v.to_string()))
                    .filter(|s| !s.is_empty())
            };
            match *level {
                "town" => r.town = at(Level::Town, ""),
                "community" => {
                    r.community = Some(crate::address::community_address_name(v).to_string())
                }
                "road" => r.road = at(Level::Road, ""),
                "lane" => r.lane = at(Level::Lane, "弄"),
                "group" => r.group = at(Level::Group, "组"),
                "number" => r.number = at(Level::Number, "号"),
                "poi" => r.poi = Some(v.to_string()),
                "building" => r.building = at(Level::Building, "幢"),
                _ => {}
            }
        }
        // The free text fills what the split columns leave empty (read only when they do).
        if r.door().is_some() && r.town.is_some() || record.text.is_empty() {
            return r;
        }
        let text = Reading::of(parser, &record.text);
        let fill = |mine: &mut Option<String>, theirs: Option<String>| {
            if mine.is_none() {
                *mine = theirs;
            }
        };
        fill(&mut r.town, text.town);
        fill(&mut r.community, text.community);
        fill(&mut r.road, text.road);
        fill(&mut r.lane, text.lane);
        fill(&mut r.group, text.group);
        fill(&mut r.number, text.number);
        fill(&mut r.poi, text.poi);
        fill(&mut r.building, text.building);
        r
    }

    /// The village this reading names, when it is a village address (a 村 and no road).
    pub fn village(&self) -> Option<&str> {
        match (&self.road, &self.community) {
            (None, Some(c)) if c.ends_with('村') => Some(c.as_str()),
            _ => None,
        }
    }

    /// The door this reading names, if it names one: road (or village) and 号.
    ///
    /// In a 弄, `N号楼` with no 号 before it is the door plate itself (`408弄25号楼` is
    /// `408弄25号`): the building number is taken as the number.
    pub fn door(&self) -> Option<DoorKey> {
        let mut building = self.building.clone().unwrap_or_default();
        let number = match (&self.number, &self.lane) {
            (Some(n), _) => n.clone(),
            (None, Some(_)) if !building.is_empty() => std::mem::take(&mut building),
            _ => return None,
        };
        let (place, village) = match (&self.road, self.village()) {
            (Some(r), _) => (r.clone(), false),
            (None, Some(v)) => (v.to_string(), true),
            _ => return None,
        };
        Some(DoorKey {
            place,
            village,
            lane: self.lane.clone().unwrap_or_default(),
            group: if village {
                self.group.clone().unwrap_or_default()
            } else {
                String::new()
            },
            number,
            building,
        })
    }
}

/// What makes a standard address one: the place (road or village) and the numbers under it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DoorKey {
    /// The road or village name.
    pub place: String,
    /// Whether `place` is a village.
    pub village: bool,
    /// 弄 (roads).
    pub lane: String,
    /// 组 (villages).
    pub group: String,
    /// 号.
    pub number: String,
    /// 幢.
    pub building: String,
}

impl DoorKey {
    /// The address below the 街镇 (`华腾路1288弄3号`, `太平村1组12号`, `白虬江路299号1幢`).
    pub fn text(&self) -> String {
        let mut s = self.place.clone();
        let mut push = |v: &str, marker: &str| {
            if !v.is_empty() {
                s.push_str(v);
                s.push_str(marker);
            }
        };
        push(&self.lane, "弄");
        push(&self.group, "组");
        push(&self.number, "号");
        push(&self.building, "幢");
        s
    }
}

/// Records merged: each door with the records that name it, and the records that name none.
pub struct Merged {
    /// Door → the records (indexes into the record list) that name it, in key order.
    pub doors: BTreeMap<DoorKey, Vec<u32>>,
    /// Each record's reading.
    pub readings: Vec<Reading>,
    /// Records that name no door (no 号, or no road or village), by index.
    pub unkeyed: Vec<u32>,
    /// Names repaired: record index → (as written, standard).
    pub repaired: HashMap<u32, (String, String)>,
}

/// The standard names the registers hold: from place-name registers and road lines.
#[derive(Default)]
pub struct StandardNames {
    names: HashSet<String>,
}

impl StandardNames {
    /// From the names of place-name registers and road layers.
    pub fn new(names: impl IntoIterator<Item = String>) -> StandardNames {
        StandardNames {
            names: names.into_iter().collect(),
        }
    }

    /// Whether any standard name is known.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    fn contains(&self, name: &str) -> bool {
        self.names.contains(name)
    }
}

/// Parses every record (on every core) and merges the records that name the same door, after
/// repairing names: a place name that is not a standard name but sounds like one (华藤路 for
/// 华腾路), or differs from one in one character, is read as that name when that name has the
/// door too (else as the sound-alike with the most doors); with no standard names at all, a
/// rarely written name is read as a sound-alike written four times as often that has the door.
pub fn merge(parser: &Parser, records: &[RegisterRecord], standard: &StandardNames) -> Merged {
    let readings: Vec<Reading> = records
        .par_iter()
        .map(|r| Reading::of_record(parser, r))
        .collect();
    let keys: Vec<Option<DoorKey>> = readings.iter().map(Reading::door).collect();
    // How often each place name is written, and the doors each one has as written.
    let mut written: HashMap<&str, usize> = HashMap::new();
    let mut doors: HashSet<&DoorKey> = HashSet::new();
    for k in keys.iter().flatten() {
        *written.entry(k.place.as_str()).or_default() += 1;
        doors.insert(k);
    }
    // Names that sound alike, grouped (by sound and length).
    let mut by_sound: HashMap<(usize, String), Vec<&str>> = HashMap::new();
    for &name in written.keys() {
        by_sound
            .entry((name.chars().count(), sound(name)))
            .or_default()
            .push(name);
    }
    let standard_names: Vec<&str> = written
        .keys()
        .copied()
        .filter(|n| standard.contains(n))
        .collect();
    let is_standard = |name: &str| {
        if standard.is_empty() {
            true
        } else {
            standard.contains(name)
        }
    };
    // For each name that may be a misspelling: the names it may stand for, most doors first.
    let mut alternatives: HashMap<&str, Vec<&str>> = HashMap::new();
    for (&name, &count) in &written {
        let mut alts: Vec<&str> = by_sound[&(name.chars().count(), sound(name))]
            .iter()
            .copied()
            .filter(|&other| other != name && is_standard(other))
            .filter(|&other| !standard.is_empty() || written[other] >= 2 * count)
            .collect();
        if standard.is_empty() && is_standard(name) && alts.is_empty() {
            continue;
        }
        if !standard.is_empty() && standard.contains(name) {
            continue;
        }
        if alts.is_empty() && !standard.is_empty() {
            alts = standard_names
                .iter()
                .copied()
                .filter(|&other| one_character_apart(name, other))
                .collect();
        }
        if alts.is_empty() {
            continue;
        }
        alts.sort_by(|a, b| written[b].cmp(&written[a]).then(a.cmp(b)));
        alternatives.insert(name, alts);
    }
    let mut repaired = HashMap::new();
    let mut merged: BTreeMap<DoorKey, Vec<u32>> = BTreeMap::new();
    let mut unkeyed = Vec::new();
    let mut moves: Vec<(u32, DoorKey)> = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let Some(key) = key else {
            unkeyed.push(i as u32);
            continue;
        };
        let Some(alts) = alternatives.get(key.place.as_str()) else {
            moves.push((i as u32, key.clone()));
            continue;
        };
        let with_door = alts.iter().find(|&&alt| {
            let mut k = key.clone();
            k.place = alt.to_string();
            doors.contains(&k)
        });
        // With standard names, the most written sound-alike is taken even without the door;
        // without them, only a name that has the door.
        let chosen = with_door.or(if standard.is_empty() {
            None
        } else {
            alts.first()
        });
        let mut k = key.clone();
        if let Some(alt) = chosen {
            repaired.insert(i as u32, (key.place.clone(), alt.to_string()));
            k.place = alt.to_string();
        }
        moves.push((i as u32, k));
    }
    for (i, k) in moves {
        merged.entry(k).or_default().push(i);
    }
    Merged {
        doors: merged,
        readings,
        unkeyed,
        repaired,
    }
}

/// Two names of the same length that differ in exactly one character (not the last: a suffix
/// change makes another place, 华腾路 and 华腾街).
fn one_character_apart(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    a.len() == b.len()
        && a.len() >= 3
        && a.last() == b.last()
        && a.iter().zip(&b).filter(|(x, y)| x != y).count() == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(i: u16, text: &str) -> RegisterRecord {
        RegisterRecord {
            register: i,
            key: text.to_string(),
            line: 2,
            text: text.to_string(),
            point: None,
            parts: Vec::new(),
        }
    }

    #[test]
    fn a_door_written_three_ways_is_one_address() {
        let dicts = crate::Dictionaries::embedded().unwrap();
        let parser = Parser::new(&dicts);
        let records = [
            record(0, "华新镇华腾路1288弄3号"),
            record(1, "上海市青浦区华新镇华藤路一二八八弄三号"),
            record(2, "华腾路1288弄3号"),
            record(0, "华腾路1288弄5号"),
            record(0, "太平村1组12号"),
            record(2, "白鹤镇太平村一组十二号"),
            record(2, "长锦苑"),
            record(2, "华腾路1288弄5号楼"),
        ];
        let standard = StandardNames::new(["华腾路".to_string(), "太平村".to_string()]);
        let m = merge(&parser, &records, &standard);
        let texts: Vec<String> = m.doors.keys().map(DoorKey::text).collect();
        assert_eq!(
            texts,
            ["华腾路1288弄3号", "华腾路1288弄5号", "太平村1组12号"]
        );
        assert_eq!(m.doors.values().next().unwrap(), &[0, 1, 2]);
        assert_eq!(m.doors.values().nth(1).unwrap(), &[3, 7]);
        assert_eq!(m.unkeyed, [6]);
        assert_eq!(m.repaired[&1], ("华藤路".to_string(), "华腾路".to_string()));
        // Without standard names the name written more often wins when it has the door.
        let m = merge(&parser, &records, &StandardNames::default());
        let texts: Vec<String> = m.doors.keys().map(DoorKey::text).collect();
        assert_eq!(
            texts,
            ["华腾路1288弄3号", "华腾路1288弄5号", "太平村1组12号"]
        );
    }

    #[test]
    fn one_character_apart_keeps_the_suffix() {
        assert!(one_character_apart("华腾路", "华藤路"));
        assert!(!one_character_apart("华腾路", "华腾街"));
        assert!(!one_character_apart("华路", "腾路"));
    }
}
