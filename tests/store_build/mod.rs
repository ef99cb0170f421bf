//! `dizhi build` and the store: a tiny hand-written district loads intact, a rebuild replaces it,
//! every kind of bad input is reported precisely and leaves the data directory untouched, and old
//! stores migrate.

use std::fs;
use std::path::{Path, PathBuf};

use dizhi::store::{self, BuildError, Location, Store};
use dizhi::{AddressKind, BuildingKind};
use geo::{Coord, LineString, Polygon};

const HEADER: &str = "id,address,district,town_code,town,community_code,community,road,lane,number,group,poi,building,kind,building_id,lon,lat";

const ADDRESSES: &str = "\
A1,青浦区华新镇华腾路1288弄3号,青浦区,310118107000,华新镇,310118107001,华新居委会,华腾路,1288,3,,,,residential,B1,121.20015,31.20015
A2,青浦区华新镇华腾路1288弄5号,青浦区,310118107000,华新镇,310118107001,华新居委会,华腾路,1288,5,,,,residential,B1,121.20016,31.20016
A3,青浦区华新镇华腾路8号,青浦区,310118107000,华新镇,310118107001,华新居委会,华腾路,,8,,,,street,B2,121.20115,31.20015
A4,青浦区练塘镇东厍村3组12号,青浦区,310118103000,练塘镇,310118103025,东厍村,,,12,3,,,village,B3,121.05005,31.00005
A5,青浦区华新镇华腾路10号,青浦区,310118107000,华新镇,,,华腾路,,10,,,,street,,,
";

/// A square footprint's ring, closed, counter-clockwise.
fn square(x: f64, y: f64) -> String {
    let d = 0.0003;
    format!(
        "[[[{x},{y}],[{},{y}],[{},{}],[{x},{}],[{x},{y}]]]",
        x + d,
        x + d,
        y + d,
        y + d
    )
}

fn building(id: &str, kind: &str, floors: u32, coords: &str) -> String {
    format!(
        r#"{{"type":"Feature","properties":{{"id":"{id}","kind":"{kind}","floors":{floors}}},"geometry":{{"type":"Polygon","coordinates":{coords}}}}}"#
    )
}

fn collection(features: &[String]) -> String {
    format!(
        r#"{{"type":"FeatureCollection","features":[{}]}}"#,
        features.join(",\n")
    )
}

fn buildings() -> Vec<String> {
    vec![
        building("B1", "residential", 11, &square(121.2, 31.2)),
        building("B2", "shop", 2, &square(121.201, 31.2)),
        building("B3", "village_house", 3, &square(121.05, 31.0)),
    ]
}

