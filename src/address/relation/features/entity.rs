//! Entity-level features: the place each side names (its POI, compound and sub-POI names) set
//! against the other's, and how the two parses' levels line up below the admin ones.
//!
//! The hardest distinction in map search is same vs partial: a POI and a shop, gate or car park
//! inside it (盒马鲜生 vs 盒马鲜生(亲橙里店), 平安大楼 vs 平安大楼(1号门)), or the same POI named
//! at two granularities. These features describe that phenomenon directly: whether one side's
//! name is the other's with something added (prefix, suffix, inside), what was added (a generic
//! part word such as 店, 东门, 停车场, or a name of its own), whether the names sound alike, and
//! for the numbered levels (弄, 号, 幢, 单元, 层, 室) whether they agree, conflict or are missing
//! on one side, down to the deepest level both share and what each side has below it.

use super::{Side, Sink, is_admin, named, ratio};
use crate::Level;
use crate::address::relation::similarity::{common_subsequence, common_substring, sounds};

/// Words that name a part, a branch or an entrance of a place rather than a place of its own:
/// on one side only, they usually make the pair a partial match (the place vs a shop or gate
/// inside it). The branches and parts below, and the [`GATE_WORDS`].
static PART_WORDS: std::sync::LazyLock<Vec<&'static str>> =
    std::sync::LazyLock::new(|| [BRANCH_WORDS, GATE_WORDS].concat());

/// Of [`PART_WORDS`], the branches and parts that are not entrances.
const BRANCH_WORDS: &[&str] = &[
    "分店",
    "门店",
    "专卖店",
    "旗舰店",
    "体验店",
    "店",
    "停车场",
    "停车库",
    "地下车库",
    "营业厅",
    "营业部",
    "营业点",
    "分公司",
    "分行",
    "支行",
    "分院",
    "分校",
    "校区",
    "门诊",
    "食堂",
    "宿舍",
    "办公楼",
    "售楼处",
    "服务中心",
    "服务站",
    "配送站",
    "驿站",
    "分部",
    "分园",
];

/// Of [`PART_WORDS`], the entrances: a gate of a place is mostly labelled the same place.
const GATE_WORDS: &[&str] = &[
    "东门",
    "西门",
    "南门",
    "北门",
    "正门",
    "侧门",
    "后门",
    "大门",
    "出入口",
    "入口",
    "出口",
];

/// Endings that say what kind of body a name is and are dropped to compare two names' stems
/// (江苏省石油总公司 vs 江苏石油).
const STEM_ENDINGS: &[&str] = &[
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "总公司",
    "分公司",
    "公司",
    "集团",
    "小区",
    "花园",
    "大厦",
    "大楼",
    "中心",
];

/// The numbered levels, compared as numbers (agree, conflict, one side only).
const NUMBERED: [Level; 6] = [
    Level::Lane,
    Level::Number,
    Level::Building,
    Level::Unit,
    Level::Floor,
    Level::Room,
];

fn has_word(text: &[char], word: &str) -> bool {
    let w: Vec<char> = word.chars().collect();
    text.windows(w.len()).any(|x| x == w.as_slice())
}

fn ends_with_word(text: &[char], words: &[&str]) -> bool {
    words.iter().any(|w| {
        let w: Vec<char> = w.chars().collect();
        text.ends_with(&w)
    })
}

/// The name with the kind-of-body endings dropped (repeatedly) and 省/市 dropped.
fn stem(name: &[char]) -> Vec<char> {
    let mut s: Vec<char> = name
        .iter()
        .copied()
        .filter(|c| !matches!(c, '省' | '市'))
        .collect();
    loop {
        let before = s.len();
        for w in STEM_ENDINGS {
            let w: Vec<char> = w.chars().collect();
            if s.len() > w.len() + 1 && s.ends_with(&w) {
                s.truncate(s.len() - w.len());
            }
        }
        if s.len() == before {
            return s;
        }
    }
}

fn dice(a: &[char], b: &[char]) -> f64 {
    ratio(2 * common_subsequence(a, b), a.len() + b.len())
}

fn sound_dice(a: &[char], b: &[char]) -> f64 {
    ratio(
        2 * common_subsequence(&sounds(a), &sounds(b)),
        a.len() + b.len(),
    )
}

fn common_prefix(a: &[char], b: &[char]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

fn common_suffix(a: &[char], b: &[char]) -> usize {
    a.iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x == y)
        .count()
}

