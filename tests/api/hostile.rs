//! Hostile files and hostile callers against the real server on 127.0.0.1: each attack is sent as
//! an attacker would, and the server must answer with a clear 4xx (or do the safe thing), stay
//! healthy, and leak nothing — no personal number in its log or its database, nothing outside its
//! data directory.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::json;

use super::{RT, Reply, Server, fixture, get, logs, post_json, request, start_with_state};

/// A data directory of the hostile tests' own, built once from the fixture and never served: each
/// test that writes serves a copy of it.
static PRISTINE: LazyLock<tempfile::TempDir> = LazyLock::new(|| {
    let dir = tempfile::tempdir().unwrap();
    dizhi::store::build(&fixture(), dir.path(), &|_, _, _| {}).unwrap();
    let store = dizhi::store::Store::open(dir.path()).unwrap();
    dizhi::setup::generation::build_paired_index(&store, dir.path()).unwrap();
    dir
});

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A fresh copy of the pristine data directory.
fn own_data() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(PRISTINE.path(), dir.path());
    dir
}

/// A server as `dizhi serve` runs without a config on loopback, on its own data directory.
fn own_server() -> (Server, dizhi::api::AppState, tempfile::TempDir) {
    let data = own_data();
    let (server, state) = start_with_state(data.path(), None);
    (server, state, data)
}

fn healthy(server: &Server) {
    let r = get(server, "/healthz", None);
    assert_eq!(r.status, 200, "{}", r.text);
}

/// An XLSX workbook made by a real writer, then with one of its parts replaced.
fn workbook_with(part: &str, content: &[u8]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "地址").unwrap();
    sheet.write_string(1, 0, "华腾路8号").unwrap();
    let bytes = book.save_to_buffer().unwrap();
    let mut original = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut replaced = false;
    for i in 0..original.len() {
        let mut entry = original.by_index(i).unwrap();
        let name = entry.name().unwrap().to_string();
        out.start_file(name.as_str(), options).unwrap();
        if name == part {
            out.write_all(content).unwrap();
            replaced = true;
        } else {
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            out.write_all(&data).unwrap();
        }
    }
    assert!(replaced, "{part} is not in the workbook");
    out.finish().unwrap().into_inner()
}

/// The 800-byte workbook whose shared strings declare ten trillion entries: calamine reserved
/// memory from that number and aborted the whole server.
fn shared_strings_bomb() -> Vec<u8> {
    workbook_with(
        "xl/sharedStrings.xml",
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="2" uniqueCount="10000000000000"><si><t>地址</t></si><si><t>华腾路8号</t></si></sst>"#
            .as_bytes(),
    )
}

fn upload(server: &Server, path: &str, name: &str, bytes: Vec<u8>) -> Reply {
    RT.block_on(async {
        let form = Form::new().part("file", Part::bytes(bytes).file_name(name.to_string()));
        let r = reqwest::Client::new()
            .post(format!("{}{path}", server.base))
            .multipart(form)
            .send()
            .await
            .expect("the server answers");
        Reply {
            status: r.status().as_u16(),
            headers: r.headers().clone(),
            text: r.text().await.unwrap(),
        }
    })
}

// ---- workbooks -------------------------------------------------------------------------------

#[test]
fn a_shared_strings_bomb_is_refused_with_413_and_the_server_stays_up() {
    let (server, _, _data) = own_server();
    let bomb = shared_strings_bomb();
    assert!(bomb.len() < 8192, "{} bytes", bomb.len());
    for path in ["/v1/batch/inspect", "/v1/batch"] {
        let r = upload(&server, path, "bomb.xlsx", bomb.clone());
        r.error(413, "payload_too_large");
        assert!(r.text.contains("declared shared strings"), "{}", r.text);
        healthy(&server);
    }
    // The same workbook with honest counts is read.
    let honest = workbook_with(
        "xl/sharedStrings.xml",
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="2" uniqueCount="2"><si><t>地址</t></si><si><t>华腾路8号</t></si></sst>"#
            .as_bytes(),
    );
    let r = upload(&server, "/v1/batch/inspect", "ok.xlsx", honest);
    assert_eq!(r.status, 200, "{}", r.text);
}

