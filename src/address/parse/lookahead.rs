//! What the characters around a position say: separators, markers that follow a number,
//! whether a name goes on or a road suffix follows.

use crate::Level;

/// Separators between components: spaces and punctuation.
pub(super) fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(
            c,
            ',' | '.'
                | ';'
                | ':'
                | '/'
                | '\\'
                | '|'
                | '"'
                | '\''
                | '('
                | ')'
                | '['
                | ']'
                | '{'
                | '}'
                | '<'
                | '>'
                | '!'
                | '?'
                | '*'
                | '+'
                | '='
                | '&'
                | '@'
                | '$'
                | '%'
                | '^'
                | '`'
                | '-'
                | '·'
                | '“'
                | '”'
                | '‘'
                | '’'
                | '《'
                | '》'
                | '：'
                | '？'
                | '！'
                | '…'
        )
}

pub(super) fn is_alnum(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

/// Whether the text after an admin spelling continues a longer name (江宁路, 中山村, 柳市大道):
/// a short form or a town name followed by a suffix is part of that name, not the division.
pub(super) fn continues_name(rest: &[char]) -> bool {
    let Some(&c) = rest.first() else {
        return false;
    };
    if matches!(
        c,
        '路' | '街'
            | '道'
            | '村'
            | '镇'
            | '乡'
            | '区'
            | '县'
            | '市'
            | '巷'
            | '弄'
            | '里'
            | '桥'
            | '湾'
            | '庄'
            | '苑'
            | '园'
            | '城'
            | '港'
            | '厂'
            | '屯'
            | '堂'
            | '宅'
    ) {
        return true;
    }
    let two: [char; 2] = match rest {
        [a, b, ..] => [*a, *b],
        _ => return false,
    };
    matches!(
        two,
        ['大', '道']
            | ['大', '街']
            | ['大', '厦']
            | ['公', '路']
            | ['社', '区']
            | ['新', '村']
            | ['新', '区']
            | ['小', '区']
            | ['花', '园']
            | ['广', '场']
            | ['中', '路']
            | ['东', '路']
            | ['西', '路']
            | ['南', '路']
            | ['北', '路']
            | ['东', '街']
            | ['西', '街']
            | ['南', '街']
            | ['北', '街']
            | ['中', '学']
            | ['小', '学']
            | ['大', '学']
            | ['医', '院']
            | ['中', '心']
    )
}

/// Whether `rest` is one character and a road suffix (白云|山路, 凯旋|支路) or a side and 大道
/// (花园|东大道): rarely a road's whole name, so a name before it is part of the road's. The caller
/// checks that no division starts `rest` (青浦|赵巷).
pub(super) fn one_char_road_tail(rest: &[char]) -> bool {
    match rest {
        [a, '路', ..] => is_han(*a),
        // 街道 after one character is a town's suffix, not a street.
        [a, '街', after @ ..] => is_han(*a) && after.first() != Some(&'道'),
        [s, '大', '道' | '街', ..] => is_side(*s),
        _ => false,
    }
}

/// Whether `c` is a CJK ideograph (the basic block).
pub(super) use crate::text::is_han;

/// Number markers after a number: the level they give and their length in chars.
pub(super) fn number_marker(rest: &[char]) -> Option<(Level, usize)> {
    let c0 = *rest.first()?;
    let c1 = rest.get(1).copied();
    Some(match (c0, c1) {
        // 78号楼下: downstairs at 78号, a door and a place word.
        ('号', Some('楼')) if rest.get(2) == Some(&'下') => (Level::Number, 1),
        ('号', Some('楼')) | ('号', Some('房')) | ('号', Some('馆')) => (Level::Building, 2),
        ('号', Some('院')) => (Level::Number, 2),
        // 41号门: a gate of a market or campus, not a door number.
        ('号', Some('门')) if !matches!(rest.get(2), Some('口' | '面' | '前')) => {
            (Level::Subpoi, 2)
        }
        ('号', Some('搂')) => (Level::Building, 2),
        ('号', Some('厂')) if rest.get(2) == Some(&'房') => (Level::Building, 3),
        ('号', _) => (Level::Number, 1),
        ('支', Some('弄')) => (Level::Subroad, 2),
        // 162弄堂30号: 弄 said as 弄堂 between two numbers; a 弄堂 alone is an alley.
        ('弄', Some('堂')) if rest.get(2).is_some_and(char::is_ascii_digit) => (Level::Lane, 2),
        ('弄', Some('堂')) => return None,
        // 30租21号, 12祖898号: 组 heard and typed by its sound, between two numbers.
        ('租' | '祖' | '足', Some(c)) if c.is_ascii_digit() => (Level::Group, 1),
        ('弄', _) => (Level::Lane, 1),
        // 三栋楼, A幢楼: the building said with 楼 after its marker.
        ('幢' | '栋', Some('楼')) if rest.get(2) != Some(&'下') => (Level::Building, 2),
        ('幢', _)
        | ('栋', _)
        | ('座', _)
        | ('#', _)
        | ('憧', _)
        | ('撞', _)
        | ('楼', Some('栋')) => (Level::Building, 1),
        ('单', Some('元')) => (Level::Unit, 2),
        ('梯', _) => (Level::Unit, 1),
        ('铺', _) => (Level::Room, 1),
        ('门', _) if c1 != Some('口') && c1 != Some('面') => (Level::Unit, 1),
        ('层', _) => (Level::Floor, 1),
        ('楼', Some('下')) => return None,
        ('楼', _) => (Level::Floor, 1),
        ('f', _) | ('F', _) => (Level::Floor, 1),
        ('室', _) | ('户', _) => (Level::Room, 1),
        ('房', Some('间')) => (Level::Room, 2),
        ('房', _) if c1 != Some('产') && c1 != Some('子') => (Level::Room, 1),
        // 二组团, 7组团: a block of a compound, not a village group.
        ('组', Some('团')) => (Level::Subpoi, 2),
        ('组', _) | ('队', _) => (Level::Group, 1),
        // 19小组, 19生产队: the village group by its full or older name.
        ('小', Some('组' | '队')) => (Level::Group, 2),
        // 13村民小组, 13村民组: its formal title, as registers and committees write it.
        ('村', Some('民')) if rest.get(2..4) == Some(&['小', '组'][..]) => (Level::Group, 4),
        ('村', Some('民')) if rest.get(2) == Some(&'组') => (Level::Group, 3),
        ('生', Some('产')) if rest.get(2) == Some(&'队') => (Level::Group, 3),
        ('期', _) | ('区', _) => (Level::Subpoi, 1),
        _ => return None,
    })
}

/// Whether a road suffix follows, directly or after a side (康庄南路, 环城西路): then a town,
/// village or compound name before it is part of the road's name. A crossing (村东路口) is not.
pub(super) fn road_follows(rest: &[char]) -> bool {
    let rest = match rest {
        [c, tail @ ..] if is_side(*c) => tail,
        _ => rest,
    };
    match rest {
        // 路口; 路灯, 路面, 路边 — a complaint about the street after a door (339号路灯不亮).
        ['路' | '街', '口', ..] | ['路', '灯' | '面' | '边', ..] => false,
        ['路' | '街' | '巷', ..] | ['大' | '公', '道' | '街' | '路', ..] => true,
        _ => false,
    }
}

/// Whether a village suffix follows a road's name (谢家路村, 上街村): the road names the village.
/// 村口 and 村民 are words of their own.
pub(super) fn village_follows(rest: &[char]) -> bool {
    matches!(rest, ['村', ..]) && !matches!(rest.get(1), Some('口' | '民'))
}

/// A side and a road suffix (东路): after 号 it reads 12号 on the east road, not a street name.
fn is_side_road(rest: &[char]) -> bool {
    rest.first().is_some_and(|&c| is_side(c))
}

/// A side of a place (东 西 南 北 中), as in 东路 or 西区.
pub(super) fn is_side(c: char) -> bool {
    crate::dictionaries::ROAD_SIDES.contains(&c)
}

/// Whether the number ending at `end` is part of a road name (黄河5路, 7巷).
pub(super) fn road_name_number(chars: &[char], end: usize) -> bool {
    match chars.get(end) {
        Some('路' | '街' | '巷' | '横' | '纬' | '经') => true,
        // 12号大街, 6号路: a numbered street (not 6号路口, the door at a crossing).
        Some('号') => road_follows(&chars[end + 1..]) && !is_side_road(&chars[end + 1..]),
        Some('大') => matches!(chars.get(end + 1), Some('道' | '街')),
        // 232省道, 209国道
        Some('省' | '国' | '县' | '乡') => chars.get(end + 1) == Some(&'道'),
        _ => false,
    }
}

pub(super) fn level_for_last(chain_level: Level, marker_level: Level) -> Level {
    match marker_level {
        Level::Number | Level::Subpoi | Level::Group | Level::Lane | Level::Subroad => chain_level,
        other => other,
    }
}

pub(super) fn alnum_end(chars: &[char], from: usize) -> usize {
    let mut e = from;
    while e < chars.len() && is_alnum(chars[e]) {
        e += 1;
    }
    e
}
