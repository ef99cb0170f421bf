//! The generator's invariants, checked on the committed fixture district (fixtures/qingpu-20k).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use dizhi::Dictionaries;
use dizhi::synth::{GONGAN, GUIHUA, HOTLINE, SynthConfig, generate_to_dir};
use geo::{BoundingRect, Contains, Intersects, Point, Polygon, Validation};
use rstar::primitives::GeomWithData;
use rstar::{AABB, RTree};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/qingpu-20k")
}

type Row = HashMap<String, String>;

fn read_csv(path: &Path) -> Vec<Row> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// (properties, polygon) of every feature of a polygon FeatureCollection.
fn read_polygons(path: &Path) -> Vec<(serde_json::Map<String, serde_json::Value>, Polygon<f64>)> {
    let text = std::fs::read_to_string(path).unwrap();
    let fc: geojson::FeatureCollection = text.parse().unwrap();
    fc.features
        .into_iter()
        .map(|f| {
            let poly: Polygon<f64> = f.geometry.clone().unwrap().try_into().unwrap();
            (f.properties.unwrap_or_default(), poly)
        })
        .collect()
}

fn point(row: &Row) -> Point<f64> {
    Point::new(row["lon"].parse().unwrap(), row["lat"].parse().unwrap())
}

#[test]
fn every_address_point_lies_inside_its_building() {
    let addresses = read_csv(&fixture().join("addresses.csv"));
    assert_eq!(addresses.len(), 20_000);
    let buildings: HashMap<String, Polygon<f64>> =
        read_polygons(&fixture().join("buildings.geojson"))
            .into_iter()
            .map(|(p, poly)| (p["id"].as_str().unwrap().to_string(), poly))
            .collect();
    for a in &addresses {
        let b = &buildings[&a["building_id"]];
        assert!(
            b.contains(&point(a)),
            "{} not inside {}",
            a["id"],
            a["building_id"]
        );
    }
}

#[test]
fn footprints_are_valid_and_do_not_overlap() {
    let polys: Vec<Polygon<f64>> = read_polygons(&fixture().join("buildings.geojson"))
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    assert!(polys.len() > 5_000);
    for (i, p) in polys.iter().enumerate() {
        assert!(
            p.is_valid(),
            "footprint {i} invalid: {:?}",
            p.check_validation()
        );
    }
    let tree = RTree::bulk_load(
        polys
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let r = p.bounding_rect().unwrap();
                GeomWithData::new(
                    rstar::primitives::Rectangle::from_corners(
                        [r.min().x, r.min().y],
                        [r.max().x, r.max().y],
                    ),
                    i,
                )
            })
            .collect(),
    );
    let mut pairs = 0;
    for (i, p) in polys.iter().enumerate() {
        let r = p.bounding_rect().unwrap();
        let env = AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
        for other in tree.locate_in_envelope_intersecting(&env) {
            if other.data > i {
                pairs += 1;
                assert!(
                    !p.intersects(&polys[other.data]),
                    "footprints {i} and {} overlap",
                    other.data
                );
            }
        }
    }
    // Not vacuous: neighbouring footprints do come close enough for their boxes to meet.
    assert!(pairs > 100, "only {pairs} candidate pairs checked");
}

#[test]
fn towns_and_communities_are_the_real_ones_and_hold_their_addresses() {
    let dicts = Dictionaries::embedded().unwrap();
    let areas: Vec<(String, Polygon<f64>)> = read_polygons(&fixture().join("areas.geojson"))
        .into_iter()
        .map(|(p, poly)| (p["code"].as_str().unwrap().to_string(), poly))
        .collect();
    assert_eq!(areas.len(), 330);
    let area_of: HashMap<&str, &Polygon<f64>> =
        areas.iter().map(|(c, p)| (c.as_str(), p)).collect();
    let mut towns_seen = HashSet::new();
    for a in read_csv(&fixture().join("addresses.csv")) {
        let town = dicts
            .admin
            .by_code(&a["town_code"])
            .expect("town code in the admin dictionary");
        assert_eq!(town.name, a["town"]);
        let community = dicts
            .admin
            .by_code(&a["community_code"])
            .expect("community code in the admin dictionary");
        assert_eq!(community.name, a["community"]);
        assert_eq!(
            community.parent_code.as_deref(),
            Some(a["town_code"].as_str())
        );
        assert!(
            area_of[a["community_code"].as_str()].contains(&point(&a)),
            "{} outside its community",
            a["id"]
        );
        towns_seen.insert(a["town_code"].clone());
    }
    assert!(
        towns_seen.len() >= 9,
        "addresses spread over the towns: {towns_seen:?}"
    );
}

#[test]
fn the_same_seed_gives_the_committed_fixture_and_another_seed_differs() {
    let dicts = Dictionaries::embedded().unwrap();
    let dir = tempfile::tempdir().unwrap();
    generate_to_dir(
        &dicts,
        SynthConfig {
            addresses: 20_000,
            seed: 1,
        },
        dir.path(),
    )
    .unwrap();
    for file in [
        "addresses.csv",
        "buildings.geojson",
        "roads.geojson",
        "areas.geojson",
        "manifest.json",
        "sources/gongan_menpai.csv",
        "sources/minzheng_diming.csv",
        "sources/guihua_buildings.geojson",
        "sources/hotline_12345.csv",
        "truth/faults.csv",
        "truth/records.csv",
    ] {
        let fresh = std::fs::read(dir.path().join(file)).unwrap();
        let committed = std::fs::read(fixture().join(file)).unwrap();
        assert!(
            fresh == committed,
            "{file} differs from the committed fixture: regenerate with \
             `cargo run --release -- synth --addresses 20000 --seed 1 --out fixtures/qingpu-20k`"
        );
    }
    let other = tempfile::tempdir().unwrap();
    generate_to_dir(
        &dicts,
        SynthConfig {
            addresses: 20_000,
            seed: 2,
        },
        other.path(),
    )
    .unwrap();
    assert_ne!(
        std::fs::read(other.path().join("addresses.csv")).unwrap(),
        std::fs::read(fixture().join("addresses.csv")).unwrap()
    );
}

