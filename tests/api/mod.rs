//! The HTTP API against the real server on 127.0.0.1: every endpoint, every 4xx path in the one
//! error shape, keys and roles, the audit log, metrics, request ids and masked logs.
//!
//! Two servers share one data directory built once from `fixtures/qingpu-20k`: `open()` as
//! `dizhi serve` runs without a config on loopback (lookups need no key), and `locked()` with a
//! config (every request needs a key; small limits; CORS on).

pub(crate) mod anomalies;
mod batch_jobs;
mod hostile;
mod steward;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};

use dizhi::api::auth::{KeyEntry, Role, hash_key};
use dizhi::api::{AppState, Config};
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{RT, enc, serve_on_loopback};

/// Everything the server logged (tracing, no ANSI).
static LOGS: LazyLock<Arc<Mutex<Vec<u8>>>> = LazyLock::new(|| {
    let buf = Arc::new(Mutex::new(Vec::new()));
    let writer = {
        let buf = buf.clone();
        move || LogWriter(buf.clone())
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter("dizhi=info")
        .with_ansi(false)
        .with_writer(writer)
        .try_init();
    buf
});

struct LogWriter(Arc<Mutex<Vec<u8>>>);
impl Write for LogWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logs() -> String {
    String::from_utf8_lossy(&LOGS.lock().unwrap()).into_owned()
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/qingpu-20k")
}

/// The data directory, built once from the fixture.
static DATA: LazyLock<tempfile::TempDir> = LazyLock::new(|| {
    let dir = tempfile::tempdir().unwrap();
    dizhi::store::build(&fixture(), dir.path(), &|_, _, _| {}).unwrap();
    let store = dizhi::store::Store::open(dir.path()).unwrap();
    dizhi::search::build_index(&store, &dizhi::search::AddressIndex::dir(dir.path())).unwrap();
    dir
});

struct Server {
    base: String,
    admin: String,
}

fn start(config: Option<Config>) -> Server {
    start_on(DATA.path(), config)
}

/// A server on `data`, in this process.
fn start_on(data: &Path, config: Option<Config>) -> Server {
    start_with_state(data, config).0
}

/// A server on `data`, in this process, and its state (for what a test must hold still).
fn start_with_state(data: &Path, config: Option<Config>) -> (Server, AppState) {
    LazyLock::force(&LOGS);
    let (state, startup) = AppState::build(data, config, true).unwrap();
    let _ = startup;
    let addr = serve_on_loopback(state.clone());
    let admin = std::fs::read_to_string(data.join(dizhi::api::auth::ADMIN_KEY_FILE))
        .unwrap()
        .trim()
        .to_string();
    (
        Server {
            base: format!("http://{addr}"),
            admin,
        },
        state,
    )
}

/// As `dizhi serve` without a config, on loopback.
static OPEN: LazyLock<Server> = LazyLock::new(|| start(None));

const CONFIG_KEYS: [(&str, Role, &str); 3] = [
    ("cfg-hotline", Role::Hotline, "dzk_cfg-hotline_h0tl1ne"),
    ("cfg-gis", Role::Gis, "dzk_cfg-gis_g1s"),
    ("cfg-steward", Role::Steward, "dzk_cfg-steward_st3w"),
];

/// With a config: keys required, small limits, CORS for one origin.
static LOCKED: LazyLock<Server> = LazyLock::new(|| {
    LazyLock::force(&OPEN); // the admin key file exists first
    let mut config: Config = toml::from_str(
        r#"
        anonymous_lookups = false
        cors_origins = ["https://map.example.org"]
        [limits]
        max_body_bytes = 2048
        max_batch = 5
        max_query_bytes = 1024
        "#,
    )
    .unwrap();
    config.keys = key_entries(&CONFIG_KEYS);
    start(Some(config))
});

/// Config entries for (id, role, key) triples.
fn key_entries(keys: &[(&str, Role, &str)]) -> Vec<KeyEntry> {
    keys.iter()
        .map(|(id, role, key)| KeyEntry {
            id: id.to_string(),
            role: *role,
            hash: hash_key(key).unwrap(),
            note: None,
            town: None,
        })
        .collect()
}

fn key(role: Role) -> &'static str {
    CONFIG_KEYS.iter().find(|k| k.1 == role).unwrap().2
}

struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }

    /// Asserts the one error shape with this status and code.
    fn error(&self, status: u16, code: &str) -> &Reply {
        assert_eq!(self.status, status, "{}", self.text);
        let j = self.json();
        assert_eq!(j["error"]["code"], code, "{}", self.text);
        assert!(j["error"]["message"].is_string());
        assert_eq!(j.as_object().unwrap().len(), 1);
        assert!(!self.text.contains("/src/") && !self.text.contains("panicked at"));
        self
    }
}

fn request(
    server: &Server,
    method: Method,
    path: &str,
    key: Option<&str>,
    body: Option<(&str, Vec<u8>)>,
) -> Reply {
    RT.block_on(async {
        let client = reqwest::Client::new();
        let mut req = client.request(method, format!("{}{path}", server.base));
        if let Some(k) = key {
            req = req.header("Authorization", format!("Bearer {k}"));
        }
        if let Some((content_type, bytes)) = body {
            if !content_type.is_empty() {
                req = req.header("Content-Type", content_type);
            }
            req = req.body(bytes);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        Reply {
            status,
            headers,
            text,
        }
    })
}

fn get(server: &Server, path: &str, key: Option<&str>) -> Reply {
    request(server, Method::GET, path, key, None)
}

fn post_json(server: &Server, path: &str, key: Option<&str>, body: &Value) -> Reply {
    request(
        server,
        Method::POST,
        path,
        key,
        Some(("application/json", body.to_string().into_bytes())),
    )
}

/// (id, address, building id, lon, lat) of a fixture address with a building.
fn an_address() -> (String, String, String, f64, f64) {
    let mut r = csv::Reader::from_path(fixture().join("addresses.csv")).unwrap();
    let rec = r
        .records()
        .map(|r| r.unwrap())
        .find(|r| !r[14].is_empty() && r[13] == *"residential")
        .unwrap();
    (
        rec[0].to_string(),
        rec[1].to_string(),
        rec[14].to_string(),
        rec[15].parse().unwrap(),
        rec[16].parse().unwrap(),
    )
}

// ---- operations --------------------------------------------------------------------------------

#[test]
fn health_and_readiness() {
    let r = get(&OPEN, "/healthz", None);
    assert_eq!((r.status, r.json()["status"].clone()), (200, json!("ok")));
    let r = get(&OPEN, "/readyz", None);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["status"], "ready");
    assert_eq!(r.json()["addresses"], 20_000);
    assert!(r.json()["buildings"].as_u64().unwrap() > 1000);
}

