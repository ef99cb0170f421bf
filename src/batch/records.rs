//! CSV/TSV records from a byte stream, read a physical line at a time. A quoted field may run
//! over several lines (a cell with a line break in it), but a quote left open costs only its own
//! row: when the lines it would join do not close it within [`MAX_LINES_PER_RECORD`], or close it
//! into a record of the wrong width, the first line is read on its own with its quotes taken as
//! text, reported, and reading goes on at the next line — instead of one stray `"` swallowing the
//! rest of the file into one field.
//!
//! The parsing itself is `csv_core`'s (the `csv` crate's own state machine); this file only
//! decides where a record may end.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};

use csv_core::ReadRecordResult;

/// The most physical lines one record may span (a cell with a few line breaks is common; a
/// hundred is a quote left open).
pub const MAX_LINES_PER_RECORD: usize = 100;

/// Why a record was read on its own line with its quotes as text.
pub const OPEN_QUOTE: &str = "a quote opened in this row is not closed where the row ends: \
     the row is read as it stands, its quotes as text";

/// Records of a delimited byte stream (see the module doc).
pub struct Records<R> {
    input: BufReader<R>,
    /// Lines read ahead and given back (a broken record's later lines).
    pending: VecDeque<Vec<u8>>,
    quoted: csv_core::Reader,
    literal: csv_core::Reader,
    out: Vec<u8>,
    ends: Vec<usize>,
    fields: usize,
    bytes_read: u64,
    eof: bool,
}

/// One record's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A record as CSV quoting reads it.
    Record,
    /// A record whose quote was never closed, read from its own line with quotes as text.
    OpenQuote,
}

impl<R: Read> Records<R> {
    /// Records of `input`, fields separated by `delimiter`.
    pub fn new(input: R, delimiter: u8, capacity: usize) -> Records<R> {
        let quoted = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
        let literal = csv_core::ReaderBuilder::new()
            .delimiter(delimiter)
            .quoting(false)
            .build();
        Records {
            input: BufReader::with_capacity(capacity, input),
            pending: VecDeque::new(),
            quoted,
            literal,
            out: vec![0; 1024],
            ends: vec![0; 64],
            fields: 0,
            bytes_read: 0,
            eof: false,
        }
    }

