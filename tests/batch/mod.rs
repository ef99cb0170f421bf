//! `dizhi::batch`: GBK and XLSX round trips with Chinese intact, malformed rows kept in place as
//! `error` rows, the same bytes with 1 and 2 threads, and an interrupted run resumed (after a
//! cancel, after a kill that cut the last line) giving the uninterrupted run's file.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};

use dizhi::batch::{self, BatchOptions, BatchSummary, COLUMNS, OutputFormat, Status};
use dizhi::search::{AddressIndex, Matcher};

/// The fixture district's store and index, built once per test binary, and its matcher.
struct Fixture {
    _dir: tempfile::TempDir,
    matcher: Matcher,
    addresses: Vec<String>,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/qingpu-20k");
    dizhi::store::build(&source, dir.path(), &|_, _, _| {}).expect("build store");
    let store = dizhi::store::Store::open(dir.path()).expect("open store");
    dizhi::search::build_index(&store, &AddressIndex::dir(dir.path())).expect("build index");
    let dicts = dizhi::Dictionaries::embedded().expect("dictionaries");
    let matcher =
        Matcher::new(AddressIndex::open(dir.path()).expect("index"), &dicts).expect("matcher");
    let mut rdr = csv::Reader::from_path(source.join("addresses.csv")).expect("addresses.csv");
    let addresses = rdr
        .records()
        .map(|r| r.expect("record")[1].to_string())
        .collect();
    Fixture {
        _dir: dir,
        matcher,
        addresses,
    }
});

fn fixture() -> &'static Fixture {
    &FIXTURE
}

/// The i-th good address, written the way a clerk might (drop 青浦区 on every third).
fn good_address(i: usize) -> String {
    let a = &fixture().addresses[(i * 7919) % fixture().addresses.len()];
    if i.is_multiple_of(3) {
        a.trim_start_matches("青浦区").to_string()
    } else {
        a.clone()
    }
}

fn run_file(input: &Path, options: &BatchOptions) -> (Vec<u8>, BatchSummary) {
    let mut out = Vec::new();
    let summary =
        batch::run(input, &mut out, options, &fixture().matcher, &|_, _| {}).expect("batch run");
    (out, summary)
}

fn csv_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes)
        .records()
        .map(|r| r.expect("output record").iter().map(String::from).collect())
        .collect()
}

fn tmp_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write input");
    p
}

fn status_col(header_len: usize) -> usize {
    header_len
        + COLUMNS
            .iter()
            .position(|c| *c == "dizhi_status")
            .unwrap_or(0)
}

#[test]
fn gbk_csv_round_trips_with_chinese_intact() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("编号,联系地址,备注\n");
    for i in 0..300 {
        text.push_str(&format!("{i},{},来电登记（第{i}条）\n", good_address(i)));
    }
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(&text);
    assert!(!unmappable);
    let input = tmp_file(dir.path(), "gbk.csv", &gbk);
    let (out, summary) = run_file(&input, &BatchOptions::default());
    assert_eq!(summary.encoding, "GB18030");
    assert_eq!(summary.address_columns, ["联系地址"]);
    let rows = csv_rows(&out);
    assert_eq!(rows.len(), 301);
    assert_eq!(rows[0][..3], ["编号", "联系地址", "备注"]);
    assert_eq!(rows[0][3..], COLUMNS);
    for (i, row) in rows[1..].iter().enumerate() {
        assert_eq!(row[0], i.to_string());
        assert_eq!(row[1], good_address(i));
        assert_eq!(row[2], format!("来电登记（第{i}条）"));
        assert!(["ok", "partial", "not_found"].contains(&row[status_col(3)].as_str()));
    }
    // Real addresses of the district: nearly all match a standard address, in Chinese.
    assert!(summary.count(Status::Ok) >= 270, "{summary:?}");
    let first_ok = rows[1..].iter().find(|r| r[status_col(3)] == "ok").unwrap();
    assert!(first_ok[3].starts_with("A") && first_ok[4].starts_with("青浦区"));
}