#[test]
fn openapi_lists_every_route_and_the_router_serves_every_documented_one() {
    let r = get(&OPEN, "/openapi.json", None);
    assert_eq!(r.status, 200);
    let doc = r.json();
    assert_eq!(doc["openapi"], "3.0.3");
    let documented: std::collections::BTreeSet<String> =
        doc["paths"].as_object().unwrap().keys().cloned().collect();
    // Every route the router declares is documented …
    let source = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api/routes/mod.rs"),
    )
    .unwrap();
    let routed: std::collections::BTreeSet<String> = source
        .split(".route(")
        .skip(1)
        .map(|s| {
            s.trim_start()
                .trim_start_matches('"')
                .split('"')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(routed, documented);
    // … and every documented operation is served (not the router's 404/405).
    for (method, path) in dizhi::api::openapi::operations() {
        let path = path.replace("{id}", "no-such-id");
        let body = (method == Method::POST).then(|| ("application/json", b"{}".to_vec()));
        let r = request(&OPEN, method.clone(), &path, Some(&OPEN.admin), body);
        assert_ne!(r.status, 405, "{method} {path}");
        if r.status == 404 {
            assert!(
                !r.text.contains("no such route"),
                "{method} {path}: {}",
                r.text
            );
        }
    }
}

#[test]
fn docs_page_renders_the_document_without_a_cdn() {
    let r = get(&OPEN, "/docs", None);
    assert_eq!(r.status, 200);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(r.text.contains("/openapi.json"));
    assert!(!r.text.contains("src=\"http") && !r.text.contains("href=\"http"));
}

#[test]
fn metrics_have_latency_histograms_per_route() {
    for _ in 0..3 {
        assert_eq!(get(&OPEN, "/v1/parse?q=x", None).status, 200);
    }
    let r = get(&OPEN, "/metrics", None);
    assert_eq!(r.status, 200);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let line = r
        .text
        .lines()
        .find(|l| {
            l.starts_with(
                "dizhi_http_request_duration_seconds_count{method=\"GET\",route=\"/v1/parse\"}",
            )
        })
        .unwrap();
    let n: u64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(n >= 3, "{line}");
    assert!(r.text.contains(
        "dizhi_http_request_duration_seconds_bucket{method=\"GET\",route=\"/v1/parse\",le=\"+Inf\"}"
    ));
    assert!(
        r.text.contains(
            "dizhi_http_requests_total{method=\"GET\",route=\"/v1/parse\",status=\"2xx\"}"
        )
    );
    assert!(r.text.contains("process_resident_memory_bytes"));
}

#[test]
fn every_response_has_a_request_id_and_a_client_id_is_kept() {
    let r = get(&OPEN, "/healthz", None);
    assert!(!r.headers["x-request-id"].is_empty());
    let r = RT.block_on(async {
        reqwest::Client::new()
            .get(format!("{}/v1/parse?q=a", OPEN.base))
            .header("x-request-id", "trace-abc-123")
            .send()
            .await
            .unwrap()
    });
    assert_eq!(r.headers()["x-request-id"], "trace-abc-123");
}

#[test]
fn personal_numbers_are_masked_in_the_logs() {
    let q = "华腾路88号 13812345678 31011819900101123X";
    let r = get(&OPEN, &format!("/v1/normalize?q={}", enc(q)), None);
    assert_eq!(r.status, 200);
    let rid = r.headers["x-request-id"].to_str().unwrap().to_string();
    let logs = logs();
    let line = logs
        .lines()
        .find(|l| l.contains(&rid) && l.contains("/v1/normalize"))
        .unwrap_or_else(|| panic!("no access log line for {rid}"));
    assert!(line.contains("138******78"), "{line}");
    assert!(line.contains("310*************3X"), "{line}");
    assert!(!logs.contains("13812345678") && !logs.contains("31011819900101123X"));
}

// ---- lookups -----------------------------------------------------------------------------------

#[test]
fn normalize_one_finds_a_fixture_address() {
    let (id, address, building, ..) = an_address();
    let r = get(&OPEN, &format!("/v1/normalize?q={}", enc(&address)), None);
    assert_eq!(r.status, 200, "{}", r.text);
    let m = r.json();
    for field in [
        "input",
        "id",
        "address",
        "level",
        "score",
        "town_code",
        "town",
        "community_code",
        "community",
        "building_id",
        "lon",
        "lat",
        "detail",
        "corrections",
        "candidates",
    ] {
        assert!(m.get(field).is_some(), "no {field}");
    }
    assert_eq!(m["id"], id);
    assert_eq!(m["building_id"], building);
    // The same point in GCJ-02 is shifted by some hundred metres.
    let g = get(
        &OPEN,
        &format!("/v1/normalize?q={}&crs=gcj02", enc(&address)),
        None,
    )
    .json();
    let dlon = g["lon"].as_f64().unwrap() - m["lon"].as_f64().unwrap();
    assert!(dlon.abs() > 1e-4 && dlon.abs() < 1e-2, "{dlon}");
}

#[test]
fn normalize_bad_queries_are_400() {
    get(&OPEN, "/v1/normalize", None).error(400, "bad_request");
    get(&OPEN, "/v1/normalize?q=a&crs=epsg:3857", None).error(400, "bad_request");
    let long = "a".repeat(600);
    get(&OPEN, &format!("/v1/normalize?q={long}"), None).error(400, "bad_request");
    let too_long = "a".repeat(5000);
    get(&OPEN, &format!("/v1/normalize?q={too_long}"), None).error(414, "uri_too_long");
}

#[test]
fn normalize_many_answers_in_order_and_checks_its_body() {
    let (id, address, ..) = an_address();
    let body = json!({"addresses": [address, "", "上海市浦东新区张江镇"]});
    let r = post_json(&OPEN, "/v1/normalize", None, &body);
    assert_eq!(r.status, 200, "{}", r.text);
    let results = r.json()["results"].as_array().unwrap().clone();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["id"], id);
    assert_eq!(results[1]["level"], "none");
    assert_eq!(results[2]["level"], "outside");
    // Over the batch limit.
    let many: Vec<String> = (0..1001).map(|i| format!("华腾路{i}号")).collect();
    post_json(&OPEN, "/v1/normalize", None, &json!({ "addresses": many }))
        .error(413, "payload_too_large");
    // Not JSON, the wrong JSON, no content type.
    request(
        &OPEN,
        Method::POST,
        "/v1/normalize",
        None,
        Some(("application/json", b"{".to_vec())),
    )
    .error(400, "invalid_json");
    post_json(&OPEN, "/v1/normalize", None, &json!({"addresses": "x"})).error(422, "invalid_body");
    post_json(
        &OPEN,
        "/v1/normalize",
        None,
        &json!({"addresses": [], "extra": 1}),
    )
    .error(422, "invalid_body");
    request(
        &OPEN,
        Method::POST,
        "/v1/normalize",
        None,
        Some(("", b"{}".to_vec())),
    )
    .error(415, "unsupported_media_type");
    request(
        &OPEN,
        Method::POST,
        "/v1/normalize",
        None,
        Some(("text/plain", b"{}".to_vec())),
    )
    .error(415, "unsupported_media_type");
}

