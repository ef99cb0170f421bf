//! ESRI Shapefile in and out: `.shp`, `.shx`, `.dbf` (attributes in UTF-8 or GBK), `.prj`
//! (WGS84) and `.cpg` (the attribute encoding, which readers such as GDAL/QGIS honour).

use std::collections::HashMap;
use std::io::{BufReader, Write};
use std::path::Path;

use encoding_rs::Encoding;
use geo::{Geometry, MultiPolygon};
use shapefile::dbase::{self, FieldName, FieldValue};
use shapefile::{Shape, ShapeReader};

use super::{Error, Footprint, Loaded, Result};
use crate::crs::SourceCrs;

/// The ESRI WKT of WGS84 lon/lat, as ArcGIS and QGIS write it into `.prj`.
const WGS84_PRJ: &str = r#"GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#;

/// The attribute encoding of a written `.dbf`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DbfEncoding {
    /// UTF-8 (`.cpg` says `UTF-8`).
    #[default]
    Utf8,
    /// GBK / code page 936, what Chinese desktop GIS has long written (`.cpg` says `GBK`).
    Gbk,
}

impl DbfEncoding {
    fn encoding(self) -> &'static Encoding {
        match self {
            DbfEncoding::Utf8 => encoding_rs::UTF_8,
            DbfEncoding::Gbk => encoding_rs::GBK,
        }
    }

    fn cpg(self) -> &'static str {
        match self {
            DbfEncoding::Utf8 => "UTF-8",
            DbfEncoding::Gbk => "GBK",
        }
    }
}

impl std::str::FromStr for DbfEncoding {
    type Err = String;

    /// `utf-8`/`utf8` or `gbk`/`cp936`/`936`, case-insensitively.
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" => Ok(DbfEncoding::Utf8),
            "gbk" | "cp936" | "936" => Ok(DbfEncoding::Gbk),
            _ => Err(format!("unknown encoding {s:?} (expected utf-8 or gbk)")),
        }
    }
}

/// The encoding a `.cpg` names (`UTF-8`, `GBK`, `936`, `CP936`, `GB18030`, `BIG5`, `1252` …).
///
/// # Examples
/// ```
/// use dizhi::gis::shp::encoding_of_cpg;
/// assert_eq!(encoding_of_cpg("936\r\n"), Some(encoding_rs::GBK));
/// assert_eq!(encoding_of_cpg("utf-8"), Some(encoding_rs::UTF_8));
/// assert_eq!(encoding_of_cpg("GB2312"), Some(encoding_rs::GBK));
/// assert_eq!(encoding_of_cpg("what"), None);
/// ```
pub fn encoding_of_cpg(cpg: &str) -> Option<&'static Encoding> {
    let name = cpg
        .trim()
        .trim_start_matches('\u{feff}')
        .to_ascii_uppercase();
    let name = name.strip_prefix("CP").unwrap_or(&name);
    match name {
        "65001" | "UTF-8" | "UTF8" => Some(encoding_rs::UTF_8),
        "936" | "GBK" | "GB2312" => Some(encoding_rs::GBK),
        "54936" | "GB18030" => Some(encoding_rs::GB18030),
        "950" | "BIG5" => Some(encoding_rs::BIG5),
        n if n.parse::<u16>().is_ok() => Encoding::for_label(format!("windows-{n}").as_bytes()),
        n => Encoding::for_label(n.as_bytes()),
    }
}

/// The encoding a `.dbf` header's language driver id names, for files without a `.cpg`.
fn encoding_of_ldid(ldid: u8) -> Option<&'static Encoding> {
    match ldid {
        0x4D | 0x7A => Some(encoding_rs::GBK), // 936: Chinese GBK (PRC)
        0x4F | 0x78 => Some(encoding_rs::BIG5), // 950
        0x57 | 0x03 => Some(encoding_rs::WINDOWS_1252),
        _ => None,
    }
}

