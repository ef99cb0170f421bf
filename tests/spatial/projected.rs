//! Footprint layers in a projected CGCS2000 Gauss–Krüger system, as 规划资源 delivers them: GDAL
//! (`ogr2ogr`, real PROJ) reprojects the fixture's footprints to EPSG:4549, and dizhi must read
//! them back where they were; metres declared as degrees, or with no `.prj`, are refused.

use std::path::Path;
use std::process::Command;

use dizhi::gis::shp::DbfEncoding;
use dizhi::gis::{self, Footprint};
use geo::CoordsIter;

use super::{SKIP_GDAL_ENV, fixture_footprints};

/// `ogr2ogr ARGS`: true when it ran; without GDAL a failure with the install hint, or false
/// when [`SKIP_GDAL_ENV`] says to skip.
fn ogr2ogr(args: &[&str]) -> bool {
    match Command::new("ogr2ogr").args(args).output() {
        Ok(out) => {
            assert!(
                out.status.success(),
                "ogr2ogr {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            true
        }
        Err(_) if std::env::var(SKIP_GDAL_ENV).is_ok_and(|v| v == "1") => {
            eprintln!("{SKIP_GDAL_ENV}=1: the ogr2ogr test is skipped");
            false
        }
        Err(e) => panic!(
            "ogr2ogr could not run ({e}): install GDAL (apt-get install -y gdal-bin), \
             or set {SKIP_GDAL_ENV}=1 to skip the GDAL tests"
        ),
    }
}

/// A few hundred fixture footprints written by dizhi in WGS84 (GBK attributes), then
/// reprojected by GDAL into `out` (a `.shp` or `.gpkg`) in EPSG:4549.
fn reprojected_by_gdal(dir: &Path, out: &Path) -> Option<Vec<Footprint>> {
    let footprints: Vec<Footprint> = fixture_footprints().into_iter().take(300).collect();
    let wgs84 = dir.join("wgs84.shp");
    gis::shp::write(&wgs84, &footprints, DbfEncoding::Gbk).unwrap();
    let format = if out.extension().is_some_and(|e| e == "gpkg") {
        "GPKG"
    } else {
        "ESRI Shapefile"
    };
    let mut args = vec!["-f", format, "-t_srs", "EPSG:4549"];
    if format == "ESRI Shapefile" {
        args.extend(["-lco", "ENCODING=GBK"]);
    }
    args.extend([out.to_str().unwrap(), wgs84.to_str().unwrap()]);
    ogr2ogr(&args).then_some(footprints)
}

/// Every vertex of each footprint in `back` within `tolerance` degrees of a vertex of the same
/// footprint in `want`, and the other way round (GDAL may start or orient a ring differently).
fn assert_same_places(want: &[Footprint], back: &[Footprint], tolerance: f64) {
    assert_eq!(back.len(), want.len());
    let nearest = |p: geo::Coord<f64>, of: &Footprint| {
        of.geometry
            .coords_iter()
            .map(|q| (p.x - q.x).abs().max((p.y - q.y).abs()))
            .fold(f64::INFINITY, f64::min)
    };
    let mut worst = 0.0f64;
    for (w, b) in want.iter().zip(back) {
        assert_eq!((&w.id, &w.kind, w.floors), (&b.id, &b.kind, b.floors));
        assert_eq!(w.address, b.address, "{}", w.id);
        for p in b.geometry.coords_iter() {
            worst = worst.max(nearest(p, w));
        }
        for p in w.geometry.coords_iter() {
            worst = worst.max(nearest(p, b));
        }
    }
    assert!(worst < tolerance, "a vertex moved by {worst}°");
}

#[test]
fn a_gauss_kruger_shapefile_with_gbk_attributes_loads_where_gdal_put_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("jzw.shp");
    let Some(want) = reprojected_by_gdal(dir.path(), &out) else {
        return;
    };
    let prj = std::fs::read_to_string(dir.path().join("jzw.prj")).unwrap();
    assert!(prj.contains("120"), "{prj}");
    let back = gis::read_footprints(&out).unwrap();
    assert!(back.problems.is_empty(), "{:?}", back.problems);
    // 1e-7° is about a centimetre.
    assert_same_places(&want, &back.footprints, 1e-7);
}

#[test]
fn a_geopackage_in_epsg_4549_loads_where_gdal_put_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("jzw.gpkg");
    let Some(want) = reprojected_by_gdal(dir.path(), &out) else {
        return;
    };
    let back = gis::read_footprints(&out).unwrap();
    assert!(back.problems.is_empty(), "{:?}", back.problems);
    assert_same_places(&want, &back.footprints, 1e-7);
}

#[test]
fn metres_with_no_prj_or_a_degrees_prj_are_refused_not_loaded() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("jzw.shp");
    if reprojected_by_gdal(dir.path(), &out).is_none() {
        return;
    }
    let prj = dir.path().join("jzw.prj");
    std::fs::copy(dir.path().join("wgs84.prj"), &prj).unwrap();
    let e = gis::read_footprints(&out).unwrap_err().to_string();
    assert!(e.contains("300 of 300 features are out of range"), "{e}");
    assert!(e.contains("look like metres"), "{e}");
    std::fs::remove_file(&prj).unwrap();
    let e = gis::read_footprints(&out).unwrap_err().to_string();
    assert!(e.contains("look like metres"), "{e}");
}

#[test]
fn one_feature_out_of_range_is_reported_and_the_others_load() {
    let square = |x: f64, y: f64, d: f64| {
        format!(
            "[[[{x},{y}],[{},{y}],[{},{}],[{x},{}],[{x},{y}]]]",
            x + d,
            x + d,
            y + d,
            y + d
        )
    };
    let text = format!(
        r#"{{"type":"FeatureCollection","features":[
          {{"type":"Feature","properties":{{"id":"A"}},"geometry":{{"type":"Polygon","coordinates":{}}}}},
          {{"type":"Feature","properties":{{"id":"M"}},"geometry":{{"type":"Polygon","coordinates":{}}}}},
          {{"type":"Feature","properties":{{"id":"C"}},"geometry":{{"type":"Polygon","coordinates":{}}}}}]}}"#,
        square(121.1, 31.1, 0.001),
        square(614_418.0, 3_447_846.0, 20.0),
        square(121.2, 31.2, 0.001),
    );
    let loaded = gis::geojson::read_str(&text).unwrap();
    let ids: Vec<&str> = loaded.footprints.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["A", "C"]);
    assert_eq!(loaded.problems.len(), 1);
    assert_eq!(loaded.problems[0].feature, "M");
    assert!(
        loaded.problems[0].reason.contains("out of range"),
        "{:?}",
        loaded.problems
    );
}
