//! The evidence of one anomaly, side by side, for a steward deciding it: the standard address(es)
//! it concerns with their provenance (links: which source put the address in which building, how,
//! how sure), every source record fused to them (register, record id, line, raw text as it came,
//! the fields as fusion read them, the point it gives), the building footprints involved, and the
//! distance between each pair of points. A read-only query on a `&Store`.

use std::collections::{BTreeMap, BTreeSet};

use geo::{Centroid, Distance, Geometry, Haversine, Point, Polygon};
use rusqlite::OptionalExtension;
use serde::Serialize;

use super::{Anomaly, EntityKind};
use crate::fuse::{Field, Mapping, Result};
use crate::store::{Link, Store, geometry_from_wkb};

/// At most this many source records per address (a register repeating one address a hundred
/// times is itself an anomaly; its first records are enough evidence).
pub const MAX_RECORDS: usize = 50;

/// A standard address an anomaly concerns, with its provenance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceAddress {
    /// Its id.
    pub id: String,
    /// Its full text.
    pub address: String,
    /// Its 街镇.
    pub town: String,
    /// `current`, `proposed`, `retired`.
    pub status: &'static str,
    /// Its building.
    pub building_id: Option<String>,
    /// Its point (WGS84 lon, lat).
    pub point: Option<[f64; 2]>,
    /// Its tags (地址标签).
    pub tags: Vec<String>,
    /// Which sources link it to which building, how and how sure.
    pub links: Vec<Link>,
}

/// A source record about the anomaly's address (or the record the anomaly is about).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceRecord {
    /// The register (source name).
    pub source: String,
    /// The record's key in it.
    pub record_key: String,
    /// Its line in the file, when it came from one.
    pub line: Option<u64>,
    /// Its columns as they came (JSON object); `null` when the raw record is gone.
    pub raw: serde_json::Value,
    /// Whether this is the record the anomaly is about.
    pub concerned: bool,
    /// The standard address fusion matched it to.
    pub address_id: Option<String>,
    /// The building fusion linked it to.
    pub building_id: Option<String>,
    /// How far the match went (`number`, `road` …), `None` when it was not fused.
    pub match_level: Option<String>,
    /// The match score.
    pub score: Option<f64>,
    /// How it was linked to the building.
    pub link_method: Option<String>,
    /// The fields as fusion read them (normalized).
    pub fields: serde_json::Value,
    /// The point it gives (lon, lat as the source gives them; a footprint's centroid).
    pub point: Option<[f64; 2]>,
}

/// A building footprint involved.
#[derive(Debug, Clone, PartialEq)]
pub struct EvidenceBuilding {
    /// Its id.
    pub id: String,
    /// Its footprint (WGS84).
    pub footprint: Polygon<f64>,
}

/// The distance between two points of the evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PointDistance {
    /// One point: `address:ID` or `SOURCE/KEY`.
    pub from: String,
    /// The other.
    pub to: String,
    /// Metres (haversine).
    pub metres: f64,
}

/// Everything a steward needs to decide one anomaly.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    /// The standard addresses it concerns.
    pub addresses: Vec<EvidenceAddress>,
    /// The source records about them, by source then key; the anomaly's own record first.
    pub records: Vec<EvidenceRecord>,
    /// Whether some address had more than [`MAX_RECORDS`] records (the rest are left out).
    pub truncated: bool,
    /// The footprints of the buildings involved.
    pub buildings: Vec<EvidenceBuilding>,
    /// Between every two points (addresses' and records'), nearest first.
    pub distances: Vec<PointDistance>,
}

fn point_of(g: &Geometry<f64>) -> Option<[f64; 2]> {
    match g {
        Geometry::Point(p) => Some([p.x(), p.y()]),
        other => other.centroid().map(|p| [p.x(), p.y()]),
    }
}

fn fields_point(fields: &serde_json::Value) -> Option<[f64; 2]> {
    let num = |k: &str| fields.get(k)?.as_str()?.trim().parse::<f64>().ok();
    let (lon, lat) = (num("lon")?, num("lat")?);
    (lon.is_finite() && lat.is_finite() && lon.abs() <= 180.0 && lat.abs() <= 90.0)
        .then_some([lon, lat])
}

