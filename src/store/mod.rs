//! The embedded database of a data directory: one SQLite file, `DIR/dizhi.sqlite`.
//!
//! | table | holds |
//! |---|---|
//! | `addresses` | standard addresses: full text, components, kind, `building_id`, lon/lat, tags (JSON), status |
//! | `buildings` | footprints as WKB polygons (WGS84 lon/lat) with their bounding box, kind, floors, tags |
//! | `roads`, `areas` | road centre lines and 居/村委 boundaries (WKB) |
//! | `sources`, `source_records` | every source and every raw record of it, columns as a JSON object |
//! | `links` | address ↔ building, with who says so, how, and how sure |
//! | `anomalies`, `reviews`, `audit_log`, `tags` | data governance (filled by later stages) |
//! | `meta` | what the store was built from: source dir, seed, counts, `built_at` |
//!
//! The schema is versioned ([`MIGRATIONS`], `PRAGMA user_version`); opening an older store
//! migrates it, a newer one is refused. Stores are opened in WAL mode with foreign keys on, so
//! readers never wait for a writer. A [`Store`] is one connection: use one per thread, and open
//! another for each concurrent reader.
//!
//! [`build()`] fills a data directory from a synthetic-district source directory, all or nothing.

mod audit;
mod build;
pub mod generation;
mod geom;
mod schema;

pub use audit::{AuditEntry, audit_log, recent_audit};
pub use build::{
    ADDRESS_HEADER, BuildError, BuildReport, Location, MAX_PROBLEMS, Problem, Progress, Stage,
    build,
};
pub use geom::{geometry_from_wkb, geometry_to_wkb, polygon_from_wkb, polygon_to_wkb};
pub use schema::{MIGRATIONS, SCHEMA_VERSION};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use geo::{BoundingRect, Geometry, Point};
use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};
use serde::{Deserialize, Serialize};

use crate::{AddressKind, AddressStatus, AdminRef, Building, BuildingKind, StandardAddress};

/// The store's file name inside a data directory.
pub const STORE_FILE: &str = "dizhi.sqlite";

/// What can go wrong in the store layer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory of the data dir could not be created, read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// SQLite failed (a locked, full or corrupt database, or a constraint a write broke).
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The store was written by a newer dizhi whose schema this one does not know.
    #[error(
        "the store has schema version {found}, newer than this dizhi knows ({known}); upgrade dizhi"
    )]
    NewerSchema {
        /// The store's `user_version`.
        found: u32,
        /// The newest version this dizhi knows.
        known: u32,
    },
    /// A migration failed; the store is left at the version before it.
    #[error("migrating the store to schema version {to}: {source}")]
    Migration {
        /// The version the failed migration leads to.
        to: u32,
        /// The underlying error.
        source: rusqlite::Error,
    },
    /// A stored value cannot be decoded (bad WKB, an unknown kind, bad tags JSON).
    #[error("corrupt store: {0}")]
    Corrupt(String),
}

impl Error {
    fn wkb(e: wkb::error::WkbError) -> Self {
        Error::Corrupt(format!("WKB: {e}"))
    }

    fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The store layer's result.
pub type Result<T> = std::result::Result<T, Error>;

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

/// A link between a standard address and a building, with how it was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    /// The address.
    pub address_id: String,
    /// The building.
    pub building_id: String,
    /// Who says so: a source name, or the file it came from (`addresses.csv`).
    pub source: String,
    /// How: `given` (the source said so), `contains` (the point is in the footprint), …
    pub method: String,
    /// How sure, in [0, 1].
    pub confidence: f64,
}

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

