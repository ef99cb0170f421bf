//! Batch normalization of address columns: a CSV/TSV (UTF-8 or GBK/GB18030) or XLSX file in,
//! the same rows out, in order, each with the `dizhi_` columns of its normalization appended.
//!
//! The pipeline, in [`run`]: a reader thread decodes records ([`read`]) and hands out chunks of
//! rows; worker threads normalize them with the one shared [`Matcher`]; the calling thread puts
//! the chunks back in input order and writes them ([`write`]). At most a few chunks per thread
//! are in flight (a token per chunk comes back when the chunk is written), so memory stays flat
//! however long the file is.
//!
//! Nothing is lost: every input row gives exactly one output row in its place. A row that cannot
//! be processed (wrong column count, undecodable bytes, an empty address, an oversized cell)
//! becomes an [`Status::Error`] row whose `dizhi_note` says why. A run stopped through
//! [`BatchOptions::cancel`] writes whole rows only; [`prepare_resume`] counts them (repairing a
//! cut last line after a kill) and [`BatchOptions::skip_rows`] continues after them.

pub mod columns;
mod pipeline;
pub mod read;
pub mod records;
mod resume;
mod row;
pub mod workbook;
pub mod write;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crate::search::{MatchLevel, Matcher};

pub use read::{Encoding, InputFormat};
pub use resume::{ResumePoint, prepare_resume};
pub use row::{BatchRow, Status};
pub use write::OutputFormat;

/// The columns appended to every row, in order.
pub const COLUMNS: [&str; 11] = [
    "dizhi_id",
    "dizhi_address",
    "dizhi_level",
    "dizhi_score",
    "dizhi_town",
    "dizhi_community",
    "dizhi_building_id",
    "dizhi_lon",
    "dizhi_lat",
    "dizhi_status",
    "dizhi_note",
];

/// What can stop a whole batch (bad rows never do: they become `error` rows).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading the input or writing the output failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The CSV reader or writer failed (other than on a row's content).
    #[error("csv: {0}")]
    Csv(#[from] csv::Error),
    /// The spreadsheet could not be read.
    #[error("xlsx: {0}")]
    XlsxRead(#[from] calamine::Error),
    /// The spreadsheet could not be written.
    #[error("xlsx: {0}")]
    XlsxWrite(#[from] rust_xlsxwriter::XlsxError),
    /// The input has no header row.
    #[error("the input is empty (no header row)")]
    Empty,
    /// The input's encoding is not one dizhi reads.
    #[error("encoding: {0}")]
    Encoding(String),
    /// An address column is not in the header (a usage error).
    #[error(transparent)]
    Column(#[from] columns::ColumnError),
    /// A named sheet is not in the workbook (a usage error).
    #[error("no sheet {0:?} in the workbook; sheets: {1}")]
    Sheet(String, String),
    /// The options do not fit together (a usage error).
    #[error("{0}")]
    Usage(String),
    /// A workbook sheet spans more cells than are read ([`read::MAX_SHEET_CELLS`]).
    #[error(
        "the sheet {sheet:?} spans {rows} rows × {columns} columns, over the {} cells read: keep only the data in it",
        read::MAX_SHEET_CELLS
    )]
    SheetTooLarge {
        /// The sheet's name.
        sheet: String,
        /// Rows between its first and last cell.
        rows: u64,
        /// Columns between its first and last cell.
        columns: u64,
    },
    /// A workbook is over one of the budgets it is read within ([`workbook::BUDGET`]).
    #[error("the workbook is refused: {found} {} is over the limit of {allowed}", limit.describe())]
    WorkbookTooLarge {
        /// Which budget.
        limit: workbook::Limit,
        /// What the workbook has or declares.
        found: u64,
        /// The budget.
        allowed: u64,
    },
    /// Too many workbooks are being read at once; try again shortly.
    #[error("busy: {0}")]
    Busy(String),
    /// The output to resume is not this batch's output, or is damaged before its last row.
    #[error("cannot resume {0}: {1}")]
    Resume(PathBuf, String),
}

impl Error {
    /// Whether the error is the caller's mistake (exit code 2) rather than a runtime failure.
    ///
    /// # Examples
    /// ```
    /// use dizhi::batch::Error;
    /// let missing = dizhi::batch::columns::ColumnError::NoAddressColumn { columns: vec![] };
    /// assert!(Error::Column(missing).is_usage());
    /// assert!(!Error::Empty.is_usage());
    /// ```
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Error::Column(_)
                | Error::Sheet(..)
                | Error::SheetTooLarge { .. }
                | Error::WorkbookTooLarge { .. }
                | Error::Usage(_)
                | Error::Resume(..)
        )
    }
}

