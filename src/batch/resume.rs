//! Continuing an interrupted CSV output: count its complete rows, cut off a partial last one.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

use csv::ByteRecord;

use super::{Error, Result};

/// Where an earlier run's output stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResumePoint {
    /// Complete data rows in the output: the input rows to skip.
    pub rows: u64,
    /// Whether the output already has its header.
    pub header: bool,
    /// Bytes of a cut last row that were removed.
    pub truncated: u64,
}

/// Reads an earlier run's CSV/TSV output at `path`, checks its header is `expected_header`,
/// counts its complete rows and truncates a partial last row (left by a kill mid-write). A
/// missing or empty file resumes from the start.
///
/// # Examples
/// ```
/// use dizhi::batch::prepare_resume;
/// let dir = tempfile::tempdir().unwrap();
/// let out = dir.path().join("out.csv");
/// std::fs::write(&out, "a,b\n1,2\n3,4\n5").unwrap();
/// let header = vec!["a".to_string(), "b".to_string()];
/// let point = prepare_resume(&out, b',', &header).unwrap();
/// assert_eq!((point.rows, point.header, point.truncated), (2, true, 1));
/// assert_eq!(std::fs::read_to_string(&out).unwrap(), "a,b\n1,2\n3,4\n");
/// ```
pub fn prepare_resume(
    path: &Path,
    delimiter: u8,
    expected_header: &[String],
) -> Result<ResumePoint> {
    let fail = |why: String| Error::Resume(PathBuf::from(path), why);
    let len = match std::fs::metadata(path) {
        Ok(m) => m.len(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
        Err(e) => return Err(e.into()),
    };
    if len == 0 {
        return Ok(ResumePoint {
            rows: 0,
            header: false,
            truncated: 0,
        });
    }
    let ends_with_newline = {
        use std::io::{Read, Seek, SeekFrom};
        let mut f = std::fs::File::open(path)?;
        f.seek(SeekFrom::End(-1))?;
        let mut last = [0u8; 1];
        f.read_exact(&mut last)?;
        last[0] == b'\n'
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .buffer_capacity(256 * 1024)
        .from_path(path)?;
    let width = expected_header.len();
    let mut record = ByteRecord::new();
    let mut header = false;
    let mut rows = 0u64;
    // Where the last record starts, and whether it is complete in width.
    let mut last: Option<(u64, bool)> = None;
    loop {
        let start = rdr.position().byte();
        if !rdr.read_byte_record(&mut record)? {
            break;
        }
        let whole = record.len() == width;
        if !header {
            // A file written for Excel begins with a BOM ([`super::write::UTF8_BOM`]).
            let same = whole
                && record
                    .iter()
                    .zip(expected_header)
                    .enumerate()
                    .all(|(i, (a, b))| {
                        let a = if i == 0 {
                            a.strip_prefix(super::write::UTF8_BOM).unwrap_or(a)
                        } else {
                            a
                        };
                        a == super::write::excel_safe(b).as_bytes()
                    });
            if !same && (ends_with_newline || rdr.position().byte() < len) {
                return Err(fail(
                    "its header is not this batch's output header (other input or columns?)".into(),
                ));
            }
            header = same;
            if !same {
                // A header cut by a kill: start over.
                last = Some((start, false));
            }
            continue;
        }
        if let Some((at, false)) = last {
            return Err(fail(format!(
                "the row at byte {at} is not complete but is not the last"
            )));
        }
        last = Some((start, whole));
        rows += 1;
    }
    let cut = match last {
        Some((at, whole)) if !whole || !ends_with_newline => Some(at),
        None if !ends_with_newline => Some(0),
        _ => None,
    };
    let Some(at) = cut else {
        return Ok(ResumePoint {
            rows,
            header,
            truncated: 0,
        });
    };
    // The header counted as a record but never as a row.
    let (rows, header) = if at == 0 {
        (0, false)
    } else {
        (rows.saturating_sub(1), header)
    };
    OpenOptions::new().write(true).open(path)?.set_len(at)?;
    Ok(ResumePoint {
        rows,
        header,
        truncated: len - at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h() -> Vec<String> {
        vec!["a".into(), "b".into()]
    }

    fn resume(content: &str) -> (ResumePoint, String) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("o.csv");
        std::fs::write(&p, content).unwrap();
        let r = prepare_resume(&p, b',', &h()).unwrap();
        (r, std::fs::read_to_string(&p).unwrap())
    }

    #[test]
    fn complete_output_is_left_alone() {
        let (r, s) = resume("a,b\n1,2\n");
        assert_eq!((r.rows, r.header, r.truncated), (1, true, 0));
        assert_eq!(s, "a,b\n1,2\n");
    }

    #[test]
    fn a_row_cut_inside_quotes_or_short_is_removed() {
        let (r, s) = resume("a,b\n1,2\n\"x\ny");
        assert_eq!((r.rows, s.as_str()), (1, "a,b\n1,2\n"));
        let (r, s) = resume("a,b\n1,2\n3,\n");
        assert_eq!((r.rows, s.as_str()), (2, "a,b\n1,2\n3,\n"));
        let (r, s) = resume("a,b\n1,2\n3\n");
        assert_eq!((r.rows, s.as_str()), (1, "a,b\n1,2\n"));
    }

    #[test]
    fn a_cut_header_starts_over_and_a_foreign_file_is_refused() {
        let (r, s) = resume("a,");
        assert_eq!((r.rows, r.header, s.as_str()), (0, false, ""));
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("o.csv");
        std::fs::write(&p, "x,y\n1,2\n").unwrap();
        assert!(prepare_resume(&p, b',', &h()).is_err());
    }
}
