//! Fusion proper: every source record matched to a standard address, linked to a building, and
//! checked by the rules.
//!
//! - Structured door plates (公安门牌: 街镇, 居委会, 路名, 弄号, 门牌号, 楼幢号 …) are matched by
//!   key (road or village, lane, number, group, building) after the spelling is put right
//!   (typo/old 街镇 names from the alias dictionary, homophone road and village names by sound,
//!   幢 marker variants, Chinese numerals); what the key cannot place falls back to the matcher on
//!   the record's full text.
//! - Free text (12345 诉求地址) goes through the [`Matcher`]; the parse says what was written
//!   non-standardly (no 街镇, 号楼/栋, Chinese numerals) and the match's corrections the rest.
//! - Gazetteer entries (民政地名: 标准名称, 类别, 所属街镇) are compared with what the standard
//!   addresses on that road, compound or village say: a register names one 街镇 per place, the
//!   one holding most of it, so a place straddling a town boundary is flagged only when the
//!   register names a town holding fewer of its addresses than another.
//! - Buildings (规划资源 footprints) are matched to the reference footprints by shape; a footprint
//!   that only matches once read as GCJ-02 is a GCJ-02 anomaly.
//!
//! Links: a record's point (converted from GCJ-02 first when that is what explains it) inside
//! the footprint of its address's building links by `contains`; a point elsewhere or no point
//! links by `road_number` (the building of the standard address with the same road, lane and
//! number). Work runs in parallel over records (rayon; the matcher and R-tree are shared), a page
//! of a source at a time ([`fuse_store_each`]), so memory holds the reference and one page.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use geo::{BoundingRect, Centroid, InteriorPoint, MapCoords, Point, Polygon, Rect};
use rayon::prelude::*;
use serde::Serialize;

use super::compare::same_place;
use super::import::{Field, Mapping, Role, stored_sources};
use super::rules::{RuleId, RuleSet, Severity};
use super::{Error, Result};
use crate::address::community_address_name;
use crate::crs::gcj02_to_wgs84;
use crate::dictionaries::AliasKind;
use crate::search::{CorrectionKind, MatchLevel, Matcher};
use crate::spatial::FootprintIndex;
use crate::spatial::distance::{degree_margins, metres_between, metres_to_polygon};
use crate::store::{SourceRecord, Store};
use crate::text::numerals;
use crate::{Dictionaries, Level};

/// One source's records, ready to fuse.
#[derive(Debug, Clone)]
pub struct SourceInput {
    /// The source's name.
    pub name: String,
    /// Addresses or buildings.
    pub role: Role,
    /// How its columns map to fields.
    pub mapping: Mapping,
    /// Its records, in source order.
    pub records: Vec<SourceRecord>,
}

/// What one rule found on one record (or entity).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The rule.
    pub rule: RuleId,
    /// The rule's sub-kind (`typo`, `homophone`, `town` …), empty when the rule has none.
    pub kind: String,
    /// How bad.
    pub severity: Severity,
    /// `source_record`, `address` or `building`.
    pub entity_kind: EntityKind,
    /// `SOURCE/KEY` for a source record, else the address or building id.
    pub entity_id: String,
    /// The source the record is from (empty for store entities).
    pub source: String,
    /// The record's key in its source (empty for store entities).
    pub record_key: String,
    /// The responsible 街镇 (the assignee), when known.
    pub town: Option<String>,
    /// What is wrong, for people.
    pub message: String,
    /// Evidence (given and expected values, distances).
    pub detail: serde_json::Value,
}

/// What one source record fused to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FusedRecord {
    /// The source.
    pub source: String,
    /// The record's key.
    pub record_key: String,
    /// The standard address it stands for (door level), if any.
    pub address_id: Option<String>,
    /// The building it is linked to, if any.
    pub building_id: Option<String>,
    /// How deep it matched (`number`, `road`, `poi`, `community`, `building`, `none` …).
    pub match_level: MatchLevel,
    /// How sure, in [0, 1].
    pub score: f64,
    /// How the building was found: `contains`, `contains_gcj02`, `road_number`, `same_footprint`.
    pub link_method: Option<String>,
    /// The fields as this source gives them, normalized (per-field provenance).
    pub fields: BTreeMap<String, String>,
}

/// What fusing the store did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FuseReport {
    /// Records fused, per source.
    pub records: BTreeMap<String, usize>,
    /// Records matched to a door-level standard address, per source.
    pub matched: BTreeMap<String, usize>,
    /// Links written (address ↔ building).
    pub links: usize,
    /// Findings per rule.
    pub findings: BTreeMap<String, usize>,
    /// Anomalies newly queued (a finding already in the queue keeps its review).
    pub new_anomalies: usize,
    /// Seconds spent.
    pub seconds: f64,
}

