//! The source directory's files read whole — `manifest.json` and the GeoJSON layers — and the
//! manifest's counts checked against what the files had.

use std::fs;
use std::path::Path;

use serde_json::Value;

use super::problems::{Location, Problems};

pub(super) fn read_optional(dir: &Path, name: &str, problems: &mut Problems) -> Option<Vec<u8>> {
    let path = dir.join(name);
    if path.exists() {
        read_file(&path, name, problems)
    } else {
        None
    }
}

pub(super) fn read_file(path: &Path, name: &str, problems: &mut Problems) -> Option<Vec<u8>> {
    match fs::read(path) {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            problems.push(name, Location::File, format!("cannot read: {e}"));
            None
        }
    }
}

pub(super) fn read_manifest(
    dir: &Path,
    problems: &mut Problems,
) -> Option<serde_json::Map<String, Value>> {
    let bytes = read_optional(dir, "manifest.json", problems)?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => Some(m),
        Ok(_) => {
            problems.push("manifest.json", Location::File, "not a JSON object");
            None
        }
        Err(e) => {
            problems.line(
                "manifest.json",
                e.line() as u64,
                format!("invalid JSON: {e}"),
            );
            None
        }
    }
}

/// A manifest that promises more rows than a file has is the surest sign of a truncated file.
/// Checked only for files with no other problem, whose count would be off anyway.
pub(super) fn check_manifest_counts(
    m: &serde_json::Map<String, Value>,
    addresses: usize,
    buildings: usize,
    problems: &mut Problems,
) {
    for (key, file, found) in [
        ("addresses", "addresses.csv", addresses),
        ("buildings", "buildings.geojson", buildings),
    ] {
        if let Some(expected) = m.get(key).and_then(Value::as_u64)
            && expected != found as u64
            && !problems.in_file(file)
        {
            problems.push(
                file,
                Location::File,
                format!("manifest.json says {expected} {key}, the file has {found}"),
            );
        }
    }
}

/// The districts the manifest says the data covers (`"divisions": "310114000000"`, codes
/// comma-separated or as a list), each checked against the division list.
pub(super) fn manifest_divisions(
    m: &serde_json::Map<String, Value>,
    problems: &mut Problems,
) -> Option<Vec<String>> {
    let codes: Vec<String> = match m.get(crate::dictionaries::COVERAGE_META_KEY)? {
        Value::String(s) => s.split(',').map(|c| c.trim().to_string()).collect(),
        Value::Array(a) => a
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_string())
            .collect(),
        _ => {
            problems.push(
                "manifest.json",
                Location::File,
                "divisions must be a string or list of district codes",
            );
            return None;
        }
    };
    let admin = crate::dictionaries::AdminIndex::embedded().ok()?;
    match crate::dictionaries::Coverage::new(&admin, &codes) {
        Ok(c) => Some(c.codes()),
        Err(e) => {
            problems.push("manifest.json", Location::File, e.to_string());
            None
        }
    }
}
