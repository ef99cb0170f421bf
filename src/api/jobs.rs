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
use crate::batch::read::Source;
use crate::batch::{self, BatchOptions, ColumnRef, InputFormat, OutputFormat, Status};

/// Runs of one job the server may be stopped in before the job is marked failed.
pub const MAX_ATTEMPTS: u32 = 3;
/// Characters of a preview cell shown by `inspect`.
const PREVIEW_CHARS: usize = 200;
/// Rows shown by `inspect`.
const PREVIEW_ROWS: usize = 5;
/// How often a running job's progress is written to `status.json`.
const SAVE_EVERY: Duration = Duration::from_secs(2);

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Waiting for a runner.
    Queued,
    /// Being normalized.
    Running,
    /// The result is ready.
    Done,
    /// It stopped; `error` says why.
    Failed,
}

/// The result's file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResultFormat {
    /// UTF-8 CSV.
    Csv,
    /// An Excel workbook.
    Xlsx,
}

impl ResultFormat {
    /// `csv` or `xlsx`, as in the form.
    pub fn parse(s: &str) -> Option<ResultFormat> {
        match s.trim() {
            "csv" => Some(ResultFormat::Csv),
            "xlsx" => Some(ResultFormat::Xlsx),
            _ => None,
        }
    }

    /// The file extension.
    pub fn ext(self) -> &'static str {
        match self {
            ResultFormat::Csv => "csv",
            ResultFormat::Xlsx => "xlsx",
        }
    }

    /// The MIME type of the result.
    pub fn mime(self) -> &'static str {
        match self {
            ResultFormat::Csv => "text/csv; charset=utf-8",
            ResultFormat::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        }
    }
}

/// Rows per `dizhi_status`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// `ok` rows.
    pub ok: u64,
    /// `partial` rows.
    pub partial: u64,
    /// `not_found` rows.
    pub not_found: u64,
    /// `error` rows.
    pub error: u64,
}

impl Counts {
    /// Adds `n` rows of a `dizhi_status`.
    fn add(&mut self, status: &str, n: u64) {
        match status {
            "ok" => self.ok += n,
            "partial" => self.partial += n,
            "not_found" => self.not_found += n,
            _ => self.error += n,
        }
    }
}

/// Why a job failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobError {
    /// `bad_input`, `interrupted` or `internal`.
    pub code: String,
    /// For people.
    pub message: String,
}

/// A job as kept in its `status.json`. Fields that may be added later are `#[serde(default)]`, so
/// that a newer server reads an older server's jobs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    /// 32 hex digits.
    pub id: String,
    /// The key id that made it; `None`: an anonymous caller.
    #[serde(default)]
    pub owner: Option<String>,
    /// Where it is.
    pub status: JobStatus,
    /// The uploaded file's name.
    pub file_name: String,
    /// The input's file name in the job's directory.
    pub input: String,
    /// The field delimiter of a CSV/TSV input; `None` for a workbook.
    #[serde(default)]
    pub delimiter: Option<u8>,
    /// The sheet of a workbook (`None`: the first).
    #[serde(default)]
    pub sheet: Option<String>,
    /// The address column's header.
    pub column: String,
    /// The address column, 0-based.
    pub column_index: usize,
    /// The result's format.
    pub format: ResultFormat,
    /// Rows written.
    #[serde(default)]
    pub rows_done: u64,
    /// Data rows in the input.
    #[serde(default)]
    pub rows_total: Option<u64>,
    /// Rows per status (when done).
    #[serde(default)]
    pub counts: Counts,
    /// Unix seconds.
    pub created: u64,
    /// Unix seconds.
    #[serde(default)]
    pub finished: Option<u64>,
    /// Why it failed.
    #[serde(default)]
    pub error: Option<JobError>,
    /// Runs started.
    #[serde(default)]
    pub attempts: u32,
}

/// A job as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct JobView {
    id: String,
    status: JobStatus,
    file_name: String,
    column: String,
    format: ResultFormat,
    rows_done: u64,
    rows_total: Option<u64>,
    counts: Counts,
    created_at: String,
    finished_at: Option<String>,
    error: Option<JobError>,
    result: Option<String>,
}

