//! Normalization: full-width → half-width, Chinese numerals → digits where they are numbers,
//! dash and space variants → one spelling, control characters → spaces. Every normalized character
//! remembers the span of the original input it came from, so spans found on the normalized text
//! can be mapped back to the caller's text.

use super::numerals::{is_numeral, to_digits};

/// Normalized text with a character map back to the original input.
///
/// # Examples
/// ```
/// let n = dizhi::text::normalize("华腾路一二八八弄３号");
/// assert_eq!(n.text(), "华腾路1288弄3号");
/// // normalized chars 3..8 ("1288弄") came from original chars 3..8
/// assert_eq!(n.original_span(3, 8), (3, 8));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Normalized {
    text: String,
    chars: Vec<char>,
    /// For each normalized char, the original char span `[start, end)` it came from.
    origin: Vec<(usize, usize)>,
    /// Original input length in chars.
    original_len: usize,
}

impl Normalized {
    /// The normalized text.
    /// # Examples
    /// ```
    /// let n = dizhi::text::normalize("Ａ座十二楼");
    /// assert_eq!(n.text(), "A座12楼");
    /// assert_eq!(n.chars().len(), n.len());
    /// assert!(!n.is_empty());
    /// assert_eq!(n.original_span(2, 5), (2, 5));
    /// ```
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The normalized text as characters.
    /// # Examples
    /// ```
    /// let n = dizhi::text::normalize("Ａ座十二楼");
    /// assert_eq!(n.text(), "A座12楼");
    /// assert_eq!(n.chars().len(), n.len());
    /// assert!(!n.is_empty());
    /// assert_eq!(n.original_span(2, 5), (2, 5));
    /// ```
    pub fn chars(&self) -> &[char] {
        &self.chars
    }

    /// Number of normalized characters.
    /// # Examples
    /// ```
    /// let n = dizhi::text::normalize("Ａ座十二楼");
    /// assert_eq!(n.text(), "A座12楼");
    /// assert_eq!(n.chars().len(), n.len());
    /// assert!(!n.is_empty());
    /// assert_eq!(n.original_span(2, 5), (2, 5));
    /// ```
    pub fn len(&self) -> usize {
        self.chars.len()
    }

    /// Whether the normalized text is empty.
    /// # Examples
    /// ```
    /// let n = dizhi::text::normalize("Ａ座十二楼");
    /// assert_eq!(n.text(), "A座12楼");
    /// assert_eq!(n.chars().len(), n.len());
    /// assert!(!n.is_empty());
    /// assert_eq!(n.original_span(2, 5), (2, 5));
    /// ```
    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// The original char span covered by normalized chars `[start, end)`.
    /// # Examples
    /// ```
    /// let n = dizhi::text::normalize("Ａ座十二楼");
    /// assert_eq!(n.text(), "A座12楼");
    /// assert_eq!(n.chars().len(), n.len());
    /// assert!(!n.is_empty());
    /// assert_eq!(n.original_span(2, 5), (2, 5));
    /// ```
    pub fn original_span(&self, start: usize, end: usize) -> (usize, usize) {
        if start >= end || start >= self.origin.len() {
            let at = self
                .origin
                .get(start)
                .map(|o| o.0)
                .unwrap_or(self.original_len);
            return (at, at);
        }
        let end = end.min(self.origin.len());
        (self.origin[start].0, self.origin[end - 1].1)
    }
}

/// A Chinese numeral character's digit value, or `None` for the multipliers and non-numerals.
/// Whether the text after a numeral run makes it a number (一二八八弄, 十三号, 五楼) rather than
/// part of a name (三元村, 六里桥, 九亭). Only the level markers that follow a number count.
fn starts_number_marker(rest: &[char]) -> bool {
    let Some(&c) = rest.first() else {
        return false;
    };
    match c {
        '号' | '弄' | '幢' | '栋' | '楼' | '层' | '室' | '座' | '户' | '组' | '梯' | '#' | '撞' => {
            true
        }
        '单' => rest.get(1) == Some(&'元'),
        '支' => rest.get(1) == Some(&'弄'),
        // 六队, 十八小队: the village group by its older names.
        '队' => true,
        '小' => matches!(rest.get(1), Some('组' | '队')),
        '生' => rest.get(1..3) == Some(&['产', '队'][..]),
        // 四六八龙二号: 弄 by its sound between two numbers.
        '龙' | '隆' | '农' => number_follows(&rest[1..]),

        _ => false,
    }
}