    /// Bytes taken from the input so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// The fields of the record last read.
    pub fn fields(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.fields).map(|i| {
            let start = if i == 0 { 0 } else { self.ends[i - 1] };
            &self.out[start..self.ends[i]]
        })
    }

    /// How many fields the record last read has.
    pub fn len(&self) -> usize {
        self.fields
    }

    /// Whether the record last read has no fields.
    pub fn is_empty(&self) -> bool {
        self.fields == 0
    }

    /// The next physical line (with its line break), skipping blank ones when `skip_blank` (not
    /// inside a quoted cell, where a line break is the cell's text); `None` at the end.
    fn next_line(&mut self, skip_blank: bool) -> std::io::Result<Option<Vec<u8>>> {
        loop {
            let line = match self.pending.pop_front() {
                Some(l) => l,
                None if self.eof => return Ok(None),
                None => {
                    let l = self.read_physical_line()?;
                    if l.is_empty() {
                        self.eof = true;
                        return Ok(None);
                    }
                    l
                }
            };
            if !skip_blank || line.iter().any(|&b| b != b'\r' && b != b'\n') {
                return Ok(Some(line));
            }
        }
    }

    /// The input up to and with the next line break: `\n`, or a `\r` on its own (old Mac files);
    /// `\r\n` ends at the `\r`, and the `\n` is then an empty line. Empty at the end.
    fn read_physical_line(&mut self) -> std::io::Result<Vec<u8>> {
        let mut line = Vec::new();
        loop {
            let buf = self.input.fill_buf()?;
            if buf.is_empty() {
                return Ok(line);
            }
            match buf.iter().position(|&b| b == b'\n' || b == b'\r') {
                Some(i) => {
                    line.extend_from_slice(&buf[..=i]);
                    self.input.consume(i + 1);
                    self.bytes_read += (i + 1) as u64;
                    return Ok(line);
                }
                None => {
                    let n = buf.len();
                    line.extend_from_slice(buf);
                    self.input.consume(n);
                    self.bytes_read += n as u64;
                }
            }
        }
    }

    /// Reads the next record; `width`, when known, is the header's: a record joined from several
    /// lines that does not have it is taken for a quote left open. `None` at the end.
    pub fn read(&mut self, width: Option<usize>) -> std::io::Result<Option<Outcome>> {
        let Some(first) = self.next_line(true)? else {
            return Ok(None);
        };
        let mut lines = vec![first];
        self.quoted.reset();
        self.fields = 0;
        let (mut nout, mut nend) = (0, 0);
        let closed = loop {
            let line = lines.last().expect("one line at least");
            let (res, rest) = parse(
                &mut self.quoted,
                line,
                &mut self.out,
                &mut self.ends,
                &mut nout,
                &mut nend,
            );
            if res == ReadRecordResult::Record {
                if !rest.is_empty() {
                    // Not expected (a line ends at its first break), but never lost.
                    self.pending.push_front(rest.to_vec());
                }
                break true;
            }
            if lines.len() >= MAX_LINES_PER_RECORD {
                break false;
            }
            match self.next_line(false)? {
                Some(next) => lines.push(next),
                None => {
                    // The input ends: an unquoted last line without a line break is a record;
                    // an open quote is not.
                    let (res, _) = parse(
                        &mut self.quoted,
                        &[],
                        &mut self.out,
                        &mut self.ends,
                        &mut nout,
                        &mut nend,
                    );
                    break res == ReadRecordResult::Record && !in_quotes(&lines);
                }
            }
        };
        let joined = lines.len() > 1;
        if closed && !(joined && width.is_some_and(|w| w != nend)) {
            self.fields = nend;
            return Ok(Some(Outcome::Record));
        }
        // A quote left open: the first line alone, quotes as text; the others are read again.
        for l in lines.drain(1..).rev() {
            self.pending.push_front(l);
        }
        self.literal.reset();
        let (mut nout, mut nend) = (0, 0);
        let (res, _) = parse(
            &mut self.literal,
            &lines[0],
            &mut self.out,
            &mut self.ends,
            &mut nout,
            &mut nend,
        );
        if res != ReadRecordResult::Record {
            parse(
                &mut self.literal,
                &[],
                &mut self.out,
                &mut self.ends,
                &mut nout,
                &mut nend,
            );
        }
        self.fields = nend;
        Ok(Some(Outcome::OpenQuote))
    }
}

/// Whether the lines, read as CSV from their start, end inside a quoted field.
fn in_quotes(lines: &[Vec<u8>]) -> bool {
    // A field is quoted when its first byte is a quote; inside, "" is a quote and a lone " ends
    // it. Counting quotes that open fields and those that close them is enough here.
    let mut inside = false;
    let mut at_field_start = true;
    let mut after_quote = false;
    for &b in lines.iter().flatten() {
        if inside {
            if after_quote {
                after_quote = false;
                if b == b'"' {
                    continue;
                }
                inside = false;
            } else if b == b'"' {
                after_quote = true;
                continue;
            } else {
                continue;
            }
        }
        if at_field_start && b == b'"' {
            inside = true;
            at_field_start = false;
            continue;
        }
        at_field_start = matches!(b, b',' | b'\t' | b'\n' | b'\r');
    }
    inside && !after_quote
}

