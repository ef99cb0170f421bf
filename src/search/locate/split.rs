//! A door number run into what follows it, 号 dropped (202弄28403 for 28号403室, 27弄172单元
//! for 17号2单元): the digits can be cut in several places, and only the library knows which
//! door exists under that road, lane or compound. Every cut is tried against the index; the cut
//! that names an existing address wins, and when several do the answer is marked unsure.

use tantivy::Searcher;

use super::{Anchor, Judged, Matcher, Wanted};
use crate::Level;
use crate::address::Parse;
use crate::search::{Correction, CorrectionKind, Result};

/// A reading of the input with the door number cut out of a longer run of digits.
pub(super) struct Reading {
    pub wanted: Wanted,
    pub judged: Vec<Judged>,
    /// How much choosing this reading lowers the score.
    pub factor: f64,
    pub correction: Correction,
}

/// The longest run of digits worth cutting (a door of up to 4 digits and a room of up to 4).
const MAX_RUN: usize = 8;

/// The least plausibility of a cut that is taken (a room of 3 or 4 digits, a unit of 1).
const ACCEPTED: f64 = 0.9;

/// The factor when another ordinary cut exists too, if less usual (21601: 21号601室 or
/// 2号1601室).
const RIVALLED: f64 = 0.85;

/// The factor when two cuts exist and look alike: the input does not say which.
const AMBIGUOUS: f64 = 0.6;

impl Matcher {
    /// The cut of a run of digits into door + room or unit that names an address of the
    /// library, when the input read as written names none.
    pub(super) fn split_reading(
        &self,
        searcher: &Searcher,
        p: &Parse,
        anchors: &[Anchor],
        w: &Wanted,
    ) -> Result<Option<Reading>> {
        let Some((level, run, text)) = digit_run(p, w) else {
            return Ok(None);
        };
        let inner_level = if level == Level::Number {
            Level::Room
        } else {
            level
        };
        let mut best_said: f64 = 0.0;
        // (how plausible the cut looks, the reading, its candidates, door, inner)
        let mut found: Vec<(f64, Wanted, Vec<Judged>, String, String)> = Vec::new();
        for k in 1..run.len() {
            let (door, inner) = run.split_at(k);
            if inner.starts_with('0') {
                continue;
            }
            let plausible = plausibility(inner_level, inner);
            best_said = best_said.max(plausible);
            // A cut less ordinary than ACCEPTED is never taken, and only a taken-looking rival
            // lowers the score: the library need not be asked about it.
            if plausible < ACCEPTED {
                continue;
            }
            let mut cut = w.clone();
            cut.number = Some(door.to_string());
            cut.detail = Some(detail_with(p, level, inner_level, inner));
            let judged = self.ranked(searcher, anchors, &cut, true)?;
            if names_an_address(&judged) {
                found.push((plausible, cut, judged, door.to_string(), inner.to_string()));
            }
        }
        found.sort_by(|a, b| b.0.total_cmp(&a.0));
        // Only an ordinary cut is taken. Another cut that exists and looks as ordinary: the input
        // does not say which. A more ordinary cut whose door does not exist: less sure.
        let rival = found.get(1).map(|f| f.0);
        let Some((plausible, wanted, judged, door, inner)) = found.into_iter().next() else {
            return Ok(None);
        };
        if plausible < ACCEPTED {
            return Ok(None);
        }
        let factor = match rival {
            Some(r) if (plausible - r).abs() < 1e-9 => AMBIGUOUS,
            Some(r) if r >= ACCEPTED => RIVALLED,
            _ if plausible < best_said => 0.92,
            _ => 0.97,
        };
        let marker = match inner_level {
            Level::Unit => "单元",
            _ => "室",
        };
        Ok(Some(Reading {
            wanted,
            judged,
            factor,
            correction: Correction {
                from: text,
                to: format!("{door}号{inner}{marker}"),
                why: CorrectionKind::Variant,
            },
        }))
    }
}

/// The widest door range read as its first door (香兰路424-426号: a shop over two doors).
const MAX_RANGE: u32 = 10;

