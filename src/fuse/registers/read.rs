//! Reading what the config names: every address register's records (the address text from its
//! free-text column or its split columns, the point in WGS84), the place-name registers, the
//! footprint layers with their own id/floors/kind attributes, the boundary layers and the road
//! lines. Each file goes through the one reader of its format (the batch reader for CSV/TSV/XLSX,
//! [`crate::gis`] for GIS layers); what cannot be read is named with its line and reason.

use std::collections::HashMap;
use std::path::Path;

use geo::{Geometry, MultiPolygon};

use super::config::{
    AddressRegister, BoundaryLayer, BoundaryLevel, FootprintLayer, NameRegister, PART_LEVELS,
    RoadLayer, encoding_of,
};
use crate::crs::SourceCrs;
use crate::fuse::{Error, Result};
use crate::{Building, BuildingKind};

/// A file's data rows, each with its line.
pub type Rows = Vec<(u64, Vec<String>)>;

/// Features repaired or left out: (feature id, reason).
pub type FeatureProblems = Vec<(String, String)>;

/// One address record of a register.
#[derive(Debug, Clone)]
pub struct RegisterRecord {
    /// The register's position in the config.
    pub register: u16,
    /// Its id in the register.
    pub key: String,
    /// Its line (1 = the header) or feature number.
    pub line: u64,
    /// The address as the register gives it (the split columns joined with their markers, else
    /// the free-text column).
    pub text: String,
    /// Its point in WGS84, if it has one that is in range.
    pub point: Option<(f64, f64)>,
    /// The split columns' values by level (empty for a free-text register), so each is read at
    /// the level the register gives it.
    pub parts: Vec<(&'static str, String)>,
}

/// A register read: its records and what was wrong with some of them.
pub struct ReadRegister {
    /// The records, in file order.
    pub records: Vec<RegisterRecord>,
    /// `line N: reason` for each record kept with a problem or left out.
    pub problems: Vec<String>,
    /// The header, and every row's fields (so the register can be kept as it came).
    pub header: Vec<String>,
    /// The raw rows, in file order, each with its line.
    pub rows: Rows,
}

/// The columns a GeoJSON register's point is put in (its geometry's point: a Point as it is, a
/// line or polygon by a point inside it), used when the config names no x/y columns.
pub const GEOMETRY_X: &str = "@x";
/// See [`GEOMETRY_X`].
pub const GEOMETRY_Y: &str = "@y";

/// Rows of a CSV/TSV/XLSX file through the batch reader (encoding detected or as configured; a
/// row with too few or too many fields kept, padded, and named among the problems), or the
/// features of a GeoJSON layer (properties as columns, the point in [`GEOMETRY_X`]/[`GEOMETRY_Y`]).
pub(crate) fn read_rows(
    path: &Path,
    encoding: Option<&str>,
) -> Result<(Vec<String>, Rows, Vec<String>)> {
    if matches!(
        crate::batch::read::extension(path).as_str(),
        "geojson" | "json"
    ) {
        return read_geojson_rows(path);
    }
    let options = crate::batch::BatchOptions {
        encoding: encoding
            .map(encoding_of)
            .transpose()
            .map_err(|m| Error::file(path, m))?,
        ..crate::batch::BatchOptions::default()
    };
    let mut source =
        crate::batch::read::Source::open(path, &options).map_err(|e| Error::file(path, e))?;
    let header: Vec<String> = source
        .header()
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
        .collect();
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let mut line = 1u64;
    while let Some(row) = source.next_row(false).map_err(|e| Error::file(path, e))? {
        line += 1;
        if let Some(p) = row.problem {
            problems.push(format!("line {line}: {p}"));
        }
        rows.push((line, row.fields));
    }
    Ok((header, rows, problems))
}

/// A GeoJSON layer as rows: every property a column (first seen first), its geometry's point in
/// the last two; a feature whose geometry cannot be read keeps its row with no point and is named
/// among the problems.
fn read_geojson_rows(path: &Path) -> Result<(Vec<String>, Rows, Vec<String>)> {
    use crate::gis::geojson::{features, geometry};
    use geo::InteriorPoint;
    use serde_json::Value;
    let bytes = std::fs::read(path).map_err(|e| Error::file(path, e))?;
    let mut header: Vec<String> = Vec::new();
    // (feature number, properties, point) of each feature.
    type Feature = (u64, serde_json::Map<String, Value>, Option<(f64, f64)>);
    let mut props_rows: Vec<Feature> = Vec::new();
    let mut problems = Vec::new();
    let streamed = features::for_each_feature(&bytes, |i, mut f| {
        let props = f.properties.take().unwrap_or_default();
        for k in props.keys() {
            if !header.contains(k) {
                header.push(k.clone());
            }
        }
        let line = i as u64 + 1;
        let point = match f.geometry() {
            Ok(None) => None,
            Ok(Some(g)) => match geometry::geometry(&g.value) {
                Ok(g) => g.interior_point().map(|p| (p.x(), p.y())),
                Err(e) => {
                    problems.push(format!("feature {line}: geometry left out: {e}"));
                    None
                }
            },
            Err(e) => {
                problems.push(format!("feature {line}: geometry left out: {e}"));
                None
            }
        };
        props_rows.push((line, props, point));
        Ok::<(), std::convert::Infallible>(())
    });
    streamed.map_err(|e| crate::fuse::import::geojson_error(path, e))?;
    let text = |v: Option<&Value>| match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    };
    let rows = props_rows
        .into_iter()
        .map(|(line, props, point)| {
            let mut fields: Vec<String> = header.iter().map(|h| text(props.get(h))).collect();
            let (x, y) = point.map_or((String::new(), String::new()), |(x, y)| {
                (x.to_string(), y.to_string())
            });
            fields.extend([x, y]);
            (line, fields)
        })
        .collect();
    header.extend([GEOMETRY_X.to_string(), GEOMETRY_Y.to_string()]);
    Ok((header, rows, problems))
}

