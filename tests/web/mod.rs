//! The web page end to end: the real server on 127.0.0.1 (the fixture district) and a real
//! headless Chromium driven over W3C WebDriver ([`webdriver`]): type an address key by key and
//! pick a suggestion, see the building highlighted on the map; click the map and see the reverse
//! lookup; upload a CSV and download its result; search by keyboard alone. The main states are
//! saved as 1366×768 screenshots in `docs/screenshots/` (shown in the README).
//!
//! Without `chromium` and `chromedriver` these tests fail and say how to install them;
//! `DIZHI_SKIP_BROWSER_TESTS=1` skips them (see the README).

mod steward;
mod webdriver;

use std::path::PathBuf;
use std::sync::{LazyLock, Mutex, MutexGuard};
use std::time::Duration;

use dizhi::api::AppState;
use serde_json::{Value, json};
use webdriver::{Browser, Element};

use crate::common::{RT, enc, fixture_data, serve_on_loopback};

/// `dizhi serve` as it runs without a config on loopback: lookups need no key.
static BASE: LazyLock<String> = LazyLock::new(|| {
    let (state, _) = AppState::build(fixture_data(), None, true).unwrap();
    let addr = serve_on_loopback(state);
    format!("http://{addr}")
});

/// One browser at a time: the machine has two cores.
static ONE_BROWSER: Mutex<()> = Mutex::new(());

/// A browser for one test, or `None` when the tests are explicitly skipped.
fn browser() -> Option<(MutexGuard<'static, ()>, Browser)> {
    if std::env::var(webdriver::SKIP_ENV).is_ok_and(|v| v == "1") {
        eprintln!("{}=1: browser test skipped", webdriver::SKIP_ENV);
        return None;
    }
    LazyLock::force(&BASE);
    let guard = ONE_BROWSER.lock().unwrap_or_else(|p| p.into_inner());
    Some((guard, Browser::start()))
}

fn screenshot_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("docs/screenshots")
        .join(name)
}

/// GET a path of the server: (status, headers, body).
fn http_get(path: &str, headers: &[(&str, &str)]) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    // The server starts (on RT) before this blocks on RT.
    let url = format!("{}{path}", *BASE);
    RT.block_on(async {
        let mut req = reqwest::Client::new().get(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        (status, headers, r.bytes().await.unwrap().to_vec())
    })
}

fn get_json(path: &str) -> Value {
    let (status, _, body) = http_get(path, &[]);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(status, 200, "{path}: {v}");
    v
}

/// Waits until the element's attribute has a non-empty value, and returns it.
fn wait_attr(b: &Browser, css: &str, attr: &str) -> String {
    b.wait(&format!("{css}[{attr}]"), || {
        let v = b.exec(
            "const e = document.querySelector(arguments[0]); return e ? e.getAttribute(arguments[1]) : null;",
            json!([css, attr]),
        );
        v.as_str().filter(|s| !s.is_empty()).map(str::to_string)
    })
}

fn wait_text(b: &Browser, css: &str, what: impl Fn(&str) -> bool) -> String {
    b.wait(&format!("the text of {css}"), || {
        let t = b
            .exec(
                "const e = document.querySelector(arguments[0]); return e && e.offsetParent !== null ? e.innerText : null;",
                json!([css]),
            )
            .as_str()
            .map(str::to_string)?;
        what(&t).then_some(t)
    })
}

/// The levels of the highlighted spans in the result.
fn span_levels(b: &Browser) -> Vec<String> {
    let v = b.exec(
        "return [...document.querySelectorAll('#spans mark')].map(m => m.dataset.level);",
        json!([]),
    );
    serde_json::from_value(v).unwrap()
}

/// The page has no horizontal scroll at 1366×768.
fn assert_fits(b: &Browser) {
    let v = b.exec(
        "return [document.documentElement.scrollWidth, document.documentElement.clientWidth, window.innerWidth, window.innerHeight];",
        json!([]),
    );
    let a: Vec<i64> = serde_json::from_value(v).unwrap();
    assert_eq!(
        (a[2], a[3]),
        (webdriver::WIDTH as i64, webdriver::HEIGHT as i64),
        "viewport"
    );
    assert!(a[0] <= a[1], "horizontal scroll: {a:?}");
}

