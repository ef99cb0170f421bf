//! Writes a generated district to its directory.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::Path;

use geojson::{Feature, Geometry, JsonObject, JsonValue};

use super::geometry::round7;
use super::{District, Error, Result};

pub(super) fn io_err(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Write {
        path: path.display().to_string(),
        source,
    }
}

pub(super) fn csv_err(path: &Path) -> impl Fn(csv::Error) -> Error + '_ {
    move |e| Error::Write {
        path: path.display().to_string(),
        source: e.into(),
    }
}

fn write_csv(path: &Path, header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Result<()> {
    let mut w = csv::Writer::from_path(path).map_err(csv_err(path))?;
    w.write_record(header).map_err(csv_err(path))?;
    for row in rows {
        w.write_record(&row).map_err(csv_err(path))?;
    }
    w.flush().map_err(io_err(path))
}

/// Writes a FeatureCollection with one feature per line, so the files diff well (through the one
/// GeoJSON writer, [`crate::gis::geojson::write_features`]).
pub(super) fn write_features(path: &Path, features: impl Iterator<Item = Feature>) -> Result<()> {
    let mut w = BufWriter::new(File::create(path).map_err(io_err(path))?);
    crate::gis::geojson::write_features(&mut w, features).map_err(io_err(path))?;
    w.flush().map_err(io_err(path))
}

pub(super) fn feature(geometry: Geometry, props: Vec<(&str, JsonValue)>) -> Feature {
    let mut properties = JsonObject::new();
    for (k, v) in props {
        properties.insert(k.to_string(), v);
    }
    Feature {
        bbox: None,
        geometry: Some(geometry),
        id: None,
        properties: Some(properties),
        foreign_members: None,
    }
}

fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_default()
}

pub(super) fn write_district(d: &District, out: &Path) -> Result<()> {
    fs::create_dir_all(out.join("sources")).map_err(io_err(out))?;
    fs::create_dir_all(out.join("truth")).map_err(io_err(out))?;

    let path = out.join("addresses.csv");
    write_csv(
        &path,
        // The same header the store's build requires.
        &crate::store::ADDRESS_HEADER,
        d.addresses.iter().map(|a| {
            let (lon, lat) = a.point.map(|p| (p.x(), p.y())).unwrap_or_default();
            vec![
                a.id.clone(),
                a.canonical_text(),
                a.district.clone(),
                a.town.code.clone(),
                a.town.name.clone(),
                a.community.code.clone(),
                a.community.name.clone(),
                opt(&a.road),
                opt(&a.lane),
                opt(&a.number),
                opt(&a.group),
                opt(&a.poi),
                opt(&a.building),
                a.kind.as_str().to_string(),
                opt(&a.building_id),
                format!("{lon:.7}"),
                format!("{lat:.7}"),
            ]
        }),
    )?;

    write_features(
        &out.join("buildings.geojson"),
        d.buildings.iter().map(|b| {
            feature(
                Geometry::from(&b.footprint),
                vec![
                    ("id", b.id.clone().into()),
                    ("kind", b.kind.as_str().into()),
                    ("floors", b.floors.into()),
                ],
            )
        }),
    )?;

    let frame = d.layout.frame;
    write_features(
        &out.join("roads.geojson"),
        d.roads.iter().map(|r| {
            let line: Vec<Vec<f64>> = r
                .points
                .iter()
                .map(|&(x, y)| {
                    let (lon, lat) = frame.to_lonlat(x, y);
                    vec![round7(lon), round7(lat)]
                })
                .collect();
            feature(
                Geometry::new_line_string(line),
                vec![
                    ("id", r.id.clone().into()),
                    ("name", r.name.clone().into()),
                    ("town_code", d.layout.towns[r.town].code.clone().into()),
                ],
            )
        }),
    )?;

    write_features(
        &out.join("areas.geojson"),
        d.layout.communities.iter().enumerate().map(|(i, c)| {
            let mut ring: Vec<Vec<f64>> = d
                .layout
                .community_area(i)
                .into_iter()
                .map(|(x, y)| {
                    let (lon, lat) = frame.to_lonlat(x, y);
                    vec![round7(lon), round7(lat)]
                })
                .collect();
            if let Some(first) = ring.first().cloned() {
                ring.push(first);
            }
            feature(
                Geometry::new_polygon(vec![ring]),
                vec![
                    ("code", c.code.clone().into()),
                    ("name", c.name.clone().into()),
                    ("level", "community".into()),
                    ("parent_code", d.layout.towns[c.town].code.clone().into()),
                ],
            )
        }),
    )?;

    for table in &d.sources.tables {
        write_csv(
            &out.join("sources").join(format!("{}.csv", table.name)),
            &table.header,
            table.rows.iter().cloned(),
        )?;
    }
    for src in &d.sources.footprints {
        write_features(
            &out.join("sources").join(format!("{}.geojson", src.name)),
            src.features.iter().map(|(id, poly, props)| {
                let mut p: Vec<(&str, JsonValue)> = vec![("建筑编号", id.clone().into())];
                p.extend(props.iter().map(|(k, v)| (*k, JsonValue::from(v.clone()))));
                feature(Geometry::from(poly), p)
            }),
        )?;
    }

    write_csv(
        &out.join("truth").join("faults.csv"),
        &[
            "source",
            "record_id",
            "fault",
            "field",
            "true_value",
            "given_value",
        ],
        d.sources.faults.iter().map(|f| {
            vec![
                f.source.to_string(),
                f.record_id.clone(),
                f.kind.as_str().to_string(),
                f.field.to_string(),
                f.true_value.clone(),
                f.given_value.clone(),
            ]
        }),
    )?;
    write_csv(
        &out.join("truth").join("records.csv"),
        &["source", "record_id", "address_id", "building_id"],
        d.sources.links.iter().map(|l| {
            vec![
                l.source.to_string(),
                l.record_id.clone(),
                l.address_id.clone(),
                l.building_id.clone(),
            ]
        }),
    )?;

    let manifest = serde_json::json!({
        "generator": "dizhi synth",
        "version": 1,
        "seed": d.config.seed,
        "addresses": d.addresses.len(),
        "buildings": d.buildings.len(),
        "roads": d.roads.len(),
        "communities": d.layout.communities.len(),
        "faults": d.sources.faults.len(),
        "bounds": d.layout.frame.bounds(),
        "sources": d.sources.tables.iter().map(|t| (t.name, t.rows.len()))
            .chain(d.sources.footprints.iter().map(|f| (f.name, f.features.len())))
            .collect::<std::collections::BTreeMap<_, _>>(),
    });
    let path = out.join("manifest.json");
    let text = serde_json::to_string_pretty(&manifest).map_err(|e| Error::Write {
        path: path.display().to_string(),
        source: e.into(),
    })?;
    fs::write(&path, text + "\n").map_err(io_err(&path))
}
