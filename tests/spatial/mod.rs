//! Building footprints: reverse lookup agrees with the generator's truth for every fixture
//! address; exact queries agree with brute force; coordinate systems round-trip; GIS files
//! written by dizhi read back by dizhi and by GDAL's `ogrinfo`.

mod projected;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use dizhi::Building;
use dizhi::gis::shp::DbfEncoding;
use dizhi::gis::{self, Footprint};
use dizhi::spatial::distance::{metres_between, metres_to_polygon};
use dizhi::spatial::{Crs, FootprintIndex, PolygonRelation, reverse};
use geo::{Contains, Intersects, MultiPolygon, Point, Rect, coord};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/qingpu-20k")
}

/// The fixture's buildings, read by our GeoJSON reader.
fn fixture_buildings() -> Vec<Building> {
    let loaded = gis::geojson::read(&fixture().join("buildings.geojson")).unwrap();
    assert!(loaded.problems.is_empty(), "{:?}", &loaded.problems[..1]);
    let (buildings, problems) = loaded.into_buildings();
    assert!(problems.is_empty());
    buildings
}

/// (address id, canonical text, point, truth building id) of every fixture address.
fn fixture_addresses() -> Vec<(String, String, Point<f64>, String)> {
    let mut r = csv::Reader::from_path(fixture().join("addresses.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|c| c == name).unwrap();
    let (id, addr, b, lon, lat) = (
        col("id"),
        col("address"),
        col("building_id"),
        col("lon"),
        col("lat"),
    );
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            let p = Point::new(rec[lon].parse().unwrap(), rec[lat].parse().unwrap());
            (
                rec[id].to_string(),
                rec[addr].to_string(),
                p,
                rec[b].to_string(),
            )
        })
        .collect()
}

#[test]
fn reverse_lookup_agrees_with_the_generator_truth_for_every_fixture_address() {
    let index = FootprintIndex::new(fixture_buildings());
    let addresses = fixture_addresses();
    assert_eq!(addresses.len(), 20_000);
    let mut wrong = Vec::new();
    for (id, _, p, truth) in &addresses {
        match reverse(&index, *p, 50.0) {
            Some(hit) if hit.inside && &hit.building.id == truth => {}
            other => wrong.push((
                id.clone(),
                other.map(|h| (h.building.id.clone(), h.distance_m)),
            )),
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of 20000 wrong, e.g. {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(5)]
    );
    // The parallel batch call says the same.
    let points: Vec<Point<f64>> = addresses.iter().map(|a| a.2).collect();
    let batch = index.containing_buildings(&points);
    assert!(
        batch
            .iter()
            .zip(&addresses)
            .all(|(b, a)| b.map(|b| &b.id) == Some(&a.3))
    );
}

#[test]
fn reverse_through_the_built_store_returns_the_building_and_its_addresses() {
    let dir = tempfile::tempdir().unwrap();
    dizhi::store::build(&fixture(), dir.path(), &|_, _, _| {}).unwrap();
    let store = dizhi::store::Store::open(dir.path()).unwrap();
    let index = dizhi::spatial::answer::index_from_store(&store).unwrap();
    assert_eq!(index.len(), 12_087);
    for (id, text, p, truth) in fixture_addresses().iter().step_by(97) {
        // Asked in GCJ-02, as an Amap client would.
        let (glon, glat) = Crs::Gcj02.from_wgs84(p.x(), p.y());
        let a =
            dizhi::spatial::answer::reverse_answer(&index, &store, glon, glat, Crs::Gcj02, 50.0)
                .unwrap();
        assert_eq!(a.building_id.as_deref(), Some(truth.as_str()), "{id}");
        let mine = a
            .addresses
            .iter()
            .find(|x| &x.id == id)
            .expect("the address is among its building's");
        assert_eq!(&mine.address, text);
        // Returned in GCJ-02 too: within a centimetre of the query point.
        let back = Crs::Gcj02.to_wgs84(mine.lon.unwrap(), mine.lat.unwrap());
        assert!(metres_between(*p, Point::new(back.0, back.1)) < 0.05);
    }
}

#[test]
fn gcj02_and_bd09_round_trip_within_half_a_metre_for_every_fixture_point() {
    let mut worst: f64 = 0.0;
    for (_, _, p, _) in fixture_addresses() {
        for crs in [Crs::Gcj02, Crs::Bd09] {
            let (x, y) = crs.from_wgs84(p.x(), p.y());
            assert!(
                metres_between(p, Point::new(x, y)) > 100.0,
                "{crs} moves points in Shanghai"
            );
            let (bx, by) = crs.to_wgs84(x, y);
            worst = worst.max(metres_between(p, Point::new(bx, by)));
        }
    }
    assert!(worst < 0.5, "worst round trip {worst} m");
    assert!(worst < 0.01, "in fact under a centimetre: {worst} m");
}

#[test]
fn distance_queries_agree_with_a_brute_force_scan_in_metres() {
    let buildings = fixture_buildings();
    let index = FootprintIndex::new(buildings.clone());
    let bounds = dizhi::synth::DISTRICT_BOUNDS;
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let addresses = fixture_addresses();
    for i in 0..300 {
        // Half near buildings (an address point shifted up to ~80 m), half anywhere.
        let p = if i % 2 == 0 {
            let a = addresses[rng.random_range(0..addresses.len())].2;
            Point::new(
                a.x() + rng.random_range(-0.0008..0.0008),
                a.y() + rng.random_range(-0.0008..0.0008),
            )
        } else {
            Point::new(
                rng.random_range(bounds.0..bounds.2),
                rng.random_range(bounds.1..bounds.3),
            )
        };
        let radius = 50.0;
        let mut expected: Vec<(&str, f64)> = buildings
            .iter()
            .map(|b| (b.id.as_str(), metres_to_polygon(p, &b.footprint)))
            .filter(|(_, d)| *d <= radius)
            .collect();
        expected.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(b.0)));
        let got: Vec<(&str, f64)> = index
            .buildings_within_distance(p, radius)
            .iter()
            .map(|h| (h.building.id.as_str(), h.distance_m))
            .collect();
        assert_eq!(got, expected, "at {p:?}");
        let nearest = index.nearest_buildings(p, 3, radius);
        assert_eq!(nearest.len(), expected.len().min(3));
        // Reverse: inside → that building; else the nearest within 50 m; else nothing.
        match reverse(&index, p, radius) {
            Some(hit) => assert_eq!((hit.building.id.as_str(), hit.distance_m), expected[0]),
            None => assert!(expected.is_empty()),
        }
    }
}