/// What `long` has beyond `short` when `short` lies inside it: the characters before and after
/// its first occurrence.
fn beyond(short: &[char], long: &[char]) -> Option<Vec<char>> {
    if short.len() < 2 || short.len() >= long.len() {
        return None;
    }
    let at = long.windows(short.len()).position(|w| w == short)?;
    let mut rest = long[..at].to_vec();
    rest.extend_from_slice(&long[at + short.len()..]);
    Some(rest)
}

fn position(level: Level) -> f64 {
    Level::ALL.iter().position(|m| *m == level).unwrap_or(0) as f64
}

/// The entity features of a pair (`a` the query, `b` the candidate).
pub(super) fn entity_features(s: &mut Sink, a: &Side, b: &Side) {
    names(s, a, b);
    part_words(s, a, b);
    numbered_levels(s, a, b);
    shared_depth(s, a, b);
}

/// The two sides' names (POI, sub-POI, compound, outside brackets) against each other.
fn names(s: &mut Sink, a: &Side, b: &Side) {
    let (ea, eb) = (&a.entity, &b.entity);
    let known = !ea.is_empty() && !eb.is_empty();
    let put = |s: &mut Sink, name: &str, v: f64| s.put(name, if known { v } else { -1.0 });
    put(s, "entity_dice", dice(ea, eb));
    put(s, "entity_sound_dice", sound_dice(ea, eb));
    let (sa, sb) = (stem(ea), stem(eb));
    put(s, "entity_stem_dice", dice(&sa, &sb));
    let min = ea.len().min(eb.len());
    put(s, "entity_prefix", ratio(common_prefix(ea, eb), min));
    put(s, "entity_suffix", ratio(common_suffix(ea, eb), min));
    let sub = common_substring(ea, eb);
    put(s, "entity_substr_min", ratio(sub, min));
    // One name inside the other, and what the longer one adds.
    let added_a = beyond(eb, ea); // a = b + something
    let added_b = beyond(ea, eb); // b = a + something
    s.flag("entity_b_in_a", known && added_a.is_some());
    s.flag("entity_a_in_b", known && added_b.is_some());
    s.flag(
        "entity_b_prefix_of_a",
        known && eb.len() >= 2 && ea.starts_with(eb),
    );
    s.flag(
        "entity_a_prefix_of_b",
        known && ea.len() >= 2 && eb.starts_with(ea),
    );
    s.flag(
        "entity_b_suffix_of_a",
        known && eb.len() >= 2 && ea.ends_with(eb),
    );
    s.flag(
        "entity_a_suffix_of_b",
        known && ea.len() >= 2 && eb.ends_with(ea),
    );
    let added = added_a.as_ref().or(added_b.as_ref());
    s.put("entity_added_len", added.map_or(-1.0, |x| x.len() as f64));
    s.flag(
        "entity_added_part",
        added.is_some_and(|x| PART_WORDS.iter().any(|w| has_word(x, w))),
    );
    s.flag(
        "entity_added_digit",
        added.is_some_and(|x| x.iter().any(char::is_ascii_digit)),
    );
    // Name by name: the best pairing, and names with no counterpart in the other text.
    let best = |f: fn(&[char], &[char]) -> f64| {
        a.names
            .iter()
            .flat_map(|x| b.names.iter().map(move |y| f(x, y)))
            .fold(-1.0, f64::max)
    };
    s.put("names_best_dice", best(dice));
    s.put("names_best_sound", best(sound_dice));
    let unmatched = |x: &Side, y: &Side| {
        x.names
            .iter()
            .filter(|n| common_substring(n, &y.text) * 2 < n.len())
            .count() as f64
    };
    s.put("names_a", a.names.len() as f64);
    s.put("names_b", b.names.len() as f64);
    s.put("names_a_unmatched", unmatched(a, b));
    s.put("names_b_unmatched", unmatched(b, a));
    s.put(
        "first_names_dice",
        match (a.names.first(), b.names.first()) {
            (Some(x), Some(y)) => dice(x, y),
            _ => -1.0,
        },
    );
    s.put(
        "last_names_dice",
        match (a.names.last(), b.names.last()) {
            (Some(x), Some(y)) => dice(x, y),
            _ => -1.0,
        },
    );
}

