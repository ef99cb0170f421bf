//! Reading a batch input: CSV/TSV records decoded one at a time (UTF-8 with or without BOM, or
//! GB18030/GBK, detected from the first megabyte), or the rows of an XLSX sheet.

use std::fs::File;
use std::io::{Cursor, Read};
use std::path::Path;
use std::str::FromStr;

use calamine::Data;

use super::records::{OPEN_QUOTE, Outcome, Records};
use super::{BatchOptions, Error, Inspection, Result};

/// How much of a CSV input is read to detect its encoding.
const SNIFF_BYTES: usize = 1 << 20;

/// The text encoding of a CSV/TSV input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 (a leading BOM is skipped).
    Utf8,
    /// GB18030, which decodes GBK and GB2312 too.
    Gb18030,
}

impl Encoding {
    /// The encoding's name.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Gb18030 => "GB18030",
        }
    }

    /// Decodes one field; `Err` carries a lossy decoding when the bytes are not valid.
    ///
    /// # Examples
    /// ```
    /// use dizhi::batch::Encoding;
    /// let (gbk, _, _) = encoding_rs::GBK.encode("华腾路");
    /// assert_eq!(Encoding::Gb18030.decode(&gbk).unwrap(), "华腾路");
    /// assert!(Encoding::Utf8.decode(&gbk).is_err());
    /// ```
    pub fn decode(self, bytes: &[u8]) -> std::result::Result<String, String> {
        match self {
            Encoding::Utf8 => match std::str::from_utf8(bytes) {
                Ok(s) => Ok(s.to_string()),
                Err(_) => Err(String::from_utf8_lossy(bytes).into_owned()),
            },
            Encoding::Gb18030 => {
                match encoding_rs::GB18030
                    .decode_without_bom_handling_and_without_replacement(bytes)
                {
                    Some(s) => Ok(s.into_owned()),
                    None => Err(encoding_rs::GB18030
                        .decode_without_bom_handling(bytes)
                        .0
                        .into_owned()),
                }
            }
        }
    }

    /// Detects the encoding of the start of a file: a UTF-8 BOM (returned as the bytes to skip),
    /// else UTF-8 when most lines with non-ASCII bytes are valid UTF-8, else GB18030. `complete`:
    /// the sample is the whole file (else its last, possibly cut, line is not judged).
    ///
    /// # Examples
    /// ```
    /// use dizhi::batch::Encoding;
    /// let (gbk, _, _) = encoding_rs::GBK.encode("地址\n青浦区\n");
    /// assert_eq!(Encoding::detect(&gbk, true).unwrap(), (Encoding::Gb18030, 0));
    /// assert_eq!(Encoding::detect("\u{feff}地址\n".as_bytes(), true).unwrap(), (Encoding::Utf8, 3));
    /// ```
    pub fn detect(sample: &[u8], complete: bool) -> Result<(Encoding, usize)> {
        if sample.starts_with(&[0xEF, 0xBB, 0xBF]) {
            return Ok((Encoding::Utf8, 3));
        }
        if sample.starts_with(&[0xFF, 0xFE]) || sample.starts_with(&[0xFE, 0xFF]) {
            return Err(Error::Encoding(
                "UTF-16 is not supported: save the file as UTF-8 or GBK CSV".into(),
            ));
        }
        let mut lines: Vec<&[u8]> = sample.split(|&b| b == b'\n').collect();
        if !complete && lines.len() > 1 {
            lines.pop();
        }
        let (mut good, mut bad) = (0usize, 0usize);
        for line in lines.iter().filter(|l| !l.is_ascii()) {
            if std::str::from_utf8(line).is_ok() {
                good += 1;
            } else {
                bad += 1;
            }
        }
        Ok((
            if bad > good {
                Encoding::Gb18030
            } else {
                Encoding::Utf8
            },
            0,
        ))
    }
}

impl FromStr for Encoding {
    type Err = String;

    /// `utf-8`/`utf8`, or `gbk`/`gb2312`/`gb18030`/`cp936` (any case).
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "utf-8" | "utf8" => Ok(Encoding::Utf8),
            "gbk" | "gb2312" | "gb18030" | "cp936" => Ok(Encoding::Gb18030),
            other => Err(format!(
                "unknown encoding {other:?} (utf-8, gbk, gb2312 or gb18030)"
            )),
        }
    }
}

