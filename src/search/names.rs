//! The distinct names of one kind (roads, compounds, villages) with the keys that find them when
//! they are not written exactly: stem, sound and bigrams. Read once from the index's term
//! dictionary at start (a few thousand names), so resolving a name costs no index query.

use std::collections::HashMap;

use tantivy::Searcher;
use tantivy::schema::Field;

use super::Result;
use super::keys::{bigrams, road_stem, sound};

/// The company forms a firm's registered name ends with, and what people say instead, longest
/// first.
const FIRM_ENDS: [&str; 7] = [
    "有限责任公司",
    "股份有限公司",
    "有限公司",
    "分公司",
    "公司",
    "工厂",
    "厂",
];

/// The shortest head of a firm's stem a name not said as a firm finds it by: fewer characters
/// name too many firms.
const FIRM_HEAD: usize = 4;

/// A compound's name without its generic end (`ends`, longest first): 明泰家园 → 明泰; under a
/// one-character end the word before it goes too when two characters stay (湖光景苑 → 湖光景,
/// 湖光). Empty when no end fits or less than two characters stay.
pub(crate) fn compound_stems(name: &str, ends: &[&str]) -> Vec<String> {
    let Some(end) = ends.iter().find(|e| name.ends_with(**e)) else {
        return Vec::new();
    };
    let stem: Vec<char> = name[..name.len() - end.len()].chars().collect();
    let mut stems = vec![stem.clone()];
    if end.chars().count() == 1 && stem.len() >= 3 {
        stems.push(stem[..stem.len() - 1].to_vec());
    }
    stems
        .into_iter()
        .filter(|st| st.len() >= 2)
        .map(|st| st.into_iter().collect())
        .collect()
}

/// Whether a name is said as a firm's (it ends with a company form: 公司, 厂).
pub(crate) fn said_as_firm(name: &str) -> bool {
    FIRM_ENDS.iter().any(|e| name.ends_with(e))
}

/// A firm's name without the city before it and the company form after it (上海祥平机械有限公司
/// → 祥平机械).
pub(crate) fn firm_stem(name: &str) -> Option<&str> {
    let rest = name
        .strip_prefix("上海市")
        .or_else(|| name.strip_prefix("上海"))
        .unwrap_or(name);
    let rest = FIRM_ENDS
        .iter()
        .find_map(|e| rest.strip_suffix(e))
        .unwrap_or(rest);
    (rest.chars().count() >= 2).then_some(rest)
}

/// Names this long (in chars) are keyed for one wrong character: one wrong char leaves a longer
/// name enough bigrams, a shorter one is no name.
const SHORT_NAMES: std::ops::RangeInclusive<usize> = 3..=5;

#[derive(Debug, Default)]
pub(crate) struct NameTable {
    names: Vec<String>,
    exact: HashMap<String, u32>,
    by_stem: HashMap<String, Vec<u32>>,
    by_sound: HashMap<String, Vec<u32>>,
    by_gram: HashMap<String, Vec<u32>>,
    /// Compounds by their name without its generic end (明泰 for 明泰家园, 湖光 for 湖光景苑).
    by_compound_stem: HashMap<String, Vec<u32>>,
    /// Firms by the name people say (祥平机械 for 上海祥平机械有限公司): the registered name
    /// without the city before it and the company form after it, under each of its heads of two
    /// characters or more (悦瑞包装 for 悦瑞包装制品).
    by_firm_stem: HashMap<String, Vec<u32>>,
    /// Short names (3–5 chars, where one wrong char leaves too few bigrams) keyed with each char
    /// but the last masked: 星浜村 under ?浜村 and 星?村.
    by_masked: HashMap<String, Vec<u32>>,
    /// Whether names are roads (keys on the stem without the suffix).
    roads: bool,
}

impl NameTable {
    /// Every term of `field` across the index's segments.
    pub fn read(searcher: &Searcher, field: Field, roads: bool) -> Result<NameTable> {
        let mut table = NameTable {
            roads,
            ..NameTable::default()
        };
        for segment in searcher.segment_readers() {
            let inverted = segment.inverted_index(field)?;
            let mut stream = inverted
                .terms()
                .stream()
                .map_err(|e| super::Error::Io("index terms".into(), e))?;
            while stream.advance() {
                if let Ok(name) = std::str::from_utf8(stream.key()) {
                    table.add(name);
                }
            }
        }
        Ok(table)
    }

    /// A table of the given names (the district's towns and communities).
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> NameTable {
        let mut table = NameTable::default();
        for n in names {
            table.add(n);
        }
        table
    }

