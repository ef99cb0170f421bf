//! Objections from outside (异议): a hotline operator (or any user) says "this address is
//! wrong", with a note. An objection becomes an anomaly of rule `objection`, assigned to the
//! address's 街镇, with the note as its first comment — one transaction, audited.

use super::anomalies::{Anomalies, Anomaly};
use super::{Error, Result};
use crate::store::Store;

/// Files an objection against a standard address (or, with `address_id` not a known address,
/// against whatever the caller names — it is still queued, with no assignee). Returns the
/// anomaly. Objecting again to the same address adds the note as a comment to the existing
/// objection anomaly (whatever its status: reopening a resolved one is left to the steward).
///
/// # Examples
/// ```
/// use dizhi::{AddressKind, AdminRef, StandardAddress};
/// let dir = tempfile::tempdir().unwrap();
/// let mut store = dizhi::store::Store::open(dir.path()).unwrap();
/// let mut a = StandardAddress::new("A1", AddressKind::Street);
/// a.town = AdminRef { code: "310118107000".into(), name: "华新镇".into() };
/// store.insert_addresses(&[a]).unwrap();
/// let an = dizhi::fuse::objections::file(&mut store, "A1", "operator 7", "门牌已改为10号").unwrap();
/// assert_eq!((an.rule.as_str(), an.assignee.as_deref()), ("objection", Some("华新镇")));
/// assert_eq!(an.reviews[0].note.as_deref(), Some("门牌已改为10号"));
/// ```
pub fn file(store: &mut Store, address_id: &str, reporter: &str, note: &str) -> Result<Anomaly> {
    if note.trim().is_empty() {
        return Err(Error::Invalid("an objection needs a note".into()));
    }
    let town = store.address(address_id)?.map(|a| a.town.name);
    let text = store.address_text(address_id)?;
    let mut q = Anomalies::new(store)?;
    let id = q.raise_with(
        "objection",
        "",
        "address",
        address_id,
        &format!("objection to {}", text.as_deref().unwrap_or(address_id)),
        serde_json::json!({"reporter": reporter, "note": note}),
        town.as_deref().filter(|t| !t.is_empty()),
        reporter,
    )?;
    q.comment(id, reporter, note)
}
