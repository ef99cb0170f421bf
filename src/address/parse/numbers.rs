//! Numbers with their markers in the walk: 1288弄, 3号楼, 3-502, 3号之1, a bare number read by
//! what came before it.

use super::*;

impl Parser {
    /// Tries numbers with markers at `pos` (1288弄, 3号楼, 3-502, 3号之1); pushes them.
    pub(super) fn numbers_at(&self, chars: &[char], pos: usize, st: &mut Reading) -> Option<usize> {
        let mut i = pos;
        if chars.get(i) == Some(&'第') {
            i += 1;
        }
        let tok_start = i;
        let tok_end = alnum_end(chars, i);
        if tok_end == tok_start {
            // 东户, 西单元, 甲梯: a side or an ordinal instead of a number.
            let Some(&c) = chars.get(i) else {
                return None; // a lone 第 at the end
            };
            if matches!(
                c,
                '东' | '西' | '南' | '北' | '中' | '甲' | '乙' | '丙' | '丁' | '左' | '右'
            ) && let Some((level @ (Level::Room | Level::Unit), mlen)) =
                number_marker(&chars[i + 1..])
                && !(level == Level::Room && chars.get(i + 1) == Some(&'房'))
            {
                let end = i + 1 + mlen;
                st.push(Found::num(level, pos, end, c.to_string(), 0.7));
                return Some(end);
            }
            return None;
        }
        let tok = &chars[tok_start..tok_end];
        // 工单202404225823: nine digits or more (not a phone or ID number, masked before) are a
        // ticket or order number, never a door, a door run into its room or a room.
        if tok.len() >= 9 && tok.iter().all(char::is_ascii_digit) {
            return Some(tok_end);
        }
        let has_digit = tok.iter().any(char::is_ascii_digit);
        if road_name_number(chars, tok_end) {
            // 黄河5路, 渤海12路: the number is part of a road name.
            return None;
        }
        // A dash chain: 3-502, 47-6-746, 3-1号, 12_301; a building or unit may be a letter
        // (B-86, 82-B-1405).
        let mut parts = vec![(tok_start, tok_end)];
        let mut j = tok_end;
        while matches!(chars.get(j), Some('-' | '_')) {
            let e = alnum_end(chars, j + 1);
            let digits = chars[j + 1..e].iter().any(char::is_ascii_digit);
            let letter_then_number = e == j + 2
                && chars[j + 1].is_ascii_alphabetic()
                && chars.get(e) == Some(&'-')
                && chars.get(e + 1).is_some_and(char::is_ascii_digit);
            if e == j + 1 || !(digits || letter_then_number) {
                break;
            }
            parts.push((j + 1, e));
            j = e;
        }
        let value_of = |(s, e): (usize, usize)| -> String { chars[s..e].iter().collect() };
        let letter = tok.len() == 1 && tok[0].is_ascii_alphabetic();
        if parts.len() > 1 && (has_digit || letter) {
            let marker = number_marker(&chars[j..]);
            // 3-1号 on a road is one door number; in a compound (金河源8-143号) it is the
            // building and the room.
            if let Some((Level::Number, mlen)) = marker
                && parts.len() == 2
                && st.context() != After::Poi
            {
                let v = format!("{}-{}", value_of(parts[0]), value_of(parts[1]));
                st.push(Found::num(Level::Number, pos, j + mlen, v, 0.9));
                return Some(j + mlen);
            }
            let levels: &[Level] = match (parts.len(), st.context()) {
                (2, After::Road | After::Lane) => &[Level::Number, Level::Room],
                // 3幢2-501: after the building, its unit and room.
                (2, After::Building) => &[Level::Unit, Level::Room],
                (3, After::Road) => &[Level::Number, Level::Building, Level::Room],
                (4, After::Road) => &[Level::Number, Level::Building, Level::Unit, Level::Room],
                (2, _) => &[Level::Building, Level::Room],
                (3, _) => &[Level::Building, Level::Unit, Level::Room],
                _ => &[Level::Building, Level::Unit, Level::Floor, Level::Room],
            };
            let last = parts.len() - 1;
            for (k, &(s, e)) in parts.iter().enumerate() {
                let level = levels.get(k).copied().unwrap_or(Level::Room);
                let (level, end) = match (k == last, marker) {
                    (true, Some((ml, mlen))) => (
                        if k == 0 {
                            ml
                        } else {
                            level_for_last(level, ml)
                        },
                        e + mlen,
                    ),
                    _ => (level, e),
                };
                let start = if k == 0 { pos } else { s };
                st.push(Found::num(level, start, end, value_of((s, e)), 0.75));
            }
            return Some(j + marker.map_or(0, |m| m.1));
        }
        match number_marker(&chars[tok_end..]) {
            Some((level, mlen)) => {
                if !has_digit && !matches!(level, Level::Building | Level::Subpoi) {
                    return None;
                }
                if !has_digit && tok.len() > 2 {
                    return None;
                }
                let mut end = tok_end + mlen;
                let mut value = value_of((tok_start, tok_end));
                let mut level = level;
                if level == Level::Number {
                    // 3号之1, 3号附1号
                    if let Some(&c) = chars.get(end)
                        && (c == '之' || c == '附')
                    {
                        let e = alnum_end(chars, end + 1);
                        if e > end + 1 {
                            value = format!("{value}之{}", value_of((end + 1, e)));
                            end = if chars.get(e) == Some(&'号') {
                                e + 1
                            } else {
                                e
                            };
                        }
                    }
                    if matches!(st.context(), After::Building | After::Inner) {
                        // 1栋2单元2楼2号: a 号 inside a building is a room.
                        level = Level::Room;
                    } else if st.has(Level::Number) {
                        level = Level::Building;
                    }
                }
                // 35号201号房: after a door, a number of three or more digits with 号房 is its
                // room (3号房 alone is a building).
                if level == Level::Building
                    && chars.get(tok_end + 1) == Some(&'房')
                    && st.context() == After::Number
                    && tok_end - tok_start >= 3
                {
                    level = Level::Room;
                }
                st.push(Found::num(level, pos, end, value, 0.95));
                Some(end)
            }
            None => {
                if letter
                    && st.context() == After::Poi
                    && chars
                        .get(tok_end)
                        .is_none_or(|&c| is_separator(c) || is_han(c))
                {
                    // 千江花园B: a lone letter after a compound is its building.
                    st.push(Found::num(
                        Level::Building,
                        pos,
                        tok_end,
                        tok[0].to_string(),
                        0.6,
                    ));
                    return Some(tok_end);
                }
                if !has_digit {
                    return None;
                }
                // A distance (160米) is not a component.
                if chars.get(tok_end) == Some(&'米') {
                    return Some(tok_end + 1);
                }
                let level = match st.context() {
                    After::Road | After::Start | After::Area => Level::Number,
                    After::Poi => {
                        let more = chars.get(tok_end).is_some_and(|c| c.is_ascii_digit());
                        if tok.len() >= 3 && !more {
                            Level::Room
                        } else {
                            Level::Building
                        }
                    }
                    After::Lane => Level::Number,
                    After::Number | After::Building | After::Inner => Level::Room,
                };
                st.push(Found::num(
                    level,
                    pos,
                    tok_end,
                    value_of((tok_start, tok_end)),
                    0.6,
                ));
                Some(tok_end)
            }
        }
    }
}
