//! Writing what the registers made: the standard addresses, footprints, areas, roads and the
//! registers themselves in the source-directory shape [`crate::store::build`] loads (so a build
//! from registers is checked and written exactly as any other), then the provenance the store
//! build does not know about — each address's evidence, each record's address, the anomalies to
//! review, and the audit rows of what a new delivery changed.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::Path;

use rusqlite::params;

use super::assemble::{Areas, Assembled};
use super::config::AddressRegister;
use super::merge::{DoorKey, Reading};
use super::read::{RegisterRecord, RoadLine};
use crate::fuse::anomalies::{EntityKind, NewAnomaly, insert_anomaly};
use crate::fuse::{Error, Result, RuleId, Severity};
use crate::spatial::FootprintIndex;
use crate::{AddressKind, BuildingKind};

/// An address of the library before this delivery.
pub struct Earlier {
    /// Its id.
    pub id: String,
    /// What a change is judged on: text, 街镇, 居委 and building, joined.
    pub state: String,
}

/// The library before this delivery, by door key.
#[derive(Default)]
pub struct EarlierLibrary {
    /// Door key → address.
    pub by_key: HashMap<String, Earlier>,
    /// The next free numeric id.
    pub next_id: u64,
    /// Whether there was a library built from registers at all.
    pub exists: bool,
    /// The earlier store's audit log (at, actor, action, entity, before, after), carried over.
    pub audit: Vec<[Option<String>; 6]>,
}

/// Reads the earlier library from `data_dir`, if it was built from registers.
pub fn earlier_library(data_dir: &Path) -> Result<EarlierLibrary> {
    if !data_dir.join(crate::store::STORE_FILE).is_file() {
        return Ok(EarlierLibrary::default());
    }
    let store = crate::store::Store::open(data_dir)?;
    let conn = store.connection();
    let mut stmt = conn.prepare(
        "SELECT e.door_key, a.id, a.address, coalesce(a.town_code, ''), \
         coalesce(a.community_code, ''), coalesce(a.building_id, '') \
         FROM address_evidence e JOIN addresses a ON a.id = e.address_id",
    )?;
    let mut library = EarlierLibrary::default();
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            [
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
            ]
            .join("|"),
        ))
    })?;
    for row in rows {
        let (key, id, state) = row?;
        let n: u64 = id.trim_start_matches('A').parse().unwrap_or(0);
        library.next_id = library.next_id.max(n + 1);
        library.by_key.insert(key, Earlier { id, state });
        library.exists = true;
    }
    library.next_id = library.next_id.max(1);
    let mut stmt =
        conn.prepare("SELECT at, actor, action, entity, before, after FROM audit_log ORDER BY id")?;
    let rows = stmt.query_map([], |r| {
        Ok([
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
        ])
    })?;
    for row in rows {
        library.audit.push(row?);
    }
    Ok(library)
}

/// Each assembled address's id: its earlier id when its door was in the library, else a new one.
pub fn assign_ids(assembled: &[Assembled], before: &EarlierLibrary) -> Vec<String> {
    let mut next = before.next_id.max(1);
    assembled
        .iter()
        .map(|a| match before.by_key.get(&door_key(&a.key)) {
            Some(e) => e.id.clone(),
            None => {
                let id = format!("A{next:08}");
                next += 1;
                id
            }
        })
        .collect()
}

/// The door key as stored (`address_evidence.door_key`).
pub fn door_key(k: &DoorKey) -> String {
    k.text()
}

/// The full standard text: district, 街镇, then the door.
fn full_text(a: &Assembled) -> String {
    let town = a.town.as_ref().map(|t| t.1.as_str()).unwrap_or("");
    format!("{}{}{}", a.district, town, a.key.text())
}

/// What goes into the source directory.
pub struct Library<'a> {
    pub assembled: &'a [Assembled],
    pub ids: &'a [String],
    pub footprints: &'a FootprintIndex,
    pub areas: Option<&'a Areas>,
    pub roads: &'a [RoadLine],
    pub registers: &'a [AddressRegister],
    pub raw: &'a [(Vec<String>, super::read::Rows)],
    pub coverage: &'a crate::dictionaries::Coverage,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::file(path, e)
}

fn csv_err(path: &Path) -> impl Fn(csv::Error) -> Error + '_ {
    move |e| Error::file(path, e)
}