/// Writes the tiny valid district into `dir`.
fn write_valid(dir: &Path) {
    fs::create_dir_all(dir.join("sources")).unwrap();
    fs::create_dir_all(dir.join("truth")).unwrap();
    fs::write(
        dir.join("manifest.json"),
        r#"{"generator":"dizhi synth","version":1,"seed":7,"addresses":5,"buildings":3,"extra":"ignored"}"#,
    )
    .unwrap();
    fs::write(dir.join("addresses.csv"), format!("{HEADER}\n{ADDRESSES}")).unwrap();
    fs::write(dir.join("buildings.geojson"), collection(&buildings())).unwrap();
    fs::write(
        dir.join("roads.geojson"),
        collection(&[r#"{"type":"Feature","properties":{"id":"R1","name":"华腾路","town_code":"310118107000"},"geometry":{"type":"LineString","coordinates":[[121.19,31.199],[121.21,31.199]]}}"#.to_string()]),
    )
    .unwrap();
    fs::write(
        dir.join("areas.geojson"),
        collection(&[format!(
            r#"{{"type":"Feature","properties":{{"code":"310118103025","name":"东厍村","level":"community","parent_code":"310118103000"}},"geometry":{{"type":"Polygon","coordinates":{}}}}}"#,
            "[[[121.04,30.99],[121.06,30.99],[121.06,31.01],[121.04,31.01],[121.04,30.99]]]"
        )]),
    )
    .unwrap();
    fs::write(
        dir.join("sources/mps_doorplates.csv"),
        "record_id,addr,x,y\nP1,\"华腾路1288弄3号\",121.2,31.2\nP2,\"华腾路8号, 商铺\",121.201,31.2\n",
    )
    .unwrap();
    fs::write(
        dir.join("sources/planning_buildings.geojson"),
        collection(&[
            r#"{"type":"Feature","properties":{"bldg_no":"G-1","name":"3号楼","floors":11},"geometry":{"type":"Polygon","coordinates":[[[121.2,31.2],[121.2003,31.2],[121.2003,31.2003],[121.2,31.2]]]}}"#.to_string(),
            r#"{"type":"Feature","id":"G-2","properties":{"name":"商铺"},"geometry":null}"#.to_string(),
        ]),
    )
    .unwrap();
    fs::write(dir.join("sources/README.txt"), "not a source").unwrap();
    fs::write(
        dir.join("truth/links.csv"),
        "record,address_id\nP1,A1\nP1,A1\n",
    )
    .unwrap();
}

fn no_progress() -> impl Fn(store::Stage, u64, u64) + Sync {
    |_, _, _| {}
}

fn build(src: &Path, data: &Path) -> Result<store::BuildReport, BuildError> {
    store::build(src, data, &no_progress())
}

/// Every file name in a directory, sorted (empty if the directory does not exist).
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn tiny_district_builds_and_reads_back_intact() {
    let src = tempfile::tempdir().unwrap();
    write_valid(src.path());
    let data = tempfile::tempdir().unwrap();
    let report = build(src.path(), data.path()).unwrap();
    assert_eq!(
        (
            report.addresses,
            report.buildings,
            report.links,
            report.roads,
            report.areas
        ),
        (5, 3, 4, 1, 1)
    );
    assert_eq!(
        (report.sources, report.source_records, report.truth_files),
        (2, 4, 1)
    );
    assert_eq!(report.seed, Some(7));
    assert_eq!(report.skipped, vec!["sources/README.txt".to_string()]);
    assert_eq!(listing(data.path()), vec!["dizhi.sqlite".to_string()]);

    let store = Store::open(data.path()).unwrap();
    let a1 = store.address("A1").unwrap().unwrap();
    assert_eq!(a1.kind, AddressKind::Residential);
    assert_eq!(a1.town.code, "310118107000");
    assert_eq!(a1.community.name, "华新居委会");
    assert_eq!(
        (a1.road.as_deref(), a1.lane.as_deref(), a1.number.as_deref()),
        (Some("华腾路"), Some("1288"), Some("3"))
    );
    assert_eq!(a1.building_id.as_deref(), Some("B1"));
    assert_eq!(
        a1.point.map(|p| (p.x(), p.y())),
        Some((121.20015, 31.20015))
    );
    assert_eq!(
        store.address_text("A1").unwrap().as_deref(),
        Some("青浦区华新镇华腾路1288弄3号")
    );
    let a4 = store.address("A4").unwrap().unwrap();
    assert_eq!(
        (a4.group.as_deref(), a4.community.name.as_str()),
        (Some("3"), "东厍村")
    );
    assert_eq!(a4.canonical_text(), "青浦区练塘镇东厍村3组12号");
    let a5 = store.address("A5").unwrap().unwrap();
    assert_eq!(
        (a5.building_id, a5.point, a5.community.code.as_str()),
        (None, None, "")
    );
    assert_eq!(store.address("A9").unwrap(), None);

    // Footprints equal what the file said, bit for bit, after the WKB round trip.
    let b1 = store.building("B1").unwrap().unwrap();
    let (x, y, d) = (121.2, 31.2, 0.0003);
    let expected = Polygon::new(
        LineString::new(
            [(x, y), (x + d, y), (x + d, y + d), (x, y + d), (x, y)]
                .map(|(x, y)| Coord { x, y })
                .to_vec(),
        ),
        vec![],
    );
    assert_eq!(b1.footprint, expected);
    assert_eq!((b1.kind, b1.floors), (BuildingKind::Residential, 11));
    let all = store.buildings().unwrap();
    assert_eq!(
        all.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(),
        ["B1", "B2", "B3"]
    );
    assert_eq!(all[2].kind, BuildingKind::VillageHouse);

    let of_b1: Vec<String> = store
        .addresses_of_building("B1")
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(of_b1, ["A1", "A2"]);
    let links = store.links_of_address("A3").unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(
        (
            links[0].building_id.as_str(),
            links[0].method.as_str(),
            links[0].confidence
        ),
        ("B2", "given", 1.0)
    );
    assert!(store.links_of_address("A5").unwrap().is_empty());

    let mut seen = Vec::new();
    assert_eq!(
        store
            .for_each_address(|a, text| seen.push((a.id, text)))
            .unwrap(),
        5
    );
    assert_eq!(
        seen[2],
        ("A3".to_string(), "青浦区华新镇华腾路8号".to_string())
    );

    let roads = store.roads().unwrap();
    assert_eq!(
        (roads[0].name.as_str(), roads[0].town_code.as_deref()),
        ("华腾路", Some("310118107000"))
    );
    assert!(matches!(
        roads[0].geometry,
        Some(geo::Geometry::LineString(_))
    ));
    let areas = store.areas().unwrap();
    assert_eq!(
        (areas[0].code.as_str(), areas[0].parent_code.as_deref()),
        ("310118103025", Some("310118103000"))
    );

    // Sources keep every raw record, columns in order; truth is a source of kind `truth`.
    let sources = store.sources().unwrap();
    let names: Vec<(&str, &str, u64)> = sources
        .iter()
        .map(|s| (s.name.as_str(), s.kind.as_str(), s.record_count))
        .collect();
    assert_eq!(
        names,
        [
            ("mps_doorplates", "csv", 2),
            ("planning_buildings", "geojson", 2),
            ("truth/links", "truth", 2)
        ]
    );
    let mps = store.source_records(sources[0].id).unwrap();
    assert_eq!((mps[1].key.as_str(), mps[1].line), ("P2", Some(3)));
    assert_eq!(
        mps[1].raw,
        r#"{"record_id":"P2","addr":"华腾路8号, 商铺","x":"121.201","y":"31.2"}"#
    );
    let planning = store.source_records(sources[1].id).unwrap();
    assert_eq!(planning[0].key, "G-1", "the first property is the id");
    assert_eq!(
        planning[0].raw,
        r#"{"bldg_no":"G-1","name":"3号楼","floors":11}"#
    );
    assert!(matches!(
        planning[0].geometry,
        Some(geo::Geometry::Polygon(_))
    ));
    assert_eq!(
        (planning[1].key.as_str(), planning[1].geometry.is_none()),
        ("G-2", true)
    );
    let truth = store.source_records(sources[2].id).unwrap();
    assert_eq!(
        truth.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(),
        ["1", "2"]
    );

    let summary = store.summary().unwrap();
    assert_eq!(
        (
            summary.addresses,
            summary.buildings,
            summary.links,
            summary.sources,
            summary.source_records
        ),
        (5, 3, 4, 3, 6)
    );
    assert_eq!(summary.addresses_per_town["华新镇"], 4);
    assert_eq!(summary.addresses_per_kind["street"], 2);
    assert_eq!(summary.buildings_per_kind["shop"], 1);
    assert_eq!(summary.schema_version, store::SCHEMA_VERSION);
    assert!(
        serde_json::to_string(&summary)
            .unwrap()
            .contains("\"addresses\":5")
    );

    assert_eq!(store.meta("seed").unwrap().as_deref(), Some("7"));
    assert_eq!(store.meta("count.addresses").unwrap().as_deref(), Some("5"));
    assert!(
        store
            .meta("built_at")
            .unwrap()
            .is_some_and(|t| t.ends_with('Z'))
    );
    assert!(
        store
            .meta("manifest")
            .unwrap()
            .is_some_and(|m| m.contains("\"extra\""))
    );
}

#[test]
fn rebuild_replaces_the_store() {
    let src = tempfile::tempdir().unwrap();
    write_valid(src.path());
    let data = tempfile::tempdir().unwrap();
    build(src.path(), data.path()).unwrap();
    {
        // An open-and-used store (WAL mode) is replaced just the same.
        let mut s = Store::open(data.path()).unwrap();
        s.set_meta("note", "old").unwrap();
    }
    let csv = format!(
        "{HEADER}\n{}",
        ADDRESSES.lines().take(2).collect::<Vec<_>>().join("\n")
    );
    fs::write(src.path().join("addresses.csv"), csv).unwrap();
    fs::write(src.path().join("manifest.json"), r#"{"seed":8}"#).unwrap();
    let report = build(src.path(), data.path()).unwrap();
    assert_eq!(report.addresses, 2);
    let store = Store::open(data.path()).unwrap();
    assert_eq!(store.summary().unwrap().addresses, 2);
    assert_eq!(store.address("A3").unwrap(), None);
    assert_eq!(store.meta("note").unwrap(), None);
    assert_eq!(store.meta("seed").unwrap().as_deref(), Some("8"));
}

/// One kind of bad input: how to break the valid dir, and what the error must say.
struct Case {
    name: &'static str,
    breaks: fn(&Path),
    says: &'static [&'static str],
}

fn replace_in(path: PathBuf, from: &str, to: &str) {
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{from} not in {}", path.display());
    fs::write(path, text.replacen(from, to, 1)).unwrap();
}

const CASES: &[Case] = &[
    Case {
        name: "missing addresses file",
        breaks: |d| fs::remove_file(d.join("addresses.csv")).unwrap(),
        says: &["addresses.csv: required file is missing"],
    },
    Case {
        name: "missing buildings file",
        breaks: |d| fs::remove_file(d.join("buildings.geojson")).unwrap(),
        says: &["buildings.geojson: required file is missing"],
    },
    Case {
        name: "truncated csv (last row cut short)",
        breaks: |d| {
            let text = fs::read_to_string(d.join("addresses.csv")).unwrap();
            let cut = text.trim_end().rfind(",10,").unwrap();
            fs::write(d.join("addresses.csv"), &text[..cut]).unwrap();
        },
        says: &["addresses.csv, line 6: expected 17 columns, found 9"],
    },
    Case {
        name: "wrong column count",
        breaks: |d| replace_in(d.join("addresses.csv"), "street,B2,", "street,B2,extra,"),
        says: &["addresses.csv, line 4: expected 17 columns, found 18"],
    },
    Case {
        name: "unterminated quote",
        breaks: |d| {
            replace_in(
                d.join("addresses.csv"),
                "青浦区华新镇华腾路8号,",
                "\"青浦区华新镇华腾路8号,",
            )
        },
        says: &["addresses.csv, line 4: unterminated quoted field"],
    },
    Case {
        name: "bad lon",
        breaks: |d| replace_in(d.join("addresses.csv"), "121.05005", "121.O5005"),
        says: &["addresses.csv, line 5: lon \"121.O5005\" is not a number"],
    },
    Case {
        name: "wrong header",
        breaks: |d| replace_in(d.join("addresses.csv"), ",group,", ",grp,"),
        says: &["addresses.csv, line 1: header must be exactly"],
    },
    Case {
        name: "self-intersecting polygon (bow tie)",
        breaks: |d| {
            replace_in(
                d.join("buildings.geojson"),
                &square(121.201, 31.2),
                "[[[121.201,31.2],[121.2013,31.2003],[121.2013,31.2],[121.201,31.2003],[121.201,31.2]]]",
            )
        },
        says: &[
            "buildings.geojson, feature 1 (id B2): invalid polygon",
            "self-intersection",
        ],
    },
    Case {
        name: "unclosed ring",
        breaks: |d| {
            replace_in(
                d.join("buildings.geojson"),
                &square(121.05, 31.0),
                "[[[121.05,31.0],[121.0503,31.0],[121.0503,31.0003],[121.05,31.0003]]]",
            )
        },
        says: &["buildings.geojson, feature 2 (id B3): exterior ring is not closed"],
    },
    Case {
        name: "non-polygon geometry",
        breaks: |d| {
            replace_in(
                d.join("buildings.geojson"),
                &format!(
                    r#""type":"Polygon","coordinates":{}"#,
                    square(121.201, 31.2)
                ),
                r#""type":"Point","coordinates":[121.201,31.2]"#,
            )
        },
        says: &["buildings.geojson, feature 1 (id B2): geometry is a Point, expected a Polygon"],
    },
    Case {
        name: "broken json",
        breaks: |d| {
            let text = fs::read_to_string(d.join("buildings.geojson")).unwrap();
            fs::write(d.join("buildings.geojson"), &text[..text.len() / 2]).unwrap();
        },
        says: &["buildings.geojson, line", "invalid GeoJSON"],
    },
    Case {
        name: "unknown building_id",
        breaks: |d| replace_in(d.join("addresses.csv"), "village,B3,", "village,B33,"),
        says: &["addresses.csv, line 5: building_id B33 is not among the buildings"],
    },
    Case {
        name: "duplicate address id",
        breaks: |d| replace_in(d.join("addresses.csv"), "A5,", "A1,"),
        says: &["addresses.csv, line 6: duplicate id A1 (first on line 2)"],
    },
    Case {
        name: "duplicate building id",
        breaks: |d| replace_in(d.join("buildings.geojson"), r#""id":"B3""#, r#""id":"B1""#),
        says: &["buildings.geojson, feature 2 (id B1): duplicate id B1 (first at feature 0)"],
    },
    Case {
        name: "duplicate source record id",
        breaks: |d| replace_in(d.join("sources/mps_doorplates.csv"), "P2,", "P1,"),
        says: &["sources/mps_doorplates.csv, line 3: duplicate record id P1 (first on line 2)"],
    },
    Case {
        name: "truncated source csv",
        breaks: |d| {
            replace_in(
                d.join("sources/mps_doorplates.csv"),
                ",121.201,31.2\n",
                ",121.2",
            )
        },
        says: &["sources/mps_doorplates.csv, line 3: expected 4 columns, found 3"],
    },
    Case {
        name: "manifest promises more rows",
        breaks: |d| {
            replace_in(
                d.join("manifest.json"),
                r#""addresses":5"#,
                r#""addresses":6"#,
            )
        },
        says: &["addresses.csv: manifest.json says 6 addresses, the file has 5"],
    },
];

#[test]
fn every_bad_input_is_named_and_leaves_the_data_dir_untouched() {
    for case in CASES {
        // With no store before: none after, and nothing else either.
        let src = tempfile::tempdir().unwrap();
        write_valid(src.path());
        (case.breaks)(src.path());
        let data = tempfile::tempdir().unwrap();
        let empty = data.path().join("never-created");
        let err = build(src.path(), &empty).expect_err(case.name).to_string();
        for needle in case.says {
            assert!(
                err.contains(needle),
                "{}: {err:?} does not say {needle:?}",
                case.name
            );
        }
        assert!(!empty.exists(), "{}: the data dir was created", case.name);

        // With a good store before: the same bytes after, and no temp file.
        let good = tempfile::tempdir().unwrap();
        write_valid(good.path());
        build(good.path(), data.path()).unwrap();
        let before = fs::read(data.path().join("dizhi.sqlite")).unwrap();
        let err2 = build(src.path(), data.path()).unwrap_err().to_string();
        assert_eq!(err, err2, "{}", case.name);
        assert_eq!(
            fs::read(data.path().join("dizhi.sqlite")).unwrap(),
            before,
            "{}",
            case.name
        );
        assert_eq!(
            listing(data.path()),
            vec!["dizhi.sqlite".to_string()],
            "{}",
            case.name
        );
    }
}

#[test]
fn missing_source_dir_is_an_error() {
    let data = tempfile::tempdir().unwrap();
    let err = build(&data.path().join("nope"), data.path()).unwrap_err();
    assert!(matches!(err, BuildError::NoSourceDir(_)));
    assert!(err.to_string().contains("nope"));
    assert!(listing(data.path()).is_empty());
}

#[test]
fn many_problems_are_all_reported_up_to_the_cap() {
    let src = tempfile::tempdir().unwrap();
    write_valid(src.path());
    let mut csv = format!("{HEADER}\n");
    for i in 0..30 {
        csv.push_str(&format!("X{i},t,青浦区,,,,,,,,,,,street,,abc,31\n"));
    }
    fs::write(src.path().join("addresses.csv"), csv).unwrap();
    replace_in(
        src.path().join("buildings.geojson"),
        r#""floors":2"#,
        r#""floors":-2"#,
    );
    let BuildError::Invalid { problems, more, .. } =
        build(src.path(), &src.path().join("data")).unwrap_err()
    else {
        panic!("expected Invalid");
    };
    assert_eq!(problems.len(), store::MAX_PROBLEMS);
    // 1 floors + 30 bad lons; the manifest's counts are not checked for files already wrong.
    assert_eq!(problems.len() + more, 31);
    assert_eq!(problems[0].file, "buildings.geojson");
    assert_eq!(
        problems[0].location,
        Location::Feature {
            index: 1,
            id: Some("B2".into())
        }
    );
    assert_eq!(problems[1].location, Location::Line(2));
    assert!(
        build(src.path(), &src.path().join("data"))
            .unwrap_err()
            .to_string()
            .contains("… and 11 more")
    );
}

#[test]
fn an_older_store_is_migrated_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dizhi.sqlite");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(store::MIGRATIONS[0]).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO addresses (id, address, district, kind) VALUES ('A1', '青浦区华腾路8号', '青浦区', 'street')",
            [],
        )
        .unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.schema_version().unwrap(), store::SCHEMA_VERSION);
    assert_eq!(
        store.address("A1").unwrap().unwrap().kind,
        AddressKind::Street
    );
    let tables: i64 = store
        .connection()
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('anomalies', 'reviews', 'audit_log', 'tags')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 4);
}

