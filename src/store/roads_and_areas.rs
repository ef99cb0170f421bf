//! The `roads` and `areas` tables: road centre lines and 居/村委 boundaries.

use geo::Geometry;
use rusqlite::{Transaction, params};

use super::geom::{optional_geometry, optional_wkb};
use super::{Result, Store};

/// A road with its centre line.
#[derive(Debug, Clone, PartialEq)]
pub struct RoadRecord {
    /// Stable id.
    pub id: String,
    /// Its standard name, e.g. `华腾路`.
    pub name: String,
    /// The 街镇 it is in (12-digit code), if known.
    pub town_code: Option<String>,
    /// Centre line (a `LineString` or `MultiLineString`), WGS84 lon/lat.
    pub geometry: Option<Geometry<f64>>,
}

/// A 居/村委 area.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaRecord {
    /// 12-digit statistical code.
    pub code: String,
    /// Its name, e.g. `王仙村`.
    pub name: String,
    /// Its level, e.g. `community`.
    pub level: String,
    /// The code of the area it belongs to (the 街镇).
    pub parent_code: Option<String>,
    /// Its boundary (a `Polygon` or `MultiPolygon`), WGS84 lon/lat.
    pub geometry: Option<Geometry<f64>>,
}

impl Store {
    /// Inserts roads in one transaction.
    ///
    /// # Examples
    /// ```
    /// use dizhi::store::{RoadRecord, Store};
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut store = Store::open(dir.path()).unwrap();
    /// use geo::line_string;
    /// let line = line_string![(x: 121.0, y: 31.0), (x: 121.01, y: 31.0)];
    /// let road = RoadRecord { id: "R1".into(), name: "华腾路".into(), town_code: None, geometry: Some(line.into()) };
    /// store.insert_roads(&[road.clone()]).unwrap();
    /// assert_eq!(store.roads().unwrap(), vec![road]);
    /// ```
    pub fn insert_roads(&mut self, roads: &[RoadRecord]) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let n = write_roads(&tx, roads)?;
        tx.commit()?;
        Ok(n)
    }

    /// Inserts 居/村委 areas in one transaction.
    pub fn insert_areas(&mut self, areas: &[AreaRecord]) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let n = write_areas(&tx, areas)?;
        tx.commit()?;
        Ok(n)
    }

    /// Every road, in id order.
    pub fn roads(&self) -> Result<Vec<RoadRecord>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, name, town_code, geometry FROM roads ORDER BY id")?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(RoadRecord {
                id: row.get(0)?,
                name: row.get(1)?,
                town_code: row.get(2)?,
                geometry: optional_geometry(row, 3)?,
            });
        }
        Ok(out)
    }

    /// Every 居/村委 area, in code order.
    pub fn areas(&self) -> Result<Vec<AreaRecord>> {
        let mut stmt = self
            .conn
            .prepare("SELECT code, name, level, parent_code, geometry FROM areas ORDER BY code")?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(AreaRecord {
                code: row.get(0)?,
                name: row.get(1)?,
                level: row.get(2)?,
                parent_code: row.get(3)?,
                geometry: optional_geometry(row, 4)?,
            });
        }
        Ok(out)
    }
}

pub(crate) fn write_roads(tx: &Transaction<'_>, roads: &[RoadRecord]) -> Result<usize> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO roads (id, name, town_code, geometry) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for r in roads {
        stmt.execute(params![
            r.id,
            r.name,
            r.town_code,
            optional_wkb(&r.geometry)?
        ])?;
    }
    Ok(roads.len())
}

pub(crate) fn write_areas(tx: &Transaction<'_>, areas: &[AreaRecord]) -> Result<usize> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO areas (code, name, level, parent_code, geometry) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for a in areas {
        stmt.execute(params![
            a.code,
            a.name,
            a.level,
            a.parent_code,
            optional_wkb(&a.geometry)?
        ])?;
    }
    Ok(areas.len())
}