impl Matcher {
    /// 香兰路424-426号: a dashed door whose second number is the next doors on the same side
    /// (larger, same parity, at most `MAX_RANGE` on) is a range of doors, read as its first door
    /// when the library holds that door and not the door as written. When the dash could also
    /// stand for 弄 (12-14号: lane 12, door 14, also held), the answer is marked unsure.
    pub(super) fn door_range_reading(
        &self,
        searcher: &Searcher,
        p: &Parse,
        anchors: &[Anchor],
        w: &Wanted,
    ) -> Result<Option<Reading>> {
        let Some((first, last)) = w.number.as_deref().and_then(|n| n.split_once('-')) else {
            return Ok(None);
        };
        let (Ok(a), Ok(b)) = (first.parse::<u32>(), last.parse::<u32>()) else {
            return Ok(None);
        };
        if b <= a || b - a > MAX_RANGE || (b - a) % 2 != 0 {
            return Ok(None);
        }
        // In a village with no road and no 组 said, the dash stands for 组 (胜利村3-9号).
        if w.road.is_none() && w.community.is_some() && w.group.is_none() {
            return Ok(None);
        }
        let mut cut = w.clone();
        cut.number = Some(first.to_string());
        let judged = self.ranked(searcher, anchors, &cut, true)?;
        if !names_an_address(&judged) {
            return Ok(None);
        }
        let as_lane = self.dash_lane_reading(searcher, p, anchors, w)?.is_some();
        Ok(Some(Reading {
            correction: Correction {
                from: format!("{first}-{last}号"),
                to: format!("{first}号"),
                why: CorrectionKind::Variant,
            },
            wanted: cut,
            judged,
            factor: if as_lane { RIVALLED } else { 0.95 },
        }))
    }

    /// 秀泽路79-15号 for 秀泽路79弄15号: on a road with no 弄 said, a dashed door `a-b` is read as
    /// lane `a`, door `b` when the library holds that door and not the door as written; in a
    /// village with no road and no 组 said, as group `a`, door `b`.
    pub(super) fn dash_lane_reading(
        &self,
        searcher: &Searcher,
        p: &Parse,
        anchors: &[Anchor],
        w: &Wanted,
    ) -> Result<Option<Reading>> {
        // On a road the dash stands for 弄; in a village with no road, for 组 (江南村17-1号).
        let on_road = w.road.is_some() && w.lane.is_none();
        let in_village = w.road.is_none() && w.community.is_some() && w.group.is_none();
        if !on_road && !in_village {
            return Ok(None);
        }
        let Some(dash) = dashed_pair(p, w) else {
            return Ok(None);
        };
        let (lane, door) = (dash.first.as_str(), dash.second.as_str());
        let mut cut = w.clone();
        if on_road {
            cut.lane = Some(lane.to_string());
        } else {
            cut.group = Some(lane.to_string());
        }
        cut.number = Some(door.to_string());
        if dash.as_room {
            cut.detail = None;
            cut.building = None;
        }
        let judged = self.ranked(searcher, anchors, &cut, true)?;
        if !names_an_address(&judged) {
            return Ok(None);
        }
        Ok(Some(Reading {
            correction: Correction {
                from: format!("{lane}-{door}"),
                to: format!("{lane}{}{door}号", if on_road { "弄" } else { "组" }),
                why: CorrectionKind::Variant,
            },
            wanted: cut,
            judged,
            factor: 0.95,
        }))
    }

