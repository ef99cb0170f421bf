//! `dizhi build`: load a synthetic-district source directory into a data directory's store.
//!
//! All or nothing. Every file is parsed and validated in full first, and every problem found (up
//! to [`MAX_PROBLEMS`]) is reported with its file, line or feature, and reason. Only a clean
//! source directory is written, into a new temporary database file beside the store in one
//! transaction, which is then renamed over `DIR/dizhi.sqlite`. A failed build leaves the previous
//! store — or no store — exactly as it was, and no temporary file behind.
//!
//! The source directory holds `manifest.json` (optional), `addresses.csv`, `buildings.geojson`,
//! optionally `roads.geojson` and `areas.geojson`, and the `sources/` and `truth/` folders.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use geo::{Coord, Geometry, LineString, MultiPolygon, Point, Polygon, Validation};
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use rusqlite::OptionalExtension;

use super::{
    AreaRecord, Error, Link, RoadRecord, STORE_FILE, SourceRecord, Store, write_addresses,
    write_areas, write_buildings, write_links, write_meta, write_roads, write_source,
};
use crate::{AddressKind, AdminRef, Building, BuildingKind, StandardAddress};

/// How many problems a failed build reports before it only counts the rest.
pub const MAX_PROBLEMS: usize = 20;

/// The header `addresses.csv` must have, in this order.
pub const ADDRESS_HEADER: [&str; 17] = [
    "id",
    "address",
    "district",
    "town_code",
    "town",
    "community_code",
    "community",
    "road",
    "lane",
    "number",
    "group",
    "poi",
    "building",
    "kind",
    "building_id",
    "lon",
    "lat",
];

/// A step of a build, for progress reporting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Parsing and validating `buildings.geojson`.
    ReadBuildings,
    /// Parsing and validating `addresses.csv`.
    ReadAddresses,
    /// Parsing roads, areas, `sources/` and `truth/`.
    ReadSources,
    /// Writing buildings, roads and areas.
    WriteBuildings,
    /// Writing addresses and their links.
    WriteAddresses,
    /// Writing raw source records.
    WriteSources,
    /// Committing and moving the new store into place.
    Finish,
}

impl Stage {
    /// A short label for a progress bar.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(dizhi::store::Stage::ReadAddresses.label(), "reading addresses");
    /// ```
    pub fn label(self) -> &'static str {
        match self {
            Stage::ReadBuildings => "reading buildings",
            Stage::ReadAddresses => "reading addresses",
            Stage::ReadSources => "reading sources",
            Stage::WriteBuildings => "writing buildings",
            Stage::WriteAddresses => "writing addresses",
            Stage::WriteSources => "writing sources",
            Stage::Finish => "finishing",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Where in a file a problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The file as a whole (missing, unreadable, wrong header).
    File,
    /// A 1-based line of a CSV (or of a JSON file that does not parse).
    Line(u64),
    /// A GeoJSON feature: its 0-based index in the collection, and its id if it has one.
    Feature {
        /// Index in `features`.
        index: usize,
        /// The feature's id, when it could be read.
        id: Option<String>,
    },
}

/// One problem in a source directory.
///
/// # Examples
/// ```
/// use dizhi::store::{Location, Problem};
/// let p = Problem { file: "addresses.csv".into(), location: Location::Line(7), reason: "lon \"x\" is not a number".into() };
/// assert_eq!(p.to_string(), "addresses.csv, line 7: lon \"x\" is not a number");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file, relative to the source directory (`sources/mp.csv`).
    pub file: String,
    /// Where in it.
    pub location: Location,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Location::File => write!(f, "{}: {}", self.file, self.reason),
            Location::Line(line) => write!(f, "{}, line {line}: {}", self.file, self.reason),
            Location::Feature {
                index,
                id: Some(id),
            } => {
                write!(
                    f,
                    "{}, feature {index} (id {id}): {}",
                    self.file, self.reason
                )
            }
            Location::Feature { index, id: None } => {
                write!(f, "{}, feature {index}: {}", self.file, self.reason)
            }
        }
    }
}

/// Why a build failed. Whatever the reason, the data directory is as it was before.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The source directory does not exist or is not a directory.
    #[error("source directory {0} does not exist or is not a directory")]
    NoSourceDir(PathBuf),
    /// The source directory's files have problems; nothing was written.
    #[error("{}", describe_problems(.dir, .problems, *.more))]
    Invalid {
        /// The source directory.
        dir: PathBuf,
        /// The first [`MAX_PROBLEMS`] problems, in the order found.
        problems: Vec<Problem>,
        /// How many more were found but not listed.
        more: usize,
    },
    /// Writing the new store failed; the previous store is untouched.
    #[error("writing the store: {0}")]
    Store(#[from] Error),
}

fn describe_problems(dir: &Path, problems: &[Problem], more: usize) -> String {
    let total = problems.len() + more;
    let mut s = format!(
        "{} has {total} problem{}; nothing was written:",
        dir.display(),
        if total == 1 { "" } else { "s" }
    );
    for p in problems {
        s.push_str("\n  ");
        s.push_str(&p.to_string());
    }
    if more > 0 {
        s.push_str(&format!("\n  … and {more} more"));
    }
    s
}

/// What a successful build loaded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BuildReport {
    /// The source directory read.
    pub source_dir: PathBuf,
    /// The store written.
    pub store: PathBuf,
    /// The generator's seed, from `manifest.json`.
    pub seed: Option<u64>,
    /// Standard addresses.
    pub addresses: usize,
    /// Building footprints.
    pub buildings: usize,
    /// Address–building links.
    pub links: usize,
    /// Roads.
    pub roads: usize,
    /// 居/村委 areas.
    pub areas: usize,
    /// Sources from `sources/` (truth files not counted).
    pub sources: usize,
    /// Raw records over those sources.
    pub source_records: usize,
    /// Truth files from `truth/`, stored as sources of kind `truth`.
    pub truth_files: usize,
    /// Files in `sources/` or `truth/` that were not loaded (not `.csv`/`.geojson`).
    pub skipped: Vec<String>,
    /// Wall-clock time.
    pub elapsed: Duration,
}