#[test]
fn xlsx_round_trips_to_csv_and_xlsx() {
    use calamine::Reader;
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("工单").unwrap();
    for (c, h) in ["工单号", "地址", "诉求"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for i in 0..120u32 {
        let r = i + 1;
        sheet.write_number(r, 0, f64::from(1000 + i)).unwrap();
        sheet.write_string(r, 1, good_address(i as usize)).unwrap();
        sheet.write_string(r, 2, "噪音扰民，请核实").unwrap();
    }
    book.save(&input).unwrap();

    let options = BatchOptions {
        sheet: Some("工单".into()),
        ..BatchOptions::default()
    };
    let (out, summary) = run_file(&input, &options);
    assert_eq!(summary.rows, 120);
    let rows = csv_rows(&out);
    assert_eq!(rows[1][0], "1000");
    assert_eq!(rows[1][1], good_address(0));
    assert_eq!(rows[120][2], "噪音扰民，请核实");

    // XLSX out, read back with calamine.
    let xlsx_out = dir.path().join("out.xlsx");
    let options = BatchOptions {
        output_format: OutputFormat::Xlsx,
        ..options
    };
    let file = std::fs::File::create(&xlsx_out).unwrap();
    batch::run(&input, file, &options, &fixture().matcher, &|_, _| {}).unwrap();
    let mut back = calamine::open_workbook_auto(&xlsx_out).unwrap();
    let name = back.sheet_names()[0].clone();
    let range = back.worksheet_range(&name).unwrap();
    assert_eq!(range.height(), 121);
    let cell = |r: usize, c: usize| range.get((r, c)).map(|d| d.to_string()).unwrap_or_default();
    let header: Vec<String> = (0..range.width()).map(|c| cell(0, c)).collect();
    assert_eq!(header[..3], ["工单号", "地址", "诉求"]);
    assert_eq!(header[3..], COLUMNS);
    for (r, csv_row) in rows.iter().enumerate().skip(1) {
        assert_eq!(cell(r, 0), (999 + r).to_string());
        assert_eq!(cell(r, 1), good_address(r - 1));
        assert_eq!(cell(r, 2), "噪音扰民，请核实");
        // Same answers as the CSV output.
        assert_eq!(cell(r, status_col(3)), csv_row[status_col(3)]);
        assert_eq!(cell(r, 4), csv_row[4]);
    }
}

/// `good` good rows with `bad` malformed ones spread among them (four kinds in turn); the kind
/// of each row, `None` for a good one.
fn mixed_input(good: usize, bad: usize) -> (Vec<u8>, Vec<Option<&'static str>>) {
    let mut bytes = "id,地址,备注\n".as_bytes().to_vec();
    let mut kinds = Vec::with_capacity(good + bad);
    let every = (good + bad) / bad.max(1);
    let mut bad_left = bad;
    let big = "很".repeat(100 * 1024 / 3);
    for i in 0..good + bad {
        let kind = if bad_left > 0 && i % every == every / 2 {
            bad_left -= 1;
            Some(["columns", "bytes", "empty", "big"][(bad - bad_left - 1) % 4])
        } else {
            None
        };
        match kind {
            None => bytes.extend_from_slice(format!("{i},{},\n", good_address(i)).as_bytes()),
            Some("columns") => {
                bytes.extend_from_slice(format!("{i},{}\n", good_address(i)).as_bytes())
            }
            Some("bytes") => {
                bytes.extend_from_slice(format!("{i},华腾路").as_bytes());
                bytes.extend_from_slice(b"\xff\xfe8\xe5\xbc\xa0\xc0\n".as_slice());
                let last = bytes.len() - 1;
                bytes.insert(last, b',');
            }
            Some("empty") => bytes.extend_from_slice(format!("{i}, ,备注\n").as_bytes()),
            Some(_) => {
                bytes.extend_from_slice(format!("{i},{},{big}\n", good_address(i)).as_bytes())
            }
        }
        kinds.push(kind);
    }
    (bytes, kinds)
}

fn check_malformed(good: usize, bad: usize) {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, kinds) = mixed_input(good, bad);
    let input = tmp_file(dir.path(), "mixed.csv", &bytes);
    let (out, summary) = run_file(&input, &BatchOptions::default());
    assert_eq!(summary.encoding, "UTF-8");
    assert_eq!(summary.rows as usize, good + bad);
    assert_eq!(summary.count(Status::Error) as usize, bad);
    let rows = csv_rows(&out);
    assert_eq!(rows.len(), good + bad + 1);
    let (status, note) = (status_col(3), status_col(3) + 1);
    for (i, (row, kind)) in rows[1..].iter().zip(&kinds).enumerate() {
        assert_eq!(row.len(), 3 + COLUMNS.len());
        assert_eq!(row[0], i.to_string(), "row {i} out of place");
        let why = match kind {
            None => {
                assert_ne!(row[status], "error", "row {i}: {row:?}");
                continue;
            }
            Some("columns") => "2 fields, expected 3",
            Some("bytes") => "column 2 has bytes that are not UTF-8",
            Some("empty") => "empty address",
            Some(_) => "column 3 is 102",
        };
        assert_eq!(row[status], "error", "row {i}");
        assert!(row[note].starts_with(why), "row {i}: {}", row[note]);
    }
}

/// The size: 1,000 malformed rows among 100,000 good ones (about 8 s in the debug
/// profile on 2 cores).
#[test]
fn malformed_rows_stay_in_place_as_errors() {
    check_malformed(100_000, 1_000);
}

