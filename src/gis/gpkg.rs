//! GeoPackage in and out: SQLite with the OGC tables, features as GeoPackage binary (a `GP`
//! header with the envelope, then ISO WKB), EPSG:4326.
//!
//! Written following OGC 12-128r18 (GeoPackage 1.3): the `application_id`/`user_version`
//! pragmas, `gpkg_spatial_ref_sys` with the three required rows, `gpkg_contents` and
//! `gpkg_geometry_columns`, so GDAL/QGIS open it without warnings.

use std::path::Path;

use geo::{BoundingRect, Geometry, MultiPolygon, Rect};
use rusqlite::{Connection, params};
use wkb::writer::{WriteOptions, write_geometry};

use super::{Error, Footprint, Loaded, Result};
use crate::crs::SourceCrs;

/// `GPKG` as a big-endian integer: the SQLite `application_id` of a GeoPackage.
const APPLICATION_ID: i32 = 0x4750_4B47;
/// GeoPackage 1.3.
const USER_VERSION: i32 = 10300;
/// The layer name dizhi writes.
pub const LAYER: &str = "buildings";

const WGS84_WKT: &str = r#"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]"#;

const SCHEMA: &str = r#"
CREATE TABLE gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL PRIMARY KEY,
  organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL,
  definition TEXT NOT NULL,
  description TEXT
);
CREATE TABLE gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY,
  data_type TEXT NOT NULL,
  identifier TEXT UNIQUE,
  description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE,
  srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id)
);
CREATE TABLE gpkg_geometry_columns (
  table_name TEXT NOT NULL,
  column_name TEXT NOT NULL,
  geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL,
  z TINYINT NOT NULL,
  m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id)
);
"#;

/// Writes footprints as a new GeoPackage at `path` (replacing any file there), one layer
/// `buildings` with columns `id, kind, floors, address, addr_count` (the counts as MEDIUMINT, which
/// GDAL reads as 32-bit Integer rather than Integer64).
///
/// The geometry column is `POLYGON` when every footprint has one part, else `MULTIPOLYGON`.
pub fn write(path: &Path, footprints: &[Footprint]) -> Result<()> {
    let err = Error::sqlite(path);
    let mut conn = create(path)?;
    let tx = conn.transaction().map_err(&err)?;
    create_schema(&tx, path)?;
    let multi = footprints.iter().any(|f| f.geometry.0.len() != 1);
    let type_name = if multi { "MULTIPOLYGON" } else { "POLYGON" };
    tx.execute_batch(&format!(
        "CREATE TABLE \"{LAYER}\" (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, \
         geom {type_name}, id TEXT, kind TEXT, floors MEDIUMINT, address TEXT, addr_count MEDIUMINT);"
    ))
    .map_err(&err)?;
    let mut extent: Option<Rect<f64>> = None;
    {
        let mut insert = tx
            .prepare(&format!(
                "INSERT INTO \"{LAYER}\" (geom, id, kind, floors, address, addr_count) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
            ))
            .map_err(&err)?;
        for f in footprints {
            let rect = f.geometry.bounding_rect();
            extent = match (extent, rect) {
                (Some(a), Some(b)) => Some(union(a, b)),
                (a, b) => a.or(b),
            };
            let geometry = if multi {
                Geometry::MultiPolygon(f.geometry.clone())
            } else {
                Geometry::Polygon(f.geometry.0[0].clone())
            };
            let blob = gp_blob(&geometry, rect).map_err(|m| Error::format(path, m))?;
            insert
                .execute(params![
                    blob,
                    f.id,
                    f.kind,
                    f.floors,
                    f.address,
                    f.address_count
                ])
                .map_err(&err)?;
        }
    }
    register_layer(
        &tx,
        path,
        LAYER,
        "dizhi building footprints",
        type_name,
        extent,
        None,
    )?;
    tx.commit().map_err(&err)?;
    conn.close().map_err(|(_, e)| err(e))
}

/// A new, empty GeoPackage file at `path` (replacing any file there), its pragmas set.
fn create(path: &Path) -> Result<Connection> {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(path, e)),
    }
    let err = Error::sqlite(path);
    let conn = Connection::open(path).map_err(&err)?;
    conn.pragma_update(None, "application_id", APPLICATION_ID)
        .map_err(&err)?;
    conn.pragma_update(None, "user_version", USER_VERSION)
        .map_err(&err)?;
    // One file written once: no journal needed until it is complete.
    conn.pragma_update(None, "journal_mode", "OFF")
        .map_err(&err)?;
    conn.pragma_update(None, "synchronous", "OFF")
        .map_err(&err)?;
    Ok(conn)
}