#[test]
fn nothing_is_returned_beyond_the_radius() {
    let index = FootprintIndex::new(fixture_buildings());
    // Dianshan Lake's middle, and Paris: no buildings within 50 m.
    assert!(reverse(&index, Point::new(2.35, 48.85), 50.0).is_none());
    let b = &index.buildings()[0];
    let top = b
        .footprint
        .exterior()
        .0
        .iter()
        .map(|c| c.y)
        .fold(f64::MIN, f64::max);
    let x = b
        .footprint
        .exterior()
        .0
        .iter()
        .find(|c| c.y == top)
        .unwrap()
        .x;
    // 0.0002° north of the top vertex: 22.2 m away.
    let p = Point::new(x, top + 0.0002);
    let d = metres_to_polygon(p, &b.footprint);
    assert!((d - 22.24).abs() < 0.05, "{d}");
    assert!(
        index
            .buildings_within_distance(p, 22.0)
            .iter()
            .all(|h| h.building.id != b.id)
    );
    assert!(
        index
            .buildings_within_distance(p, 22.5)
            .iter()
            .any(|h| h.building.id == b.id)
    );
}

#[test]
fn box_and_polygon_queries_agree_with_a_brute_force_scan() {
    let buildings = fixture_buildings();
    let index = FootprintIndex::new(buildings.clone());
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let (x0, y0, x1, y1) = dizhi::synth::DISTRICT_BOUNDS;
    for _ in 0..60 {
        let (x, y) = (rng.random_range(x0..x1), rng.random_range(y0..y1));
        let (w, h) = (
            rng.random_range(0.0005..0.02),
            rng.random_range(0.0005..0.02),
        );
        let rect = Rect::new(coord! { x: x, y: y }, coord! { x: x + w, y: y + h });
        let expected: Vec<&str> = buildings
            .iter()
            .filter(|b| b.footprint.intersects(&rect))
            .map(|b| b.id.as_str())
            .collect();
        let got: Vec<&str> = index
            .buildings_in_box(rect)
            .iter()
            .map(|b| b.id.as_str())
            .collect();
        assert_eq!(got, expected);
        // A triangle over the same box: intersecting and within.
        let tri = MultiPolygon(vec![geo::Polygon::new(
            geo::LineString::from(vec![(x, y), (x + w, y), (x, y + h), (x, y)]),
            vec![],
        )]);
        for rel in [PolygonRelation::Intersects, PolygonRelation::Within] {
            let expected: Vec<&str> = buildings
                .iter()
                .filter(|b| match rel {
                    PolygonRelation::Intersects => tri.intersects(&b.footprint),
                    PolygonRelation::Within => tri.contains(&b.footprint),
                })
                .map(|b| b.id.as_str())
                .collect();
            let got: Vec<&str> = index
                .buildings_in_polygon(&tri, rel)
                .iter()
                .map(|b| b.id.as_str())
                .collect();
            assert_eq!(got, expected, "{rel:?}");
        }
    }
}

