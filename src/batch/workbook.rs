//! The one bounded opener of workbooks, used by `dizhi batch`, the batch jobs, `POST
//! /v1/batch/inspect` and `dizhi import`.
//!
//! calamine trusts a workbook: it reserves memory from the shared-strings part's `uniqueCount`
//! before reading a string, holds the shared strings whole, and copies a shared string into every
//! cell that names it. So before calamine sees a file, the zip package is checked against
//! [`Budget`] — its entries and their declared sizes, the declared counts of the shared-strings
//! part and the bytes that part really inflates to — and a sheet is then read cell by cell within a
//! cell budget and a byte budget. At most [`MAX_OPEN_WORKBOOKS`] workbooks are read at once in a
//! process; a caller that waits longer than [`OPEN_WAIT`] for its turn is refused as busy.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use calamine::{Data, Reader};

use super::{Error, Result};

/// Which budget a workbook is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Entries (files) in the zip package.
    Entries,
    /// Bytes the package's entries declare they inflate to, all together.
    ExpandedBytes,
    /// Strings the shared-strings part declares (`count`/`uniqueCount`).
    SharedStrings,
    /// Bytes the shared-strings part inflates to.
    SharedStringBytes,
    /// Cells between a sheet's first and last cell, or cells kept.
    SheetCells,
    /// Bytes of text a sheet's cells hold (a long shared string counts in every cell naming it).
    SheetBytes,
}

impl Limit {
    /// What the limit counts, for error messages.
    pub fn describe(self) -> &'static str {
        match self {
            Limit::Entries => "zip entries",
            Limit::ExpandedBytes => "declared uncompressed bytes",
            Limit::SharedStrings => "declared shared strings",
            Limit::SharedStringBytes => "bytes of shared strings",
            Limit::SheetCells => "cells in a sheet",
            Limit::SheetBytes => "bytes of text in a sheet",
        }
    }
}

/// The budgets a workbook is read within.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Most entries in the package.
    pub entries: u64,
    /// Most bytes all entries together may declare uncompressed.
    pub expanded_bytes: u64,
    /// Most shared strings declared.
    pub shared_strings: u64,
    /// Most bytes the shared-strings part may inflate to.
    pub shared_string_bytes: u64,
    /// Most cells between a sheet's corners (and kept).
    pub sheet_cells: u64,
    /// Most bytes of cell text in a sheet.
    pub sheet_bytes: u64,
}

/// The budgets every reader uses: a 500,000-row sheet of 33 columns of addresses fits.
pub const BUDGET: Budget = Budget {
    entries: 10_000,
    expanded_bytes: 2 << 30,
    shared_strings: 1 << 23,
    shared_string_bytes: 256 << 20,
    sheet_cells: super::read::MAX_SHEET_CELLS,
    sheet_bytes: 512 << 20,
};

/// Most workbooks read at once in a process (each may hold a few hundred MB while it is read).
pub const MAX_OPEN_WORKBOOKS: usize = 2;

/// How long a reader waits for its turn before it is refused ([`Error::Busy`]).
pub const OPEN_WAIT: Duration = Duration::from_secs(20);

/// A counting semaphore for blocking threads.
struct Gate {
    open: Mutex<usize>,
    freed: Condvar,
    capacity: usize,
}

static GATE: Gate = Gate::new(MAX_OPEN_WORKBOOKS);

/// A turn through a [`Gate`], given back when dropped.
struct Turn<'g>(&'g Gate);

impl Gate {
    const fn new(capacity: usize) -> Gate {
        Gate {
            open: Mutex::new(0),
            freed: Condvar::new(),
            capacity,
        }
    }

    fn take(&self, wait: Duration) -> Result<Turn<'_>> {
        let deadline = Instant::now() + wait;
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        while *open >= self.capacity {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Busy(format!(
                    "{} workbooks are being read; try again shortly",
                    self.capacity
                )));
            }
            open = self
                .freed
                .wait_timeout(open, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        *open += 1;
        Ok(Turn(self))
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let mut open = self.0.open.lock().unwrap_or_else(|p| p.into_inner());
        *open -= 1;
        self.0.freed.notify_one();
    }
}

