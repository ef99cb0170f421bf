//! `buildings.geojson`, `roads.geojson` and `areas.geojson`, read feature by feature through the
//! one GeoJSON reader ([`crate::gis::geojson`]): each feature checked (id, properties, geometry)
//! and written, each bad one a problem with its index, id and reason.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::problems::{Location, Problems};
use super::source_dir::{read_file, read_optional};
use super::writer::Batch;
use super::{BuildInProgress, Stage};
use crate::gis::geojson::features::{self, Feature, StreamError};
use crate::gis::geojson::geometry::{Rings, line, polygonal, single_polygon};
use crate::store::buildings::write_buildings;
use crate::store::roads_and_areas::{write_areas, write_roads};
use crate::store::{AreaRecord, Error, RoadRecord};
use crate::{Building, BuildingKind};

/// Streams the features of `file` to `f`; a JSON error, or a document that is not a
/// FeatureCollection, becomes a problem of the file. Stops at the first error `f` returns (a
/// failed write).
pub(super) fn for_each_feature(
    file: &str,
    bytes: &[u8],
    problems: &mut Problems,
    mut f: impl FnMut(usize, Feature, &mut Problems) -> Result<(), Error>,
) -> Result<(), Error> {
    match features::for_each_feature(bytes, |index, feature| f(index, feature, problems)) {
        Ok(_) => {}
        Err(StreamError::Stopped(e)) => return Err(e),
        Err(StreamError::NotACollection { found }) => problems.push(
            file,
            Location::File,
            format!("expected a FeatureCollection, found type {found:?}"),
        ),
        Err(StreamError::Json(e)) => problems.line(
            file,
            e.line() as u64,
            format!("invalid GeoJSON (column {}): {e}", e.column()),
        ),
    }
    Ok(())
}

/// Loads `buildings.geojson`; returns the ids of its buildings, for the addresses' references.
pub(super) fn load_buildings(
    run: &mut BuildInProgress<'_>,
    expected: Option<u64>,
) -> Result<HashSet<String>, Error> {
    const FILE: &str = "buildings.geojson";
    let mut ids: HashMap<String, usize> = HashMap::new();
    let Some(bytes) = read_file(&run.source_dir.join(FILE), FILE, &mut run.problems) else {
        return Ok(HashSet::new());
    };
    let (writer, progress) = (run.writer.clone(), run.progress);
    let total = expected.unwrap_or(0);
    let mut batch: Batch<Building> = Batch::new();
    let mut loaded = 0;
    for_each_feature(FILE, &bytes, &mut run.problems, |index, f, problems| {
        if index % 65_536 == 0 {
            progress(Stage::Buildings, index as u64, total);
        }
        let id = f.id_text();
        let at = || Location::Feature {
            index,
            id: id.clone(),
        };
        let Some(id) = id.clone() else {
            problems.push(FILE, at(), "no id (property `id`)");
            return Ok(());
        };
        if let Some(first) = ids.get(&id) {
            problems.push(
                FILE,
                at(),
                format!("duplicate id {id} (first at feature {first})"),
            );
            return Ok(());
        }
        ids.insert(id.clone(), index);
        let kind = match f.property("kind").and_then(Value::as_str) {
            Some(k) => match k.parse::<BuildingKind>() {
                Ok(k) => k,
                Err(e) => {
                    problems.push(FILE, at(), e);
                    return Ok(());
                }
            },
            None => {
                problems.push(FILE, at(), "no `kind` property");
                return Ok(());
            }
        };
        let floors = match f.property("floors").map(|v| v.as_u64().map(u16::try_from)) {
            Some(Some(Ok(n))) => n,
            Some(_) => {
                problems.push(FILE, at(), "`floors` is not a whole number of floors");
                return Ok(());
            }
            None => {
                problems.push(FILE, at(), "no `floors` property");
                return Ok(());
            }
        };
        let footprint = match f.geometry() {
            Ok(Some(g)) => single_polygon(&g, Rings::MustClose),
            Ok(None) => Err("no geometry".to_string()),
            Err(e) => Err(e),
        };
        let footprint = match footprint {
            Ok(p) => p,
            Err(reason) => {
                problems.push(FILE, at(), reason);
                return Ok(());
            }
        };
        loaded += 1;
        if problems.is_empty() {
            let b = Building {
                id,
                footprint,
                kind,
                floors,
                tags: Vec::new(),
            };
            batch.push(b, |b| {
                writer.send(move |tx| write_buildings(tx, &b).map(drop))
            })?;
        }
        Ok(())
    })?;
    batch.finish(run.writing(), |b| {
        writer.send(move |tx| write_buildings(tx, &b).map(drop))
    })?;
    run.report.buildings = loaded;
    progress(Stage::Buildings, loaded as u64, total.max(loaded as u64));
    Ok(ids.into_keys().collect())
}