const ARROW_DOWN: &str = "\u{E015}";
const ENTER: &str = "\u{E007}";
const TAB: &str = "\u{E004}";
const ESCAPE: &str = "\u{E00C}";
const CONTROL: &str = "\u{E009}";

// ---- without a browser: what the page is served with ---------------------------------------

#[test]
fn the_page_and_its_assets_are_served_with_types_csp_and_etags() {
    for (path, ty) in [
        ("/", "text/html"),
        ("/assets/app.js", "text/javascript"),
        ("/assets/style.css", "text/css"),
    ] {
        let (status, headers, body) = http_get(path, &[]);
        assert_eq!(status, 200, "{path}");
        let h = |k: &str| headers[k].to_str().unwrap().to_string();
        assert!(h("content-type").starts_with(ty), "{path}");
        assert_eq!(h("cache-control"), "no-cache");
        let csp = h("content-security-policy");
        assert!(csp.contains("default-src 'none'") && csp.contains("connect-src 'self'"));
        assert!(!csp.contains("http") && !csp.contains('*'));
        // Revalidation: the same ETag answers 304 with no body.
        let etag = h("etag");
        let (status, _, body304) = http_get(path, &[("if-none-match", &etag)]);
        assert_eq!((status, body304.len()), (304, 0), "{path}");
        let text = String::from_utf8(body).unwrap();
        assert!(!text.contains("http://") && !text.contains("https://"));
    }
    // No key is needed for the page even when lookups need one; unknown assets are 404s.
    let (status, _, _) = http_get("/assets/nothing.js", &[]);
    assert_eq!(status, 404);
}