/// Whether a numeral run with no marker after it is a door or room number said aloud with the
/// marker dropped (沪蒸路三五, 八五弄六, 一六组四九, 28号四零三, 二号楼三零二): it follows a road,
/// lane, group, door, building or unit marker and nothing but a separator, a place word or the end
/// of the text comes after it.
/// A run inside a name (三元村, 六里桥) has a name character after it and stays as written.
fn spoken_door(before: &[char], after: &[char]) -> bool {
    // Pauses between the marker and the number (二三组 一二七四, 胜中路。四百一十六) are skipped.
    let pause =
        |c: &char| c.is_whitespace() || c.is_ascii_punctuation() || matches!(c, '，' | '。' | '、');
    let Some(k) = before.iter().rposition(|c| !pause(c)) else {
        return false;
    };
    let prev = before[k];
    // 二号楼三零二, 3楼五零二, 2单元六零一: a room after a building, floor or unit marker.
    let before_prev = k.checked_sub(1).map(|i| before[i]);
    let building_or_unit = match prev {
        '楼' => before_prev.is_some_and(|c| c == '号' || c.is_ascii_digit() || is_numeral(c)),
        '元' => before_prev == Some('单'),
        _ => false,
    };
    // After a pause, any name may come before the door (龙溪名邸。十七): the numerals stand alone.
    let paused = before.last().is_some_and(|&c| is_pause(c)) && super::is_han(prev);
    let marker_before = paused
        || building_or_unit
        || matches!(
            prev,
            '路' | '街' | '巷' | '弄' | '组' | '号' | '道' | '幢' | '栋' | '队' | '村'
        );
    const PLACE_WORDS: [[char; 2]; 13] = [
        ['对', '面'],
        ['旁', '边'],
        ['门', '口'],
        ['附', '近'],
        ['边', '上'],
        ['里', '面'],
        ['后', '面'],
        ['前', '面'],
        ['隔', '壁'],
        ['那', '个'],
        ['这', '个'],
        ['那', '边'],
        ['楼', '下'],
    ];
    let ends = match after {
        [] => true,
        [c, ..] if c.is_whitespace() || c.is_ascii_punctuation() || *c == '的' => true,
        [a, b, ..] => PLACE_WORDS.contains(&[*a, *b]),
        _ => false,
    };
    marker_before && ends
}

/// Maps one character to its normalized form: full-width → ASCII, dash/space/control variants.
fn map_char(c: char) -> char {
    let c = match c {
        '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
        c => c,
    };
    match c {
        '\u{3000}' | '\u{a0}' => ' ',
        '—' | '–' | '―' | '~' | '−' | '_' => '-',
        '【' | '〔' => '(',
        '】' | '〕' => ')',
        '、' | '。' => ',',
        '號' => '号',
        c if c.is_control() || c.is_whitespace() => ' ',
        c => c,
    }
}

/// Normalizes `input` (see the module docs).
///
/// # Examples
/// ```
/// use dizhi::text::normalize;
/// assert_eq!(normalize("十三号").text(), "13号");
/// assert_eq!(normalize("三百零五室").text(), "305室");
/// assert_eq!(normalize("三元村六里桥九亭").text(), "三元村六里桥九亭");
/// let n = normalize("三百零五室");
/// assert_eq!(n.original_span(0, 3), (0, 4)); // "305" came from "三百零五"
/// ```
pub fn normalize(input: &str) -> Normalized {
    let original: Vec<char> = input.chars().map(map_char).collect();
    let mut out = Normalized {
        text: String::with_capacity(input.len()),
        chars: Vec::with_capacity(original.len()),
        origin: Vec::with_capacity(original.len()),
        original_len: original.len(),
    };
    let mut i = 0;
    while i < original.len() {
        let c = original[i];
        if c == '一'
            && i > 0
            && original[i - 1].is_ascii_digit()
            && original.get(i + 1).is_some_and(char::is_ascii_digit)
        {
            // 5一4一302: a dash typed as the numeral one.
            out.chars.push('-');
            out.origin.push((i, i + 1));
            i += 1;
            continue;
        }
        if is_numeral(c) {
            let mut j = i;
            while j < original.len() && is_numeral(original[j]) {
                j += 1;
            }
            // A numeral right after a letter or digit is part of a code, not a number of its own.
            if (starts_number_marker(after_spaces(&original[j..]))
                || spoken_door(&original[..i], &original[j..]))
                && let Some(value) = to_digits(&original[i..j])
            {
                for d in value.chars() {
                    out.chars.push(d);
                    out.origin.push((i, j));
                }
                i = j;
                continue;
            }
            for (k, &c) in original[i..j].iter().enumerate() {
                out.chars.push(c);
                out.origin.push((i + k, i + k + 1));
            }
            i = j;
            continue;
        }
        let after_number = out.chars.last().is_some_and(char::is_ascii_alphanumeric);
        if c == ' ' && after_number {
            // 337 弄 11 号: a space typed between a number and its marker is no separator.
            let rest = after_spaces(&original[i..]);
            if starts_number_marker(rest) {
                i = original.len() - rest.len();
                continue;
            }
        }
        // 16撞: 幢 typed by its sound (zhuang) right after the number; 468龙2号: 弄 by its
        // Shanghai sound (long) between two numbers.
        let lane_by_sound = matches!(c, '龙' | '隆' | '农')
            && out.chars.last().is_some_and(char::is_ascii_digit)
            && number_follows(&original[i + 1..]);
        let c = match c {
            '撞' if after_number => '幢',
            _ if lane_by_sound => '弄',
            c => c,
        };
        out.chars.push(c);
        out.origin.push((i, i + 1));
        i += 1;
    }
    out.text = out.chars.iter().collect();
    out
}