/// A result of the batch layer.
pub type Result<T> = std::result::Result<T, Error>;

/// Which input column holds (part of) the address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnRef {
    /// By header name (surrounding spaces ignored).
    Name(String),
    /// By position, 0-based.
    Index(usize),
}

/// How to run a batch. `Default` reads the first column whose header contains 地址 or
/// "address", detects the format and encoding, and uses every core.
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// The address columns; several are joined with [`BatchOptions::join`]. Empty: the first
    /// header containing 地址 or "address".
    pub columns: Vec<ColumnRef>,
    /// What goes between the values of several address columns.
    pub join: String,
    /// The input format; `None`: by the file's extension (`.xlsx`/`.xlsm` → XLSX, `.tsv`/`.tab`
    /// → TSV, else CSV).
    pub input_format: Option<InputFormat>,
    /// The text encoding of a CSV/TSV input; `None`: detected (BOM, valid UTF-8, else GB18030).
    pub encoding: Option<Encoding>,
    /// The sheet of an XLSX input; `None`: the first.
    pub sheet: Option<String>,
    /// The output format.
    pub output_format: OutputFormat,
    /// Worker threads (at least 1).
    pub threads: usize,
    /// Rows per chunk handed to a worker.
    pub chunk_rows: usize,
    /// Input data rows to skip because an earlier run already wrote them (see [`prepare_resume`]).
    pub skip_rows: u64,
    /// Whether to write the header row (not when appending to a resumed output).
    pub write_header: bool,
    /// Whether a CSV output begins with a UTF-8 BOM (with the header): set for a new file, which
    /// Excel on a Chinese Windows then reads as UTF-8. Not for a stream piped to other tools.
    pub bom: bool,
    /// Set to stop reading: the rows read so far are finished and written, then [`run`] returns
    /// with [`BatchSummary::interrupted`].
    pub cancel: Option<Arc<AtomicBool>>,
    /// A cell longer than this (bytes) makes its row an `error` row.
    pub max_cell_bytes: usize,
    /// An address longer than this (characters) makes its row an `error` row.
    pub max_address_chars: usize,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            columns: Vec::new(),
            join: String::new(),
            input_format: None,
            encoding: None,
            sheet: None,
            output_format: OutputFormat::Csv { delimiter: b',' },
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            chunk_rows: 1024,
            skip_rows: 0,
            write_header: true,
            bom: false,
            cancel: None,
            max_cell_bytes: 32 * 1024,
            max_address_chars: 500,
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchSummary {
    /// Rows written by this run.
    pub rows: u64,
    /// Rows skipped because an earlier run wrote them.
    pub skipped: u64,
    /// Rows per status, in the order ok, partial, not_found, error.
    pub statuses: [u64; 4],
    /// Rows per match level (not for `error` rows).
    pub levels: BTreeMap<MatchLevel, u64>,
    /// The run was cancelled before the end of the input.
    pub interrupted: bool,
    /// The input's text encoding (`UTF-8`, `GB18030`, … ; `xlsx` for a workbook).
    pub encoding: String,
    /// The address columns used, by header name.
    pub address_columns: Vec<String>,
    /// Wall time.
    pub elapsed: Duration,
}

impl BatchSummary {
    /// Rows with this status.
    ///
    /// # Examples
    /// ```
    /// use dizhi::batch::{BatchSummary, Status};
    /// let mut s = BatchSummary::default();
    /// s.statuses[Status::Error as usize] = 3;
    /// assert_eq!(s.count(Status::Error), 3);
    /// ```
    pub fn count(&self, status: Status) -> u64 {
        self.statuses[status as usize]
    }