#[test]
fn the_map_view_gives_labelled_buildings_and_named_roads_in_a_small_box() {
    // Around 淀山湖大道468弄 (A00000001, in building B00000002).
    let m = get_json("/v1/map?bbox=121.040,31.099,121.048,31.105");
    let buildings = m["buildings"]["features"].as_array().unwrap();
    let b = buildings
        .iter()
        .find(|f| f["id"] == "B00000002")
        .expect("the building of A00000001");
    assert_eq!(b["geometry"]["type"], "Polygon");
    assert_eq!(
        b["properties"]["address"],
        "青浦区朱家角镇淀山湖大道468弄1号"
    );
    assert!(b["properties"]["address_count"].as_u64().unwrap() >= 1);
    let roads = m["roads"]["features"].as_array().unwrap();
    assert!(
        roads
            .iter()
            .any(|r| r["properties"]["name"] == "淀山湖大道"),
        "{roads:?}"
    );
    assert!(roads.iter().all(|r| {
        r["geometry"]["type"]
            .as_str()
            .unwrap()
            .ends_with("LineString")
    }));
    assert_eq!(m["truncated"], false);
    // In GCJ-02 the same box (shifted) finds the same building, drawn in GCJ-02.
    let (x0, y0) = dizhi::spatial::crs::wgs84_to_gcj02(121.040, 31.099);
    let (x1, y1) = dizhi::spatial::crs::wgs84_to_gcj02(121.048, 31.105);
    let g = get_json(&format!(
        "/v1/map?bbox={x0:.6},{y0:.6},{x1:.6},{y1:.6}&crs=gcj02"
    ));
    assert_eq!(g["crs"], "gcj02");
    let gb = g["buildings"]["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "B00000002")
        .unwrap()
        .clone();
    let wx = b["geometry"]["coordinates"][0][0][0].as_f64().unwrap();
    let gx = gb["geometry"]["coordinates"][0][0][0].as_f64().unwrap();
    assert!((gx - wx).abs() > 1e-4, "GCJ-02 is shifted from WGS84");
    // A district-sized box is refused; bad boxes are 400s.
    for (path, status, code) in [
        ("/v1/map?bbox=121.0,31.0,121.1,31.1", 422, "box_too_large"),
        ("/v1/map?bbox=121.0,31.0,121.01", 400, "bad_request"),
        ("/v1/map?bbox=a,b,c,d", 400, "bad_request"),
        ("/v1/map", 400, "bad_request"),
    ] {
        let (s, _, body) = http_get(path, &[]);
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!((s, v["error"]["code"].as_str().unwrap()), (status, code));
    }
}

// ---- in Chromium ---------------------------------------------------------------------------

/// (a) Type an address slowly, pick a suggestion with ArrowDown + Enter: the result shows the
/// standard address with its parts highlighted by level, and the map highlights its building.
#[test]
fn typing_an_address_and_picking_a_suggestion_highlights_its_building() {
    let Some((_guard, b)) = browser() else { return };
    b.goto(&BASE);
    assert_fits(&b);
    let q = b.find("#q");
    b.type_slowly(&q, "淀山湖大道468弄", Duration::from_millis(40));
    wait_attr(&b, "#suggestions li", "id");
    let first = wait_text(&b, "#suggestions li", |t| t.contains("淀山湖大道468弄"));
    b.press(&[ARROW_DOWN]);
    assert_eq!(
        wait_attr(&b, "#q", "aria-activedescendant"),
        "sug-0",
        "ArrowDown selects the first suggestion"
    );
    b.press(&[ENTER]);
    let answer = wait_text(&b, "#answer", |t| t == first);
    // The suggestion is a standard address: it normalizes to itself, with its building.
    let m = get_json(&format!("/v1/normalize?q={}", enc(&answer)));
    assert_eq!(m["address"], answer.as_str());
    let building = m["building_id"].as_str().expect("a building").to_string();
    assert_eq!(
        wait_attr(&b, "#map", "data-selected-building"),
        building,
        "the map draws the matched building highlighted"
    );
    let levels = span_levels(&b);
    for level in ["town", "road", "lane", "number"] {
        assert!(levels.iter().any(|l| l == level), "{level} in {levels:?}");
    }
    assert!(b.text(&b.find("#match-level")).contains("门牌级"));
    assert!(b.try_find("#suggestions li").is_none_or(|_| {
        b.exec(
            "return document.getElementById('suggestions').hidden",
            json!([]),
        ) == true
    }));
    b.screenshot(&screenshot_path("search.png"));
}

/// (b) Click the map on a building's centroid: the reverse lookup shows that building and its
/// address.
#[test]
fn clicking_the_map_on_a_building_shows_its_reverse_lookup() {
    let Some((_guard, b)) = browser() else { return };
    // 徐泾镇双联路378弄1号 and its building, from the API.
    let m = get_json(&format!(
        "/v1/normalize?q={}",
        enc("青浦区徐泾镇双联路378弄1号")
    ));
    let building = m["building_id"].as_str().unwrap().to_string();
    let feature = get_json(&format!("/v1/buildings/{building}"));
    let ring: Vec<geo::Coord<f64>> = feature["geometry"]["coordinates"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| geo::coord! { x: p[0].as_f64().unwrap(), y: p[1].as_f64().unwrap() })
        .collect();
    let polygon = geo::Polygon::new(geo::LineString::new(ring), vec![]);
    let c = geo::Centroid::centroid(&polygon).unwrap();
    assert!(geo::Contains::contains(&polygon, &c));
    b.goto(&format!("{}/#{:.7},{:.7},19", *BASE, c.x(), c.y()));
    b.wait("the map's buildings", || {
        let n = b.exec(
            "return Number(document.getElementById('map').dataset.buildings || 0)",
            json!([]),
        );
        (n.as_f64()? > 0.0).then_some(())
    });
    let at: Vec<f64> = serde_json::from_value(b.exec(
        "return dizhiMap.toViewport(arguments[0], arguments[1]);",
        json!([c.x(), c.y()]),
    ))
    .unwrap();
    b.click_at(at[0], at[1]);
    assert_eq!(
        wait_text(&b, "#reverse-building", |t| !t.is_empty()),
        building
    );
    wait_text(&b, "#reverse-addresses", |t| {
        t.contains("青浦区徐泾镇双联路378弄1号")
    });
    assert_eq!(wait_attr(&b, "#map", "data-reverse-building"), building);
    assert_fits(&b);
    b.screenshot(&screenshot_path("reverse.png"));
}

/// (c) Upload a small CSV, keep the suggested address column, watch the job, download the result
/// and check every row came back in order.
#[test]
fn a_csv_uploaded_on_the_page_comes_back_standardized() {
    let Some((_guard, b)) = browser() else { return };
    let dir = tempfile::tempdir().unwrap();
    let csv_path = dir.path().join("工单.csv");
    let rows = [
        ("1", "青浦区朱家角镇淀山湖大道468弄1号", "ok"),
        ("2", "青浦徐径镇双联路378弄2号502室", "ok"),
        ("3", "华腾路9999号", "partial"),
        ("4", "火星市不存在路1号", "not_found"),
        ("5", "", "error"),
    ];
    let mut text = String::from("工单号,联系地址,备注\n");
    for (id, addr, _) in rows {
        text.push_str(&format!("{id},{addr},来电\n"));
    }
    std::fs::write(&csv_path, text).unwrap();
    b.goto(&BASE);
    b.click(&b.find("#tab-batch"));
    let file = b.find("#batch-file");
    b.send_keys(&file, csv_path.to_str().unwrap());
    // The server suggests the address column; the preview shows the file's rows.
    b.wait("the suggested column", || {
        let v = b.exec(
            "return document.getElementById('batch-column').value",
            json!([]),
        );
        (v == "联系地址").then_some(())
    });
    wait_text(&b, "#batch-preview-table", |t| {
        t.contains("淀山湖大道468弄1号")
    });
    b.click(&b.find("#batch-start"));
    b.wait("the job to finish", || {
        let s = b.exec(
            "return document.getElementById('batch-job').dataset.status || ''",
            json!([]),
        );
        match s.as_str()? {
            "done" => Some(()),
            "failed" => panic!("the batch job failed: {}", b.text(&b.find("#batch-status"))),
            _ => None,
        }
    });
    let href = wait_attr(&b, "#batch-download", "href");
    let status = b.text(&b.find("#batch-status"));
    assert!(status.contains("完成") && status.contains("5"), "{status}");
    assert_fits(&b);
    b.screenshot(&screenshot_path("batch.png"));
    // The link is the job's result: every input row, in order, with the dizhi_ columns.
    let path = href
        .strip_prefix(BASE.as_str())
        .unwrap_or(&href)
        .to_string();
    let (s, _, body) = http_get(&path, &[]);
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&body));
    let body = String::from_utf8(body).unwrap();
    let mut r = csv::Reader::from_reader(body.trim_start_matches('\u{feff}').as_bytes());
    let header = r.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (id, st) = (col("工单号"), col("dizhi_status"));
    let got: Vec<(String, String)> = r
        .records()
        .map(|rec| {
            let rec = rec.unwrap();
            (rec[id].to_string(), rec[st].to_string())
        })
        .collect();
    let want: Vec<(String, String)> = rows
        .iter()
        .map(|(i, _, s)| (i.to_string(), s.to_string()))
        .collect();
    assert_eq!(got, want);
}

