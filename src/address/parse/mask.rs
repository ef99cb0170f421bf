//! Phone and ID card numbers masked before the walk, and the number shapes that look like
//! them but are a door, a building or a room.

use super::*;

/// Phone numbers and ID card numbers in the normalized text, as (kind, start, end): the one
/// detector the logs and stored notes use too ([`crate::text::personal`]).
///
/// One shape is left to the walk: a local number written `NNN(N)-NNNN` right after a name with
/// no phone word before it (文昌花园185-1242) is a building and a room, not a phone number.
pub(super) fn mask_numbers(chars: &[char]) -> Vec<(MaskedKind, usize, usize)> {
    use crate::text::personal::{PersonalKind, find_personal};
    find_personal(chars)
        .into_iter()
        .filter(|f| {
            f.kind != PersonalKind::Landline
                || !(building_and_room(chars, f.start, f.end) || door_run(chars, f.start, f.end))
        })
        .filter_map(|f| {
            let kind = match f.kind {
                PersonalKind::Mobile | PersonalKind::Landline => MaskedKind::Phone,
                PersonalKind::IdCard => MaskedKind::IdCard,
                PersonalKind::LongNumber => return None,
            };
            Some((kind, f.start, f.end))
        })
        .collect()
}

/// Whether the local-number shape `chars[start..end]`, one run of 7 or 8 digits, is a door run
/// into its room with 号 dropped (212弄1881704, 福顺别墅1601502室): followed by a level marker
/// (no phone number is), glued to a lane or group number, or — 7 digits, shorter than any
/// Shanghai number — glued to a name. The search cuts it where the library has the door.
fn door_run(chars: &[char], start: usize, end: usize) -> bool {
    let text = &chars[start..end];
    if !(7..=8).contains(&text.len()) || !text.iter().all(char::is_ascii_digit) {
        return false;
    }
    let marker_after = chars
        .get(end)
        .is_some_and(|&c| "室号单层楼幢栋座户".contains(c));
    let after_number = start
        .checked_sub(1)
        .and_then(|i| chars.get(i))
        .is_some_and(|&c| "弄组".contains(c));
    marker_after || after_number || (text.len() == 7 && glued_to_name(chars, start))
}

/// Whether the number starting at `start` follows a CJK character that is no phone word (话,
/// 机, 电, 系, 拨, 打): a name it is part of, not a number being given.
fn glued_to_name(chars: &[char], start: usize) -> bool {
    start
        .checked_sub(1)
        .and_then(|i| chars.get(i))
        .is_some_and(|&c| is_han(c) && !"话机电系拨打".contains(c))
}

/// Whether the local-number shape `chars[start..end]` is `NNN(N)-NNNN` glued to a name (a CJK
/// character that is no phone word: 话, 机, 电, 系, 拨, 打).
fn building_and_room(chars: &[char], start: usize, end: usize) -> bool {
    let text = &chars[start..end];
    let Some(dash) = text.iter().position(|&c| c == '-') else {
        return false;
    };
    let (head, tail) = (&text[..dash], &text[dash + 1..]);
    let digits = |part: &[char]| part.iter().all(char::is_ascii_digit);
    glued_to_name(chars, start)
        && (3..=4).contains(&head.len())
        && tail.len() == 4
        && digits(head)
        && digits(tail)
}

pub(super) fn mask_text(cs: &[char]) -> String {
    crate::text::personal::mask_chars(cs)
}
