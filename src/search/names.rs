//! The distinct names of one kind (roads, compounds, villages) with the keys that find them when
//! they are not written exactly: stem, sound and bigrams. Read once from the index's term
//! dictionary at start (a few thousand names), so resolving a name costs no index query.

use std::collections::HashMap;

use tantivy::Searcher;
use tantivy::schema::Field;

use super::Result;
use super::keys::{bigrams, road_stem, sound};

#[derive(Debug, Default)]
pub(crate) struct NameTable {
    names: Vec<String>,
    exact: HashMap<String, u32>,
    by_stem: HashMap<String, Vec<u32>>,
    by_sound: HashMap<String, Vec<u32>>,
    by_gram: HashMap<String, Vec<u32>>,
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