fn column(header: &[String], path: &Path, name: &str) -> Result<usize> {
    header.iter().position(|h| h == name.trim()).ok_or_else(|| {
        Error::file(
            path,
            format!(
                "no column {name:?} (the columns are: {})",
                header.join(", ")
            ),
        )
    })
}

/// Reads an address register: each row a record with its composed text and its point.
///
/// A row with no id or no address text is kept as a problem (`line N: …`), never silently
/// dropped; a point out of range for the register's CRS is left out and named; when most
/// points are, the register's CRS is wrong and the register is refused.
pub fn read_address_register(index: u16, r: &AddressRegister) -> Result<ReadRegister> {
    let path = r.path.as_path();
    let (header, rows, mut problems) = read_rows(path, r.encoding.as_deref())?;
    let id_i = column(&header, path, &r.id)?;
    let text_i = r
        .address
        .as_deref()
        .map(|c| column(&header, path, c))
        .transpose()?;
    let mut parts = Vec::new();
    for (level, marker) in PART_LEVELS {
        if let Some(c) = r.parts.get(level) {
            parts.push((column(&header, path, c)?, level, marker));
        }
    }
    let xy = match (&r.x, &r.y) {
        (Some(x), Some(y)) => Some((column(&header, path, x)?, column(&header, path, y)?)),
        // A GIS layer's own geometry.
        _ => header
            .iter()
            .position(|h| h == GEOMETRY_X)
            .zip(header.iter().position(|h| h == GEOMETRY_Y)),
    };
    let crs: SourceCrs = r
        .crs
        .as_deref()
        .unwrap_or("wgs84")
        .parse()
        .map_err(|e| Error::file(path, e))?;
    let mut records = Vec::with_capacity(rows.len());
    let (mut with_point, mut out_of_range) = (0usize, 0usize);
    let mut first_bad: Option<String> = None;
    for (line, fields) in &rows {
        let field = |i: usize| fields.get(i).map(|s| s.trim()).unwrap_or("");
        let key = field(id_i);
        if key.is_empty() {
            problems.push(format!("line {line}: no record id ({})", r.id));
            continue;
        }
        let split: Vec<(&'static str, String)> = parts
            .iter()
            .filter(|&&(i, _, _)| !field(i).is_empty())
            .map(|&(i, level, _)| (level, field(i).to_string()))
            .collect();
        let free = text_i.map(field).unwrap_or("");
        let text = if free.is_empty() {
            compose(parts.iter().map(|&(i, _, marker)| (field(i), marker)))
        } else {
            free.to_string()
        };
        let point = match xy {
            Some((xi, yi)) if !field(xi).is_empty() || !field(yi).is_empty() => {
                with_point += 1;
                match (field(xi).parse::<f64>(), field(yi).parse::<f64>()) {
                    (Ok(x), Ok(y)) => match crs.to_wgs84(x, y) {
                        Ok(p) => Some(p),
                        Err(e) => {
                            out_of_range += 1;
                            first_bad.get_or_insert_with(|| format!("line {line}: {e}"));
                            problems.push(format!("line {line} ({key}): point left out: {e}"));
                            None
                        }
                    },
                    _ => {
                        problems.push(format!(
                            "line {line} ({key}): point left out: {:?},{:?} is not a number pair",
                            field(xi),
                            field(yi)
                        ));
                        None
                    }
                }
            }
            _ => None,
        };
        if text.is_empty() {
            problems.push(format!("line {line} ({key}): no address text"));
        }
        records.push(RegisterRecord {
            register: index,
            key: key.to_string(),
            line: *line,
            text,
            point,
            parts: split,
        });
    }
    if out_of_range * 2 > with_point && out_of_range > 0 {
        return Err(Error::file(
            path,
            format!(
                "{out_of_range} of {with_point} points are out of range for crs {crs} ({}); \
                 declare the register's crs (wgs84, cgcs2000, gcj02, bd09, EPSG:NNNN)",
                first_bad.unwrap_or_default()
            ),
        ));
    }
    Ok(ReadRegister {
        records,
        problems,
        header,
        rows,
    })
}

/// The split columns joined, each value given its level's marker when it has none (`15` in a
/// 弄号 column is `15弄`; `15弄` stays as it is).
fn compose<'a>(values: impl Iterator<Item = (&'a str, &'static str)>) -> String {
    let mut out = String::new();
    for (v, marker) in values {
        if v.is_empty() {
            continue;
        }
        out.push_str(v);
        let bare = v.chars().last().is_some_and(|c| {
            c.is_ascii_digit() || crate::text::numerals::is_numeral(c) || c.is_ascii_alphabetic()
        });
        if bare {
            out.push_str(marker);
        }
    }
    out
}

