//! Writes a generated district to its directory.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use geojson::{Feature, Geometry, JsonObject, JsonValue};

use crate::gis::geojson::FeatureWriter;

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
    let mut w = DirWriter::create(out, d.config.seed)?;
    w.append(d)?;
    w.finish(None)
}

type Features = FeatureWriter<BufWriter<File>>;

/// A source directory written a district at a time: one district, or every district of the
/// whole city, each appended and let go before the next is generated. The ids of the districts
/// must not collide ([`super::IdBase`]).
pub(super) struct DirWriter {
    out: PathBuf,
    seed: u64,
    addresses: csv::Writer<File>,
    buildings: Features,
    roads: Features,
    areas: Features,
    tables: BTreeMap<&'static str, csv::Writer<File>>,
    footprints: BTreeMap<&'static str, Features>,
    faults: csv::Writer<File>,
    records: csv::Writer<File>,
    totals: Totals,
}

/// What the manifest counts.
#[derive(Default)]
struct Totals {
    addresses: usize,
    buildings: usize,
    roads: usize,
    communities: usize,
    faults: usize,
    bounds: Option<(f64, f64, f64, f64)>,
    sources: BTreeMap<&'static str, usize>,
}

fn csv_file(path: &Path, header: &[&str]) -> Result<csv::Writer<File>> {
    let mut w = csv::Writer::from_path(path).map_err(csv_err(path))?;
    w.write_record(header).map_err(csv_err(path))?;
    Ok(w)
}

fn features_file(path: &Path) -> Result<Features> {
    let file = File::create(path).map_err(io_err(path))?;
    FeatureWriter::begin(BufWriter::new(file)).map_err(io_err(path))
}

fn finish_features(w: Features, path: &Path) -> Result<()> {
    w.finish().and_then(|mut b| b.flush()).map_err(io_err(path))
}

impl DirWriter {
    /// Creates the directory's files, empty but for their headers.
    pub(super) fn create(out: &Path, seed: u64) -> Result<DirWriter> {
        fs::create_dir_all(out.join("sources")).map_err(io_err(out))?;
        fs::create_dir_all(out.join("truth")).map_err(io_err(out))?;
        Ok(DirWriter {
            out: out.to_path_buf(),
            seed,
            // The same header the store's build requires.
            addresses: csv_file(&out.join("addresses.csv"), &crate::store::ADDRESS_HEADER)?,
            buildings: features_file(&out.join("buildings.geojson"))?,
            roads: features_file(&out.join("roads.geojson"))?,
            areas: features_file(&out.join("areas.geojson"))?,
            tables: BTreeMap::new(),
            footprints: BTreeMap::new(),
            faults: csv_file(
                &out.join("truth").join("faults.csv"),
                &[
                    "source",
                    "record_id",
                    "fault",
                    "field",
                    "true_value",
                    "given_value",
                ],
            )?,
            records: csv_file(
                &out.join("truth").join("records.csv"),
                &["source", "record_id", "address_id", "building_id"],
            )?,
            totals: Totals::default(),
        })
    }

