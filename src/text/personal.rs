//! The one detector of personal numbers — mobile and landline phone numbers, resident ID cards —
//! used by the parser (a number it finds is masked and never taken for a door number), the access
//! log, every stored note and comment, and imported free text.
//!
//! A number may be written with ASCII or full-width digits or Chinese numerals (一三八…, 〇/零/幺/洞/两; [`super::numerals`]),
//! in groups joined by one to three separators (` - `): spaces (also full-width and no-break), `-` and its
//! full-width and dash forms, `.`/`．`, `·`, and a closing bracket after an area code. A group of
//! more than 8 digits ends a number, so two numbers written one after the other stay two. What a
//! run of groups is:
//!
//! | digits | kind |
//! |---|---|
//! | 11, `1[3-9]…`; 13, `861[3-9]…` | mobile |
//! | 10–12 starting with `0` | landline with its area code |
//! | 7–8, one group or `NNN(N) NNNN` | local landline |
//! | 15, 18, or 17 and `X` | ID card |
//! | any other single group of 7 or more | a long number (masked in text, not reported by the parser) |
//!
//! Masking keeps the first 3 and the last 2 digits and the separators; the rest become `*`.

use super::numerals;

/// The most digits of a personal number (`+86` and a mobile is 13, an ID card 18).
const MAX_DIGITS: usize = 19;

/// Masking passes before every digit of a pathological text is masked.
const MAX_PASSES: usize = 4;

/// What a personal number is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonalKind {
    /// A mobile phone number.
    Mobile,
    /// A landline number, with or without its area code.
    Landline,
    /// A resident ID card number.
    IdCard,
    /// Another run of 7 or more digits (a bank card, an unknown number).
    LongNumber,
}

/// A personal number found in a text: chars `start..end` (char indices).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    /// What it is.
    pub kind: PersonalKind,
    /// Its first char.
    pub start: usize,
    /// The char after it.
    pub end: usize,
}

/// A digit's value, for ASCII and full-width digits and the Chinese numerals said digit by digit.
fn digit(c: char) -> Option<u8> {
    match c {
        '0'..='9' => Some(c as u8 - b'0'),
        '０'..='９' => Some((c as u32 - '０' as u32) as u8),
        '○' => Some(0),
        c => numerals::digit(c).map(|d| d as u8),
    }
}

fn is_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '\u{3000}'
            | '\u{a0}'
            | '\t'
            | '-'
            | '－'
            | '—'
            | '–'
            | '‐'
            | '‑'
            | '_'
            | '.'
            | '．'
            | '·'
            | '・'
            | ')'
            | '）'
    )
}

fn is_x(c: char) -> bool {
    matches!(c, 'X' | 'x' | 'Ｘ' | 'ｘ')
}

/// A run of digits.
#[derive(Debug, Clone)]
struct Group {
    start: usize,
    end: usize,
    digits: Vec<u8>,
}

/// The groups of one chain (groups joined by 1–3 separators, each before a separator ≤ 8 digits).
fn chains(chars: &[char]) -> Vec<Vec<Group>> {
    let mut out: Vec<Vec<Group>> = Vec::new();
    let mut i = 0;
    let mut chain: Vec<Group> = Vec::new();
    while i < chars.len() {
        if digit(chars[i]).is_none() {
            i += 1;
            continue;
        }
        let start = i;
        let mut digits = Vec::new();
        while i < chars.len() {
            match digit(chars[i]) {
                Some(d) => digits.push(d),
                None => break,
            }
            i += 1;
        }
        let group = Group {
            start,
            end: i,
            digits,
        };
        // Joined to the chain when only 1–3 separators lie between it and the last group.
        let joined = chain.last().is_some_and(|last| {
            last.digits.len() <= 8
                && (1..=3).contains(&(start - last.end))
                && chars[last.end..start].iter().all(|&c| is_separator(c))
        });
        if !joined && !chain.is_empty() {
            out.push(std::mem::take(&mut chain));
        }
        chain.push(group);
    }
    if !chain.is_empty() {
        out.push(chain);
    }
    out
}

/// What the digits of groups `s..=e` of a chain are, if they are a personal number.
fn classify(groups: &[Group], x_follows: bool) -> Option<(PersonalKind, bool)> {
    let digits: Vec<u8> = groups
        .iter()
        .flat_map(|g| g.digits.iter().copied())
        .collect();
    let n = digits.len();
    let d = |i: usize| digits[i];
    if n == 17 && x_follows {
        return Some((PersonalKind::IdCard, true));
    }
    let kind = match n {
        11 if d(0) == 1 && d(1) >= 3 => PersonalKind::Mobile,
        13 if d(0) == 8 && d(1) == 6 && d(2) == 1 && d(3) >= 3 => PersonalKind::Mobile,
        15 | 18 => PersonalKind::IdCard,
        10..=12 if d(0) == 0 => PersonalKind::Landline,
        7 | 8
            if d(0) != 0
                && (groups.len() == 1
                    || (groups.len() == 2
                        && (3..=4).contains(&groups[0].digits.len())
                        && groups[1].digits.len() == 4)) =>
        {
            PersonalKind::Landline
        }
        _ if groups.len() == 1 && n >= 7 => PersonalKind::LongNumber,
        _ => return None,
    };
    Some((kind, false))
}

