//! GeoJSON in and out (RFC 7946: WGS84 lon/lat; a layer in metres is refused, not loaded).

use std::io::Write;
use std::path::Path;

use geo::Geometry;
use geojson::{GeoJson, JsonObject, JsonValue};

use super::{Error, Footprint, Loaded, Result};
use crate::Building;
use crate::spatial::Crs;
use crate::spatial::answer::{building_answer, footprint_in};
use crate::store::Store;

/// Reads a FeatureCollection (or a single Feature) of footprints.
///
/// Attributes `id` (or `building_id`, else the feature id), `kind`, `floors`, `address` and
/// `addr_count` are picked up; Z values are dropped; invalid or non-polygon geometries are
/// reported with the feature's id.
pub fn read(path: &Path) -> Result<Loaded> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    read_str(&text).map_err(|m| Error::format(path, m))
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
    let features = match text.parse::<GeoJson>().map_err(|e| e.to_string())? {
        GeoJson::FeatureCollection(c) => c.features,
        GeoJson::Feature(f) => vec![f],
        GeoJson::Geometry(_) => {
            return Err("a bare geometry, not a Feature or FeatureCollection".into());
        }
    };
    let mut loaded = Loaded::default();
    let mut wgs84 = super::Reprojection::new(crate::spatial::SourceCrs::default());
    for (i, f) in features.into_iter().enumerate() {
        let props = f.properties.clone().unwrap_or_default();
        let feature_id = f.id.as_ref().map(|id| match id {
            geojson::feature::Id::String(s) => s.clone(),
            geojson::feature::Id::Number(n) => n.to_string(),
        });
        let id = text_attr(&props, &["id", "building_id", "ID", "BUILDING_ID"])
            .or(feature_id)
            .unwrap_or_else(|| format!("#{i}"));
        let footprint = Footprint {
            id,
            kind: text_attr(&props, &["kind", "KIND"]).unwrap_or_default(),
            floors: int_attr(&props, &["floors", "FLOORS"]),
            address: text_attr(&props, &["address", "ADDRESS"]),
            address_count: int_attr(&props, &["addr_count", "ADDR_COUNT"]),
            geometry: geo::MultiPolygon(vec![]),
        };
        let geometry = match f.geometry {
            None => None,
            Some(g) if !positions_complete(&g.value) => {
                loaded.problems.push(super::GeometryProblem {
                    feature: footprint.id,
                    reason: "a position with fewer than two coordinates".into(),
                });
                continue;
            }
            Some(g) => match Geometry::<f64>::try_from(&g.value) {
                Ok(g) => Some(g),
                Err(e) => {
                    loaded.problems.push(super::GeometryProblem {
                        feature: footprint.id,
                        reason: e.to_string(),
                    });
                    continue;
                }
            },
        };
        match wgs84.apply(&footprint.id, geometry) {
            Ok(g) => loaded.push(footprint, g),
            Err(reason) => loaded.problems.push(super::GeometryProblem {
                feature: footprint.id,
                reason,
            }),
        }
    }
    wgs84.finish(loaded)
}

/// Whether every position of a geometry has an x and a y: the geojson crate's conversion indexes
/// `[1]` unchecked, so `[[[0]]]` would panic instead of being a problem of its feature.
pub(crate) fn positions_complete(g: &geojson::GeometryValue) -> bool {
    use geojson::GeometryValue as G;
    let ok = |p: &geojson::Position| p.len() >= 2;
    match g {
        G::Point { coordinates } => ok(coordinates),
        G::MultiPoint { coordinates } | G::LineString { coordinates } => coordinates.iter().all(ok),
        G::MultiLineString { coordinates } | G::Polygon { coordinates } => {
            coordinates.iter().flatten().all(ok)
        }
        G::MultiPolygon { coordinates } => coordinates.iter().flatten().flatten().all(ok),
        G::GeometryCollection { geometries } => {
            geometries.iter().all(|g| positions_complete(&g.value))
        }
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

/// A building as every interface writes it (`dizhi buildings --format geojson`, the API's
/// `/v1/buildings…` answers): a feature whose `id` is the building id, whose geometry is the
/// footprint in `crs`, and whose properties are its [`BuildingAnswer`] (kind, floors, distance
/// when given, addresses).
///
/// [`BuildingAnswer`]: crate::spatial::answer::BuildingAnswer
pub fn building_feature(
    store: &Store,
    building: &Building,
    distance_m: Option<f64>,
    crs: Crs,
) -> crate::store::Result<geojson::Feature> {
    let answer = building_answer(store, building, distance_m, crs)?;
    // A struct of strings, numbers and lists always serializes to an object.
    let properties = match serde_json::to_value(&answer) {
        Ok(JsonValue::Object(m)) => m,
        _ => JsonObject::new(),
    };
    let value = geojson::GeometryValue::from(&footprint_in(building, crs));
    Ok(polygon_feature(
        Some(geojson::feature::Id::String(building.id.clone())),
        value,
        properties,
    ))
}

fn polygon_feature(
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
    out.write_all(b"{\"type\":\"FeatureCollection\",\"features\":[\n")?;
    for (i, f) in features.into_iter().enumerate() {
        if i > 0 {
            out.write_all(b",\n")?;
        }
        serde_json::to_writer(&mut *out, &f)?;
    }
    out.write_all(b"\n]}\n")
}

/// Writes a FeatureCollection to a file.
pub fn write_file(path: &Path, footprints: &[Footprint]) -> Result<()> {
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    let mut w = std::io::BufWriter::new(file);
    write(&mut w, footprints)
        .and_then(|_| w.flush())
        .map_err(|e| Error::io(path, e))
}