    /// 白鹤青龙16-260 for 青龙村16组260号: with no village or group said, a name said before a
    /// dashed pair of numbers that is no compound or road of the library but, with 村, one of
    /// its villages is read as that village's group and door — when the library holds that door.
    /// Callers drop 村 (杨元12组19号), and in a village the dash stands for 组 (江南村17-1号);
    /// read as written, the name would be a compound's stem and the pair its 幢 and room.
    /// Returns the village's anchors with the reading.
    pub(super) fn bare_village_dash_reading(
        &self,
        searcher: &Searcher,
        p: &Parse,
        w: &Wanted,
    ) -> Result<Option<(Vec<Anchor>, Reading)>> {
        if w.community.is_some() || w.group.is_some() || w.lane.is_some() {
            return Ok(None);
        }
        // The name as a compound's (青龙), or as a road the library does not have (张巷: 巷 read
        // as a lane's suffix).
        let name = match (w.road.as_deref(), w.poi.as_deref()) {
            (None, Some(poi)) => poi,
            (Some(road), None) if !self.roads.contains(road) => road,
            // 金泽18-28: a village named after its town (金泽村 in 金泽镇), said by the stem alone.
            (None, None) => match town_said_by_stem(p) {
                Some(stem) => stem,
                None => return Ok(None),
            },
            _ => return Ok(None),
        };
        // The pair first: it is read from the parse, the names need the tables and a String.
        let Some(dash) = dashed_pair(p, w) else {
            return Ok(None);
        };
        if name.ends_with('村')
            || self.pois.contains(name)
            || !self.villages.contains(&format!("{name}村"))
        {
            return Ok(None);
        }
        let mut cut = w.clone();
        cut.poi = None;
        cut.road = None;
        cut.later_roads.clear();
        cut.community = Some(name.to_string());
        cut.group = Some(dash.first.clone());
        cut.number = Some(dash.second.clone());
        cut.building = None;
        if dash.as_room {
            cut.detail = None;
        }
        let anchors = self.anchors(&cut);
        if anchors.is_empty() {
            return Ok(None);
        }
        let judged = self.ranked(searcher, &anchors, &cut, true)?;
        if !names_an_address(&judged) {
            return Ok(None);
        }
        let correction = Correction {
            from: format!("{}-{}", dash.first, dash.second),
            to: format!("{}组{}号", dash.first, dash.second),
            why: CorrectionKind::Variant,
        };
        Ok(Some((
            anchors,
            Reading {
                correction,
                wanted: cut,
                judged,
                factor: 0.95,
            },
        )))
    }

    /// 中诸路117号3号 (or 淀山湖大道468号弄2号, 中诸路117号3号楼) for 中诸路117弄3号: on a road
    /// with no 弄 said, a door said twice — the second with a bare 号 or as a building, right
    /// after the first — is read as lane and door when the library holds that door and not the
    /// door as written (with its building).
    pub(super) fn door_twice_reading(
        &self,
        searcher: &Searcher,
        p: &Parse,
        anchors: &[Anchor],
        w: &Wanted,
    ) -> Result<Option<Reading>> {
        if w.road.is_none() || w.lane.is_some() {
            return Ok(None);
        }
        let Some(i) = p.components.iter().position(|c| c.level == Level::Number) else {
            return Ok(None);
        };
        let mut next = p.components[i + 1..].iter().peekable();
        // A 弄 said after the first 号 stands alone (the parser keeps it as a name).
        let stray_lane = next.next_if(|c| c.level == Level::Poi && c.value == "弄");
        let Some(second) = next.next() else {
            return Ok(None);
        };
        let first = &p.components[i];
        // The second said as a door (3号) or as a building (3号楼, 3栋, 3幢): in a lane, callers
        // call the lane's doors buildings.
        let said_twice = second.level == Level::Building
            && second.start == stray_lane.map_or(first.end, |l| l.end);
        if !said_twice || !door_digits(&first.value) || !door_digits(&second.value) {
            return Ok(None);
        }
        let mut cut = w.clone();
        cut.lane = Some(first.value.clone());
        cut.number = Some(second.value.clone());
        cut.building = None;
        if stray_lane.is_some() && cut.poi.as_deref() == Some("弄") {
            cut.poi = None;
        }
        let judged = self.ranked(searcher, anchors, &cut, true)?;
        if !names_an_address(&judged) {
            return Ok(None);
        }
        let from: String = p
            .input
            .chars()
            .skip(first.start)
            .take(second.end - first.start)
            .collect();
        Ok(Some(Reading {
            correction: Correction {
                from,
                to: format!("{}弄{}号", first.value, second.value),
                why: CorrectionKind::Variant,
            },
            wanted: cut,
            judged,
            factor: 0.95,
        }))
    }
}

/// Two numbers joined by a dash (79-15): as one door as parsed (`79-15号`), or as a door and a
/// room (`79-15`, `as_room`).
struct DashedPair {
    first: String,
    second: String,
    as_room: bool,
}

