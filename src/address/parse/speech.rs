//! What callers say that writers do not: taking back a part just said (12号不对13号, 华腾路不是
//! 华新路): the part before the take-back is dropped and the one after it stands.

use super::lookahead::is_separator;
use super::reading::{Found, Reading};
use crate::Level;

/// Words that take back what was just said, longest first.
const TAKE_BACKS: [&str; 10] = [
    "我说错了",
    "不是不是",
    "不对不对",
    "说错了说错了",
    "说错了",
    "搞错了",
    "不对",
    "不是",
    "哦不",
    "错了",
];

/// The length of the take-back word `rest` starts with.
pub(super) fn take_back_at(rest: &[char]) -> Option<usize> {
    TAKE_BACKS
        .iter()
        .map(|w| w.chars().collect::<Vec<char>>())
        .find(|w| rest.starts_with(w))
        .map(|w| w.len())
}

/// Words that open what the caller reports (反映 …): an address after them is the subject.
const REPORTS: [&str; 4] = ["反映", "投诉", "举报", "诉求地址"];

/// Words that introduce the caller's own home, longest first.
const HOMES: [&str; 8] = [
    "来电人住址",
    "来电人地址",
    "来电人住",
    "我家住",
    "我住",
    "家住",
    "住在",
    "住址",
];

/// Two addresses in one call: the caller's home and the place the call is about
/// (`来电人住振泾中路9弄18号，反映振泾中路9弄6号路灯不亮`, `我住荷庆湾21号，荷庆湾20号那边油烟
/// 扰民`, `春科路151弄5号违章搭建，来电人住址：春科路151弄13号`). When both name a door, the
/// home's parts are dropped: the address after a reporting word, or after a pause that follows
/// the home's door, or the one before the home's words, is the answer.
pub(super) fn subject_not_home(chars: &[char], st: &mut Reading) {
    let door = |c: &Found| matches!(c.level, Level::Number | Level::Building);
    let named = |c: &Found| {
        matches!(
            c.level,
            Level::Road | Level::Poi | Level::Community | Level::Town
        )
    };
    let find = |word: &str| -> Option<(usize, usize)> {
        let w: Vec<char> = word.chars().collect();
        (0..chars.len().saturating_sub(w.len() - 1))
            .find(|&i| chars[i..].starts_with(&w))
            .map(|i| (i, i + w.len()))
    };
    let doors_before = |at: usize, comps: &[Found]| comps.iter().any(|c| c.end <= at && door(c));
    let address_after = |at: usize, comps: &[Found]| {
        comps.iter().any(|c| c.start >= at && door(c))
            && comps.iter().any(|c| c.start >= at && named(c))
    };
    if let Some((_, end)) = REPORTS.iter().find_map(|w| find(w))
        && doors_before(end, &st.comps)
        && address_after(end, &st.comps)
    {
        keep_from(st, end);
        return;
    }
    let Some((start, end)) = HOMES.iter().find_map(|w| find(w)) else {
        return;
    };
    if doors_before(start, &st.comps) && st.comps.iter().any(|c| c.start >= end && door(c)) {
        // The place first, the caller's home after: the home goes.
        st.comps.retain(|c| c.end <= start);
        return;
    }
    // The home first: a pause after its door, then another address.
    let Some(first_door) = st.comps.iter().find(|c| c.start >= end && door(c)) else {
        return;
    };
    let Some(pause) = (first_door.end..chars.len()).find(|&i| is_separator(chars[i])) else {
        return;
    };
    if address_after(pause, &st.comps) {
        keep_from(st, pause);
    }
}

/// The parts from `at` on, with the places above them said only before (the town, village or
/// road of `我住周浜村29组456号，周浜村23组276号`, whose repeat the walk skips).
fn keep_from(st: &mut Reading, at: usize) {
    let (before, after): (Vec<Found>, Vec<Found>) = st.comps.drain(..).partition(|c| c.start < at);
    // The home's road only when the place names no road, compound or village of its own
    // (反映长锦苑2号 is not on the home's road).
    let place_named = after
        .iter()
        .any(|c| matches!(c.level, Level::Road | Level::Poi | Level::Community));
    let above = |level: Level| {
        matches!(
            level,
            Level::Province | Level::City | Level::District | Level::Town | Level::Community
        ) || (level == Level::Road && !place_named)
    };
    let mut kept: Vec<Found> = before
        .into_iter()
        .filter(|c| above(c.level) && !after.iter().any(|a| a.level == c.level))
        .collect();
    kept.extend(after);
    st.comps = kept;
}

