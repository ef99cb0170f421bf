//! GeoJSON in and out (RFC 7946: WGS84 lon/lat; a layer in metres is refused, not loaded).
//!
//! The one GeoJSON reader of dizhi: [`features`] reads a document feature by feature (streaming a
//! FeatureCollection from its bytes, or a small document already parsed), [`geometry`] converts a
//! feature's geometry to geo's with the reason it cannot be. Footprint layers ([`read`]), the
//! store's build, fusion's imports and the API's request bodies all read through them.

pub mod features;
pub mod geometry;

use std::io::Write;
use std::path::Path;

use geojson::{JsonObject, JsonValue};

use super::{Error, Footprint, Loaded, Result};
use features::{Feature, StreamError};

/// Reads a FeatureCollection (or a single Feature) of footprints.
///
/// Attributes `id` (or `building_id`, else the feature id), `kind`, `floors`, `address` and
/// `addr_count` are picked up; Z values are dropped; invalid or non-polygon geometries are
/// reported with the feature's id.
pub fn read(path: &Path) -> Result<Loaded> {
    read_as(path, &super::ReadOptions::default())
}

/// [`read`] with the attributes and coordinate system of `options`.
pub fn read_as(path: &Path, options: &super::ReadOptions) -> Result<Loaded> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    read_str_as(&text, options).map_err(|m| Error::format(path, m))
}

/// [`read`] from a string.
///
/// # Examples
/// ```
/// let text = r#"{"type":"FeatureCollection","features":[
///   {"type":"Feature","properties":{"id":"B1","kind":"shop","floors":2},
///    "geometry":{"type":"Polygon","coordinates":[[[0,0,5],[1,0,5],[1,1,5],[0,0,5]]]}},
///   {"type":"Feature","properties":{"id":"B2"},
///    "geometry":{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}}]}"#;
/// let loaded = dizhi::gis::geojson::read_str(text).unwrap();
/// assert_eq!(loaded.footprints.len(), 1);
/// assert_eq!(loaded.problems[0].feature, "B2");
/// assert!(loaded.problems[0].reason.contains("self-intersection"));
/// ```
pub fn read_str(text: &str) -> std::result::Result<Loaded, String> {
    read_str_as(text, &super::ReadOptions::default())
}

fn read_str_as(text: &str, options: &super::ReadOptions) -> std::result::Result<Loaded, String> {
    let mut loaded = Loaded::default();
    let mut wgs84 = super::Reprojection::new(options.crs.clone().unwrap_or_default());
    let streamed = features::for_each_feature(text.as_bytes(), |i, f| {
        add_footprint(&mut loaded, &mut wgs84, options, i, f);
        Ok::<(), std::convert::Infallible>(())
    });
    match streamed {
        Ok(_) => {}
        Err(StreamError::NotACollection { found }) if found == "Feature" => {
            let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
            for (i, f) in features::features_of_value(&value)?.into_iter().enumerate() {
                add_footprint(&mut loaded, &mut wgs84, options, i, f);
            }
        }
        Err(StreamError::NotACollection { found }) if features::is_geometry_type(&found) => {
            return Err("a bare geometry, not a Feature or FeatureCollection".into());
        }
        Err(StreamError::NotACollection { found }) => {
            return Err(format!(
                "expected a Feature or FeatureCollection, found type {found:?}"
            ));
        }
        Err(StreamError::Json(e)) => return Err(e.to_string()),
        Err(StreamError::Stopped(never)) => match never {},
    }
    wgs84.finish(loaded)
}

/// The `index`th feature of a layer as a footprint, or as the problem it has.
fn add_footprint(
    loaded: &mut Loaded,
    wgs84: &mut super::Reprojection,
    options: &super::ReadOptions,
    index: usize,
    f: Feature,
) {
    let props = f.properties.clone().unwrap_or_default();
    let names: Vec<String> = props.keys().cloned().collect();
    let key =
        |wanted: &[String]| super::ReadOptions::find(wanted, &names).map(|i| names[i].as_str());
    let feature_id = f.id.as_ref().and_then(|id| match id {
        JsonValue::String(s) => Some(s.clone()),
        JsonValue::Number(n) => Some(n.to_string()),
        _ => None,
    });
    let id = key(&options.id)
        .and_then(|k| text_attr(&props, &[k]))
        .or(feature_id)
        .unwrap_or_else(|| format!("#{index}"));
    let footprint = Footprint {
        id,
        kind: key(&options.kind)
            .and_then(|k| text_attr(&props, &[k]))
            .unwrap_or_default(),
        floors: key(&options.floors).and_then(|k| int_attr(&props, &[k])),
        address: text_attr(&props, &["address", "ADDRESS"]),
        address_count: int_attr(&props, &["addr_count", "ADDR_COUNT"]),
        geometry: geo::MultiPolygon(vec![]),
    };
    let geometry = f
        .geometry()
        .and_then(|g| g.map(|g| geometry::geometry(&g.value)).transpose());
    let geometry = match geometry {
        Ok(g) => g,
        Err(reason) => {
            loaded.problems.push(super::GeometryProblem {
                feature: footprint.id,
                reason,
            });
            return;
        }
    };
    match wgs84.apply(&footprint.id, geometry) {
        Ok(g) => loaded.push(footprint, g),
        Err(reason) => loaded.problems.push(super::GeometryProblem {
            feature: footprint.id,
            reason,
        }),
    }
}

