//! The registers' GIS layers: the 规划资源 footprints as a Shapefile in a projected CGCS2000
//! system, the 街镇 and 居/村委 boundaries as a GeoPackage, the road centre lines as GeoJSON.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use geo::{Coord, LineString, MultiPolygon, Polygon};
use geojson::Geometry;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;

use super::super::geometry::round7;
use super::super::sources::GUIHUA;
use super::super::write::{feature, write_features};
use super::super::{District, Result};
use super::{BROKEN_FOOTPRINTS, RegisterFault, other_err};
use crate::BuildingKind;
use crate::gis::gpkg::{self, Layer};
use crate::gis::shp::{self, CGCS2000_GK_CM_120E_PRJ, DbfEncoding, Field, Value};

pub(super) fn kind_zh(kind: BuildingKind) -> &'static str {
    match kind {
        BuildingKind::Residential => "住宅",
        BuildingKind::VillageHouse => "农居",
        BuildingKind::Shop => "商业",
        BuildingKind::Factory => "工业",
        BuildingKind::Office => "办公",
        BuildingKind::School => "学校",
        BuildingKind::Public => "公共",
    }
}

/// Every true footprint in EPSG:4549 with its id, floors (the 规划 extract's, wrong where it is)
/// and kind, then a bow-tie and an empty footprint.
pub(super) fn write_footprints(
    d: &District,
    path: &Path,
    rng: &mut ChaCha8Rng,
    faults: &mut Vec<RegisterFault>,
    links: &mut Vec<[String; 4]>,
) -> Result<()> {
    let gk = crate::crs::SourceCrs::from_epsg(4549).map_err(|e| other_err(path, e))?;
    let project = |poly: &Polygon<f64>| -> Result<MultiPolygon<f64>> {
        let ring = |ls: &LineString<f64>| -> Result<LineString<f64>> {
            ls.0.iter()
                .map(|c| {
                    let (x, y) = gk.from_wgs84(c.x, c.y).map_err(|e| other_err(path, e))?;
                    Ok(Coord {
                        x: (x * 1000.0).round() / 1000.0,
                        y: (y * 1000.0).round() / 1000.0,
                    })
                })
                .collect::<Result<Vec<_>>>()
                .map(LineString)
        };
        let interiors = poly.interiors().iter().map(ring).collect::<Result<_>>()?;
        Ok(MultiPolygon(vec![Polygon::new(
            ring(poly.exterior())?,
            interiors,
        )]))
    };
    // The 规划 extract's floors, wrong where it is.
    let mut floors: HashMap<&str, &str> = HashMap::new();
    if let Some(src) = d.sources.footprints.iter().find(|f| f.name == GUIHUA) {
        let building_of: HashMap<&str, &str> = d
            .sources
            .links
            .iter()
            .filter(|l| l.source == GUIHUA)
            .map(|l| (l.record_id.as_str(), l.building_id.as_str()))
            .collect();
        for (id, _, props) in &src.features {
            if let (Some(b), Some((_, f))) = (
                building_of.get(id.as_str()),
                props.iter().find(|(k, _)| *k == "层数"),
            ) {
                floors.insert(b, f.as_str());
            }
        }
    }
    let mut records = Vec::with_capacity(d.buildings.len() + 2);
    for b in &d.buildings {
        let given: i64 = floors
            .get(b.id.as_str())
            .and_then(|f| f.parse().ok())
            .unwrap_or(b.floors.into());
        if given != i64::from(b.floors) {
            faults.push(RegisterFault {
                register: "guihua_jzw",
                record_id: b.id.clone(),
                fault: "wrong_floors",
                field: "JZCS",
                true_value: b.floors.to_string(),
                given_value: given.to_string(),
            });
        }
        records.push((
            project(&b.footprint)?,
            vec![
                Value::Text(b.id.clone()),
                Value::Integer(given),
                Value::Text(kind_zh(b.kind).into()),
            ],
        ));
        links.push([
            "guihua_jzw".into(),
            b.id.clone(),
            String::new(),
            b.id.clone(),
        ]);
    }
    // Two broken footprints beside a random building: a bow-tie, and one collapsed to a point
    // (no area: an empty geometry).
    if let Some(b) = d.buildings.choose(rng) {
        let c = b.footprint.exterior().0[0];
        let (x, y) = gk.from_wgs84(c.x, c.y).map_err(|e| other_err(path, e))?;
        let (x, y) = ((x + 30.0).round(), (y + 30.0).round());
        let bow = LineString::from(vec![
            (x, y),
            (x + 10.0, y + 10.0),
            (x + 10.0, y),
            (x, y + 10.0),
            (x, y),
        ]);
        let empty = LineString::from(vec![(x, y); 4]);
        for (id, ring) in BROKEN_FOOTPRINTS.iter().zip([bow, empty]) {
            records.push((
                MultiPolygon(vec![Polygon::new(ring, vec![])]),
                vec![
                    Value::Text(id.to_string()),
                    Value::Integer(3),
                    Value::Text("住宅".into()),
                ],
            ));
            faults.push(RegisterFault {
                register: "guihua_jzw",
                record_id: id.to_string(),
                fault: "broken_footprint",
                field: "geometry",
                true_value: String::new(),
                given_value: id.to_string(),
            });
        }
    }
    shp::write_layer(
        path,
        &[
            Field::Text("JZWBM", 20),
            Field::Integer("JZCS", 4),
            Field::Text("JZWLX", 10),
        ],
        &records,
        CGCS2000_GK_CM_120E_PRJ,
        DbfEncoding::Utf8,
    )
    .map_err(|e| other_err(path, e))
}

