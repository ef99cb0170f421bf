//! The parser's word lists from `dictionaries/parse_words.tsv`: fillers, near-qualifiers and the
//! suffixes that close names.

use super::fx::FxHashSet;
use super::lookahead::{is_han, is_separator};
use crate::Level;

/// What a closing suffix makes of the name it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NameClass {
    /// A name with a level of its own (road, town, community, devzone).
    Level(Level),
}

/// Word lists, each sorted longest first so that the first match is the longest.
#[derive(Debug, Clone, Default)]
pub(crate) struct ParseWords {
    pub filler: Vec<Vec<char>>,
    /// Words said before the address (我们是, 报修地址, 派人到): dropped as a run at the start.
    pub lead: Vec<Vec<char>>,
    pub near: Vec<Vec<char>>,
    /// Closing suffixes with the class they give, longest first.
    pub suffixes: Vec<(Vec<char>, NameClass)>,
    pub poi_suffixes: Vec<Vec<char>>,
    /// Words that name a part of a compound or unit (售楼处, 东门, 仓库).
    pub poi_parts: Vec<Vec<char>>,
    /// Spellings of one kind of public place, one group per row (社区卫生服务中心, 社区医院,
    /// 卫生院), longest first within a group.
    pub place_generics: Vec<Vec<String>>,
    /// Common nouns that end like names (农村).
    pub not_name: Vec<Vec<char>>,
    /// Single chars joining two roads (与, 和).
    pub connectors: Vec<char>,
    /// First chars of fillers and near-words, last chars of suffixes: most positions are rejected
    /// by one set lookup instead of comparing every word.
    filler_first: FxHashSet<char>,
    near_first: FxHashSet<char>,
    suffix_last: FxHashSet<char>,
    poi_last: FxHashSet<char>,
}

const PARSE_WORDS: &str = include_str!("../../../dictionaries/parse_words.tsv");

impl ParseWords {
    pub fn embedded() -> Self {
        let mut w = ParseWords::default();
        let rows = PARSE_WORDS
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .skip(1);
        for row in rows {
            let Some((kind, words)) = row.split_once('\t') else {
                continue;
            };
            let words = words
                .split('|')
                .filter(|s| !s.is_empty())
                .map(|s| s.chars().collect::<Vec<char>>());
            match kind {
                "filler" => w.filler.extend(words),
                "lead" => w.lead.extend(words),
                "near" => w.near.extend(words),
                "town_suffix" => w
                    .suffixes
                    .extend(words.map(|s| (s, NameClass::Level(Level::Town)))),
                "devzone_suffix" => w
                    .suffixes
                    .extend(words.map(|s| (s, NameClass::Level(Level::Devzone)))),
                "community_suffix" => w
                    .suffixes
                    .extend(words.map(|s| (s, NameClass::Level(Level::Community)))),
                "road_suffix" => w
                    .suffixes
                    .extend(words.map(|s| (s, NameClass::Level(Level::Road)))),
                "poi_suffix" => w.poi_suffixes.extend(words),
                "poi_part" => w.poi_parts.extend(words),
                "place_generic" => {
                    let mut group: Vec<String> = words.map(|s| s.into_iter().collect()).collect();
                    group.sort_by_key(|s: &String| std::cmp::Reverse(s.chars().count()));
                    w.place_generics.push(group);
                }
                "not_name" => w.not_name.extend(words),
                "connector" => w
                    .connectors
                    .extend(words.filter_map(|w| w.first().copied())),
                _ => {}
            }
        }
        w.filler.sort_by_key(|s| std::cmp::Reverse(s.len()));
        w.near.sort_by_key(|s| std::cmp::Reverse(s.len()));
        w.lead.sort_by_key(|s| std::cmp::Reverse(s.len()));
        w.suffixes.sort_by_key(|s| std::cmp::Reverse(s.0.len()));
        w.poi_suffixes.sort_by_key(|s| std::cmp::Reverse(s.len()));
        w.filler_first = w.filler.iter().filter_map(|s| s.first().copied()).collect();
        w.near_first = w.near.iter().filter_map(|s| s.first().copied()).collect();
        w.suffix_last = w
            .suffixes
            .iter()
            .filter_map(|(s, _)| s.last().copied())
            .collect();
        w.poi_last = w
            .poi_suffixes
            .iter()
            .filter_map(|s| s.last().copied())
            .collect();
        w
    }

    /// The length of the longest filler word `text` starts with.
    pub fn filler_at(&self, text: &[char]) -> Option<usize> {
        let first = text.first()?;
        if !self.filler_first.contains(first) {
            return None;
        }
        Self::prefix_in(&self.filler, text)
    }

    /// The length of what a caller or operator said before the address at the start of `text`
    /// (`你好，我这里是`, `报修地址：`, `麻烦派人到`): a run of lead words and fillers with
    /// separators between them, ending before the first char that is neither. A one-char word
    /// opens the run only if it is 我 or 喂 (来, 其 and 住 also start names); none when the run is
    /// one filler alone (the walk drops those itself) or takes the whole text.
    pub fn lead_run(&self, text: &[char]) -> Option<usize> {
        let mut pos = 0;
        let mut words = 0;
        let mut end = 0;
        loop {
            while pos < text.len() && is_separator(text[pos]) {
                pos += 1;
            }
            let rest = &text[pos..];
            let len = Self::prefix_in(&self.lead, rest)
                .into_iter()
                .chain(self.filler_at(rest))
                .max();
            match len {
                Some(1) if words == 0 && !matches!(rest[0], '我' | '喂') => break,
                Some(l) => {
                    pos += l;
                    words += 1;
                    end = pos;
                }
                None => break,
            }
        }
        while end < text.len() && is_separator(text[end]) {
            end += 1;
        }
        let lone_filler = words == 1 && self.filler_at(text) == Some(end);
        (words > 0 && !lone_filler && end < text.len()).then_some(end)
    }