/// A file name's extension in lower case, empty when it has none: what the batch reader and
/// writer go by.
pub(crate) fn extension(path: &Path) -> String {
    path.extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Opens a workbook by its extension, before any sheet is read: `.xlsx`/`.xlsm` and `.xlsb`, whose
/// sheets are then read cell by cell within [`MAX_SHEET_CELLS`]. Anything else (`.xls`, `.ods`, no
/// extension) is refused unopened: calamine reads those whole on open, every cell between a sheet's
/// corners, so a small crafted file could ask for billions of cells.
///
/// # Examples
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("old.xls");
/// std::fs::write(&path, b"\xD0\xCF\x11\xE0 not opened").unwrap();
/// assert!(dizhi::batch::read::open_workbook(&path).is_err_and(|e| e.is_usage()));
/// ```
pub fn open_workbook(path: &Path) -> Result<calamine::Sheets<std::io::BufReader<File>>> {
    super::workbook::open(path)
}

/// The kind of an input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputFormat {
    /// CSV-like text with this field delimiter (`,` CSV, `\t` TSV).
    Delimited(u8),
    /// A workbook: `.xlsx`/`.xlsm` and `.xlsb` are read (through calamine, cell by cell); `.xls` and
    /// `.ods` are recognized only to be refused with a clear error (see [`open_workbook`]).
    Xlsx,
}

impl InputFormat {
    /// The format a file's extension implies: `.xlsx`/`.xlsm`/`.xlsb`/`.xls`/`.ods` → a workbook,
    /// `.tsv`/`.tab` → tab-delimited, else CSV.
    ///
    /// # Examples
    /// ```
    /// use dizhi::batch::InputFormat;
    /// assert_eq!(InputFormat::from_path("a.XLSX".as_ref()), InputFormat::Xlsx);
    /// assert_eq!(InputFormat::from_path("a.tsv".as_ref()), InputFormat::Delimited(b'\t'));
    /// ```
    pub fn from_path(path: &Path) -> InputFormat {
        match extension(path).as_str() {
            "xlsx" | "xlsm" | "xlsb" | "xls" | "ods" => InputFormat::Xlsx,
            "tsv" | "tab" => InputFormat::Delimited(b'\t'),
            _ => InputFormat::Delimited(b','),
        }
    }
}

/// One input row: its fields (always as many as the header has) and, when it cannot be
/// processed, why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct InRow {
    pub fields: Vec<String>,
    pub problem: Option<String>,
}

/// A CSV/TSV input being read record by record.
pub(crate) struct DelimitedSource {
    records: Records<Box<dyn Read + Send>>,
    encoding: Encoding,
    header: Vec<String>,
    delimiter: u8,
    total_bytes: Option<u64>,
}

/// An XLSX sheet (calamine reads a sheet whole; the rows are handed out one by one).
pub(crate) struct XlsxSource {
    range: calamine::Range<Data>,
    header: Vec<String>,
    next: usize,
    /// The workbook's sheets, in order.
    sheets: Vec<String>,
}

/// A batch input.
pub(crate) enum Source {
    Delimited(Box<DelimitedSource>),
    Xlsx(XlsxSource),
}

impl Source {
    /// Opens a file as the options (or its extension) say.
    pub fn open(path: &Path, options: &BatchOptions) -> Result<Source> {
        match options
            .input_format
            .unwrap_or_else(|| InputFormat::from_path(path))
        {
            InputFormat::Xlsx => Source::open_xlsx(path, options.sheet.as_deref()),
            InputFormat::Delimited(_) => {
                let file = File::open(path)?;
                let len = file.metadata().ok().map(|m| m.len());
                let mut opts = options.clone();
                if opts.input_format.is_none() {
                    opts.input_format = Some(InputFormat::from_path(path));
                }
                Source::from_reader(Box::new(file), len, &opts)
            }
        }
    }