/// A ring of local-frame points as a closed lon/lat ring.
pub(super) fn lonlat_ring(d: &District, points: &[(f64, f64)]) -> LineString<f64> {
    let mut ring: Vec<Coord<f64>> = points
        .iter()
        .map(|&(x, y)| {
            let (lon, lat) = d.layout.frame.to_lonlat(x, y);
            Coord {
                x: round7(lon),
                y: round7(lat),
            }
        })
        .collect();
    if let Some(&first) = ring.first() {
        ring.push(first);
    }
    LineString(ring)
}

/// The 街镇 layer (each the union of its communities' areas) and the 居/村委 layer (their
/// Voronoi cells), with 12-digit codes and names.
pub(super) fn write_boundaries(d: &District, path: &Path) -> Result<()> {
    use rusqlite::types::Value as Sql;
    let areas: Vec<Polygon<f64>> = (0..d.layout.communities.len())
        .map(|i| Polygon::new(lonlat_ring(d, &d.layout.community_area(i)), vec![]))
        .collect();
    let communities = d
        .layout
        .communities
        .iter()
        .zip(&areas)
        .map(|(c, area)| {
            (
                geo::Geometry::MultiPolygon(MultiPolygon(vec![area.clone()])),
                vec![
                    Sql::Text(c.code.clone()),
                    Sql::Text(c.name.clone()),
                    Sql::Text(d.layout.towns[c.town].code.clone()),
                ],
            )
        })
        .collect();
    let mut by_town: BTreeMap<usize, Vec<&Polygon<f64>>> = BTreeMap::new();
    for (c, area) in d.layout.communities.iter().zip(&areas) {
        if area.exterior().0.len() > 3 {
            by_town.entry(c.town).or_default().push(area);
        }
    }
    let towns = by_town
        .into_iter()
        .map(|(t, parts)| {
            let union = geo::unary_union(parts);
            let town = &d.layout.towns[t];
            (
                geo::Geometry::MultiPolygon(union),
                vec![Sql::Text(town.code.clone()), Sql::Text(town.name.clone())],
            )
        })
        .collect();
    gpkg::write_layers(
        path,
        &[
            Layer {
                name: "jiezhen",
                description: "街镇",
                geometry_type: "MULTIPOLYGON",
                columns: &[("XZQDM", "TEXT"), ("XZQMC", "TEXT")],
                features: towns,
            },
            Layer {
                name: "juweihui",
                description: "居/村委",
                geometry_type: "MULTIPOLYGON",
                columns: &[("XZQDM", "TEXT"), ("XZQMC", "TEXT"), ("SJXZQDM", "TEXT")],
                features: communities,
            },
        ],
        // A fixed time: the same seed gives the same bytes.
        Some("2026-10-01T00:00:00.000Z"),
    )
    .map_err(|e| other_err(path, e))
}

/// The road centre lines: DLBM (id), DLMC (name).
pub(super) fn write_roads(d: &District, path: &Path) -> Result<()> {
    write_features(
        path,
        d.roads.iter().map(|r| {
            let line = lonlat_ring(d, &r.points);
            let mut coords: Vec<Vec<f64>> = line.0.iter().map(|c| vec![c.x, c.y]).collect();
            coords.pop(); // a line, not a ring
            feature(
                Geometry::new_line_string(coords),
                vec![
                    ("DLBM", r.id.clone().into()),
                    ("DLMC", r.name.clone().into()),
                ],
            )
        }),
    )
}