/// The point of a raw record: its columns the source's mapping reads as lon and lat (as the
/// source gives them: a GCJ-02 source's point is drawn where that source puts it).
fn raw_point(
    conn: &rusqlite::Connection,
    source: &str,
    raw: &serde_json::Value,
) -> Result<Option<[f64; 2]>> {
    let mapping: Option<Option<String>> = conn
        .prepare_cached("SELECT mapping FROM sources WHERE name = ?1")?
        .query_row([source], |r| r.get(0))
        .optional()?;
    // A source built without a stored mapping: the one its columns imply, as fusion infers it.
    let inferred = || {
        let columns = raw.as_object()?.keys().map(String::as_str);
        Mapping::infer(columns, &[]).ok()
    };
    let Some(mapping) = mapping
        .flatten()
        .and_then(|m| serde_json::from_str::<Mapping>(&m).ok())
        .or_else(inferred)
    else {
        return Ok(None);
    };
    let mut fields = serde_json::Map::new();
    for (column, field) in &mapping.columns {
        if let (Field::Lon | Field::Lat, Some(v)) = (field, raw.get(column)) {
            fields.insert(field.as_str().to_string(), v.clone());
        }
    }
    Ok(fields_point(&fields.into()))
}

/// One source record with what fusion made of it (`None` when there is no such raw record nor
/// fused row).
fn record(
    conn: &rusqlite::Connection,
    source: &str,
    key: &str,
    concerned: bool,
) -> Result<Option<EvidenceRecord>> {
    let raw = conn
        .prepare_cached(
            "SELECT r.line, r.raw, r.geometry FROM source_records r \
             JOIN sources s ON s.id = r.source_id WHERE s.name = ?1 AND r.record_key = ?2",
        )?
        .query_row([source, key], |r| {
            Ok((
                r.get::<_, Option<i64>>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<Vec<u8>>>(2)?,
            ))
        })
        .optional()?;
    let fused = conn
        .prepare_cached(
            "SELECT address_id, building_id, match_level, score, link_method, fields \
             FROM fused_records WHERE source = ?1 AND record_key = ?2",
        )?
        .query_row([source, key], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, f64>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, String>(5)?,
            ))
        })
        .optional()?;
    if raw.is_none() && fused.is_none() {
        return Ok(None);
    }
    let (line, raw, geometry) = raw.unwrap_or((None, String::new(), None));
    let raw = serde_json::from_str(&raw).unwrap_or(serde_json::Value::Null);
    let geometry_point = geometry
        .and_then(|wkb| geometry_from_wkb(&wkb).ok())
        .and_then(|g| point_of(&g));
    let (address_id, building_id, level, score, method, fields) = match fused {
        Some((a, b, l, s, m, f)) => (a, b, Some(l), Some(s), m, f),
        None => (None, None, None, None, None, "{}".to_string()),
    };
    let fields: serde_json::Value = serde_json::from_str(&fields).unwrap_or_default();
    let point = match geometry_point.or_else(|| fields_point(&fields)) {
        Some(p) => Some(p),
        None => raw_point(conn, source, &raw)?,
    };
    Ok(Some(EvidenceRecord {
        source: source.to_string(),
        record_key: key.to_string(),
        line: line.map(|l| l.max(0) as u64),
        raw,
        concerned,
        address_id,
        building_id,
        match_level: level,
        score,
        link_method: method,
        fields,
        point,
    }))
}

