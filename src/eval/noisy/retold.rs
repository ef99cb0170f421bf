//! A query retold as an operator types it or a caller's own hand writes it: a label or a sentence
//! before the address (报修地址：, 你好，我这里是), a space between a number and its marker, 幢
//! typed by its sound (撞), 弄 by its Shanghai sound (龙), a group by its longer name (小组,
//! 生产队, 村民小组), "on" the road before the door (路上), a road's side left out (青利路 for 青利南路),
//! a village without 村 with its group and door joined by a dash (星浜11-619).
//!
//! Drawn from a random stream of its own, applied to the finished text: the queries the first
//! stream makes stay as they were, and some of them are retold.

use rand::RngExt;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;

use crate::StandardAddress;
use crate::address::community_address_name;
use crate::dictionaries::{ROAD_SIDES, road_stem};

/// What an operator or caller puts before the address: labels and whole sentences.
const SENTENCES: [&str; 10] = [
    "报修地址：",
    "地址：",
    "来电人反映：",
    "市民来电反映",
    "你好，我这里是",
    "我们是",
    "麻烦派人到",
    "喂，你好，我家是",
    "联系地址:",
    "我这边是",
];

/// `text` (said for `a`) retold, with the names of what was done; `exists` says whether a name is
/// one of the library's (a road with its side dropped that is itself a road is not retold).
pub(super) fn retell(
    text: String,
    a: &StandardAddress,
    exists: &dyn Fn(&str) -> bool,
    rng: &mut ChaCha8Rng,
) -> (String, Vec<String>) {
    let mut noise = Vec::new();
    let mut s = text;
    if let Some(road) = &a.road
        && rng.random_bool(0.03)
        && let Some(stem) = side_dropped(road)
        && !exists(&stem)
        && s.contains(road.as_str())
    {
        s = s.replacen(road.as_str(), &stem, 1);
        noise.push("side_dropped".into());
    }
    if let Some(road) = &a.road
        && rng.random_bool(0.02)
        && let Some(at) = s.find(road.as_str()).map(|i| i + road.len())
        && s[at..].starts_with(|c: char| c.is_ascii_digit())
    {
        s.insert(at, '上');
        noise.push("on_the_road".into());
    }
    if rng.random_bool(0.3) && after_digit(&s, '幢').is_some() {
        s = replace_after_digit(&s, '幢', "撞");
        noise.push("zhuang_by_sound".into());
    }
    if rng.random_bool(0.05) && after_digit(&s, '弄').is_some() {
        s = replace_after_digit(&s, '弄', ["龙", "隆"].choose(rng).copied().unwrap_or("龙"));
        noise.push("lane_by_sound".into());
    }
    // 星浜11-619 for 星浜村11组619号: the village without 村, its group and door joined by a dash.
    if a.road.is_none()
        && rng.random_bool(0.04)
        && let (Some(g), Some(n)) = (&a.group, &a.number)
        && let Some(stem) = community_address_name(&a.community.name).strip_suffix('村')
        && stem.chars().count() >= 2
        && !exists(stem)
    {
        let said = format!("{stem}村{g}组{n}号");
        if s.contains(&said) {
            s = s.replacen(&said, &format!("{stem}{g}-{n}"), 1);
            noise.push("village_dash".into());
        }
    }
    if rng.random_bool(0.1) && after_digit(&s, '组').is_some() {
        s = replace_after_digit(
            &s,
            '组',
            ["小组", "生产队", "村民小组"]
                .choose(rng)
                .copied()
                .unwrap_or("小组"),
        );
        noise.push("group_long_name".into());
    }
    if rng.random_bool(0.03)
        && let Some(at) = ['号', '弄', '组', '幢', '栋']
            .into_iter()
            .filter_map(|m| after_digit(&s, m))
            .min()
    {
        s.insert(at, ' ');
        noise.push("space_before_marker".into());
    }
    if rng.random_bool(0.05) {
        s.insert_str(0, SENTENCES.choose(rng).copied().unwrap_or_default());
        noise.push("operator_lead".into());
    }
    (s, noise)
}

/// 青利南路 → 青利路, 华新东公路 → 华新公路: the road's name without the side before its suffix
/// (roads ending 路, 公路, 大道 or 街; a side before 巷 or 支路 is not dropped by callers).
fn side_dropped(road: &str) -> Option<String> {
    let head = road_stem(road);
    let suffix = &road[head.len()..];
    if !["公路", "路", "大道", "街"].contains(&suffix) {
        return None;
    }
    let stem = head.strip_suffix(|c: char| ROAD_SIDES.contains(&c))?;
    (stem.chars().count() >= 2).then(|| format!("{stem}{suffix}"))
}

/// The byte offset of the first `marker` right after an ASCII digit.
fn after_digit(s: &str, marker: char) -> Option<usize> {
    let mut prev = None;
    for (i, c) in s.char_indices() {
        if c == marker && prev.is_some_and(|p: char| p.is_ascii_digit()) {
            return Some(i);
        }
        prev = Some(c);
    }
    None
}

/// `s` with its first `marker` after a digit written as `by`.
fn replace_after_digit(s: &str, marker: char, by: &str) -> String {
    match after_digit(s, marker) {
        Some(i) => format!("{}{by}{}", &s[..i], &s[i + marker.len_utf8()..]),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_side_comes_off_before_the_suffix() {
        assert_eq!(side_dropped("青利南路").as_deref(), Some("青利路"));
        assert_eq!(side_dropped("华新东公路").as_deref(), Some("华新公路"));
        assert_eq!(side_dropped("东路"), None);
        assert_eq!(side_dropped("华腾路"), None);
    }

    #[test]
    fn markers_are_retold_only_after_a_digit() {
        assert_eq!(replace_after_digit("幢村3幢", '幢', "撞"), "幢村3撞");
        assert_eq!(
            replace_after_digit("杨元村12组19号", '组', "小组"),
            "杨元村12小组19号"
        );
        assert_eq!(after_digit("组12", '组'), None);
    }
}