/// Writes footprints as a Shapefile `path` (`.shp`) with `.shx`, `.dbf`, `.prj` and `.cpg`
/// beside it. Text longer than a dBASE field (254 bytes in the chosen encoding) is cut at a
/// character boundary.
pub fn write(path: &Path, footprints: &[Footprint], encoding: DbfEncoding) -> Result<()> {
    let field = |name: &str| {
        FieldName::try_from(name).map_err(|e| Error::format(path, format!("field {name}: {e:?}")))
    };
    let table = dbase::TableWriterBuilder::with_encoding(dbase::encoding::EncodingRs::from(
        encoding.encoding(),
    ))
    .add_character_field(field("id")?, 64)
    .add_character_field(field("kind")?, 16)
    .add_numeric_field(field("floors")?, 5, 0)
    .add_character_field(field("address")?, 254)
    .add_numeric_field(field("addr_count")?, 8, 0);
    let shp_err = |e: shapefile::Error| Error::format(path, e);
    let mut writer = shapefile::Writer::from_path(path, table).map_err(shp_err)?;
    let enc = encoding.encoding();
    for f in footprints {
        let shape = shapefile::Polygon::from(f.geometry.clone());
        let mut record = dbase::Record::default();
        let text = |s: &str, max: usize| FieldValue::Character(Some(fit(s, max, enc)));
        record.insert("id".into(), text(&f.id, 64));
        record.insert("kind".into(), text(&f.kind, 16));
        record.insert(
            "floors".into(),
            FieldValue::Numeric(f.floors.map(|v| v as f64)),
        );
        record.insert(
            "address".into(),
            match &f.address {
                Some(a) => text(a, 254),
                None => FieldValue::Character(None),
            },
        );
        record.insert(
            "addr_count".into(),
            FieldValue::Numeric(f.address_count.map(|v| v as f64)),
        );
        writer
            .write_shape_and_record(&shape, &record)
            .map_err(shp_err)?;
    }
    drop(writer);
    write_small(&path.with_extension("prj"), WGS84_PRJ)?;
    write_small(&path.with_extension("cpg"), encoding.cpg())
}

/// The ESRI WKT of CGCS2000 / 3-degree Gauss–Krüger CM 120E (EPSG:4549), as ArcGIS writes it.
pub const CGCS2000_GK_CM_120E_PRJ: &str = r#"PROJCS["CGCS2000_3_Degree_GK_CM_120E",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",120.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;

/// A `.dbf` field of a layer written by [`write_layer`].
#[derive(Debug, Clone, Copy)]
pub enum Field<'a> {
    /// Text of at most this many bytes (in the layer's encoding).
    Text(&'a str, u8),
    /// A whole number of at most this many digits.
    Integer(&'a str, u8),
}

/// A value of a [`Field`], in the field's order.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Text (cut to the field's width at a character boundary).
    Text(String),
    /// A whole number.
    Integer(i64),
    /// No value.
    Null,
}