/// A standard name of a place-name register.
#[derive(Debug, Clone)]
pub struct PlaceName {
    /// The register's name.
    pub register: String,
    /// The record id.
    pub key: String,
    /// The name.
    pub name: String,
    /// Its category as written.
    pub category: String,
    /// Its 街镇 as written.
    pub town: String,
}

/// Reads a place-name register.
pub fn read_names(r: &NameRegister) -> Result<(Vec<PlaceName>, Vec<String>)> {
    let path = r.path.as_path();
    let (header, rows, mut problems) = read_rows(path, r.encoding.as_deref())?;
    let name_i = column(&header, path, &r.name_column)?;
    let opt = |c: &Option<String>| c.as_deref().map(|c| column(&header, path, c)).transpose();
    let (id_i, cat_i, town_i) = (opt(&r.id)?, opt(&r.category)?, opt(&r.town)?);
    let mut names = Vec::with_capacity(rows.len());
    for (line, fields) in rows {
        let field = |i: Option<usize>| {
            i.and_then(|i| fields.get(i))
                .map(|s| s.trim().to_string())
                .unwrap_or_default()
        };
        let name = field(Some(name_i));
        if name.is_empty() {
            problems.push(format!("line {line}: no name"));
            continue;
        }
        let key = Some(field(id_i))
            .filter(|k| !k.is_empty())
            .unwrap_or_else(|| format!("line {line}"));
        names.push(PlaceName {
            register: r.name.clone(),
            key,
            name,
            category: field(cat_i),
            town: field(town_i),
        });
    }
    Ok((names, problems))
}

