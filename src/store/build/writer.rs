//! The writing side of a build: one thread running the reading side's batches in one
//! transaction on a temporary store file, indexes rebuilt and references proven at the end, and
//! the finished file moved over the store (or removed, when the build failed).

use std::fs;
use std::path::{Path, PathBuf};

use rusqlite::{OptionalExtension, Transaction};
use serde_json::Value;

use super::BuildReport;
use crate::store::{Error, Store, write_meta};

/// How many records are written at a time.
pub(super) const BATCH: usize = 10_000;

/// A unit of work for the writer thread, run inside the build's one transaction.
pub(super) type Job = Box<dyn FnOnce(&Transaction<'_>) -> Result<(), Error> + Send>;

/// The reading side's handle on the writer thread. Reading and checking records (CSV, JSON,
/// geometry validation) and writing them (SQLite) each take about half the time, so they run on
/// the two cores at once, batches passing through a short queue.
#[derive(Clone)]
pub(super) struct Writer(pub(super) std::sync::mpsc::SyncSender<Job>);

impl Writer {
    pub(super) fn send(
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
pub(super) fn run_writer(
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

pub(super) fn write_build_meta(
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
    if !report.divisions.is_empty() {
        meta.push((
            crate::dictionaries::COVERAGE_META_KEY,
            report.divisions.join(","),
        ));
    }
    for (k, v) in &meta {
        write_meta(tx, k, v)?;
    }
    // Which build this is: the search index built from this store carries the same id
    // (`crate::setup::generation`), so a store and an index of two builds are told apart.
    write_meta(
        tx,
        crate::store::generation::META_KEY,
        &crate::store::generation::new_id(),
    )?;
    tx.execute(
        "INSERT INTO meta (key, value) VALUES ('built_at', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
        [],
    )?;
    Ok(())
}

/// A write buffer: records go to the writer [`BATCH`] at a time.
pub(super) struct Batch<T>(Vec<T>);

impl<T> Batch<T> {
    pub(super) fn new() -> Self {
        Batch(Vec::with_capacity(BATCH))
    }

    pub(super) fn push(
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
    pub(super) fn finish(
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

/// A file that is removed when dropped unless kept: the half-built store of a failed build.
pub(super) struct TempFile {
    pub(super) path: PathBuf,
    pub(super) keep: bool,
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

pub(super) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |e| Error::io(path, e)
}

/// Before a new file replaces the store, the old store's write-ahead log must be gone: SQLite
/// would otherwise replay the old log into the new file. Opening and closing the old store
/// checkpoints and removes its log; a log that survives that belongs to another process.
pub(super) fn settle_old_store(store_path: &Path) -> Result<(), Error> {
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