#[test]
fn invalid_geometries_are_reported_with_id_and_reason_while_valid_ones_load() {
    let text = r#"{"type":"FeatureCollection","features":[
 {"type":"Feature","properties":{"id":"ok","kind":"shop","floors":2},
  "geometry":{"type":"Polygon","coordinates":[[[121,31,4.5],[121.001,31,4.5],[121.001,31.001,4.5],[121,31.001,4.5],[121,31,4.5]]]}},
 {"type":"Feature","properties":{"id":"bowtie","kind":"shop"},
  "geometry":{"type":"Polygon","coordinates":[[[121,31],[121.001,31.001],[121.001,31],[121,31.001],[121,31]]]}},
 {"type":"Feature","properties":{"id":"hole-outside","kind":"shop"},
  "geometry":{"type":"Polygon","coordinates":[[[121,31],[121.001,31],[121.001,31.001],[121,31]],[[121.1,31.1],[121.2,31.1],[121.2,31.2],[121.1,31.1]]]}},
 {"type":"Feature","properties":{"id":"line","kind":"shop"},
  "geometry":{"type":"LineString","coordinates":[[121,31],[121.001,31]]}},
 {"type":"Feature","properties":{"id":"two-points","kind":"shop"},
  "geometry":{"type":"Polygon","coordinates":[[[121,31],[121.001,31],[121,31]]]}},
 {"type":"Feature","properties":{"id":"no-geometry","kind":"shop"},"geometry":null},
 {"type":"Feature","properties":{"kind":"factory","floors":"3"},
  "geometry":{"type":"MultiPolygon","coordinates":[
    [[[121.01,31.01],[121.02,31.01],[121.02,31.02],[121.01,31.02],[121.01,31.01]],
     [[121.012,31.012],[121.014,31.012],[121.014,31.014],[121.012,31.014],[121.012,31.012]]],
    [[[121.03,31.03],[121.04,31.03],[121.04,31.04],[121.03,31.03]]]]}}
]}"#;
    let loaded = gis::geojson::read_str(text).unwrap();
    let problems: HashMap<&str, &str> = loaded
        .problems
        .iter()
        .map(|p| (p.feature.as_str(), p.reason.as_str()))
        .collect();
    assert_eq!(loaded.footprints.len(), 2, "{problems:?}");
    assert!(
        problems["bowtie"].contains("self-intersection"),
        "{problems:?}"
    );
    assert!(
        problems["hole-outside"].contains("not contained within"),
        "{problems:?}"
    );
    assert!(problems["line"].contains("LineString"), "{problems:?}");
    assert!(
        problems["two-points"].contains("at least 3 distinct points"),
        "{problems:?}"
    );
    assert!(
        problems["no-geometry"].contains("no geometry"),
        "{problems:?}"
    );
    // The multipolygon with a hole and no id loads as two buildings named after its position.
    let (buildings, _) = loaded.into_buildings();
    let ids: Vec<&str> = buildings.iter().map(|b| b.id.as_str()).collect();
    assert_eq!(ids, ["ok", "#6#1", "#6#2"]);
    assert_eq!(buildings[1].footprint.interiors().len(), 1);
    assert_eq!(buildings[1].floors, 3);
    // A point in the hole is in no building.
    let index = FootprintIndex::new(buildings);
    assert!(
        index
            .containing_building(Point::new(121.013, 31.013))
            .is_none()
    );
    assert_eq!(
        index
            .containing_building(Point::new(121.011, 31.011))
            .unwrap()
            .id,
        "#6#1"
    );
}

/// The fixture's footprints with their first address, as `dizhi export` writes them.
pub(crate) fn fixture_footprints() -> Vec<Footprint> {
    let mut first: HashMap<String, (String, usize)> = HashMap::new();
    for (_, text, _, b) in fixture_addresses() {
        first.entry(b).and_modify(|e| e.1 += 1).or_insert((text, 1));
    }
    fixture_buildings()
        .iter()
        .map(|b| match first.get(&b.id) {
            Some((t, n)) => Footprint::from_building(b, Some(t), *n),
            None => Footprint::from_building(b, None, 0),
        })
        .collect()
}