fn kind_of(a: &Assembled, footprints: &FootprintIndex) -> AddressKind {
    if a.key.village {
        return AddressKind::Village;
    }
    match a
        .building
        .and_then(|(b, _)| footprints.building(b))
        .map(|b| b.kind)
    {
        Some(BuildingKind::Residential) => AddressKind::Residential,
        Some(BuildingKind::VillageHouse) => AddressKind::Village,
        Some(BuildingKind::Factory) => AddressKind::Industrial,
        Some(BuildingKind::School | BuildingKind::Public) => AddressKind::Public,
        _ => AddressKind::Street,
    }
}

/// Writes the source directory at `dir`.
pub fn write_source_dir(dir: &Path, lib: &Library<'_>) -> Result<()> {
    fs::create_dir_all(dir.join("sources")).map_err(io(dir))?;
    let path = dir.join("addresses.csv");
    let mut w = csv::Writer::from_path(&path).map_err(csv_err(&path))?;
    w.write_record(crate::store::ADDRESS_HEADER)
        .map_err(csv_err(&path))?;
    for (a, id) in lib.assembled.iter().zip(lib.ids) {
        let (town_code, town) = a.town.clone().unwrap_or_default();
        let (community_code, community) = a.community.clone().unwrap_or_default();
        let k = &a.key;
        let (lon, lat) = a
            .point
            .map(|(x, y)| (format!("{x:.7}"), format!("{y:.7}")))
            .unwrap_or_default();
        let road = if k.village { "" } else { k.place.as_str() };
        let building_id = a
            .building
            .and_then(|(b, _)| lib.footprints.building(b))
            .map(|b| b.id.as_str())
            .unwrap_or("");
        w.write_record([
            id.as_str(),
            &full_text(a),
            &a.district,
            &town_code,
            &town,
            &community_code,
            &community,
            road,
            &k.lane,
            &k.number,
            &k.group,
            a.poi.as_deref().unwrap_or(""),
            &k.building,
            kind_of(a, lib.footprints).as_str(),
            building_id,
            &lon,
            &lat,
        ])
        .map_err(csv_err(&path))?;
    }
    w.flush().map_err(io(&path))?;

    let features = lib.footprints.buildings().iter().map(|b| {
        feature(
            (&b.footprint).into(),
            serde_json::json!({"id": b.id, "kind": b.kind.as_str(), "floors": b.floors}),
        )
    });
    write_collection(&dir.join("buildings.geojson"), features)?;
    let communities = lib
        .areas
        .map(|a| a.communities.buildings())
        .unwrap_or_default();
    let mut seen = HashSet::new();
    let areas = communities
        .iter()
        .filter(|b| seen.insert(b.id.clone()))
        .map(|b| {
            let name = lib
                .areas
                .and_then(|a| a.names.get(&b.id))
                .cloned()
                .unwrap_or_default();
            let parent = format!("{}000", b.id.get(..9).unwrap_or(""));
            feature(
                (&b.footprint).into(),
                serde_json::json!({"code": b.id, "name": name, "level": "community", "parent_code": parent}),
            )
        });
    write_collection(&dir.join("areas.geojson"), areas)?;
    let roads = lib.roads.iter().enumerate().map(|(i, r)| {
        feature(
            (&r.geometry).into(),
            serde_json::json!({"id": format!("R{:06}", i + 1), "name": r.name}),
        )
    });
    write_collection(&dir.join("roads.geojson"), roads)?;

    // The registers as they came (UTF-8, the id column first), kept as the build's sources.
    for (r, (header, rows)) in lib.registers.iter().zip(lib.raw) {
        let path = dir.join("sources").join(format!("{}.csv", r.name));
        let id_i = header.iter().position(|h| *h == r.id).unwrap_or(0);
        let order: Vec<usize> = std::iter::once(id_i)
            .chain((0..header.len()).filter(|&i| i != id_i))
            .collect();
        let mut w = csv::Writer::from_path(&path).map_err(csv_err(&path))?;
        w.write_record(order.iter().map(|&i| header[i].as_str()))
            .map_err(csv_err(&path))?;
        let mut keys = HashSet::new();
        for (_, row) in rows {
            let key = row.get(id_i).map(|k| k.trim()).unwrap_or("");
            // A repeated or empty id is already among the register's problems.
            if key.is_empty() || !keys.insert(key.to_string()) {
                continue;
            }
            w.write_record(
                order
                    .iter()
                    .map(|&i| row.get(i).map(String::as_str).unwrap_or("")),
            )
            .map_err(csv_err(&path))?;
        }
        w.flush().map_err(io(&path))?;
    }
    let manifest = serde_json::json!({
        "generator": "dizhi build --config",
        crate::dictionaries::COVERAGE_META_KEY: lib.coverage.codes(),
        "addresses": lib.assembled.len(),
        "buildings": lib.footprints.len(),
    });
    let path = dir.join("manifest.json");
    fs::write(&path, manifest.to_string()).map_err(io(&path))
}

