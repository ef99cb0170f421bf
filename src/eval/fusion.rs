//! `dizhi eval fusion`: the anomalies in the store scored against the generator's truth
//! (`truth/faults.csv`, `truth/records.csv`), precision and recall per fault kind, and the
//! address→building links scored against `truth/records.csv`.
//!
//! A fault (source, record, kind) is found when an anomaly of a rule mapped to its kind names
//! that record ([`rules_for`]). Precision counts the records those rules named, in the truth's
//! sources, that carry a fault of that kind. Anomalies about store entities (an address with no
//! building) name no source record and are not scored.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use serde::Serialize;

use crate::fuse::rules::RuleId;
use crate::fuse::{Error, Result};
use crate::store::Store;
use crate::synth::FaultKind;

/// The rules (and sub-kinds) whose anomalies stand for a fault kind.
///
/// | fault kind | rule (kind) |
/// |---|---|
/// | homophone | non_standard_spelling (homophone) |
/// | typo | non_standard_spelling (typo) |
/// | old_name | non_standard_spelling (old_name) |
/// | missing_level | missing_level |
/// | building_marker_variant | non_standard_spelling (building_marker_variant) |
/// | chinese_numerals | non_standard_spelling (chinese_numerals) |
/// | shifted_point | point_outside_building, point_in_disagreeing_building |
/// | gcj02_point | gcj02_shift_suspected |
/// | duplicate | duplicate_address (the later record) |
/// | nonexistent_address | unknown_address, number_out_of_range |
/// | building_without_address | building_without_address (the 规划 building record) |
/// | wrong_town | sources_disagree_town (the 民政 record) |
/// | wrong_floors | floors_disagree (the 规划 building record) |
///
/// # Examples
/// ```
/// use dizhi::eval::fusion::rules_for;
/// use dizhi::fuse::RuleId;
/// use dizhi::synth::FaultKind;
/// assert_eq!(rules_for(FaultKind::Typo), vec![(RuleId::NonStandardSpelling, Some("typo"))]);
/// assert_eq!(rules_for(FaultKind::ShiftedPoint).len(), 2);
/// ```
pub fn rules_for(kind: FaultKind) -> Vec<(RuleId, Option<&'static str>)> {
    use FaultKind as F;
    use RuleId as R;
    match kind {
        F::Homophone => vec![(R::NonStandardSpelling, Some("homophone"))],
        F::Typo => vec![(R::NonStandardSpelling, Some("typo"))],
        F::OldName => vec![(R::NonStandardSpelling, Some("old_name"))],
        F::MissingLevel => vec![(R::MissingLevel, None)],
        F::BuildingMarkerVariant => {
            vec![(R::NonStandardSpelling, Some("building_marker_variant"))]
        }
        F::ChineseNumerals => vec![(R::NonStandardSpelling, Some("chinese_numerals"))],
        F::ShiftedPoint => vec![
            (R::PointOutsideBuilding, None),
            (R::PointInDisagreeingBuilding, None),
        ],
        F::Gcj02Point => vec![(R::Gcj02ShiftSuspected, None)],
        F::Duplicate => vec![(R::DuplicateAddress, None)],
        F::NonexistentAddress => vec![(R::UnknownAddress, None), (R::NumberOutOfRange, None)],
        F::BuildingWithoutAddress => vec![(R::BuildingWithoutAddress, None)],
        F::WrongTown => vec![(R::SourcesDisagreeTown, None)],
        F::WrongFloors => vec![(R::FloorsDisagree, None)],
    }
}

/// Precision and recall of one fault kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KindScore {
    /// The fault kind.
    pub kind: String,
    /// Injected faults (distinct records).
    pub faults: usize,
    /// Records the mapped rules named.
    pub flagged: usize,
    /// Faults found.
    pub found: usize,
    /// found / flagged (1 when nothing was flagged).
    pub precision: f64,
    /// found / faults (1 when there were none).
    pub recall: f64,
    /// Harmonic mean.
    pub f1: f64,
}

/// The whole evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FusionEval {
    /// Per fault kind, in [`FaultKind::ALL`] order.
    pub kinds: Vec<KindScore>,
    /// Address records (公安, 12345) whose truth names an address and a building.
    pub link_records: usize,
    /// Of those, fused to the right standard address.
    pub address_right: usize,
    /// Of those, fused to the right address and the right building.
    pub link_right: usize,
    /// Building records (规划) matched to the right reference building, and how many there are.
    pub building_right: (usize, usize),
    /// Links by method: (method, right, total).
    pub by_method: Vec<(String, usize, usize)>,
    /// The lowest F1 over the kinds that have faults.
    pub min_f1: f64,
}

impl FusionEval {
    /// address+building links right / records.
    pub fn link_accuracy(&self) -> f64 {
        ratio(self.link_right, self.link_records)
    }