/// A progress hook: `(stage, done, total)`. The library never prints; the CLI draws a bar.
pub type Progress<'a> = &'a (dyn Fn(Stage, u64, u64) + Sync);

/// Builds the store of `data_dir` from the synthetic-district directory `source_dir`, replacing
/// any previous store only if the whole build succeeds.
///
/// # Examples
/// ```
/// use std::fs;
/// let src = tempfile::tempdir().unwrap();
/// fs::write(src.path().join("addresses.csv"),
///     "id,address,district,town_code,town,community_code,community,road,lane,number,group,poi,building,kind,building_id,lon,lat\n\
///      A1,青浦区华新镇华腾路8号,青浦区,310118107000,华新镇,,,华腾路,,8,,,,street,B1,121.2005,31.2005\n").unwrap();
/// fs::write(src.path().join("buildings.geojson"), r#"{"type":"FeatureCollection","features":[
///     {"type":"Feature","properties":{"id":"B1","kind":"shop","floors":2},
///      "geometry":{"type":"Polygon","coordinates":[[[121.2,31.2],[121.201,31.2],[121.201,31.201],[121.2,31.201],[121.2,31.2]]]}}]}"#).unwrap();
/// let data = tempfile::tempdir().unwrap();
/// let report = dizhi::store::build(src.path(), data.path(), &|_, _, _| {}).unwrap();
/// assert_eq!((report.addresses, report.buildings, report.links), (1, 1, 1));
///
/// fs::write(src.path().join("addresses.csv"), "id,address\nA1,x\n").unwrap();
/// let err = dizhi::store::build(src.path(), data.path(), &|_, _, _| {}).unwrap_err();
/// assert!(err.to_string().contains("addresses.csv, line 1"));
/// let store = dizhi::store::Store::open(data.path()).unwrap();
/// assert_eq!(store.summary().unwrap().addresses, 1, "the previous store is kept");
/// ```
pub fn build(
    source_dir: &Path,
    data_dir: &Path,
    progress: Progress<'_>,
) -> Result<BuildReport, BuildError> {
    let started = Instant::now();
    if !source_dir.is_dir() {
        return Err(BuildError::NoSourceDir(source_dir.to_path_buf()));
    }
    let input = read_source_dir(source_dir, progress)?;
    let store = data_dir.join(STORE_FILE);
    let mut report = BuildReport {
        source_dir: source_dir.to_path_buf(),
        store: store.clone(),
        seed: input.manifest_seed(),
        addresses: input.addresses.len(),
        buildings: input.buildings.len(),
        links: input.links().count(),
        roads: input.roads.len(),
        areas: input.areas.len(),
        sources: input.sources.iter().filter(|s| s.kind != "truth").count(),
        source_records: input
            .sources
            .iter()
            .filter(|s| s.kind != "truth")
            .map(|s| s.records.len())
            .sum(),
        truth_files: input.sources.iter().filter(|s| s.kind == "truth").count(),
        skipped: input.skipped.clone(),
        elapsed: Duration::ZERO,
    };
    write_store(&input, source_dir, data_dir, &store, &report, progress)?;
    report.elapsed = started.elapsed();
    Ok(report)
}

// ---- reading and validating ------------------------------------------------------------------

/// Everything in a source directory, validated.
struct Input {
    manifest: Option<serde_json::Map<String, Value>>,
    addresses: Vec<(StandardAddress, String)>,
    buildings: Vec<Building>,
    roads: Vec<RoadRecord>,
    areas: Vec<AreaRecord>,
    sources: Vec<SourceFile>,
    skipped: Vec<String>,
}

impl Input {
    fn manifest_seed(&self) -> Option<u64> {
        self.manifest.as_ref()?.get("seed")?.as_u64()
    }

    fn links(&self) -> impl Iterator<Item = Link> + '_ {
        self.addresses.iter().filter_map(|(a, _)| {
            a.building_id.as_ref().map(|b| Link {
                address_id: a.id.clone(),
                building_id: b.clone(),
                source: "addresses.csv".to_string(),
                method: "given".to_string(),
                confidence: 1.0,
            })
        })
    }
}

struct SourceFile {
    name: String,
    kind: &'static str,
    path: String,
    records: Vec<SourceRecord>,
}

/// Problems found so far: the first [`MAX_PROBLEMS`] kept, the rest counted.
#[derive(Default)]
struct Problems {
    list: Vec<Problem>,
    more: usize,
}

impl Problems {
    fn push(&mut self, file: &str, location: Location, reason: impl Into<String>) {
        if self.list.len() < MAX_PROBLEMS {
            self.list.push(Problem {
                file: file.to_string(),
                location,
                reason: reason.into(),
            });
        } else {
            self.more += 1;
        }
    }

    fn line(&mut self, file: &str, line: u64, reason: impl Into<String>) {
        self.push(file, Location::Line(line), reason);
    }

    fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    fn in_file(&self, file: &str) -> bool {
        self.list.iter().any(|p| p.file == file)
    }

    /// Adds another thread's problems after these, keeping the cap.
    fn append(&mut self, other: Problems) {
        for p in other.list {
            self.push(&p.file, p.location, p.reason);
        }
        self.more += other.more;
    }
}

