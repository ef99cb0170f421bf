//! CSV files of a source directory streamed row by row, every malformed row (wrong width, bad
//! UTF-8, a quote never closed) a problem on its line.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use super::problems::{Location, Problems};
use crate::store::Error;

/// Streams a CSV with a header, calling `row` with every well-formed record and its line. Rows
/// with the wrong number of columns, bad UTF-8 or an unterminated quote become problems. Stops
/// at the first error `on_header` or `row` returns (a failed write).
pub(super) fn for_each_csv_row(
    file: &str,
    path: &Path,
    problems: &mut Problems,
    mut on_header: impl FnMut(&csv::StringRecord, &mut Problems) -> bool,
    mut row: impl FnMut(&csv::StringRecord, &csv::StringRecord, u64, &mut Problems) -> Result<(), Error>,
    mut progress: impl FnMut(u64),
) -> Result<(), Error> {
    // The csv crate reads an unterminated quote as a field running to the end of the file, so
    // find it ourselves first.
    let unterminated = match unterminated_quote(path) {
        Ok(u) => u,
        Err(e) => {
            problems.push(file, Location::File, format!("cannot read: {e}"));
            return Ok(());
        }
    };
    let mut reader = match csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 20)
        .from_path(path)
    {
        Ok(r) => r,
        Err(e) => {
            problems.push(file, Location::File, format!("cannot read: {e}"));
            return Ok(());
        }
    };
    let mut header = csv::StringRecord::new();
    match reader.read_record(&mut header) {
        Ok(true) => {}
        Ok(false) => {
            problems.push(file, Location::File, "empty file (no header)");
            return Ok(());
        }
        Err(e) => {
            problems.line(file, 1, csv_reason(&e));
            return Ok(());
        }
    }
    if !on_header(&header, problems) {
        return Ok(());
    }
    let width = header.len();
    let mut record = csv::StringRecord::new();
    let mut n = 0u64;
    loop {
        n += 1;
        if n.is_multiple_of(65_536) {
            progress(reader.position().byte());
        }
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(0, |p| p.line());
                let start = record.position().map_or(0, |p| p.byte());
                if let Some((_, bad)) = unterminated
                    && start <= bad
                    && reader.position().byte() > bad
                {
                    // This record swallowed the rest of the file; reported below.
                    continue;
                }
                if record.len() != width {
                    problems.line(
                        file,
                        line,
                        format!(
                            "expected {width} columns, found {} (truncated or misquoted row?)",
                            record.len()
                        ),
                    );
                    continue;
                }
                row(&header, &record, line, problems)?;
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                problems.line(file, line, csv_reason(&e));
                // A UTF-8 error leaves the reader usable; anything else (I/O) ends the file.
                if !matches!(e.kind(), csv::ErrorKind::Utf8 { .. }) {
                    break;
                }
            }
        }
    }
    if let Some((line, _)) = unterminated {
        problems.line(
            file,
            line,
            "unterminated quoted field (the quote opened here is never closed)",
        );
    }
    progress(reader.position().byte());
    Ok(())
}

fn csv_reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { err, .. } => format!("invalid UTF-8 in field {}", err.field() + 1),
        _ => e.to_string(),
    }
}

/// Where a quote that is never closed opens: its line and byte offset, or `None` when quotes
/// balance (escaped `""` pairs toggle twice, so they balance too).
fn unterminated_quote(path: &Path) -> std::io::Result<Option<(u64, u64)>> {
    let mut file = File::open(path)?;
    let mut scan = QuoteScan::default();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(scan.finish());
        }
        scan.feed(&buf[..n]);
    }
}

/// The state of [`unterminated_quote`] between chunks.
#[derive(Default)]
struct QuoteScan {
    offset: u64,
    newlines: u64,
    in_quotes: bool,
    open: (u64, u64),
}

impl QuoteScan {
    fn feed(&mut self, chunk: &[u8]) {
        // Most chunks have no quote at all or an even number; count lines fast and only walk
        // byte by byte where quotes are.
        for (i, &b) in chunk.iter().enumerate() {
            if b == b'\n' {
                self.newlines += 1;
            } else if b == b'"' {
                self.in_quotes = !self.in_quotes;
                if self.in_quotes {
                    self.open = (self.newlines + 1, self.offset + i as u64);
                }
            }
        }
        self.offset += chunk.len() as u64;
    }

    fn finish(&self) -> Option<(u64, u64)> {
        self.in_quotes.then_some(self.open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unterminated_quote_is_found_on_its_line_across_chunks() {
        let csv = b"a,b\n1,2\n3,\"x\n5,6\n";
        for split in 0..csv.len() {
            let mut scan = QuoteScan::default();
            scan.feed(&csv[..split]);
            scan.feed(&csv[split..]);
            assert_eq!(scan.finish(), Some((3, 10)), "split at {split}");
        }
        let mut scan = QuoteScan::default();
        scan.feed(b"a,b\n\"1\"\"\",2\n");
        assert_eq!(scan.finish(), None, "escaped quotes balance");
    }
}