/// A building kind as departments write it (住宅, 商业 …) or by its English name.
///
/// # Examples
/// ```
/// use dizhi::fuse::registers::read::building_kind;
/// use dizhi::BuildingKind;
/// assert_eq!(building_kind("住宅"), Some(BuildingKind::Residential));
/// assert_eq!(building_kind("农村宅基地"), Some(BuildingKind::VillageHouse));
/// assert_eq!(building_kind("factory"), Some(BuildingKind::Factory));
/// assert_eq!(building_kind("?"), None);
/// ```
pub fn building_kind(written: &str) -> Option<BuildingKind> {
    let w = written.trim();
    if let Ok(k) = w.parse::<BuildingKind>() {
        return Some(k);
    }
    const WORDS: [(&str, BuildingKind); 12] = [
        ("农", BuildingKind::VillageHouse),
        ("宅基", BuildingKind::VillageHouse),
        ("住宅", BuildingKind::Residential),
        ("居住", BuildingKind::Residential),
        ("商", BuildingKind::Shop),
        ("工业", BuildingKind::Factory),
        ("厂", BuildingKind::Factory),
        ("仓", BuildingKind::Factory),
        ("办公", BuildingKind::Office),
        ("学", BuildingKind::School),
        ("教育", BuildingKind::School),
        ("公共", BuildingKind::Public),
    ];
    WORDS
        .iter()
        .find(|(word, _)| w.contains(word))
        .map(|(_, k)| *k)
}

/// A polygon layer through the GIS readers with its [id, kind, floors] attributes, layer and
/// coordinate system as configured.
fn read_layer(
    path: &Path,
    [id, kind, floors]: [Option<&String>; 3],
    layer: Option<&str>,
    crs: Option<&str>,
) -> Result<crate::gis::Loaded> {
    let options = crate::gis::ReadOptions {
        id: id.into_iter().cloned().collect(),
        kind: kind.into_iter().cloned().collect(),
        floors: floors.into_iter().cloned().collect(),
        layer: layer.map(str::to_string),
        crs: crs
            .map(str::parse)
            .transpose()
            .map_err(|e| Error::file(path, e))?,
    };
    // The GIS layer's errors already name the file.
    crate::gis::read_footprints_as(path, &options).map_err(|e| Error::Invalid(e.to_string()))
}

