//! Batch jobs over HTTP: an uploaded CSV/TSV/XLSX becomes a job in `DIR/jobs/<id>/` (the input,
//! the result, `status.json`), run by the batch library ([`crate::batch`]) with the server's
//! matcher on threads of its own, never on the async workers.
//!
//! At most `max_running` jobs run at once; up to `max_queued` more wait, and beyond that uploads
//! are refused. A job is seen only by the key that made it (anonymous jobs by anonymous callers).
//! Finished jobs are removed after `ttl_secs`, at start and by a sweeper thread. The jobs
//! directory is locked by one server; on start, a job that was running when the server stopped is
//! queued again: a CSV result continues after its complete rows ([`crate::batch::prepare_resume`]),
//! an XLSX one starts over, and a job interrupted [`MAX_ATTEMPTS`] times is marked failed.

use std::collections::{HashMap, VecDeque};
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::config::JobsConfig;
use super::{ApiError, AppState};
use crate::batch::columns::{self, ColumnError};
use crate::batch::read::Source;
use crate::batch::{self, BatchOptions, ColumnRef, InputFormat, OutputFormat, Status};

mod record;
mod run;
mod upload;

use self::record::*;
pub use self::record::{
    Counts, JobError, JobStatus, JobView, Record, ResultFormat, rfc3339, valid_id,
};
use self::run::*;
pub use self::upload::{InputKind, InspectView, examine, input_kind, inspect};

/// Runs of one job the server may be stopped in before the job is marked failed.
pub const MAX_ATTEMPTS: u32 = 3;
/// Characters of a preview cell shown by `inspect`.
const PREVIEW_CHARS: usize = 200;
/// Rows shown by `inspect`.
const PREVIEW_ROWS: usize = 5;
/// How often a running job's progress is written to `status.json`.
const SAVE_EVERY: Duration = Duration::from_secs(2);

struct Entry {
    record: Record,
    cancel: Arc<AtomicBool>,
    saved: Instant,
}

#[derive(Default)]
struct Table {
    jobs: HashMap<String, Entry>,
    queue: VecDeque<String>,
    running: usize,
    /// Queued jobs wait ([`Jobs::hold`]).
    held: bool,
}

/// The jobs of a server.
pub struct Jobs {
    config: JobsConfig,
    dir: PathBuf,
    /// Why jobs are off: the directory could not be made, or another server holds it.
    disabled: Option<String>,
    table: Mutex<Table>,
    /// The lock on the jobs directory, held while the server runs.
    _lock: Option<File>,
}

/// A directory removed when dropped unless kept: an upload's, so that a failed or abandoned
/// request leaves nothing behind.
pub struct ScratchDir {
    path: PathBuf,
    keep: bool,
}

impl ScratchDir {
    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchDir {
    /// Removes the directory, on a blocking thread when dropped on the async runtime.
    fn drop(&mut self) {
        if self.keep {
            return;
        }
        let path = std::mem::take(&mut self.path);
        let remove = move || {
            let _ = fs::remove_dir_all(path);
        };
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => drop(rt.spawn_blocking(remove)),
            Err(_) => remove(),
        }
    }
}

impl Jobs {
    /// The jobs of `data_dir` (or of the configured directory): locks the directory, loads the
    /// jobs there, queues again the ones that were running, removes expired ones and leftovers of
    /// uploads. Jobs are off (every batch route answers 503) when the directory cannot be made or
    /// another server holds it.
    pub fn open(data_dir: &Path, config: &JobsConfig) -> Jobs {
        let config = config.clone();
        let dir = config.dir.clone().unwrap_or_else(|| data_dir.join("jobs"));
        let mut jobs = Jobs {
            config,
            dir,
            disabled: None,
            table: Mutex::new(Table::default()),
            _lock: None,
        };
        match jobs.lock() {
            Ok(lock) => jobs._lock = Some(lock),
            Err(why) => {
                tracing::warn!(dir = %jobs.dir.display(), "batch jobs are off: {why}");
                jobs.disabled = Some(why);
                return jobs;
            }
        }
        jobs.recover();
        jobs
    }