#[test]
fn a_newer_store_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    {
        let conn = rusqlite::Connection::open(dir.path().join("dizhi.sqlite")).unwrap();
        conn.pragma_update(None, "user_version", store::SCHEMA_VERSION + 1)
            .unwrap();
    }
    let err = Store::open(dir.path()).unwrap_err();
    assert!(matches!(err, store::Error::NewerSchema { .. }), "{err}");
}

#[test]
fn cli_build_prints_a_summary_and_fails_with_exit_code_1() {
    let src = tempfile::tempdir().unwrap();
    write_valid(src.path());
    let data = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dizhi"))
        .arg("--data")
        .arg(data.path())
        .arg("build")
        .arg(src.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("5 addresses, 3 buildings, 4 links"),
        "{stdout}"
    );
    assert!(out.stderr.is_empty(), "no progress bar off a terminal");

    fs::remove_file(src.path().join("buildings.geojson")).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dizhi"))
        .arg("--data")
        .arg(data.path())
        .arg("build")
        .arg(src.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("buildings.geojson: required file is missing")
    );
}

#[test]
fn a_store_open_elsewhere_is_not_replaced_under_its_feet() {
    let src = tempfile::tempdir().unwrap();
    write_valid(src.path());
    let data = tempfile::tempdir().unwrap();
    build(src.path(), data.path()).unwrap();
    let open = Store::open(data.path()).unwrap();
    let err = build(src.path(), data.path()).unwrap_err().to_string();
    assert!(err.contains("open in another process"), "{err}");
    assert_eq!(open.summary().unwrap().addresses, 5);
    drop(open);
    assert_eq!(listing(data.path()), vec!["dizhi.sqlite".to_string()]);
    build(src.path(), data.path()).unwrap();
}