/// Counts of what a store holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Schema version.
    pub schema_version: u32,
    /// Standard addresses.
    pub addresses: u64,
    /// Building footprints.
    pub buildings: u64,
    /// Roads.
    pub roads: u64,
    /// 居/村委 areas.
    pub areas: u64,
    /// Address–building links.
    pub links: u64,
    /// Sources.
    pub sources: u64,
    /// Raw source records over all sources.
    pub source_records: u64,
    /// Addresses per 街镇 name.
    pub addresses_per_town: BTreeMap<String, u64>,
    /// Addresses per kind.
    pub addresses_per_kind: BTreeMap<String, u64>,
    /// Buildings per kind.
    pub buildings_per_kind: BTreeMap<String, u64>,
    /// Records per source name.
    pub records_per_source: BTreeMap<String, u64>,
}

/// An open store.
///
/// # Examples
/// ```
/// use dizhi::store::Store;
/// use dizhi::{AddressKind, StandardAddress};
/// let dir = tempfile::tempdir().unwrap();
/// let mut store = Store::open(dir.path()).unwrap();
/// let mut a = StandardAddress::new("A1", AddressKind::Street);
/// a.road = Some("华腾路".into());
/// a.number = Some("8".into());
/// store.insert_addresses(&[a.clone()]).unwrap();
/// assert_eq!(store.address("A1").unwrap(), Some(a));
/// assert_eq!(store.summary().unwrap().addresses, 1);
/// ```
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

const ADDRESS_COLUMNS: &str = "id, address, district, town_code, town, community_code, community, \
     road, lane, number, grp, poi, building, kind, building_id, lon, lat, tags, status";

/// How long a connection waits for another connection's lock before `SQLITE_BUSY`.
pub const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

impl Store {
    /// Opens the store of a data directory, creating the directory and an empty store if missing,
    /// and migrating an older store to the current schema.
    ///
    /// # Examples
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = dizhi::store::Store::open(dir.path().join("data")).unwrap();
    /// assert!(dir.path().join("data/dizhi.sqlite").exists());
    /// assert_eq!(store.schema_version().unwrap(), dizhi::store::SCHEMA_VERSION);
    /// ```
    pub fn open(data_dir: impl AsRef<Path>) -> Result<Store> {
        let dir = data_dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        Store::open_file(&dir.join(STORE_FILE))
    }

    /// Opens (creating if missing) the store file at `path` and migrates it.
    pub fn open_file(path: &Path) -> Result<Store> {
        let mut conn = Connection::open(path)?;
        // WAL: readers (the server) never block on a writer (a review, an import).
        let _: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // 64 MiB of page cache (the default is 2 MiB): bulk writes touch every index's pages.
        conn.pragma_update(None, "cache_size", -65_536)?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        schema::migrate(&mut conn)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// Creates a fresh store at `path` (which must not exist, or be an empty file), tuned for
    /// one bulk load: no journal and no syncs, because the caller renames the file into place
    /// only once it is complete and closed.
    ///
    /// # Examples
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("new.sqlite");
    /// let store = dizhi::store::Store::create_at(&path).unwrap();
    /// assert_eq!(store.summary().unwrap().addresses, 0);
    /// drop(store);
    /// assert!(dizhi::store::Store::create_at(&path).is_err(), "not over an existing store");
    /// ```
    pub fn create_at(path: &Path) -> Result<Store> {
        if std::fs::metadata(path).is_ok_and(|m| m.len() > 0) {
            return Err(Error::io(
                path,
                std::io::Error::new(std::io::ErrorKind::AlreadyExists, "not a fresh file"),
            ));
        }
        let mut conn = Connection::open(path)?;
        let _: String = conn.pragma_update_and_check(None, "journal_mode", "OFF", |r| r.get(0))?;
        conn.pragma_update(None, "synchronous", "OFF")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.pragma_update(None, "cache_size", -200_000)?;
        schema::migrate(&mut conn)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of this store.
    pub fn schema_version(&self) -> Result<u32> {
        schema::version(&self.conn)
    }

    /// The underlying connection, for layers that add their own tables (fusion, review).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The underlying connection, mutable, for layers that write in their own transactions.
    pub fn connection_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Closes the store, reporting any error (dropping it closes silently).
    pub fn close(self) -> Result<()> {
        self.conn.close().map_err(|(_, e)| Error::Sqlite(e))
    }

    // ---- writes ----------------------------------------------------------------------------

    /// Inserts standard addresses in one transaction, their text being
    /// [`StandardAddress::canonical_text`]. Returns how many were written.
    pub fn insert_addresses(&mut self, addresses: &[StandardAddress]) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let texts: Vec<String> = addresses.iter().map(|a| a.canonical_text()).collect();
        let n = write_addresses(&tx, addresses.iter().zip(texts.iter().map(String::as_str)))?;
        tx.commit()?;
        Ok(n)
    }

    /// Inserts buildings in one transaction. Returns how many were written.
    ///
    /// # Examples
    /// ```
    /// use dizhi::{Building, BuildingKind};
    /// use geo::polygon;
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut store = dizhi::store::Store::open(dir.path()).unwrap();
    /// let b = Building {
    ///     id: "B1".into(),
    ///     footprint: polygon![(x: 121.0, y: 31.0), (x: 121.001, y: 31.0), (x: 121.001, y: 31.001)],
    ///     kind: BuildingKind::Shop,
    ///     floors: 2,
    ///     tags: vec![],
    /// };
    /// store.insert_buildings(&[b.clone()]).unwrap();
    /// assert_eq!(store.building("B1").unwrap(), Some(b.clone()));
    /// assert_eq!(store.buildings().unwrap(), vec![b]);
    /// ```
    pub fn insert_buildings(&mut self, buildings: &[Building]) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let n = write_buildings(&tx, buildings)?;
        tx.commit()?;
        Ok(n)
    }

