//! Writing a batch output: CSV/TSV a whole row at a time, or an XLSX sheet with a frozen header
//! and column widths fitted to the first rows.

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use rust_xlsxwriter::{Format, Workbook};

use super::row::BatchRow;
use super::{Error, Result};

/// Rows of an XLSX sheet looked at to fit the column widths.
const WIDTH_SAMPLE_ROWS: u32 = 1000;
/// Excel's limit on the characters in a cell.
const XLSX_CELL_CHARS: usize = 32_767;
/// Excel's limit on the rows in a sheet.
const XLSX_ROWS: u32 = 1_048_576;

/// The kind of output to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// CSV-like text (UTF-8; a BOM first when [`super::BatchOptions::bom`]) with this delimiter;
    /// a cell Excel would take for a formula is written with a `'` first ([`excel_safe`]).
    Csv {
        /// `,` for CSV, `\t` for TSV.
        delimiter: u8,
    },
    /// An Excel workbook with one sheet.
    Xlsx,
}

impl OutputFormat {
    /// The format an output file's extension implies: `.xlsx` → XLSX, `.tsv`/`.tab` → TSV, else
    /// CSV.
    ///
    /// # Examples
    /// ```
    /// use dizhi::batch::OutputFormat;
    /// assert_eq!(OutputFormat::from_path("out.xlsx".as_ref()), OutputFormat::Xlsx);
    /// assert_eq!(OutputFormat::from_path("out.csv".as_ref()), OutputFormat::Csv { delimiter: b',' });
    /// ```
    pub fn from_path(path: &Path) -> OutputFormat {
        match super::read::extension(path).as_str() {
            "xlsx" => OutputFormat::Xlsx,
            "tsv" | "tab" => OutputFormat::Csv { delimiter: b'\t' },
            _ => OutputFormat::Csv { delimiter: b',' },
        }
    }
}