#[test]
fn one_and_two_threads_write_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, _) = mixed_input(3_000, 40);
    let input = tmp_file(dir.path(), "mixed.csv", &bytes);
    let with = |threads| BatchOptions {
        threads,
        chunk_rows: 37,
        ..BatchOptions::default()
    };
    let (one, _) = run_file(&input, &with(1));
    let (two, _) = run_file(&input, &with(2));
    let (four, _) = run_file(&input, &with(4));
    assert!(one == two, "1 and 2 threads differ");
    assert!(one == four, "1 and 4 threads differ");
}

/// Runs into the file `out` (appending when resuming), cancelling after `cancel_after` rows.
fn run_into(input: &Path, out: &Path, cancel_after: Option<u64>) -> BatchSummary {
    let header = batch::inspect(input, &BatchOptions::default())
        .unwrap()
        .output_header();
    let point = batch::prepare_resume(out, b',', &header).unwrap();
    let cancel = Arc::new(AtomicBool::new(false));
    let options = BatchOptions {
        chunk_rows: 50,
        skip_rows: point.rows,
        write_header: !point.header,
        cancel: Some(Arc::clone(&cancel)),
        ..BatchOptions::default()
    };
    let file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(out)
        .unwrap();
    let progress = |done: u64, _: Option<u64>| {
        if cancel_after.is_some_and(|n| done >= n) {
            cancel.store(true, Ordering::Relaxed);
        }
    };
    batch::run(input, file, &options, &fixture().matcher, &progress).unwrap()
}

#[test]
fn an_interrupted_run_resumed_equals_an_uninterrupted_one() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, _) = mixed_input(2_000, 20);
    let input = tmp_file(dir.path(), "in.csv", &bytes);
    let whole_path = dir.path().join("whole.csv");
    let whole_summary = run_into(&input, &whole_path, None);
    assert!(!whole_summary.interrupted);
    let whole = std::fs::read(&whole_path).unwrap();

    // Cancelled twice, then finished.
    let out = dir.path().join("resumed.csv");
    let first = run_into(&input, &out, Some(300));
    assert!(first.interrupted && first.rows >= 300 && first.rows < 2_020);
    let partial = std::fs::read(&out).unwrap();
    assert!(
        whole.starts_with(&partial),
        "a cancelled run writes a prefix"
    );
    let second = run_into(&input, &out, Some(first.rows + 700));
    assert!(second.interrupted);
    assert_eq!(second.skipped, first.rows);
    let last = run_into(&input, &out, None);
    assert!(!last.interrupted);
    assert_eq!(first.rows + second.rows + last.rows, 2_020);
    assert!(
        std::fs::read(&out).unwrap() == whole,
        "resumed output differs"
    );

    // A kill that cut the output mid-row (and mid-character): resume repairs the last line.
    for cut in [whole.len() / 3, whole.len() / 2 + 1, whole.len() - 2] {
        let out = dir.path().join(format!("cut{cut}.csv"));
        std::fs::write(&out, &whole[..cut]).unwrap();
        let done = run_into(&input, &out, None);
        assert!(done.skipped > 0 && !done.interrupted);
        assert!(
            std::fs::read(&out).unwrap() == whole,
            "cut at {cut}: differs"
        );
    }
}

#[test]
fn a_missing_column_is_a_usage_error_before_any_output() {
    let dir = tempfile::tempdir().unwrap();
    let input = tmp_file(dir.path(), "in.csv", "id,name\n1,x\n".as_bytes());
    let e = batch::inspect(&input, &BatchOptions::default()).unwrap_err();
    assert!(e.is_usage(), "{e}");
    let options = BatchOptions {
        columns: vec![batch::ColumnRef::Name("地址".into())],
        ..BatchOptions::default()
    };
    assert!(batch::inspect(&input, &options).unwrap_err().is_usage());
}

#[test]
fn tsv_and_joined_columns() {
    let dir = tempfile::tempdir().unwrap();
    let a = good_address(1);
    let (head, tail) = a.split_at(a.find("镇").map_or(0, |i| i + "镇".len()));
    let input = tmp_file(
        dir.path(),
        "in.tsv",
        format!("区镇\t门牌\n{head}\t{tail}\n").as_bytes(),
    );
    let options = BatchOptions {
        columns: vec![
            batch::ColumnRef::Name("区镇".into()),
            batch::ColumnRef::Index(1),
        ],
        ..BatchOptions::default()
    };
    let (out, summary) = run_file(&input, &options);
    assert_eq!(summary.address_columns, ["区镇", "门牌"]);
    let rows = csv_rows(&out);
    assert_eq!(rows[1][..2], [head, tail]);
    assert_eq!(rows[1][status_col(2)], "ok");
}