pub(super) fn load_roads(run: &mut BuildInProgress<'_>) -> Result<(), Error> {
    const FILE: &str = "roads.geojson";
    let Some(bytes) = read_optional(run.source_dir, FILE, &mut run.problems) else {
        return Ok(());
    };
    let mut roads = Vec::new();
    let mut seen = HashSet::new();
    for_each_feature(FILE, &bytes, &mut run.problems, |index, f, problems| {
        let id = f.id_text();
        let at = Location::Feature {
            index,
            id: id.clone(),
        };
        let (Some(id), Some(name)) = (id, f.text("name")) else {
            problems.push(FILE, at, "a road needs properties `id` and `name`");
            return Ok(());
        };
        if !seen.insert(id.clone()) {
            problems.push(FILE, at, format!("duplicate id {id}"));
            return Ok(());
        }
        let geometry = match f.geometry() {
            Ok(None) => None,
            Ok(Some(g)) => match line(&g) {
                Ok(g) => Some(g),
                Err(e) => {
                    problems.push(FILE, at, e);
                    return Ok(());
                }
            },
            Err(e) => {
                problems.push(FILE, at, e);
                return Ok(());
            }
        };
        roads.push(RoadRecord {
            id,
            name,
            town_code: f.text("town_code"),
            geometry,
        });
        Ok(())
    })?;
    run.report.roads = roads.len();
    if run.writing() {
        run.writer
            .send(move |tx| write_roads(tx, &roads).map(drop))?;
    }
    Ok(())
}

pub(super) fn load_areas(run: &mut BuildInProgress<'_>) -> Result<(), Error> {
    const FILE: &str = "areas.geojson";
    let Some(bytes) = read_optional(run.source_dir, FILE, &mut run.problems) else {
        return Ok(());
    };
    let mut areas = Vec::new();
    let mut seen = HashSet::new();
    for_each_feature(FILE, &bytes, &mut run.problems, |index, f, problems| {
        let code = f.text("code");
        let at = Location::Feature {
            index,
            id: code.clone(),
        };
        let (Some(code), Some(name)) = (code, f.text("name")) else {
            problems.push(FILE, at, "an area needs properties `code` and `name`");
            return Ok(());
        };
        if !seen.insert(code.clone()) {
            problems.push(FILE, at, format!("duplicate code {code}"));
            return Ok(());
        }
        let geometry = match f.geometry() {
            Ok(None) => Ok(None),
            Ok(Some(g)) => polygonal(&g, Rings::MustClose).map(Some),
            Err(e) => Err(e),
        };
        match geometry {
            Ok(geometry) => areas.push(AreaRecord {
                code,
                name,
                level: f.text("level").unwrap_or_else(|| "community".to_string()),
                parent_code: f.text("parent_code"),
                geometry,
            }),
            Err(reason) => problems.push(FILE, at, reason),
        }
        Ok(())
    })?;
    run.report.areas = areas.len();
    if run.writing() {
        run.writer
            .send(move |tx| write_areas(tx, &areas).map(drop))?;
    }
    Ok(())
}