    /// The length of the longest near-qualifier `text` starts with.
    pub fn near_at(&self, text: &[char]) -> Option<usize> {
        let first = text.first()?;
        if !self.near_first.contains(first) {
            return None;
        }
        Self::prefix_in(&self.near, text)
    }

    /// Whether `name` ends with a POI suffix.
    pub fn ends_with_poi_suffix(&self, name: &[char]) -> bool {
        name.last().is_some_and(|c| self.poi_last.contains(c))
            && self.poi_suffixes.iter().any(|s| name.ends_with(s))
    }

    /// Whether `rest` is a word naming a part of a compound or unit (售楼处, 东门, 物业).
    pub fn is_poi_part(&self, rest: &[char]) -> bool {
        self.poi_parts.iter().any(|w| w.as_slice() == rest)
    }

    /// The length of the longest POI suffix `name` ends with.
    pub fn poi_suffix_len(&self, name: &[char]) -> Option<usize> {
        if !name.last().is_some_and(|c| self.poi_last.contains(c)) {
            return None;
        }
        self.poi_suffixes
            .iter()
            .find(|s| name.ends_with(s))
            .map(|s| s.len())
    }

    /// The longest word of `list` that `text` starts with, as its length.
    pub fn prefix_in(list: &[Vec<char>], text: &[char]) -> Option<usize> {
        list.iter().find(|w| text.starts_with(w)).map(|w| w.len())
    }

    /// Whether a suffix or common noun of 2+ chars starts at `rest` (街道, 村委会, 路口).
    pub fn longer_suffix_at(&self, rest: &[char]) -> bool {
        self.suffixes
            .iter()
            .map(|(s, _)| s)
            .chain(self.poi_suffixes.iter())
            .chain(self.not_name.iter())
            .any(|s| s.len() >= 2 && rest.starts_with(s))
    }

    /// Whether `name` ends like a compound, zone or district (区, 开发区, 花园, 新城) — a name that can
    /// stand before a road but is not part of it.
    pub fn ends_area_name(&self, name: &[char]) -> bool {
        name.last() == Some(&'区')
            || self
                .suffixes
                .iter()
                .any(|(s, c)| *c == NameClass::Level(Level::Devzone) && name.ends_with(s))
            || self.ends_with_poi_suffix(name)
    }

    /// Whether `name` is a zone suffix on its own (高新区, 经济开发区).
    pub fn is_zone_suffix(&self, name: &[char]) -> bool {
        self.suffixes
            .iter()
            .any(|(s, c)| *c == NameClass::Level(Level::Devzone) && s.as_slice() == name)
    }

    /// Whether a closing or POI suffix longer than `len` starts at `text` (街|道 → 街道).
    pub fn extends_suffix(&self, text: &[char], len: usize) -> bool {
        self.suffixes
            .iter()
            .map(|(s, _)| s)
            .chain(self.poi_suffixes.iter())
            .any(|s| s.len() > len && text.starts_with(s))
    }

    /// Whether `rest` starts with a closing suffix (王家屯|村: the name goes on).
    pub fn closing_suffix_starts(&self, rest: &[char]) -> bool {
        self.suffixes.iter().any(|(s, _)| rest.starts_with(s))
    }

    /// The class of the longest closing suffix `name` ends with, and the suffix's length.
    pub fn closing_suffix(&self, name: &[char]) -> Option<(NameClass, usize)> {
        if !self.suffix_last.contains(name.last()?) {
            return None;
        }
        self.suffixes
            .iter()
            .find(|(s, _)| name.ends_with(s) && name.len() > s.len())
            .map(|(s, class)| (*class, s.len()))
    }

    /// Whether `rest` starts with a zone suffix (工业区, 开发区) — or, with `compounds`, a compound
    /// suffix of two or more chars (家园, 花园) — that is not the start of a longer name: it ends
    /// the text or is followed by a number, a separator or a road.
    pub fn bare_area_suffix(&self, rest: &[char], compounds: bool) -> bool {
        let zone = self
            .suffixes
            .iter()
            .filter(|(_, c)| *c == NameClass::Level(Level::Devzone))
            .map(|(s, _)| s);
        let compound = self
            .poi_suffixes
            .iter()
            .filter(|s| compounds && s.len() >= 2);
        let Some(len) = zone
            .chain(compound)
            .filter(|s| rest.starts_with(s))
            .map(|s| s.len())
            .max()
        else {
            return false;
        };
        match rest.get(len) {
            None => true,
            Some(&c) => !is_han(c) || self.road_starts(&rest[len..]),
        }
    }

    /// Whether a road name (up to 4 chars and a road suffix) starts at `rest`.
    fn road_starts(&self, rest: &[char]) -> bool {
        (2..=6).any(|n| {
            rest.get(..n).is_some_and(|name| {
                matches!(
                    self.closing_suffix(name),
                    Some((NameClass::Level(Level::Road), _))
                )
            })
        })
    }
}