impl JobView {
    /// The job's id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl Record {
    /// The API's view.
    pub fn view(&self) -> JobView {
        JobView {
            id: self.id.clone(),
            status: self.status,
            file_name: self.file_name.clone(),
            column: self.column.clone(),
            format: self.format,
            rows_done: self.rows_done,
            rows_total: self.rows_total,
            counts: self.counts,
            created_at: rfc3339(self.created),
            finished_at: self.finished.map(rfc3339),
            error: self.error.clone(),
            result: (self.status == JobStatus::Done)
                .then(|| format!("/v1/batch/{}/result", self.id)),
        }
    }

    fn result_path(&self, dir: &Path) -> PathBuf {
        dir.join(format!("result.{}", self.format.ext()))
    }

    fn options(&self) -> BatchOptions {
        BatchOptions {
            columns: vec![ColumnRef::Index(self.column_index)],
            input_format: Some(match self.delimiter {
                Some(d) => InputFormat::Delimited(d),
                None => InputFormat::Xlsx,
            }),
            sheet: self.sheet.clone(),
            output_format: match self.format {
                ResultFormat::Csv => OutputFormat::Csv { delimiter: b',' },
                ResultFormat::Xlsx => OutputFormat::Xlsx,
            },
            // The result is downloaded and opened in Excel.
            bom: true,
            ..BatchOptions::default()
        }
    }
}

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

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`.
///
/// # Examples
/// ```
/// assert_eq!(dizhi::api::jobs::rfc3339(0), "1970-01-01T00:00:00Z");
/// assert_eq!(dizhi::api::jobs::rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
/// ```
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil from days (H. Hinnant).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// A fresh job id: 128 random bits as 32 hex digits.
fn new_id() -> String {
    super::auth::hex(&super::auth::random_bytes::<16>())
}

/// Whether `id` has the shape of a job id.
pub fn valid_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn save(dir: &Path, record: &Record) -> std::io::Result<()> {
    let job = dir.join(&record.id);
    let text = serde_json::to_vec_pretty(record).map_err(std::io::Error::other)?;
    let tmp = job.join("status.json.tmp");
    let mut file = File::create(&tmp)?;
    file.write_all(&text)?;
    // On disk before the rename, so that a crash leaves the old status or the new one.
    file.sync_all()?;
    fs::rename(&tmp, job.join("status.json"))?;
    File::open(&job).and_then(|d| d.sync_all())
}

fn load(job_dir: &Path) -> Option<Record> {
    let text = fs::read(job_dir.join("status.json")).ok()?;
    serde_json::from_slice(&text).ok()
}

/// Whether a job directory has its input (`input.EXT`), i.e. its upload was complete.
fn has_input(job_dir: &Path) -> bool {
    fs::read_dir(job_dir).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("input."))
    })
}

/// A job whose `status.json` cannot be read (damaged, or written by a newer server), as failed:
/// kept until it expires, seen only by its owner when that much can be read (else by no one).
fn unreadable_job(job_dir: &Path, id: String) -> Record {
    let json: Option<serde_json::Value> = fs::read(job_dir.join("status.json"))
        .ok()
        .and_then(|t| serde_json::from_slice(&t).ok());
    let field = |name: &str| json.as_ref().and_then(|j| j.get(name)).cloned();
    let owner = match field("owner") {
        Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(key)) => Some(key),
        // No key id is empty: no caller sees it.
        _ => Some(String::new()),
    };
    let text = |name: &str| {
        field(name)
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default()
    };
    // When its status was last written (the file is never written back while unreadable), so it
    // expires on time however often the server restarts.
    let written = fs::metadata(job_dir.join("status.json"))
        .or_else(|_| fs::metadata(job_dir))
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or_else(now, |d| d.as_secs());
    Record {
        id,
        owner,
        status: JobStatus::Failed,
        file_name: text("file_name"),
        input: text("input"),
        delimiter: None,
        sheet: None,
        column: text("column"),
        column_index: 0,
        format: ResultFormat::Csv,
        rows_done: 0,
        rows_total: None,
        counts: Counts::default(),
        created: written,
        finished: Some(written),
        error: Some(JobError {
            code: "internal".into(),
            message: "the server could not read this job's status after a restart".into(),
        }),
        attempts: 0,
    }
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
        fs::create_dir_all(&path).map_err(ApiError::internal)?;
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
            fs::rename(&scratch.path, &job_dir).map_err(ApiError::internal)?;
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