/// Set to 1 to skip the ogrinfo half of the export tests on a machine without GDAL.
pub(crate) const SKIP_GDAL_ENV: &str = "DIZHI_SKIP_GDAL_TESTS";

/// `ogrinfo ARGS`; without GDAL a failure with the install hint, or `None` when
/// [`SKIP_GDAL_ENV`] says to skip.
pub(crate) fn ogrinfo(args: &[&str]) -> Option<(String, String)> {
    match Command::new("ogrinfo").args(args).output() {
        Ok(out) => {
            assert!(
                out.status.success(),
                "ogrinfo {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            Some((
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            ))
        }
        Err(_) if std::env::var(SKIP_GDAL_ENV).is_ok_and(|v| v == "1") => {
            eprintln!("{SKIP_GDAL_ENV}=1: the ogrinfo half is skipped");
            None
        }
        Err(e) => panic!(
            "ogrinfo could not run ({e}): install GDAL (apt-get install -y gdal-bin), \
             or set {SKIP_GDAL_ENV}=1 to skip the ogrinfo half of these tests"
        ),
    }
}

/// What ogrinfo says about the feature with id B00000002 and about the layer.
fn check_with_ogrinfo(path: &Path, layer: &str, n: usize, b2_address: &str) {
    let p = path.to_str().unwrap();
    let Some((summary, warnings)) = ogrinfo(&["-ro", "-so", "-al", p]) else {
        return;
    };
    assert!(warnings.trim().is_empty(), "ogrinfo warned: {warnings}");
    assert!(
        summary.contains(&format!("Feature Count: {n}")),
        "{summary}"
    );
    assert!(
        summary.contains("WGS 84") || summary.contains("WGS_1984"),
        "{summary}"
    );
    for field in [
        "id: String",
        "kind: String",
        "floors: Integer",
        "address: String",
        "addr_count: Integer",
    ] {
        assert!(summary.contains(field), "no {field} in {summary}");
    }
    let (one, warnings) = ogrinfo(&["-ro", "-al", "-q", p, "-where", "id = 'B00000002'"]).unwrap();
    assert!(warnings.trim().is_empty(), "ogrinfo warned: {warnings}");
    assert!(one.contains(&format!("OGRFeature({layer})")), "{one}");
    assert!(one.contains("kind (String) = residential"), "{one}");
    assert!(one.contains("floors (Integer) = 14"), "{one}");
    assert!(
        one.contains(&format!("address (String) = {b2_address}")),
        "{one}"
    );
    assert!(one.contains("POLYGON ((121.0441199 31.1017376"), "{one}");
}

#[test]
fn geopackage_round_trips_and_ogrinfo_reads_it() {
    let footprints = fixture_footprints();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("buildings.gpkg");
    gis::gpkg::write(&path, &footprints).unwrap();
    let back = gis::gpkg::read(&path).unwrap();
    assert!(back.problems.is_empty());
    assert_eq!(back.footprints, footprints);
    let b2 = footprints.iter().find(|f| f.id == "B00000002").unwrap();
    check_with_ogrinfo(
        &path,
        "buildings",
        footprints.len(),
        b2.address.as_deref().unwrap(),
    );
}

#[test]
fn geopackage_keeps_multipolygons_and_holes() {
    let text = r#"{"type":"Feature","properties":{"id":"M","kind":"factory","floors":1},
      "geometry":{"type":"MultiPolygon","coordinates":[
        [[[121.01,31.01],[121.02,31.01],[121.02,31.02],[121.01,31.02],[121.01,31.01]],
         [[121.012,31.012],[121.014,31.012],[121.014,31.014],[121.012,31.014],[121.012,31.012]]],
        [[[121.03,31.03],[121.04,31.03],[121.04,31.04],[121.03,31.03]]]]}}"#;
    let footprints = gis::geojson::read_str(text).unwrap().footprints;
    let dir = tempfile::tempdir().unwrap();
    for name in ["m.gpkg", "m.shp", "m.geojson"] {
        let path = dir.path().join(name);
        let format = gis::GisFormat::from_path(&path).unwrap();
        gis::write_footprints(&path, format, &footprints, DbfEncoding::Utf8).unwrap();
        let back = gis::read_footprints(&path).unwrap();
        assert!(back.problems.is_empty(), "{name}");
        assert_eq!(back.footprints[0].geometry.0.len(), 2, "{name}");
        assert_eq!(
            back.footprints[0].geometry.0[0].interiors().len(),
            1,
            "{name}"
        );
        assert_eq!(back.footprints[0].id, "M", "{name}");
    }
}