/// Part words (店, 东门, 停车场 …) in one text and not the other, and at the end of a name or
/// in brackets.
fn part_words(s: &mut Sink, a: &Side, b: &Side) {
    let only = |x: &Side, y: &Side, words: &[&str]| {
        words
            .iter()
            .filter(|w| has_word(&x.text, w) && !has_word(&y.text, w))
            .count() as f64
    };
    s.put("part_words_a_only", only(a, b, &PART_WORDS));
    s.put("part_words_b_only", only(b, a, &PART_WORDS));
    s.put("gate_words_a_only", only(a, b, GATE_WORDS));
    s.put("gate_words_b_only", only(b, a, GATE_WORDS));
    for (tag, x) in [("a", a), ("b", b)] {
        s.flag(
            &format!("{tag}_entity_ends_part"),
            ends_with_word(&x.entity, &PART_WORDS),
        );
        s.flag(
            &format!("{tag}_bracket_part"),
            PART_WORDS.iter().any(|w| has_word(&x.bracket, w)),
        );
    }
}

/// The numbered levels (弄, 号, 幢, 单元, 层, 室): agreeing, conflicting, on one side only.
fn numbered_levels(s: &mut Sink, a: &Side, b: &Side) {
    let (mut agree, mut conflict, mut a_only, mut b_only) = (0, 0, 0, 0);
    let mut first_conflict = -1.0;
    for level in NUMBERED {
        match (a.get(level), b.get(level)) {
            (Some(x), Some(y)) if x == y => agree += 1,
            (Some(_), Some(_)) => {
                conflict += 1;
                if first_conflict < 0.0 {
                    first_conflict = position(level);
                }
            }
            (Some(_), None) => a_only += 1,
            (None, Some(_)) => b_only += 1,
            (None, None) => {}
        }
    }
    s.put("numbered_agree", f64::from(agree));
    s.put("numbered_conflict", f64::from(conflict));
    s.put("numbered_a_only", f64::from(a_only));
    s.put("numbered_b_only", f64::from(b_only));
    s.put("numbered_first_conflict", first_conflict);
}

/// The deepest level both share (equal values, or names that are nearly the same), what each
/// side has below it, and how far apart the two sides' deepest levels are.
fn shared_depth(s: &mut Sink, a: &Side, b: &Side) {
    let agrees = |l: Level| match (a.get(l), b.get(l)) {
        (Some(x), Some(y)) if x == y => true,
        (Some(x), Some(y)) if named(l) => {
            let (x, y): (Vec<char>, Vec<char>) = (x.chars().collect(), y.chars().collect());
            dice(&x, &y) >= 0.75
        }
        _ => false,
    };
    let shared = Level::ALL
        .into_iter()
        .filter(|l| !is_admin(*l) && agrees(*l))
        .max();
    let below = |x: &Side| -> Vec<Level> {
        x.levels
            .iter()
            .map(|(l, _)| *l)
            .filter(|l| !is_admin(*l) && shared.is_none_or(|sh| *l > sh))
            .collect()
    };
    let (ba, bb) = (below(a), below(b));
    s.put("shared_deepest", shared.map_or(-1.0, position));
    s.put("below_shared_a", ba.len() as f64);
    s.put("below_shared_b", bb.len() as f64);
    s.flag(
        "below_shared_a_named",
        ba.iter().any(|l| matches!(l, Level::Poi | Level::Subpoi)),
    );
    s.flag(
        "below_shared_b_named",
        bb.iter().any(|l| matches!(l, Level::Poi | Level::Subpoi)),
    );
    let depth = |x: &Side| x.deepest.map_or(-1.0, position);
    s.put("deepest_gap", (depth(a) - depth(b)).abs());
    let sh = shared.map_or(-1.0, position);
    s.put("shared_to_deepest_a", depth(a) - sh);
    s.put("shared_to_deepest_b", depth(b) - sh);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    #[test]
    fn stems_drop_kind_of_body_endings() {
        assert_eq!(stem(&c("江苏省石油总公司")), c("江苏石油"));
        assert_eq!(stem(&c("雨润集团有限公司")), c("雨润"));
        assert_eq!(stem(&c("公司")), c("公司"));
    }

    #[test]
    fn what_a_longer_name_adds() {
        assert_eq!(
            beyond(&c("盒马鲜生"), &c("盒马鲜生配送站")),
            Some(c("配送站"))
        );
        assert_eq!(beyond(&c("盒马"), &c("盒马")), None);
        assert_eq!(beyond(&c("天猫"), &c("盒马鲜生")), None);
    }
}