    /// Inserts address–building links in one transaction.
    ///
    /// # Examples
    /// ```
    /// use dizhi::store::{Link, Store};
    /// use dizhi::{AddressKind, Building, BuildingKind, StandardAddress};
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut store = Store::open(dir.path()).unwrap();
    /// use geo::{line_string, polygon};
    /// let footprint = polygon![(x: 121.0, y: 31.0), (x: 121.001, y: 31.0), (x: 121.001, y: 31.001)];
    /// store.insert_buildings(&[Building { id: "B1".into(), footprint, kind: BuildingKind::Office, floors: 5, tags: vec![] }]).unwrap();
    /// let mut a = StandardAddress::new("A1", AddressKind::Industrial);
    /// a.building_id = Some("B1".into());
    /// store.insert_addresses(&[a]).unwrap();
    /// let link = Link { address_id: "A1".into(), building_id: "B1".into(), source: "mps".into(), method: "contains".into(), confidence: 0.9 };
    /// store.insert_links(&[link.clone()]).unwrap();
    /// assert_eq!(store.links_of_address("A1").unwrap(), vec![link]);
    /// assert_eq!(store.addresses_of_building("B1").unwrap()[0].id, "A1");
    /// // A link to a building that does not exist is refused (foreign keys are on).
    /// let bad = Link { address_id: "A1".into(), building_id: "B9".into(), source: "mps".into(), method: "given".into(), confidence: 1.0 };
    /// assert!(store.insert_links(&[bad]).is_err());
    /// ```
    pub fn insert_links(&mut self, links: &[Link]) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let n = write_links(&tx, links)?;
        tx.commit()?;
        Ok(n)
    }

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

    /// Sets a `meta` entry.
    ///
    /// # Examples
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut store = dizhi::store::Store::open(dir.path()).unwrap();
    /// store.set_meta("seed", "1").unwrap();
    /// store.set_meta("seed", "2").unwrap();
    /// assert_eq!(store.meta("seed").unwrap().as_deref(), Some("2"));
    /// assert_eq!(store.meta("nope").unwrap(), None);
    /// ```
    pub fn set_meta(&mut self, key: &str, value: &str) -> Result<()> {
        write_meta(&self.conn, key, value)
    }

    // ---- reads -----------------------------------------------------------------------------

    /// A `meta` entry.
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    /// All `meta` entries, by key.
    pub fn all_meta(&self) -> Result<BTreeMap<String, String>> {
        let mut stmt = self.conn.prepare("SELECT key, value FROM meta")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The standard address with this id.
    pub fn address(&self, id: &str) -> Result<Option<StandardAddress>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {ADDRESS_COLUMNS} FROM addresses WHERE id = ?1"
        ))?;
        let mut rows = stmt.query([id])?;
        match rows.next()? {
            Some(row) => Ok(Some(address_from_row(row)?)),
            None => Ok(None),
        }
    }

    /// The stored full text of an address (as its source wrote it).
    pub fn address_text(&self, id: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT address FROM addresses WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Calls `f` with every address and its stored text, in id order, streaming (memory stays
    /// flat however many there are). Returns how many were visited.
    ///
    /// # Examples
    /// ```
    /// use dizhi::{AddressKind, StandardAddress};
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut store = dizhi::store::Store::open(dir.path()).unwrap();
    /// store.insert_addresses(&[StandardAddress::new("A2", AddressKind::Street),
    ///                          StandardAddress::new("A1", AddressKind::Village)]).unwrap();
    /// let mut ids = vec![];
    /// let n = store.for_each_address(|a, _text| ids.push(a.id)).unwrap();
    /// assert_eq!((n, ids), (2, vec!["A1".to_string(), "A2".to_string()]));
    /// ```
    pub fn for_each_address(&self, mut f: impl FnMut(StandardAddress, String)) -> Result<u64> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {ADDRESS_COLUMNS} FROM addresses ORDER BY id"
        ))?;
        let mut rows = stmt.query([])?;
        let mut n = 0;
        while let Some(row) = rows.next()? {
            let text: String = row.get(1)?;
            f(address_from_row(row)?, text);
            n += 1;
        }
        Ok(n)
    }

    /// The addresses linked to a building (by their `building_id`), in id order.
    pub fn addresses_of_building(&self, building_id: &str) -> Result<Vec<StandardAddress>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {ADDRESS_COLUMNS} FROM addresses WHERE building_id = ?1 ORDER BY id"
        ))?;
        let mut rows = stmt.query([building_id])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(address_from_row(row)?);
        }
        Ok(out)
    }

    /// The building with this id.
    pub fn building(&self, id: &str) -> Result<Option<Building>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, kind, floors, footprint, tags FROM buildings WHERE id = ?1",
        )?;
        let mut rows = stmt.query([id])?;
        match rows.next()? {
            Some(row) => Ok(Some(building_from_row(row)?)),
            None => Ok(None),
        }
    }

    /// Every building, in id order — what the spatial layer bulk-loads its R-tree from.
    pub fn buildings(&self) -> Result<Vec<Building>> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM buildings", [], |r| r.get(0))?;
        let mut out = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
        let mut stmt = self
            .conn
            .prepare("SELECT id, kind, floors, footprint, tags FROM buildings ORDER BY id")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            out.push(building_from_row(row)?);
        }
        Ok(out)
    }

    /// The links of an address.
    pub fn links_of_address(&self, address_id: &str) -> Result<Vec<Link>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT address_id, building_id, source, method, confidence FROM links \
             WHERE address_id = ?1 ORDER BY building_id, source",
        )?;
        let rows = stmt.query_map([address_id], |r| {
            Ok(Link {
                address_id: r.get(0)?,
                building_id: r.get(1)?,
                source: r.get(2)?,
                method: r.get(3)?,
                confidence: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
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

    /// Counts of everything, per town and per kind.
    ///
    /// # Examples
    /// ```
    /// use dizhi::{AddressKind, AdminRef, StandardAddress};
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut store = dizhi::store::Store::open(dir.path()).unwrap();
    /// let mut a = StandardAddress::new("A1", AddressKind::Village);
    /// a.town = AdminRef { code: "310118103000".into(), name: "练塘镇".into() };
    /// store.insert_addresses(&[a]).unwrap();
    /// let summary = store.summary().unwrap();
    /// assert_eq!(summary.addresses_per_town["练塘镇"], 1);
    /// assert_eq!(summary.addresses_per_kind["village"], 1);
    /// ```
    pub fn summary(&self) -> Result<Summary> {
        let count = |table: &str| -> Result<u64> {
            Ok(self
                .conn
                .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| {
                    r.get::<_, i64>(0)
                })?
                .max(0) as u64)
        };
        let grouped = |sql: &str| -> Result<BTreeMap<String, u64>> {
            let mut stmt = self.conn.prepare(sql)?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                    r.get::<_, i64>(1)?.max(0) as u64,
                ))
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        };
        Ok(Summary {
            schema_version: self.schema_version()?,
            addresses: count("addresses")?,
            buildings: count("buildings")?,
            roads: count("roads")?,
            areas: count("areas")?,
            links: count("links")?,
            sources: count("sources")?,
            source_records: count("source_records")?,
            addresses_per_town: grouped("SELECT town, count(*) FROM addresses GROUP BY town")?,
            addresses_per_kind: grouped("SELECT kind, count(*) FROM addresses GROUP BY kind")?,
            buildings_per_kind: grouped("SELECT kind, count(*) FROM buildings GROUP BY kind")?,
            records_per_source: grouped(
                "SELECT s.name, count(r.id) FROM sources s \
                 LEFT JOIN source_records r ON r.source_id = s.id GROUP BY s.name",
            )?,
        })
    }
}

