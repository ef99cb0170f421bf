//! Batch jobs over HTTP against a real server: uploads (UTF-8 and GBK CSV, XLSX) run to done and
//! give one result row per input row, in order; inspect; every 4xx path; privacy of jobs; a job
//! that was running when the server stopped is resumed, one stopped too often is failed.

use std::io::Cursor;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use calamine::Reader;
use dizhi::api::Config;
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use super::{
    CONFIG_KEYS, DATA, OPEN, RT, Reply, Server, fixture, key, key_entries, start, start_with_state,
};
use dizhi::api::AppState;
use dizhi::api::auth::Role;

/// Small limits so that the 413 paths are cheap: 256 KiB uploads, 6,000 rows.
const UPLOAD_LIMIT: usize = 256 * 1024;
const ROW_LIMIT: u64 = 6000;

/// A server with keys, anonymous lookups and a jobs directory of its own, shared by the tests
/// that look only at their own jobs.
static JOBS: LazyLock<Server> = LazyLock::new(|| {
    LazyLock::force(&OPEN);
    start(Some(config(JOBS_DIR.path().to_path_buf())))
});

static JOBS_DIR: LazyLock<tempfile::TempDir> = LazyLock::new(|| tempfile::tempdir().unwrap());

/// A server like [`JOBS`] with a jobs directory for one test (which counts what is in it), and
/// its state.
fn own_server() -> (Server, AppState, tempfile::TempDir) {
    LazyLock::force(&OPEN);
    let dir = tempfile::tempdir().unwrap();
    let (server, state) = start_with_state(DATA.path(), Some(config(dir.path().to_path_buf())));
    (server, state, dir)
}

fn config(jobs: std::path::PathBuf) -> Config {
    let mut config: Config = toml::from_str(&format!(
        "anonymous_lookups = true\n[jobs]\nmax_upload_bytes = {UPLOAD_LIMIT}\nmax_rows = {ROW_LIMIT}\n"
    ))
    .unwrap();
    config.jobs.dir = Some(jobs);
    config.keys = key_entries(&CONFIG_KEYS);
    config
}

/// `n` fixture addresses that have a building (they normalize to `ok`).
fn addresses(n: usize) -> Vec<String> {
    let mut r = csv::Reader::from_path(fixture().join("addresses.csv")).unwrap();
    r.records()
        .map(|r| r.unwrap())
        .filter(|r| !r[14].is_empty() && r[13] == *"residential")
        .step_by(97)
        .take(n)
        .map(|r| r[1].to_string())
        .collect()
}