/// A feature with its properties (a JSON object).
fn feature(value: geojson::GeometryValue, properties: serde_json::Value) -> geojson::Feature {
    let properties = match properties {
        serde_json::Value::Object(o) => o,
        _ => serde_json::Map::new(),
    };
    crate::gis::geojson::polygon_feature(None, value, properties)
}

/// A FeatureCollection through the one GeoJSON writer.
fn write_collection(path: &Path, features: impl Iterator<Item = geojson::Feature>) -> Result<()> {
    let mut w = BufWriter::new(File::create(path).map_err(io(path))?);
    crate::gis::geojson::write_features(&mut w, features).map_err(io(path))?;
    w.flush().map_err(io(path))
}

/// What the provenance writer needs.
pub struct Provenance<'a> {
    pub assembled: &'a [Assembled],
    pub ids: &'a [String],
    pub records: &'a [RegisterRecord],
    pub readings: &'a [Reading],
    pub repaired: &'a HashMap<u32, (String, String)>,
    pub unkeyed: &'a [u32],
    pub register_names: &'a [String],
    /// Each address's footprint id.
    pub building_ids: &'a [Option<String>],
    pub before: &'a EarlierLibrary,
}

/// What a delivery changed against the earlier library.
#[derive(Debug, Default)]
pub struct Changes {
    pub kept: usize,
    pub added: usize,
    pub changed: usize,
    pub retired: usize,
}

const ACTOR: &str = "build --config";

/// Queues an anomaly about a built address for its 街镇's steward.
fn queue_address(
    tx: &rusqlite::Transaction<'_>,
    (rule, kind): (RuleId, &str),
    id: &str,
    message: &str,
    detail: &serde_json::Value,
    town: Option<&str>,
) -> Result<()> {
    insert_anomaly(
        tx,
        &NewAnomaly {
            rule,
            kind,
            severity: Severity::Warning,
            entity_kind: EntityKind::Address,
            entity_id: id,
            message,
            detail,
            source: None,
            record_key: None,
            assignee: town,
        },
        ACTOR,
        None,
    )?;
    Ok(())
}

fn reading_json(r: &Reading) -> serde_json::Value {
    serde_json::json!({"town": r.town, "community": r.community, "road": r.road, "lane": r.lane,
        "number": r.number, "group": r.group, "poi": r.poi, "building": r.building})
}