fn read_source_dir(dir: &Path, progress: Progress<'_>) -> Result<Input, BuildError> {
    // Two threads for two cores: the footprints and addresses (which must be checked against
    // the footprints) on this one, everything else on the other.
    let (main, side) = std::thread::scope(|scope| {
        let side = scope.spawn(|| read_side_files(dir, progress));
        let main = read_main_files(dir, progress);
        (main, side.join())
    });
    let (manifest, buildings, addresses, mut problems) = main;
    let (roads, areas, sources, skipped, side_problems) = match side {
        Ok(side) => side,
        // Only a bug panics here; report it as a problem rather than take the CLI down.
        Err(_) => {
            let mut p = Problems::default();
            p.push("sources", Location::File, "reading the sources panicked");
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), p)
        }
    };
    problems.append(side_problems);

    if let Some(m) = &manifest {
        check_manifest_counts(m, addresses.len(), buildings.len(), &mut problems);
    }
    if !problems.is_empty() {
        return Err(BuildError::Invalid {
            dir: dir.to_path_buf(),
            problems: problems.list,
            more: problems.more,
        });
    }
    Ok(Input {
        manifest,
        addresses,
        buildings,
        roads,
        areas,
        sources,
        skipped,
    })
}

type MainFiles = (
    Option<serde_json::Map<String, Value>>,
    Vec<Building>,
    Vec<(StandardAddress, String)>,
    Problems,
);

fn read_main_files(dir: &Path, progress: Progress<'_>) -> MainFiles {
    let mut problems = Problems::default();
    let manifest = read_manifest(dir, &mut problems);

    progress(Stage::ReadBuildings, 0, 1);
    let buildings = match read_required(dir, "buildings.geojson", &mut problems) {
        Some(bytes) => read_buildings(&bytes, &mut problems),
        None => Vec::new(),
    };
    progress(Stage::ReadBuildings, 1, 1);

    // Without a readable buildings file every building_id would be "unknown": say it once.
    let building_ids: HashSet<&str> = buildings.iter().map(|b| b.id.as_str()).collect();
    let buildings_known = !problems.in_file("buildings.geojson");
    let addresses = match read_required(dir, "addresses.csv", &mut problems) {
        Some(bytes) => read_addresses(
            &bytes,
            buildings_known.then_some(&building_ids),
            &mut problems,
            progress,
        ),
        None => Vec::new(),
    };
    drop(building_ids);
    (manifest, buildings, addresses, problems)
}

type SideFiles = (
    Vec<RoadRecord>,
    Vec<AreaRecord>,
    Vec<SourceFile>,
    Vec<String>,
    Problems,
);

fn read_side_files(dir: &Path, progress: Progress<'_>) -> SideFiles {
    let mut problems = Problems::default();
    progress(Stage::ReadSources, 0, 1);
    let roads = read_optional(dir, "roads.geojson", &mut problems)
        .map(|b| read_roads(&b, &mut problems))
        .unwrap_or_default();
    let areas = read_optional(dir, "areas.geojson", &mut problems)
        .map(|b| read_areas(&b, &mut problems))
        .unwrap_or_default();
    let mut skipped = Vec::new();
    let mut sources = read_source_folder(dir, "sources", &mut problems, &mut skipped);
    sources.extend(read_source_folder(
        dir,
        "truth",
        &mut problems,
        &mut skipped,
    ));
    progress(Stage::ReadSources, 1, 1);
    (roads, areas, sources, skipped, problems)
}

fn read_required(dir: &Path, name: &str, problems: &mut Problems) -> Option<Vec<u8>> {
    let path = dir.join(name);
    if !path.exists() {
        problems.push(name, Location::File, "required file is missing");
        return None;
    }
    read_file(&path, name, problems)
}

fn read_optional(dir: &Path, name: &str, problems: &mut Problems) -> Option<Vec<u8>> {
    let path = dir.join(name);
    if path.exists() {
        read_file(&path, name, problems)
    } else {
        None
    }
}

fn read_file(path: &Path, name: &str, problems: &mut Problems) -> Option<Vec<u8>> {
    match fs::read(path) {
        Ok(bytes) => Some(bytes),
        Err(e) => {
            problems.push(name, Location::File, format!("cannot read: {e}"));
            None
        }
    }
}

fn read_manifest(dir: &Path, problems: &mut Problems) -> Option<serde_json::Map<String, Value>> {
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
fn check_manifest_counts(
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

// ---- CSV -------------------------------------------------------------------------------------

/// Reads a CSV with a header, calling `row` with every well-formed record and its line. Rows
/// with the wrong number of columns, bad UTF-8 or an unterminated quote become problems.
fn for_each_csv_row(
    file: &str,
    bytes: &[u8],
    problems: &mut Problems,
    mut on_header: impl FnMut(&csv::StringRecord, &mut Problems) -> bool,
    mut row: impl FnMut(&csv::StringRecord, &csv::StringRecord, u64, &mut Problems),
    mut progress: impl FnMut(u64),
) {
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    // The csv crate reads an unterminated quote as a field running to the end of the file, so
    // find it ourselves: quotes balance in a well-formed file (`""` escapes come in pairs).
    let unterminated = if bytecount_quotes(bytes) % 2 == 1 {
        Some(unterminated_quote(bytes))
    } else {
        None
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut header = csv::StringRecord::new();
    match reader.read_record(&mut header) {
        Ok(true) => {}
        Ok(false) => {
            problems.push(file, Location::File, "empty file (no header)");
            return;
        }
        Err(e) => {
            problems.line(file, 1, csv_reason(&e));
            return;
        }
    }
    if !on_header(&header, problems) {
        return;
    }
    let width = header.len();
    let mut record = csv::StringRecord::new();
    let mut n = 0u64;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(0, |p| p.line());
                let start = record.position().map_or(0, |p| p.byte());
                if let Some((_, bad)) = unterminated
                    && start <= bad
                    && reader.position().byte() > bad
                {
                    // This record swallowed the rest of the file; reported below.
                    continue;
                }
                if record.len() != width {
                    problems.line(
                        file,
                        line,
                        format!(
                            "expected {width} columns, found {} (truncated or misquoted row?)",
                            record.len()
                        ),
                    );
                    continue;
                }
                row(&header, &record, line, problems);
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                problems.line(file, line, csv_reason(&e));
                // A UTF-8 error leaves the reader usable; anything else (I/O) ends the file.
                if !matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                    break;
                }
            }
        }
        n += 1;
        if n.is_multiple_of(65_536) {
            progress(reader.position().byte());
        }
    }
    if let Some((line, _)) = unterminated {
        problems.line(
            file,
            line,
            "unterminated quoted field (the quote opened here is never closed)",
        );
    }
    progress(bytes.len() as u64);
}

fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { err, .. } => format!("invalid UTF-8 in field {}", err.field() + 1),
        _ => e.to_string(),
    }
}

fn bytecount_quotes(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&b| b == b'"').count()
}

/// The line and byte offset of the last quote a file opens; called only when quotes don't
/// balance, so that quote is never closed.
fn unterminated_quote(bytes: &[u8]) -> (u64, u64) {
    let (mut line, mut open, mut in_quotes) = (1u64, (1u64, 0u64), false);
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'\n' => line += 1,
            b'"' => {
                in_quotes = !in_quotes;
                if in_quotes {
                    open = (line, i as u64);
                }
            }
            _ => {}
        }
    }
    open
}

fn read_addresses(
    bytes: &[u8],
    building_ids: Option<&HashSet<&str>>,
    problems: &mut Problems,
    progress: Progress<'_>,
) -> Vec<(StandardAddress, String)> {
    const FILE: &str = "addresses.csv";
    let total = bytes.len() as u64;
    let mut out = Vec::with_capacity(bytes.len() / 160);
    let mut seen: HashMap<String, u64> = HashMap::with_capacity(bytes.len() / 160);
    let opt = |s: &str| -> Option<String> { (!s.is_empty()).then(|| s.to_string()) };
    for_each_csv_row(
        FILE,
        bytes,
        problems,
        |header, problems| {
            if header.iter().eq(ADDRESS_HEADER) {
                true
            } else {
                problems.line(
                    FILE,
                    1,
                    format!(
                        "header must be exactly `{}`, found `{}`",
                        ADDRESS_HEADER.join(","),
                        header.iter().collect::<Vec<_>>().join(",")
                    ),
                );
                false
            }
        },
        |_, r, line, problems| {
            let mut ok = true;
            let id = &r[0];
            if id.is_empty() {
                problems.line(FILE, line, "empty id");
                ok = false;
            } else if let Some(first) = seen.get(id) {
                problems.line(
                    FILE,
                    line,
                    format!("duplicate id {id} (first on line {first})"),
                );
                ok = false;
            } else {
                seen.insert(id.to_string(), line);
            }
            let kind = match r[13].parse::<AddressKind>() {
                Ok(k) => Some(k),
                Err(e) => {
                    problems.line(FILE, line, e);
                    None
                }
            };
            let point = match parse_point(&r[15], &r[16]) {
                Ok(p) => p,
                Err(reason) => {
                    problems.line(FILE, line, reason);
                    ok = false;
                    None
                }
            };
            let building_id = opt(&r[14]);
            if let (Some(b), Some(known)) = (&building_id, building_ids)
                && !known.contains(b.as_str())
            {
                problems.line(
                    FILE,
                    line,
                    format!("building_id {b} is not among the buildings in buildings.geojson"),
                );
                ok = false;
            }
            let (Some(kind), true) = (kind, ok) else {
                return;
            };
            let address = StandardAddress {
                id: id.to_string(),
                district: if r[2].is_empty() {
                    "青浦区".to_string()
                } else {
                    r[2].to_string()
                },
                town: AdminRef {
                    code: r[3].to_string(),
                    name: r[4].to_string(),
                },
                community: AdminRef {
                    code: r[5].to_string(),
                    name: r[6].to_string(),
                },
                road: opt(&r[7]),
                lane: opt(&r[8]),
                number: opt(&r[9]),
                group: opt(&r[10]),
                poi: opt(&r[11]),
                building: opt(&r[12]),
                kind,
                building_id,
                point,
                tags: Vec::new(),
                status: Default::default(),
            };
            let text = if r[1].is_empty() {
                address.canonical_text()
            } else {
                r[1].to_string()
            };
            out.push((address, text));
        },
        |done| progress(Stage::ReadAddresses, done, total),
    );
    out
}

/// A lon/lat pair of cells: both empty is no point; anything else must be two finite numbers in
/// range.
fn parse_point(lon: &str, lat: &str) -> Result<Option<Point<f64>>, String> {
    if lon.is_empty() && lat.is_empty() {
        return Ok(None);
    }
    let number = |name: &str, text: &str, limit: f64| -> Result<f64, String> {
        match text.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && v.abs() <= limit => Ok(v),
            Ok(_) => Err(format!("{name} {text:?} is out of range")),
            Err(_) if text.is_empty() => {
                Err(format!("{name} is empty but the other coordinate is not"))
            }
            Err(_) => Err(format!("{name} {text:?} is not a number")),
        }
    };
    Ok(Some(Point::new(
        number("lon", lon, 180.0)?,
        number("lat", lat, 90.0)?,
    )))
}

// ---- GeoJSON ---------------------------------------------------------------------------------

/// A JSON object that keeps its keys in document order (serde_json's map sorts them), so a
/// source's "first property" and its column order survive.
#[derive(Debug, Default, Clone)]
struct Ordered(Vec<(String, Value)>);

impl Ordered {
    fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(4));
                while let Some(entry) = map.next_entry()? {
                    out.push(entry);
                }
                Ok(Ordered(out))
            }
            fn visit_unit<E>(self) -> Result<Ordered, E> {
                Ok(Ordered::default())
            }
        }
        d.deserialize_any(V)
    }
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

