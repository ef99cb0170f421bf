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
//!
//! The reading side (`BuildInProgress`) and the writing side (`writer`) run on two threads.
//! Reading is split by file: `addresses.csv` (`addresses`, rows through `csv_rows`), the GeoJSON
//! layers (`geojson_layers`, through the one GeoJSON reader in [`crate::gis::geojson`]),
//! `sources/` and `truth/` (`sources`), the manifest (`source_dir`); what is wrong is collected
//! in `problems`.

mod addresses;
mod csv_rows;
mod geojson_layers;
mod problems;
mod source_dir;
mod sources;
mod writer;

pub use addresses::ADDRESS_HEADER;
pub use problems::{BuildError, Location, MAX_PROBLEMS, Problem};

use std::fmt;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use super::{Error, STORE_FILE, Store};
use problems::Problems;
use source_dir::{check_manifest_counts, read_manifest};
use writer::{Job, TempFile, Writer, io_err, run_writer, settle_old_store, write_build_meta};

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

/// What a successful build loaded.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BuildReport {
    /// The source directory read.
    pub source_dir: PathBuf,
    /// The store written.
    pub store: PathBuf,
    /// The generator's seed, from `manifest.json`.
    pub seed: Option<u64>,
    /// The 12-digit codes of the districts the data covers (recorded as `meta.divisions`): the
    /// manifest's `divisions` when it names them, else the districts of the addresses' towns.
    pub divisions: Vec<String>,
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

/// A build in progress: where records go, what is wrong so far, and what has been loaded.
struct BuildInProgress<'a> {
    writer: Writer,
    source_dir: &'a Path,
    problems: Problems,
    progress: Progress<'a>,
    report: BuildReport,
    next_source_id: i64,
}

impl BuildInProgress<'_> {
    /// Records are written only while the build is clean: a build with a problem will be thrown
    /// away, so the rest of the run only looks for more problems.
    pub(super) fn writing(&self) -> bool {
        self.problems.is_empty()
    }
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
    let mut run = BuildInProgress {
        writer,
        source_dir,
        problems: Problems::default(),
        progress,
        report: BuildReport {
            source_dir: source_dir.to_path_buf(),
            store: store_path.to_path_buf(),
            seed: None,
            divisions: Vec::new(),
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
    let manifest = read_manifest(source_dir, &mut run.problems);
    run.report.seed = manifest
        .as_ref()
        .and_then(|m| m.get("seed"))
        .and_then(Value::as_u64);
    let expected_buildings = manifest
        .as_ref()
        .and_then(|m| m.get("buildings"))
        .and_then(Value::as_u64);

    let building_ids = geojson_layers::load_buildings(&mut run, expected_buildings)?;
    addresses::load_addresses(&mut run, &building_ids)?;
    drop(building_ids);
    geojson_layers::load_roads(&mut run)?;
    geojson_layers::load_areas(&mut run)?;
    sources::load_source_folder(&mut run, "sources")?;
    sources::load_source_folder(&mut run, "truth")?;

    if let Some(m) = &manifest {
        let (a, b) = (run.report.addresses, run.report.buildings);
        check_manifest_counts(m, a, b, &mut run.problems);
        if let Some(d) = source_dir::manifest_divisions(m, &mut run.problems) {
            run.report.divisions = d;
        }
    }
    if !run.problems.is_empty() {
        return Err(run.problems.into_error(source_dir));
    }
    progress(Stage::Finish, 0, 1);
    let (dir, report) = (source_dir.to_path_buf(), run.report.clone());
    run.writer
        .send(move |tx| write_build_meta(tx, &dir, manifest.as_ref(), &report))?;
    commit.store(true, std::sync::atomic::Ordering::SeqCst);
    Ok(run.report)
}