    /// A CSV/TSV stream; `total_bytes` (when known) lets progress estimate the row count.
    pub fn from_reader(
        mut input: Box<dyn Read + Send>,
        total_bytes: Option<u64>,
        options: &BatchOptions,
    ) -> Result<Source> {
        let delimiter = match options.input_format {
            Some(InputFormat::Delimited(d)) => d,
            None => b',',
            Some(InputFormat::Xlsx) => {
                return Err(Error::Usage(
                    "an XLSX input must be read from a file, not a stream".into(),
                ));
            }
        };
        let mut sample = Vec::with_capacity(64 * 1024);
        (&mut input)
            .take(SNIFF_BYTES as u64)
            .read_to_end(&mut sample)?;
        let complete = sample.len() < SNIFF_BYTES;
        let (detected, bom) = Encoding::detect(&sample, complete)?;
        let encoding = options.encoding.unwrap_or(detected);
        sample.drain(..bom);
        let chained: Box<dyn Read + Send> = Box::new(Cursor::new(sample).chain(input));
        let mut records = Records::new(chained, delimiter, 256 * 1024);
        if records.read(None)?.is_none() {
            return Err(Error::Empty);
        }
        let header = records
            .fields()
            .map(|f| {
                encoding
                    .decode(f)
                    .map(|s| s.trim().to_string())
                    .map_err(|_| {
                        Error::Encoding(format!(
                            "the header row is not valid {} (try --encoding)",
                            encoding.name()
                        ))
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Source::Delimited(Box::new(DelimitedSource {
            records,
            encoding,
            header,
            delimiter,
            total_bytes,
        })))
    }

    fn open_xlsx(path: &Path, sheet: Option<&str>) -> Result<Source> {
        let super::workbook::Sheet {
            names,
            range,
            name: _,
        } = super::workbook::read_sheet(path, sheet)?;
        if range.height() == 0 {
            return Err(Error::Empty);
        }
        let header = (0..range.width())
            .map(|c| cell_text(range.get((0, c))).trim().to_string())
            .collect();
        Ok(Source::Xlsx(XlsxSource {
            range,
            header,
            next: 1,
            sheets: names,
        }))
    }

    /// The input's header.
    pub fn header(&self) -> &[String] {
        match self {
            Source::Delimited(d) => &d.header,
            Source::Xlsx(x) => &x.header,
        }
    }

    /// A workbook's sheets, in order; none for CSV/TSV.
    pub fn sheet_names(&self) -> &[String] {
        match self {
            Source::Delimited(_) => &[],
            Source::Xlsx(x) => &x.sheets,
        }
    }

    /// The input's text encoding.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            Source::Delimited(d) => d.encoding.name(),
            Source::Xlsx(_) => "xlsx",
        }
    }

    /// The header, the address columns the options name, and the encoding.
    pub fn inspection(&self, options: &BatchOptions) -> Result<Inspection> {
        let header = self.header().to_vec();
        let address_columns = super::columns::address_columns(&header, &options.columns)?;
        Ok(Inspection {
            header,
            address_columns,
            encoding: self.encoding_name().to_string(),
        })
    }

    /// The next row; `skip`: only step over it (it was written by an earlier run).
    pub fn next_row(&mut self, skip: bool) -> Result<Option<InRow>> {
        match self {
            Source::Delimited(d) => d.next_row(skip),
            Source::Xlsx(x) => Ok(x.next_row(skip)),
        }
    }

    /// Rows in the whole input, estimated from the bytes read for `rows_read` rows (CSV) or
    /// exact (XLSX); `None` for a stream of unknown length.
    pub fn total_estimate(&self, rows_read: u64) -> Option<u64> {
        match self {
            Source::Delimited(d) => {
                let total = d.total_bytes?;
                let read = d.records.bytes_read().max(1);
                Some(((rows_read as f64) * (total as f64) / (read as f64)).round() as u64)
            }
            Source::Xlsx(x) => Some(x.range.height().saturating_sub(1) as u64),
        }
    }
}

impl DelimitedSource {
    fn next_row(&mut self, skip: bool) -> Result<Option<InRow>> {
        let Some(outcome) = self.records.read(Some(self.header.len()))? else {
            return Ok(None);
        };
        if skip {
            return Ok(Some(InRow::default()));
        }
        let width = self.header.len();
        let mut row = InRow {
            fields: Vec::with_capacity(width),
            problem: None,
        };
        let mut undecodable = None;
        for (i, f) in self.records.fields().enumerate() {
            match self.encoding.decode(f) {
                Ok(s) => row.fields.push(s),
                Err(lossy) => {
                    undecodable.get_or_insert(i);
                    row.fields.push(lossy);
                }
            }
        }
        let found = row.fields.len();
        if outcome == Outcome::OpenQuote {
            row.fields.resize(width, String::new());
            row.problem = Some(OPEN_QUOTE.to_string());
        } else if found != width {
            let extra: Vec<String> = row.fields.drain(found.min(width)..).collect();
            row.fields.resize(width, String::new());
            let mut why = format!("{found} fields, expected {width}");
            if !extra.is_empty() {
                let sep = char::from(self.delimiter).to_string();
                let joined: String = extra.join(&sep).chars().take(200).collect();
                why.push_str(&format!(" (dropped: {joined})"));
            }
            row.problem = Some(why);
        } else if let Some(i) = undecodable {
            row.problem = Some(format!(
                "column {} has bytes that are not {}",
                i + 1,
                self.encoding.name()
            ));
        }
        Ok(Some(row))
    }
}

/// Most cells of a workbook sheet read: calamine holds a sheet whole, every cell between its first
/// and last one, so a few-KB file with cells at A1 and XFD1048576 would ask for 17e9 of them.
/// 2^24 is 500,000 rows of 33 columns.
pub const MAX_SHEET_CELLS: u64 = 1 << 24;

impl XlsxSource {
    fn next_row(&mut self, skip: bool) -> Option<InRow> {
        if self.next >= self.range.height() {
            return None;
        }
        let r = self.next;
        self.next += 1;
        if skip {
            return Some(InRow::default());
        }
        Some(InRow {
            fields: (0..self.header.len())
                .map(|c| cell_text(self.range.get((r, c))))
                .collect(),
            problem: None,
        })
    }
}

/// A cell as text (numbers as Excel shows them in general format: 12 not 12.0).
fn cell_text(cell: Option<&Data>) -> String {
    match cell {
        None | Some(Data::Empty) => String::new(),
        Some(Data::String(s)) => s.clone(),
        Some(Data::Float(f)) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Some(d) => d.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> BatchOptions {
        BatchOptions::default()
    }

    fn rows(input: &[u8]) -> (Source, Vec<InRow>) {
        let mut s = Source::from_reader(Box::new(Cursor::new(input.to_vec())), None, &opts())
            .expect("source");
        let mut out = Vec::new();
        while let Some(r) = s.next_row(false).expect("row") {
            out.push(r);
        }
        (s, out)
    }

    #[test]
    fn gbk_is_detected_and_decoded() {
        let (bytes, _, _) = encoding_rs::GBK.encode("编号,地址\n1,青浦区华新镇华腾路8号\n");
        let (s, r) = rows(&bytes);
        assert_eq!(s.encoding_name(), "GB18030");
        assert_eq!(s.header(), ["编号", "地址"]);
        assert_eq!(r[0].fields[1], "青浦区华新镇华腾路8号");
    }

    #[test]
    fn utf8_with_a_few_bad_rows_stays_utf8() {
        let mut input = "id,地址\n1,华腾路8号\n2,华腾路9号\n".as_bytes().to_vec();
        input.extend_from_slice(b"3,\xff\xfe\xb0\n4,\xe5\xbc\n");
        let (s, r) = rows(&input);
        assert_eq!(s.encoding_name(), "UTF-8");
        assert_eq!(r.len(), 4);
        assert!(r[0].problem.is_none());
        assert!(r[2].problem.as_deref().unwrap().contains("not UTF-8"));
        assert!(r[3].problem.is_some());
    }

    #[test]
    fn bom_is_skipped_and_widths_are_checked() {
        let (s, r) = rows("\u{feff}id,地址\n1,a\n2\n3,b,c,d\n".as_bytes());
        assert_eq!(s.header(), ["id", "地址"]);
        assert!(r[0].problem.is_none());
        assert_eq!(r[1].fields, ["2", ""]);
        assert_eq!(r[1].problem.as_deref(), Some("1 fields, expected 2"));
        assert_eq!(r[2].fields, ["3", "b"]);
        assert!(r[2].problem.as_deref().unwrap().contains("dropped: c,d"));
    }

    #[test]
    fn a_quote_left_open_is_one_bad_row_not_the_rest_of_the_file() {
        let (_, r) = rows("id,地址\n1,\"华腾路8号\n2,华腾路9号\n3,华腾路10号\n".as_bytes());
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].fields, ["1", "\"华腾路8号"]);
        assert!(r[0].problem.as_deref().unwrap().contains("quote"));
        assert_eq!(r[1].fields, ["2", "华腾路9号"]);
        assert!(r[1].problem.is_none() && r[2].problem.is_none());
    }

    /// Regression: a few-KB workbook with cells at A1 and XFD1048576 made calamine allocate
    /// 17e9 cells and abort the process (the CLI's and the server's).
    #[test]
    fn a_sparse_sheet_is_refused_before_it_is_loaded() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "地址").unwrap();
        sheet.write_string(1_048_575, 16_383, "x").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sparse.xlsx");
        book.save(&path).unwrap();
        let e = Source::open(&path, &opts()).err().expect("refused");
        assert!(e.is_usage(), "{e}");
        assert!(
            matches!(&e, Error::SheetTooLarge { sheet, rows: 1_048_576, columns: 16_384 } if sheet == "Sheet1"),
            "{e}"
        );
        // The same data in a small rectangle is read.
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "地址").unwrap();
        sheet.write_string(1, 0, "华腾路8号").unwrap();
        book.save(&path).unwrap();
        let mut source = Source::open(&path, &opts()).unwrap();
        assert_eq!(source.header(), ["地址"]);
        assert_eq!(
            source.next_row(false).unwrap().unwrap().fields,
            ["华腾路8号"]
        );
    }
}