/// (e) A box selection needs a gis key: the page asks for it once (a dialog), retries, and
/// remembers it for the session.
#[test]
fn box_select_asks_for_a_key_once_and_remembers_it() {
    let Some((_guard, b)) = browser() else { return };
    let admin = std::fs::read_to_string(fixture_data().join(dizhi::api::auth::ADMIN_KEY_FILE))
        .unwrap()
        .trim()
        .to_string();
    b.goto(&format!("{}/#121.0443,31.1019,18", *BASE));
    b.wait("the map's buildings", || {
        let n = b.exec(
            "return Number(document.getElementById('map').dataset.buildings || 0)",
            json!([]),
        );
        (n.as_f64()? > 0.0).then_some(())
    });
    let corner = |dx: f64, dy: f64| -> (f64, f64) {
        let v: Vec<f64> = serde_json::from_value(b.exec(
            "return dizhiMap.toViewport(arguments[0], arguments[1]);",
            json!([121.0443 + dx, 31.1019 + dy]),
        ))
        .unwrap();
        (v[0], v[1])
    };
    let (from, to) = (corner(-0.0006, 0.0004), corner(0.0006, -0.0004));
    b.shift_drag(from, to);
    // Anonymous lookups are allowed, box queries are not: the key dialog opens.
    b.wait("the key dialog", || {
        (b.exec(
            "return document.getElementById('key-dialog').open",
            json!([]),
        ) == true)
            .then_some(())
    });
    assert_eq!(b.focused(), "input#key-input");
    b.send_keys(&b.find("#key-input"), &admin);
    b.press(&[ENTER]);
    let n: usize = wait_text(&b, "#boxed-count", |t| !t.is_empty())
        .parse()
        .unwrap();
    assert!(n > 0);
    assert_eq!(
        b.exec(
            "return document.getElementById('export').disabled",
            json!([])
        ),
        false
    );
    b.screenshot(&screenshot_path("box-select.png"));
    // Asked once: a second box uses the kept key without a dialog.
    b.exec(
        "document.getElementById('map-info').textContent = ''",
        json!([]),
    );
    b.shift_drag(corner(-0.0003, 0.0002), corner(0.0003, -0.0002));
    wait_text(&b, "#boxed-count", |t| !t.is_empty());
    assert_eq!(
        b.exec(
            "return document.getElementById('key-dialog').open",
            json!([])
        ),
        false
    );
}