// ---- row codecs, shared by the `Store` methods and `build` (which writes in its own transaction)

fn none_if_empty(s: &str) -> Option<&str> {
    if s.is_empty() { None } else { Some(s) }
}

fn tags_json(tags: &[String]) -> String {
    if tags.is_empty() {
        "[]".to_string()
    } else {
        serde_json::Value::from(tags.to_vec()).to_string()
    }
}

fn tags_from_json(text: &str) -> Result<Vec<String>> {
    if text == "[]" {
        return Ok(Vec::new());
    }
    serde_json::from_str(text).map_err(|e| Error::Corrupt(format!("tags {text:?}: {e}")))
}

pub(crate) fn write_addresses<'a>(
    tx: &Transaction<'_>,
    rows: impl IntoIterator<Item = (&'a StandardAddress, &'a str)>,
) -> Result<usize> {
    let mut stmt = tx.prepare_cached(&format!(
        "INSERT INTO addresses ({ADDRESS_COLUMNS}) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)"
    ))?;
    let mut n = 0;
    for (a, text) in rows {
        stmt.execute(params![
            a.id,
            text,
            a.district,
            none_if_empty(&a.town.code),
            none_if_empty(&a.town.name),
            none_if_empty(&a.community.code),
            none_if_empty(&a.community.name),
            a.road,
            a.lane,
            a.number,
            a.group,
            a.poi,
            a.building,
            a.kind.as_str(),
            a.building_id,
            a.point.map(|p| p.x()),
            a.point.map(|p| p.y()),
            tags_json(&a.tags),
            a.status.as_str(),
        ])?;
        n += 1;
    }
    Ok(n)
}

