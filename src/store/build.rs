//! `dizhi build`: load a synthetic-district source directory into a data directory's store.
//!
//! All or nothing. Every file is parsed and validated in full, and every problem found (up to
//! [`MAX_PROBLEMS`]) is reported with its file, line or feature, and reason. Records stream
//! straight into a new temporary database file beside the store, in one transaction, so memory
//! stays flat at any scale (only ids are kept, to catch duplicates and dangling references). Only
//! when every file is clean is that transaction committed and the file renamed over
//! `DIR/dizhi.sqlite`; a failed build leaves the previous store — or no store — exactly as it
//! was, and no temporary file behind.
//!
//! The source directory holds `manifest.json` (optional), `addresses.csv`, `buildings.geojson`,
//! optionally `roads.geojson` and `areas.geojson`, and the `sources/` and `truth/` folders.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use geo::{Coord, Geometry, LineString, MultiPolygon, Point, Polygon, Validation};
use rusqlite::{OptionalExtension, Transaction};
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use super::{
    AreaRecord, Error, Link, RoadRecord, STORE_FILE, SourceRecord, Store, set_source_count,
    write_addresses, write_areas, write_buildings, write_links, write_meta, write_roads,
    write_source_records, write_source_row,
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
    /// Checking and loading `buildings.geojson` (progress in features; total from the manifest,
    /// 0 when unknown).
    Buildings,
    /// Checking and loading `addresses.csv` and its links (progress in bytes).
    Addresses,
    /// Checking and loading roads, areas, `sources/` and `truth/` (progress in files).
    Sources,
    /// Building indexes, committing, and moving the new store into place.
    Finish,
}

impl Stage {
    /// A short label for a progress bar.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(dizhi::store::Stage::Addresses.label(), "addresses");
    /// ```
    pub fn label(self) -> &'static str {
        match self {
            Stage::Buildings => "buildings",
            Stage::Addresses => "addresses",
            Stage::Sources => "sources",
            Stage::Finish => "indexing",
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

impl From<rusqlite::Error> for BuildError {
    fn from(e: rusqlite::Error) -> Self {
        BuildError::Store(Error::Sqlite(e))
    }
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
    // The cheap check first: a plainly incomplete directory costs nothing and creates nothing.
    let mut problems = Problems::default();
    for name in ["addresses.csv", "buildings.geojson"] {
        if !source_dir.join(name).is_file() {
            problems.push(name, Location::File, "required file is missing");
        }
    }
    if !problems.is_empty() {
        return Err(problems.into_error(source_dir));
    }
    let created = !data_dir.exists();
    let result = build_into(source_dir, data_dir, progress, started);
    if result.is_err() && created {
        // Removes only an empty directory: the one this failed build made.
        let _ = fs::remove_dir(data_dir);
    }
    result
}

/// How many records are written at a time.
const BATCH: usize = 10_000;

/// A build in progress: where records go, what is wrong so far, and what has been loaded.
struct Load<'a> {
    writer: Writer,
    source_dir: &'a Path,
    problems: Problems,
    progress: Progress<'a>,
    report: BuildReport,
    next_source_id: i64,
}

impl Load<'_> {
    /// Records are written only while the build is clean: a build with a problem will be thrown
    /// away, so the rest of the run only looks for more problems.
    fn writing(&self) -> bool {
        self.problems.is_empty()
    }
}

