//! The address dictionaries: admin divisions, roads, level markers, aliases and homophones.
//!
//! Every dictionary is a plain file under `dictionaries/` with a header saying where it came from;
//! they are embedded in the binary so that dizhi runs anywhere. The jieba user dictionary is
//! generated from them ([`Dictionaries::jieba_user_dict`]), never kept by hand.

mod admin;
mod coverage;
mod road_stem;
mod tables;

pub use admin::{
    AdminDivision, AdminIndex, AdminLevel, ChinaPlace, ChinaPlaceLevel, district_short_name,
};
pub use coverage::{Coverage, DEMO_DISTRICT, META_KEY as COVERAGE_META_KEY, UnknownDistrict};
pub use road_stem::{ROAD_SIDES, road_stem};
pub use tables::{Alias, AliasKind, Marker, MarkerKind, Road};

use crate::level::Level;

/// A dictionary file could not be read. The embedded files are checked by the tests, so this is
/// only seen when a caller loads its own files.
#[derive(Debug, thiserror::Error)]
pub enum DictionaryError {
    /// A row could not be parsed.
    #[error("dictionary {file}, line {line}: {reason}")]
    Row {
        /// The dictionary file.
        file: &'static str,
        /// 1-based line number.
        line: u64,
        /// What is wrong with it.
        reason: String,
    },
}

/// All dictionaries, loaded once at start and shared (e.g. in `AppState`).
///
/// # Examples
/// ```
/// let dicts = dizhi::Dictionaries::embedded().unwrap();
/// let demo = dizhi::dictionaries::Coverage::demo(&dicts.admin);
/// assert_eq!(demo.towns().count(), 11);
/// assert_eq!(demo.communities().count(), 330);
/// ```
#[derive(Debug, Clone)]
pub struct Dictionaries {
    /// Shanghai to 居/村委 (2021) and China levels 1–4 (2023).
    pub admin: AdminIndex,
    /// The demo district's roads: the real ones first, then the generated ones.
    pub roads: Vec<Road>,
    /// Level markers and their spellings.
    pub markers: Vec<Marker>,
    /// Aliases, old names and typos of admin names.
    pub aliases: Vec<Alias>,
    /// Characters that sound alike: (char, its homophones).
    pub homophones: Vec<(char, Vec<char>)>,
}

impl Dictionaries {
    /// The dictionaries embedded in the binary from `dictionaries/`.
    pub fn embedded() -> Result<Self, DictionaryError> {
        let admin = AdminIndex::embedded()?;
        let mut roads = tables::roads(
            "roads.tsv",
            include_str!("../../dictionaries/roads.tsv"),
            true,
        )?;
        roads.extend(tables::roads(
            "roads_generated.tsv",
            include_str!("../../dictionaries/roads_generated.tsv"),
            false,
        )?);
        Ok(Dictionaries {
            admin,
            roads,
            markers: tables::markers(include_str!("../../dictionaries/markers.tsv"))?,
            aliases: tables::aliases(include_str!("../../dictionaries/aliases.tsv"))?,
            homophones: tables::homophones(include_str!("../../dictionaries/homophones.tsv"))?,
        })
    }

    /// The spellings of the markers of `level`, canonical first.
    pub fn marker_spellings(&self, level: Level, kind: MarkerKind) -> impl Iterator<Item = &str> {
        self.markers
            .iter()
            .filter(move |m| m.level == level && m.kind == kind)
            .flat_map(|m| m.spellings.iter().map(String::as_str))
    }

    /// The homophones of `c`, if any.
    pub fn homophones_of(&self, c: char) -> &[char] {
        self.homophones
            .iter()
            .find(|(h, _)| *h == c)
            .map(|(_, hs)| hs.as_slice())
            .unwrap_or(&[])
    }