    /// Keys every compound also by its name without its generic end (`suffixes`, longest
    /// first): 明泰家园 → 明泰; with a one-character end, the word before it goes too when two
    /// characters stay (湖光景苑 → 湖光景, 湖光).
    pub fn with_compound_stems(mut self, suffixes: &[String]) -> NameTable {
        let mut sorted: Vec<&str> = suffixes.iter().map(String::as_str).collect();
        sorted.sort_by_key(|s| std::cmp::Reverse(s.chars().count()));
        for (i, name) in self.names.iter().enumerate() {
            for st in compound_stems(name, &sorted) {
                let list = self.by_compound_stem.entry(st).or_default();
                if list.last() != Some(&(i as u32)) {
                    list.push(i as u32);
                }
            }
        }
        self
    }

    /// Keys every firm by its [`firm_stem`] and each head of that stem (two characters or more:
    /// a brand said with 公司 or 厂 is found by two).
    pub fn with_firm_stems(mut self) -> NameTable {
        for (i, name) in self.names.iter().enumerate() {
            let Some(stem) = firm_stem(name).filter(|_| said_as_firm(name)) else {
                continue;
            };
            let chars: Vec<char> = stem.chars().collect();
            for k in 2..=chars.len() {
                let list = self
                    .by_firm_stem
                    .entry(chars[..k].iter().collect())
                    .or_default();
                if list.last() != Some(&(i as u32)) {
                    list.push(i as u32);
                }
            }
        }
        self
    }

    /// Firms a name as said may stand for (祥平机械厂, 安湖实业公司, 悦瑞包装; 龙鑫公司 by its
    /// brand when said as a firm; 珠宏物流园 by its head).
    pub fn by_firm_stem(&self, said: &str) -> Vec<&str> {
        let Some(stem) = firm_stem(said) else {
            return Vec::new();
        };
        let chars: Vec<char> = stem.chars().collect();
        let shortest = if said_as_firm(said) { 2 } else { FIRM_HEAD };
        (shortest..=chars.len())
            .rev()
            .map(|k| chars[..k].iter().collect::<String>())
            .find_map(|head| self.by_firm_stem.get(&head))
            .map_or_else(Vec::new, |ids| self.resolve_ids(Some(ids)))
    }

    /// Compounds whose name without its generic end is `stem` (明泰 → 明泰家园).
    pub fn by_compound_stem(&self, stem: &str) -> Vec<&str> {
        self.resolve_ids(self.by_compound_stem.get(stem))
    }

    fn add(&mut self, name: &str) {
        if self.exact.contains_key(name) {
            return;
        }
        let i = self.names.len() as u32;
        self.names.push(name.to_string());
        self.exact.insert(name.to_string(), i);
        let key = self.key(name).to_string();
        if self.roads {
            self.by_stem.entry(key.clone()).or_default().push(i);
        }
        self.by_sound.entry(sound(&key)).or_default().push(i);
        if self.roads && key != name {
            // 兴枫工路 for 兴枫公路: the suffix misheard too, so the whole name's sound as well.
            let whole = sound(name);
            let list = self.by_sound.entry(whole).or_default();
            if list.last() != Some(&i) {
                list.push(i);
            }
        }
        for g in bigrams(name) {
            let list = self.by_gram.entry(g).or_default();
            if list.last() != Some(&i) {
                list.push(i);
            }
        }
        for k in masked_keys(name) {
            self.by_masked.entry(k).or_default().push(i);
        }
    }