/// A unit of work for the writer thread, run inside the build's one transaction.
type Job = Box<dyn FnOnce(&Transaction<'_>) -> Result<(), Error> + Send>;

/// The reading side's handle on the writer thread. Reading and checking records (CSV, JSON,
/// geometry validation) and writing them (SQLite) each take about half the time, so they run on
/// the two cores at once, batches passing through a short queue.
#[derive(Clone)]
struct Writer(std::sync::mpsc::SyncSender<Job>);

impl Writer {
    fn send(
        &self,
        job: impl FnOnce(&Transaction<'_>) -> Result<(), Error> + Send + 'static,
    ) -> Result<(), Error> {
        // The writer only hangs up after an error of its own, which `build_into` reports.
        self.0
            .send(Box::new(job))
            .map_err(|_| Error::Corrupt("the store writer stopped".to_string()))
    }
}

/// Runs the writer's jobs in one transaction on the temporary store, and commits it only if
/// the reading side asked for it before hanging up.
fn run_writer(
    store: &mut Store,
    jobs: std::sync::mpsc::Receiver<Job>,
    commit: &std::sync::atomic::AtomicBool,
) -> Result<(), Error> {
    // Every reference is checked while reading, so the bulk load skips SQLite's per-row foreign
    // key lookups and builds the indexes once at the end (one sort beats a million B-tree
    // inserts); `foreign_key_check` still proves the result consistent before it is committed.
    store.conn.pragma_update(None, "foreign_keys", false)?;
    let tx = store.conn.transaction()?;
    let indexes = drop_indexes(&tx)?;
    for job in jobs {
        job(&tx)?;
    }
    if !commit.load(std::sync::atomic::Ordering::SeqCst) {
        // Dropping the transaction rolls it back.
        return Ok(());
    }
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
    Ok(())
}

fn build_into(
    source_dir: &Path,
    data_dir: &Path,
    progress: Progress<'_>,
    started: Instant,
) -> Result<BuildReport, BuildError> {
    fs::create_dir_all(data_dir).map_err(io_err(data_dir))?;
    super::generation::remove_stale_build_files(data_dir);
    let tmp_path = data_dir.join(format!(".{STORE_FILE}.build-{}", std::process::id()));
    // Claim the name atomically, so two builds into one directory cannot share a temp file.
    File::options()
        .write(true)
        .create_new(true)
        .open(&tmp_path)
        .map_err(io_err(&tmp_path))?;
    // Declared before the store, so it is dropped (and the file removed) after the store closes.
    let mut tmp = TempFile {
        path: tmp_path,
        keep: false,
    };
    let mut store = Store::create_at(&tmp.path)?;
    let store_path = data_dir.join(STORE_FILE);
    let commit = std::sync::atomic::AtomicBool::new(false);
    let (sender, jobs) = std::sync::mpsc::sync_channel::<Job>(8);
    let (loaded, written) = std::thread::scope(|scope| {
        let writer = scope.spawn(|| run_writer(&mut store, jobs, &commit));
        let loaded = load_all(source_dir, &store_path, Writer(sender), progress, &commit);
        (loaded, writer.join())
    });
    let report = match (loaded, written) {
        // The problems explain the failure best, whatever the writer did meanwhile.
        (Err(e @ BuildError::Invalid { .. }), _) => return Err(e),
        (_, Ok(Err(e))) => return Err(e.into()),
        (_, Err(_)) => return Err(Error::Corrupt("the store writer panicked".to_string()).into()),
        (Err(e), Ok(Ok(()))) => return Err(e),
        (Ok(report), Ok(Ok(()))) => report,
    };
    // A store is left in rollback-journal mode; `Store::open` turns WAL on when it is used.
    store
        .conn
        .pragma_update_and_check(None, "journal_mode", "DELETE", |r| r.get::<_, String>(0))?;
    store.close()?;
    File::open(&tmp.path)
        .and_then(|f| f.sync_all())
        .map_err(io_err(&tmp.path))?;

    settle_old_store(&store_path)?;
    fs::rename(&tmp.path, &store_path).map_err(io_err(&store_path))?;
    tmp.keep = true;
    // Make the rename itself durable (best effort: not every platform can sync a directory).
    if let Ok(d) = File::open(data_dir) {
        let _ = d.sync_all();
    }
    progress(Stage::Finish, 1, 1);
    let mut report = report;
    report.elapsed = started.elapsed();
    Ok(report)
}

/// Reads and checks every file, sending clean records to the writer; asks the writer to
/// commit only if nothing was wrong. Hanging up (dropping `writer`) ends the writer's work.
fn load_all(
    source_dir: &Path,
    store_path: &Path,
    writer: Writer,
    progress: Progress<'_>,
    commit: &std::sync::atomic::AtomicBool,
) -> Result<BuildReport, BuildError> {
    let mut load = Load {
        writer,
        source_dir,
        problems: Problems::default(),
        progress,
        report: BuildReport {
            source_dir: source_dir.to_path_buf(),
            store: store_path.to_path_buf(),
            seed: None,
            addresses: 0,
            buildings: 0,
            links: 0,
            roads: 0,
            areas: 0,
            sources: 0,
            source_records: 0,
            truth_files: 0,
            skipped: Vec::new(),
            elapsed: Duration::ZERO,
        },
        next_source_id: 1,
    };
    let manifest = read_manifest(source_dir, &mut load.problems);
    load.report.seed = manifest
        .as_ref()
        .and_then(|m| m.get("seed"))
        .and_then(Value::as_u64);
    let expected_buildings = manifest
        .as_ref()
        .and_then(|m| m.get("buildings"))
        .and_then(Value::as_u64);

    let building_ids = load_buildings(&mut load, expected_buildings)?;
    load_addresses(&mut load, &building_ids)?;
    drop(building_ids);
    load_roads(&mut load)?;
    load_areas(&mut load)?;
    load_source_folder(&mut load, "sources")?;
    load_source_folder(&mut load, "truth")?;

    if let Some(m) = &manifest {
        let (a, b) = (load.report.addresses, load.report.buildings);
        check_manifest_counts(m, a, b, &mut load.problems);
    }
    if !load.problems.is_empty() {
        return Err(load.problems.into_error(source_dir));
    }
    progress(Stage::Finish, 0, 1);
    let (dir, report) = (source_dir.to_path_buf(), load.report.clone());
    load.writer
        .send(move |tx| write_build_meta(tx, &dir, manifest.as_ref(), &report))?;
    commit.store(true, std::sync::atomic::Ordering::SeqCst);
    Ok(load.report)
}

/// Drops every index of the fresh schema, returning their definitions to recreate them.
fn drop_indexes(tx: &Transaction<'_>) -> Result<Vec<(String, String)>, Error> {
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
    Ok(indexes)
}

fn write_build_meta(
    tx: &Transaction<'_>,
    source_dir: &Path,
    manifest: Option<&serde_json::Map<String, Value>>,
    report: &BuildReport,
) -> Result<(), Error> {
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
    if let Some(m) = manifest {
        meta.push(("manifest", Value::Object(m.clone()).to_string()));
        if let Some(seed) = m.get("seed") {
            meta.push(("seed", seed.to_string()));
        }
        if let Some(g) = m.get("generator").and_then(Value::as_str) {
            meta.push(("generator", g.to_string()));
        }
    }
    for (k, v) in &meta {
        write_meta(tx, k, v)?;
    }
    // Which build this is: the search index built from this store carries the same id
    // (`crate::setup::generation`), so a store and an index of two builds are told apart.
    write_meta(
        tx,
        super::generation::META_KEY,
        &super::generation::new_id(),
    )?;
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ('built_at', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
        [],
    )?;
    Ok(())
}

/// A write buffer: records go to the writer [`BATCH`] at a time.
struct Batch<T>(Vec<T>);

impl<T> Batch<T> {
    fn new() -> Self {
        Batch(Vec::with_capacity(BATCH))
    }

    fn push(
        &mut self,
        item: T,
        write: impl FnOnce(Vec<T>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        self.0.push(item);
        if self.0.len() >= BATCH {
            write(std::mem::replace(&mut self.0, Vec::with_capacity(BATCH)))?;
        }
        Ok(())
    }

    /// Writes what is left, if the build is still clean.
    fn finish(
        &mut self,
        writing: bool,
        write: impl FnOnce(Vec<T>) -> Result<(), Error>,
    ) -> Result<(), Error> {
        let rest = std::mem::take(&mut self.0);
        if writing && !rest.is_empty() {
            write(rest)?;
        }
        Ok(())
    }
}

// ---- reading and validating ------------------------------------------------------------------

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

    fn into_error(self, dir: &Path) -> BuildError {
        BuildError::Invalid {
            dir: dir.to_path_buf(),
            problems: self.list,
            more: self.more,
        }
    }
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

/// Streams a CSV with a header, calling `row` with every well-formed record and its line. Rows
/// with the wrong number of columns, bad UTF-8 or an unterminated quote become problems. Stops
/// at the first error `on_header` or `row` returns (a failed write).
fn for_each_csv_row(
    file: &str,
    path: &Path,
    problems: &mut Problems,
    mut on_header: impl FnMut(&csv::StringRecord, &mut Problems) -> bool,
    mut row: impl FnMut(&csv::StringRecord, &csv::StringRecord, u64, &mut Problems) -> Result<(), Error>,
    mut progress: impl FnMut(u64),
) -> Result<(), Error> {
    // The csv crate reads an unterminated quote as a field running to the end of the file, so
    // find it ourselves first.
    let unterminated = match unterminated_quote(path) {
        Ok(u) => u,
        Err(e) => {
            problems.push(file, Location::File, format!("cannot read: {e}"));
            return Ok(());
        }
    };
    let mut reader = match csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_path(path)
    {
        Ok(r) => r,
        Err(e) => {
            problems.push(file, Location::File, format!("cannot read: {e}"));
            return Ok(());
        }
    };
    let mut header = csv::StringRecord::new();
    match reader.read_record(&mut header) {
        Ok(true) => {}
        Ok(false) => {
            problems.push(file, Location::File, "empty file (no header)");
            return Ok(());
        }
        Err(e) => {
            problems.line(file, 1, csv_reason(&e));
            return Ok(());
        }
    }
    if !on_header(&header, problems) {
        return Ok(());
    }
    let width = header.len();
    let mut record = csv::StringRecord::new();
    let mut n = 0u64;
    loop {
        n += 1;
        if n.is_multiple_of(65_536) {
            progress(reader.position().byte());
        }
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
                row(&header, &record, line, problems)?;
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
    }
    if let Some((line, _)) = unterminated {
        problems.line(
            file,
            line,
            "unterminated quoted field (the quote opened here is never closed)",
        );
    }
    progress(reader.position().byte());
    Ok(())
}

fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { err, .. } => format!("invalid UTF-8 in field {}", err.field() + 1),
        _ => e.to_string(),
    }
}

/// Where a quote that is never closed opens: its line and byte offset, or `None` when quotes
/// balance (escaped `""` pairs toggle twice, so they balance too).
fn unterminated_quote(path: &Path) -> std::io::Result<Option<(u64, u64)>> {
    let mut file = File::open(path)?;
    let mut scan = QuoteScan::default();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(scan.finish());
        }
        scan.feed(&buf[..n]);
    }
}