/// Starts runner threads while there are queued jobs and free runners.
fn pump(state: &AppState) {
    let jobs = &state.jobs;
    loop {
        {
            let mut t = jobs.table();
            if t.held || t.running >= jobs.config.max_running.max(1) || t.queue.is_empty() {
                return;
            }
            t.running += 1;
        }
        let st = state.clone();
        let spawned = std::thread::Builder::new()
            .name("dizhi-job".into())
            .spawn(move || runner(&st));
        if let Err(e) = spawned {
            jobs.table().running -= 1;
            tracing::error!(error = %e, "could not start a batch job runner");
            return;
        }
    }
}

/// Runs queued jobs until the queue is empty.
fn runner(state: &AppState) {
    let jobs = &state.jobs;
    loop {
        let next = {
            let mut t = jobs.table();
            let mut next = None;
            while let Some(id) = t.queue.pop_front() {
                if let Some(e) = t.jobs.get_mut(&id) {
                    e.record.status = JobStatus::Running;
                    e.record.attempts += 1;
                    e.saved = Instant::now();
                    next = Some((e.record.clone(), e.cancel.clone()));
                    break;
                }
            }
            if next.is_none() {
                t.running -= 1;
            }
            next
        };
        let Some((record, cancel)) = next else { return };
        let _ = save(&jobs.dir, &record);
        let id = record.id.clone();
        let started = Instant::now();
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(state, &record, cancel)))
                .unwrap_or_else(|_| Err(internal_failure("the batch run panicked")));
        let kept = match outcome {
            Ok(Some((rows, counts))) => jobs.finish(&id, |r| {
                r.status = JobStatus::Done;
                r.rows_done = rows;
                r.counts = counts;
            }),
            Ok(None) => false,
            Err(error) => jobs.finish(&id, |r| {
                r.status = JobStatus::Failed;
                r.error = Some(error);
            }),
        };
        if kept {
            tracing::info!(job = %id, secs = started.elapsed().as_secs_f64(), "batch job finished");
        } else {
            // Removed while it ran.
            let _ = fs::remove_dir_all(jobs.dir.join(&id));
        }
    }
}

fn internal_failure(detail: &str) -> JobError {
    tracing::error!(error = %detail, "batch job failed");
    JobError {
        code: "internal".into(),
        message: "the server could not finish this job".into(),
    }
}

/// Runs one job: `Some((rows, counts))` when done, `None` when cancelled.
fn run(
    state: &AppState,
    record: &Record,
    cancel: Arc<AtomicBool>,
) -> Result<Option<(u64, Counts)>, JobError> {
    let jobs = &state.jobs;
    let job_dir = jobs.dir.join(&record.id);
    let input = job_dir.join(&record.input);
    let output = record.result_path(&job_dir);
    let mut options = record.options();
    options.cancel = Some(cancel);
    options.threads = match jobs.config.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1)),
        n => n,
    };
    options.max_address_chars = state.limits.max_address_chars;
    let bad_input = |e: batch::Error| match e {
        batch::Error::Io(e) => internal_failure(&e.to_string()),
        other => JobError {
            code: "bad_input".into(),
            message: other.to_string(),
        },
    };
    // An earlier run's complete rows stay (CSV); anything else starts over.
    let mut counts = Counts::default();
    let mut resumed = false;
    if record.format == ResultFormat::Csv && output.exists() {
        let header = batch::inspect(&input, &options)
            .map_err(bad_input)?
            .output_header();
        if let Ok(point) = batch::prepare_resume(&output, b',', &header) {
            counts = count_statuses(&output, header.len() - 2)
                .map_err(|e| internal_failure(&e.to_string()))?;
            options.skip_rows = point.rows;
            options.write_header = !point.header;
            resumed = true;
        }
    }
    let file = if resumed {
        fs::OpenOptions::new().append(true).open(&output)
    } else {
        File::create(&output)
    }
    .map_err(|e| internal_failure(&e.to_string()))?;
    let id = record.id.as_str();
    let progress = |done: u64, _total: Option<u64>| jobs.progress(id, done);
    let summary = batch::run(
        &input,
        BufWriter::new(file),
        &options,
        &state.matcher,
        &progress,
    )
    .map_err(bad_input)?;
    if summary.interrupted {
        return Ok(None);
    }
    for s in Status::ALL {
        counts.add(s.as_str(), summary.count(s));
    }
    Ok(Some((summary.skipped + summary.rows, counts)))
}