/// A workbook sheet read whole, within the budgets.
pub struct Sheet {
    /// The workbook's sheets, in order.
    pub names: Vec<String>,
    /// The sheet's name.
    pub name: String,
    /// Its cells.
    pub range: calamine::Range<Data>,
}

fn over(limit: Limit, found: u64, allowed: u64) -> Error {
    Error::WorkbookTooLarge {
        limit,
        found,
        allowed,
    }
}

/// Checks a workbook's zip package against `budget` without inflating more than its
/// shared-strings part (within the budget): what calamine would otherwise allocate on open.
///
/// # Examples
/// ```
/// use dizhi::batch::workbook::{check_package, BUDGET, Limit};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("a.xlsx");
/// let mut book = rust_xlsxwriter::Workbook::new();
/// book.add_worksheet().write_string(0, 0, "地址").unwrap();
/// book.save(&path).unwrap();
/// assert!(check_package(&path, &BUDGET).is_ok());
/// let tiny = dizhi::batch::workbook::Budget { entries: 2, ..BUDGET };
/// assert!(matches!(
///     check_package(&path, &tiny),
///     Err(dizhi::batch::Error::WorkbookTooLarge { limit: Limit::Entries, .. })
/// ));
/// ```
pub fn check_package(path: &Path, budget: &Budget) -> Result<()> {
    let file = File::open(path)?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(file))
        .map_err(|e| Error::Usage(format!("the workbook is not a valid zip package: {e}")))?;
    let entries = zip.len() as u64;
    if entries > budget.entries {
        return Err(over(Limit::Entries, entries, budget.entries));
    }
    let mut expanded = 0u64;
    let mut strings = None;
    for i in 0..zip.len() {
        let entry = zip
            .by_index_raw(i)
            .map_err(|e| Error::Usage(format!("the workbook's zip package is damaged: {e}")))?;
        expanded = expanded.saturating_add(entry.size());
        let name = entry
            .name()
            .map(|n| n.to_ascii_lowercase())
            .unwrap_or_default();
        if name.ends_with("sharedstrings.xml") || name.ends_with("sharedstrings.bin") {
            strings = Some(i);
        }
    }
    if expanded > budget.expanded_bytes {
        return Err(over(Limit::ExpandedBytes, expanded, budget.expanded_bytes));
    }
    if let Some(i) = strings {
        let entry = zip
            .by_index(i)
            .map_err(|e| Error::Usage(format!("the workbook's zip package is damaged: {e}")))?;
        check_shared_strings(entry, budget)?;
    }
    Ok(())
}

/// Inflates the shared-strings part into nothing, counting its bytes, and reads the declared
/// counts from its `<sst …>` tag (XLSX) or its first record (XLSB).
fn check_shared_strings(mut part: impl Read, budget: &Budget) -> Result<()> {
    let mut head = Vec::new();
    let mut total = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = part
            .read(&mut buf)
            .map_err(|e| Error::Usage(format!("the workbook's shared strings are damaged: {e}")))?;
        if n == 0 {
            break;
        }
        if head.len() < 4096 {
            head.extend_from_slice(&buf[..n.min(4096 - head.len())]);
        }
        total += n as u64;
        if total > budget.shared_string_bytes {
            return Err(over(
                Limit::SharedStringBytes,
                total,
                budget.shared_string_bytes,
            ));
        }
    }
    let declared = declared_counts(&head);
    if declared > budget.shared_strings {
        return Err(over(Limit::SharedStrings, declared, budget.shared_strings));
    }
    Ok(())
}