/// The state of [`unterminated_quote`] between chunks.
#[derive(Default)]
struct QuoteScan {
    offset: u64,
    newlines: u64,
    in_quotes: bool,
    open: (u64, u64),
}

impl QuoteScan {
    fn feed(&mut self, chunk: &[u8]) {
        // Most chunks have no quote at all or an even number; count lines fast and only walk
        // byte by byte where quotes are.
        for (i, &b) in chunk.iter().enumerate() {
            if b == b'\n' {
                self.newlines += 1;
            } else if b == b'"' {
                self.in_quotes = !self.in_quotes;
                if self.in_quotes {
                    self.open = (self.newlines + 1, self.offset + i as u64);
                }
            }
        }
        self.offset += chunk.len() as u64;
    }

    fn finish(&self) -> Option<(u64, u64)> {
        self.in_quotes.then_some(self.open)
    }
}

fn load_addresses(load: &mut Load<'_>, building_ids: &HashSet<String>) -> Result<(), Error> {
    const FILE: &str = "addresses.csv";
    let path = load.source_dir.join(FILE);
    let total = fs::metadata(&path).map_or(0, |m| m.len());
    // Without a clean buildings file every building_id would look unknown: say it once.
    let check_buildings = !load.problems.in_file("buildings.geojson");
    let mut seen: HashMap<String, u64> = HashMap::with_capacity((total / 150) as usize);
    let mut addresses: Batch<(StandardAddress, String)> = Batch::new();
    let mut links: Batch<Link> = Batch::new();
    let (writer, progress) = (load.writer.clone(), load.progress);
    let report = &mut load.report;
    let opt = |s: &str| -> Option<String> { (!s.is_empty()).then(|| s.to_string()) };
    for_each_csv_row(
        FILE,
        &path,
        &mut load.problems,
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
            if let Some(b) = &building_id
                && check_buildings
                && !building_ids.contains(b.as_str())
            {
                problems.line(
                    FILE,
                    line,
                    format!("building_id {b} is not among the buildings in buildings.geojson"),
                );
                ok = false;
            }
            let (Some(kind), true) = (kind, ok) else {
                return Ok(());
            };
            report.addresses += 1;
            if !problems.is_empty() {
                return Ok(());
            }
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
            if let Some(b) = &address.building_id {
                report.links += 1;
                let link = Link {
                    address_id: address.id.clone(),
                    building_id: b.clone(),
                    source: FILE.to_string(),
                    method: "given".to_string(),
                    confidence: 1.0,
                };
                links.push(link, |l| {
                    writer.send(move |tx| write_links(tx, &l).map(drop))
                })?;
            }
            // Links may reach the store before their addresses: foreign keys are checked once,
            // after everything is written.
            addresses.push((address, text), |a| {
                writer.send(move |tx| write_address_rows(tx, &a))
            })
        },
        |done| progress(Stage::Addresses, done, total),
    )?;
    let writing = load.problems.is_empty();
    addresses.finish(writing, |a| {
        writer.send(move |tx| write_address_rows(tx, &a))
    })?;
    links.finish(writing, |l| {
        writer.send(move |tx| write_links(tx, &l).map(drop))
    })?;
    Ok(())
}