/// The UTF-8 byte order mark: Excel reads a CSV that starts with it as UTF-8 (without it, a
/// Chinese Windows reads it as GBK and shows mojibake).
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// A cell as it is safe to write into a CSV opened in Excel: one that begins with `=`, `+`, `-`,
/// `@`, a tab or a carriage return (which Excel would run as a formula, e.g.
/// `=HYPERLINK(…)`) gets a `'` first; plain numbers (`-12.5`, `+86`) are left alone.
///
/// # Examples
/// ```
/// use dizhi::batch::write::excel_safe;
/// assert_eq!(excel_safe("=HYPERLINK(\"http://x\",\"点此\")"), "'=HYPERLINK(\"http://x\",\"点此\")");
/// assert_eq!(excel_safe("@SUM(A1)"), "'@SUM(A1)");
/// assert_eq!(excel_safe("-2+3+cmd|' /C calc'!A0"), "'-2+3+cmd|' /C calc'!A0");
/// assert_eq!(excel_safe("-12.5"), "-12.5");
/// assert_eq!(excel_safe("华腾路8号"), "华腾路8号");
/// ```
pub fn excel_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = cell
        .chars()
        .next()
        .is_some_and(|c| matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r'));
    if risky && cell.trim().parse::<f64>().is_err() {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// Where the rows go.
pub(crate) enum Sink<W: Write + Send> {
    Csv(Box<CsvSink<W>>),
    Xlsx(Box<XlsxSink<W>>),
}

pub(crate) struct CsvSink<W: Write> {
    w: csv::Writer<W>,
    scratch: String,
}

pub(crate) struct XlsxSink<W: Write + Send> {
    book: Workbook,
    out: W,
    row: u32,
    widths: Vec<f64>,
}

impl<W: Write + Send> Sink<W> {
    /// A sink writing `header` first when `write_header` (after a UTF-8 BOM when `bom`: a new
    /// CSV file that Excel opens).
    pub fn new(
        mut out: W,
        format: OutputFormat,
        header: &[String],
        write_header: bool,
        bom: bool,
    ) -> Result<Self> {
        match format {
            OutputFormat::Csv { delimiter } => {
                if bom && write_header {
                    out.write_all(UTF8_BOM)?;
                }
                let mut w = csv::WriterBuilder::new()
                    .delimiter(delimiter)
                    .buffer_capacity(256 * 1024)
                    .from_writer(out);
                if write_header {
                    w.write_record(header.iter().map(|h| excel_safe(h).into_owned()))?;
                }
                Ok(Sink::Csv(Box::new(CsvSink {
                    w,
                    scratch: String::new(),
                })))
            }
            OutputFormat::Xlsx => {
                let mut book = Workbook::new();
                let header_format = Format::new().set_bold();
                let sheet = book.add_worksheet_with_constant_memory()?;
                sheet.set_freeze_panes(1, 0)?;
                for (c, h) in header.iter().enumerate() {
                    sheet.write_string_with_format(0, col(c)?, h, &header_format)?;
                }
                Ok(Sink::Xlsx(Box::new(XlsxSink {
                    book,
                    out,
                    row: 1,
                    widths: header.iter().map(|h| display_width(h)).collect(),
                })))
            }
        }
    }

    /// Writes one row: the input's fields, then the `dizhi_` cells.
    pub fn write(&mut self, fields: &[String], r: &BatchRow) -> Result<()> {
        match self {
            Sink::Csv(s) => s.write(fields, r),
            Sink::Xlsx(s) => s.write(fields, r),
        }
    }

    /// Pushes whole rows out (after each chunk), so that a kill leaves complete rows.
    pub fn flush(&mut self) -> Result<()> {
        match self {
            Sink::Csv(s) => Ok(s.w.flush()?),
            Sink::Xlsx(_) => Ok(()),
        }
    }

    /// Finishes the file.
    pub fn finish(self) -> Result<()> {
        match self {
            Sink::Csv(mut s) => Ok(s.w.flush()?),
            Sink::Xlsx(s) => s.finish(),
        }
    }
}

impl<W: Write> CsvSink<W> {
    fn write(&mut self, fields: &[String], r: &BatchRow) -> Result<()> {
        for f in fields {
            self.w.write_field(excel_safe(f).as_ref())?;
        }
        self.w.write_field(r.id.as_deref().unwrap_or(""))?;
        self.w
            .write_field(excel_safe(r.address.as_deref().unwrap_or("")).as_ref())?;
        self.w.write_field(r.level.map_or("", |l| l.as_str()))?;
        self.number(r.score, 3)?;
        self.w.write_field(r.town.as_deref().unwrap_or(""))?;
        self.w.write_field(r.community.as_deref().unwrap_or(""))?;
        self.w.write_field(r.building_id.as_deref().unwrap_or(""))?;
        self.number(r.lon, 6)?;
        self.number(r.lat, 6)?;
        self.w.write_field(r.status.as_str())?;
        self.w.write_field(excel_safe(&r.note).as_ref())?;
        self.w.write_record(None::<&[u8]>)?;
        Ok(())
    }

    fn number(&mut self, v: Option<f64>, decimals: usize) -> Result<()> {
        self.scratch.clear();
        if let Some(v) = v {
            let _ = write!(self.scratch, "{v:.decimals$}");
        }
        self.w.write_field(&self.scratch)?;
        Ok(())
    }
}

impl<W: Write + Send> XlsxSink<W> {
    fn write(&mut self, fields: &[String], r: &BatchRow) -> Result<()> {
        if self.row >= XLSX_ROWS {
            return Err(Error::Usage(format!(
                "more than {} rows do not fit in one XLSX sheet: write CSV instead",
                XLSX_ROWS - 1
            )));
        }
        let row = self.row;
        let sample = row <= WIDTH_SAMPLE_ROWS;
        let texts = [
            r.id.as_deref(),
            r.address.as_deref(),
            r.level.map(|l| l.as_str()),
        ];
        let rest = [
            r.town.as_deref(),
            r.community.as_deref(),
            r.building_id.as_deref(),
        ];
        let n = fields.len();
        let sheet = self.book.worksheet_from_index(0)?;
        let mut put = |c: usize, s: &str, widths: &mut Vec<f64>| -> Result<()> {
            if s.is_empty() {
                return Ok(());
            }
            let s = if s.chars().count() > XLSX_CELL_CHARS {
                s.chars().take(XLSX_CELL_CHARS).collect::<String>()
            } else {
                s.to_string()
            };
            if sample && let Some(w) = widths.get_mut(c) {
                *w = w.max(display_width(&s));
            }
            sheet.write_string(row, col(c)?, s)?;
            Ok(())
        };
        for (c, f) in fields.iter().enumerate() {
            put(c, f, &mut self.widths)?;
        }
        for (i, s) in texts.iter().enumerate() {
            put(n + i, s.unwrap_or(""), &mut self.widths)?;
        }
        for (i, s) in rest.iter().enumerate() {
            put(n + 4 + i, s.unwrap_or(""), &mut self.widths)?;
        }
        put(n + 9, r.status.as_str(), &mut self.widths)?;
        put(n + 10, &r.note, &mut self.widths)?;
        for (c, v) in [(n + 3, r.score), (n + 7, r.lon), (n + 8, r.lat)] {
            if let Some(v) = v {
                sheet.write_number(row, col(c)?, v)?;
            }
        }
        self.row += 1;
        Ok(())
    }

    fn finish(mut self) -> Result<()> {
        let sheet = self.book.worksheet_from_index(0)?;
        for (c, w) in self.widths.iter().enumerate() {
            // Numbers (score, lon, lat) were not measured: give them room for 6 decimals.
            sheet.set_column_width(col(c)?, (w + 2.0).clamp(10.0, 60.0))?;
        }
        self.book.save_to_writer(&mut self.out)?;
        self.out.flush()?;
        Ok(())
    }
}

/// An XLSX column number.
fn col(c: usize) -> Result<u16> {
    u16::try_from(c).map_err(|_| Error::Usage(format!("{c} columns do not fit in XLSX")))
}

/// A text's width in Excel's character units (a CJK character counts two).
fn display_width(s: &str) -> f64 {
    s.chars()
        .map(|c| if (c as u32) < 0x1100 { 1.0 } else { 2.0 })
        .sum()
}
