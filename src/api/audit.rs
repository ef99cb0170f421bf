//! The audit log: every write through the API leaves one row in the store's `audit_log` table
//! (who, what, which entity, before and after), in the same transaction as the write where the
//! write is in the store.

use crate::store::{self, Store};

pub use crate::store::AuditEntry;

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
/// assert_eq!(recent[0].after_json().unwrap()["role"], "gis");
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
    store::recent_audit(store, limit)
}
