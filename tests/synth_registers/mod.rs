//! `dizhi synth --registers`: the raw registers of the synthetic district as departments hand
//! them over, read back the way a steward's tools (and GDAL) read them.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use geo::CoordsIter;

/// `dizhi synth --registers` at 2,000 addresses into `out`.
fn synth_registers(out: &Path, seed: &str) {
    let status = Command::new(env!("CARGO_BIN_EXE_dizhi"))
        .args([
            "synth",
            "--registers",
            "--addresses",
            "2000",
            "--seed",
            seed,
            "--out",
        ])
        .arg(out)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
}

/// Every file under `dir`, relative path to bytes.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().to_path_buf();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

fn csv_rows(text: &str) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            header
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

#[test]
fn synth_registers_writes_raw_registers_their_config_and_the_truth() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("a");
    synth_registers(&out, "5");
    let reg = out.join("registers");

    // The 公安 door plates are GBK, not UTF-8.
    let gongan = std::fs::read(reg.join("公安门牌.csv")).unwrap();
    assert!(std::str::from_utf8(&gongan).is_err());
    let gongan = encoding_rs::GBK
        .decode_without_bom_handling_and_without_replacement(&gongan)
        .expect("the 公安 file decodes as GBK")
        .into_owned();
    let plates = csv_rows(&gongan);
    for column in [
        "门牌编号",
        "街镇",
        "居委会",
        "路名",
        "弄号",
        "门牌号",
        "楼幢号",
        "村组",
        "地址全称",
        "经度",
        "纬度",
    ] {
        assert!(plates[0].contains_key(column), "{column}");
    }
    let no_point = plates.iter().filter(|p| p["经度"].is_empty()).count();
    assert!(
        no_point > 0 && no_point < plates.len() / 50,
        "{no_point} of {}",
        plates.len()
    );
    let orders = csv_rows(&std::fs::read_to_string(reg.join("12345工单.csv")).unwrap());

    // The footprints: a Shapefile in CGCS2000 Gauss–Krüger CM 120E that loads where the truth is.
    let prj = std::fs::read_to_string(reg.join("建筑物.prj")).unwrap();
    assert!(
        prj.contains("Gauss_Kruger") && prj.contains(r#""Central_Meridian",120.0"#),
        "{prj}"
    );
    assert!(
        dizhi::crs::SourceCrs::from_wkt(&prj)
            .unwrap()
            .is_projected()
    );
    let options = dizhi::gis::ReadOptions {
        id: vec!["JZWBM".into()],
        floors: vec!["JZCS".into()],
        ..Default::default()
    };
    let loaded = dizhi::gis::read_footprints_as(&reg.join("建筑物.shp"), &options).unwrap();
    let problems: HashSet<&str> = loaded.problems.iter().map(|p| p.feature.as_str()).collect();
    for id in dizhi::synth::BROKEN_FOOTPRINTS {
        assert!(problems.contains(id), "{id} is not reported: {problems:?}");
    }
    let read: HashMap<&str, &dizhi::gis::Footprint> = loaded
        .footprints
        .iter()
        .map(|f| (f.id.as_str(), f))
        .collect();
    let truth: geojson::FeatureCollection =
        std::fs::read_to_string(out.join("truth/buildings.geojson"))
            .unwrap()
            .parse::<geojson::GeoJson>()
            .unwrap()
            .try_into()
            .unwrap();
    assert!(!truth.features.is_empty());
    for f in &truth.features {
        let id = f.property("id").and_then(|v| v.as_str()).unwrap();
        let poly: geo::Polygon<f64> = f.geometry.clone().unwrap().try_into().unwrap();
        let got = read
            .get(id)
            .unwrap_or_else(|| panic!("{id} not in the Shapefile"));
        for c in poly.exterior_coords_iter() {
            let near = got
                .geometry
                .coords_iter()
                .any(|g| (g.x - c.x).abs() <= 1e-6 && (g.y - c.y).abs() <= 1e-6);
            assert!(near, "{id}: {c:?} not within 1e-6° in the Shapefile");
        }
    }

    // The boundaries: both layers.
    let conn = rusqlite::Connection::open(reg.join("行政区划.gpkg")).unwrap();
    let count = |layer: &str| -> i64 {
        conn.query_row(&format!("SELECT count(*) FROM \"{layer}\""), [], |r| {
            r.get(0)
        })
        .unwrap()
    };
    assert!(count("jiezhen") > 1);
    assert!(count("juweihui") > count("jiezhen"));
    let code: String = conn
        .query_row("SELECT XZQDM FROM juweihui LIMIT 1", [], |r| r.get(0))
        .unwrap();
    assert_eq!(code.len(), 12, "{code}");

    // The config parses, with the contract's sections.
    let config: toml::Table = std::fs::read_to_string(out.join("registers.toml"))
        .unwrap()
        .parse()
        .unwrap();
    for section in [
        "district",
        "link",
        "addresses",
        "names",
        "footprints",
        "boundaries",
        "roads",
    ] {
        assert!(config.contains_key(section), "{section}");
    }
    for entry in config["addresses"].as_array().unwrap() {
        let path = out.join(entry["path"].as_str().unwrap());
        assert!(path.exists(), "{}", path.display());
    }

    // Every true address is named by a door plate or a work order that is in its file.
    let records = csv_rows(&std::fs::read_to_string(out.join("truth/records.csv")).unwrap());
    let in_files: HashSet<&str> = plates
        .iter()
        .map(|p| p["门牌编号"].as_str())
        .chain(orders.iter().map(|o| o["工单编号"].as_str()))
        .collect();
    let named: HashSet<&str> = records
        .iter()
        .filter(|r| in_files.contains(r["record_id"].as_str()))
        .map(|r| r["address_id"].as_str())
        .collect();
    let addresses = csv_rows(&std::fs::read_to_string(out.join("truth/addresses.csv")).unwrap());
    assert_eq!(addresses.len(), 2000);
    for a in &addresses {
        assert!(
            named.contains(a["id"].as_str()),
            "{} is in no register",
            a["id"]
        );
        assert!(read.contains_key(a["building_id"].as_str()), "{a:?}");
    }

    // GDAL reads both.
    if let Some((shp, _)) = crate::spatial::ogrinfo(&[
        "-ro",
        "-so",
        "-al",
        reg.join("建筑物.shp").to_str().unwrap(),
    ]) {
        assert!(
            shp.contains("Gauss-Kruger CM 120E") || shp.contains("Gauss_Kruger_CM_120E"),
            "{shp}"
        );
        assert!(shp.contains("JZWBM"), "{shp}");
    }
    if let Some((gpkg, _)) =
        crate::spatial::ogrinfo(&["-ro", "-so", reg.join("行政区划.gpkg").to_str().unwrap()])
    {
        assert!(
            gpkg.contains("jiezhen") && gpkg.contains("juweihui"),
            "{gpkg}"
        );
    }

    // The same seed gives the same bytes.
    let again = dir.path().join("b");
    synth_registers(&again, "5");
    let (a, b) = (files(&out), files(&again));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (path, bytes) in &a {
        assert!(bytes == &b[path], "{} differs", path.display());
    }
}
