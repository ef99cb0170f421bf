//! Another district than the bundled one, on real parts: a small synthetic 嘉定区 (310114) built
//! into a data directory, served as `dizhi serve` serves it. The data says which district it
//! covers; 嘉定 addresses normalize to their doors, 青浦 ones are `outside`.

use std::path::Path;
use std::sync::LazyLock;

use serde_json::Value;

use crate::common::{RT, enc, serve_on_loopback};

/// The 嘉定 data directory and a server on it, made once.
struct Jiading {
    _dir: tempfile::TempDir,
    data: std::path::PathBuf,
    source: std::path::PathBuf,
    base: String,
}

static JIADING: LazyLock<Jiading> = LazyLock::new(|| {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    let data = dir.path().join("data");
    let dicts = dizhi::Dictionaries::embedded().unwrap();
    let jiading = dicts.admin.by_code("310114000000").unwrap();
    let config = dizhi::synth::SynthConfig {
        addresses: 3000,
        seed: 1,
    };
    dizhi::synth::generate_district_to_dir(&dicts, jiading, config, &source).unwrap();
    dizhi::store::build(&source, &data, &|_, _, _| {}).unwrap();
    let store = dizhi::store::Store::open(&data).unwrap();
    dizhi::setup::generation::build_paired_index(&store, &data).unwrap();
    let (state, _) = dizhi::api::AppState::build(&data, None, true).unwrap();
    let addr = serve_on_loopback(state);
    Jiading {
        _dir: dir,
        data,
        source,
        base: format!("http://{addr}"),
    }
});

fn get(path: &str) -> Value {
    let url = format!("{}{path}", JIADING.base);
    RT.block_on(async {
        let r = reqwest::get(&url).await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{url}");
        r.json::<Value>().await.unwrap()
    })
}

/// (address text, town, road, lane, number) of the first residential address with a lane.
fn a_door(source: &Path) -> (String, String, String, String, String) {
    let mut r = csv::Reader::from_path(source.join("addresses.csv")).unwrap();
    let rec = r
        .records()
        .map(|r| r.unwrap())
        .find(|r| r[13] == *"residential" && !r[8].is_empty() && r[12].is_empty())
        .expect("a residential door");
    (
        rec[1].to_string(),
        rec[4].to_string(),
        rec[7].to_string(),
        rec[8].to_string(),
        rec[9].to_string(),
    )
}

#[test]
fn the_build_records_the_district_the_data_covers() {
    let store = dizhi::store::Store::open(&JIADING.data).unwrap();
    assert_eq!(
        store.meta("divisions").unwrap().as_deref(),
        Some("310114000000")
    );
    let dicts = dizhi::Dictionaries::embedded().unwrap();
    assert_eq!(store.coverage(&dicts.admin).unwrap().label(), "嘉定区");
    let c = get("/v1/coverage");
    assert_eq!(c["name"], "嘉定区");
    assert_eq!(c["divisions"][0]["code"], "310114000000");
    let [x0, y0, x1, y1] = [0, 1, 2, 3].map(|i| c["extent"][i].as_f64().unwrap());
    let (lon, lat) = (
        c["center"][0].as_f64().unwrap(),
        c["center"][1].as_f64().unwrap(),
    );
    assert!((x0..=x1).contains(&lon) && (y0..=y1).contains(&lat), "{c}");
    // 嘉定, not the bundled district.
    assert!(
        (31.2..31.5).contains(&lat) && (121.1..121.4).contains(&lon),
        "{c}"
    );
}

#[test]
fn a_jiading_address_normalizes_to_its_door_with_a_jiading_town_code() {
    let (text, town, road, lane, number) = a_door(&JIADING.source);
    let m = get(&format!("/v1/normalize?q={}", enc(&text)));
    assert_eq!(m["level"], "number", "{m}");
    assert_eq!(m["address"], text.as_str());
    assert!(
        m["town_code"].as_str().unwrap().starts_with("310114"),
        "{m}"
    );
    // As a caller says it: the district short, the town without 镇/街道, a room after the door.
    let short_town = town
        .strip_suffix("街道")
        .or_else(|| town.strip_suffix('镇'))
        .unwrap_or(&town);
    let said = format!("嘉定{short_town}{road}{lane}弄{number}号502室");
    let m = get(&format!("/v1/normalize?q={}", enc(&said)));
    assert_eq!(m["level"], "number", "{said}: {m}");
    assert_eq!(m["address"], text.as_str(), "{said}");
    assert_eq!(m["detail"], "502室");
    // A partial answer names the data's district, not a fixed one.
    let m = get(&format!(
        "/v1/normalize?q={}",
        enc(&format!("{road}{lane}弄"))
    ));
    assert_eq!(m["level"], "lane", "{m}");
    assert!(m["address"].as_str().unwrap().starts_with("嘉定区"), "{m}");
}

#[test]
fn a_qingpu_address_is_outside_the_jiading_data() {
    for q in [
        "青浦区华新镇华腾路1288弄3号",
        "上海市青浦区徐泾镇双联路378弄1号",
    ] {
        let m = get(&format!("/v1/normalize?q={}", enc(q)));
        assert_eq!(m["level"], "outside", "{q}: {m}");
        assert!(m["address"].as_str().unwrap().contains("青浦区"), "{m}");
    }
    let p = get(&format!(
        "/v1/parse?q={}",
        enc("青浦区华新镇华腾路1288弄3号")
    ));
    assert_eq!(p["outside"]["code"], "310118107000", "{p}");
}

#[test]
fn batch_notes_say_outside_the_data_s_district() {
    let dicts = dizhi::Dictionaries::embedded().unwrap();
    let index = dizhi::search::AddressIndex::open(&JIADING.data).unwrap();
    let matcher = dizhi::search::Matcher::new(index, &dicts).unwrap();
    let m = matcher.normalize("青浦区华新镇华腾路1288弄3号").unwrap();
    let row = dizhi::batch::BatchRow::from_match(m, &matcher.coverage().label());
    assert_eq!(row.note, "outside 嘉定区: 上海市青浦区华新镇");
}

#[test]
fn short_town_names_work_for_the_covered_district_only() {
    let dicts = dizhi::Dictionaries::embedded().unwrap();
    let jiading = dizhi::dictionaries::Coverage::parse(&dicts.admin, "嘉定").unwrap();
    let parser = dizhi::Parser::with_coverage(&dicts, jiading);
    let p = parser.parse("安亭墨玉路1号");
    assert_eq!(p.component(dizhi::Level::Town).unwrap().value, "安亭镇");
    assert!(p.outside.is_none());
    // 嘉定镇街道 is said 嘉定镇 (not the 嘉定镇 of 江西 信丰县).
    let p = parser.parse("上海市嘉定区嘉定镇浦西路1号");
    assert_eq!(p.component(dizhi::Level::Town).unwrap().value, "嘉定镇街道");
    assert!(p.outside.is_none());
    // The demo district's short town is no town of the 嘉定 data (华新 alone names nothing).
    let p = parser.parse("华新华腾路1288弄3号");
    assert!(
        p.component(dizhi::Level::Town).is_none(),
        "{:?}",
        p.components
    );
    assert!(
        p.inferred.is_empty(),
        "the demo's road dictionary infers no 嘉定 town"
    );
}