#[derive(Deserialize)]
struct RawCollection {
    #[serde(rename = "type")]
    kind: String,
    features: Vec<RawFeature>,
}

#[derive(Deserialize)]
struct RawFeature {
    #[serde(default)]
    id: Option<Value>,
    // Kept as JSON until the feature is checked, so one bad geometry names its feature instead of
    // failing the whole file.
    #[serde(default)]
    geometry: Option<Value>,
    #[serde(default)]
    properties: Option<Ordered>,
}

impl RawFeature {
    fn property(&self, key: &str) -> Option<&Value> {
        self.properties.as_ref()?.get(key)
    }

    /// Property `key` as text: a string, or a number written out.
    fn text(&self, key: &str) -> Option<String> {
        value_text(self.property(key)?)
    }

    fn geojson_geometry(&self) -> Result<Option<geojson::Geometry>, String> {
        match &self.geometry {
            None | Some(Value::Null) => Ok(None),
            Some(v) => geojson::Geometry::deserialize(v)
                .map(Some)
                .map_err(|e| format!("invalid geometry: {e}")),
        }
    }
}

fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn parse_collection(file: &str, bytes: &[u8], problems: &mut Problems) -> Vec<RawFeature> {
    match serde_json::from_slice::<RawCollection>(bytes) {
        Ok(c) if c.kind == "FeatureCollection" => c.features,
        Ok(c) => {
            problems.push(
                file,
                Location::File,
                format!("expected a FeatureCollection, found {:?}", c.kind),
            );
            Vec::new()
        }
        Err(e) => {
            problems.line(
                file,
                e.line() as u64,
                format!("invalid GeoJSON (column {}): {e}", e.column()),
            );
            Vec::new()
        }
    }
}

fn positions_to_ring(ring: &[geojson::Position], which: &str) -> Result<LineString<f64>, String> {
    let mut coords = Vec::with_capacity(ring.len());
    for (i, p) in ring.iter().enumerate() {
        let (x, y) = match p.as_slice() {
            [x, y, ..] => (*x, *y),
            _ => return Err(format!("{which}, position {i}: fewer than 2 coordinates")),
        };
        if !(x.is_finite() && y.is_finite() && x.abs() <= 180.0 && y.abs() <= 90.0) {
            return Err(format!(
                "{which}, position {i}: [{x}, {y}] is not a lon/lat"
            ));
        }
        coords.push(Coord { x, y });
    }
    Ok(LineString::new(coords))
}

/// A GeoJSON polygon's rings → a valid `geo::Polygon`. geo closes rings silently, so closure and
/// the 4-position minimum are checked on the raw positions first.
fn polygon_from_rings(rings: &[Vec<geojson::Position>]) -> Result<Polygon<f64>, String> {
    let Some((exterior, interiors)) = rings.split_first() else {
        return Err("polygon has no rings".to_string());
    };
    let mut lines = Vec::with_capacity(rings.len());
    for (i, ring) in std::iter::once(exterior).chain(interiors).enumerate() {
        let which = if i == 0 {
            "exterior ring".to_string()
        } else {
            format!("interior ring {}", i - 1)
        };
        if ring.len() < 4 {
            return Err(format!(
                "{which} has {} positions; a closed ring needs at least 4",
                ring.len()
            ));
        }
        let line = positions_to_ring(ring, &which)?;
        if line.0.first() != line.0.last() {
            return Err(format!(
                "{which} is not closed (first and last positions differ)"
            ));
        }
        lines.push(line);
    }
    let exterior = lines.remove(0);
    let polygon = Polygon::new(exterior, lines);
    match polygon.check_validation() {
        Ok(()) => Ok(polygon),
        Err(e) => Err(format!("invalid polygon: {e}")),
    }
}

/// A feature's geometry as one polygon: a Polygon, or a MultiPolygon of exactly one part.
fn single_polygon(g: &geojson::Geometry) -> Result<Polygon<f64>, String> {
    match &g.value {
        geojson::GeometryValue::Polygon { coordinates } => polygon_from_rings(coordinates),
        geojson::GeometryValue::MultiPolygon { coordinates } if coordinates.len() == 1 => {
            polygon_from_rings(&coordinates[0])
        }
        geojson::GeometryValue::MultiPolygon { coordinates } => Err(format!(
            "geometry is a MultiPolygon of {} parts; a footprint is one polygon",
            coordinates.len()
        )),
        other => Err(format!(
            "geometry is a {}, expected a Polygon",
            other.type_name()
        )),
    }
}

fn read_buildings(bytes: &[u8], problems: &mut Problems) -> Vec<Building> {
    const FILE: &str = "buildings.geojson";
    let features = parse_collection(FILE, bytes, problems);
    let mut out = Vec::with_capacity(features.len());
    let mut seen: HashMap<String, usize> = HashMap::with_capacity(features.len());
    for (index, f) in features.iter().enumerate() {
        let id = f.text("id").or_else(|| f.id.as_ref().and_then(value_text));
        let at = || Location::Feature {
            index,
            id: id.clone(),
        };
        let Some(id) = id.clone() else {
            problems.push(FILE, at(), "no id (property `id`)");
            continue;
        };
        if let Some(first) = seen.get(&id) {
            problems.push(
                FILE,
                at(),
                format!("duplicate id {id} (first at feature {first})"),
            );
            continue;
        }
        seen.insert(id.clone(), index);
        let kind = match f.property("kind").and_then(Value::as_str) {
            Some(k) => match k.parse::<BuildingKind>() {
                Ok(k) => k,
                Err(e) => {
                    problems.push(FILE, at(), e);
                    continue;
                }
            },
            None => {
                problems.push(FILE, at(), "no `kind` property");
                continue;
            }
        };
        let floors = match f.property("floors").map(|v| v.as_u64().map(u16::try_from)) {
            Some(Some(Ok(n))) => n,
            Some(_) => {
                problems.push(FILE, at(), "`floors` is not a whole number of floors");
                continue;
            }
            None => {
                problems.push(FILE, at(), "no `floors` property");
                continue;
            }
        };
        let footprint = match f.geojson_geometry() {
            Ok(Some(g)) => single_polygon(&g),
            Ok(None) => Err("no geometry".to_string()),
            Err(e) => Err(e),
        };
        match footprint {
            Ok(footprint) => out.push(Building {
                id,
                footprint,
                kind,
                floors,
                tags: Vec::new(),
            }),
            Err(reason) => problems.push(FILE, at(), reason),
        }
    }
    out
}