pub(crate) fn text_attr(props: &JsonObject, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| match props.get(*k)? {
        JsonValue::String(s) if !s.is_empty() => Some(s.clone()),
        JsonValue::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

pub(crate) fn int_attr(props: &JsonObject, keys: &[&str]) -> Option<i64> {
    keys.iter().find_map(|k| match props.get(*k)? {
        JsonValue::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        JsonValue::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

/// The properties dizhi writes for a footprint.
pub fn properties(f: &Footprint) -> JsonObject {
    let mut p = JsonObject::new();
    p.insert("id".into(), f.id.clone().into());
    p.insert("kind".into(), f.kind.clone().into());
    p.insert("floors".into(), f.floors.into());
    p.insert("address".into(), f.address.clone().into());
    p.insert("addr_count".into(), f.address_count.into());
    p
}

/// One footprint as a GeoJSON feature (a Polygon when it has one part).
pub fn feature(f: &Footprint) -> geojson::Feature {
    let value = if f.geometry.0.len() == 1 {
        geojson::GeometryValue::from(&f.geometry.0[0])
    } else {
        geojson::GeometryValue::from(&f.geometry)
    };
    polygon_feature(None, value, properties(f))
}

/// A feature of a (multi)polygon with an optional id and its properties.
pub fn polygon_feature(
    id: Option<geojson::feature::Id>,
    value: geojson::GeometryValue,
    properties: JsonObject,
) -> geojson::Feature {
    geojson::Feature {
        bbox: None,
        geometry: Some(geojson::Geometry::new(value)),
        id,
        properties: Some(properties),
        foreign_members: None,
    }
}

/// Writes a FeatureCollection, one feature per line (so files diff well).
///
/// # Examples
/// ```
/// use dizhi::gis::{geojson, Footprint};
/// use geo::polygon;
/// let f = Footprint { id: "B1".into(), kind: "shop".into(), floors: Some(2), address: Some("华腾路8号".into()),
///     address_count: Some(1),
///     geometry: geo::MultiPolygon(vec![geo::polygon![(x: 0., y: 0.), (x: 1., y: 0.), (x: 1., y: 1.)]]) };
/// let mut out = Vec::new();
/// geojson::write(&mut out, &[f.clone()]).unwrap();
/// let back = geojson::read_str(std::str::from_utf8(&out).unwrap()).unwrap();
/// assert_eq!(back.footprints, vec![f]);
/// ```
pub fn write<W: Write>(out: &mut W, footprints: &[Footprint]) -> std::io::Result<()> {
    write_features(out, footprints.iter().map(feature))
}

/// Writes features as a FeatureCollection, one feature per line.
///
/// # Examples
/// ```
/// let f: geojson::Feature = r#"{"type":"Feature","id":"B1","geometry":null,"properties":{}}"#
///     .parse().unwrap();
/// let mut out = Vec::new();
/// dizhi::gis::geojson::write_features(&mut out, [f.clone(), f]).unwrap();
/// let back: geojson::FeatureCollection = std::str::from_utf8(&out).unwrap().parse().unwrap();
/// assert_eq!(back.features.len(), 2);
/// assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 4);
/// ```
pub fn write_features<W: Write>(
    out: &mut W,
    features: impl IntoIterator<Item = geojson::Feature>,
) -> std::io::Result<()> {
    let mut w = FeatureWriter::begin(out)?;
    for f in features {
        w.push(&f)?;
    }
    w.finish().map(drop)
}

/// A FeatureCollection written a feature at a time, one per line, for layers too large to
/// hold (the whole city's footprints): [`FeatureWriter::begin`], [`FeatureWriter::push`] each
/// feature, [`FeatureWriter::finish`]. The bytes are [`write_features`]' for the same features.
pub struct FeatureWriter<W: Write> {
    out: W,
    written: usize,
}

impl<W: Write> FeatureWriter<W> {
    /// Opens the collection.
    pub fn begin(mut out: W) -> std::io::Result<Self> {
        out.write_all(b"{\"type\":\"FeatureCollection\",\"features\":[\n")?;
        Ok(FeatureWriter { out, written: 0 })
    }

    /// Writes one feature.
    pub fn push(&mut self, feature: &geojson::Feature) -> std::io::Result<()> {
        if self.written > 0 {
            self.out.write_all(b",\n")?;
        }
        serde_json::to_writer(&mut self.out, feature)?;
        self.written += 1;
        Ok(())
    }

    /// Closes the collection and gives the writer back.
    pub fn finish(mut self) -> std::io::Result<W> {
        self.out.write_all(b"\n]}\n")?;
        Ok(self.out)
    }
}

/// Writes a FeatureCollection to a file.
pub fn write_file(path: &Path, footprints: &[Footprint]) -> Result<()> {
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    let mut w = std::io::BufWriter::new(file);
    write(&mut w, footprints)
        .and_then(|_| w.flush())
        .map_err(|e| Error::io(path, e))
}