/// Honest answers: a door number that does not exist matches the road only, and says so; no
/// building is highlighted. Text that is no address says "not found".
#[test]
fn a_road_only_match_and_no_match_are_said_plainly() {
    let Some((_guard, b)) = browser() else { return };
    b.goto(&BASE);
    let q = b.find("#q");
    b.send_keys(&q, "青浦华新镇华腾路9999号");
    b.press(&[ENTER]);
    wait_text(&b, "#match-level", |t| t == "仅道路");
    assert!(b.text(&b.find(".warn")).contains("仅匹配到道路"));
    assert_eq!(
        b.exec(
            "return document.getElementById('map').dataset.selectedBuilding",
            json!([])
        ),
        ""
    );
    wait_text(&b, "#map-status", |t| t.contains("没有坐标"));
    b.screenshot(&screenshot_path("road-only.png"));
    b.chord(&[CONTROL, "a"]);
    b.send_keys(&q, "不知道在哪里");
    b.press(&[ENTER]);
    wait_text(&b, "#match-level", |t| t == "未找到");
    assert_eq!(b.text(&b.find("#answer")), "未找到");
}

/// (d) Keyboard alone: the search box has the focus on load; typing, Esc, ArrowDown, Enter and
/// Tab to the map work without a mouse, and the focus is always visible.
#[test]
fn the_search_works_by_keyboard_alone() {
    let Some((_guard, b)) = browser() else { return };
    b.goto(&BASE);
    assert_eq!(b.focused(), "input#q", "the search box has the focus");
    let q: Element = b.find("#q");
    b.type_slowly(&q, "双联路378弄", Duration::from_millis(30));
    wait_attr(&b, "#suggestions li", "id");
    b.press(&[ESCAPE]);
    b.wait("Esc to close the suggestions", || {
        (b.exec(
            "return document.getElementById('suggestions').hidden",
            json!([]),
        ) == true)
            .then_some(())
    });
    // Select all and type what the caller said: a misspelt town, and a unit and room.
    b.chord(&[CONTROL, "a"]);
    b.type_slowly(
        &q,
        "青浦徐径镇双联路378弄1号3单元502室",
        Duration::from_millis(20),
    );
    b.press(&[ENTER]);
    wait_text(&b, "#answer", |t| t == "青浦区徐泾镇双联路378弄1号");
    assert_eq!(b.text(&b.find("#fact-detail")), "3单元502室");
    assert!(b.text(&b.find("#corrections")).contains("徐泾镇"));
    let m = get_json(&format!(
        "/v1/normalize?q={}",
        enc("青浦徐径镇双联路378弄1号3单元502室")
    ));
    assert_eq!(
        wait_attr(&b, "#map", "data-selected-building"),
        m["building_id"].as_str().unwrap()
    );
    b.screenshot(&screenshot_path("search-keyboard.png"));
    // Tab reaches the map; Enter there looks up the building at the map's centre (the result).
    let mut steps = 0;
    while b.focused() != "canvas#map" {
        b.press(&[TAB]);
        steps += 1;
        assert!(steps < 12, "Tab never reached the map (at {})", b.focused());
    }
    let outline = b.exec(
        "return getComputedStyle(document.activeElement).outlineStyle",
        json!([]),
    );
    assert_ne!(outline, "none", "the focus is visible on the map");
    b.press(&[ENTER]);
    assert_eq!(
        wait_text(&b, "#reverse-building", |t| !t.is_empty()),
        m["building_id"].as_str().unwrap()
    );
    // "/" goes back to the search box.
    b.press(&["/"]);
    assert_eq!(b.focused(), "input#q");
}
