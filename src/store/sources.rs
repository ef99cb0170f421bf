//! The `sources` and `source_records` tables: every source and every raw record of it.

use geo::Geometry;
use rusqlite::{Transaction, params};
use serde::{Deserialize, Serialize};

use super::geom::{optional_geometry, optional_wkb};
use super::{Error, Result, Store};

/// A source registered in the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// Row id.
    pub id: i64,
    /// Unique name: the file stem (`truth/<stem>` for truth files).
    pub name: String,
    /// `csv`, `geojson` or `truth`.
    pub kind: String,
    /// Where it was read from.
    pub path: Option<String>,
    /// When it was imported (UTC, ISO 8601).
    pub imported_at: String,
    /// How many records it has.
    pub record_count: u64,
}

/// One raw record of a source, as it came.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRecord {
    /// The record's id within its source (the first CSV column, or the GeoJSON `id`).
    pub key: String,
    /// The line (CSV) or feature index (GeoJSON, 0-based) it came from.
    pub line: Option<u64>,
    /// Its columns as a JSON object, in the source's column order.
    pub raw: String,
    /// Its geometry, if it had one.
    pub geometry: Option<Geometry<f64>>,
}

impl Store {
    /// Registers a source and inserts its records in one transaction; returns the source's id.
    ///
    /// # Examples
    /// ```
    /// use dizhi::store::{SourceRecord, Store};
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut store = Store::open(dir.path()).unwrap();
    /// let rec = SourceRecord { key: "r1".into(), line: Some(2), raw: r#"{"id":"r1"}"#.into(), geometry: None };
    /// let id = store.insert_source("mp", "csv", None, &[rec.clone()]).unwrap();
    /// assert_eq!(store.source_records(id).unwrap(), vec![rec]);
    /// assert_eq!(store.sources().unwrap()[0].record_count, 1);
    /// ```
    pub fn insert_source(
        &mut self,
        name: &str,
        kind: &str,
        path: Option<&str>,
        records: &[SourceRecord],
    ) -> Result<i64> {
        let tx = self.conn.transaction()?;
        let id = write_source(&tx, name, kind, path, records)?;
        tx.commit()?;
        Ok(id)
    }

    /// Every source, in name order.
    pub fn sources(&self) -> Result<Vec<SourceInfo>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, name, kind, path, imported_at, record_count FROM sources ORDER BY name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(SourceInfo {
                id: r.get(0)?,
                name: r.get(1)?,
                kind: r.get(2)?,
                path: r.get(3)?,
                imported_at: r.get(4)?,
                record_count: r.get::<_, i64>(5)?.max(0) as u64,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The records of a source, in the order they were read.
    pub fn source_records(&self, source_id: i64) -> Result<Vec<SourceRecord>> {
        let mut out = Vec::new();
        source_record_pages(&self.conn, source_id, usize::MAX, |page| {
            out = page;
            Ok::<(), Error>(())
        })?;
        Ok(out)
    }
}

/// Reads a source's records in source order, `page` at a time, and hands each page to `f`; only
/// one page is in memory. Takes the connection rather than a [`Store`] so that a caller can write
/// what it makes of each page inside its own open transaction (a `Transaction` derefs to a
/// `Connection`).
///
/// # Examples
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let store = dizhi::store::Store::open(dir.path()).unwrap();
/// let mut pages = 0;
/// dizhi::store::source_record_pages(store.connection(), 1, 1000, |_| {
///     pages += 1;
///     Ok::<(), dizhi::store::Error>(())
/// })
/// .unwrap();
/// assert_eq!(pages, 0);
/// ```
pub fn source_record_pages<E: From<Error>>(
    conn: &rusqlite::Connection,
    source_id: i64,
    page: usize,
    mut f: impl FnMut(Vec<SourceRecord>) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    let page = page.max(1);
    let mut stmt = conn
        .prepare(
            "SELECT record_key, line, raw, geometry FROM source_records WHERE source_id = ?1 \
             ORDER BY id",
        )
        .map_err(Error::from)?;
    let mut rows = stmt.query([source_id]).map_err(Error::from)?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(Error::from)? {
        out.push(SourceRecord {
            key: row.get(0).map_err(Error::from)?,
            line: row
                .get::<_, Option<i64>>(1)
                .map_err(Error::from)?
                .map(|l| l.max(0) as u64),
            raw: row.get(2).map_err(Error::from)?,
            geometry: optional_geometry(row, 3)?,
        });
        if out.len() >= page {
            f(std::mem::take(&mut out))?;
        }
    }
    if !out.is_empty() {
        f(out)?;
    }
    Ok(())
}

pub(crate) fn write_source(
    tx: &Transaction<'_>,
    name: &str,
    kind: &str,
    path: Option<&str>,
    records: &[SourceRecord],
) -> Result<i64> {
    let id = write_source_row(tx, None, name, kind, path)?;
    write_source_records(tx, id, records)?;
    set_source_count(tx, id, records.len() as u64)?;
    Ok(id)
}

/// Registers a source with no records yet, with the given id or a new one; returns its id.
pub(crate) fn write_source_row(
    tx: &Transaction<'_>,
    id: Option<i64>,
    name: &str,
    kind: &str,
    path: Option<&str>,
) -> Result<i64> {
    tx.execute(
        "INSERT INTO sources (id, name, kind, path, record_count) VALUES (?1, ?2, ?3, ?4, 0)",
        params![id, name, kind, path],
    )?;
    Ok(tx.last_insert_rowid())
}

pub(crate) fn write_source_records(
    tx: &Transaction<'_>,
    source_id: i64,
    records: &[SourceRecord],
) -> Result<usize> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO source_records (source_id, record_key, line, raw, geometry) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for r in records {
        let line = r.line.map(|l| l as i64);
        stmt.execute(params![
            source_id,
            r.key,
            line,
            r.raw,
            optional_wkb(&r.geometry)?
        ])?;
    }
    Ok(records.len())
}

pub(crate) fn set_source_count(tx: &Transaction<'_>, source_id: i64, count: u64) -> Result<()> {
    tx.execute(
        "UPDATE sources SET record_count = ?2 WHERE id = ?1",
        params![source_id, count as i64],
    )?;
    Ok(())
}