/// The statuses of the rows of a partial CSV result (column `status_col`).
fn count_statuses(path: &Path, status_col: usize) -> Result<Counts, csv::Error> {
    let mut counts = Counts::default();
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_path(path)?;
    let mut rec = csv::ByteRecord::new();
    while rdr.read_byte_record(&mut rec)? {
        counts.add(
            std::str::from_utf8(rec.get(status_col).unwrap_or(b"")).unwrap_or(""),
            1,
        );
    }
    Ok(counts)
}

// ---- uploads: what kind of file, its columns, a preview, its rows ---------------------------------

/// What an upload is, from its name and first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputKind {
    /// The extension the input is saved with (calamine opens workbooks by extension).
    pub ext: &'static str,
    /// `Some(delimiter)` for CSV/TSV, `None` for a workbook.
    pub delimiter: Option<u8>,
}

/// The kind of an upload: a workbook by its magic bytes (ZIP: xlsx/xlsm/ods; OLE: xls), else
/// CSV or TSV (by the extension `.tsv`/`.tab`, or a first line with tabs and no commas).
///
/// # Examples
/// ```
/// use dizhi::api::jobs::input_kind;
/// assert_eq!(input_kind("a.csv", b"id,addr\n").delimiter, Some(b','));
/// assert_eq!(input_kind("a.txt", b"id\taddr\n").delimiter, Some(b'\t'));
/// assert_eq!(input_kind("export", b"PK\x03\x04....").ext, "xlsx");
/// ```
pub fn input_kind(file_name: &str, head: &[u8]) -> InputKind {
    let ext = crate::batch::read::extension(Path::new(file_name));
    if head.starts_with(b"PK\x03\x04") {
        let ext = match ext.as_str() {
            "xlsm" => "xlsm",
            "ods" => "ods",
            _ => "xlsx",
        };
        return InputKind {
            ext,
            delimiter: None,
        };
    }
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return InputKind {
            ext: "xls",
            delimiter: None,
        };
    }
    let first = head.split(|&b| b == b'\n').next().unwrap_or(b"");
    let tabs =
        matches!(ext.as_str(), "tsv" | "tab") || (first.contains(&b'\t') && !first.contains(&b','));
    if tabs {
        InputKind {
            ext: "tsv",
            delimiter: Some(b'\t'),
        }
    } else {
        InputKind {
            ext: "csv",
            delimiter: Some(b','),
        }
    }
}

fn open(path: &Path, kind: InputKind, sheet: Option<&str>) -> Result<Source, ApiError> {
    let options = BatchOptions {
        input_format: Some(match kind.delimiter {
            Some(d) => InputFormat::Delimited(d),
            None => InputFormat::Xlsx,
        }),
        sheet: sheet.map(String::from),
        ..BatchOptions::default()
    };
    Ok(Source::open(path, &options)?)
}

/// The first column named like 地址 or address, as the batch library picks it.
fn suggested(source: &Source) -> Option<usize> {
    source
        .inspection(&BatchOptions::default())
        .ok()
        .and_then(|i| i.address_columns.first().copied())
}

/// What `POST /v1/batch/inspect` answers.
#[derive(Debug, Serialize)]
pub struct InspectView {
    columns: Vec<String>,
    suggested_column: Option<String>,
    encoding: String,
    sheets: Vec<String>,
    preview: Vec<Vec<String>>,
}

