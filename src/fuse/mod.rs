//! Multi-source fusion and address governance (多源融合与地址治理).
//!
//! ```text
//! source files ─▶ import ─▶ store.source_records ─▶ fuse ─▶ fused_records + links + anomalies
//!   (CSV/XLSX/GeoJSON/      (raw JSON per record,     │        (per-field provenance,   │
//!    GeoPackage/Shapefile)   provenance, mapping)      │         address↔building)       ▼
//!                                                     rules (TOML, data)          review queue:
//!                                                                                 open → confirmed|rejected
//!                                                                                 → resolved, audited
//! ```
//!
//! - [`import`]: any tabular or GIS file becomes a source: every raw record kept as JSON with its
//!   line, the column → [`Field`] mapping stored beside it; re-importing replaces the source's
//!   records in one transaction (idempotent).
//! - [`Reference`] (in [`link`]): the standard addresses, the footprint R-tree and the matcher,
//!   loaded once; [`Reference::fuse_source`] matches every record of a source to a standard address
//!   (structured door plates by key, free text by the [`Matcher`](crate::search::Matcher)), links
//!   it to a building (point-in-footprint, GCJ-02 points converted first, else road+number
//!   agreement) and runs the [`rules`] on it.
//! - [`rules`]: the quality rule library (数据质量检查规则库) as data: [`rules::RuleSet`] from TOML
//!   (`rules/default.toml` is embedded), each rule with id, description, level, severity and
//!   parameters.
//! - [`anomalies`]: the review queue (异议核实与处理): list, get, transition, comment — each write
//!   in one SQLite transaction with its `audit_log` row.
//! - [`tags`]: address tags (地址标签), set and queried, audited.
//! - [`report`]: the findings as a CSV report, written as they are found.
//! - [`objections`]: an objection from outside (a hotline operator's "this address is wrong")
//!   becomes an anomaly.
//! - Anomalies scored against the generator's truth, per fault kind: [`crate::eval::fusion`].

pub mod anomalies;
pub mod compare;
pub mod import;
pub mod link;
pub mod objections;
pub mod registers;
pub mod report;
pub mod rules;
pub mod tags;

use std::path::PathBuf;

pub use crate::store::{AuditEntry, audit_log};
pub use anomalies::{Anomalies, Anomaly, AnomalyFilter, EntityKind, Status};
pub use import::{Field, ImportReport, Mapping, Role, import_file};
pub use link::{
    Finding, FuseReport, FusedRecord, Reference, SourceInput, fuse_store, fuse_store_each,
};
pub use rules::{RuleConfig, RuleId, RuleSet, Severity};

/// What can go wrong in the fusion and governance layer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::store::Error),
    /// SQLite failed directly (a fusion table, a review write).
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The search layer failed (no index: run `dizhi build`).
    #[error(transparent)]
    Search(#[from] crate::search::Error),
    /// A file could not be read or written.
    #[error("{path}: {message}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// A rules file is not valid.
    #[error("rules: {0}")]
    Rules(String),
    /// A request that cannot be done as asked (unknown anomaly, refused transition, bad mapping).
    #[error("{0}")]
    Invalid(String),
    /// Something asked for does not exist.
    #[error("not found: {0}")]
    NotFound(String),
}

impl Error {
    /// Whether this is SQLite's "another connection is writing" (`SQLITE_BUSY`, `SQLITE_LOCKED`):
    /// the write rolled back whole and may be tried again.
    pub fn is_busy(&self) -> bool {
        let sqlite = match self {
            Error::Sqlite(e) | Error::Store(crate::store::Error::Sqlite(e)) => e,
            _ => return false,
        };
        matches!(
            sqlite.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        )
    }

    pub(crate) fn file(path: &std::path::Path, message: impl std::fmt::Display) -> Error {
        Error::File {
            path: path.to_path_buf(),
            message: message.to_string(),
        }
    }
}

/// The fusion layer's result.
pub type Result<T> = std::result::Result<T, Error>;

/// Writes one `audit_log` row inside the caller's transaction ([`crate::store::record_audit`]).
pub(crate) fn audit(
    tx: &rusqlite::Transaction<'_>,
    actor: &str,
    action: &str,
    entity: &str,
    before: Option<&str>,
    after: Option<&str>,
) -> Result<()> {
    crate::store::record_audit(tx, actor, action, entity, before, after)?;
    Ok(())
}