/// The OGC tables and the three required spatial reference systems.
fn create_schema(tx: &rusqlite::Transaction, path: &Path) -> Result<()> {
    let err = Error::sqlite(path);

    tx.execute_batch(SCHEMA).map_err(&err)?;
    {
        let mut srs = tx
            .prepare(
                "INSERT INTO gpkg_spatial_ref_sys (srs_name, srs_id, organization, \
                 organization_coordsys_id, definition, description) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(&err)?;
        srs.execute(params![
            "Undefined cartesian SRS",
            -1,
            "NONE",
            -1,
            "undefined",
            "undefined cartesian coordinate reference system"
        ])
        .map_err(&err)?;
        srs.execute(params![
            "Undefined geographic SRS",
            0,
            "NONE",
            0,
            "undefined",
            "undefined geographic coordinate reference system"
        ])
        .map_err(&err)?;
        srs.execute(params![
            "WGS 84 geodetic",
            4326,
            "EPSG",
            4326,
            WGS84_WKT,
            "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid"
        ])
        .map_err(&err)?;
    }
    Ok(())
}

/// A feature layer for [`write_layers`]: its table name, description, attribute columns (name
/// and SQL type, e.g. `TEXT`, `MEDIUMINT`), geometry type (`POLYGON`, `MULTIPOLYGON`,
/// `LINESTRING` …) and features (WGS84 geometry and the values of its columns, in order).
pub struct Layer<'a> {
    /// The table name.
    pub name: &'a str,
    /// What the layer holds (`gpkg_contents.description`).
    pub description: &'a str,
    /// The geometry column's type.
    pub geometry_type: &'a str,
    /// Attribute columns: name and SQL type.
    pub columns: &'a [(&'a str, &'a str)],
    /// The features: geometry and column values.
    pub features: Vec<(Geometry<f64>, Vec<rusqlite::types::Value>)>,
}

/// Writes feature layers in WGS84 (EPSG:4326) as a new GeoPackage at `path` (replacing any file
/// there), one table per layer. `last_change` (`2026-10-01T00:00:00.000Z`) is the layers' time of
/// last change, now when `None`; a fixed one gives the same bytes for the same layers.
pub fn write_layers(path: &Path, layers: &[Layer], last_change: Option<&str>) -> Result<()> {
    let err = Error::sqlite(path);
    let mut conn = create(path)?;
    let tx = conn.transaction().map_err(&err)?;
    create_schema(&tx, path)?;
    for layer in layers {
        let name = layer.name.replace('"', "");
        let columns: Vec<String> = layer
            .columns
            .iter()
            .map(|(c, t)| format!("\"{}\" {t}", c.replace('"', "")))
            .collect();
        let mut create = format!(
            "CREATE TABLE \"{name}\" (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom {}",
            layer.geometry_type
        );
        for c in &columns {
            create.push_str(", ");
            create.push_str(c);
        }
        create.push_str(");");
        tx.execute_batch(&create).map_err(&err)?;
        let names: Vec<String> = layer
            .columns
            .iter()
            .map(|(c, _)| format!("\"{}\"", c.replace('"', "")))
            .collect();
        let marks: Vec<String> = (0..=names.len()).map(|i| format!("?{}", i + 1)).collect();
        let mut extent: Option<Rect<f64>> = None;
        {
            let mut insert = tx
                .prepare(&format!(
                    "INSERT INTO \"{name}\" (geom{}{}) VALUES ({})",
                    if names.is_empty() { "" } else { ", " },
                    names.join(", "),
                    marks.join(", ")
                ))
                .map_err(&err)?;
            for (geometry, values) in &layer.features {
                let rect = geometry.bounding_rect();
                extent = match (extent, rect) {
                    (Some(a), Some(b)) => Some(union(a, b)),
                    (a, b) => a.or(b),
                };
                let blob = gp_blob(geometry, rect).map_err(|m| Error::format(path, m))?;
                let mut row: Vec<rusqlite::types::Value> = vec![blob.into()];
                row.extend(values.iter().cloned());
                insert
                    .execute(rusqlite::params_from_iter(row))
                    .map_err(&err)?;
            }
        }
        register_layer(
            &tx,
            path,
            &name,
            layer.description,
            layer.geometry_type,
            extent,
            last_change,
        )?;
    }
    tx.commit().map_err(&err)?;
    conn.close().map_err(|(_, e)| err(e))
}