#[test]
fn shapefile_in_gbk_keeps_chinese_attributes_for_dizhi_and_ogrinfo() {
    let footprints = fixture_footprints();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("buildings.shp");
    gis::shp::write(&path, &footprints, DbfEncoding::Gbk).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.path().join("buildings.cpg")).unwrap(),
        "GBK"
    );
    assert!(
        std::fs::read_to_string(dir.path().join("buildings.prj"))
            .unwrap()
            .contains("WGS_1984")
    );
    // The .dbf really holds GBK bytes: 青浦区 is C7E0 C6D6 C7F8 there, not UTF-8.
    let dbf = std::fs::read(dir.path().join("buildings.dbf")).unwrap();
    let gbk = encoding_rs::GBK.encode("青浦区").0.into_owned();
    assert_eq!(gbk, [0xC7, 0xE0, 0xC6, 0xD6, 0xC7, 0xF8]);
    assert!(dbf.windows(6).any(|w| w == gbk.as_slice()));
    assert!(!dbf.windows(9).any(|w| w == "青浦区".as_bytes()));
    let back = gis::shp::read(&path, None).unwrap();
    assert!(back.problems.is_empty());
    assert_eq!(back.footprints.len(), footprints.len());
    for (a, b) in back.footprints.iter().zip(&footprints) {
        assert_eq!(
            (&a.id, &a.kind, a.floors, &a.address, a.address_count),
            (&b.id, &b.kind, b.floors, &b.address, b.address_count)
        );
        // Shapefile rings are clockwise: compare as geometries, not vertex lists.
        assert!(
            geo::Relate::relate(&a.geometry, &b.geometry).is_equal_topo(),
            "{}",
            a.id
        );
    }
    // Without the .cpg, a reader told nothing would guess wrong; ours honours the .cpg.
    let b2 = footprints.iter().find(|f| f.id == "B00000002").unwrap();
    check_with_ogrinfo(
        &path,
        "buildings",
        footprints.len(),
        b2.address.as_deref().unwrap(),
    );
}

#[test]
fn shapefile_in_utf8_round_trips_too() {
    let footprints: Vec<Footprint> = fixture_footprints().into_iter().take(200).collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.shp");
    gis::shp::write(&path, &footprints, DbfEncoding::Utf8).unwrap();
    let back = gis::shp::read(&path, None).unwrap();
    let addresses: Vec<_> = back.footprints.iter().map(|f| f.address.clone()).collect();
    assert_eq!(
        addresses,
        footprints
            .iter()
            .map(|f| f.address.clone())
            .collect::<Vec<_>>()
    );
    // A GBK reader of UTF-8 bytes garbles: the .cpg is what makes it right.
    let wrong = gis::shp::read(&path, Some(encoding_rs::GBK)).unwrap();
    assert_ne!(wrong.footprints[1].address, footprints[1].address);
}

#[test]
fn cli_reverse_reads_stdin_lines_and_answers_bad_ones_with_an_error_object() {
    let dir = tempfile::tempdir().unwrap();
    dizhi::store::build(&fixture(), dir.path(), &|_, _, _| {}).unwrap();
    let exe = env!("CARGO_BIN_EXE_dizhi");
    let mut child = Command::new(exe)
        .args(["reverse", "--data", dir.path().to_str().unwrap()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"121.0441750,31.1018318\nnot a point\n2.35,48.85\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["building_id"], "B00000002");
    assert_eq!(lines[0]["distance_m"], 0.0);
    assert_eq!(
        lines[0]["addresses"][0]["address"],
        "青浦区朱家角镇淀山湖大道468弄1号"
    );
    assert!(lines[1]["error"].as_str().unwrap().contains("LON,LAT"));
    assert!(lines[2]["building_id"].is_null());
    // A malformed box is a usage error: exit code 2.
    let bad = Command::new(exe)
        .args([
            "buildings",
            "--data",
            dir.path().to_str().unwrap(),
            "--bbox",
            "1,2,3",
        ])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    // Export to GeoPackage works end to end.
    let gpkg = dir.path().join("b.gpkg");
    let ok = Command::new(exe)
        .args([
            "export",
            "buildings",
            "--data",
            dir.path().to_str().unwrap(),
            "--format",
            "gpkg",
            "-o",
            gpkg.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert_eq!(gis::gpkg::read(&gpkg).unwrap().footprints.len(), 12_087);
}