    fn lock(&self) -> Result<File, String> {
        fs::create_dir_all(&self.dir).map_err(|e| format!("{}: {e}", self.dir.display()))?;
        let path = self.dir.join("lock");
        let file = File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(file),
            Err(fs::TryLockError::WouldBlock) => Err(format!(
                "another server runs the jobs of {}",
                self.dir.display()
            )),
            Err(fs::TryLockError::Error(e)) => Err(format!("{}: {e}", path.display())),
        }
    }

    fn recover(&mut self) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        let mut found = Vec::new();
        for e in entries.flatten() {
            let path = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if !path.is_dir() {
                continue;
            }
            if name.starts_with(".upload-") {
                let _ = fs::remove_dir_all(&path);
                continue;
            }
            if !valid_id(&name) {
                continue;
            }
            match load(&path) {
                Some(r) if r.id == name => found.push(r),
                // An upload cut before its job was made: no input in place.
                _ if !has_input(&path) => {
                    let _ = fs::remove_dir_all(&path);
                }
                _ => {
                    tracing::warn!(job = %name, "a batch job's status.json cannot be read: the job is marked failed");
                    found.push(unreadable_job(&path, name));
                }
            }
        }
        found.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
        let table = self.table.get_mut().unwrap_or_else(|p| p.into_inner());
        let (mut requeued, mut failed) = (0, 0);
        for mut r in found {
            if r.status == JobStatus::Running {
                if r.attempts >= MAX_ATTEMPTS {
                    r.status = JobStatus::Failed;
                    r.finished = Some(now());
                    r.error = Some(JobError {
                        code: "interrupted".into(),
                        message: format!(
                            "the server stopped {MAX_ATTEMPTS} times while running this job; it is not run again"
                        ),
                    });
                    failed += 1;
                } else {
                    // A CSV result continues after its complete rows; an XLSX one starts over.
                    r.status = JobStatus::Queued;
                    if r.format == ResultFormat::Xlsx {
                        r.rows_done = 0;
                    }
                    requeued += 1;
                }
                if let Err(e) = save(&self.dir, &r) {
                    tracing::error!(job = %r.id, error = %e, "could not save a job's status");
                }
            }
            if r.status == JobStatus::Queued {
                table.queue.push_back(r.id.clone());
            }
            table.jobs.insert(
                r.id.clone(),
                Entry {
                    record: r,
                    cancel: Arc::new(AtomicBool::new(false)),
                    saved: Instant::now(),
                },
            );
        }
        if requeued + failed > 0 {
            tracing::info!(
                requeued,
                failed,
                "batch jobs that were running when the server stopped"
            );
        }
        self.sweep();
    }

    /// The `[jobs]` config.
    pub fn config(&self) -> &JobsConfig {
        &self.config
    }

    /// 503 when jobs are off.
    pub fn check_enabled(&self) -> Result<(), ApiError> {
        match &self.disabled {
            None => Ok(()),
            Some(why) => Err(ApiError::Unavailable(format!("batch jobs are off: {why}"))),
        }
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// 503 when jobs are off or the queue is full.
    pub fn check_room(&self) -> Result<(), ApiError> {
        self.check_enabled()?;
        self.room(&self.table())
    }

    /// 503 when the queue of `t` is full.
    fn room(&self, t: &Table) -> Result<(), ApiError> {
        if t.queue.len() >= self.config.max_queued {
            return Err(ApiError::Unavailable(format!(
                "{} batch jobs are waiting, the most the server queues: try again later",
                t.queue.len()
            )));
        }
        Ok(())
    }

    /// Holds queued jobs: no runner starts them until [`Jobs::release`]; running jobs go on.
    /// For draining a server, and for tests that need a job to stay queued.
    pub fn hold(&self) {
        self.table().held = true;
    }

    /// Lets the held queued jobs run.
    pub fn release(state: &AppState) {
        state.jobs.table().held = false;
        pump(state);
    }

    /// A directory for one upload, removed unless the upload becomes a job.
    pub fn scratch(&self) -> Result<ScratchDir, ApiError> {
        self.check_enabled()?;
        let path = self.dir.join(format!(".upload-{}", new_id()));
        fs::create_dir_all(&path)?;
        Ok(ScratchDir { path, keep: false })
    }

    /// Makes a job of an examined upload: moves its directory into place, saves its status,
    /// queues it and starts a runner if one is free.
    pub fn submit(
        &self,
        state: &AppState,
        mut scratch: ScratchDir,
        mut record: Record,
    ) -> Result<JobView, ApiError> {
        self.sweep();
        record.id = new_id();
        record.created = now();
        record.status = JobStatus::Queued;
        let job_dir = self.dir.join(&record.id);
        {
            let mut t = self.table();
            self.room(&t)?;
            fs::rename(&scratch.path, &job_dir)?;
            scratch.keep = true;
            if let Err(e) = save(&self.dir, &record) {
                let _ = fs::remove_dir_all(&job_dir);
                return Err(ApiError::internal(e));
            }
            t.queue.push_back(record.id.clone());
            t.jobs.insert(
                record.id.clone(),
                Entry {
                    record: record.clone(),
                    cancel: Arc::new(AtomicBool::new(false)),
                    saved: Instant::now(),
                },
            );
        }
        tracing::info!(job = %record.id, rows = record.rows_total, "batch job queued");
        pump(state);
        Ok(record.view())
    }

    /// A job of `owner`'s, unless it expired.
    pub fn get(&self, id: &str, owner: Option<&str>) -> Result<Record, ApiError> {
        let t = self.table();
        t.jobs
            .get(id)
            .filter(|e| e.record.owner.as_deref() == owner && !self.expired(&e.record, now()))
            .map(|e| e.record.clone())
            .ok_or_else(|| ApiError::NotFound(format!("no batch job {id}")))
    }

    /// The result file of a done job of `owner`'s; 409 while it is not done.
    pub fn result(&self, id: &str, owner: Option<&str>) -> Result<(Record, PathBuf), ApiError> {
        let r = self.get(id, owner)?;
        match r.status {
            JobStatus::Done => {
                let path = r.result_path(&self.dir.join(&r.id));
                Ok((r, path))
            }
            JobStatus::Failed => Err(ApiError::Conflict(format!(
                "the job failed: {}",
                r.error.as_ref().map_or("", |e| e.message.as_str())
            ))),
            JobStatus::Queued | JobStatus::Running => Err(ApiError::Conflict(format!(
                "the job is {}: {} of {} rows done; the result is ready when its status is done",
                if r.status == JobStatus::Queued {
                    "queued"
                } else {
                    "running"
                },
                r.rows_done,
                r.rows_total.map_or("?".to_string(), |n| n.to_string())
            ))),
        }
    }

    /// Removes a job of `owner`'s and its files; a running one is cancelled first (its runner
    /// removes the files when it stops).
    pub fn remove(&self, id: &str, owner: Option<&str>) -> Result<(), ApiError> {
        self.get(id, owner)?;
        let running = {
            let mut t = self.table();
            let Some(entry) = t.jobs.remove(id) else {
                return Err(ApiError::NotFound(format!("no batch job {id}")));
            };
            t.queue.retain(|q| q != id);
            entry.cancel.store(true, Ordering::Relaxed);
            entry.record.status == JobStatus::Running
        };
        if !running {
            let _ = fs::remove_dir_all(self.dir.join(id));
        }
        tracing::info!(job = %id, "batch job removed");
        Ok(())
    }

    fn expired(&self, r: &Record, now: u64) -> bool {
        r.finished
            .is_some_and(|f| f.saturating_add(self.config.ttl_secs) <= now)
    }

    /// Removes finished jobs past their time, and the oldest finished ones beyond `max_kept`.
    pub fn sweep(&self) {
        let now = now();
        let gone: Vec<String> = {
            let mut t = self.table();
            let mut finished: Vec<(u64, String)> = t
                .jobs
                .values()
                .filter_map(|e| e.record.finished.map(|f| (f, e.record.id.clone())))
                .collect();
            finished.sort();
            let extra = finished.len().saturating_sub(self.config.max_kept);
            let mut gone: Vec<String> = finished
                .iter()
                .enumerate()
                .filter(|(i, (f, _))| *i < extra || f.saturating_add(self.config.ttl_secs) <= now)
                .map(|(_, (_, id))| id.clone())
                .collect();
            gone.dedup();
            for id in &gone {
                t.jobs.remove(id);
            }
            gone
        };
        for id in &gone {
            let _ = fs::remove_dir_all(self.dir.join(id));
        }
        if !gone.is_empty() {
            tracing::info!(removed = gone.len(), "expired batch jobs removed");
        }
    }

    /// Starts runners for the queued jobs, and the sweeper thread.
    pub fn start(state: &AppState) {
        if state.jobs.disabled.is_some() {
            return;
        }
        pump(state);
        let weak: Weak<Jobs> = Arc::downgrade(&state.jobs);
        let every = Duration::from_secs((state.jobs.config.ttl_secs / 4).clamp(1, 600));
        let _ = std::thread::Builder::new()
            .name("dizhi-job-sweeper".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(every);
                    match weak.upgrade() {
                        Some(jobs) => jobs.sweep(),
                        None => return,
                    }
                }
            });
    }

    fn progress(&self, id: &str, done: u64) {
        let to_save = {
            let mut t = self.table();
            let Some(e) = t.jobs.get_mut(id) else { return };
            e.record.rows_done = done;
            if e.saved.elapsed() < SAVE_EVERY {
                return;
            }
            e.saved = Instant::now();
            e.record.clone()
        };
        let _ = save(&self.dir, &to_save);
    }

    /// Sets a job's end and saves it; `false` when it was removed meanwhile.
    fn finish(&self, id: &str, f: impl FnOnce(&mut Record)) -> bool {
        let record = {
            let mut t = self.table();
            let Some(e) = t.jobs.get_mut(id) else {
                return false;
            };
            f(&mut e.record);
            e.record.finished = Some(now());
            e.record.clone()
        };
        if let Err(e) = save(&self.dir, &record) {
            tracing::error!(job = %id, error = %e, "could not save a job's status");
        }
        true
    }
}
