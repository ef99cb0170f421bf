//! Objections from outside (异议): a hotline operator (or any user) says "this address is
//! wrong", with a note. An objection becomes an anomaly of rule `objection`, assigned to the
//! address's 街镇, with the note as its first review — the anomaly, the note and the audit row in
//! one transaction.
//!
//! An address has one objection anomaly (the queue's identity is rule, kind and entity), so a
//! later objection goes to it: as a comment while it is open or confirmed (someone is on it), and
//! as a re-open while it is rejected or resolved — a new objection to a closed case puts it back
//! in the open queue, with a `reopened` review and an `anomaly.reopen` audit row. Re-opening is
//! not a reviewer's move ([`super::Status::can_become`] never goes back to open): only a new
//! objection does it.

use super::anomalies::{self, Anomaly, EntityKind, Raise, Status};
use super::rules::RuleId;
use super::{Error, Result, audit};
use crate::store::Store;

/// What filing an objection did to the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filed {
    /// A new objection anomaly, open.
    New,
    /// The address's open or confirmed objection anomaly got the note as a comment.
    Added,
    /// The address's rejected or resolved objection anomaly is open again, with the note.
    Reopened,
}

/// Files an objection against a standard address (or, with `address_id` not a known address,
/// against whatever the caller names — it is still queued, with no assignee). Returns the
/// anomaly and what became of it ([`Filed`]): one transaction, synced before it returns.
///
/// # Examples
/// ```
/// use dizhi::{AddressKind, AdminRef, StandardAddress};
/// use dizhi::fuse::{Anomalies, Status, objections::{self, Filed}};
/// let dir = tempfile::tempdir().unwrap();
/// let mut store = dizhi::store::Store::open(dir.path()).unwrap();
/// let mut a = StandardAddress::new("A1", AddressKind::Street);
/// a.town = AdminRef { code: "310118107000".into(), name: "华新镇".into() };
/// store.insert_addresses(&[a]).unwrap();
/// let (an, filed) = objections::file(&mut store, "A1", "operator 7", "门牌已改为10号").unwrap();
/// assert_eq!((an.rule.as_str(), an.assignee.as_deref()), ("objection", Some("华新镇")));
/// assert_eq!((an.reviews[0].note.as_deref(), filed), (Some("门牌已改为10号"), Filed::New));
/// // Rejected by a steward, then objected to again: back in the open queue.
/// Anomalies::new(&mut store).unwrap().transition(an.id, Status::Rejected, "st", None).unwrap();
/// let (again, filed) = objections::file(&mut store, "A1", "operator 8", "仍然不对").unwrap();
/// assert_eq!((again.id, again.status, filed), (an.id, Status::Open, Filed::Reopened));
/// ```
pub fn file(
    store: &mut Store,
    address_id: &str,
    reporter: &str,
    note: &str,
) -> Result<(Anomaly, Filed)> {
    if note.trim().is_empty() {
        return Err(Error::Invalid("an objection needs a note".into()));
    }
    let note = &crate::text::personal::mask_personal(note);
    let town = store.address(address_id)?.map(|a| a.town.name);
    let text = store.address_text(address_id)?;
    anomalies::synced(store)?;
    let tx = store.connection_mut().transaction()?;
    let message = format!("objection to {}", text.as_deref().unwrap_or(address_id));
    let raise = Raise {
        rule: RuleId::Objection,
        kind: "",
        entity_kind: EntityKind::Address,
        entity_id: address_id,
        message: &message,
        detail: serde_json::json!({"reporter": reporter, "note": note}),
        assignee: town.as_deref().filter(|t| !t.is_empty()),
    };
    let (id, new) = anomalies::raise_in(&tx, &raise, reporter, Some(note))?;
    let filed = if new {
        anomalies::review_in(&tx, id, reporter, "comment", Some(note))?;
        Filed::New
    } else {
        let (status, assignee) = anomalies::Anomalies::current(&tx, id)?;
        match status {
            Status::Open | Status::Confirmed => {
                anomalies::comment_in(&tx, id, reporter, note)?;
                Filed::Added
            }
            Status::Rejected | Status::Resolved => {
                reopen(&tx, id, status, assignee.as_deref(), reporter, note)?;
                Filed::Reopened
            }
        }
    };
    let anomaly = anomalies::get_in(&tx, id)?;
    tx.commit()?;
    Ok((anomaly, filed))
}

/// Puts a rejected or resolved anomaly back to open for a new objection: the status, a
/// `reopened` review with the note and an `anomaly.reopen` audit row, in the caller's
/// transaction.
fn reopen(
    tx: &rusqlite::Transaction<'_>,
    id: i64,
    from: Status,
    assignee: Option<&str>,
    reporter: &str,
    note: &str,
) -> Result<()> {
    tx.execute(
        "UPDATE anomalies SET status = 'open', \
         updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1",
        [id],
    )?;
    anomalies::review_in(tx, id, reporter, "reopened", Some(note))?;
    let before = serde_json::json!({"status": from.as_str(), "assignee": assignee});
    let after = serde_json::json!({"status": "open", "assignee": assignee, "comment": note});
    audit(
        tx,
        reporter,
        "anomaly.reopen",
        &format!("anomaly:{id}"),
        Some(&before.to_string()),
        Some(&after.to_string()),
    )
}