#[test]
fn a_long_shared_string_in_many_cells_and_a_zip_bomb_are_refused_by_their_budgets() {
    use dizhi::batch::workbook::{BUDGET, Budget, Limit, read_sheet_within};
    let dir = tempfile::tempdir().unwrap();
    // One 64 KiB string named by 2,000 cells: 128 MB of cell text from a file of a few KB.
    let long = "路".repeat(64 * 1024 / 3);
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "地址").unwrap();
    for r in 1..2000 {
        sheet.write_string(r, 0, &long).unwrap();
    }
    let path = dir.path().join("long.xlsx");
    book.save(&path).unwrap();
    assert!(std::fs::metadata(&path).unwrap().len() < 200_000);
    let small = Budget {
        sheet_bytes: 16 << 20,
        ..BUDGET
    };
    let e = read_sheet_within(&path, None, &small)
        .err()
        .expect("refused");
    assert!(
        matches!(
            e,
            dizhi::batch::Error::WorkbookTooLarge {
                limit: Limit::SheetBytes,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("bytes of text in a sheet"), "{e}");
    // A shared-strings part that inflates past its budget.
    let padding = format!(
        r#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>{}</t></si></sst>"#,
        " ".repeat(8 << 20)
    );
    let bomb = dir.path().join("inflate.xlsx");
    std::fs::write(
        &bomb,
        workbook_with("xl/sharedStrings.xml", padding.as_bytes()),
    )
    .unwrap();
    assert!(std::fs::metadata(&bomb).unwrap().len() < 64 * 1024);
    let tight = Budget {
        shared_string_bytes: 1 << 20,
        ..BUDGET
    };
    let e = read_sheet_within(&bomb, None, &tight)
        .err()
        .expect("refused");
    assert!(
        matches!(
            e,
            dizhi::batch::Error::WorkbookTooLarge {
                limit: Limit::SharedStringBytes,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn import_reads_workbooks_through_the_bounded_opener() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = dir.path().join("mp.xlsx");
    std::fs::write(&bomb, shared_strings_bomb()).unwrap();
    let mut store = dizhi::store::Store::open(dir.path().join("data")).unwrap();
    let e = dizhi::fuse::import_file(&mut store, &bomb, "mp", dizhi::fuse::Role::Addresses, &[])
        .expect_err("refused");
    assert!(e.to_string().contains("declared shared strings"), "{e}");
    // An .xls is refused unopened (calamine reads those whole).
    let xls = dir.path().join("old.xls");
    std::fs::write(&xls, b"\xD0\xCF\x11\xE0 not opened").unwrap();
    let e = dizhi::fuse::import_file(&mut store, &xls, "old", dizhi::fuse::Role::Addresses, &[])
        .expect_err("refused");
    assert!(e.to_string().contains("only .xlsx and .xlsb"), "{e}");
}

// ---- personal numbers ------------------------------------------------------------------------

/// How clerks and callers really write phone and ID-card numbers.
pub(crate) fn spellings() -> Vec<String> {
    let mut out: Vec<String> = [
        "13950762184",
        "139 5076 2184",
        "139-5076-2184",
        "139.5076.2184",
        "139　5076　2184",
        "139－5076－2184",
        "139  5076  2184",
        "139 - 5076 - 2184",
        "139·5076·2184",
        "139—5076—2184",
        "139．5076．2184",
        "1395 0762 184",
        "139 50762184",
        "139-5076 2184",
        "１３９５０７６２１８４",
        "１３９　５０７６　２１８４",
        "１３９－５０７６－２１８４",
        "一三九五〇七六二一八四",
        "幺三九五零七六二幺八四",
        "一三九 五〇七六 二一八四",
        "+86 139 5076 2184",
        "+86-13950762184",
        "8613950762184",
        "(86)13950762184",
        "150.2233.4455",
        "186　0021　7788",
        "177 3344 5566",
        "021-5987-1234",
        "021-59871234",
        "(021)59871234",
        "（021）59871234",
        "021 5987 1234",
        "02159871234",
        "０２１－５９８７１２３４",
        "021.5987.1234",
        "〇二一五九八七一二三四",
        "0512-6578 4321",
        "0512　65784321",
        "5987 1234",
        "59871234",
        "5987-1234",
        "310118199001011234",
        "31011819900101123X",
        "31011819900101123x",
        "310118 19900101 1234",
        "310118-19900101-123X",
        "310118 1990 0101 123X",
        "３１０１１８１９９００１０１１２３Ｘ",
        "310118　19900101　1234",
        "310118900101123",
        "三一〇一一八一九九〇〇一〇一一二三四",
        "6222 0212 3456 7890 123",
    ]
    .map(String::from)
    .to_vec();
    out.dedup();
    out
}

/// The spelling's digits as ASCII (`139 5076 2184` → `13950762184`), for a leak written
/// differently from how it came in.
fn digits_of(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            '0'..='9' => Some(c),
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32),
            _ => None,
        })
        .collect()
}

#[test]
fn one_masker_masks_every_spelling_for_the_parser_and_the_text() {
    let corpus = spellings();
    assert!(corpus.len() >= 50, "{}", corpus.len());
    let dicts = dizhi::Dictionaries::embedded().unwrap();
    let parser = dizhi::Parser::new(&dicts);
    for s in &corpus {
        let text = format!("华腾路88号 {s} 张先生");
        let masked = dizhi::text::personal::mask_personal(&text);
        assert!(
            !dizhi::text::personal::has_personal(&masked),
            "{s:?} → {masked:?}"
        );
        assert!(!masked.contains(s.as_str()), "{s:?} → {masked:?}");
        assert!(masked.contains('*'), "{s:?} → {masked:?}");
        assert!(masked.starts_with("华腾路88号 "), "{s:?} → {masked:?}");
        // The parser finds the same number (the bank card aside: not a phone or an ID).
        if !s.starts_with("6222") {
            let p = parser.parse(&text);
            assert!(!p.masked.is_empty(), "the parser missed {s:?}: {p:?}");
            let digits = digits_of(s);
            assert!(
                digits.len() < 7 || p.components.iter().all(|c| !c.text.contains(&digits)),
                "{s:?} became a component: {p:?}"
            );
            assert!(
                p.components.iter().all(|c| p
                    .masked
                    .iter()
                    .all(|m| c.end <= m.start || c.start >= m.end)),
                "{s:?} overlaps a component: {p:?}"
            );
        }
    }
    // Door numbers, postcodes, dates and ranges are not personal.
    for plain in [
        "华腾路1288弄3号502室",
        "邮编201700",
        "2024-01-15 10:30",
        "1-3号",
        "华新镇华腾路8号 201702",
        "东厍村三组12号",
    ] {
        assert_eq!(dizhi::text::personal::mask_personal(plain), plain);
    }
}

/// Every byte the server stored or logged, as text.
fn stored_text(data: &Path) -> String {
    let mut all = logs();
    for entry in walk(data) {
        let name = entry.to_string_lossy();
        if name.contains("/index/") {
            continue;
        }
        if let Ok(bytes) = std::fs::read(&entry) {
            all.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
    all
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn no_spelling_reaches_the_log_or_the_database_through_the_api() {
    let (server, state, data) = own_server();
    let corpus = spellings();
    let admin = server.admin.clone();
    let address = super::an_address().0;
    // An objection per spelling (its note), then comments and status notes on its anomaly.
    let mut anomaly = None;
    for s in &corpus {
        let q = crate::common::enc(&format!("华腾路88号 {s}"));
        let r = get(&server, &format!("/v1/normalize?q={q}"), None);
        assert_eq!(r.status, 200, "{}", r.text);
        let r = post_json(
            &server,
            "/v1/objections",
            Some(&admin),
            &json!({"address_id": address, "note": format!("住户来电 {s} 说门牌错了")}),
        );
        assert!(matches!(r.status, 200 | 201), "{}", r.text);
        let id = r.json()["anomaly"]["id"]
            .as_i64()
            .or_else(|| r.json()["id"].as_i64())
            .expect("anomaly id");
        anomaly = Some(id);
        let r = post_json(
            &server,
            &format!("/v1/anomalies/{id}/comments"),
            Some(&admin),
            &json!({"text": format!("已联系 {s}")}),
        );
        assert_eq!(r.status, 201, "{}", r.text);
        // A key's note is stored too.
        let _ = s;
    }
    let id = anomaly.unwrap();
    for (to, s) in [("confirmed", &corpus[0]), ("resolved", &corpus[41])] {
        let r = post_json(
            &server,
            &format!("/v1/anomalies/{id}/status"),
            Some(&admin),
            &json!({"status": to, "note": format!("回电 {s}")}),
        );
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let r = post_json(
        &server,
        "/v1/admin/keys",
        Some(&admin),
        &json!({"role": "hotline", "note": format!("王科长 {}", corpus[3])}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    // Served back masked.
    let r = get(&server, &format!("/v1/anomalies/{id}"), Some(&admin));
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("***"), "{}", r.text);
    drop(state);
    let stored = stored_text(data.path());
    for s in &corpus {
        assert!(
            !stored.contains(s.as_str()),
            "{s:?} is stored or logged in clear"
        );
        let digits = digits_of(s);
        if digits.len() >= 7 {
            assert!(
                !stored.contains(&digits),
                "{s:?} is stored or logged in clear as {digits}"
            );
        }
    }
}

#[test]
fn imported_free_text_is_masked_and_the_data_columns_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("rx12345.csv");
    let mut text = String::from("工单编号,诉求地址,诉求内容,联系电话,经度,纬度\n");
    for (i, s) in spellings().iter().enumerate() {
        text.push_str(&format!(
            "2024{i:08},华腾路8号 {s},\"来电人 {s} 反映门牌缺失\",{s},121.1234567,31.1234567\n"
        ));
    }
    std::fs::write(&csv_path, text).unwrap();
    let data = dir.path().join("data");
    let mut store = dizhi::store::Store::open(&data).unwrap();
    let report = dizhi::fuse::import_file(
        &mut store,
        &csv_path,
        "rx12345",
        dizhi::fuse::Role::Addresses,
        &[],
    )
    .unwrap();
    assert_eq!(report.records, spellings().len());
    drop(store);
    let stored = stored_text(&data);
    for s in spellings() {
        assert!(!stored.contains(s.as_str()), "{s:?} imported in clear");
    }
    // The record ids and the coordinates are data, kept as they are.
    assert!(stored.contains("202400000007"));
    assert!(stored.contains("121.1234567"));
}

// ---- CSV results -----------------------------------------------------------------------------

#[test]
fn a_csv_result_neutralises_formulas_and_starts_with_a_bom() {
    let data = own_data();
    let jobs = tempfile::tempdir().unwrap();
    let mut config: dizhi::api::Config = toml::from_str("anonymous_lookups = true\n").unwrap();
    config.jobs.dir = Some(jobs.path().to_path_buf());
    let (server, _) = start_with_state(data.path(), Some(config));
    let input = "地址,备注\n华腾路8号,\"=HYPERLINK(\"\"http://evil.example/\"\",\"\"点此\"\")\"\n@SUM(A1),+1+cmd|' /C calc'!A0\n-12.5,\tTAB\n";
    let r = upload(&server, "/v1/batch", "in.csv", input.as_bytes().to_vec());
    assert_eq!(r.status, 202, "{}", r.text);
    let id = r.json()["id"].as_str().unwrap().to_string();
    let started = Instant::now();
    loop {
        let r = get(&server, &format!("/v1/batch/{id}"), None);
        if r.json()["status"] == "done" {
            break;
        }
        assert_ne!(r.json()["status"], "failed", "{}", r.text);
        assert!(started.elapsed() < Duration::from_secs(120));
        std::thread::sleep(Duration::from_millis(50));
    }
    let bytes = RT.block_on(async {
        reqwest::get(format!("{}/v1/batch/{id}/result", server.base))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            .to_vec()
    });
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "no BOM");
    let rows: Vec<Vec<String>> = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&bytes[3..])
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    assert_eq!(rows[0][0], "地址");
    for row in &rows[1..] {
        for cell in &row[..2] {
            let risky = cell.starts_with(['=', '+', '@', '\t', '\r'])
                || (cell.starts_with('-') && cell.parse::<f64>().is_err());
            assert!(!risky, "a live formula in the result: {cell:?}");
        }
    }
    assert_eq!(rows[1][1], "'=HYPERLINK(\"http://evil.example/\",\"点此\")");
    assert_eq!(rows[2][0], "'@SUM(A1)");
    assert_eq!(rows[3][0], "-12.5");
}

// ---- callers ---------------------------------------------------------------------------------

/// One raw HTTP/1.1 exchange (what a browser after DNS rebinding, a proxy or a slow-loris sends).
fn raw(server: &Server, request: &str) -> String {
    let addr = server.base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn status_of(response: &str) -> u16 {
    response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[test]
fn anonymous_lookups_need_a_loopback_host_and_no_proxy() {
    let (server, _, _data) = own_server();
    let lookup = "/v1/normalize?q=%E5%8D%8E%E8%85%BE%E8%B7%AF8%E5%8F%B7";
    let send = |host: &str, extra: &str| {
        raw(
            &server,
            &format!("GET {lookup} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n"),
        )
    };
    let port = server.base.rsplit(':').next().unwrap().to_string();
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        "[::1]".to_string(),
    ] {
        assert_eq!(status_of(&send(&host, "")), 200, "{host}");
    }
    // DNS rebinding: a page of evil.example whose name now points at 127.0.0.1.
    for host in [
        format!("evil.example:{port}"),
        "127.0.0.1.evil.example".to_string(),
        "".to_string(),
    ] {
        let r = send(&host, "");
        assert_eq!(status_of(&r), 403, "{host}: {r}");
        assert!(r.contains("loopback host"), "{r}");
    }
    // A reverse proxy on this machine: its callers are not local.
    let r = send(
        &format!("127.0.0.1:{port}"),
        "X-Forwarded-For: 203.0.113.9\r\n",
    );
    assert_eq!(status_of(&r), 401, "{r}");
    let r = send(
        &format!("127.0.0.1:{port}"),
        "Forwarded: for=203.0.113.9\r\n",
    );
    assert_eq!(status_of(&r), 401, "{r}");
    // With a key, a proxied caller is served.
    let r = send(
        &format!("127.0.0.1:{port}"),
        &format!(
            "X-Forwarded-For: 203.0.113.9\r\nAuthorization: Bearer {}\r\n",
            server.admin
        ),
    );
    assert_eq!(status_of(&r), 200, "{r}");
    healthy(&server);
}

#[test]
fn a_slow_loris_is_cut_off_and_the_server_keeps_answering() {
    let (server, _, _data) = own_server();
    let addr = server.base.trim_start_matches("http://").to_string();
    let started = Instant::now();
    let mut slow = TcpStream::connect(&addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(40)))
        .unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        .unwrap();
    // A header a second, never the blank line.
    let drip = std::thread::spawn({
        let mut slow = slow.try_clone().unwrap();
        move || {
            for i in 0..40 {
                std::thread::sleep(Duration::from_secs(1));
                if slow
                    .write_all(format!("X-Drip-{i}: 1\r\n").as_bytes())
                    .is_err()
                {
                    return;
                }
            }
        }
    });
    healthy(&server);
    let mut out = Vec::new();
    let _ = slow.read_to_end(&mut out);
    let waited = started.elapsed();
    assert!(
        waited < Duration::from_secs(25),
        "the connection was held {waited:?}"
    );
    drop(drip);
    healthy(&server);
}

#[test]
fn readyz_answers_while_every_pool_connection_is_busy() {
    let (server, state, _data) = own_server();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
    let release = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Hold every connection of the pool.
    let holders: Vec<_> = (0..32)
        .map(|_| {
            let state = state.clone();
            let release = release.clone();
            std::thread::spawn(move || {
                state.stores.with(|_| {
                    while !release.load(std::sync::atomic::Ordering::Relaxed) {
                        std::thread::sleep(Duration::from_millis(10));
                    }
                })
            })
        })
        .collect();
    let _ = barrier;
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let r = get(&server, "/readyz", None);
    let took = started.elapsed();
    release.store(true, std::sync::atomic::Ordering::Relaxed);
    for h in holders {
        h.join().unwrap();
    }
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(took < Duration::from_secs(2), "/readyz waited {took:?}");
}

#[test]
fn an_export_never_writes_where_a_request_id_points() {
    let (server, _, data) = own_server();
    // What a local attacker plants where the old export wrote: a link to a directory of theirs.
    let victim = tempfile::tempdir().unwrap();
    let id = "hostile-export-0001";
    let planted = std::env::temp_dir().join(format!(
        "dizhi-export-{}-{}",
        std::process::id(),
        id.replace(|c: char| !c.is_ascii_alphanumeric(), "")
    ));
    let _ = std::fs::remove_file(&planted);
    std::os::unix::fs::symlink(victim.path(), &planted).unwrap();
    let (status, bytes) = RT.block_on(async {
        let r = reqwest::Client::new()
            .get(format!(
                "{}/v1/export/buildings?format=geojson",
                server.base
            ))
            .header("x-request-id", id)
            .header("Authorization", format!("Bearer {}", server.admin))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.bytes().await.unwrap())
    });
    let _ = std::fs::remove_file(&planted);
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert!(v["features"].as_array().unwrap().len() > 1000);
    assert_eq!(
        std::fs::read_dir(victim.path()).unwrap().count(),
        0,
        "the export wrote through the planted link"
    );
    // Its scratch space is the data directory's own, private and empty afterwards.
    let tmp = data.path().join("tmp");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&tmp).unwrap().permissions().mode() & 0o777,
        0o700
    );
    assert_eq!(std::fs::read_dir(&tmp).unwrap().count(), 0);
}