/// The largest count an XLSX `<sst count=… uniqueCount=…>` tag or an XLSB `BrtBeginSst` record
/// declares (`u64::MAX` for a number too long to read).
fn declared_counts(head: &[u8]) -> u64 {
    let text = String::from_utf8_lossy(head);
    if let Some(at) = text.find("<sst").or_else(|| text.find(":sst")) {
        let tag = &text[at..];
        let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
        return ["count", "uniqueCount"]
            .iter()
            .filter_map(|attr| attribute(tag, attr))
            .map(|v| {
                let digits = v.trim();
                if digits.bytes().all(|b| b.is_ascii_digit()) {
                    digits.parse::<u64>().unwrap_or(u64::MAX)
                } else {
                    0
                }
            })
            .max()
            .unwrap_or(0);
    }
    // XLSB: BrtBeginSst (type 0x9F, one-byte length ≥ 8), then cstTotal and cstUnique (u32).
    if head.len() >= 11 && head[0] == 0x9F && head[1] == 0x01 {
        let total = u32::from_le_bytes([head[3], head[4], head[5], head[6]]);
        let unique = u32::from_le_bytes([head[7], head[8], head[9], head[10]]);
        return u64::from(total.max(unique));
    }
    0
}

/// The value of ` name="…"` in an XML start tag.
fn attribute<'t>(tag: &'t str, name: &str) -> Option<&'t str> {
    let mut rest = tag;
    while let Some(at) = rest.find(name) {
        let before = rest[..at].chars().last();
        let after = &rest[at + name.len()..];
        let after_trim = after.trim_start();
        if before.is_some_and(char::is_whitespace) && after_trim.starts_with('=') {
            let value = after_trim[1..].trim_start();
            let quote = value.chars().next()?;
            if quote == '"' || quote == '\'' {
                let value = &value[1..];
                return value.find(quote).map(|end| &value[..end]);
            }
            return None;
        }
        rest = after;
    }
    None
}

/// Opens a workbook by its extension once its package is within [`BUDGET`]: `.xlsx`/`.xlsm` and
/// `.xlsb`. Anything else (`.xls`, `.ods`, no extension) is refused unopened: calamine reads those
/// whole on open, every cell between a sheet's corners, so a small crafted file could ask for
/// billions of cells.
pub fn open(path: &Path) -> Result<calamine::Sheets<std::io::BufReader<File>>> {
    open_within(path, &BUDGET)
}

fn open_within(path: &Path, budget: &Budget) -> Result<calamine::Sheets<std::io::BufReader<File>>> {
    match super::read::extension(path).as_str() {
        "xlsx" | "xlsm" => {
            check_package(path, budget)?;
            Ok(calamine::Sheets::Xlsx(
                calamine::open_workbook(path).map_err(calamine::Error::from)?,
            ))
        }
        "xlsb" => {
            check_package(path, budget)?;
            Ok(calamine::Sheets::Xlsb(
                calamine::open_workbook(path).map_err(calamine::Error::from)?,
            ))
        }
        _ => Err(Error::Usage(
            "only .xlsx and .xlsb workbooks are read: save the sheet as .xlsx or CSV".into(),
        )),
    }
}

/// Reads one sheet (`sheet`, else the first) of the workbook at `path` within [`BUDGET`], taking
/// a turn among the [`MAX_OPEN_WORKBOOKS`] readers first.
pub fn read_sheet(path: &Path, sheet: Option<&str>) -> Result<Sheet> {
    read_sheet_within(path, sheet, &BUDGET)
}

