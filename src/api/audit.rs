//! The audit log: every write through the API leaves one row in the store's `audit_log` table
//! (who, what, which entity, before and after), in the same transaction as the write where the
//! write is in the store.

use serde::Serialize;

use crate::store::{self, Store};

/// One audit entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    /// Its number.
    pub id: i64,
    /// When (UTC, ISO 8601).
    pub at: String,
    /// The key id that did it.
    pub actor: String,
    /// What was done (`key.create`, `key.revoke`, …).
    pub action: String,
    /// What it was done to (`api_key:ops`, `address:A1`, …).
    pub entity: String,
    /// The entity before, as JSON.
    pub before: Option<serde_json::Value>,
    /// The entity after, as JSON.
    pub after: Option<serde_json::Value>,
}

/// Records one write. Never put secrets or personal data in `before`/`after`.
///
/// # Examples
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let store = dizhi::store::Store::open(dir.path()).unwrap();
/// let id = dizhi::api::audit::record(&store, "admin", "key.create", "api_key:ops",
///     None, Some(&serde_json::json!({"role": "gis"}))).unwrap();
/// let recent = dizhi::api::audit::recent(&store, 10).unwrap();
/// assert_eq!(recent[0].id, id);
/// assert_eq!(recent[0].after.as_ref().unwrap()["role"], "gis");
/// ```
pub fn record(
    store: &Store,
    actor: &str,
    action: &str,
    entity: &str,
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
) -> store::Result<i64> {
    store::record_audit(
        store.connection(),
        actor,
        action,
        entity,
        before.map(|v| v.to_string()).as_deref(),
        after.map(|v| v.to_string()).as_deref(),
    )
}

/// The most recent entries, newest first.
pub fn recent(store: &Store, limit: usize) -> store::Result<Vec<AuditEntry>> {
    let mut stmt = store.connection().prepare(
        "SELECT id, at, actor, action, entity, before, after FROM audit_log ORDER BY id DESC LIMIT ?1",
    )?;
    let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
    let rows = stmt.query_map([limit as i64], |r| {
        Ok(AuditEntry {
            id: r.get(0)?,
            at: r.get(1)?,
            actor: r.get(2)?,
            action: r.get(3)?,
            entity: r.get(4)?,
            before: parse(r.get(5)?),
            after: parse(r.get(6)?),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
