//! `sources/` and `truth/`: every `.csv` and `.geojson` a source of raw records, stored as they
//! came (columns as a JSON object in file order, geometry as WKB).

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::Path;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::csv_rows::for_each_csv_row;
use super::geojson_layers::for_each_feature;
use super::problems::Location;
use super::source_dir::read_file;
use super::writer::Batch;
use super::{BuildInProgress, Stage};
use crate::gis::geojson::features::value_text;
use crate::gis::geojson::geometry;
use crate::store::sources::{set_source_count, write_source_records, write_source_row};
use crate::store::{Error, SourceRecord};

/// Loads every `.csv` and `.geojson` of `sources/` (or every `.csv` of `truth/`) as a source
/// named after the file's stem (`truth/<stem>` for truth files).
pub(super) fn load_source_folder(run: &mut BuildInProgress<'_>, folder: &str) -> Result<(), Error> {
    let path = run.source_dir.join(folder);
    if !path.is_dir() {
        return Ok(());
    }
    let mut entries = match fs::read_dir(&path) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect::<Vec<_>>(),
        Err(e) => {
            run.problems
                .push(folder, Location::File, format!("cannot list: {e}"));
            return Ok(());
        }
    };
    // Sorted, so a build is deterministic whatever order the file system lists.
    entries.sort();
    let mut names = HashSet::new();
    let is_truth = folder == "truth";
    let files = entries.len() as u64;
    for (i, path) in entries.into_iter().enumerate() {
        (run.progress)(Stage::Sources, i as u64, files);
        let file_name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let label = format!("{folder}/{file_name}");
        let stem = path
            .file_stem()
            .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let kind = match (ext, is_truth) {
            ("csv", true) => "truth",
            ("csv", false) => "csv",
            ("geojson", false) => "geojson",
            _ => {
                run.report.skipped.push(label);
                continue;
            }
        };
        let name = if is_truth {
            format!("truth/{stem}")
        } else {
            stem
        };
        if !names.insert(name.clone()) {
            run.problems.push(
                &label,
                Location::File,
                format!("another file in {folder}/ already gives the source name {name:?}"),
            );
            continue;
        }
        let path_text = path.to_string_lossy().into_owned();
        let source_id = if run.writing() {
            // Ids are given here, not by SQLite, so records can be queued before the row exists.
            let id = run.next_source_id;
            run.next_source_id += 1;
            let name = name.clone();
            run.writer.send(move |tx| {
                write_source_row(tx, Some(id), &name, kind, Some(&path_text)).map(drop)
            })?;
            Some(id)
        } else {
            None
        };
        let count = match kind {
            "geojson" => load_geojson_source(run, &label, &path, source_id)?,
            _ => load_csv_source(run, &label, &path, is_truth, source_id)?,
        };
        if let Some(id) = source_id {
            run.writer
                .send(move |tx| set_source_count(tx, id, count as u64))?;
        }
        if is_truth {
            run.report.truth_files += 1;
        } else {
            run.report.sources += 1;
            run.report.source_records += count;
        }
    }
    (run.progress)(Stage::Sources, files, files);
    Ok(())
}