fn write_address_rows(
    tx: &Transaction<'_>,
    rows: &[(StandardAddress, String)],
) -> Result<(), Error> {
    write_addresses(tx, rows.iter().map(|(a, t)| (a, t.as_str()))).map(drop)
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

/// Streams the features of a GeoJSON FeatureCollection to `f`, one at a time, so a file of
/// millions of features is never held parsed in memory. Returns the number of features; a JSON
/// error or a collection of another type becomes a problem. Stops at the first error `f`
/// returns (a failed write).
fn for_each_feature(
    file: &str,
    bytes: &[u8],
    problems: &mut Problems,
    f: &mut dyn FnMut(usize, RawFeature, &mut Problems) -> Result<(), Error>,
) -> Result<usize, Error> {
    let mut failed = None;
    let mut kind = None;
    let result = {
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let visitor = CollectionVisitor {
            f,
            problems: &mut *problems,
            failed: &mut failed,
            kind: &mut kind,
        };
        de::Deserializer::deserialize_map(&mut de, visitor).and_then(|n| de.end().map(|()| n))
    };
    if let Some(e) = failed {
        return Err(e);
    }
    match result {
        Ok(n) => {
            if kind.as_deref() != Some("FeatureCollection") {
                problems.push(
                    file,
                    Location::File,
                    format!(
                        "expected a FeatureCollection, found type {:?}",
                        kind.unwrap_or_default()
                    ),
                );
            }
            Ok(n)
        }
        Err(e) => {
            problems.line(
                file,
                e.line() as u64,
                format!("invalid GeoJSON (column {}): {e}", e.column()),
            );
            Ok(0)
        }
    }
}

struct CollectionVisitor<'a, 'p> {
    f: &'a mut dyn FnMut(usize, RawFeature, &mut Problems) -> Result<(), Error>,
    problems: &'p mut Problems,
    failed: &'a mut Option<Error>,
    kind: &'a mut Option<String>,
}

impl<'de> Visitor<'de> for CollectionVisitor<'_, '_> {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a GeoJSON FeatureCollection object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<usize, A::Error> {
        let mut count = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "type" => *self.kind = Some(map.next_value()?),
                "features" => {
                    count = Some(map.next_value_seed(FeaturesSeed {
                        f: &mut *self.f,
                        problems: &mut *self.problems,
                        failed: &mut *self.failed,
                    })?)
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        count.ok_or_else(|| de::Error::missing_field("features"))
    }
}

struct FeaturesSeed<'a> {
    f: &'a mut dyn FnMut(usize, RawFeature, &mut Problems) -> Result<(), Error>,
    problems: &'a mut Problems,
    failed: &'a mut Option<Error>,
}

impl<'de> DeserializeSeed<'de> for FeaturesSeed<'_> {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for FeaturesSeed<'_> {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of features")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        let mut i = 0;
        while let Some(feature) = seq.next_element::<RawFeature>()? {
            if let Err(e) = (self.f)(i, feature, self.problems) {
                *self.failed = Some(e);
                return Err(de::Error::custom("stopped: writing the store failed"));
            }
            i += 1;
        }
        Ok(i)
    }
}

