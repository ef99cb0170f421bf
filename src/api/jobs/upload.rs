//! Uploads: what kind of file one is (by its first bytes), its columns, a preview, and the job
//! it makes once its address column and row count are checked.

use super::*;

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

pub(super) fn open(path: &Path, kind: InputKind, sheet: Option<&str>) -> Result<Source, ApiError> {
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
    let header = source.header().to_vec();
    let suggested_column = columns::guess_address_column(&header).map(|i| header[i].clone());
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
        columns: header,
        suggested_column,
        encoding,
        sheets,
        preview,
    })
}

/// The address column an upload names (see [`columns::pick_column`]), with what the form field is.
pub(super) fn pick_column(header: &[String], column: Option<&str>) -> Result<usize, ApiError> {
    columns::pick_column(header, column).map_err(|e| match e {
        ColumnError::NoAddressColumn { .. } => ApiError::InvalidBody(format!(
            "{e}: give the field column (a header or a 1-based index)"
        )),
        e => ApiError::InvalidBody(e.to_string()),
    })
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
    let column_index = pick_column(&header, column)?;
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
