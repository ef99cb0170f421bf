//! A job's record: its status, counts and error, the view callers see, and `status.json` in
//! its directory (written atomically, read back after a restart).

use super::*;

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
    pub(super) fn add(&mut self, status: &str, n: u64) {
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

    pub(super) fn result_path(&self, dir: &Path) -> PathBuf {
        dir.join(format!("result.{}", self.format.ext()))
    }

    pub(super) fn options(&self) -> BatchOptions {
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

pub(super) fn now() -> u64 {
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
pub(super) fn new_id() -> String {
    crate::api::auth::hex(&crate::api::auth::random_bytes::<16>())
}

/// Whether `id` has the shape of a job id.
pub fn valid_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

pub(super) fn save(dir: &Path, record: &Record) -> std::io::Result<()> {
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

pub(super) fn load(job_dir: &Path) -> Option<Record> {
    let text = fs::read(job_dir.join("status.json")).ok()?;
    serde_json::from_slice(&text).ok()
}

/// Whether a job directory has its input (`input.EXT`), i.e. its upload was complete.
pub(super) fn has_input(job_dir: &Path) -> bool {
    fs::read_dir(job_dir).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("input."))
    })
}

/// A job whose `status.json` cannot be read (damaged, or written by a newer server), as failed:
/// kept until it expires, seen only by its owner when that much can be read (else by no one).
pub(super) fn unreadable_job(job_dir: &Path, id: String) -> Record {
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
}