/// Writes polygons with the given fields as a Shapefile `path` (`.shp`) with `.shx`, `.dbf`,
/// `.prj` (the WKT `prj`, e.g. [`CGCS2000_GK_CM_120E_PRJ`]) and `.cpg`. The polygons are already
/// in the `.prj`'s coordinates; each record's values follow `fields`.
pub fn write_layer(
    path: &Path,
    fields: &[Field],
    records: &[(MultiPolygon<f64>, Vec<Value>)],
    prj: &str,
    encoding: DbfEncoding,
) -> Result<()> {
    let name = |name: &str| {
        FieldName::try_from(name).map_err(|e| Error::format(path, format!("field {name}: {e:?}")))
    };
    let mut table = dbase::TableWriterBuilder::with_encoding(dbase::encoding::EncodingRs::from(
        encoding.encoding(),
    ));
    for f in fields {
        table = match *f {
            Field::Text(n, width) => table.add_character_field(name(n)?, width),
            Field::Integer(n, digits) => table.add_numeric_field(name(n)?, digits, 0),
        };
    }
    let shp_err = |e: shapefile::Error| Error::format(path, e);
    let mut writer = shapefile::Writer::from_path(path, table).map_err(shp_err)?;
    let enc = encoding.encoding();
    for (geometry, values) in records {
        let shape = shapefile::Polygon::from(geometry.clone());
        let mut record = dbase::Record::default();
        for (f, v) in fields.iter().zip(values) {
            let (n, width) = match *f {
                Field::Text(n, w) | Field::Integer(n, w) => (n, w),
            };
            let value = match (f, v) {
                (Field::Text(..), Value::Text(s)) => {
                    FieldValue::Character(Some(fit(s, width.into(), enc)))
                }
                (Field::Text(..), Value::Integer(i)) => FieldValue::Character(Some(i.to_string())),
                (Field::Text(..), Value::Null) => FieldValue::Character(None),
                (Field::Integer(..), Value::Integer(i)) => FieldValue::Numeric(Some(*i as f64)),
                (Field::Integer(..), Value::Text(s)) => FieldValue::Numeric(s.trim().parse().ok()),
                (Field::Integer(..), Value::Null) => FieldValue::Numeric(None),
            };
            record.insert(n.to_string(), value);
        }
        writer
            .write_shape_and_record(&shape, &record)
            .map_err(shp_err)?;
    }
    drop(writer);
    write_small(&path.with_extension("prj"), prj)?;
    write_small(&path.with_extension("cpg"), encoding.cpg())
}

fn write_small(path: &Path, text: &str) -> Result<()> {
    let mut f = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    f.write_all(text.as_bytes()).map_err(|e| Error::io(path, e))
}

/// `s` cut to at most `max` bytes once encoded, at a character boundary.
fn fit(s: &str, max: usize, enc: &'static Encoding) -> String {
    if enc.encode(s).0.len() <= max {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let mut buf = [0u8; 4];
        let n = enc.encode(c.encode_utf8(&mut buf)).0.len();
        if used + n > max {
            break;
        }
        used += n;
        out.push(c);
    }
    out
}

/// Reads a Shapefile's polygons and attributes.
///
/// The attribute encoding is `encoding` if given, else what the `.cpg` names, else what the
/// `.dbf` header's language driver id says (GBK for 0x4D), else UTF-8. Coordinates are brought
/// from the system the `.prj` declares (e.g. CGCS2000 Gauss–Krüger, EPSG:4549) to WGS84; a layer
/// out of range for it is refused. Polygon, PolygonZ and PolygonM shapes load (Z and M dropped);
/// other shape types and invalid polygons are reported.
pub fn read(path: &Path, encoding: Option<&'static Encoding>) -> Result<Loaded> {
    read_as(path, encoding, &super::ReadOptions::default())
}