fn feature_id(f: &RawFeature) -> Option<String> {
    f.text("id").or_else(|| f.id.as_ref().and_then(value_text))
}

/// Loads `buildings.geojson`; returns the ids of its buildings, for the addresses' references.
fn load_buildings(load: &mut Load<'_>, expected: Option<u64>) -> Result<HashSet<String>, Error> {
    const FILE: &str = "buildings.geojson";
    let mut ids: HashMap<String, usize> = HashMap::new();
    let Some(bytes) = read_file(&load.source_dir.join(FILE), FILE, &mut load.problems) else {
        return Ok(HashSet::new());
    };
    let (writer, progress) = (load.writer.clone(), load.progress);
    let total = expected.unwrap_or(0);
    let mut batch: Batch<Building> = Batch::new();
    let mut loaded = 0;
    for_each_feature(
        FILE,
        &bytes,
        &mut load.problems,
        &mut |index, f, problems| {
            if index % 65_536 == 0 {
                progress(Stage::Buildings, index as u64, total);
            }
            let id = feature_id(&f);
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
            let footprint = match f.geojson_geometry() {
                Ok(Some(g)) => single_polygon(&g),
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
        },
    )?;
    batch.finish(load.writing(), |b| {
        writer.send(move |tx| write_buildings(tx, &b).map(drop))
    })?;
    load.report.buildings = loaded;
    progress(Stage::Buildings, loaded as u64, total.max(loaded as u64));
    Ok(ids.into_keys().collect())
}

fn load_roads(load: &mut Load<'_>) -> Result<(), Error> {
    const FILE: &str = "roads.geojson";
    let Some(bytes) = read_optional(load.source_dir, FILE, &mut load.problems) else {
        return Ok(());
    };
    let mut roads = Vec::new();
    let mut seen = HashSet::new();
    for_each_feature(
        FILE,
        &bytes,
        &mut load.problems,
        &mut |index, f, problems| {
            let id = feature_id(&f);
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
            let geometry = match f.geojson_geometry() {
                Ok(None) => None,
                Ok(Some(g)) => match line_geometry(&g) {
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
        },
    )?;
    load.report.roads = roads.len();
    if load.writing() {
        load.writer
            .send(move |tx| write_roads(tx, &roads).map(drop))?;
    }
    Ok(())
}

/// A road's centre line: a LineString (or MultiLineString) of lon/lat positions.
fn line_geometry(g: &geojson::Geometry) -> Result<Geometry<f64>, String> {
    match &g.value {
        geojson::GeometryValue::LineString { coordinates } if coordinates.len() >= 2 => {
            positions_to_ring(coordinates, "line").map(Geometry::LineString)
        }
        geojson::GeometryValue::MultiLineString { coordinates }
            if coordinates.iter().all(|l| l.len() >= 2) =>
        {
            let lines = coordinates
                .iter()
                .enumerate()
                .map(|(i, l)| positions_to_ring(l, &format!("line {i}")))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Geometry::MultiLineString(geo::MultiLineString::new(lines)))
        }
        geojson::GeometryValue::LineString { .. }
        | geojson::GeometryValue::MultiLineString { .. } => {
            Err("a line needs at least 2 positions".to_string())
        }
        other => Err(format!(
            "geometry is a {}, expected a LineString",
            other.type_name()
        )),
    }
}

fn load_areas(load: &mut Load<'_>) -> Result<(), Error> {
    const FILE: &str = "areas.geojson";
    let Some(bytes) = read_optional(load.source_dir, FILE, &mut load.problems) else {
        return Ok(());
    };
    let mut areas = Vec::new();
    let mut seen = HashSet::new();
    for_each_feature(
        FILE,
        &bytes,
        &mut load.problems,
        &mut |index, f, problems| {
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
        },
    )?;
    load.report.areas = areas.len();
    if load.writing() {
        load.writer
            .send(move |tx| write_areas(tx, &areas).map(drop))?;
    }
    Ok(())
}

// ---- sources/ and truth/ ---------------------------------------------------------------------

/// Loads every `.csv` and `.geojson` of `sources/` (or every `.csv` of `truth/`) as a source
/// named after the file's stem (`truth/<stem>` for truth files).
fn load_source_folder(load: &mut Load<'_>, folder: &str) -> Result<(), Error> {
    let path = load.source_dir.join(folder);
    if !path.is_dir() {
        return Ok(());
    }
    let mut entries = match fs::read_dir(&path) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect::<Vec<_>>(),
        Err(e) => {
            load.problems
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
        (load.progress)(Stage::Sources, i as u64, files);
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
                load.report.skipped.push(label);
                continue;
            }
        };
        let name = if is_truth {
            format!("truth/{stem}")
        } else {
            stem
        };
        if !names.insert(name.clone()) {
            load.problems.push(
                &label,
                Location::File,
                format!("another file in {folder}/ already gives the source name {name:?}"),
            );
            continue;
        }
        let path_text = path.to_string_lossy().into_owned();
        let source_id = if load.writing() {
            // Ids are given here, not by SQLite, so records can be queued before the row exists.
            let id = load.next_source_id;
            load.next_source_id += 1;
            let name = name.clone();
            load.writer.send(move |tx| {
                write_source_row(tx, Some(id), &name, kind, Some(&path_text)).map(drop)
            })?;
            Some(id)
        } else {
            None
        };
        let count = match kind {
            "geojson" => load_geojson_source(load, &label, &path, source_id)?,
            _ => load_csv_source(load, &label, &path, is_truth, source_id)?,
        };
        if let Some(id) = source_id {
            load.writer
                .send(move |tx| set_source_count(tx, id, count as u64))?;
        }
        if is_truth {
            load.report.truth_files += 1;
        } else {
            load.report.sources += 1;
            load.report.source_records += count;
        }
    }
    (load.progress)(Stage::Sources, files, files);
    Ok(())
}