/// The personal numbers in `chars`, in order, not overlapping.
///
/// # Examples
/// ```
/// use dizhi::text::personal::{find_personal, PersonalKind};
/// let chars: Vec<char> = "华腾路88号 138　1234　5678".chars().collect();
/// let found = find_personal(&chars);
/// assert_eq!(found.len(), 1);
/// assert_eq!(found[0].kind, PersonalKind::Mobile);
/// assert_eq!((found[0].start, found[0].end), (7, 20));
/// ```
pub fn find_personal(chars: &[char]) -> Vec<Found> {
    let mut out = Vec::new();
    for chain in chains(chars) {
        let mut s = 0;
        while s < chain.len() {
            // No personal number has more than 19 digits: the groups looked at from `s` are few
            // however long the chain (a hostile "8 8 8 8 …" stays linear).
            let mut last = s;
            let mut digits = chain[s].digits.len();
            while last + 1 < chain.len() && digits + chain[last + 1].digits.len() <= MAX_DIGITS {
                last += 1;
                digits += chain[last].digits.len();
            }
            let mut hit = None;
            for e in (s..=last).rev() {
                let x_follows = chars.get(chain[e].end).copied().is_some_and(is_x);
                if let Some((kind, with_x)) = classify(&chain[s..=e], x_follows) {
                    hit = Some((e, kind, chain[e].end + usize::from(with_x)));
                    break;
                }
            }
            match hit {
                Some((e, kind, end)) => {
                    out.push(Found {
                        kind,
                        start: chain[s].start,
                        end,
                    });
                    s = e + 1;
                }
                None => s += 1,
            }
        }
    }
    out
}

/// `chars` with the digits of a personal number masked: all but the first 3 and the last 2
/// digits become `*`, separators stay.
pub fn mask_chars(chars: &[char]) -> String {
    let total = chars
        .iter()
        .filter(|&&c| digit(c).is_some() || is_x(c))
        .count();
    let mut seen = 0;
    chars
        .iter()
        .map(|&c| {
            if digit(c).is_some() || is_x(c) {
                seen += 1;
                if seen <= 3 || seen + 2 > total {
                    c
                } else {
                    '*'
                }
            } else {
                c
            }
        })
        .collect()
}

/// `text` with every personal number masked (the long numbers too): for logs, notes, comments
/// and imported free text.
///
/// # Examples
/// ```
/// use dizhi::text::personal::mask_personal;
/// assert_eq!(mask_personal("华腾路88号 13812345678"), "华腾路88号 138******78");
/// assert_eq!(mask_personal("138　1234　5678"), "138　****　**78");
/// assert_eq!(mask_personal("电话021-5987-1234"), "电话021-****-**34");
/// assert_eq!(mask_personal("一三八一二三四五六七八"), "一三八******七八");
/// assert_eq!(mask_personal("身份证31011819900101123X"), "身份证310*************3X");
/// assert_eq!(mask_personal("1288弄3号502室 201700 2024-01-15"), "1288弄3号502室 201700 2024-01-15");
/// ```
pub fn mask_personal(text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let mut found = find_personal(&chars);
    if found.is_empty() {
        return text.to_string();
    }
    // Digits left in clear beside a masked number can read as a number of their own (the last
    // two of one and a short group after it): mask again until nothing is found. Each pass masks
    // at least two digits; a text still not clean after a few passes has every digit masked.
    let mut passes = 0;
    while !found.is_empty() {
        if passes == MAX_PASSES {
            for c in chars.iter_mut().filter(|c| digit(**c).is_some()) {
                *c = '*';
            }
            break;
        }
        for f in &found {
            let masked: Vec<char> = mask_chars(&chars[f.start..f.end]).chars().collect();
            chars.splice(f.start..f.end, masked);
        }
        found = find_personal(&chars);
        passes += 1;
    }
    chars.into_iter().collect()
}

/// Whether `text` still holds a personal number in clear.
pub fn has_personal(text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    !find_personal(&chars).is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_leaves_nothing_to_find_and_stays_linear() {
        // Digits kept beside a masked number, and short groups after it, once read as new numbers.
        for text in [
            "118 8 8 8 8 8 8 8 8 8 8 8 8 8 8 0118 1",
            "310118 19900101 10118 19900101 10118 19900101 123X",
            "0101 0101 0101 0101 0101 0101 0101 0101",
        ] {
            let masked = mask_personal(text);
            assert!(!has_personal(&masked), "{text:?} → {masked:?}");
            assert_eq!(masked.chars().count(), text.chars().count());
        }
        let hostile = "8 ".repeat(200_000);
        let started = std::time::Instant::now();
        assert!(!has_personal(&mask_personal(&hostile)));
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }
}