fn read_roads(bytes: &[u8], problems: &mut Problems) -> Vec<RoadRecord> {
    const FILE: &str = "roads.geojson";
    let features = parse_collection(FILE, bytes, problems);
    let mut out = Vec::with_capacity(features.len());
    let mut seen = HashSet::with_capacity(features.len());
    for (index, f) in features.iter().enumerate() {
        let id = f.text("id").or_else(|| f.id.as_ref().and_then(value_text));
        let at = Location::Feature {
            index,
            id: id.clone(),
        };
        let (Some(id), Some(name)) = (id, f.text("name")) else {
            problems.push(FILE, at, "a road needs properties `id` and `name`");
            continue;
        };
        if !seen.insert(id.clone()) {
            problems.push(FILE, at, format!("duplicate id {id}"));
            continue;
        }
        let geometry = match f.geojson_geometry() {
            Ok(None) => None,
            Ok(Some(g)) => match &g.value {
                geojson::GeometryValue::LineString { coordinates } if coordinates.len() >= 2 => {
                    match positions_to_ring(coordinates, "line") {
                        Ok(line) => Some(Geometry::LineString(line)),
                        Err(e) => {
                            problems.push(FILE, at, e);
                            continue;
                        }
                    }
                }
                geojson::GeometryValue::MultiLineString { .. } => {
                    match Geometry::<f64>::try_from(&g.value) {
                        Ok(g) => Some(g),
                        Err(e) => {
                            problems.push(FILE, at, format!("invalid geometry: {e}"));
                            continue;
                        }
                    }
                }
                other => {
                    problems.push(
                        FILE,
                        at,
                        format!(
                            "geometry is a {} (with too few points?), expected a LineString",
                            other.type_name()
                        ),
                    );
                    continue;
                }
            },
            Err(e) => {
                problems.push(FILE, at, e);
                continue;
            }
        };
        out.push(RoadRecord {
            id,
            name,
            town_code: f.text("town_code"),
            geometry,
        });
    }
    out
}

fn read_areas(bytes: &[u8], problems: &mut Problems) -> Vec<AreaRecord> {
    const FILE: &str = "areas.geojson";
    let features = parse_collection(FILE, bytes, problems);
    let mut out = Vec::with_capacity(features.len());
    let mut seen = HashSet::with_capacity(features.len());
    for (index, f) in features.iter().enumerate() {
        let code = f.text("code");
        let at = Location::Feature {
            index,
            id: code.clone(),
        };
        let (Some(code), Some(name)) = (code, f.text("name")) else {
            problems.push(FILE, at, "an area needs properties `code` and `name`");
            continue;
        };
        if !seen.insert(code.clone()) {
            problems.push(FILE, at, format!("duplicate code {code}"));
            continue;
        }
        let geometry = match f.geojson_geometry() {
            Ok(None) => Ok(None),
            Ok(Some(g)) => match &g.value {
                geojson::GeometryValue::Polygon { coordinates } => {
                    polygon_from_rings(coordinates).map(|p| Some(Geometry::Polygon(p)))
                }
                geojson::GeometryValue::MultiPolygon { coordinates } => coordinates
                    .iter()
                    .map(|rings| polygon_from_rings(rings))
                    .collect::<Result<Vec<_>, _>>()
                    .map(|ps| Some(Geometry::MultiPolygon(MultiPolygon::new(ps)))),
                other => Err(format!(
                    "geometry is a {}, expected a Polygon",
                    other.type_name()
                )),
            },
            Err(e) => Err(e),
        };
        match geometry {
            Ok(geometry) => out.push(AreaRecord {
                code,
                name,
                level: f.text("level").unwrap_or_else(|| "community".to_string()),
                parent_code: f.text("parent_code"),
                geometry,
            }),
            Err(reason) => problems.push(FILE, at, reason),
        }
    }
    out
}

// ---- sources/ and truth/ ---------------------------------------------------------------------

fn read_source_folder(
    dir: &Path,
    folder: &str,
    problems: &mut Problems,
    skipped: &mut Vec<String>,
) -> Vec<SourceFile> {
    let path = dir.join(folder);
    if !path.is_dir() {
        return Vec::new();
    }
    let mut entries = match fs::read_dir(&path) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect::<Vec<_>>(),
        Err(e) => {
            problems.push(folder, Location::File, format!("cannot list: {e}"));
            return Vec::new();
        }
    };
    // Sorted, so a build is deterministic whatever order the file system lists.
    entries.sort();
    let mut out: Vec<SourceFile> = Vec::new();
    for path in entries {
        let file_name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let label = format!("{folder}/{file_name}");
        let stem = path
            .file_stem()
            .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let is_truth = folder == "truth";
        let kind = match (ext, is_truth) {
            ("csv", true) => "truth",
            ("csv", false) => "csv",
            ("geojson", false) => "geojson",
            _ => {
                skipped.push(label);
                continue;
            }
        };
        let name = if is_truth {
            format!("truth/{stem}")
        } else {
            stem
        };
        if out.iter().any(|s| s.name == name) {
            problems.push(
                &label,
                Location::File,
                format!("another file in {folder}/ already gives the source name {name:?}"),
            );
            continue;
        }
        let Some(bytes) = read_file(&path, &label, problems) else {
            continue;
        };
        let records = match kind {
            "geojson" => read_geojson_source(&label, &bytes, problems),
            _ => read_csv_source(&label, &bytes, is_truth, problems),
        };
        out.push(SourceFile {
            name,
            kind,
            path: path.to_string_lossy().into_owned(),
            records,
        });
    }
    out
}