/// [`read_sheet`] within other budgets (tests use small ones).
pub fn read_sheet_within(path: &Path, sheet: Option<&str>, budget: &Budget) -> Result<Sheet> {
    let _turn = GATE.take(OPEN_WAIT)?;
    let mut book = open_within(path, budget)?;
    let names = book.sheet_names();
    let name = match sheet {
        Some(s) => names
            .iter()
            .find(|n| n.as_str() == s)
            .cloned()
            .ok_or_else(|| Error::Sheet(s.to_string(), names.join(", ")))?,
        None => names.first().cloned().ok_or(Error::Empty)?,
    };
    let range = match &mut book {
        calamine::Sheets::Xlsx(x) => {
            let mut cells = match x.worksheet_cells_reader(&name) {
                Ok(cells) => cells,
                Err(calamine::XlsxError::NotAWorksheet(_)) => return Err(Error::Empty),
                Err(e) => return Err(calamine::Error::from(e).into()),
            };
            bounded_sheet(&name, budget, || {
                Ok(cells.next_cell().map_err(calamine::Error::from)?)
            })?
        }
        calamine::Sheets::Xlsb(x) => {
            let mut cells = x
                .worksheet_cells_reader(&name)
                .map_err(calamine::Error::from)?;
            bounded_sheet(&name, budget, || {
                Ok(cells.next_cell().map_err(calamine::Error::from)?)
            })?
        }
        calamine::Sheets::Xls(_) | calamine::Sheets::Ods(_) => {
            return Err(Error::Usage(
                "only .xlsx and .xlsb workbooks are read: save the sheet as .xlsx or CSV".into(),
            ));
        }
    };
    Ok(Sheet { names, name, range })
}

/// A sheet read cell by cell into a range, refused as soon as the rectangle between its cells
/// is over the cell budget ([`Error::SheetTooLarge`]) or its text over the byte budget.
fn bounded_sheet<'a>(
    sheet: &str,
    budget: &Budget,
    mut next: impl FnMut() -> Result<Option<calamine::Cell<calamine::DataRef<'a>>>>,
) -> Result<calamine::Range<Data>> {
    let mut cells = Vec::new();
    let (mut first, mut last) = ((u32::MAX, u32::MAX), (0u32, 0u32));
    let mut bytes = 0u64;
    while let Some(cell) = next()? {
        let value = cell.get_value();
        if matches!(value, calamine::DataRef::Empty) {
            continue;
        }
        let (r, c) = cell.get_position();
        first = (first.0.min(r), first.1.min(c));
        last = (last.0.max(r), last.1.max(c));
        let rows = u64::from(last.0 - first.0) + 1;
        let columns = u64::from(last.1 - first.1) + 1;
        // The rectangle, and the cells kept (a crafted file can repeat one cell many times).
        if rows.saturating_mul(columns) > budget.sheet_cells
            || cells.len() as u64 >= budget.sheet_cells
        {
            return Err(Error::SheetTooLarge {
                sheet: sheet.to_string(),
                rows,
                columns,
            });
        }
        bytes += match value {
            calamine::DataRef::String(s) | calamine::DataRef::DateTimeIso(s) => s.len() as u64,
            calamine::DataRef::SharedString(s) => s.len() as u64,
            _ => 0,
        } + 16;
        if bytes > budget.sheet_bytes {
            return Err(over(Limit::SheetBytes, bytes, budget.sheet_bytes));
        }
        cells.push(calamine::Cell::new((r, c), Data::from(value.clone())));
    }
    Ok(calamine::Range::from_sparse(cells))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_counts_are_read_from_the_tag() {
        let xml = br#"<?xml version="1.0"?><sst xmlns="x" count="3" uniqueCount="10000000000000">"#;
        assert_eq!(declared_counts(xml), 10_000_000_000_000);
        assert_eq!(declared_counts(br#"<sst count="7"  uniqueCount = '2'>"#), 7);
        assert_eq!(
            declared_counts(br#"<x:sst uniqueCount="99999999999999999999999">"#),
            u64::MAX
        );
        assert_eq!(declared_counts(b"<sst>"), 0);
    }

    #[test]
    fn turns_are_limited_and_given_back() {
        let gate = Gate::new(2);
        let a = gate.take(Duration::ZERO).unwrap();
        let b = gate.take(Duration::ZERO).unwrap();
        assert!(matches!(
            gate.take(Duration::from_millis(10)),
            Err(Error::Busy(_))
        ));
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(50));
                drop(a);
            });
            // Waits for the turn given back.
            let c = gate.take(Duration::from_secs(30)).unwrap();
            drop((b, c));
        });
    }
}