/// A source CSV: the first column is the record id (truth files are keyed by row number, since
/// an evaluation table need not have one id per row). Returns how many records it has.
fn load_csv_source(
    load: &mut Load<'_>,
    file: &str,
    path: &Path,
    keyed_by_row: bool,
    source_id: Option<i64>,
) -> Result<usize, Error> {
    let writer = load.writer.clone();
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut batch: Batch<SourceRecord> = Batch::new();
    let mut count = 0;
    for_each_csv_row(
        file,
        path,
        &mut load.problems,
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
        batch.finish(load.writing(), |b| {
            writer.send(move |tx| write_source_records(tx, id, &b).map(drop))
        })?;
    }
    Ok(count)
}

/// A source GeoJSON: the record id is property `id`, else the feature's `id`, else its first
/// property. Returns how many records it has.
fn load_geojson_source(
    load: &mut Load<'_>,
    file: &str,
    path: &Path,
    source_id: Option<i64>,
) -> Result<usize, Error> {
    let Some(bytes) = read_file(path, file, &mut load.problems) else {
        return Ok(0);
    };
    let writer = load.writer.clone();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut batch: Batch<SourceRecord> = Batch::new();
    let mut count = 0;
    for_each_feature(
        file,
        &bytes,
        &mut load.problems,
        &mut |index, f, problems| {
            let key = feature_id(&f).or_else(|| {
                f.properties
                    .as_ref()
                    .and_then(|p| p.0.first())
                    .and_then(|(_, v)| value_text(v))
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
            let geometry = match f.geojson_geometry() {
                Ok(None) => None,
                Ok(Some(g)) => match Geometry::<f64>::try_from(&g.value) {
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
                    raw: serde_json::to_string(&AsObject(&props.0)).unwrap_or_default(),
                    geometry,
                };
                batch.push(record, |b| {
                    writer.send(move |tx| write_source_records(tx, id, &b).map(drop))
                })?;
            }
            Ok(())
        },
    )?;
    if let Some(id) = source_id {
        batch.finish(load.writing(), |b| {
            writer.send(move |tx| write_source_records(tx, id, &b).map(drop))
        })?;
    }
    Ok(count)
}

// ---- writing ---------------------------------------------------------------------------------

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
    fn unterminated_quote_is_found_on_its_line_across_chunks() {
        let csv = b"a,b\n1,2\n3,\"x\n5,6\n";
        for split in 0..csv.len() {
            let mut scan = QuoteScan::default();
            scan.feed(&csv[..split]);
            scan.feed(&csv[split..]);
            assert_eq!(scan.finish(), Some((3, 10)), "split at {split}");
        }
        let mut scan = QuoteScan::default();
        scan.feed(b"a,b\n\"1\"\"\",2\n");
        assert_eq!(scan.finish(), None, "escaped quotes balance");
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