    /// Appends a district to every file.
    pub(super) fn append(&mut self, d: &District) -> Result<()> {
        let path = self.out.join("addresses.csv");
        for a in &d.addresses {
            let (lon, lat) = a.point.map(|p| (p.x(), p.y())).unwrap_or_default();
            self.addresses
                .write_record([
                    a.id.as_str(),
                    &a.canonical_text(),
                    &a.district,
                    &a.town.code,
                    &a.town.name,
                    &a.community.code,
                    &a.community.name,
                    &opt(&a.road),
                    &opt(&a.lane),
                    &opt(&a.number),
                    &opt(&a.group),
                    &opt(&a.poi),
                    &opt(&a.building),
                    a.kind.as_str(),
                    &opt(&a.building_id),
                    &format!("{lon:.7}"),
                    &format!("{lat:.7}"),
                ])
                .map_err(csv_err(&path))?;
        }

        let path = self.out.join("buildings.geojson");
        for b in &d.buildings {
            let f = feature(
                Geometry::from(&b.footprint),
                vec![
                    ("id", b.id.clone().into()),
                    ("kind", b.kind.as_str().into()),
                    ("floors", b.floors.into()),
                ],
            );
            self.buildings.push(&f).map_err(io_err(&path))?;
        }

        let frame = d.layout.frame;
        let lonlat = |&(x, y): &(f64, f64)| {
            let (lon, lat) = frame.to_lonlat(x, y);
            vec![round7(lon), round7(lat)]
        };
        let path = self.out.join("roads.geojson");
        for r in &d.roads {
            let f = feature(
                Geometry::new_line_string(r.points.iter().map(lonlat).collect::<Vec<_>>()),
                vec![
                    ("id", r.id.clone().into()),
                    ("name", r.name.clone().into()),
                    ("town_code", d.layout.towns[r.town].code.clone().into()),
                ],
            );
            self.roads.push(&f).map_err(io_err(&path))?;
        }

        let path = self.out.join("areas.geojson");
        for (i, c) in d.layout.communities.iter().enumerate() {
            let mut ring: Vec<Vec<f64>> = d.layout.community_area(i).iter().map(lonlat).collect();
            let Some(first) = ring.first().cloned() else {
                // All of it lies in a neighbouring district's territory (the whole city).
                continue;
            };
            ring.push(first);
            let f = feature(
                Geometry::new_polygon(vec![ring]),
                vec![
                    ("code", c.code.clone().into()),
                    ("name", c.name.clone().into()),
                    ("level", "community".into()),
                    ("parent_code", d.layout.towns[c.town].code.clone().into()),
                ],
            );
            self.areas.push(&f).map_err(io_err(&path))?;
        }

        for table in &d.sources.tables {
            let path = self.out.join("sources").join(format!("{}.csv", table.name));
            let w = match self.tables.entry(table.name) {
                std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::btree_map::Entry::Vacant(e) => {
                    e.insert(csv_file(&path, &table.header)?)
                }
            };
            for row in &table.rows {
                w.write_record(row).map_err(csv_err(&path))?;
            }
            *self.totals.sources.entry(table.name).or_default() += table.rows.len();
        }
        for src in &d.sources.footprints {
            let path = self
                .out
                .join("sources")
                .join(format!("{}.geojson", src.name));
            let w = match self.footprints.entry(src.name) {
                std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::btree_map::Entry::Vacant(e) => e.insert(features_file(&path)?),
            };
            for (id, poly, props) in &src.features {
                let mut p: Vec<(&str, JsonValue)> = vec![("建筑编号", id.clone().into())];
                p.extend(props.iter().map(|(k, v)| (*k, JsonValue::from(v.clone()))));
                w.push(&feature(Geometry::from(poly), p))
                    .map_err(io_err(&path))?;
            }
            *self.totals.sources.entry(src.name).or_default() += src.features.len();
        }

        let path = self.out.join("truth").join("faults.csv");
        for f in &d.sources.faults {
            self.faults
                .write_record([
                    f.source,
                    &f.record_id,
                    f.kind.as_str(),
                    f.field,
                    &f.true_value,
                    &f.given_value,
                ])
                .map_err(csv_err(&path))?;
        }
        let path = self.out.join("truth").join("records.csv");
        for l in &d.sources.links {
            self.records
                .write_record([l.source, &l.record_id, &l.address_id, &l.building_id])
                .map_err(csv_err(&path))?;
        }

        let t = &mut self.totals;
        t.addresses += d.addresses.len();
        t.buildings += d.buildings.len();
        t.roads += d.roads.len();
        t.communities += d.layout.communities.len();
        t.faults += d.sources.faults.len();
        let b = d.layout.frame.bounds();
        t.bounds = Some(match t.bounds {
            None => b,
            Some(u) => (u.0.min(b.0), u.1.min(b.1), u.2.max(b.2), u.3.max(b.3)),
        });
        Ok(())
    }

    /// Closes every file and writes `manifest.json` (with the divisions the directory covers,
    /// when given: the whole city's).
    pub(super) fn finish(self, divisions: Option<&[String]>) -> Result<()> {
        let flush = |w: csv::Writer<File>, path: PathBuf| -> Result<()> {
            w.into_inner()
                .map_err(|e| io_err(&path)(e.into_error()))
                .and_then(|mut f| f.flush().map_err(io_err(&path)))
        };
        flush(self.addresses, self.out.join("addresses.csv"))?;
        finish_features(self.buildings, &self.out.join("buildings.geojson"))?;
        finish_features(self.roads, &self.out.join("roads.geojson"))?;
        finish_features(self.areas, &self.out.join("areas.geojson"))?;
        for (name, w) in self.tables {
            flush(w, self.out.join("sources").join(format!("{name}.csv")))?;
        }
        for (name, w) in self.footprints {
            finish_features(w, &self.out.join("sources").join(format!("{name}.geojson")))?;
        }
        flush(self.faults, self.out.join("truth").join("faults.csv"))?;
        flush(self.records, self.out.join("truth").join("records.csv"))?;

        let t = self.totals;
        let mut manifest = serde_json::json!({
            "generator": "dizhi synth",
            "version": 1,
            "seed": self.seed,
            "addresses": t.addresses,
            "buildings": t.buildings,
            "roads": t.roads,
            "communities": t.communities,
            "faults": t.faults,
            "bounds": t.bounds,
            "sources": t.sources,
        });
        if let Some(codes) = divisions {
            manifest[crate::dictionaries::COVERAGE_META_KEY] = codes.into();
        }
        let path = self.out.join("manifest.json");
        let text = serde_json::to_string_pretty(&manifest).map_err(|e| Error::Write {
            path: path.display().to_string(),
            source: e.into(),
        })?;
        fs::write(&path, text + "\n").map_err(io_err(&path))
    }
}
