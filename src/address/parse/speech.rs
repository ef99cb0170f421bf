//! What callers say that writers do not: taking back a part just said (12号不对13号, 华腾路不是
//! 华新路): the part before the take-back is dropped and the one after it stands.

use super::reading::Reading;
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
    fn take_backs_are_found_longest_first() {
        let text: Vec<char> = "不对不对13号".chars().collect();
        assert_eq!(take_back_at(&text), Some(4));
        let text: Vec<char> = "不远".chars().collect();
        assert_eq!(take_back_at(&text), None);
    }
}