/// [`read`] with the attributes and coordinate system of `options`.
pub fn read_as(
    path: &Path,
    encoding: Option<&'static Encoding>,
    options: &super::ReadOptions,
) -> Result<Loaded> {
    let dbf_path = path.with_extension("dbf");
    let encoding = match encoding {
        Some(e) => e,
        None => std::fs::read_to_string(path.with_extension("cpg"))
            .ok()
            .and_then(|c| encoding_of_cpg(&c))
            .or_else(|| ldid(&dbf_path).and_then(encoding_of_ldid))
            .unwrap_or(encoding_rs::UTF_8),
    };
    let shp_err = |e: shapefile::Error| Error::format(path, e);
    let shapes = ShapeReader::from_path(path).map_err(shp_err)?;
    let dbf = std::fs::File::open(&dbf_path).map_err(|e| Error::io(&dbf_path, e))?;
    let dbf = dbase::ReaderBuilder::new()
        .with_encoding(dbase::encoding::EncodingRs::from(encoding))
        .build(BufReader::new(dbf))
        .map_err(|e| Error::format(&dbf_path, e))?;
    let mut reader = shapefile::Reader::new(shapes, dbf);
    let mut loaded = Loaded::default();
    let crs = match &options.crs {
        Some(crs) => crs.clone(),
        None => crs_of_prj(path)?,
    };
    let mut to_wgs84 = super::Reprojection::new(crs);
    for (n, item) in reader.iter_shapes_and_records().enumerate() {
        let (shape, record) = item.map_err(shp_err)?;
        let attrs: HashMap<String, FieldValue> = HashMap::<String, FieldValue>::from(record)
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect();
        let text = |k: &str| match attrs.get(k)? {
            FieldValue::Character(Some(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
            FieldValue::Numeric(Some(v)) => Some(v.to_string()),
            FieldValue::Integer(v) => Some(v.to_string()),
            _ => None,
        };
        let int = |k: &str| match attrs.get(k)? {
            FieldValue::Numeric(Some(v)) => Some(*v as i64),
            FieldValue::Integer(v) => Some(i64::from(*v)),
            FieldValue::Double(v) => Some(*v as i64),
            FieldValue::Float(Some(v)) => Some(*v as i64),
            FieldValue::Character(Some(s)) => s.trim().parse().ok(),
            _ => None,
        };
        let first = |wanted: &[String]| {
            wanted
                .iter()
                .map(|w| w.to_lowercase())
                .find(|w| attrs.contains_key(w))
        };
        let footprint = Footprint {
            id: first(&options.id)
                .and_then(|k| text(&k))
                .unwrap_or_else(|| format!("#{n}")),
            kind: first(&options.kind)
                .and_then(|k| text(&k))
                .unwrap_or_default(),
            floors: first(&options.floors).and_then(|k| int(&k)),
            address: text("address"),
            address_count: int("addr_count"),
            geometry: MultiPolygon(vec![]),
        };
        let geometry = match shape {
            Shape::NullShape => Ok(None),
            Shape::Polygon(p) => MultiPolygon::try_from(p).map(|g| Some(Geometry::MultiPolygon(g))),
            Shape::PolygonZ(p) => {
                MultiPolygon::try_from(p).map(|g| Some(Geometry::MultiPolygon(g)))
            }
            Shape::PolygonM(p) => {
                MultiPolygon::try_from(p).map(|g| Some(Geometry::MultiPolygon(g)))
            }
            other => {
                loaded.problems.push(super::GeometryProblem {
                    feature: footprint.id,
                    reason: format!("not a polygon but a {}", other.shapetype()),
                });
                continue;
            }
        };
        match geometry
            .map_err(|e| format!("{e:?}"))
            .and_then(|g| to_wgs84.apply(&footprint.id, g))
        {
            Ok(g) => loaded.push(footprint, g),
            Err(reason) => loaded.problems.push(super::GeometryProblem {
                feature: footprint.id,
                reason,
            }),
        }
    }
    to_wgs84.finish(loaded).map_err(|m| Error::format(path, m))
}

/// The coordinate system the `.prj` beside a Shapefile declares; WGS84 lon/lat without one (and
/// a layer in metres without a `.prj` is then refused by its range, never loaded as degrees).
pub fn crs_of_prj(shp: &Path) -> Result<SourceCrs> {
    let prj = shp.with_extension("prj");
    match std::fs::read(&prj) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            SourceCrs::from_wkt(&text).map_err(|e| Error::format(&prj, e))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(SourceCrs::default()),
        Err(e) => Err(Error::io(&prj, e)),
    }
}

/// The language driver id byte of a `.dbf` header.
fn ldid(dbf: &Path) -> Option<u8> {
    use std::io::Read;
    let mut head = [0u8; 32];
    std::fs::File::open(dbf).ok()?.read_exact(&mut head).ok()?;
    Some(head[29])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_cuts_at_a_character_boundary_in_the_target_encoding() {
        assert_eq!(fit("青浦区", 5, encoding_rs::GBK), "青浦");
        assert_eq!(fit("青浦区", 5, encoding_rs::UTF_8), "青");
        assert_eq!(fit("abc", 5, encoding_rs::UTF_8), "abc");
    }
}