#[test]
fn suggest_parse_and_compare() {
    let r = get(
        &OPEN,
        &format!("/v1/suggest?q={}&limit=5", enc("华腾")),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let s = r.json()["suggestions"].as_array().unwrap().clone();
    assert!(!s.is_empty() && s.len() <= 5);
    assert!(s[0]["address"].as_str().unwrap().contains("华腾"));
    get(&OPEN, "/v1/suggest?q=a&limit=0", None).error(400, "bad_request");
    get(&OPEN, "/v1/suggest?q=a&limit=x", None).error(400, "bad_request");

    let r = get(
        &OPEN,
        &format!("/v1/parse?q={}", enc("华腾路1288弄3号 13812345678")),
        None,
    );
    assert_eq!(r.status, 200);
    let p = r.json();
    assert_eq!(p["components"][0]["level"], "road");
    assert_eq!(p["masked"][0]["masked"], "138******78");
    get(&OPEN, "/v1/parse", None).error(400, "bad_request");

    let r = get(
        &OPEN,
        &format!(
            "/v1/compare?a={}&b={}",
            enc("华腾路1288弄"),
            enc("华腾路1288弄3号")
        ),
        None,
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["relation"], "contains");
    assert!(r.json()["confidence"].is_number());
    get(&OPEN, "/v1/compare?a=x", None).error(400, "bad_request");
}

#[test]
fn addresses_by_id() {
    let (id, address, building, ..) = an_address();
    let r = get(&OPEN, &format!("/v1/addresses/{id}"), None);
    assert_eq!(r.status, 200);
    let a = r.json();
    assert_eq!(a["address"], address);
    assert_eq!(a["building_id"], building);
    assert!(a["town_code"].as_str().unwrap().starts_with("310118"));
    assert!(!a["links"].as_array().unwrap().is_empty());
    get(&OPEN, "/v1/addresses/A99999999", None).error(404, "not_found");
    get(&OPEN, &format!("/v1/addresses/{id}?crs=x"), None).error(400, "bad_request");
}

// ---- buildings ---------------------------------------------------------------------------------

#[test]
fn reverse_finds_the_building_of_an_address_point() {
    let (_, _, building, lon, lat) = an_address();
    let r = get(&OPEN, &format!("/v1/reverse?lon={lon}&lat={lat}"), None);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["building_id"], building);
    assert_eq!(r.json()["inside"], true);
    let r = get(&OPEN, "/v1/reverse?lon=0&lat=0", None);
    assert_eq!(r.json()["building_id"], Value::Null);
    get(&OPEN, "/v1/reverse?lon=121.1", None).error(400, "bad_request");
    get(&OPEN, "/v1/reverse?lon=200&lat=31", None).error(400, "bad_request");
    get(&OPEN, "/v1/reverse?lon=NaN&lat=31", None).error(400, "bad_request");
    get(&OPEN, "/v1/reverse?lon=x&lat=31", None).error(400, "bad_request");
    get(
        &OPEN,
        &format!("/v1/reverse?lon={lon}&lat={lat}&radius=-1"),
        None,
    )
    .error(400, "bad_request");
}