/// The length of a person named by surname and title (`王先生`, `李女士`, `张阿姨`) `rest`
/// starts with: who called, not where.
pub(super) fn person_at(rest: &[char]) -> Option<usize> {
    const TITLES: [&str; 6] = ["先生", "女士", "小姐", "阿姨", "师傅", "老师"];
    (1..=2).find_map(|surname| {
        let tail = rest.get(surname..)?;
        rest[..surname]
            .iter()
            .all(|&c| crate::text::is_han(c))
            .then(|| {
                TITLES
                    .iter()
                    .find(|t| tail.starts_with(&t.chars().collect::<Vec<char>>()))
                    .map(|t| surname + t.chars().count())
            })
            .flatten()
    })
}

/// The length of a date or a time of day `rest` starts with (`12月16号`, `2024年8月11日`,
/// `晚上10点`'s `10点`, `3点半`, `22:30`): said around the address (when it began, when the
/// caller saw it), never part of it — `16号` after a month is a day, not a door.
pub(super) fn date_or_time_at(rest: &[char]) -> Option<usize> {
    let digits = |from: usize| {
        rest[from..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    let numerals = |from: usize| {
        rest[from..]
            .iter()
            .take_while(|&&c| c.is_ascii_digit() || crate::text::numerals::is_numeral(c))
            .count()
    };
    let mut i = 0;
    let year = digits(0);
    let has_year = (2..=4).contains(&year) && rest.get(year) == Some(&'年');
    if has_year {
        i = year + 1;
    }
    let month = numerals(i);
    if (1..=3).contains(&month) && rest.get(i + month) == Some(&'月') {
        let after_month = i + month + 1;
        let day = numerals(after_month);
        if (1..=3).contains(&day) && matches!(rest.get(after_month + day), Some('日' | '号')) {
            return Some(after_month + day + 1);
        }
        if has_year {
            return Some(after_month);
        }
        return None;
    }
    if has_year {
        return Some(i);
    }
    // 10点, 3点半, 10点30分, 22:30
    let hour = digits(0);
    if !(1..=2).contains(&hour) {
        return None;
    }
    match rest.get(hour) {
        Some('点') => {
            let mut end = hour + 1;
            let minutes = digits(end);
            if rest.get(end) == Some(&'半') {
                end += 1;
            } else if (1..=2).contains(&minutes) && rest.get(end + minutes) == Some(&'分') {
                end += minutes + 1;
            }
            Some(end)
        }
        Some(':' | '：') if digits(hour + 1) == 2 => Some(hour + 3),
        _ => None,
    }
}

/// A door said again to confirm it (`安香路299弄31号，安香路299弄31号`, `…2号，2号对`): the
/// second `N号` with the door's own number is no building, as the reading would otherwise take it
/// (a building said as such, `3号楼`, stays). Other parts said again stay as written: the matcher
/// reads the first of each level.
pub(super) fn said_again(chars: &[char], st: &mut Reading) {
    let Some(door) = st
        .comps
        .iter()
        .find(|c| c.level == Level::Number)
        .map(|c| c.value.clone())
    else {
        return;
    };
    st.comps.retain(|c| {
        !(c.level == Level::Building
            && c.value == door
            && chars.get(c.end.wrapping_sub(1)) == Some(&'号'))
    });
}

/// Whether a part of this level can be taken back: a name or number of the address itself, not
/// the district or town it is in.
pub(super) fn can_take_back(level: Level) -> bool {
    level >= Level::Community
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times_are_found_and_doors_are_not() {
        let at = |s: &str| date_or_time_at(&s.chars().collect::<Vec<char>>());
        assert_eq!(at("12月16号晚上"), Some(6));
        assert_eq!(at("2024年8月11日来电"), Some(10));
        assert_eq!(at("2024年来电"), Some(5));
        assert_eq!(at("三月5号"), Some(4));
        assert_eq!(at("10点左右"), Some(3));
        assert_eq!(at("3点半"), Some(3));
        assert_eq!(at("22:30"), Some(5));
        assert_eq!(at("16号"), None);
        assert_eq!(at("3月"), None);
        assert_eq!(at("1288弄"), None);
    }

    #[test]
    fn a_caller_by_surname_and_title_is_found() {
        let at = |s: &str| person_at(&s.chars().collect::<Vec<char>>());
        assert_eq!(at("王先生13598658242"), Some(3));
        assert_eq!(at("欧阳女士，"), Some(4));
        assert_eq!(at("华腾路"), None);
    }

    #[test]
    fn take_backs_are_found_longest_first() {
        let text: Vec<char> = "不对不对13号".chars().collect();
        assert_eq!(take_back_at(&text), Some(4));
        let text: Vec<char> = "不远".chars().collect();
        assert_eq!(take_back_at(&text), None);
    }
}