fn address_from_row(row: &Row<'_>) -> Result<StandardAddress> {
    let kind: String = row.get(13)?;
    let status: String = row.get(18)?;
    let lon: Option<f64> = row.get(15)?;
    let lat: Option<f64> = row.get(16)?;
    let tags: String = row.get(17)?;
    Ok(StandardAddress {
        id: row.get(0)?,
        district: row.get(2)?,
        town: AdminRef {
            code: row.get::<_, Option<String>>(3)?.unwrap_or_default(),
            name: row.get::<_, Option<String>>(4)?.unwrap_or_default(),
        },
        community: AdminRef {
            code: row.get::<_, Option<String>>(5)?.unwrap_or_default(),
            name: row.get::<_, Option<String>>(6)?.unwrap_or_default(),
        },
        road: row.get(7)?,
        lane: row.get(8)?,
        number: row.get(9)?,
        group: row.get(10)?,
        poi: row.get(11)?,
        building: row.get(12)?,
        kind: kind.parse::<AddressKind>().map_err(Error::Corrupt)?,
        building_id: row.get(14)?,
        point: lon.zip(lat).map(|(x, y)| Point::new(x, y)),
        tags: tags_from_json(&tags)?,
        status: status.parse::<AddressStatus>().map_err(Error::Corrupt)?,
    })
}