/// A source CSV: the first column is the record id (truth files are keyed by row number, since
/// an evaluation table need not have one id per row).
fn read_csv_source(
    file: &str,
    bytes: &[u8],
    keyed_by_row: bool,
    problems: &mut Problems,
) -> Vec<SourceRecord> {
    let mut out = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for_each_csv_row(
        file,
        bytes,
        problems,
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
                (out.len() + 1).to_string()
            } else {
                let key = &r[0];
                if key.is_empty() {
                    problems.line(file, line, "empty record id (first column)");
                    return;
                }
                if let Some(first) = seen.get(key) {
                    problems.line(
                        file,
                        line,
                        format!("duplicate record id {key} (first on line {first})"),
                    );
                    return;
                }
                seen.insert(key.to_string(), line);
                key.to_string()
            };
            let pairs: Vec<(&str, &str)> = header.iter().zip(r.iter()).collect();
            let raw = serde_json::to_string(&AsObject(&pairs)).unwrap_or_default();
            out.push(SourceRecord {
                key,
                line: Some(line),
                raw,
                geometry: None,
            });
        },
        |_| {},
    );
    out
}

/// A source GeoJSON: the record id is property `id`, else the feature's `id`, else its first
/// property.
fn read_geojson_source(file: &str, bytes: &[u8], problems: &mut Problems) -> Vec<SourceRecord> {
    let features = parse_collection(file, bytes, problems);
    let mut out = Vec::with_capacity(features.len());
    let mut seen: HashMap<String, usize> = HashMap::with_capacity(features.len());
    for (index, f) in features.into_iter().enumerate() {
        let props = f.properties.clone().unwrap_or_default();
        let key = f
            .text("id")
            .or_else(|| f.id.as_ref().and_then(value_text))
            .or_else(|| props.0.first().and_then(|(_, v)| value_text(v)));
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
            continue;
        };
        if let Some(first) = seen.get(&key) {
            problems.push(
                file,
                at,
                format!("duplicate record id {key} (first at feature {first})"),
            );
            continue;
        }
        seen.insert(key.clone(), index);
        let geometry = match f.geojson_geometry() {
            Ok(None) => None,
            Ok(Some(g)) => match Geometry::<f64>::try_from(&g.value) {
                Ok(g) => Some(g),
                Err(e) => {
                    problems.push(file, at, format!("invalid geometry: {e}"));
                    continue;
                }
            },
            Err(e) => {
                problems.push(file, at, e);
                continue;
            }
        };
        out.push(SourceRecord {
            key,
            line: Some(index as u64),
            raw: serde_json::to_string(&AsObject(&props.0)).unwrap_or_default(),
            geometry,
        });
    }
    out
}

// ---- writing ---------------------------------------------------------------------------------

/// A file that is removed when dropped unless kept: the half-built store of a failed build.
struct TempFile {
    path: PathBuf,
    keep: bool,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.keep {
            for suffix in ["", "-journal", "-wal", "-shm"] {
                let mut p = self.path.clone().into_os_string();
                p.push(suffix);
                let _ = fs::remove_file(PathBuf::from(p));
            }
        }
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |e| Error::io(path, e)
}