/// Writes a district big enough that every kind of record crosses several write batches.
fn write_bigger(dir: &Path, addresses: usize, buildings: usize) {
    fs::create_dir_all(dir.join("sources")).unwrap();
    let features: Vec<String> = (0..buildings)
        .map(|i| {
            let (x, y) = (
                121.0 + (i % 100) as f64 * 0.001,
                31.0 + (i / 100) as f64 * 0.001,
            );
            building(&format!("B{i}"), "office", 4, &square(x, y))
        })
        .collect();
    fs::write(dir.join("buildings.geojson"), collection(&features)).unwrap();
    let mut csv = format!("{HEADER}\n");
    let mut mps = String::from("id,addr\n");
    for i in 0..addresses {
        let b = i % buildings;
        csv.push_str(&format!(
            "A{i},青浦区华新镇华腾路{i}号,青浦区,310118107000,华新镇,,,华腾路,,{i},,,,industrial,B{b},121.0,31.0\n"
        ));
        mps.push_str(&format!("M{i},华腾路{i}号\n"));
    }
    fs::write(dir.join("addresses.csv"), csv).unwrap();
    fs::write(dir.join("sources/mps.csv"), mps).unwrap();
    let points: Vec<String> = (0..buildings)
        .map(|i| format!(r#"{{"type":"Feature","properties":{{"code":"P{i}"}},"geometry":{{"type":"Point","coordinates":[121.0,31.0]}}}}"#))
        .collect();
    fs::write(dir.join("sources/poi.geojson"), collection(&points)).unwrap();
}

#[test]
fn a_district_bigger_than_a_write_batch_loads_whole_or_not_at_all() {
    let (n_addresses, n_buildings) = (25_000, 12_000);
    let src = tempfile::tempdir().unwrap();
    write_bigger(src.path(), n_addresses, n_buildings);
    let data = tempfile::tempdir().unwrap();
    let report = build(src.path(), data.path()).unwrap();
    assert_eq!(
        (report.addresses, report.buildings, report.links),
        (n_addresses, n_buildings, n_addresses)
    );
    assert_eq!(
        (report.sources, report.source_records),
        (2, n_addresses + n_buildings)
    );
    let before = fs::read(data.path().join("dizhi.sqlite")).unwrap();
    {
        let store = Store::open_file(&data.path().join("dizhi.sqlite")).unwrap();
        let summary = store.summary().unwrap();
        assert_eq!(
            (summary.addresses, summary.buildings, summary.links),
            (25_000, 12_000, 25_000)
        );
        assert_eq!(summary.records_per_source["mps"], 25_000);
        assert_eq!(summary.records_per_source["poi"], 12_000);
        let last = store.address("A24999").unwrap().unwrap();
        assert_eq!(last.building_id.as_deref(), Some("B999"));
        assert_eq!(store.addresses_of_building("B11999").unwrap().len(), 2);
        assert_eq!(store.buildings().unwrap().len(), 12_000);
        let poi = store
            .sources()
            .unwrap()
            .into_iter()
            .find(|s| s.name == "poi")
            .unwrap();
        assert_eq!(poi.record_count, 12_000);
        assert_eq!(store.source_records(poi.id).unwrap()[11_999].key, "P11999");
    }
    let before_reopened = fs::read(data.path().join("dizhi.sqlite")).unwrap();
    assert_ne!(before, before_reopened, "opening switches the store to WAL");

    // A problem after several batches were written to the temp store: nothing changes.
    replace_in(
        src.path().join("addresses.csv"),
        "A24000,青浦区华新镇华腾路24000号,",
        "A24000,\"青浦区华新镇华腾路24000号,",
    );
    let err = build(src.path(), data.path()).unwrap_err().to_string();
    assert!(
        err.contains("addresses.csv, line 24002: unterminated quoted field"),
        "{err}"
    );
    assert_eq!(
        fs::read(data.path().join("dizhi.sqlite")).unwrap(),
        before_reopened
    );
    assert_eq!(listing(data.path()), vec!["dizhi.sqlite".to_string()]);
}

#[test]
fn problems_in_sources_name_their_file_and_feature() {
    let src = tempfile::tempdir().unwrap();
    write_valid(src.path());
    fs::write(
        src.path().join("sources/bad.geojson"),
        collection(&[
            r#"{"type":"Feature","properties":{"id":"X1"},"geometry":{"type":"Point","coordinates":[121.0]}}"#.to_string(),
            r#"{"type":"Feature","properties":{},"geometry":null}"#.to_string(),
        ]),
    )
    .unwrap();
    fs::write(
        src.path().join("sources/latin1.csv"),
        b"id,name\nL1,caf\xe9\n",
    )
    .unwrap();
    fs::write(
        src.path().join("sources/dupcols.csv"),
        "id,name,id\n1,a,1\n",
    )
    .unwrap();
    fs::write(
        src.path().join("roads.geojson"),
        r#"{"type":"Feature","properties":{}}"#,
    )
    .unwrap();
    let err = build(src.path(), &src.path().join("data"))
        .unwrap_err()
        .to_string();
    for needle in [
        "sources/bad.geojson, feature 0 (id X1): invalid geometry",
        "sources/bad.geojson, feature 1: no record id",
        "sources/latin1.csv, line 2: invalid UTF-8 in field 2",
        "sources/dupcols.csv, line 1: duplicate column name \"id\"",
        "roads.geojson",
    ] {
        assert!(err.contains(needle), "{err:?} does not say {needle:?}");
    }
    assert!(!src.path().join("data").exists());
}

#[test]
fn a_corrupt_row_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let conn = store.connection();
    conn.execute(
        "INSERT INTO addresses (id, address, district, kind) VALUES ('A1', 'x', '青浦区', 'castle')",
        [],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO buildings (id, kind, floors, footprint, min_lon, min_lat, max_lon, max_lat) \
         VALUES ('B1', 'shop', 1, x'0103', 0, 0, 0, 0)",
        [],
    )
    .unwrap();
    assert!(matches!(store.address("A1"), Err(store::Error::Corrupt(_))));
    assert!(matches!(
        store.building("B1"),
        Err(store::Error::Corrupt(_))
    ));
    assert!(store.buildings().is_err());
    assert!(store.for_each_address(|_, _| {}).is_err());
}