    /// A few lines for a terminal: rows, rate, statuses, levels.
    ///
    /// # Examples
    /// ```
    /// let s = dizhi::batch::BatchSummary { rows: 10, ..Default::default() };
    /// assert!(s.to_text().contains("10 rows"));
    /// ```
    pub fn to_text(&self) -> String {
        let secs = self.elapsed.as_secs_f64();
        let rate = if secs > 0.0 {
            self.rows as f64 / secs
        } else {
            0.0
        };
        let mut s = format!(
            "{} rows in {secs:.1} s ({rate:.0} rows/s){}{}\n",
            self.rows,
            if self.skipped > 0 {
                format!(", after {} rows of an earlier run", self.skipped)
            } else {
                String::new()
            },
            if self.interrupted {
                " — interrupted: run again with --resume to continue"
            } else {
                ""
            }
        );
        s.push_str("  status:");
        for st in Status::ALL {
            s.push_str(&format!(" {} {}", st.as_str(), self.count(st)));
        }
        s.push_str("\n  level:");
        for (level, n) in &self.levels {
            s.push_str(&format!(" {} {n}", level.as_str()));
        }
        s.push('\n');
        s
    }
}

/// What [`inspect`] learns from an input's first row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    /// The input's header.
    pub header: Vec<String>,
    /// The address columns, 0-based.
    pub address_columns: Vec<usize>,
    /// The text encoding (`xlsx` for a workbook).
    pub encoding: String,
}

impl Inspection {
    /// The output's header: the input's, then [`COLUMNS`].
    pub fn output_header(&self) -> Vec<String> {
        self.header
            .iter()
            .cloned()
            .chain(COLUMNS.iter().map(|c| c.to_string()))
            .collect()
    }
}

/// Reads only an input's header: its columns, which of them hold the address, its encoding. A
/// missing column is an [`Error::Column`], found before any output is made.
///
/// # Examples
/// ```
/// use dizhi::batch::{inspect, BatchOptions};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("in.csv");
/// std::fs::write(&path, "编号,联系地址\n1,青浦区华新镇华腾路8号\n").unwrap();
/// let found = inspect(&path, &BatchOptions::default()).unwrap();
/// assert_eq!(found.address_columns, vec![1]);
/// assert_eq!(found.output_header().len(), 2 + dizhi::batch::COLUMNS.len());
/// ```
pub fn inspect(input: &Path, options: &BatchOptions) -> Result<Inspection> {
    let source = read::Source::open(input, options)?;
    source.inspection(options)
}

/// Normalizes the address column(s) of the file at `input` and writes every row, in order, with
/// the [`COLUMNS`] appended, to `out`. `progress(rows_done, rows_total_estimate)` is called on
/// the calling thread after each chunk. Nothing is printed.
///
/// # Examples
/// ```no_run
/// use dizhi::batch::{run, BatchOptions};
/// use dizhi::search::{AddressIndex, Matcher};
/// let dicts = dizhi::Dictionaries::embedded().unwrap();
/// let matcher = Matcher::new(AddressIndex::open("dizhi-data".as_ref()).unwrap(), &dicts).unwrap();
/// let mut out = Vec::new();
/// let summary = run("in.csv".as_ref(), &mut out, &BatchOptions::default(), &matcher, &|_, _| {}).unwrap();
/// assert_eq!(summary.interrupted, false);
/// ```
pub fn run<W: Write + Send>(
    input: &Path,
    out: W,
    options: &BatchOptions,
    matcher: &Matcher,
    progress: &dyn Fn(u64, Option<u64>),
) -> Result<BatchSummary> {
    let source = read::Source::open(input, options)?;
    pipeline::run(source, out, options, matcher, progress)
}

/// [`run`] over a CSV/TSV stream (an upload, stdin) instead of a file; the format must not be
/// XLSX, and the total is unknown, so `progress` gets `None` for it.
///
/// # Examples
/// ```no_run
/// use dizhi::batch::{run_reader, BatchOptions};
/// use dizhi::search::{AddressIndex, Matcher};
/// let dicts = dizhi::Dictionaries::embedded().unwrap();
/// let matcher = Matcher::new(AddressIndex::open("dizhi-data".as_ref()).unwrap(), &dicts).unwrap();
/// let input = "id,地址\n1,青浦区华新镇华腾路8号\n".as_bytes();
/// let mut out = Vec::new();
/// let summary = run_reader(input, &mut out, &BatchOptions::default(), &matcher, &|_, _| {}).unwrap();
/// assert_eq!(summary.rows, 1);
/// ```
pub fn run_reader<R: Read + Send + 'static, W: Write + Send>(
    input: R,
    out: W,
    options: &BatchOptions,
    matcher: &Matcher,
    progress: &dyn Fn(u64, Option<u64>),
) -> Result<BatchSummary> {
    let source = read::Source::from_reader(Box::new(input), None, options)?;
    pipeline::run(source, out, options, matcher, progress)
}