/// The dashed pair of numbers the input says, both one to five digits.
fn dashed_pair(p: &Parse, w: &Wanted) -> Option<DashedPair> {
    let written = w.number.as_deref().and_then(|n| n.split_once('-'));
    let (first, second, as_room) = match written {
        Some((a, b)) => (a.to_string(), b.to_string(), false),
        None => p.components.windows(2).find_map(|pair| {
            let [n, r] = pair else { return None };
            (matches!(n.level, Level::Number | Level::Building)
                && r.level == Level::Room
                && r.start == n.end + 1
                && p.input.chars().nth(n.end) == Some('-'))
            .then(|| (n.value.clone(), r.value.clone(), true))
        })?,
    };
    (door_digits(&first) && door_digits(&second)).then_some(DashedPair {
        first,
        second,
        as_room,
    })
}

/// The stem a town is said by (金泽 for 金泽镇), when the last town of the parse is said so.
fn town_said_by_stem(p: &Parse) -> Option<&str> {
    let town = p.components.iter().rev().find(|c| c.level == Level::Town)?;
    town.said_by_stem().then_some(town.text.as_str())
}

/// Whether `s` can be a lane or door number as written: one to five digits.
fn door_digits(s: &str) -> bool {
    !s.is_empty() && s.len() <= 5 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Whether the best candidate of a reading is pinned to an address of the library.
fn names_an_address(judged: &[Judged]) -> bool {
    judged
        .first()
        .is_some_and(|j| j.pinned && j.level.is_address())
}

/// The run of digits that may hide a door number: the first number, unit or room right after
/// the road, lane, group or compound, written without 号, when the input names no door that
/// way (a 号 said is never second-guessed). Returns its level, its digits and its text.
fn digit_run(p: &Parse, w: &Wanted) -> Option<(Level, String, String)> {
    let i = p
        .components
        .iter()
        .position(|c| matches!(c.level, Level::Number | Level::Unit | Level::Room))?;
    let prev = p.components.get(i.checked_sub(1)?)?;
    if !matches!(
        prev.level,
        Level::Road | Level::Subroad | Level::Lane | Level::Group | Level::Poi | Level::Community
    ) {
        return None;
    }
    let c = &p.components[i];
    let digits = c.value.len() >= 2
        && c.value.len() <= MAX_RUN
        && c.value.bytes().all(|b| b.is_ascii_digit());
    let door_said = c.text.contains('号');
    let number_elsewhere = c.level != Level::Number && w.number.is_some();
    (digits && !door_said && !number_elsewhere).then(|| (c.level, c.value.clone(), c.text.clone()))
}

/// The detail (单元/层/室) of the input with the run's part replaced by what follows the door.
fn detail_with(p: &Parse, run_level: Level, inner_level: Level, inner: &str) -> String {
    let mut parts: Vec<(Level, String)> = p
        .components
        .iter()
        .filter(|c| matches!(c.level, Level::Unit | Level::Floor | Level::Room))
        .filter(|c| c.level != run_level && c.level != inner_level)
        .map(|c| (c.level, c.value.clone()))
        .collect();
    parts.push((inner_level, inner.to_string()));
    parts.sort_by_key(|(l, _)| *l);
    parts
        .into_iter()
        .map(|(l, v)| {
            let marker = match l {
                Level::Unit => "单元",
                Level::Floor => "层",
                _ => "室",
            };
            format!("{v}{marker}")
        })
        .collect()
}

/// How ordinary what follows the door looks: a room is its floor and a door on it, three digits
/// (403) more usual than four (1404), never the 84th floor (8403); a unit is one digit.
fn plausibility(level: Level, inner: &str) -> f64 {
    if level == Level::Unit {
        return match inner.len() {
            1 => 1.0,
            _ => 0.6,
        };
    }
    if inner.len() < 3 {
        return 0.3;
    }
    let (floor, door) = inner.split_at(inner.len() - 2);
    let floor: u32 = floor.parse().unwrap_or(u32::MAX);
    let door: u32 = door.parse().unwrap_or(u32::MAX);
    match (inner.len(), floor, door) {
        (3, 1..=9, 1..=12) => 1.0,
        (4, 10..=33, 1..=12) => 0.9,
        (3 | 4, 1..=60, 1..=30) => 0.6,
        _ => 0.3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rooms_are_a_floor_and_a_door() {
        assert!(plausibility(Level::Room, "403") > plausibility(Level::Room, "8403"));
        assert!(plausibility(Level::Room, "1404") > plausibility(Level::Room, "04"));
        assert!(plausibility(Level::Unit, "2") > plausibility(Level::Unit, "72"));
    }
}