/// A layer's rows in `gpkg_contents` and `gpkg_geometry_columns`.
fn register_layer(
    tx: &rusqlite::Transaction,
    path: &Path,
    name: &str,
    description: &str,
    type_name: &str,
    extent: Option<Rect<f64>>,
    last_change: Option<&str>,
) -> Result<()> {
    let err = Error::sqlite(path);
    let (min_x, min_y, max_x, max_y) = match extent {
        Some(r) => (
            Some(r.min().x),
            Some(r.min().y),
            Some(r.max().x),
            Some(r.max().y),
        ),
        None => (None, None, None, None),
    };
    tx.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, \
         min_x, min_y, max_x, max_y, srs_id, last_change) VALUES (?1, 'features', ?1, ?2, ?3, ?4, \
         ?5, ?6, 4326, coalesce(?7, strftime('%Y-%m-%dT%H:%M:%fZ','now')))",
        params![name, description, min_x, min_y, max_x, max_y, last_change],
    )
    .map_err(&err)?;
    tx.execute(
        "INSERT INTO gpkg_geometry_columns (table_name, column_name, geometry_type_name, srs_id, z, m) \
         VALUES (?1, 'geom', ?2, 4326, 0, 0)",
        params![name, type_name],
    )
    .map_err(&err)?;
    Ok(())
}