/// The standard addresses an anomaly concerns: the address itself, the one its record fused to,
/// the addresses of the building it is about, and any address id its detail names.
fn address_ids(conn: &rusqlite::Connection, a: &Anomaly) -> Result<Vec<String>> {
    let mut ids: Vec<String> = Vec::new();
    let mut push = |id: String| {
        if !ids.contains(&id) {
            ids.push(id);
        }
    };
    match a.entity_kind {
        EntityKind::Address => push(a.entity_id.clone()),
        EntityKind::SourceRecord => {
            if let (Some(s), Some(k)) = (&a.source, &a.record_key) {
                let id: Option<Option<String>> = conn
                    .prepare_cached(
                        "SELECT address_id FROM fused_records WHERE source = ?1 AND record_key = ?2",
                    )?
                    .query_row([s, k], |r| r.get(0))
                    .optional()?;
                if let Some(Some(id)) = id {
                    push(id);
                }
            }
        }
        EntityKind::Building => {
            // The first five by id, sorted here: a cached statement with ORDER BY over the
            // building index is compiled again at every use (see `addresses_of_building`).
            let mut stmt =
                conn.prepare_cached("SELECT id FROM addresses WHERE building_id = ?1")?;
            let mut found = stmt
                .query_map([&a.entity_id], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            found.sort_unstable();
            for id in found.into_iter().take(5) {
                push(id);
            }
        }
        EntityKind::Link => {}
    }
    for key in ["address_id", "earlier"] {
        if let Some(id) = a.detail.get(key).and_then(|v| v.as_str()) {
            push(id.to_string());
        }
    }
    Ok(ids)
}

/// The evidence of an anomaly (see the module doc).
///
/// # Examples
/// ```
/// use dizhi::fuse::{EntityKind, RuleId};
/// use dizhi::fuse::Anomalies;
/// use dizhi::fuse::anomalies::evidence;
/// let dir = tempfile::tempdir().unwrap();
/// let mut store = dizhi::store::Store::open(dir.path()).unwrap();
/// let id = Anomalies::new(&mut store).unwrap()
///     .raise(RuleId::Objection, "", EntityKind::Address, "A1", "wrong", None, "op").unwrap();
/// let a = dizhi::fuse::anomalies::get(&store, id).unwrap();
/// let e = evidence::evidence(&store, &a).unwrap();
/// // No such address in this empty store: nothing to show, and no error.
/// assert!(e.addresses.is_empty() && e.records.is_empty() && e.distances.is_empty());
/// ```
pub fn evidence(store: &Store, a: &Anomaly) -> Result<Evidence> {
    let conn = store.connection();
    let mut records: Vec<EvidenceRecord> = Vec::new();
    let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
    if let (Some(s), Some(k)) = (&a.source, &a.record_key)
        && let Some(r) = record(conn, s, k, true)?
    {
        seen.insert((s.clone(), k.clone()));
        records.push(r);
    }
    let mut addresses = Vec::new();
    let mut truncated = false;
    for id in address_ids(conn, a)? {
        let Some(sa) = store.address(&id)? else {
            continue;
        };
        let mut stmt = conn.prepare_cached(
            "SELECT source, record_key FROM fused_records WHERE address_id = ?1 \
             ORDER BY source, record_key LIMIT ?2",
        )?;
        let keys: Vec<(String, String)> = stmt
            .query_map(rusqlite::params![id, MAX_RECORDS as i64 + 1], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        truncated |= keys.len() > MAX_RECORDS;
        for (s, k) in keys.into_iter().take(MAX_RECORDS) {
            if seen.insert((s.clone(), k.clone()))
                && let Some(r) = record(conn, &s, &k, false)?
            {
                records.push(r);
            }
        }
        addresses.push(EvidenceAddress {
            links: store.links_of_address(&id)?,
            address: store.address_text(&id)?.unwrap_or_default(),
            town: sa.town.name.clone(),
            status: sa.status.as_str(),
            building_id: sa.building_id.clone(),
            point: sa.point.map(|p| [p.x(), p.y()]),
            tags: sa.tags.clone(),
            id,
        });
    }
    // The buildings: the addresses', the records', and the one the detail names.
    let mut building_ids: BTreeSet<String> = BTreeSet::new();
    building_ids.extend(addresses.iter().filter_map(|x| x.building_id.clone()));
    building_ids.extend(
        addresses
            .iter()
            .flat_map(|x| x.links.iter().map(|l| l.building_id.clone())),
    );
    building_ids.extend(records.iter().filter_map(|r| r.building_id.clone()));
    if a.entity_kind == EntityKind::Building {
        building_ids.insert(a.entity_id.clone());
    }
    if let Some(b) = a.detail.get("building_id").and_then(|v| v.as_str()) {
        building_ids.insert(b.to_string());
    }
    let mut buildings = Vec::new();
    for id in building_ids.into_iter().take(20) {
        if let Some(b) = store.building(&id)? {
            buildings.push(EvidenceBuilding {
                id: b.id,
                footprint: b.footprint,
            });
        }
    }
    // Every point, named, and the distance between each pair.
    let mut points: BTreeMap<String, [f64; 2]> = BTreeMap::new();
    for x in &addresses {
        if let Some(p) = x.point {
            points.insert(format!("address:{}", x.id), p);
        }
    }
    for r in &records {
        if let Some(p) = r.point {
            points.insert(format!("{}/{}", r.source, r.record_key), p);
        }
    }
    let named: Vec<(&String, &[f64; 2])> = points.iter().take(30).collect();
    let mut distances = Vec::new();
    for (i, (from, p)) in named.iter().enumerate() {
        for (to, q) in &named[i + 1..] {
            let metres = Haversine.distance(Point::new(p[0], p[1]), Point::new(q[0], q[1]));
            distances.push(PointDistance {
                from: (*from).clone(),
                to: (*to).clone(),
                metres: (metres * 10.0).round() / 10.0,
            });
        }
    }
    distances.sort_by(|x, y| x.metres.total_cmp(&y.metres));
    Ok(Evidence {
        addresses,
        records,
        truncated,
        buildings,
        distances,
    })
}