fn send(
    server: &Server,
    method: Method,
    path: &str,
    key: Option<&str>,
    form: Option<Form>,
) -> Reply {
    let (status, headers, bytes) = send_bytes(server, method, path, key, form);
    Reply {
        status,
        headers,
        text: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn send_bytes(
    server: &Server,
    method: Method,
    path: &str,
    key: Option<&str>,
    form: Option<Form>,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    RT.block_on(async {
        let mut req = reqwest::Client::new().request(method, format!("{}{path}", server.base));
        if let Some(k) = key {
            req = req.header("Authorization", format!("Bearer {k}"));
        }
        if let Some(f) = form {
            req = req.multipart(f);
        }
        let r = req.send().await.expect("the server answers");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        (status, headers, r.bytes().await.unwrap().to_vec())
    })
}

fn file_form(name: &str, bytes: Vec<u8>) -> Form {
    Form::new().part("file", Part::bytes(bytes).file_name(name.to_string()))
}

/// Uploads a job and checks the 202 answer.
fn submit(server: &Server, key: Option<&str>, form: Form) -> Value {
    let r = send(server, Method::POST, "/v1/batch", key, Some(form));
    assert_eq!(r.status, 202, "{}", r.text);
    let job = r.json();
    let id = job["id"].as_str().unwrap();
    assert_eq!(id.len(), 32);
    assert_eq!(r.headers["location"], format!("/v1/batch/{id}").as_str());
    assert!(matches!(job["status"].as_str(), Some("queued" | "running")));
    assert_eq!(job["result"], Value::Null);
    job
}

/// Polls a job until it is done or failed.
fn wait(server: &Server, id: &str, key: Option<&str>) -> Value {
    let started = Instant::now();
    loop {
        let r = send(server, Method::GET, &format!("/v1/batch/{id}"), key, None);
        assert_eq!(r.status, 200, "{}", r.text);
        let job = r.json();
        let done = job["rows_done"].as_u64().unwrap();
        assert!(
            done <= job["rows_total"].as_u64().unwrap_or(u64::MAX),
            "{job}"
        );
        if matches!(job["status"].as_str(), Some("done" | "failed")) {
            return job;
        }
        assert!(started.elapsed() < Duration::from_secs(180), "{job}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn result_csv(
    server: &Server,
    id: &str,
    key: Option<&str>,
) -> (reqwest::header::HeaderMap, Vec<Vec<String>>) {
    let (status, headers, bytes) = send_bytes(
        server,
        Method::GET,
        &format!("/v1/batch/{id}/result"),
        key,
        None,
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    let rows = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes.as_slice())
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    (headers, rows)
}

/// The names in a jobs directory that pass `keep`.
fn entries(dir: &std::path::Path, keep: impl Fn(&str) -> bool) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| keep(n))
        .collect()
}

/// Waits until no upload directory is left in `dir` (a refused upload's is removed on a blocking
/// thread, just after the answer).
fn assert_no_uploads_left(dir: &std::path::Path) {
    wait_until(
        || entries(dir, |n| n.starts_with(".upload-")).is_empty(),
        "uploads left in the jobs dir",
    );
}

/// Waits (up to 30 s) until `done` holds.
fn wait_until(done: impl Fn() -> bool, what: &str) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < Duration::from_secs(30), "{what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The jobs in `dir`.
fn jobs_in(dir: &std::path::Path) -> Vec<String> {
    entries(dir, dizhi::api::jobs::valid_id)
}

fn col(header: &[String], name: &str) -> usize {
    header.iter().position(|h| h == name).unwrap()
}

#[test]
fn a_utf8_csv_job_keeps_every_row_in_order_with_its_status() {
    let a = addresses(3);
    let input = format!(
        "编号,联系地址,备注\n1,{},甲\n2,,空地址\n3,{},乙\n4,华腾路,多,出,两列\n5,上海市浦东新区张江镇,区外\n6,{},丙\n",
        a[0], a[1], a[2]
    );
    let job = submit(&JOBS, None, file_form("工单 11月.csv", input.into_bytes()));
    assert_eq!(job["column"], "联系地址");
    assert_eq!(job["file_name"], "工单 11月.csv");
    assert_eq!(job["format"], "csv");
    assert_eq!(job["rows_total"], 6);
    let id = job["id"].as_str().unwrap();
    let job = wait(&JOBS, id, None);
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(job["rows_done"], 6);
    assert_eq!(
        job["counts"],
        json!({"ok": 3, "partial": 1, "not_found": 0, "error": 2})
    );
    assert_eq!(job["result"], format!("/v1/batch/{id}/result"));
    assert!(job["finished_at"].as_str().unwrap().ends_with('Z'));

    let (headers, rows) = result_csv(&JOBS, id, None);
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(
        disposition.contains("filename*=UTF-8''%E5%B7%A5%E5%8D%95%2011%E6%9C%88-dizhi.csv"),
        "{disposition}"
    );
    let header = &rows[0];
    assert_eq!(header[..3], ["编号", "联系地址", "备注"]);
    assert_eq!(header.len(), 3 + dizhi::batch::COLUMNS.len());
    assert_eq!(rows.len(), 7, "one output row per input row");
    let ids: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(ids, ["1", "2", "3", "4", "5", "6"]);
    let (status, note) = (col(header, "dizhi_status"), col(header, "dizhi_note"));
    let statuses: Vec<&str> = rows[1..].iter().map(|r| r[status].as_str()).collect();
    assert_eq!(statuses, ["ok", "error", "ok", "error", "partial", "ok"]);
    assert_eq!(rows[2][note], "empty address");
    assert!(
        rows[4][note].contains("5 fields, expected 3"),
        "{}",
        rows[4][note]
    );
    assert_eq!(
        rows[4][1], "华腾路",
        "a malformed row stays in place with its fields"
    );
    assert_eq!(rows[1][col(header, "dizhi_address")], a[0]);
    assert_eq!(rows[6][col(header, "dizhi_address")], a[2]);
}

#[test]
fn a_gbk_csv_with_the_column_by_index() {
    let a = addresses(2);
    let text = format!("序号\t门牌\n1\t{}\n2\t{}\n", a[0], a[1]);
    let (gbk, _, _) = encoding_rs::GBK.encode(&text);
    let form = file_form("门牌.txt", gbk.into_owned()).text("column", "2");
    let job = submit(&JOBS, Some(key(Role::Hotline)), form);
    assert_eq!(job["column"], "门牌");
    let id = job["id"].as_str().unwrap();
    let job = wait(&JOBS, id, Some(key(Role::Hotline)));
    assert_eq!(job["counts"]["ok"], 2, "{job}");
    let (_, rows) = result_csv(&JOBS, id, Some(key(Role::Hotline)));
    assert_eq!(rows[0][..2], ["序号", "门牌"]);
    assert_eq!(rows[1][1], a[0], "decoded from GBK, written as UTF-8");
    assert_eq!(rows[2][col(&rows[0], "dizhi_address")], a[1]);
}

fn workbook(sheets: &[(&str, Vec<Vec<String>>)]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    for (name, rows) in sheets {
        let sheet = book.add_worksheet();
        sheet.set_name(*name).unwrap();
        for (r, row) in rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                sheet.write_string(r as u32, c as u16, cell).unwrap();
            }
        }
    }
    book.save_to_buffer().unwrap()
}