/// A digit (half or full width) or a Chinese numeral.
fn is_digit_or_numeral(c: char) -> bool {
    c.is_ascii_digit() || ('０'..='９').contains(&c) || is_numeral(c)
}

/// Whether a number (or 门牌 before one) comes next, past any pause.
fn number_follows(rest: &[char]) -> bool {
    let rest = &rest[rest.iter().take_while(|c| is_pause(**c)).count()..];
    rest.first().is_some_and(|&n| is_digit_or_numeral(n)) || rest.starts_with(&['门', '牌'])
}

/// A space or a pause mark between two parts (，。、).
fn is_pause(c: char) -> bool {
    c.is_whitespace() || matches!(c, ',' | '.' | '，' | '。' | '、')
}

/// `rest` past the spaces it starts with.
fn after_spaces(rest: &[char]) -> &[char] {
    let n = rest.iter().take_while(|&&c| c == ' ').count();
    &rest[n..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_space_between_a_number_and_its_marker_is_dropped() {
        let n = normalize("港胜路 337 弄 11 号");
        assert_eq!(n.text(), "港胜路 337弄 11号");
        // 弄 keeps its place in the input.
        assert_eq!(n.original_span(4, 8), (4, 9));
        assert_eq!(normalize("三三七  弄十一 号").text(), "337弄11号");
        assert_eq!(normalize("B 座").text(), "B座");
        // A space before a name stays.
        assert_eq!(normalize("337 号 楼下").text(), "337号 楼下");
        assert_eq!(normalize("港胜路 337").text(), "港胜路 337");
        assert_eq!(normalize("16撞 二十撞").text(), "16幢 20幢");
        assert_eq!(normalize("撞击").text(), "撞击");
        assert_eq!(normalize("468龙2号 12隆三号").text(), "468弄2号 12弄3号");
        assert_eq!(normalize("四六八龙二号").text(), "468弄2号");
        assert_eq!(normalize("74隆。21号").text(), "74弄,21号");
        assert_eq!(normalize("347龙门牌6号").text(), "347弄门牌6号");
        assert_eq!(
            normalize("龙华路1号 3龙 农家乐").text(),
            "龙华路1号 3龙 农家乐"
        );
        assert_eq!(normalize("十九小组 三生产队").text(), "19小组 3生产队");
        assert_eq!(normalize("六队 十八小队 廿二组").text(), "6队 18小队 22组");
        assert_eq!(normalize("三小学").text(), "三小学");
    }

    #[test]
    fn numerals_become_digits_only_before_markers() {
        assert_eq!(normalize("一二八八弄").text(), "1288弄");
        assert_eq!(normalize("十三号").text(), "13号");
        assert_eq!(normalize("三百零五室").text(), "305室");
        assert_eq!(normalize("十号").text(), "10号");
        assert_eq!(normalize("二十单元").text(), "20单元");
        assert_eq!(normalize("一千零一号").text(), "1001号");
        assert_eq!(normalize("三元村").text(), "三元村");
        assert_eq!(normalize("六里桥九亭").text(), "六里桥九亭");
        assert_eq!(normalize("五楼").text(), "5楼");
    }

    #[test]
    fn spoken_doors_without_marker() {
        assert_eq!(normalize("沪蒸路三五").text(), "沪蒸路35");
        assert_eq!(normalize("八五弄六").text(), "85弄6");
        assert_eq!(normalize("一六组四九").text(), "16组49");
        assert_eq!(normalize("宁岭路八十八").text(), "宁岭路88");
        assert_eq!(normalize("华腾路三五对面").text(), "华腾路35对面");
        assert_eq!(normalize("28号四零三").text(), "28号403");
        assert_eq!(
            normalize("青龙村,二三组 一二七四").text(),
            "青龙村,23组 1274"
        );
        assert_eq!(normalize("龙溪名邸。十七").text(), "龙溪名邸,17");
        assert_eq!(normalize("龙溪名邸 二四后面").text(), "龙溪名邸 24后面");
        // A numeral starting a name stays: 五里桥, 三元村 (also after a pause).
        assert_eq!(normalize("华腾路五里桥").text(), "华腾路五里桥");
        assert_eq!(normalize("青浦三元村").text(), "青浦三元村");
        assert_eq!(normalize("青浦，三元村").text(), "青浦,三元村");
    }

    #[test]
    fn width_and_variants() {
        assert_eq!(normalize("３号楼－５０２").text(), "3号楼-502");
        assert_eq!(normalize("a\tb\u{3000}c").text(), "a b c");
    }

    #[test]
    fn spans_map_back() {
        let n = normalize("路十三号");
        assert_eq!(n.text(), "路13号");
        assert_eq!(n.original_span(1, 4), (1, 4));
        assert_eq!(n.original_span(0, 1), (0, 1));
        assert_eq!(n.original_span(4, 4), (4, 4));
    }
}
