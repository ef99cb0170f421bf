//! Keys that let a name be found when it is not written exactly: the stem without its road
//! suffix (公路 said as 路), the sound (toneless pinyin, for homophones), and character bigrams
//! (for typos).

use pinyin::ToPinyin;

pub use crate::dictionaries::road_stem;

/// The sound of a name: the toneless pinyin of each character, folded the way a Shanghai ear and
/// a pinyin keyboard confuse it (zh/z, ch/c, sh/s, n/l; -ng/-n), characters without pinyin kept.
///
/// # Examples
/// ```
/// use dizhi::search::keys::sound;
/// assert_eq!(sound("华腾"), sound("华藤"));
/// assert_eq!(sound("联民"), sound("联明")); // min / ming
/// assert_eq!(sound("崇"), sound("从")); // chong / cong
/// assert_ne!(sound("华腾"), sound("华新"));
/// ```
pub fn sound(name: &str) -> String {
    let mut out = String::with_capacity(name.len() * 2);
    for (c, p) in name.chars().zip(name.to_pinyin()) {
        if !out.is_empty() {
            out.push(' ');
        }
        match p {
            Some(p) => crate::text::sound::fold_syllable(p.plain(), &mut out),
            None => out.push(c),
        }
    }
    out
}

/// The character bigrams of a name (a single character is its own gram).
///
/// # Examples
/// ```
/// use dizhi::search::keys::bigrams;
/// assert_eq!(bigrams("华腾路"), ["华腾", "腾路"]);
/// assert_eq!(bigrams("杜"), ["杜"]);
/// ```
pub fn bigrams(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    if chars.len() < 2 {
        return chars.iter().map(|c| c.to_string()).collect();
    }
    chars.windows(2).map(|w| w.iter().collect()).collect()
}