pub(crate) fn write_buildings(tx: &Transaction<'_>, buildings: &[Building]) -> Result<usize> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO buildings (id, kind, floors, footprint, min_lon, min_lat, max_lon, max_lat, tags) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    let mut wkb = Vec::new();
    for b in buildings {
        wkb.clear();
        wkb::writer::write_polygon(&mut wkb, &b.footprint, &Default::default())
            .map_err(Error::wkb)?;
        // An empty footprint has no box; store a degenerate one rather than fail the load.
        let (min, max) = b
            .footprint
            .bounding_rect()
            .map(|r| (r.min(), r.max()))
            .unwrap_or_default();
        stmt.execute(params![
            b.id,
            b.kind.as_str(),
            b.floors,
            wkb,
            min.x,
            min.y,
            max.x,
            max.y,
            tags_json(&b.tags),
        ])?;
    }
    Ok(buildings.len())
}

fn building_from_row(row: &Row<'_>) -> Result<Building> {
    let kind: String = row.get(1)?;
    let footprint = row.get_ref(3)?.as_blob().map_err(rusqlite::Error::from)?;
    let tags: String = row.get(4)?;
    Ok(Building {
        id: row.get(0)?,
        footprint: polygon_from_wkb(footprint)?,
        kind: kind.parse::<BuildingKind>().map_err(Error::Corrupt)?,
        floors: row.get(2)?,
        tags: tags_from_json(&tags)?,
    })
}

/// Writes one `audit_log` row on `conn` (inside the caller's transaction, when it has one): who,
/// what, on which entity, the state before and after (JSON text), at the current UTC time with
/// milliseconds. The one writer of the audit log, for the API's and the fusion layer's writes.
/// Returns the row's id.
///
/// # Examples
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let store = dizhi::store::Store::open(dir.path()).unwrap();
/// let id = dizhi::store::record_audit(store.connection(), "admin", "key.create", "api_key:ops",
///     None, Some(r#"{"role":"gis"}"#)).unwrap();
/// assert_eq!(id, 1);
/// ```
pub fn record_audit(
    conn: &rusqlite::Connection,
    actor: &str,
    action: &str,
    entity: &str,
    before: Option<&str>,
    after: Option<&str>,
) -> Result<i64> {
    conn.execute(
        "INSERT INTO audit_log (at, actor, action, entity, before, after) \
         VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?1, ?2, ?3, ?4, ?5)",
        params![actor, action, entity, before, after],
    )?;
    Ok(conn.last_insert_rowid())
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

fn optional_geometry(row: &Row<'_>, i: usize) -> Result<Option<Geometry<f64>>> {
    match row
        .get_ref(i)?
        .as_blob_or_null()
        .map_err(rusqlite::Error::from)?
    {
        Some(bytes) => Ok(Some(geometry_from_wkb(bytes)?)),
        None => Ok(None),
    }
}

fn optional_wkb(g: &Option<Geometry<f64>>) -> Result<Option<Vec<u8>>> {
    g.as_ref().map(geometry_to_wkb).transpose()
}

pub(crate) fn write_links(tx: &Transaction<'_>, links: &[Link]) -> Result<usize> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO links (address_id, building_id, source, method, confidence) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for l in links {
        stmt.execute(params![
            l.address_id,
            l.building_id,
            l.source,
            l.method,
            l.confidence
        ])?;
    }
    Ok(links.len())
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

pub(crate) fn write_meta(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )?;
    Ok(())
}