    /// A readable table; the last line is the lowest F1.
    pub fn to_table(&self) -> String {
        let mut s = format!(
            "{:<26} {:>8} {:>8} {:>8} {:>9} {:>9} {:>9}\n",
            "fault kind", "faults", "flagged", "found", "precision", "recall", "f1"
        );
        for k in &self.kinds {
            s.push_str(&format!(
                "{:<26} {:>8} {:>8} {:>8} {:>9.4} {:>9.4} {:>9.4}\n",
                k.kind, k.faults, k.flagged, k.found, k.precision, k.recall, k.f1
            ));
        }
        s.push_str(&format!(
            "links: {} address records, address right {:.4}, address+building right {:.4}\n",
            self.link_records,
            ratio(self.address_right, self.link_records),
            self.link_accuracy()
        ));
        for (m, right, total) in &self.by_method {
            s.push_str(&format!(
                "  by {m:<16} {right:>8} / {total:<8} {:.4}\n",
                ratio(*right, *total)
            ));
        }
        s.push_str(&format!(
            "buildings: {} / {} 规划 records on the right reference building ({:.4})\n",
            self.building_right.0,
            self.building_right.1,
            ratio(self.building_right.0, self.building_right.1)
        ));
        s.push_str(&format!("min f1 {:.4}\n", self.min_f1));
        s
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

fn read_csv(path: &Path) -> Result<(csv::StringRecord, Vec<csv::StringRecord>)> {
    let mut r = csv::Reader::from_path(path).map_err(|e| Error::file(path, e))?;
    let header = r.headers().map_err(|e| Error::file(path, e))?.clone();
    let rows = r
        .records()
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::file(path, e))?;
    Ok((header, rows))
}

/// Scores the store's anomalies and fused records against `source_dir/truth/`.
pub fn evaluate(store: &Store, source_dir: &Path) -> Result<FusionEval> {
    let (_, faults) = read_csv(&source_dir.join("truth/faults.csv"))?;
    let (_, records) = read_csv(&source_dir.join("truth/records.csv"))?;
    let mut truth: HashMap<&str, HashSet<(String, String)>> = HashMap::new();
    for f in &faults {
        truth
            .entry(f.get(2).unwrap_or(""))
            .or_default()
            .insert((f[0].to_string(), f[1].to_string()));
    }
    let sources: HashSet<String> = records.iter().map(|r| r[0].to_string()).collect();
    // (rule, kind) → records named.
    let conn = store.connection();
    let mut named: HashMap<(String, String), HashSet<(String, String)>> = HashMap::new();
    {
        let mut stmt = conn.prepare(
            "SELECT rule, kind, source, record_key FROM anomalies a WHERE source IS NOT NULL \
             AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.anomaly_id = a.id \
             AND r.reviewer = 'fuse' AND r.decision = 'stale')",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let source: String = r.get(2)?;
            if !sources.contains(&source) {
                continue;
            }
            named
                .entry((r.get(0)?, r.get(1)?))
                .or_default()
                .insert((source, r.get(3)?));
        }
    }
    let mut kinds = Vec::new();
    for kind in FaultKind::ALL {
        let t = truth.get(kind.as_str()).cloned().unwrap_or_default();
        let mut flagged: HashSet<(String, String)> = HashSet::new();
        for ((rule, k), recs) in &named {
            let hit = rules_for(kind)
                .iter()
                .any(|(r, want)| r.as_str() == rule && want.is_none_or(|w| w == k));
            if hit {
                flagged.extend(recs.iter().cloned());
            }
        }
        let found = flagged.intersection(&t).count();
        let precision = ratio(found, flagged.len());
        let recall = ratio(found, t.len());
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        kinds.push(KindScore {
            kind: kind.as_str().to_string(),
            faults: t.len(),
            flagged: flagged.len(),
            found,
            precision,
            recall,
            f1,
        });
    }
    let min_f1 = kinds
        .iter()
        .filter(|k| k.faults > 0)
        .map(|k| k.f1)
        .fold(1.0, f64::min);
    // Links.
    type Got = (Option<String>, Option<String>, Option<String>);
    let mut fused: HashMap<(String, String), Got> = HashMap::new();
    {
        let mut stmt = conn.prepare(
            "SELECT source, record_key, address_id, building_id, link_method FROM fused_records",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            fused.insert((r.get(0)?, r.get(1)?), (r.get(2)?, r.get(3)?, r.get(4)?));
        }
    }
    let (mut link_records, mut address_right, mut link_right) = (0, 0, 0);
    let mut building_right = (0, 0);
    let mut by_method: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for r in &records {
        let (source, key, address, building) = (&r[0], &r[1], &r[2], &r[3]);
        let got = fused.get(&(source.to_string(), key.to_string()));
        if address.is_empty() {
            if !building.is_empty() {
                building_right.1 += 1;
                if got.and_then(|g| g.1.as_deref()) == Some(building) {
                    building_right.0 += 1;
                }
            }
            continue;
        }
        if building.is_empty() || source == crate::synth::MINZHENG {
            continue;
        }
        link_records += 1;
        let a_ok = got.and_then(|g| g.0.as_deref()) == Some(address);
        let b_ok = got.and_then(|g| g.1.as_deref()) == Some(building);
        address_right += usize::from(a_ok);
        link_right += usize::from(a_ok && b_ok);
        let method = got
            .and_then(|g| g.2.clone())
            .unwrap_or_else(|| "none".into());
        let e = by_method.entry(method).or_default();
        e.0 += usize::from(a_ok && b_ok);
        e.1 += 1;
    }
    Ok(FusionEval {
        kinds,
        link_records,
        address_right,
        link_right,
        building_right,
        by_method: by_method.into_iter().map(|(m, (r, t))| (m, r, t)).collect(),
        min_f1,
    })
}