/// Reads an upload's header, suggested column, encoding, sheets and first rows (blocking).
pub fn inspect(path: &Path, kind: InputKind, sheet: Option<&str>) -> Result<InspectView, ApiError> {
    let mut source = open(path, kind, sheet)?;
    let sheets = source.sheet_names().to_vec();
    let columns = source.header().to_vec();
    let suggested_column = suggested(&source).map(|i| columns[i].clone());
    let encoding = source.encoding_name().to_ascii_lowercase();
    let mut preview = Vec::new();
    while preview.len() < PREVIEW_ROWS {
        match source.next_row(false)? {
            Some(row) => preview.push(
                row.fields
                    .into_iter()
                    .map(|f| f.chars().take(PREVIEW_CHARS).collect())
                    .collect(),
            ),
            None => break,
        }
    }
    Ok(InspectView {
        columns,
        suggested_column,
        encoding,
        sheets,
        preview,
    })
}

/// The address column an upload names: a header, else a 1-based index; none: the suggested one.
fn pick_column(
    header: &[String],
    column: Option<&str>,
    suggested: Option<usize>,
) -> Result<usize, ApiError> {
    let listing = || header.join(", ");
    let Some(given) = column.map(str::trim) else {
        return suggested.ok_or_else(|| {
            ApiError::InvalidBody(format!(
                "no column is named like 地址 or address: give the field column (a header or a 1-based index); columns: {}",
                listing()
            ))
        });
    };
    if let Some(i) = header.iter().position(|h| h == given) {
        return Ok(i);
    }
    match given.parse::<usize>() {
        Ok(n) if (1..=header.len()).contains(&n) => Ok(n - 1),
        _ => Err(ApiError::InvalidBody(format!(
            "no column {given:?} (columns: {})",
            listing()
        ))),
    }
}

/// Checks an upload and describes the job it makes (blocking): the column, the rows (at most
/// `max_rows`, else 413).
pub fn examine(
    path: &Path,
    kind: InputKind,
    file_name: &str,
    column: Option<&str>,
    sheet: Option<&str>,
    format: ResultFormat,
    max_rows: u64,
) -> Result<Record, ApiError> {
    let mut source = open(path, kind, sheet)?;
    let header = source.header().to_vec();
    let column_index = pick_column(&header, column, suggested(&source))?;
    let rows = match kind.delimiter {
        None => source.total_estimate(0).unwrap_or(0),
        Some(_) => {
            let mut n = 0u64;
            while n <= max_rows && source.next_row(true)?.is_some() {
                n += 1;
            }
            n
        }
    };
    if rows > max_rows {
        return Err(ApiError::PayloadTooLarge(format!(
            "the file has more than {max_rows} rows, the most one job takes: split it"
        )));
    }
    if format == ResultFormat::Xlsx && rows >= 1_048_575 {
        return Err(ApiError::InvalidBody(
            "more rows than fit in one XLSX sheet: ask for format csv".into(),
        ));
    }
    Ok(Record {
        id: String::new(),
        owner: None,
        status: JobStatus::Queued,
        file_name: file_name.to_string(),
        input: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        delimiter: kind.delimiter,
        sheet: sheet.filter(|_| kind.delimiter.is_none()).map(String::from),
        column: header[column_index].clone(),
        column_index,
        format,
        rows_done: 0,
        rows_total: Some(rows),
        counts: Counts::default(),
        created: 0,
        finished: None,
        error: None,
        attempts: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc() {
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn ids_are_random_hex() {
        let (a, b) = (new_id(), new_id());
        assert!(valid_id(&a) && valid_id(&b) && a != b);
        assert!(!valid_id("../../etc") && !valid_id(&a.to_uppercase()));
    }

    #[test]
    fn columns_by_name_then_index() {
        let h: Vec<String> = ["编号", "地址", "3"].map(String::from).to_vec();
        assert_eq!(pick_column(&h, None, Some(1)).unwrap(), 1);
        assert_eq!(pick_column(&h, Some("编号"), None).unwrap(), 0);
        assert_eq!(pick_column(&h, Some("2"), None).unwrap(), 1);
        assert_eq!(pick_column(&h, Some("3"), None).unwrap(), 2);
        assert!(pick_column(&h, Some("4"), None).is_err());
        assert!(pick_column(&h, Some("0"), None).is_err());
        assert!(pick_column(&h, None, None).is_err());
    }
}
