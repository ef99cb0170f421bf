//! Keys that let a name be found when it is not written exactly: the stem without its road
//! suffix (公路 said as 路), the sound (toneless pinyin, for homophones), and character bigrams
//! (for typos).

use pinyin::ToPinyin;

pub use crate::dictionaries::road_stem;

/// The sound of a name: the toneless pinyin of each character, folded the way a Shanghai ear and
/// a pinyin keyboard confuse it (zh/z, ch/c, sh/s, n/l; -ng/-n), characters without pinyin kept.
///
/// # Examples
/// ```
/// use dizhi::search::keys::sound;
/// assert_eq!(sound("华腾"), sound("华藤"));
/// assert_eq!(sound("联民"), sound("联明")); // min / ming
/// assert_eq!(sound("崇"), sound("从")); // chong / cong
/// assert_ne!(sound("华腾"), sound("华新"));
/// ```
pub fn sound(name: &str) -> String {
    let mut out = String::with_capacity(name.len() * 2);
    for (c, p) in name.chars().zip(name.to_pinyin()) {
        if !out.is_empty() {
            out.push(' ');
        }
        match p {
            Some(p) => crate::text::sound::fold_syllable(p.plain(), &mut out),
            None => out.push(c),
        }
    }
    out
}

/// The character bigrams of a name (a single character is its own gram).
///
/// # Examples
/// ```
/// use dizhi::search::keys::bigrams;
/// assert_eq!(bigrams("华腾路"), ["华腾", "腾路"]);
/// assert_eq!(bigrams("杜"), ["杜"]);
/// ```
pub fn bigrams(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    if chars.len() < 2 {
        return chars.iter().map(|c| c.to_string()).collect();
    }
    chars.windows(2).map(|w| w.iter().collect()).collect()
}

/// What a door key hangs on: the road, the compound or the village an address is found under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    Road,
    Poi,
    Village,
}

impl Place {
    fn tag(self) -> char {
        match self {
            Place::Road => 'R',
            Place::Poi => 'P',
            Place::Village => 'V',
        }
    }
}

const SEP: char = '\u{1}';
/// A level the asker did not say: any value of the address matches it.
const ANY: &str = "\u{2}";

/// The key of a door as asked: the place, the lane (exact; any under a compound when none is
/// said), the group (any when none is said) and the number. One term, so finding a door costs
/// one short posting list however large the library is, not the intersection of the long lists
/// of 号 3 and 弄 1 with the road's.
pub(crate) fn door_key(
    place: Place,
    name: &str,
    lane: Option<&str>,
    group: Option<&str>,
    number: &str,
) -> String {
    let lane = match (place, lane) {
        (_, Some(l)) => l,
        (Place::Poi, None) => ANY,
        (_, None) => "",
    };
    let group = group.unwrap_or(ANY);
    format!("D{}{name}{SEP}{lane}{SEP}{group}{SEP}{number}", place.tag())
}

/// The key of a building (幢) under a door key.
pub(crate) fn building_key(door_key: &str, building: &str) -> String {
    format!("{door_key}{SEP}B{building}")
}

/// The key of a lane (弄) under a road or compound.
pub(crate) fn lane_key(place: Place, name: &str, lane: &str) -> String {
    format!("L{}{name}{SEP}{lane}", place.tag())
}

/// The key of a group (组) under a village, road or compound.
pub(crate) fn group_key(place: Place, name: &str, group: &str) -> String {
    format!("G{}{name}{SEP}{group}", place.tag())
}

/// The levels of one standard address that door keys are made of.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct DoorParts<'a> {
    pub road: Option<&'a str>,
    pub poi: Option<&'a str>,
    pub village: Option<&'a str>,
    pub lane: Option<&'a str>,
    pub group: Option<&'a str>,
    pub number: Option<&'a str>,
    pub building: Option<&'a str>,
}

/// Every key an address is found under ([`door_key`] for each way it can be asked — lane and
/// group said or not — with [`building_key`], [`lane_key`], [`group_key`]).
pub(crate) fn door_keys(a: &DoorParts<'_>) -> Vec<String> {
    let places = [
        (Place::Road, a.road),
        (Place::Poi, a.poi),
        (Place::Village, a.village),
    ];
    let mut keys = Vec::new();
    for (place, name) in places {
        let Some(name) = name else { continue };
        if let Some(number) = a.number {
            let mut lanes = vec![Some(a.lane.unwrap_or(""))];
            if place == Place::Poi {
                lanes.push(None);
            }
            let mut groups = vec![None];
            if a.group.is_some() {
                groups.push(a.group);
            }
            for lane in &lanes {
                for group in &groups {
                    let door = door_key(place, name, *lane, *group, number);
                    if let Some(b) = a.building {
                        keys.push(building_key(&door, b));
                    }
                    keys.push(door);
                }
            }
        }
        if let Some(lane) = a.lane
            && place != Place::Village
        {
            keys.push(lane_key(place, name, lane));
        }
        if let Some(group) = a.group {
            keys.push(group_key(place, name, group));
        }
    }
    keys
}

#[cfg(test)]
mod door_tests {
    use super::*;

    fn parts<'a>(road: &'a str, lane: Option<&'a str>, number: &'a str) -> DoorParts<'a> {
        DoorParts {
            road: Some(road),
            lane,
            number: Some(number),
            ..DoorParts::default()
        }
    }

    #[test]
    fn a_door_is_found_only_along_its_own_path() {
        let keys = door_keys(&parts("华腾路", Some("1288"), "3"));
        assert!(keys.contains(&door_key(Place::Road, "华腾路", Some("1288"), None, "3")));
        // 华腾路3号 is not 华腾路1288弄3号.
        assert!(!keys.contains(&door_key(Place::Road, "华腾路", None, None, "3")));
        assert!(!keys.contains(&door_key(Place::Road, "华腾路", Some("1288"), None, "31")));
        assert!(keys.contains(&lane_key(Place::Road, "华腾路", "1288")));
        let plain = door_keys(&parts("华腾路", None, "3"));
        assert!(plain.contains(&door_key(Place::Road, "华腾路", None, None, "3")));
    }

    #[test]
    fn a_compound_door_is_found_with_or_without_its_lane() {
        let a = DoorParts {
            road: Some("华腾路"),
            poi: Some("华腾苑"),
            lane: Some("1288"),
            number: Some("3"),
            building: Some("2"),
            ..DoorParts::default()
        };
        let keys = door_keys(&a);
        let any_lane = door_key(Place::Poi, "华腾苑", None, None, "3");
        assert!(keys.contains(&any_lane));
        assert!(keys.contains(&door_key(Place::Poi, "华腾苑", Some("1288"), None, "3")));
        assert!(!keys.contains(&door_key(Place::Poi, "华腾苑", Some("1289"), None, "3")));
        assert!(keys.contains(&building_key(&any_lane, "2")));
    }

    #[test]
    fn a_village_door_is_found_with_or_without_its_group() {
        let a = DoorParts {
            village: Some("东厍村"),
            group: Some("5"),
            number: Some("14"),
            ..DoorParts::default()
        };
        let keys = door_keys(&a);
        assert!(keys.contains(&door_key(Place::Village, "东厍村", None, None, "14")));
        assert!(keys.contains(&door_key(Place::Village, "东厍村", None, Some("5"), "14")));
        assert!(!keys.contains(&door_key(Place::Village, "东厍村", None, Some("6"), "14")));
        assert!(keys.contains(&group_key(Place::Village, "东厍村", "5")));
    }
}