#[test]
fn buildings_by_id_point_box_and_distance_as_geojson() {
    let (_, _, building, lon, lat) = an_address();
    let gis = Some(OPEN.admin.as_str());
    let r = get(&OPEN, &format!("/v1/buildings/{building}"), None);
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["content-type"], "application/geo+json");
    let f = r.json();
    assert_eq!(
        (f["type"].clone(), f["id"].clone()),
        (json!("Feature"), json!(building))
    );
    assert_eq!(f["geometry"]["type"], "Polygon");
    assert!(!f["properties"]["addresses"].as_array().unwrap().is_empty());
    get(&OPEN, "/v1/buildings/B99999999", None).error(404, "not_found");

    let at = get(&OPEN, &format!("/v1/buildings/at?lon={lon}&lat={lat}"), gis).json();
    assert_eq!(at["type"], "FeatureCollection");
    assert_eq!(at["features"][0]["id"], building);

    let near = get(
        &OPEN,
        &format!("/v1/buildings/near?lon={lon}&lat={lat}&radius=80&limit=3"),
        gis,
    )
    .json();
    let features = near["features"].as_array().unwrap();
    assert!(!features.is_empty() && features.len() <= 3);
    assert_eq!(features[0]["properties"]["distance_m"], 0.0);

    let (d, e) = (0.002, 0.002);
    let bbox = format!("{},{},{},{}", lon - d, lat - e, lon + d, lat + e);
    let boxed = get(&OPEN, &format!("/v1/buildings?bbox={bbox}&limit=2"), gis).json();
    assert!(boxed["features"].as_array().unwrap().len() <= 2);
    assert!(boxed["matched"].as_u64().unwrap() >= 1);

    get(&OPEN, "/v1/buildings", gis).error(400, "bad_request");
    get(&OPEN, "/v1/buildings?bbox=1,2,3", gis).error(400, "bad_request");
    get(&OPEN, "/v1/buildings?bbox=1e2,2,3,4", gis).error(400, "bad_request");
    get(&OPEN, "/v1/buildings?bbox=NaN,2,3,4", gis).error(400, "bad_request");
    get(&OPEN, &format!("/v1/buildings?bbox={bbox}&limit=0"), gis).error(400, "bad_request");
    get(&OPEN, "/v1/buildings/at?lon=121.1", gis).error(400, "bad_request");
    get(
        &OPEN,
        &format!("/v1/buildings/near?lon={lon}&lat={lat}"),
        gis,
    )
    .error(400, "bad_request");
    get(
        &OPEN,
        &format!("/v1/buildings/near?lon={lon}&lat={lat}&radius=1e9"),
        gis,
    )
    .error(400, "bad_request");
}