/// A source CSV: the first column is the record id (truth files are keyed by row number, since
/// an evaluation table need not have one id per row). Returns how many records it has.
fn load_csv_source(
    run: &mut BuildInProgress<'_>,
    file: &str,
    path: &Path,
    keyed_by_row: bool,
    source_id: Option<i64>,
) -> Result<usize, Error> {
    let writer = run.writer.clone();
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut batch: Batch<SourceRecord> = Batch::new();
    let mut count = 0;
    for_each_csv_row(
        file,
        path,
        &mut run.problems,
        |header, problems| {
            let mut names = HashSet::new();
            for name in header {
                if !names.insert(name) {
                    problems.line(file, 1, format!("duplicate column name {name:?}"));
                    return false;
                }
            }
            true
        },
        |header, r, line, problems| {
            let key = if keyed_by_row {
                (count + 1).to_string()
            } else {
                let key = &r[0];
                if key.is_empty() {
                    problems.line(file, line, "empty record id (first column)");
                    return Ok(());
                }
                if let Some(first) = seen.get(key) {
                    problems.line(
                        file,
                        line,
                        format!("duplicate record id {key} (first on line {first})"),
                    );
                    return Ok(());
                }
                seen.insert(key.to_string(), line);
                key.to_string()
            };
            count += 1;
            if let (Some(id), true) = (source_id, problems.is_empty()) {
                let pairs: Vec<(&str, &str)> = header.iter().zip(r.iter()).collect();
                // Serializing string keys and JSON values cannot fail.
                let record = SourceRecord {
                    key,
                    line: Some(line),
                    raw: serde_json::to_string(&AsObject(&pairs)).unwrap_or_default(),
                    geometry: None,
                };
                batch.push(record, |b| {
                    writer.send(move |tx| write_source_records(tx, id, &b).map(drop))
                })?;
            }
            Ok(())
        },
        |_| {},
    )?;
    if let Some(id) = source_id {
        batch.finish(run.writing(), |b| {
            writer.send(move |tx| write_source_records(tx, id, &b).map(drop))
        })?;
    }
    Ok(count)
}

/// A source GeoJSON: the record id is property `id`, else the feature's `id`, else its first
/// property. Returns how many records it has.
fn load_geojson_source(
    run: &mut BuildInProgress<'_>,
    file: &str,
    path: &Path,
    source_id: Option<i64>,
) -> Result<usize, Error> {
    let Some(bytes) = read_file(path, file, &mut run.problems) else {
        return Ok(0);
    };
    let writer = run.writer.clone();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut batch: Batch<SourceRecord> = Batch::new();
    let mut count = 0;
    for_each_feature(file, &bytes, &mut run.problems, |index, f, problems| {
        let key = f.id_text().or_else(|| {
            f.properties
                .as_ref()
                .and_then(|p| p.values().next())
                .and_then(value_text)
        });
        let at = Location::Feature {
            index,
            id: key.clone(),
        };
        let Some(key) = key else {
            problems.push(
                file,
                at,
                "no record id (property `id`, feature id or first property)",
            );
            return Ok(());
        };
        if let Some(first) = seen.get(&key) {
            problems.push(
                file,
                at,
                format!("duplicate record id {key} (first at feature {first})"),
            );
            return Ok(());
        }
        seen.insert(key.clone(), index);
        let geometry = match f.geometry() {
            Ok(None) => None,
            Ok(Some(g)) => match geometry::geometry(&g.value) {
                Ok(g) => Some(g),
                Err(e) => {
                    problems.push(file, at, format!("invalid geometry: {e}"));
                    return Ok(());
                }
            },
            Err(e) => {
                problems.push(file, at, e);
                return Ok(());
            }
        };
        count += 1;
        if let (Some(id), true) = (source_id, problems.is_empty()) {
            let props = f.properties.unwrap_or_default();
            let record = SourceRecord {
                key,
                line: Some(index as u64),
                raw: serde_json::to_string(&props).unwrap_or_default(),
                geometry,
            };
            batch.push(record, |b| {
                writer.send(move |tx| write_source_records(tx, id, &b).map(drop))
            })?;
        }
        Ok(())
    })?;
    if let Some(id) = source_id {
        batch.finish(run.writing(), |b| {
            writer.send(move |tx| write_source_records(tx, id, &b).map(drop))
        })?;
    }
    Ok(count)
}

/// Serializes `(key, value)` pairs as one JSON object, in order.
struct AsObject<'a, K, V>(&'a [(K, V)]);

impl<K: Serialize, V: Serialize> Serialize for AsObject<'_, K, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_serialize_as_one_object_in_order() {
        assert_eq!(
            serde_json::to_string(&AsObject(&[("z", "1"), ("a", "x")])).unwrap(),
            r#"{"z":"1","a":"x"}"#
        );
    }
}
