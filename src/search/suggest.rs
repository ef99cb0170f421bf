//! Completions for a partially typed address: the standard addresses whose road, compound or
//! village text starts with what was typed, straight from the index's term dictionary.

use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::query::TermQuery;
use tantivy::schema::IndexRecordOption;
use tantivy::schema::Value;
use tantivy::{TantivyDocument, Term};

use super::{Matcher, Result};
use crate::dictionaries::Coverage;
use crate::text::normalize;

/// One completion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Suggestion {
    /// The standard address id.
    pub id: String,
    /// Its standard text.
    pub address: String,
}

/// Prefixes callers type before what a suggestion key starts with (上海市嘉定区, 嘉定区, 嘉定 …),
/// for each covered district, longest first.
pub(super) fn district_prefixes(coverage: &Coverage) -> Vec<String> {
    let mut out = Vec::new();
    for d in coverage.districts() {
        for name in [&d.name, &d.short_name] {
            for city in ["上海市", "上海", ""] {
                out.push(format!("{city}{name}"));
            }
        }
    }
    out.sort_by(|a, b| b.chars().count().cmp(&a.chars().count()).then(a.cmp(b)));
    out.dedup();
    out
}

impl Matcher {
    /// Up to `limit` standard addresses completing a partially typed input, in text order.
    pub fn suggest(&self, typed: &str, limit: usize) -> Result<Vec<Suggestion>> {
        let normalized = normalize(typed);
        let mut prefix: &str = normalized.text().trim();
        for p in &self.district_prefixes {
            if let Some(rest) = prefix.strip_prefix(p.as_str()) {
                prefix = rest;
                break;
            }
        }
        let prefix: String = prefix.chars().filter(|c| !c.is_whitespace()).collect();
        if prefix.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let fields = &self.index().fields;
        let searcher = self.index().reader.searcher();
        let mut keys: Vec<(String, String)> = Vec::new();
        for segment in searcher.segment_readers() {
            let inverted = segment.inverted_index(fields.suggest)?;
            let mut stream = inverted
                .terms()
                .range()
                .ge(prefix.as_bytes())
                .into_stream()
                .map_err(|e| super::Error::Io("index/suggest".into(), e))?;
            let mut taken = 0;
            while stream.advance() && taken < limit * 4 {
                let Ok(key) = std::str::from_utf8(stream.key()) else {
                    continue;
                };
                if !key.starts_with(&prefix) {
                    break;
                }
                if let Some((text, id)) = key.split_once('\u{1}') {
                    keys.push((text.to_string(), id.to_string()));
                    taken += 1;
                }
            }
        }
        keys.sort();
        let mut out: Vec<Suggestion> = Vec::new();
        for (_, id) in keys {
            if out.len() >= limit {
                break;
            }
            if out.iter().any(|s| s.id == id) {
                continue;
            }
            let query = TermQuery::new(
                Term::from_field_text(fields.id, &id),
                IndexRecordOption::Basic,
            );
            if let Some((_, addr)) = searcher
                .search(&query, &TopDocs::with_limit(1).order_by_score())?
                .first()
            {
                let doc: TantivyDocument = searcher.doc(*addr)?;
                let address = doc
                    .get_first(fields.address)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string();
                out.push(Suggestion { id, address });
            }
        }
        Ok(out)
    }
}
