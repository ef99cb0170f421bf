//! Reading the audit log: one entry type for every writer (the API's key and tag writes, the
//! steward's reviews, fusion's new anomalies). Rows are written by [`super::record_audit`] inside
//! the writer's transaction.

use serde::{Serialize, Serializer};

use super::{Result, Store};

/// One `audit_log` entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    /// Row id (increasing).
    pub id: i64,
    /// When (UTC, ISO 8601 with milliseconds).
    pub at: String,
    /// Who: a key id, a reviewer, `fuse`.
    pub actor: String,
    /// What: `anomaly.transition`, `anomaly.create`, `tag.set`, `key.create` …
    pub action: String,
    /// On what: `anomaly:42`, `address:A00000001`, `api_key:ops`.
    pub entity: String,
    /// The state before, as the JSON text stored (served as JSON).
    #[serde(serialize_with = "as_json")]
    pub before: Option<String>,
    /// The state after, as the JSON text stored (served as JSON).
    #[serde(serialize_with = "as_json")]
    pub after: Option<String>,
}

impl AuditEntry {
    /// The state before, parsed.
    pub fn before_json(&self) -> Option<serde_json::Value> {
        parse(self.before.as_deref())
    }

    /// The state after, parsed.
    pub fn after_json(&self) -> Option<serde_json::Value> {
        parse(self.after.as_deref())
    }
}

/// Stored JSON text as JSON; text that is not JSON as a string.
fn parse(s: Option<&str>) -> Option<serde_json::Value> {
    s.map(|s| serde_json::from_str(s).unwrap_or_else(|_| serde_json::Value::String(s.to_string())))
}

fn as_json<S: Serializer>(v: &Option<String>, s: S) -> std::result::Result<S::Ok, S::Error> {
    parse(v.as_deref()).serialize(s)
}

fn entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        id: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        action: r.get(3)?,
        entity: r.get(4)?,
        before: r.get(5)?,
        after: r.get(6)?,
    })
}

/// The audit log of one entity (`anomaly:42`, `address:A1`), oldest first; all of it for `None`.
///
/// # Examples
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let store = dizhi::store::Store::open(dir.path()).unwrap();
/// assert!(dizhi::store::audit_log(&store, Some("anomaly:1")).unwrap().is_empty());
/// ```
pub fn audit_log(store: &Store, entity: Option<&str>) -> Result<Vec<AuditEntry>> {
    let mut stmt = store.connection().prepare(
        "SELECT id, at, actor, action, entity, before, after FROM audit_log \
         WHERE ?1 IS NULL OR entity = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([entity], entry)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The `limit` most recent entries, newest first.
pub fn recent_audit(store: &Store, limit: usize) -> Result<Vec<AuditEntry>> {
    let mut stmt = store.connection().prepare(
        "SELECT id, at, actor, action, entity, before, after FROM audit_log ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit as i64], entry)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