/// Writes each address's evidence, each record's fused row, the anomalies and the audit rows,
/// in one transaction.
pub fn write_provenance(store: &mut crate::store::Store, p: &Provenance<'_>) -> Result<Changes> {
    let conn = store.connection_mut();
    let tx = conn.transaction()?;
    let mut changes = Changes::default();
    {
        let mut carried = tx.prepare_cached(
            "INSERT INTO audit_log (at, actor, action, entity, before, after) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for row in &p.before.audit {
            carried.execute(rusqlite::params_from_iter(row.iter()))?;
        }
        let mut evidence = tx.prepare_cached(
            "INSERT INTO address_evidence (address_id, door_key, support, registers, records, \
             confidence, fields) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        let mut fused = tx.prepare_cached(
            "INSERT OR REPLACE INTO fused_records (source, record_key, address_id, building_id, \
             match_level, score, link_method, fields) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        let mut status = tx.prepare_cached("UPDATE addresses SET status = ?2 WHERE id = ?1")?;
        let mut seen_keys = HashSet::new();
        for ((a, id), building_id) in p.assembled.iter().zip(p.ids).zip(p.building_ids) {
            let key = door_key(&a.key);
            seen_keys.insert(key.clone());
            let registers: Vec<&str> = a
                .registers
                .iter()
                .map(|&r| p.register_names[r as usize].as_str())
                .collect();
            evidence.execute(params![
                id,
                key,
                a.support,
                serde_json::to_string(&registers).unwrap_or_default(),
                a.records.len() as i64,
                a.confidence,
                serde_json::Value::Object(a.fields.clone()).to_string()
            ])?;
            if a.support == "proposed" {
                status.execute(params![id, "proposed"])?;
            }
            for &i in &a.records {
                let r = &p.records[i as usize];
                let mut fields = reading_json(&p.readings[i as usize]);
                if let Some((written, standard)) = p.repaired.get(&i) {
                    fields["repaired"] =
                        serde_json::json!({"written": written, "standard": standard});
                }
                fused.execute(params![
                    p.register_names[r.register as usize],
                    r.key,
                    id,
                    building_id,
                    "door",
                    a.confidence,
                    a.building.map(|(_, how)| how),
                    fields.to_string()
                ])?;
            }
            // What a delivery changed.
            let state = [
                full_text(a),
                a.town.as_ref().map(|t| t.0.clone()).unwrap_or_default(),
                a.community
                    .as_ref()
                    .map(|c| c.0.clone())
                    .unwrap_or_default(),
                building_id.clone().unwrap_or_default(),
            ]
            .join("|");
            match p.before.by_key.get(&key) {
                Some(e) if e.state == state => changes.kept += 1,
                Some(e) => {
                    changes.kept += 1;
                    changes.changed += 1;
                    crate::fuse::audit(
                        &tx,
                        ACTOR,
                        "address.update",
                        id,
                        Some(&e.state),
                        Some(&state),
                    )?;
                }
                None => {
                    changes.added += 1;
                    if p.before.exists {
                        crate::fuse::audit(&tx, ACTOR, "address.create", id, None, Some(&state))?;
                    }
                }
            }
            // Review: the records name another 街镇 than the boundary layer puts the door in;
            // no footprint.
            let town_name = a.town.as_ref().map(|t| t.1.as_str());
            if let Some((said_code, said_name)) = &a.town_conflict {
                let message = format!(
                    "the registers say {said_name}, the 街镇 boundary puts {} in {}",
                    a.key.text(),
                    town_name.unwrap_or("?")
                );
                let detail = serde_json::json!({"said": said_code, "boundary": a.town.as_ref().map(|t| &t.0)});
                queue_address(
                    &tx,
                    (RuleId::SourcesDisagreeTown, "boundary"),
                    id,
                    &message,
                    &detail,
                    town_name,
                )?;
            }
            if a.building.is_none() {
                let message = format!(
                    "{}: no footprint holds or lies near its points",
                    a.key.text()
                );
                let detail = serde_json::json!({"points": a.records.iter().filter(|&&i| p.records[i as usize].point.is_some()).count()});
                queue_address(
                    &tx,
                    (RuleId::AddressWithoutBuilding, "registers"),
                    id,
                    &message,
                    &detail,
                    town_name,
                )?;
            }
        }
        // Records that name no door stay in review, never dropped.
        for &i in p.unkeyed {
            let r = &p.records[i as usize];
            let source = p.register_names[r.register as usize].as_str();
            let reading = p.readings[i as usize].clone();
            fused.execute(params![
                source,
                r.key,
                Option::<String>::None,
                Option::<String>::None,
                "none",
                0.0,
                Option::<String>::None,
                reading_json(&reading).to_string()
            ])?;
            let message = format!("{:?} names no door plate (road or village and 号)", r.text);
            let detail = serde_json::json!({"text": r.text, "line": r.line});
            let entity = format!("{source}:{}", r.key);
            insert_anomaly(
                &tx,
                &NewAnomaly {
                    rule: RuleId::UnknownAddress,
                    kind: "unplaced",
                    severity: Severity::Warning,
                    entity_kind: EntityKind::SourceRecord,
                    entity_id: &entity,
                    message: &message,
                    detail: &detail,
                    source: Some(source),
                    record_key: Some(&r.key),
                    assignee: reading.town.as_deref(),
                },
                ACTOR,
                None,
            )?;
        }
        for (key, e) in &p.before.by_key {
            if !seen_keys.contains(key) {
                changes.retired += 1;
                crate::fuse::audit(&tx, ACTOR, "address.retire", &e.id, Some(&e.state), None)?;
            }
        }
    }
    let summary = serde_json::json!({"kept": changes.kept, "added": changes.added,
        "changed": changes.changed, "retired": changes.retired});
    crate::fuse::audit(
        &tx,
        ACTOR,
        "registers.build",
        "library",
        None,
        Some(&summary.to_string()),
    )?;
    tx.commit()?;
    Ok(changes)
}