    fn key<'a>(&self, name: &'a str) -> &'a str {
        if self.roads { road_stem(name) } else { name }
    }

    fn resolve_ids(&self, ids: Option<&Vec<u32>>) -> Vec<&str> {
        ids.into_iter()
            .flatten()
            .map(|&i| self.names[i as usize].as_str())
            .collect()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.exact.contains_key(name)
    }

    /// Names with the same stem (华徐路 → 华徐公路).
    pub fn same_stem(&self, name: &str) -> Vec<&str> {
        if !self.roads {
            return Vec::new();
        }
        self.resolve_ids(self.by_stem.get(road_stem(name)))
    }

    /// Names that sound the same.
    pub fn same_sound(&self, name: &str) -> Vec<&str> {
        let mut out = self.resolve_ids(self.by_sound.get(&sound(self.key(name))));
        if self.roads && self.key(name) != name {
            for n in self.resolve_ids(self.by_sound.get(&sound(name))) {
                if !out.contains(&n) {
                    out.push(n);
                }
            }
        }
        out
    }

    /// Names one character off `name` (星滨村 for 星浜村: a character mistyped by its look or
    /// meaning, not its sound), or with two neighbours swapped (珠泾村 for 泾珠村); the last
    /// character (the suffix) always agrees. For 3–5 character names, where bigrams fail.
    pub fn one_char_off(&self, name: &str) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for k in masked_keys(name) {
            for n in self.resolve_ids(self.by_masked.get(&k)) {
                if n != name && !out.contains(&n) {
                    out.push(n);
                }
            }
        }
        let chars: Vec<char> = name.chars().collect();
        if SHORT_NAMES.contains(&chars.len()) {
            for i in 0..chars.len() - 2 {
                let mut swapped = chars.clone();
                swapped.swap(i, i + 1);
                let swapped: String = swapped.into_iter().collect();
                if let Some(&id) = self.exact.get(&swapped) {
                    let n = self.names[id as usize].as_str();
                    if n != name && !out.contains(&n) {
                        out.push(n);
                    }
                }
            }
        }
        out
    }

    /// The name sharing most bigrams with `name` (Dice coefficient), if any shares at least
    /// `min_dice`.
    pub fn nearest_by_bigrams(&self, name: &str, min_dice: f64) -> Option<(&str, f64)> {
        let grams = bigrams(name);
        if grams.len() < 2 {
            return None;
        }
        let mut shared: HashMap<u32, usize> = HashMap::new();
        for g in &grams {
            for &i in self.by_gram.get(g).into_iter().flatten() {
                *shared.entry(i).or_default() += 1;
            }
        }
        shared
            .into_iter()
            .map(|(i, k)| {
                let n = &self.names[i as usize];
                let theirs = n.chars().count().saturating_sub(1).max(1);
                (n.as_str(), 2.0 * k as f64 / (grams.len() + theirs) as f64)
            })
            .filter(|(_, dice)| *dice >= min_dice)
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(a.0)))
    }
}

/// `name` (3–5 chars) with each char but the last masked in turn.
fn masked_keys(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    if !SHORT_NAMES.contains(&chars.len()) {
        return Vec::new();
    }
    (0..chars.len() - 1)
        .map(|i| {
            let mut k = chars.clone();
            k[i] = '\u{0}';
            k.into_iter().collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_firm_is_found_by_the_name_people_say() {
        let t =
            NameTable::from_names(["上海祥平机械有限公司", "上海悦瑞包装制品有限公司", "祥平苑"])
                .with_firm_stems();
        assert_eq!(t.by_firm_stem("祥平机械厂"), ["上海祥平机械有限公司"]);
        assert_eq!(t.by_firm_stem("祥平机械公司"), ["上海祥平机械有限公司"]);
        assert_eq!(t.by_firm_stem("悦瑞包装"), ["上海悦瑞包装制品有限公司"]);
        // Without 公司 or 厂, three characters name too many firms; a compound is no firm.
        assert!(t.by_firm_stem("祥平机").is_empty());
        assert_eq!(t.by_firm_stem("祥平厂"), ["上海祥平机械有限公司"]);
        assert_eq!(t.by_firm_stem("悦瑞包装园"), ["上海悦瑞包装制品有限公司"]);
        assert!(t.by_firm_stem("祥平苑").is_empty());
    }

    #[test]
    fn a_short_name_one_char_off_is_found_but_not_past_its_suffix() {
        let t = NameTable::from_names(["星浜村", "泾珠村", "星浜路", "华新镇"]);
        assert_eq!(t.one_char_off("星滨村"), vec!["星浜村"]);
        assert_eq!(t.one_char_off("珠泾村"), vec!["泾珠村"]);
        assert!(t.one_char_off("星浜村").is_empty());
        // The suffix is never the char that differs: 星浜街 is no 星浜村 or 星浜路.
        assert!(t.one_char_off("星浜街").is_empty());
    }

    #[test]
    fn a_compound_is_found_without_its_generic_end() {
        let ends = ["家园", "苑", "花园"].map(String::from);
        let t =
            NameTable::from_names(["明泰家园", "湖光景苑", "明泰路"]).with_compound_stems(&ends);
        assert_eq!(t.by_compound_stem("明泰"), vec!["明泰家园"]);
        assert_eq!(t.by_compound_stem("湖光"), vec!["湖光景苑"]);
        assert_eq!(t.by_compound_stem("湖光景"), vec!["湖光景苑"]);
        assert!(t.by_compound_stem("明").is_empty());
    }
}