    /// A jieba user dictionary (`word freq tag` per line) generated from these dictionaries: admin
    /// names with and without their suffixes, roads, aliases and level markers.
    ///
    /// Tags say which dictionary a word came from (`district`, `town`, `community`, `road`,
    /// `alias`, `marker`, `province`, `city`), so the parser can use them as hints.
    ///
    /// # Examples
    /// ```
    /// let dicts = dizhi::Dictionaries::embedded().unwrap();
    /// let user_dict = dicts.jieba_user_dict();
    /// assert!(user_dict.lines().any(|l| l.starts_with("华腾路 ")));
    /// assert!(user_dict.lines().any(|l| l.starts_with("徐泾镇 ")));
    /// ```
    pub fn jieba_user_dict(&self) -> String {
        let mut words: Vec<(String, &'static str)> = Vec::new();
        for d in self.admin.divisions() {
            let tag = match d.level {
                AdminLevel::Province => "province",
                AdminLevel::City => "city",
                AdminLevel::District => "district",
                AdminLevel::Town => "town",
                AdminLevel::Community => "community",
            };
            words.push((d.name.clone(), tag));
            if d.short_name != d.name && d.short_name.chars().count() >= 2 {
                words.push((d.short_name.clone(), tag));
            }
        }
        for p in self.admin.china_places() {
            let tag = match p.level {
                ChinaPlaceLevel::Province => "province",
                ChinaPlaceLevel::City => "city",
                ChinaPlaceLevel::County => "district",
                ChinaPlaceLevel::Town => "town",
            };
            words.push((p.name.clone(), tag));
        }
        for r in &self.roads {
            words.push((r.name.clone(), "road"));
        }
        for a in &self.aliases {
            words.push((a.from.clone(), "alias"));
        }
        for m in &self.markers {
            for s in &m.spellings {
                if s.chars().count() >= 2 && s.chars().all(|c| !c.is_ascii()) {
                    words.push((s.clone(), "marker"));
                }
            }
        }
        words.sort();
        words.dedup_by(|a, b| a.0 == b.0);
        let mut out = String::with_capacity(words.len() * 16);
        for (word, tag) in words {
            // A high frequency so that dictionary words win over jieba's general vocabulary.
            out.push_str(&format!("{word} 100000 {tag}\n"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_dictionaries_load() {
        let d = Dictionaries::embedded().unwrap();
        assert!(d.roads.iter().filter(|r| r.real).count() >= 30);
        assert!(d.roads.iter().any(|r| !r.real));
        assert!(
            d.aliases
                .iter()
                .any(|a| a.from == "徐径镇" && a.to == ["徐泾镇"])
        );
        assert!(
            d.marker_spellings(Level::Building, MarkerKind::Number)
                .any(|s| s == "号楼")
        );
        assert_eq!(d.homophones_of('腾'), &['藤', '疼']);
    }

    #[test]
    fn real_roads_name_real_towns() {
        let d = Dictionaries::embedded().unwrap();
        for road in d.roads.iter() {
            for town in &road.towns {
                assert!(
                    Coverage::demo(&d.admin).towns().any(|t| &t.name == town),
                    "{} names unknown town {town}",
                    road.name
                );
            }
        }
    }

    #[test]
    fn aliases_point_at_known_names() {
        let d = Dictionaries::embedded().unwrap();
        for alias in &d.aliases {
            for to in &alias.to {
                assert!(
                    d.admin.divisions().any(|div| &div.name == to),
                    "alias {} points at unknown {to}",
                    alias.from
                );
            }
        }
    }

    #[test]
    fn user_dict_has_one_line_per_word() {
        let d = Dictionaries::embedded().unwrap();
        let dict = d.jieba_user_dict();
        let mut words: Vec<&str> = dict.lines().map(|l| l.split(' ').next().unwrap()).collect();
        let n = words.len();
        words.dedup();
        assert_eq!(words.len(), n);
        assert!(dict.lines().all(|l| l.split(' ').count() == 3));
    }
}