use super::anomalies::{EntityKind, NewAnomaly, insert_anomaly};

mod door_plate;
mod free_text;
mod placement;
mod record;
mod reference;

use self::door_plate::has_cn_numeral;
use self::record::{Checked, RecordCheck, parse_point};
pub use self::reference::Reference;
use self::reference::{Addr, FirstSeen, key};

/// How many records of a source fusion holds at once.
const PAGE: usize = 16_384;

/// Fuses every source in the store (truth files aside): fused records and links replaced per
/// source, anomalies queued (new ones only; one already queued keeps its status and review),
/// each source in one transaction. Returns the report and every finding (for a CSV report);
/// [`fuse_store_each`] does the same without holding the findings.
pub fn fuse_store(
    store: &mut Store,
    reference: &Reference,
    rules: &RuleSet,
) -> Result<(FuseReport, Vec<Finding>)> {
    let mut all = Vec::new();
    let report = fuse_store_each(store, reference, rules, |f| all.push(f.clone()))?;
    Ok((report, all))
}

/// [`fuse_store`], streaming: each source is read, fused and written a page of records at a
/// time inside its one transaction, and each finding is handed to `on_finding` once written, so
/// memory holds the reference and one page rather than a whole source and all its findings.
///
/// # Examples
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let mut store = dizhi::store::Store::open(dir.path()).unwrap();
/// let dicts = dizhi::Dictionaries::embedded().unwrap();
/// let reference = dizhi::fuse::Reference::load(&store, &dicts, None).unwrap();
/// let rules = dizhi::fuse::RuleSet::default_rules();
/// let mut seen = 0;
/// let report = dizhi::fuse::fuse_store_each(&mut store, &reference, &rules, |_| seen += 1)
///     .unwrap();
/// assert_eq!((report.links, seen), (0, 0));
/// ```
pub fn fuse_store_each(
    store: &mut Store,
    reference: &Reference,
    rules: &RuleSet,
    mut on_finding: impl FnMut(&Finding),
) -> Result<FuseReport> {
    let started = std::time::Instant::now();
    let mut report = FuseReport::default();
    for (id, name, role, mapping) in stored_sources(store)? {
        let tx = store.connection_mut().transaction()?;
        tx.execute("DELETE FROM fused_records WHERE source = ?1", [&name])?;
        tx.execute("DELETE FROM links WHERE source = ?1", [&name])?;
        let mut first = FirstSeen::default();
        let mut current: HashSet<String> = HashSet::new();
        let (mut records, mut matched) = (0, 0);
        // The findings go to `on_finding` only once the source's transaction has committed: a
        // source rolled back reports none. Held meanwhile, one per finding (not per record).
        let mut held: Vec<Finding> = Vec::new();
        crate::store::source_record_pages(&tx, id, PAGE, |page| -> Result<()> {
            let (fused, findings) =
                reference.fuse_page(&name, role, &mapping, &page, rules, &mut first)?;
            drop(page);
            records += fused.len();
            matched += fused.iter().filter(|f| f.address_id.is_some()).count();
            report.links += write_fused(&tx, &name, role, &fused)?;
            report.new_anomalies += insert_findings(&tx, &findings)?;
            for f in &findings {
                current.insert(finding_key(f.rule.as_str(), &f.kind, &f.entity_id));
                *report
                    .findings
                    .entry(f.rule.as_str().to_string())
                    .or_default() += 1;
            }
            held.extend(findings);
            Ok(())
        })?;
        retire_stale(&tx, &name, &current)?;
        tx.commit()?;
        held.iter().for_each(&mut on_finding);
        report.records.insert(name.clone(), records);
        report.matched.insert(name, matched);
    }
    let extra = reference.check_addresses(rules);
    report.new_anomalies += write_findings(store, &extra)?;
    for f in &extra {
        *report
            .findings
            .entry(f.rule.as_str().to_string())
            .or_default() += 1;
        on_finding(f);
    }
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Writes a page of fused records and their links; returns the links written.
fn write_fused(
    tx: &rusqlite::Transaction<'_>,
    source: &str,
    role: Role,
    fused: &[FusedRecord],
) -> Result<usize> {
    let mut links = 0;
    let mut ins = tx.prepare_cached(
        "INSERT OR REPLACE INTO fused_records (source, record_key, address_id, building_id, \
         match_level, score, link_method, fields) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    let mut link = tx.prepare_cached(
        "INSERT OR REPLACE INTO links (address_id, building_id, source, method, confidence) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for f in fused {
        let fields = serde_json::to_string(&f.fields).unwrap_or_else(|_| "{}".into());
        ins.execute(rusqlite::params![
            f.source,
            f.record_key,
            f.address_id,
            f.building_id,
            f.match_level.as_str(),
            f.score,
            f.link_method,
            fields
        ])?;
        if role == Role::Addresses
            && let (Some(a), Some(b), Some(m)) = (&f.address_id, &f.building_id, &f.link_method)
        {
            let confidence = if m.starts_with("contains") { 0.95 } else { 0.8 };
            link.execute(rusqlite::params![a, b, source, m, confidence])?;
            links += 1;
        }
    }
    Ok(links)
}

/// What makes an anomaly the same finding from one fusion to the next: rule, kind, entity.
fn finding_key(rule: &str, kind: &str, entity: &str) -> String {
    format!("{rule}\u{1}{kind}\u{1}{entity}")
}

/// Open anomalies of a source that fusion no longer finds (the data or the rules changed) are
/// resolved by `fuse`, with a `stale` review and an audit entry; reviewed ones are left alone.
fn retire_stale(
    tx: &rusqlite::Transaction<'_>,
    source: &str,
    current: &HashSet<String>,
) -> Result<()> {
    let stale: Vec<i64> = {
        let mut stmt = tx.prepare(
            "SELECT id, rule, kind, entity_id FROM anomalies WHERE source = ?1 \
             AND status = 'open' AND rule != 'objection'",
        )?;
        let rows = stmt.query_map([source], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, rule, kind, entity) = row?;
            if !current.contains(&finding_key(&rule, &kind, &entity)) {
                out.push(id);
            }
        }
        out
    };
    for id in stale {
        tx.execute(
            "UPDATE anomalies SET status = 'resolved', \
             updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
            [id],
        )?;
        tx.execute(
            "INSERT INTO reviews (anomaly_id, reviewer, decision, note, at) VALUES \
             (?1, 'fuse', 'stale', 'no longer found by fusion', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
            [id],
        )?;
        super::audit(
            tx,
            "fuse",
            "anomaly.stale",
            &format!("anomaly:{id}"),
            Some(r#"{"status":"open"}"#),
            Some(r#"{"status":"resolved","why":"no longer found by fusion"}"#),
        )?;
    }
    Ok(())
}

fn write_findings(store: &mut Store, findings: &[Finding]) -> Result<usize> {
    let tx = store.connection_mut().transaction()?;
    let n = insert_findings(&tx, findings)?;
    tx.commit()?;
    Ok(n)
}

fn insert_findings(tx: &rusqlite::Transaction<'_>, findings: &[Finding]) -> Result<usize> {
    let mut new = 0;
    for f in findings {
        let anomaly = NewAnomaly {
            rule: f.rule,
            kind: &f.kind,
            severity: f.severity,
            entity_kind: f.entity_kind,
            entity_id: &f.entity_id,
            message: &f.message,
            detail: &f.detail,
            source: (!f.source.is_empty()).then_some(f.source.as_str()),
            record_key: (!f.record_key.is_empty()).then_some(f.record_key.as_str()),
            assignee: f.town.as_deref(),
        };
        if insert_anomaly(tx, &anomaly, "fuse", None)?.is_some() {
            new += 1;
        }
    }
    Ok(new)
}

/// Reads a file as a source without storing it (for `dizhi check FILE`): CSV/XLSX/GeoJSON/…
/// through the same readers as import, into a temporary store.
pub fn read_file_source(path: &std::path::Path, role: Role, map: &[String]) -> Result<SourceInput> {
    // A fresh directory with a random name (never a predictable path another user could plant).
    let dir = tempfile::Builder::new()
        .prefix("dizhi-check-")
        .tempdir()
        .map_err(|e| Error::file(path, e))?;
    let mut scratch = Store::open(dir.path())?;
    let name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("file")
        .to_string();
    let result = (|| {
        let report = super::import_file(&mut scratch, path, &name, role, map)?;
        let id = scratch
            .sources()?
            .into_iter()
            .find(|s| s.name == name)
            .map(|s| s.id)
            .ok_or_else(|| Error::NotFound(name.clone()))?;
        Ok(SourceInput {
            name: name.clone(),
            role,
            mapping: report.mapping,
            records: scratch.source_records(id)?,
        })
    })();
    drop(scratch);
    drop(dir);
    result
}
