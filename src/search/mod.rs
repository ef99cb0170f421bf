//! Standard-address search: a tantivy index of the standard addresses with their parsed structure
//! as fields, candidate retrieval anchored on the rare, discriminating names (road, compound,
//! village), and a component-by-component rerank that decides how deep the input matched.
//!
//! Retrieval never ORs the bigrams of the whole address (上海/青浦/路/号 are in every document):
//! it looks the anchor name up exactly, then by stem (公路 said as 路), by sound (homophones), and
//! only then by its bigrams (typos), each fallback scored lower.

mod build;
pub mod keys;
mod locate;
mod names;
mod schema;
mod suggest;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tantivy::{Index, IndexReader, ReloadPolicy};

pub use build::build_index;
pub use locate::Matcher;
pub use suggest::Suggestion;

use crate::dictionaries::Coverage;
use schema::{Fields, GRAMS_TOKENIZER};

/// What can go wrong in the search layer (a missing or corrupt index, I/O); a query that finds
/// nothing is not an error but a [`Match`] at level `none`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The index could not be read or written.
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// The data directory has no index yet.
    #[error("no search index at {0}: run `dizhi build` first")]
    Missing(PathBuf),
    /// A file operation failed.
    #[error("{0}: {1}")]
    Io(PathBuf, std::io::Error),
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] crate::store::Error),
    /// The index records divisions the division list does not have.
    #[error("search index: {0}")]
    Divisions(#[from] crate::dictionaries::UnknownDistrict),
}

/// A result of the search layer.
pub type Result<T> = std::result::Result<T, Error>;

/// How deep an input matched a standard address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchLevel {
    /// The building (幢) of an address.
    Building,
    /// The door number (号).
    Number,
    /// The lane (弄).
    Lane,
    /// The compound, park or unit name.
    Poi,
    /// The road only.
    Road,
    /// The 居/村委 (village, group).
    Community,
    /// The 街镇.
    Town,
    /// The district.
    District,
    /// A real address outside the district.
    Outside,
    /// Nothing usable.
    None,
}

impl MatchLevel {
    /// Every match level, deepest first.
    pub const ALL: [MatchLevel; 10] = [
        MatchLevel::Building,
        MatchLevel::Number,
        MatchLevel::Lane,
        MatchLevel::Poi,
        MatchLevel::Road,
        MatchLevel::Community,
        MatchLevel::Town,
        MatchLevel::District,
        MatchLevel::Outside,
        MatchLevel::None,
    ];

    /// The level's name in JSON and CSV.
    pub fn as_str(self) -> &'static str {
        crate::wire::name(&self)
    }

    /// Whether a match at this level names one standard address (building, number).
    pub fn is_address(self) -> bool {
        matches!(self, MatchLevel::Building | MatchLevel::Number)
    }
}

/// Why part of the input was read as something else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CorrectionKind {
    /// A misspelling.
    Typo,
    /// Written with characters that sound the same (同音).
    Homophone,
    /// An old name.
    OldName,
    /// Another spelling of the same thing (公路 for 路, 号楼 for 号).
    Variant,
}

/// One correction made to the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    /// As written.
    pub from: String,
    /// As in the standard address.
    pub to: String,
    /// Why.
    pub why: CorrectionKind,
}

/// Another candidate answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// Its standard address id.
    pub id: String,
    /// Its text.
    pub address: String,
    /// How deep it matched.
    pub level: MatchLevel,
    /// Its score.
    pub score: f64,
    /// It matched as well as the answer: the input does not say which.
    pub tie: bool,
}

/// The normalization of one input: the standard address, how deep it matched, and how sure.
///
/// Serializes to the contract's fields: `input, id, address, level, score, town_code, town,
/// community_code, community, building_id, lon, lat, detail, corrections, candidates`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Match {
    /// The input as given.
    pub input: String,
    /// The standard address id when the match names one address (building or number level).
    pub id: Option<String>,
    /// The standard text of what matched (for `outside`: where the address is).
    pub address: Option<String>,
    /// How deep it matched.
    pub level: MatchLevel,
    /// In [0, 1], calibrated: answers scored ≥ 0.9 are right at least 99 % of the time.
    pub score: f64,
    /// The responsible 街镇's code.
    pub town_code: Option<String>,
    /// The responsible 街镇.
    pub town: Option<String>,
    /// The responsible 居/村委's code.
    pub community_code: Option<String>,
    /// The responsible 居/村委.
    pub community: Option<String>,
    /// The building the address belongs to.
    pub building_id: Option<String>,
    /// The address point (WGS84).
    pub lon: Option<f64>,
    /// The address point (WGS84).
    pub lat: Option<f64>,
    /// What lies beyond the standard address (单元/层/室), normalized.
    pub detail: Option<String>,
    /// What was corrected.
    pub corrections: Vec<Correction>,
    /// The next candidates.
    pub candidates: Vec<Candidate>,
}

impl Match {
    /// A match at level `none`.
    pub fn none(input: &str) -> Match {
        Match {
            input: input.to_string(),
            id: None,
            address: None,
            level: MatchLevel::None,
            score: 0.0,
            town_code: None,
            town: None,
            community_code: None,
            community: None,
            building_id: None,
            lon: None,
            lat: None,
            detail: None,
            corrections: Vec::new(),
            candidates: Vec::new(),
        }
    }
}

/// The search index of a data directory, open for reading (cheap to share across threads).
pub struct AddressIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    /// The divisions the indexed data covers, as recorded when it was built (comma-separated
    /// 12-digit codes); `None` for an index built before they were recorded.
    divisions: Option<String>,
    /// Whether the index has door keys (`door`): one built before them is searched the old way
    /// until it is rebuilt.
    door_keys: bool,
}

impl AddressIndex {
    /// The index directory of a data directory.
    pub fn dir(data_dir: &Path) -> PathBuf {
        data_dir.join("index")
    }

    /// Opens the index of a data directory.
    pub fn open(data_dir: &Path) -> Result<AddressIndex> {
        let dir = Self::dir(data_dir);
        if !dir.join("meta.json").exists() {
            return Err(Error::Missing(dir));
        }
        let index = Index::open_in_dir(&dir)?;
        let (_, fields) = Fields::schema();
        debug_assert!(index.tokenizers().get(GRAMS_TOKENIZER).is_some());
        let door_keys = index.schema().get_field("door").is_ok();
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let divisions = index
            .load_metas()?
            .payload
            .and_then(|p| serde_json::from_str::<serde_json::Value>(&p).ok())
            .and_then(|v| v.get("divisions")?.as_str().map(str::to_string))
            .filter(|d| !d.is_empty());
        Ok(AddressIndex {
            index,
            reader,
            fields,
            divisions,
            door_keys,
        })
    }

    /// The divisions the indexed data covers; the bundled demo's district for an index built
    /// before divisions were recorded.
    pub fn coverage(
        &self,
        admin: &crate::dictionaries::AdminIndex,
    ) -> std::result::Result<Coverage, crate::dictionaries::UnknownDistrict> {
        match &self.divisions {
            Some(d) => Coverage::from_meta(admin, d),
            None => Ok(Coverage::demo(admin)),
        }
    }

    /// How many addresses the index holds.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the index was built with the current schema (door keys); an older one still
    /// answers, more slowly on a large library, until `dizhi build` or the next start rebuilds it.
    pub fn is_current(&self) -> bool {
        self.door_keys
    }

    /// The underlying tantivy index.
    pub fn index(&self) -> &Index {
        &self.index
    }
}