/// Reads a footprint layer: its buildings (a multi-part footprint split into parts `ID#1`,
/// `ID#2` …, each reported) and the features left out, each with its id and reason.
pub fn read_footprints(layer: &FootprintLayer) -> Result<(Vec<Building>, FeatureProblems)> {
    let loaded = read_layer(
        &layer.path,
        [Some(&layer.id), layer.kind.as_ref(), layer.floors.as_ref()],
        layer.layer.as_deref(),
        layer.crs.as_deref(),
    )?;
    let mut problems: Vec<(String, String)> = loaded
        .problems
        .into_iter()
        .map(|p| (p.feature, p.reason))
        .collect();
    let mut buildings = Vec::with_capacity(loaded.footprints.len());
    let mut seen: HashMap<String, ()> = HashMap::with_capacity(loaded.footprints.len());
    for mut f in loaded.footprints {
        let kind = building_kind(&f.kind).unwrap_or(BuildingKind::Residential);
        if !f.kind.is_empty() && building_kind(&f.kind).is_none() {
            problems.push((
                f.id.clone(),
                format!("unknown kind {:?}, taken as residential", f.kind),
            ));
        }
        f.kind = kind.as_str().to_string();
        if f.geometry.0.len() > 1 {
            problems.push((
                f.id.clone(),
                format!(
                    "a footprint of {} parts, split into {}#1 …",
                    f.geometry.0.len(),
                    f.id
                ),
            ));
        }
        match f.to_buildings() {
            Ok(bs) => {
                for b in bs {
                    if seen.insert(b.id.clone(), ()).is_some() {
                        problems.push((
                            b.id.clone(),
                            "repeated id: the later footprint left out".into(),
                        ));
                    } else {
                        buildings.push(b);
                    }
                }
            }
            Err(reason) => problems.push((f.id.clone(), reason)),
        }
    }
    Ok((buildings, problems))
}

/// A division's area from a boundary layer.
#[derive(Debug, Clone)]
pub struct Boundary {
    /// 街镇 or 居/村委.
    pub level: BoundaryLevel,
    /// Its 12-digit code.
    pub code: String,
    /// Its name as the layer gives it.
    pub name: String,
    /// Its area, WGS84.
    pub area: MultiPolygon<f64>,
}

/// Reads a boundary layer (through the footprint readers, the code attribute as the id and the
/// name attribute as the kind).
pub fn read_boundaries(layer: &BoundaryLayer) -> Result<(Vec<Boundary>, FeatureProblems)> {
    let loaded = read_layer(
        &layer.path,
        [Some(&layer.code), layer.name.as_ref(), None],
        layer.layer.as_deref(),
        layer.crs.as_deref(),
    )?;
    let problems = loaded
        .problems
        .into_iter()
        .map(|p| (p.feature, p.reason))
        .collect();
    let areas = loaded
        .footprints
        .into_iter()
        .map(|f| Boundary {
            level: layer.level,
            code: f.id,
            name: f.kind,
            area: f.geometry,
        })
        .collect();
    Ok((areas, problems))
}

/// A road centre line with its name.
pub struct RoadLine {
    /// The name.
    pub name: String,
    /// The line, WGS84.
    pub geometry: Geometry<f64>,
}

/// Reads a GeoJSON road layer: every feature with a name and a line geometry.
pub fn read_roads(layer: &RoadLayer) -> Result<(Vec<RoadLine>, Vec<String>)> {
    use crate::gis::geojson::{features, geometry};
    let path = layer.path.as_path();
    let bytes = std::fs::read(path).map_err(|e| Error::file(path, e))?;
    let mut roads = Vec::new();
    let mut problems = Vec::new();
    let streamed = features::for_each_feature(&bytes, |i, f| {
        let Some(name) = f.text(&layer.name).filter(|n| !n.trim().is_empty()) else {
            problems.push(format!("feature {i}: no {}", layer.name));
            return Ok(());
        };
        match f.geometry() {
            Ok(Some(g)) => match geometry::line(&g) {
                Ok(line) => roads.push(RoadLine {
                    name: name.trim().to_string(),
                    geometry: line,
                }),
                Err(e) => problems.push(format!("feature {i} ({name}): {e}")),
            },
            Ok(None) => problems.push(format!("feature {i} ({name}): no geometry")),
            Err(e) => problems.push(format!("feature {i} ({name}): {e}")),
        }
        Ok::<(), std::convert::Infallible>(())
    });
    match streamed {
        Ok(_) => Ok((roads, problems)),
        Err(features::StreamError::Json(e)) => Err(Error::file(path, e)),
        Err(features::StreamError::NotACollection { found }) => Err(Error::file(
            path,
            format!("expected a FeatureCollection, found type {found:?}"),
        )),
        Err(features::StreamError::Stopped(never)) => match never {},
    }
}
