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
//! One module owns the SQL of each table: [`Store`]'s opening, migrating and `meta` here, then
//! `addresses`, `buildings` (with `links`), `roads_and_areas` and `sources` (with
//! `source_records`), each with the row codecs that [`build()`] shares to write in its own
//! transaction.
//!
//! [`build()`] fills a data directory from a synthetic-district source directory, all or nothing.

mod addresses;
mod audit;
mod build;
mod buildings;
pub mod generation;
mod geom;
mod roads_and_areas;
mod schema;
mod sources;

pub use addresses::AddressLine;
pub use audit::{AuditEntry, audit_log, recent_audit};
pub use build::{
    ADDRESS_HEADER, BuildError, BuildReport, Location, MAX_PROBLEMS, Problem, Progress, Stage,
    build,
};
pub use buildings::Link;
pub use geom::{geometry_from_wkb, geometry_to_wkb, polygon_from_wkb, polygon_to_wkb};
pub use roads_and_areas::{AreaRecord, RoadRecord};
pub use schema::{MIGRATIONS, SCHEMA_VERSION};
pub use sources::{SourceInfo, SourceRecord, source_record_pages};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::dictionaries::Coverage;

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

/// How much of a store file a connection maps into memory: 64 GiB, more than a city's store.
/// The ceiling SQLite is built with is raised in `.cargo/config.toml` (2 GB by default); with
/// a lower ceiling SQLite maps what it can and reads the rest.
///
/// # Examples
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let store = dizhi::store::Store::open(dir.path()).unwrap();
/// let mapped: i64 =
///     store.connection().pragma_query_value(None, "mmap_size", |r| r.get(0)).unwrap();
/// // Not clamped to the 2 GB SQLite is built with unless told otherwise.
/// assert_eq!(mapped, dizhi::store::MMAP_BYTES);
/// ```
pub const MMAP_BYTES: i64 = 64 << 30;

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
    ///
    /// The file is read through a memory map (up to [`MMAP_BYTES`]): a page the connection's own
    /// cache does not hold is then read from the operating system's page cache without a system
    /// call and a copy — at 10M addresses (an 11 GB store) most reverse lookups miss the
    /// connection's cache.
    pub fn open_file(path: &Path) -> Result<Store> {
        let mut conn = Connection::open(path)?;
        // WAL: readers (the server) never block on a writer (a review, an import).
        let _: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // 64 MiB of page cache (the default is 2 MiB): bulk writes touch every index's pages.
        conn.pragma_update(None, "cache_size", -65_536)?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.pragma_update(None, "mmap_size", MMAP_BYTES)?;
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

    /// A `meta` entry.
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    /// The divisions the store's data covers: `meta.divisions` as `dizhi build` recorded it,
    /// else the districts of its addresses' towns, else (an empty store) the bundled demo's.
    ///
    /// # Examples
    /// ```
    /// use dizhi::{AddressKind, AdminRef, StandardAddress};
    /// let dicts = dizhi::Dictionaries::embedded().unwrap();
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut store = dizhi::store::Store::open(dir.path()).unwrap();
    /// let mut a = StandardAddress::new("A1", AddressKind::Street);
    /// a.town = AdminRef { code: "310114102000".into(), name: "安亭镇".into() };
    /// store.insert_addresses(&[a]).unwrap();
    /// assert_eq!(store.coverage(&dicts.admin).unwrap().label(), "嘉定区");
    /// store.set_meta("divisions", "310114000000,310118000000").unwrap();
    /// assert_eq!(store.coverage(&dicts.admin).unwrap().label(), "嘉定区、青浦区");
    /// ```
    pub fn coverage(&self, admin: &crate::dictionaries::AdminIndex) -> Result<Coverage> {
        let corrupt = |e: crate::dictionaries::UnknownDistrict| Error::Corrupt(e.to_string());
        if let Some(recorded) = self.meta(crate::dictionaries::COVERAGE_META_KEY)? {
            return Coverage::from_meta(admin, &recorded).map_err(corrupt);
        }
        let mut stmt = self.conn.prepare(
            "SELECT DISTINCT substr(town_code, 1, 6) || '000000' FROM addresses \
             WHERE length(town_code) = 12",
        )?;
        let codes: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        if codes.is_empty() {
            return Ok(Coverage::demo(admin));
        }
        Coverage::new(admin, &codes).map_err(corrupt)
    }

    /// All `meta` entries, by key.
    pub fn all_meta(&self) -> Result<BTreeMap<String, String>> {
        let mut stmt = self.conn.prepare("SELECT key, value FROM meta")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
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

// ---- row codecs shared by the tables' modules ------------------------------------------------

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

pub(crate) fn write_meta(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )?;
    Ok(())
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
