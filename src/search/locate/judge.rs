//! The rerank: how deep a retrieved standard address matches what the input asked for, never
//! promoting a level the input does not state, and the text of a partial answer.

use super::{Anchor, Hit, Judged, PARTIAL_DOOR_ASKED, Wanted};
use crate::address::community_address_name;
use crate::dictionaries::ROAD_SIDES;
use crate::search::MatchLevel;
use crate::search::keys::{road_stem, sound};

/// 华徐路 may be 华徐公路, but 城中北路 is not 城中南路: a homophone or typo match must keep the
/// direction word — by its sound, so 福乐冬路 is still 福乐东路.
pub(super) fn suffix_compatible(asked: &str, found: &str) -> bool {
    let last = |s: &str| road_stem(s).chars().last();
    let is_dir = |c: Option<char>| c.is_some_and(|c| ROAD_SIDES.contains(&c));
    let (a, f) = (last(asked), last(found));
    if !is_dir(a) && !is_dir(f) {
        return true;
    }
    let sound_of = |c: Option<char>| c.map(|c| sound(&c.to_string()));
    sound_of(a) == sound_of(f)
}

/// The value of the anchor's field on a hit.
pub(super) fn hit_value<'a>(hit: &'a Hit, anchor: &Anchor) -> Option<&'a str> {
    match anchor.level {
        MatchLevel::Road => hit.road.as_deref(),
        MatchLevel::Poi => hit.poi.as_deref(),
        _ => None,
    }
    .or(match anchor.level {
        MatchLevel::Community => Some(community_address_name(&hit.community)),
        _ => None,
    })
}

/// How deep a hit matches what was wanted, never promoting a level the input does not state.
pub(super) fn judge(hit: Hit, anchor: &Anchor, w: &Wanted) -> Judged {
    let same = |a: &Option<String>, b: &Option<String>| a == b;
    let lane_ok = w.lane.is_some() && same(&w.lane, &hit.lane);
    // A compound's name stands for its road and lane.
    let lane_implied = anchor.level == MatchLevel::Poi && w.lane.is_none();
    // A door number only counts when the path to it agrees: 华腾路3号 is not 华腾路1288弄3号.
    let path_ok = (lane_implied || same(&w.lane, &hit.lane))
        && (w.group.is_none() || same(&w.group, &hit.group));
    let number_ok = w.number.is_some() && path_ok && same(&w.number, &hit.number);
    let building_ok = number_ok && w.building.is_some() && same(&w.building, &hit.building);
    // A door was asked for and is not there: sure of the place, not that the caller meant it
    // (a door misheard, or one the library lacks).
    let partial = if w.number.is_some() || w.building.is_some() {
        PARTIAL_DOOR_ASKED
    } else {
        0.95
    };
    let (level, pinned, base) = if building_ok {
        (MatchLevel::Building, true, 0.99)
    } else if number_ok && w.building.is_none() {
        // Pinned when the hit has nothing below the number (no 幢 to choose between).
        (
            MatchLevel::Number,
            hit.building.is_none(),
            if hit.building.is_none() { 0.99 } else { 0.92 },
        )
    } else if number_ok && hit.building.is_none() && w.lane.is_none() {
        // The library has no 幢 under this door (125号2号楼): the door is the address, the
        // building said is a detail beyond it.
        (MatchLevel::Number, true, 0.93)
    } else if number_ok {
        // The 幢 asked for does not exist: the door number is as deep as it goes.
        (MatchLevel::Number, false, 0.9)
    } else if lane_ok {
        (MatchLevel::Lane, false, partial)
    } else if w.group.is_some() && same(&w.group, &hit.group) {
        (MatchLevel::Community, false, partial)
    } else {
        (anchor.level, false, partial)
    };
    // The input names another town or district than the place's: sources disagree, or the
    // caller is wrong — or, in a library of several districts, it is another place of the same
    // name (a compound or road name is not unique across a city).
    let town_factor = match &w.town {
        Some(t) if *t != hit.town => 0.75,
        _ => 1.0,
    };
    // Road and compound both said with no 弄 (兰福街翠湖景苑12号): the hit that has only one
    // of them (兰福街12号, a shop) is less sure than the compound's door on that road.
    let other_name = |said: &Option<String>, held: &Option<String>| {
        said.is_some() && held.is_some() && said != held
    };
    let pair_factor = if w.lane.is_none()
        && w.road.is_some()
        && w.poi.is_some()
        && (other_name(&w.poi, &hit.poi) || hit.poi.is_none() || other_name(&w.road, &hit.road))
    {
        0.9
    } else {
        1.0
    };
    let district_factor = match &w.district_code {
        Some(d) if !hit.town_code.starts_with(d.as_str()) => 0.75,
        _ => 1.0,
    };
    Judged {
        hit,
        level,
        pinned,
        score: base * anchor.factor * town_factor * district_factor * pair_factor,
    }
}

/// The standard text of a partial match: the hit's address cut after the matched level.
pub(super) fn partial_text(
    district: &str,
    hit: &Hit,
    level: MatchLevel,
    group_matched: bool,
) -> String {
    let head = format!("{district}{}", hit.town);
    match level {
        MatchLevel::Lane => format!(
            "{head}{}{}弄",
            hit.road.clone().unwrap_or_default(),
            hit.lane.clone().unwrap_or_default()
        ),
        MatchLevel::Number => {
            let mut s = format!("{head}{}", hit.road.clone().unwrap_or_default());
            if let Some(l) = &hit.lane {
                s.push_str(&format!("{l}弄"));
            }
            s.push_str(&format!("{}号", hit.number.clone().unwrap_or_default()));
            s
        }
        MatchLevel::Road => format!("{head}{}", hit.road.clone().unwrap_or_default()),
        MatchLevel::Poi => format!("{head}{}", hit.poi.clone().unwrap_or_default()),
        MatchLevel::Community => {
            let mut s = format!("{head}{}", community_address_name(&hit.community));
            if let Some(g) = hit.group.as_ref().filter(|_| group_matched) {
                s.push_str(&format!("{g}组"));
            }
            s
        }
        _ => head,
    }
}