fn strings(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|s| s.to_string()).collect()
}

#[test]
fn an_xlsx_upload_gives_an_xlsx_result() {
    let a = addresses(2);
    let bytes = workbook(&[
        ("说明", vec![strings(&["这一页不是数据"])]),
        (
            "工单",
            vec![
                strings(&["工单号", "地址"]),
                strings(&["W1", &a[0]]),
                strings(&["W2", ""]),
                strings(&["W3", &a[1]]),
            ],
        ),
    ]);
    let form = file_form("工单.xlsx", bytes)
        .text("sheet", "工单")
        .text("format", "xlsx");
    let job = submit(&JOBS, None, form);
    assert_eq!(
        (job["format"].clone(), job["rows_total"].clone()),
        (json!("xlsx"), json!(3))
    );
    let id = job["id"].as_str().unwrap();
    let job = wait(&JOBS, id, None);
    assert_eq!(
        job["counts"],
        json!({"ok": 2, "partial": 0, "not_found": 0, "error": 1}),
        "{job}"
    );
    let (status, headers, body) = send_bytes(
        &JOBS,
        Method::GET,
        &format!("/v1/batch/{id}/result"),
        None,
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(
        headers["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap()
            .ends_with("-dizhi.xlsx")
    );
    let mut book = calamine::Xlsx::new(Cursor::new(body)).unwrap();
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    let cell = |r: usize, c: usize| range.get((r, c)).map(|d| d.to_string()).unwrap_or_default();
    assert_eq!(range.height(), 4);
    assert_eq!(
        (cell(0, 0), cell(0, 1), cell(0, 2)),
        ("工单号".into(), "地址".into(), "dizhi_id".into())
    );
    let status = 2 + 9;
    assert_eq!(cell(0, status), "dizhi_status");
    let rows: Vec<(String, String)> = (1..4).map(|r| (cell(r, 0), cell(r, status))).collect();
    assert_eq!(
        rows,
        [
            ("W1".into(), "ok".into()),
            ("W2".into(), "error".into()),
            ("W3".into(), "ok".into())
        ]
    );
    assert_eq!(cell(3, 3), a[1]);
}

#[test]
fn inspect_shows_columns_the_suggested_one_sheets_and_a_preview() {
    let (server, _state, dir) = own_server();
    let input = "编号,户籍地址,备注\n1,华腾路8号,a\n2,华腾路9号,b\n3,c,\n4,d,\n5,e,\n6,f,\n7,g,\n";
    let r = send(
        &server,
        Method::POST,
        "/v1/batch/inspect",
        None,
        Some(file_form("a.csv", input.into())),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let v = r.json();
    assert_eq!(v["columns"], json!(["编号", "户籍地址", "备注"]));
    assert_eq!(v["suggested_column"], "户籍地址");
    assert_eq!(v["encoding"], "utf-8");
    assert_eq!(v["sheets"], json!([]));
    assert_eq!(v["preview"].as_array().unwrap().len(), 5);
    assert_eq!(v["preview"][1], json!(["2", "华腾路9号", "b"]));

    let (gbk, _, _) = encoding_rs::GBK.encode("名称,位置\n甲,华腾路8号\n");
    let v = send(
        &server,
        Method::POST,
        "/v1/batch/inspect",
        None,
        Some(file_form("b.csv", gbk.into_owned())),
    )
    .json();
    assert_eq!(v["encoding"], "gb18030");
    assert_eq!(v["suggested_column"], Value::Null);
    assert_eq!(v["preview"], json!([["甲", "华腾路8号"]]));

    let bytes = workbook(&[
        ("一", vec![strings(&["x"])]),
        (
            "二",
            vec![strings(&["id", "address"]), strings(&["1", "华腾路8号"])],
        ),
    ]);
    let form = file_form("c.xlsx", bytes).text("sheet", "二");
    let v = send(&server, Method::POST, "/v1/batch/inspect", None, Some(form)).json();
    assert_eq!(v["sheets"], json!(["一", "二"]));
    assert_eq!(v["columns"], json!(["id", "address"]));
    assert_eq!(v["suggested_column"], "address");
    assert_eq!(v["encoding"], "xlsx");
    // A sheet is only for workbooks.
    let form = file_form("d.csv", "地址\nx\n".into()).text("sheet", "一");
    let r = send(&server, Method::POST, "/v1/batch/inspect", None, Some(form));
    r.error(422, "invalid_body");
    assert!(r.text.contains("sheet: only for workbooks"), "{}", r.text);
    // Nothing is kept of an inspection.
    assert_no_uploads_left(dir.path());
    assert_eq!(jobs_in(dir.path()), Vec::<String>::new());
}

#[test]
fn uploads_that_cannot_be_jobs_are_4xx() {
    let (server, _state, dir) = own_server();
    let post = |form: Form| send(&server, Method::POST, "/v1/batch", None, Some(form));
    let csv = |s: &str| file_form("a.csv", s.as_bytes().to_vec());
    post(Form::new().text("column", "地址")).error(422, "invalid_body");
    post(csv("")).error(422, "invalid_body");
    post(csv("编号,备注\n1,x\n")).error(422, "invalid_body");
    let r = post(csv("编号,地址\n1,x\n").text("column", "门牌"));
    r.error(422, "invalid_body");
    assert!(
        r.text.contains("门牌") && r.text.contains("编号, 地址"),
        "{}",
        r.text
    );
    post(csv("编号,地址\n1,x\n").text("column", "9")).error(422, "invalid_body");
    post(csv("地址\nx\n").text("format", "pdf")).error(422, "invalid_body");
    post(csv("地址\nx\n").text("colour", "red")).error(422, "invalid_body");
    post(file_form(
        "a.xlsx",
        b"PK\x03\x04 not really a workbook".to_vec(),
    ))
    .error(422, "invalid_body");
    post(file_form("a.xlsx", workbook(&[("一", vec![strings(&["地址"])])])).text("sheet", "二"))
        .error(422, "invalid_body");
    post(csv("\u{feff}").text("column", "1")).error(422, "invalid_body");
    let r = post(csv("地址\nx\n").text("sheet", "Sheet1"));
    r.error(422, "invalid_body");
    assert!(r.text.contains("sheet: only for workbooks"), "{}", r.text);
    // Binary files are not guessed at; UTF-16 is refused with a reason.
    let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00".to_vec();
    let r = post(file_form("a.png", png));
    r.error(422, "invalid_body");
    assert!(r.text.contains("neither CSV"), "{}", r.text);
    post(file_form("u.csv", vec![0xFF, 0xFE, b'a', 0])).error(422, "invalid_body");
    // Over the size limit, over the row limit.
    let big = format!(
        "地址\n{}",
        "青浦区华新镇华腾路1288弄3号\n".repeat(UPLOAD_LIMIT / 36)
    );
    over_the_size_limit(&server, "/v1/batch", csv(&big));
    let many = format!("地址\n{}", "华腾路8号\n".repeat(ROW_LIMIT as usize + 1));
    post(csv(&many)).error(413, "payload_too_large");
    // Not a form at all.
    let r = send(&server, Method::POST, "/v1/batch", None, None);
    r.error(415, "unsupported_media_type");
    let r = super::post_json(&server, "/v1/batch", None, &json!({"file": "x"}));
    r.error(415, "unsupported_media_type");
    // Nothing is left behind by a refused upload, and no job was made.
    assert_no_uploads_left(dir.path());
    assert_eq!(jobs_in(dir.path()), Vec::<String>::new());
}

/// Posts a form over the upload limit: the server answers 413 from the Content-Length before
/// reading the body, so the client sees either that answer or the connection reset while it
/// still sends. Either way the server serves the next request.
fn over_the_size_limit(server: &Server, path: &str, form: Form) {
    let sent = RT.block_on(async {
        reqwest::Client::new()
            .post(format!("{}{path}", server.base))
            .multipart(form)
            .send()
            .await
    });
    if let Ok(r) = sent {
        let status = r.status().as_u16();
        let text = RT.block_on(r.text()).unwrap_or_default();
        Reply {
            status,
            headers: Default::default(),
            text,
        }
        .error(413, "payload_too_large");
    }
    let form = file_form("a.csv", "地址\nx\n".into());
    let r = send(server, Method::POST, "/v1/batch/inspect", None, Some(form));
    assert_eq!(r.status, 200, "{}", r.text);
}

#[test]
fn a_sparse_workbook_is_refused_and_the_server_goes_on() {
    // Two cells, a few KB: read whole, the sheet would be 17e9 cells between A1 and XFD1048576.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("稀疏").unwrap();
    sheet.write_string(0, 0, "地址").unwrap();
    sheet.write_string(1_048_575, 16_383, "x").unwrap();
    let bytes = book.save_to_buffer().unwrap();
    assert!(bytes.len() < 16 * 1024, "{}", bytes.len());
    let (server, _state, dir) = own_server();
    for path in ["/v1/batch/inspect", "/v1/batch"] {
        let r = send(
            &server,
            Method::POST,
            path,
            None,
            Some(file_form("sparse.xlsx", bytes.clone())),
        );
        r.error(413, "payload_too_large");
        assert!(
            r.text.contains("稀疏") && r.text.contains("1048576 rows × 16384 columns"),
            "{}",
            r.text
        );
    }
    // .xls and .ods would be read whole on open: refused before they are opened.
    let old_formats = [
        (
            "old.xls",
            b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1 sheet".to_vec(),
        ),
        ("sheet.ods", b"PK\x03\x04 content.xml".to_vec()),
    ];
    for (name, bytes) in old_formats {
        for path in ["/v1/batch/inspect", "/v1/batch"] {
            let r = send(
                &server,
                Method::POST,
                path,
                None,
                Some(file_form(name, bytes.clone())),
            );
            r.error(422, "invalid_body");
            assert!(
                r.text.contains("only .xlsx and .xlsb"),
                "{name}: {}",
                r.text
            );
        }
    }
    let small = workbook(&[("一", vec![strings(&["地址"]), strings(&["华腾路8号"])])]);
    let r = send(
        &server,
        Method::POST,
        "/v1/batch/inspect",
        None,
        Some(file_form("small.xlsx", small)),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_no_uploads_left(dir.path());
    assert_eq!(jobs_in(dir.path()), Vec::<String>::new());
}

#[test]
fn jobs_are_private_ids_are_checked_and_results_wait_for_done() {
    // Queued jobs are held, so that both stay queued until the test lets them run.
    let (server, state, dir) = own_server();
    state.jobs.hold();
    let hotline = Some(key(Role::Hotline));
    let gis = Some(key(Role::Gis));
    let a = addresses(1);
    let rows = format!("地址\n{}", format!("{}\n", a[0]).repeat(3000));
    let first = submit(
        &server,
        hotline,
        file_form("big.csv", rows.clone().into_bytes()),
    );
    let second = submit(&server, hotline, file_form("big2.csv", rows.into_bytes()));
    assert_eq!(
        (first["status"].clone(), second["status"].clone()),
        (json!("queued"), json!("queued"))
    );
    let (first, second) = (
        first["id"].as_str().unwrap(),
        second["id"].as_str().unwrap(),
    );
    // The second waits: its result is not ready.
    let r = send(
        &server,
        Method::GET,
        &format!("/v1/batch/{second}/result"),
        hotline,
        None,
    );
    r.error(409, "conflict");
    // Another key, or no key, does not see the job at all.
    for other in [gis, None] {
        send(
            &server,
            Method::GET,
            &format!("/v1/batch/{first}"),
            other,
            None,
        )
        .error(404, "not_found");
        send(
            &server,
            Method::GET,
            &format!("/v1/batch/{first}/result"),
            other,
            None,
        )
        .error(404, "not_found");
        send(
            &server,
            Method::DELETE,
            &format!("/v1/batch/{first}"),
            other,
            None,
        )
        .error(404, "not_found");
    }
    // Unknown and malformed ids.
    let unknown = "0123456789abcdef0123456789abcdef";
    send(
        &server,
        Method::GET,
        &format!("/v1/batch/{unknown}"),
        hotline,
        None,
    )
    .error(404, "not_found");
    send(
        &server,
        Method::GET,
        &format!("/v1/batch/{unknown}/result"),
        None,
        None,
    )
    .error(404, "not_found");
    send(
        &server,
        Method::GET,
        "/v1/batch/..%2F..%2Fetc",
        hotline,
        None,
    )
    .error(400, "bad_request");
    send(&server, Method::GET, "/v1/batch/XYZ/result", hotline, None).error(400, "bad_request");
    send(&server, Method::PUT, "/v1/batch", hotline, None).error(405, "method_not_allowed");
    // A bad key is refused even though anonymous callers are allowed.
    send(
        &server,
        Method::GET,
        &format!("/v1/batch/{first}"),
        Some("dzk_x_y"),
        None,
    )
    .error(401, "unauthorized");
    // Removing the waiting one: gone, and its files too.
    let r = send(
        &server,
        Method::DELETE,
        &format!("/v1/batch/{second}"),
        hotline,
        None,
    );
    assert_eq!(r.status, 204, "{}", r.text);
    send(
        &server,
        Method::GET,
        &format!("/v1/batch/{second}"),
        hotline,
        None,
    )
    .error(404, "not_found");
    assert!(!dir.path().join(second).exists());
    dizhi::api::jobs::Jobs::release(&state);
    let done = wait(&server, first, hotline);
    assert_eq!(
        (done["status"].clone(), done["rows_done"].clone()),
        (json!("done"), json!(3000))
    );
    assert_eq!(done["counts"]["ok"], 3000);
    let r = send(
        &server,
        Method::DELETE,
        &format!("/v1/batch/{first}"),
        hotline,
        None,
    );
    assert_eq!(r.status, 204);
    assert!(!dir.path().join(first).exists());
}

#[test]
fn a_job_running_when_the_server_stopped_is_resumed_and_one_stopped_too_often_fails() {
    // The shared data directory with its admin key made (by the open server), as own_server() does.
    LazyLock::force(&OPEN);
    let dir = tempfile::tempdir().unwrap();
    let a = addresses(4);
    let header: Vec<String> = ["编号".to_string(), "地址".to_string()]
        .into_iter()
        .chain(dizhi::batch::COLUMNS.iter().map(|c| c.to_string()))
        .collect();
    let mut input = String::from("编号,地址\n");
    for (i, addr) in a.iter().enumerate() {
        input.push_str(&format!("{},{addr}\n", i + 1));
    }
    // Two complete rows from "the first run" (marked in their notes), then a row cut by the kill.
    let mut partial = header.join(",") + "\n";
    for (i, addr) in a.iter().take(2).enumerate() {
        let mut cells = vec![(i + 1).to_string(), addr.clone()];
        cells.extend(std::iter::repeat_n(String::new(), 9));
        cells.extend(["ok".to_string(), "first run".to_string()]);
        assert_eq!(cells.len(), header.len());
        partial.push_str(&(cells.join(",") + "\n"));
    }
    partial.push_str("3,青浦区");
    let record = |id: &str, attempts: u32| {
        json!({"id": id, "owner": null, "status": "running", "file_name": "x.csv", "input": "input.csv",
            "delimiter": b',', "sheet": null, "column": "地址", "column_index": 1, "format": "csv",
            "rows_done": 2, "rows_total": 4, "counts": {"ok": 0, "partial": 0, "not_found": 0, "error": 0},
            "created": 1_700_000_000u64, "finished": null, "error": null, "attempts": attempts})
    };
    let resumed = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let gave_up = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    for (id, attempts) in [(resumed, 1), (gave_up, 3)] {
        let job = dir.path().join(id);
        std::fs::create_dir_all(&job).unwrap();
        std::fs::write(job.join("input.csv"), &input).unwrap();
        std::fs::write(job.join("result.csv"), &partial).unwrap();
        std::fs::write(job.join("status.json"), record(id, attempts).to_string()).unwrap();
    }
    // A cut upload is cleaned away.
    std::fs::create_dir_all(dir.path().join(".upload-x")).unwrap();
    // A status from an older server (no attempts, no counts) is read; one that cannot be read is
    // a failed job when its input is there, a half-made job (removed) when it is not.
    let older = "cccccccccccccccccccccccccccccccc";
    let mut status = record(older, 0);
    status["status"] = json!("done");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    status["finished"] = json!(now.unwrap().as_secs());
    let fields = status.as_object_mut().unwrap();
    fields.remove("attempts");
    fields.remove("counts");
    let (damaged, half_made, damaged_long_ago) = (
        "dddddddddddddddddddddddddddddddd",
        "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
        "ffffffffffffffffffffffffffffffff",
    );
    for (id, status, has_input) in [
        (older, status.to_string(), true),
        (damaged, "{\"id\": \"ddd".to_string(), true),
        (half_made, String::new(), false),
        (damaged_long_ago, "{\"id\": \"fff".to_string(), true),
    ] {
        let job = dir.path().join(id);
        std::fs::create_dir_all(&job).unwrap();
        if has_input {
            std::fs::write(job.join("input.csv"), &input).unwrap();
        }
        std::fs::write(job.join("status.json"), status).unwrap();
    }
    // A damaged status last written two days ago has expired (24 h), however often the server
    // restarts: it ages from when it was written, not from the start that found it.
    std::fs::File::options()
        .write(true)
        .open(dir.path().join(damaged_long_ago).join("status.json"))
        .unwrap()
        .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(2 * 86_400))
        .unwrap();

    let server = start(Some(config(dir.path().to_path_buf())));
    assert!(!dir.path().join(".upload-x").exists());
    assert!(!dir.path().join(half_made).exists());
    wait_until(
        || !dir.path().join(damaged_long_ago).exists(),
        "the expired damaged job is swept",
    );
    let job = send(
        &server,
        Method::GET,
        &format!("/v1/batch/{older}"),
        None,
        None,
    )
    .json();
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(job["counts"]["ok"], 0, "{job}");
    let job = send(
        &server,
        Method::GET,
        &format!("/v1/batch/{damaged}"),
        None,
        None,
    );
    job.error(404, "not_found");
    assert!(
        dir.path().join(damaged).join("input.csv").exists(),
        "kept, not deleted"
    );
    let job = wait(&server, resumed, None);
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(job["rows_done"], 4);
    assert_eq!(job["counts"]["ok"], 4);
    let (_, rows) = result_csv(&server, resumed, None);
    assert_eq!(rows.len(), 5, "{rows:?}");
    let note = col(&rows[0], "dizhi_note");
    let notes: Vec<&str> = rows[1..].iter().map(|r| r[note].as_str()).collect();
    assert_eq!(
        notes[..2],
        ["first run", "first run"],
        "the first run's rows are kept"
    );
    assert_ne!(notes[2], "first run");
    let ids: Vec<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(ids, ["1", "2", "3", "4"]);
    assert_eq!(rows[4][col(&rows[0], "dizhi_address")], a[3]);

    let job = send(
        &server,
        Method::GET,
        &format!("/v1/batch/{gave_up}"),
        None,
        None,
    )
    .json();
    assert_eq!(job["status"], "failed");
    assert_eq!(job["error"]["code"], "interrupted");
    assert!(job["finished_at"].is_string());
    send(
        &server,
        Method::GET,
        &format!("/v1/batch/{gave_up}/result"),
        None,
        None,
    )
    .error(409, "conflict");
}