#[test]
fn a_revocation_that_cannot_be_saved_does_not_take_effect() {
    let (server, _, data) = own_server();
    let r = post_json(
        &server,
        "/v1/admin/keys",
        Some(&server.admin),
        &json!({"role": "hotline", "id": "desk-7"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let key = r.json()["key"].as_str().unwrap().to_string();
    // The key file cannot be replaced (a directory stands where it goes).
    let file = data.path().join(dizhi::api::auth::KEYS_FILE);
    std::fs::remove_file(&file).unwrap();
    std::fs::create_dir(&file).unwrap();
    std::fs::write(file.join("blocker"), "x").unwrap();
    let r = request(
        &server,
        Method::DELETE,
        "/v1/admin/keys/desk-7",
        Some(&server.admin),
        None,
    );
    assert_eq!(r.status, 500, "{}", r.text);
    // Not saved, so not revoked: the key still works (and would after a restart).
    let r = get(&server, "/v1/admin/keys", Some(&server.admin));
    assert!(r.text.contains("desk-7"), "{}", r.text);
    let r = get(&server, "/v1/normalize?q=x", Some(&key));
    assert_eq!(r.status, 200, "{}", r.text);
    std::fs::remove_dir_all(&file).unwrap();
    let r = request(
        &server,
        Method::DELETE,
        "/v1/admin/keys/desk-7",
        Some(&server.admin),
        None,
    );
    assert_eq!(r.status, 204, "{}", r.text);
    let r = get(&server, "/v1/normalize?q=x", Some(&key));
    assert_eq!(r.status, 401, "{}", r.text);
}

#[test]
fn the_data_dir_the_keys_and_the_jobs_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let data = own_data();
    // World-readable as a copy or an old version left them.
    for p in [data.path().to_path_buf(), data.path().join("dizhi.sqlite")] {
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let (server, _) = start_with_state(data.path(), None);
    let r = upload(
        &server,
        "/v1/batch",
        "in.csv",
        "地址\n华腾路8号\n".as_bytes().to_vec(),
    );
    assert_eq!(r.status, 202, "{}", r.text);
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(data.path()), 0o700);
    for entry in walk(data.path()) {
        let name = entry.to_string_lossy().into_owned();
        if name.contains("/index/") {
            continue;
        }
        // The batch job runs on while the tree is walked: a file it has since removed (a
        // journal, a finished part) has no mode to hold.
        if !entry.exists() {
            continue;
        }
        assert_eq!(mode(&entry) & 0o077, 0, "{name} is {:o}", mode(&entry));
        let parent = entry.parent().unwrap();
        if !parent.to_string_lossy().contains("/index") {
            assert_eq!(mode(parent) & 0o077, 0, "{}", parent.display());
        }
    }
    assert_eq!(
        mode(&data.path().join(dizhi::api::auth::ADMIN_KEY_FILE)),
        0o600
    );
}

// ---- builds ----------------------------------------------------------------------------------

#[test]
fn a_store_and_an_index_of_two_builds_are_told_apart_and_repaired() {
    use dizhi::setup::generation::{Pairing, pairing};
    let data = own_data();
    {
        let store = dizhi::store::Store::open(data.path()).unwrap();
        assert_eq!(pairing(&store, data.path()).unwrap(), Pairing::Paired);
    }
    // A build killed after the store was renamed into place, before the index was: a stale
    // temporary file of a dead process, a new store and the old index.
    let stale = data.path().join(".dizhi.sqlite.build-4000000");
    std::fs::write(&stale, "left by a killed build").unwrap();
    dizhi::store::build(&fixture(), data.path(), &|_, _, _| {}).unwrap();
    assert!(!stale.exists(), "a stale build file is left");
    {
        let store = dizhi::store::Store::open(data.path()).unwrap();
        assert!(matches!(
            pairing(&store, data.path()).unwrap(),
            Pairing::Mismatch { .. }
        ));
    }
    // The server notices and rebuilds the index from the store before it serves.
    let (server, _) = start_with_state(data.path(), None);
    let store = dizhi::store::Store::open(data.path()).unwrap();
    assert_eq!(pairing(&store, data.path()).unwrap(), Pairing::Paired);
    let (_, address, ..) = super::an_address();
    let r = get(
        &server,
        &format!("/v1/normalize?q={}", crate::common::enc(&address)),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text);
}