fn union(a: Rect<f64>, b: Rect<f64>) -> Rect<f64> {
    Rect::new(
        geo::coord! { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
        geo::coord! { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
    )
}

/// A geometry as GeoPackage binary: `GP`, version 0, flags (little-endian, XY envelope),
/// srs_id 4326, the envelope, then little-endian ISO WKB.
///
/// # Examples
/// ```
/// use dizhi::gis::gpkg::{geometry_from_gp_blob, gp_blob};
/// use geo::{BoundingRect, Geometry, polygon};
/// let g = Geometry::Polygon(polygon![(x: 121.0, y: 31.0), (x: 121.1, y: 31.0), (x: 121.1, y: 31.1)]);
/// let blob = gp_blob(&g, g.bounding_rect()).unwrap();
/// assert_eq!(&blob[..4], b"GP\x00\x03");
/// assert_eq!(geometry_from_gp_blob(&blob).unwrap(), Some(g));
/// ```
pub fn gp_blob(
    g: &Geometry<f64>,
    envelope: Option<Rect<f64>>,
) -> std::result::Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(64 + wkb::writer::geometry_wkb_size(g));
    out.extend_from_slice(b"GP");
    out.push(0);
    match envelope {
        Some(r) => {
            out.push(0b0000_0011); // little-endian header, envelope [minx, maxx, miny, maxy]
            out.extend_from_slice(&4326i32.to_le_bytes());
            for v in [r.min().x, r.max().x, r.min().y, r.max().y] {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        None => {
            out.push(0b0001_0001); // little-endian, no envelope, empty geometry
            out.extend_from_slice(&4326i32.to_le_bytes());
        }
    }
    write_geometry(&mut out, g, &WriteOptions::default()).map_err(|e| e.to_string())?;
    Ok(out)
}

/// The geometry of a GeoPackage binary blob (`None` for an empty geometry); Z and M values are
/// dropped.
pub fn geometry_from_gp_blob(blob: &[u8]) -> std::result::Result<Option<Geometry<f64>>, String> {
    if blob.len() < 8 || &blob[..2] != b"GP" {
        return Err("not a GeoPackage geometry (no GP header)".into());
    }
    let flags = blob[3];
    let envelope_len = match (flags >> 1) & 0b111 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        code => return Err(format!("invalid envelope code {code}")),
    };
    if flags & 0b0001_0000 != 0 {
        return Ok(None);
    }
    let start = 8 + envelope_len;
    let wkb_bytes = blob
        .get(start..)
        .ok_or_else(|| "GeoPackage geometry shorter than its header".to_string())?;
    let wkb = wkb::reader::read_wkb(wkb_bytes).map_err(|e| format!("WKB: {e}"))?;
    use geo_traits::to_geo::ToGeoGeometry;
    Ok(Some(wkb.to_geometry()))
}

/// Reads the first feature layer of a GeoPackage (or `layer`).
///
/// Attribute columns are matched by name, case-insensitively: `id` or `building_id` (else the
/// `fid`), `kind`, `floors`, `address`, `addr_count`.
pub fn read(path: &Path) -> Result<Loaded> {
    read_as(path, &super::ReadOptions::default())
}

/// [`read`] of a named layer.
pub fn read_layer(path: &Path, layer: Option<&str>) -> Result<Loaded> {
    let options = super::ReadOptions {
        layer: layer.map(str::to_string),
        ..Default::default()
    };
    read_as(path, &options)
}

/// [`read`] with the layer, attributes and coordinate system of `options`.
pub fn read_as(path: &Path, options: &super::ReadOptions) -> Result<Loaded> {
    let layer = options.layer.as_deref();
    if !path.exists() {
        return Err(Error::io(
            path,
            std::io::Error::from(std::io::ErrorKind::NotFound),
        ));
    }
    let err = Error::sqlite(path);
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(&err)?;
    let (table, column, srs_id): (String, String, i64) = conn
        .query_row(
            "SELECT g.table_name, g.column_name, g.srs_id FROM gpkg_geometry_columns g \
             JOIN gpkg_contents c ON c.table_name = g.table_name \
             WHERE c.data_type = 'features' AND (?1 IS NULL OR g.table_name = ?1) \
             ORDER BY g.table_name LIMIT 1",
            [layer],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .map_err(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Error::format(path, "no feature layer"),
            e => err(e),
        })?;
    let crs = match &options.crs {
        Some(crs) => crs.clone(),
        None => crs_of_srs(&conn, path, &table, srs_id)?,
    };
    let mut to_wgs84 = super::Reprojection::new(crs);
    let mut stmt = conn
        .prepare(&format!("SELECT * FROM \"{}\"", table.replace('"', "\"\"")))
        .map_err(&err)?;
    // Column names from `pragma_table_info`, read as bytes: rusqlite's column-name calls panic on
    // a name that is not UTF-8 (a damaged or crafted file).
    let mut names: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid")
        .and_then(|mut info| {
            info.query_map([table.as_str()], |r| {
                Ok(
                    String::from_utf8_lossy(r.get_ref(0)?.as_bytes().unwrap_or_default())
                        .to_ascii_lowercase(),
                )
            })?
            .collect::<std::result::Result<Vec<_>, _>>()
        })
        .map_err(&err)?;
    names.resize(stmt.column_count(), String::new());
    let col = |wanted: &[&str]| {
        wanted
            .iter()
            .find_map(|w| names.iter().position(|n| n == w))
    };
    let (geom_i, id_i, fid_i) = (
        col(&[column.to_ascii_lowercase().as_str()]),
        super::ReadOptions::find(&options.id, &names),
        col(&["fid", "ogc_fid"]),
    );
    let (kind_i, floors_i, address_i, count_i) = (
        super::ReadOptions::find(&options.kind, &names),
        super::ReadOptions::find(&options.floors, &names),
        col(&["address"]),
        col(&["addr_count"]),
    );
    let mut rows = stmt.query([]).map_err(&err)?;
    let mut loaded = Loaded::default();
    let mut n = 0usize;
    while let Some(row) = rows.next().map_err(&err)? {
        let text = |i: Option<usize>| -> Option<String> {
            use rusqlite::types::ValueRef;
            match row.get_ref(i?).ok()? {
                ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Integer(v) => Some(v.to_string()),
                ValueRef::Real(v) => Some(v.to_string()),
                _ => None,
            }
        };
        let int = |i: Option<usize>| {
            text(i)
                .and_then(|s| s.trim().parse::<f64>().ok())
                .map(|v| v as i64)
        };
        let id = text(id_i)
            .or_else(|| text(fid_i))
            .unwrap_or_else(|| format!("#{n}"));
        let footprint = Footprint {
            id,
            kind: text(kind_i).unwrap_or_default(),
            floors: int(floors_i),
            address: text(address_i),
            address_count: int(count_i),
            geometry: MultiPolygon(vec![]),
        };
        let blob = geom_i
            .and_then(|i| row.get_ref(i).ok())
            .and_then(|v| v.as_blob().ok());
        match blob
            .map(geometry_from_gp_blob)
            .unwrap_or(Ok(None))
            .and_then(|g| to_wgs84.apply(&footprint.id, g))
        {
            Ok(g) => loaded.push(footprint, g),
            Err(reason) => loaded.problems.push(super::GeometryProblem {
                feature: footprint.id,
                reason,
            }),
        }
        n += 1;
    }
    to_wgs84.finish(loaded).map_err(|m| Error::format(path, m))
}

/// The coordinate system of a layer's `srs_id`: its EPSG code when the organisation is EPSG,
/// else the WKT definition the GeoPackage carries; 0 and -1 (undefined) are taken as lon/lat and
/// checked by their range.
fn crs_of_srs(conn: &Connection, path: &Path, table: &str, srs_id: i64) -> Result<SourceCrs> {
    if matches!(srs_id, 0 | -1) {
        return Ok(SourceCrs::default());
    }
    let (organization, code, definition): (String, i64, String) = conn
        .query_row(
            "SELECT organization, organization_coordsys_id, definition \
             FROM gpkg_spatial_ref_sys WHERE srs_id = ?1",
            [srs_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .map_err(|e| Error::format(path, format!("layer {table}: srs {srs_id}: {e}")))?;
    let by_code = match (
        organization.eq_ignore_ascii_case("EPSG"),
        u16::try_from(code),
    ) {
        (true, Ok(code)) => SourceCrs::from_epsg(code).ok(),
        _ => None,
    };
    match by_code {
        Some(crs) => Ok(crs),
        None => SourceCrs::from_wkt(&definition)
            .map_err(|e| Error::format(path, format!("layer {table}: srs {srs_id}: {e}"))),
    }
}
