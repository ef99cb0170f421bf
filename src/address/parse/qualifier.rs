//! Place qualifiers glued to a POI's name: 纸箱厂内 (inside), 小花园旁鑫康大药房 (beside), 市政大楼北
//! (north of it), or a lone 南 or 以西 left where a name would be. They say where relative to the
//! place, like 附近 or 对面, and are kept as the parse's `near`, not as part of the name.

use super::lookahead::{is_separator, is_side};
use super::*;

/// One-character qualifiers that follow a place's name: beside, inside, outside.
const AFTER_NAME: [char; 3] = ['旁', '内', '外'];

/// Words that start with a qualifier character but are words of their own (内衣, 外贸, 外环).
const NOT_QUALIFIER: [[char; 2]; 8] = [
    ['内', '衣'],
    ['内', '环'],
    ['内', '科'],
    ['外', '贸'],
    ['外', '环'],
    ['外', '科'],
    ['外', '国'],
    ['外', '语'],
];

impl Parser {
    /// Whether the whole name `name` is a qualifier on its own (南, 旁, 以西): what stands after
    /// a road or place where a second name would, but says only where.
    pub(super) fn lone_qualifier(name: &[char]) -> bool {
        match name {
            [c] => is_side(*c) || AFTER_NAME.contains(c),
            ['以', c] => is_side(*c),
            _ => false,
        }
    }

    /// Where a qualifier glued after a POI name in `chars[pos..end]` starts, and its length: a
    /// beside/inside/outside character after a name ending like a place (纸箱厂内, 小花园旁…), or
    /// a side (东 西 南 北, also 以东) closing the name before a separator or the end of the text
    /// (市政大楼北). The name before it must end with a compound or place suffix.
    pub(super) fn glued_qualifier(
        &self,
        chars: &[char],
        pos: usize,
        end: usize,
    ) -> Option<(usize, usize)> {
        let place_before =
            |k: usize| k >= pos + 2 && self.words.ends_with_poi_suffix(&chars[pos..k]);
        for k in pos + 2..end {
            let c = chars[k];
            let word = [c, chars.get(k + 1).copied().unwrap_or(' ')];
            if AFTER_NAME.contains(&c) && !NOT_QUALIFIER.contains(&word) && place_before(k) {
                return Some((k, 1));
            }
        }
        let closes = chars.get(end).is_none_or(|&c| is_separator(c));
        if !closes || end < pos + 3 || !is_side(chars[end - 1]) {
            return None;
        }
        if chars[end - 2] == '以' && place_before(end - 2) {
            return Some((end - 2, 2));
        }
        place_before(end - 1).then_some((end - 1, 1))
    }
}