/// Runs `reader` over `input`, growing the output buffers as needed; returns how it stopped and
/// the input it did not consume.
fn parse<'a>(
    reader: &mut csv_core::Reader,
    input: &'a [u8],
    out: &mut Vec<u8>,
    ends: &mut Vec<usize>,
    nout: &mut usize,
    nend: &mut usize,
) -> (ReadRecordResult, &'a [u8]) {
    let mut input = input;
    loop {
        let (res, nin, o, e) = reader.read_record(input, &mut out[*nout..], &mut ends[*nend..]);
        input = &input[nin..];
        // As the csv crate calls it: the ends csv_core writes count from the record's start.
        *nout += o;
        *nend += e;
        match res {
            ReadRecordResult::OutputFull => {
                let n = out.len() * 2;
                out.resize(n, 0);
            }
            ReadRecordResult::OutputEndsFull => {
                let n = ends.len() * 2;
                ends.resize(n, 0);
            }
            other => return (other, input),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str, width: Option<usize>) -> Vec<(Outcome, Vec<String>)> {
        let mut r = Records::new(text.as_bytes(), b',', 64);
        let mut out = Vec::new();
        while let Some(how) = r.read(width).unwrap() {
            out.push((
                how,
                r.fields()
                    .map(|f| String::from_utf8_lossy(f).into_owned())
                    .collect(),
            ));
        }
        out
    }

    #[test]
    fn plain_quoted_and_multiline_fields() {
        let got = all(
            "id,地址\n1,华腾路8号\n2,\"华腾路\"\"9\"\"号\"\n3,\"华腾路\n10号\"\n\n4,x",
            Some(2),
        );
        let fields: Vec<Vec<String>> = got.iter().map(|g| g.1.clone()).collect();
        assert_eq!(
            fields,
            [
                vec!["id", "地址"],
                vec!["1", "华腾路8号"],
                vec!["2", "华腾路\"9\"号"],
                vec!["3", "华腾路\n10号"],
                vec!["4", "x"],
            ]
        );
        assert!(got.iter().all(|g| g.0 == Outcome::Record));
    }

    #[test]
    fn an_open_quote_costs_only_its_own_row() {
        let mut text = String::from("id,地址,备注\n1,\"华腾路8号,a\n");
        for i in 2..300 {
            text.push_str(&format!("{i},华腾路{i}号,b\n"));
        }
        let got = all(&text, Some(3));
        assert_eq!(got.len(), 300, "every line is a row");
        assert_eq!(got[1].0, Outcome::OpenQuote);
        assert_eq!(got[1].1, ["1", "\"华腾路8号", "a"]);
        assert_eq!(got[2].1, ["2", "华腾路2号", "b"]);
        assert_eq!(got[299].1, ["299", "华腾路299号", "b"]);
    }

    #[test]
    fn an_open_quote_closed_by_a_later_stray_quote_is_caught_by_the_width() {
        let got = all(
            "id,地址\n1,\"华腾路8号\n2,华腾路9号\",备注\n3,华腾路10号\n",
            Some(2),
        );
        let ids: Vec<&str> = got.iter().map(|g| g.1[0].as_str()).collect();
        assert_eq!(ids, ["id", "1", "2", "3"]);
        assert_eq!(got[1].0, Outcome::OpenQuote);
        // The next line is read again on its own: its quote is inside a field, so text.
        assert_eq!(got[2].0, Outcome::Record);
        assert_eq!(got[2].1, ["2", "华腾路9号\"", "备注"]);
        assert_eq!(got[3].0, Outcome::Record);
    }

    #[test]
    fn carriage_returns_alone_or_before_a_newline_end_rows() {
        let got = all("id,地址\r1,a\r2,\"b\r\nc\"\r\n3,d", Some(2));
        let fields: Vec<Vec<String>> = got.iter().map(|g| g.1.clone()).collect();
        assert_eq!(
            fields,
            [
                vec!["id", "地址"],
                vec!["1", "a"],
                vec!["2", "b\r\nc"],
                vec!["3", "d"]
            ]
        );
    }

    #[test]
    fn an_open_quote_at_the_end() {
        let got = all("id,地址\n1,\"华腾路8号\n", Some(2));
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].0, Outcome::OpenQuote);
        assert_eq!(got[1].1, ["1", "\"华腾路8号"]);
    }
}