/// Faults of the truth file by (source, record, field).
fn faults() -> HashMap<(String, String, String), Vec<Row>> {
    let mut out: HashMap<(String, String, String), Vec<Row>> = HashMap::new();
    for f in read_csv(&fixture().join("truth/faults.csv")) {
        out.entry((
            f["source"].clone(),
            f["record_id"].clone(),
            f["field"].clone(),
        ))
        .or_default()
        .push(f);
    }
    out
}

#[test]
fn every_difference_between_a_door_plate_and_its_truth_is_a_listed_fault() {
    let addresses: HashMap<String, Row> = read_csv(&fixture().join("addresses.csv"))
        .into_iter()
        .map(|a| (a["id"].clone(), a))
        .collect();
    let links: HashMap<(String, String), Row> = read_csv(&fixture().join("truth/records.csv"))
        .into_iter()
        .map(|l| ((l["source"].clone(), l["record_id"].clone()), l))
        .collect();
    let faults = faults();
    let column_of = BTreeMap::from([
        ("街镇", "town"),
        ("居委会", "community"),
        ("路名", "road"),
        ("弄号", "lane"),
        ("门牌号", "number"),
        ("楼幢号", "building"),
        ("村组", "group"),
        ("经度", "lon"),
        ("纬度", "lat"),
    ]);
    let mut checked_faults = 0;
    let records = read_csv(&fixture().join("sources/gongan_menpai.csv"));
    for r in &records {
        let id = &r["门牌编号"];
        let link = &links[&(GONGAN.to_string(), id.clone())];
        if link["address_id"].is_empty() {
            assert!(
                faults.contains_key(&(GONGAN.into(), id.clone(), "门牌号".into())),
                "{id} has no address and no fault"
            );
            continue;
        }
        let truth = &addresses[&link["address_id"]];
        for (col, field) in &column_of {
            let key = (GONGAN.to_string(), id.clone(), col.to_string());
            if r[*col] != truth[*field] {
                let f = faults.get(&key).unwrap_or_else(|| {
                    panic!(
                        "{id}: {col} {:?} ≠ truth {:?} with no fault",
                        r[*col], truth[*field]
                    )
                });
                assert_eq!(f[0]["given_value"], r[*col]);
                assert_eq!(f[0]["true_value"], truth[*field]);
                checked_faults += 1;
            } else {
                assert!(
                    !faults.contains_key(&key),
                    "{id}: fault listed on {col} but the value is right"
                );
            }
        }
    }
    assert!(checked_faults > 500, "only {checked_faults} faults checked");
    // Every listed door-plate fault names a record that exists.
    let ids: HashSet<&String> = records.iter().map(|r| &r["门牌编号"]).collect();
    for (source, record, _) in faults.keys() {
        if source == GONGAN {
            assert!(ids.contains(record));
        }
    }
}

#[test]
fn every_footprint_difference_and_every_spoken_variation_is_a_listed_fault() {
    let faults = faults();
    let links: HashMap<(String, String), Row> = read_csv(&fixture().join("truth/records.csv"))
        .into_iter()
        .map(|l| ((l["source"].clone(), l["record_id"].clone()), l))
        .collect();
    let buildings: HashMap<String, (serde_json::Map<String, serde_json::Value>, Polygon<f64>)> =
        read_polygons(&fixture().join("buildings.geojson"))
            .into_iter()
            .map(|(p, poly)| (p["id"].as_str().unwrap().to_string(), (p, poly)))
            .collect();
    for (props, poly) in read_polygons(&fixture().join("sources/guihua_buildings.geojson")) {
        let id = props["建筑编号"].as_str().unwrap().to_string();
        let link = &links[&(GUIHUA.to_string(), id.clone())];
        let (truth_props, truth_poly) = &buildings[&link["building_id"]];
        let geometry_fault = faults.contains_key(&(GUIHUA.into(), id.clone(), "geometry".into()));
        assert_eq!(&poly != truth_poly, geometry_fault, "{id}: geometry");
        let floors: u64 = props["层数"].as_str().unwrap().parse().unwrap();
        let floors_fault = faults.contains_key(&(GUIHUA.into(), id.clone(), "层数".into()));
        assert_eq!(
            Some(floors) != truth_props["floors"].as_u64(),
            floors_fault,
            "{id}: floors"
        );
    }
    let addresses: HashMap<String, Row> = read_csv(&fixture().join("addresses.csv"))
        .into_iter()
        .map(|a| (a["id"].clone(), a))
        .collect();
    for r in read_csv(&fixture().join("sources/hotline_12345.csv")) {
        let id = &r["工单编号"];
        let truth = &addresses[&links[&(HOTLINE.to_string(), id.clone())]["address_id"]];
        let has_fault = faults.contains_key(&(HOTLINE.into(), id.clone(), "诉求地址".into()));
        // A caller who says the full standard address (with or without extra words) needs no fault.
        if !has_fault {
            let stripped = truth["address"].trim_start_matches("青浦区");
            assert!(
                r["诉求地址"].contains(stripped),
                "{id}: {:?} differs from {:?} with no fault",
                r["诉求地址"],
                truth["address"]
            );
        }
    }
}