fn write_store(
    input: &Input,
    source_dir: &Path,
    data_dir: &Path,
    store_path: &Path,
    report: &BuildReport,
    progress: Progress<'_>,
) -> Result<(), Error> {
    fs::create_dir_all(data_dir).map_err(io_err(data_dir))?;
    let tmp_path = data_dir.join(format!(".{STORE_FILE}.build-{}", std::process::id()));
    // Claim the name atomically, so two builds into one directory cannot share a temp file.
    File::options()
        .write(true)
        .create_new(true)
        .open(&tmp_path)
        .map_err(io_err(&tmp_path))?;
    let mut tmp = TempFile {
        path: tmp_path,
        keep: false,
    };

    let mut store = Store::create_at(&tmp.path)?;
    // Every reference was checked while reading, so the bulk load skips SQLite's per-row foreign
    // key lookups, and builds the indexes once at the end (sorting once beats a million B-tree
    // inserts); `foreign_key_check` below still proves the result consistent.
    store.conn.pragma_update(None, "foreign_keys", false)?;
    let tx = store.conn.transaction()?;
    let indexes: Vec<(String, String)> = {
        let mut stmt = tx.prepare(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for (name, _) in &indexes {
        tx.execute_batch(&format!("DROP INDEX \"{name}\""))?;
    }
    const CHUNK: usize = 50_000;

    let total = input.buildings.len() as u64;
    for (i, chunk) in input.buildings.chunks(CHUNK).enumerate() {
        write_buildings(&tx, chunk)?;
        progress(
            Stage::WriteBuildings,
            ((i * CHUNK + chunk.len()) as u64).min(total),
            total,
        );
    }
    write_roads(&tx, &input.roads)?;
    write_areas(&tx, &input.areas)?;

    let total = input.addresses.len() as u64;
    for (i, chunk) in input.addresses.chunks(CHUNK).enumerate() {
        write_addresses(&tx, chunk.iter().map(|(a, t)| (a, t.as_str())))?;
        progress(
            Stage::WriteAddresses,
            (i * CHUNK + chunk.len()) as u64,
            total,
        );
    }
    let links: Vec<Link> = input.links().collect();
    write_links(&tx, &links)?;

    let total: u64 = input.sources.iter().map(|s| s.records.len() as u64).sum();
    let mut done = 0;
    for s in &input.sources {
        write_source(&tx, &s.name, s.kind, Some(&s.path), &s.records)?;
        done += s.records.len() as u64;
        progress(Stage::WriteSources, done, total);
    }

    progress(Stage::Finish, 0, 1);
    let source_dir_text = source_dir
        .canonicalize()
        .unwrap_or_else(|_| source_dir.to_path_buf())
        .to_string_lossy()
        .into_owned();
    let mut meta: Vec<(&str, String)> = vec![
        ("source_dir", source_dir_text),
        ("dizhi_version", env!("CARGO_PKG_VERSION").to_string()),
        ("count.addresses", report.addresses.to_string()),
        ("count.buildings", report.buildings.to_string()),
        ("count.links", report.links.to_string()),
        ("count.roads", report.roads.to_string()),
        ("count.areas", report.areas.to_string()),
        ("count.sources", report.sources.to_string()),
        ("count.source_records", report.source_records.to_string()),
        ("count.truth_files", report.truth_files.to_string()),
    ];
    if let Some(m) = &input.manifest {
        meta.push(("manifest", Value::Object(m.clone()).to_string()));
        if let Some(seed) = m.get("seed") {
            meta.push(("seed", seed.to_string()));
        }
        if let Some(g) = m.get("generator").and_then(Value::as_str) {
            meta.push(("generator", g.to_string()));
        }
    }
    for (k, v) in &meta {
        write_meta(&tx, k, v)?;
    }
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ('built_at', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
        [],
    )?;
    for (_, sql) in &indexes {
        tx.execute_batch(sql)?;
    }
    let broken: Option<String> = tx
        .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
        .optional()?;
    if let Some(table) = broken {
        return Err(Error::Corrupt(format!(
            "a row of {table} refers to a missing row after the build"
        )));
    }
    tx.commit()?;
    store.conn.pragma_update(None, "foreign_keys", true)?;
    // Leave the file in WAL mode like every store `Store::open` makes, and fully written.
    store
        .conn
        .pragma_update_and_check(None, "journal_mode", "DELETE", |r| r.get::<_, String>(0))?;
    store.close()?;
    File::open(&tmp.path)
        .and_then(|f| f.sync_all())
        .map_err(io_err(&tmp.path))?;

    settle_old_store(store_path)?;
    fs::rename(&tmp.path, store_path).map_err(io_err(store_path))?;
    tmp.keep = true;
    // Make the rename itself durable (best effort: not every platform can sync a directory).
    if let Ok(d) = File::open(data_dir) {
        let _ = d.sync_all();
    }
    progress(Stage::Finish, 1, 1);
    Ok(())
}

/// Before a new file replaces the store, the old store's write-ahead log must be gone: SQLite
/// would otherwise replay the old log into the new file. Opening and closing the old store
/// checkpoints and removes its log; a log that survives that belongs to another process.
fn settle_old_store(store_path: &Path) -> Result<(), Error> {
    if !store_path.exists() {
        return Ok(());
    }
    if let Ok(conn) = rusqlite::Connection::open(store_path) {
        // A corrupt old store cannot be checkpointed; it is being replaced anyway.
        let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        let _ = conn.close();
    }
    let mut wal = store_path.as_os_str().to_owned();
    wal.push("-wal");
    let wal = PathBuf::from(wal);
    if wal.exists() {
        return Err(Error::io(
            &wal,
            std::io::Error::other(
                "the store is open in another process (dizhi serve?); stop it and build again",
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(points: &[(f64, f64)]) -> Vec<Vec<geojson::Position>> {
        vec![
            points
                .iter()
                .map(|&(x, y)| geojson::Position::from([x, y]))
                .collect(),
        ]
    }

    #[test]
    fn bow_tie_is_invalid() {
        let e = polygon_from_rings(&ring(&[(0., 0.), (1., 1.), (1., 0.), (0., 1.), (0., 0.)]))
            .unwrap_err();
        assert!(e.contains("self-intersection"), "{e}");
    }

    #[test]
    fn unclosed_and_short_rings_are_invalid() {
        let e = polygon_from_rings(&ring(&[(0., 0.), (1., 0.), (1., 1.), (0., 1.)])).unwrap_err();
        assert!(e.contains("not closed"), "{e}");
        let e = polygon_from_rings(&ring(&[(0., 0.), (1., 0.), (0., 0.)])).unwrap_err();
        assert!(e.contains("at least 4"), "{e}");
    }

    #[test]
    fn unterminated_quote_is_found_on_its_line() {
        let csv = b"a,b\n1,2\n3,\"x\n5,6\n";
        assert_eq!(bytecount_quotes(csv) % 2, 1);
        assert_eq!(unterminated_quote(csv), (3, 10));
        let csv = b"a,b\n\"1\"\"\",2\n";
        assert_eq!(bytecount_quotes(csv) % 2, 0);
    }

    #[test]
    fn ordered_object_keeps_key_order() {
        let o: Ordered = serde_json::from_str(r#"{"z":1,"a":"x"}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&AsObject(&o.0)).unwrap(),
            r#"{"z":1,"a":"x"}"#
        );
    }

    #[test]
    fn points_must_be_numbers_in_range() {
        assert_eq!(parse_point("", ""), Ok(None));
        assert!(
            parse_point("12l.1", "31.0")
                .unwrap_err()
                .contains("not a number")
        );
        assert!(parse_point("121.1", "").unwrap_err().contains("empty"));
        assert!(
            parse_point("999", "31")
                .unwrap_err()
                .contains("out of range")
        );
        assert!(parse_point("NaN", "31").is_err());
    }
}