#[test]
fn buildings_within_a_geojson_polygon() {
    let (_, _, building, lon, lat) = an_address();
    let d = 0.0005;
    let ring = json!([
        [lon - d, lat - d],
        [lon + d, lat - d],
        [lon + d, lat + d],
        [lon - d, lat + d],
        [lon - d, lat - d]
    ]);
    let body = json!({"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [ring.clone()]}});
    let r = post_json(&OPEN, "/v1/buildings/within", Some(&OPEN.admin), &body);
    assert_eq!(r.status, 200, "{}", r.text);
    let ids: Vec<Value> = r.json()["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].clone())
        .collect();
    assert!(ids.contains(&json!(building)));
    post_json(
        &OPEN,
        "/v1/buildings/within",
        Some(&OPEN.admin),
        &json!({"type": "Point", "coordinates": [1, 2]}),
    )
    .error(422, "invalid_body");
    post_json(
        &OPEN,
        "/v1/buildings/within",
        Some(&OPEN.admin),
        &json!({"nope": 1}),
    )
    .error(422, "invalid_body");
}

#[test]
fn export_buildings_as_geojson() {
    let r = get(
        &OPEN,
        "/v1/export/buildings?format=geojson",
        Some(&OPEN.admin),
    );
    assert_eq!(r.status, 200);
    assert!(
        r.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("buildings.geojson")
    );
    let fc = r.json();
    assert!(fc["features"].as_array().unwrap().len() > 1000);
    get(&OPEN, "/v1/export/buildings?format=shp", Some(&OPEN.admin)).error(400, "bad_request");
}

// ---- the error shape for router and layer errors -----------------------------------------------

#[test]
fn unknown_routes_and_methods_have_the_error_shape() {
    get(&OPEN, "/nope", None).error(404, "not_found");
    get(&OPEN, "/v1/normalize/extra", None).error(404, "not_found");
    let r = request(&OPEN, Method::PUT, "/v1/normalize", None, None);
    r.error(405, "method_not_allowed");
    assert!(r.headers.get("allow").is_some());
    request(
        &OPEN,
        Method::DELETE,
        "/v1/admin/keys",
        Some(&OPEN.admin),
        None,
    )
    .error(405, "method_not_allowed");
}

#[test]
fn a_body_over_the_limit_is_413() {
    let many = vec!["华腾路1288弄3号".repeat(20); 20];
    let big = json!({ "addresses": many });
    post_json(&LOCKED, "/v1/normalize", Some(key(Role::Hotline)), &big)
        .error(413, "payload_too_large");
    let six = json!({"addresses": ["a", "b", "c", "d", "e", "f"]});
    post_json(&LOCKED, "/v1/normalize", Some(key(Role::Hotline)), &six)
        .error(413, "payload_too_large");
    get(
        &LOCKED,
        &format!("/v1/parse?q={}", "a".repeat(1100)),
        Some(key(Role::Hotline)),
    )
    .error(414, "uri_too_long");
}

// ---- keys, roles, audit --------------------------------------------------------------------------

#[test]
fn keys_are_checked_and_roles_enforced() {
    // Open server: lookups without a key; spatial and admin need one.
    assert_eq!(get(&OPEN, "/v1/parse?q=a", None).status, 200);
    get(&OPEN, "/v1/buildings?bbox=121,31,121.01,31.01", None).error(401, "unauthorized");
    get(&OPEN, "/v1/admin/keys", None).error(401, "unauthorized");
    // A wrong or malformed key is refused, even for a lookup.
    get(&OPEN, "/v1/parse?q=a", Some("dzk_admin_wrong")).error(401, "unauthorized");
    get(&OPEN, "/v1/parse?q=a", Some("garbage")).error(401, "unauthorized");
    let r = RT.block_on(async {
        reqwest::Client::new()
            .get(format!("{}/v1/parse?q=a", OPEN.base))
            .header("Authorization", "Basic abc")
            .send()
            .await
            .unwrap()
    });
    assert_eq!(r.status(), 401);

    // Locked server: every lookup needs a key; roles decide the rest.
    get(&LOCKED, "/v1/parse?q=a", None).error(401, "unauthorized");
    assert_eq!(
        get(&LOCKED, "/v1/parse?q=a", Some(key(Role::Hotline))).status,
        200
    );
    let bbox = "/v1/buildings?bbox=121.0,31.0,121.001,31.001";
    get(&LOCKED, bbox, Some(key(Role::Hotline))).error(403, "forbidden");
    assert_eq!(get(&LOCKED, bbox, Some(key(Role::Gis))).status, 200);
    assert_eq!(get(&LOCKED, bbox, Some(key(Role::Steward))).status, 200);
    get(&LOCKED, "/v1/export/buildings", Some(key(Role::Hotline))).error(403, "forbidden");
    for role in [Role::Hotline, Role::Gis, Role::Steward] {
        get(&LOCKED, "/v1/admin/keys", Some(key(role))).error(403, "forbidden");
        post_json(
            &LOCKED,
            "/v1/admin/keys",
            Some(key(role)),
            &json!({"role": "admin"}),
        )
        .error(403, "forbidden");
    }
    // Writes without a key: 401, before the body is even looked at.
    post_json(&OPEN, "/v1/admin/keys", None, &json!({"role": "gis"})).error(401, "unauthorized");
    request(
        &OPEN,
        Method::POST,
        "/v1/admin/keys",
        None,
        Some(("application/json", b"{".to_vec())),
    )
    .error(401, "unauthorized");
}

#[test]
fn cors_is_on_only_for_configured_origins() {
    let preflight = |server: &Server| {
        RT.block_on(async {
            reqwest::Client::new()
                .request(Method::OPTIONS, format!("{}/v1/normalize", server.base))
                .header("Origin", "https://map.example.org")
                .header("Access-Control-Request-Method", "GET")
                .send()
                .await
                .unwrap()
        })
    };
    let r = preflight(&LOCKED);
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://map.example.org"
    );
    let r = preflight(&OPEN);
    assert!(r.headers().get("access-control-allow-origin").is_none());
}

#[test]
fn an_admin_creates_lists_and_revokes_keys_and_every_write_is_audited() {
    let admin = Some(OPEN.admin.as_str());
    let r = post_json(
        &OPEN,
        "/v1/admin/keys",
        admin,
        &json!({"role": "gis", "id": "test-gis", "note": "QGIS desk"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let created = r.json();
    let new_key = created["key"].as_str().unwrap().to_string();
    assert!(new_key.starts_with("dzk_test-gis_"));
    // It works, with its role.
    assert_eq!(
        get(
            &OPEN,
            "/v1/buildings?bbox=121,31,121.001,31.001",
            Some(&new_key)
        )
        .status,
        200
    );
    get(&OPEN, "/v1/admin/keys", Some(&new_key)).error(403, "forbidden");
    // Listed without the secret; the key file has only the hash.
    let list = get(&OPEN, "/v1/admin/keys", admin);
    assert!(list.text.contains("test-gis") && !list.text.contains(&new_key));
    let file = std::fs::read_to_string(DATA.path().join(dizhi::api::auth::KEYS_FILE)).unwrap();
    assert!(!file.contains(new_key.rsplit('_').next().unwrap()));
    // Same id again: 409; bad role: 422; bad id: 422.
    post_json(
        &OPEN,
        "/v1/admin/keys",
        admin,
        &json!({"role": "gis", "id": "test-gis"}),
    )
    .error(409, "conflict");
    post_json(&OPEN, "/v1/admin/keys", admin, &json!({"role": "root"})).error(422, "invalid_body");
    post_json(
        &OPEN,
        "/v1/admin/keys",
        admin,
        &json!({"role": "gis", "id": "a b"}),
    )
    .error(422, "invalid_body");
    // Revoke: gone; again: 404; one's own key: 409.
    let r = request(
        &OPEN,
        Method::DELETE,
        "/v1/admin/keys/test-gis",
        admin,
        None,
    );
    assert_eq!(r.status, 204, "{}", r.text);
    get(
        &OPEN,
        "/v1/buildings?bbox=121,31,121.001,31.001",
        Some(&new_key),
    )
    .error(401, "unauthorized");
    request(
        &OPEN,
        Method::DELETE,
        "/v1/admin/keys/test-gis",
        admin,
        None,
    )
    .error(404, "not_found");
    request(&OPEN, Method::DELETE, "/v1/admin/keys/admin", admin, None).error(409, "conflict");
    // Both writes are in the audit log, with the actor and no secret.
    let audit = get(&OPEN, "/v1/admin/audit?limit=50", admin);
    assert_eq!(audit.status, 200);
    let entries = audit.json()["entries"].as_array().unwrap().clone();
    let of = |action: &str| {
        entries
            .iter()
            .find(|e| e["action"] == action && e["entity"] == "api_key:test-gis")
            .cloned()
            .unwrap_or_else(|| panic!("no {action} entry"))
    };
    assert_eq!(of("key.create")["actor"], "admin");
    assert_eq!(of("key.create")["after"]["role"], "gis");
    assert_eq!(of("key.revoke")["before"]["role"], "gis");
    assert!(!audit.text.contains(&new_key));
    get(&OPEN, "/v1/admin/audit?limit=0", admin).error(400, "bad_request");
}
