//! The anomaly queue and its review workflow (异议核实与处理).
//!
//! An anomaly is `open` when a rule (or an objection) raises it; a reviewer `confirmed`s or
//! `rejected`s it, and a confirmed or rejected anomaly is `resolved` once dealt with (a new
//! objection re-opens a rejected or resolved objection anomaly: [`super::objections`]). Each
//! anomaly has the responsible 街镇 as its assignee. Every write — a transition, a comment, a
//! reassignment — happens in one SQLite transaction together with its `reviews` row and its
//! `audit_log` row (who, when, before, after), with `synchronous = FULL`: once a call returns,
//! the change and its audit entry are on disk together, and a crash never leaves one without the
//! other.

use crate::text::personal::mask_personal;
use serde::Serialize;

use super::rules::{RuleId, Severity};
use super::{Error, Result, audit};
use crate::store::Store;

// Keyset pages for the HTTP API: a separate, read-only query (page.rs).
pub mod page;
// The steward's view: the evidence of one anomaly, the dashboard's counts and trend.
pub mod dashboard;
pub mod evidence;

/// What an anomaly is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    /// A record of a source register (`SOURCE/KEY`).
    SourceRecord,
    /// A standard address (its id).
    Address,
    /// A building (its id).
    Building,
    /// An address–building link.
    Link,
}

impl EntityKind {
    /// Every kind.
    pub const ALL: [EntityKind; 4] = [
        EntityKind::SourceRecord,
        EntityKind::Address,
        EntityKind::Building,
        EntityKind::Link,
    ];

    /// The kind as stored and served.
    pub fn as_str(self) -> &'static str {
        crate::wire::name(&self)
    }
}

/// Where an anomaly is in its review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Raised, not looked at yet.
    Open,
    /// A reviewer agrees it is wrong data.
    Confirmed,
    /// A reviewer finds the data right.
    Rejected,
    /// Dealt with.
    Resolved,
}

impl Status {
    /// Every status.
    pub const ALL: [Status; 4] = [
        Status::Open,
        Status::Confirmed,
        Status::Rejected,
        Status::Resolved,
    ];

    /// Its name.
    pub fn as_str(self) -> &'static str {
        crate::wire::name(&self)
    }

    /// Whether a review may move an anomaly from `self` to `to`: open → confirmed | rejected,
    /// confirmed | rejected → resolved.
    ///
    /// # Examples
    /// ```
    /// use dizhi::fuse::Status;
    /// assert!(Status::Open.can_become(Status::Confirmed));
    /// assert!(Status::Rejected.can_become(Status::Resolved));
    /// assert!(!Status::Open.can_become(Status::Resolved));
    /// assert!(!Status::Resolved.can_become(Status::Open));
    /// ```
    pub fn can_become(self, to: Status) -> bool {
        matches!(
            (self, to),
            (Status::Open, Status::Confirmed)
                | (Status::Open, Status::Rejected)
                | (Status::Confirmed, Status::Resolved)
                | (Status::Rejected, Status::Resolved)
        )
    }
}

impl std::str::FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("unknown status {s:?} (open, confirmed, rejected, resolved)"))
    }
}

/// A review entry: a decision or a comment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Review {
    /// Who.
    pub reviewer: String,
    /// `confirmed`, `rejected`, `resolved`, `comment`, `assigned`, `reopened` (a new objection
    /// to a closed case, see [`super::objections`]).
    pub decision: String,
    /// What they said.
    pub note: Option<String>,
    /// When.
    pub at: String,
}

/// One anomaly.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Anomaly {
    /// Its id.
    pub id: i64,
    /// The rule that raised it ([`RuleId::Objection`] for one filed from outside).
    pub rule: RuleId,
    /// The rule's sub-kind.
    pub kind: String,
    /// How bad.
    pub severity: Severity,
    /// What it is about.
    pub entity_kind: EntityKind,
    /// What it is about.
    pub entity_id: String,
    /// The source of the record it is about.
    pub source: Option<String>,
    /// The record's key.
    pub record_key: Option<String>,
    /// What is wrong.
    pub message: String,
    /// Evidence (JSON).
    pub detail: serde_json::Value,
    /// Where it is in its review.
    pub status: Status,
    /// The responsible 街镇.
    pub assignee: Option<String>,
    /// When raised.
    pub created_at: String,
    /// When last changed.
    pub updated_at: Option<String>,
    /// Its reviews and comments, oldest first (filled by [`Anomalies::get`]).
    pub reviews: Vec<Review>,
}

/// Which anomalies to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnomalyFilter {
    /// Only this status.
    pub status: Option<Status>,
    /// Only this rule.
    pub rule: Option<String>,
    /// Only this assignee (街镇).
    pub assignee: Option<String>,
    /// Only about records of this source.
    pub source: Option<String>,
    /// Only about this entity (`gongan_menpai/GA00000001`, an address id).
    pub entity_id: Option<String>,
    /// At most this many (default 100).
    pub limit: Option<usize>,
    /// Skip this many.
    pub offset: usize,
}

/// What a new anomaly is about (the columns of [`Anomalies::raise_with`]).
pub(super) struct Raise<'r> {
    pub rule: RuleId,
    pub kind: &'r str,
    pub entity_kind: EntityKind,
    pub entity_id: &'r str,
    pub message: &'r str,
    pub detail: serde_json::Value,
    pub assignee: Option<&'r str>,
}

/// A new anomaly as [`insert_anomaly`] writes it (status open).
pub(crate) struct NewAnomaly<'r> {
    pub rule: RuleId,
    pub kind: &'r str,
    pub severity: Severity,
    pub entity_kind: EntityKind,
    pub entity_id: &'r str,
    pub message: &'r str,
    pub detail: &'r serde_json::Value,
    /// The source and record key of a source record's anomaly.
    pub source: Option<&'r str>,
    pub record_key: Option<&'r str>,
    pub assignee: Option<&'r str>,
}

/// The one inserter of anomalies: writes `a` (status open) and its `anomaly.create` audit row by
/// `actor` inside the caller's transaction, with `note` (masked) in the audit row when given.
/// Returns the new id, or `None` when the same rule, kind and entity is already queued (then
/// nothing is written and its review stands).
pub(crate) fn insert_anomaly(
    tx: &rusqlite::Transaction<'_>,
    a: &NewAnomaly<'_>,
    actor: &str,
    note: Option<&str>,
) -> Result<Option<i64>> {
    let mut stmt = tx.prepare_cached(
        "INSERT OR IGNORE INTO anomalies (rule, kind, severity, entity_kind, entity_id, \
         message, detail, status, source, record_key, assignee, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'open', ?8, ?9, ?10, \
         strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
    )?;
    let n = stmt.execute(rusqlite::params![
        a.rule.as_str(),
        a.kind,
        a.severity.as_str(),
        a.entity_kind.as_str(),
        a.entity_id,
        a.message,
        a.detail.to_string(),
        a.source,
        a.record_key,
        a.assignee
    ])?;
    if n == 0 {
        return Ok(None);
    }
    let id = tx.last_insert_rowid();
    let mut after = serde_json::json!({"status": "open", "rule": a.rule.as_str(), "kind": a.kind,
        "entity": a.entity_id, "assignee": a.assignee, "message": a.message});
    if let Some(note) = note {
        after["comment"] = mask_personal(note).into();
    }
    audit(
        tx,
        actor,
        "anomaly.create",
        &format!("anomaly:{id}"),
        None,
        Some(&after.to_string()),
    )?;
    Ok(Some(id))
}

/// Raises an anomaly (severity warning) inside the caller's transaction through
/// [`insert_anomaly`]; returns its id and whether it is new (the same rule, kind and entity
/// again: the existing id, nothing written).
pub(super) fn raise_in(
    tx: &rusqlite::Transaction<'_>,
    r: &Raise<'_>,
    actor: &str,
    note: Option<&str>,
) -> Result<(i64, bool)> {
    let (source, record_key) = match r.entity_kind {
        EntityKind::SourceRecord => r
            .entity_id
            .split_once('/')
            .map_or((None, None), |(s, k)| (Some(s), Some(k))),
        _ => (None, None),
    };
    let new = NewAnomaly {
        rule: r.rule,
        kind: r.kind,
        severity: Severity::Warning,
        entity_kind: r.entity_kind,
        entity_id: r.entity_id,
        message: r.message,
        detail: &r.detail,
        source,
        record_key,
        assignee: r.assignee,
    };
    if let Some(id) = insert_anomaly(tx, &new, actor, note)? {
        return Ok((id, true));
    }
    let id: i64 = tx.query_row(
        "SELECT id FROM anomalies WHERE rule = ?1 AND kind = ?2 AND entity_kind = ?3 \
         AND entity_id = ?4",
        rusqlite::params![r.rule.as_str(), r.kind, r.entity_kind.as_str(), r.entity_id],
        |row| row.get(0),
    )?;
    Ok((id, false))
}

/// Adds a review row (a decision or a comment) inside the caller's transaction.
pub(super) fn review_in(
    tx: &rusqlite::Transaction<'_>,
    id: i64,
    actor: &str,
    decision: &str,
    note: Option<&str>,
) -> Result<()> {
    let note = note.map(mask_personal);
    tx.execute(
        "INSERT INTO reviews (anomaly_id, reviewer, decision, note, at) \
         VALUES (?1, ?2, ?3, ?4, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
        rusqlite::params![id, actor, decision, note],
    )?;
    Ok(())
}

/// Adds a comment and its `anomaly.comment` audit row inside the caller's transaction.
pub(super) fn comment_in(
    tx: &rusqlite::Transaction<'_>,
    id: i64,
    actor: &str,
    text: &str,
) -> Result<()> {
    let text = &mask_personal(text);
    let (status, assignee) = Anomalies::current(tx, id)?;
    review_in(tx, id, actor, "comment", Some(text))?;
    let state = state_json(status, assignee.as_deref());
    let after =
        serde_json::json!({"status": status.as_str(), "assignee": assignee, "comment": text});
    audit(
        tx,
        actor,
        "anomaly.comment",
        &format!("anomaly:{id}"),
        Some(&state),
        Some(&after.to_string()),
    )
}

/// The anomaly queue of a store.
///
/// # Examples
/// ```
/// use dizhi::fuse::{EntityKind, RuleId};
/// use dizhi::fuse::{Anomalies, AnomalyFilter, Status};
/// let dir = tempfile::tempdir().unwrap();
/// let mut store = dizhi::store::Store::open(dir.path()).unwrap();
/// let mut q = Anomalies::new(&mut store).unwrap();
/// let id = q.raise(RuleId::Objection, "", EntityKind::Address, "A1", "wrong door number", Some("华新镇"), "op7").unwrap();
/// q.transition(id, Status::Confirmed, "steward1", Some("checked on site")).unwrap();
/// assert!(q.transition(id, Status::Open, "steward1", None).is_err());
/// let a = q.get(id).unwrap();
/// assert_eq!((a.status, a.reviews.len()), (Status::Confirmed, 1));
/// assert_eq!(q.list(&AnomalyFilter::default()).unwrap().len(), 1);
/// ```
pub struct Anomalies<'a> {
    store: &'a mut Store,
}

const COLUMNS: &str = "id, rule, kind, severity, entity_kind, entity_id, source, record_key, \
                       message, detail, status, assignee, created_at, updated_at";

/// A column holding an enum's wire name; an unknown name is a conversion error naming it.
fn wire_column<T: serde::de::DeserializeOwned>(
    r: &rusqlite::Row<'_>,
    i: usize,
) -> rusqlite::Result<T> {
    let text: String = r.get(i)?;
    crate::wire::parse(&text).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            format!("unknown value {text:?}").into(),
        )
    })
}

fn row_to_anomaly(r: &rusqlite::Row<'_>) -> rusqlite::Result<Anomaly> {
    let detail: String = r.get(9)?;
    let status: String = r.get(10)?;
    Ok(Anomaly {
        id: r.get(0)?,
        rule: wire_column(r, 1)?,
        kind: r.get(2)?,
        severity: wire_column(r, 3)?,
        entity_kind: wire_column(r, 4)?,
        entity_id: r.get(5)?,
        source: r.get(6)?,
        record_key: r.get(7)?,
        message: r.get(8)?,
        detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
        status: status.parse().unwrap_or(Status::Open),
        assignee: r.get(11)?,
        created_at: r.get(12)?,
        updated_at: r.get(13)?,
        reviews: Vec::new(),
    })
}

fn state_json(status: Status, assignee: Option<&str>) -> String {
    serde_json::json!({"status": status.as_str(), "assignee": assignee}).to_string()
}

/// Makes every commit on the store's connection wait until it is on disk (`synchronous =
/// FULL`): an acknowledged governance write survives a crash with its audit row.
pub(super) fn synced(store: &Store) -> Result<()> {
    store
        .connection()
        .pragma_update(None, "synchronous", "FULL")?;
    Ok(())
}

/// Counts per rule and status, by rule then status: a read on a `&Store` (any connection).
///
/// # Examples
/// ```
/// use dizhi::fuse::{EntityKind, RuleId};
/// let dir = tempfile::tempdir().unwrap();
/// let mut store = dizhi::store::Store::open(dir.path()).unwrap();
/// dizhi::fuse::Anomalies::new(&mut store).unwrap()
///     .raise(RuleId::Objection, "", EntityKind::Address, "A1", "wrong", None, "op").unwrap();
/// let counts = dizhi::fuse::anomalies::counts(&store).unwrap();
/// assert_eq!(counts, vec![("objection".to_string(), "open".to_string(), 1)]);
/// ```
pub fn counts(store: &Store) -> Result<Vec<(String, String, u64)>> {
    let conn = store.connection();
    let mut stmt = conn.prepare(
        "SELECT rule, status, count(*) FROM anomalies GROUP BY rule, status ORDER BY rule, status",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)?.max(0) as u64))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// One anomaly with its reviews, oldest first: a read on a `&Store`; [`Error::NotFound`] for an
/// unknown id.
///
/// # Examples
/// ```
/// use dizhi::fuse::{EntityKind, RuleId};
/// let dir = tempfile::tempdir().unwrap();
/// let mut store = dizhi::store::Store::open(dir.path()).unwrap();
/// let id = dizhi::fuse::Anomalies::new(&mut store).unwrap()
///     .raise(RuleId::Objection, "", EntityKind::Address, "A1", "wrong", None, "op").unwrap();
/// assert_eq!(dizhi::fuse::anomalies::get(&store, id).unwrap().entity_id, "A1");
/// assert!(dizhi::fuse::anomalies::get(&store, id + 1).is_err());
/// ```
pub fn get(store: &Store, id: i64) -> Result<Anomaly> {
    get_in(store.connection(), id)
}

/// [`get`] on a connection or inside a transaction.
pub(super) fn get_in(conn: &rusqlite::Connection, id: i64) -> Result<Anomaly> {
    let mut a = conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM anomalies WHERE id = ?1"),
            [id],
            row_to_anomaly,
        )
        .map_err(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Error::NotFound(format!("anomaly {id}")),
            e => e.into(),
        })?;
    let mut stmt = conn.prepare(
        "SELECT reviewer, decision, note, at FROM reviews WHERE anomaly_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(Review {
            reviewer: r.get(0)?,
            decision: r.get(1)?,
            note: r.get(2)?,
            at: r.get(3)?,
        })
    })?;
    a.reviews = rows.collect::<rusqlite::Result<_>>()?;
    Ok(a)
}

impl<'a> Anomalies<'a> {
    /// The queue of a store; its writes are synced to disk before they return.
    pub fn new(store: &'a mut Store) -> Result<Anomalies<'a>> {
        synced(store)?;
        Ok(Anomalies { store })
    }

    /// Anomalies matching the filter, by id.
    pub fn list(&self, filter: &AnomalyFilter) -> Result<Vec<Anomaly>> {
        let conn = self.store.connection();
        let sql = format!(
            "SELECT {COLUMNS} FROM anomalies WHERE (?1 IS NULL OR status = ?1) \
             AND (?2 IS NULL OR rule = ?2) AND (?3 IS NULL OR assignee = ?3) \
             AND (?4 IS NULL OR source = ?4) AND (?5 IS NULL OR entity_id = ?5) \
             ORDER BY id LIMIT ?6 OFFSET ?7"
        );
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map(
            rusqlite::params![
                filter.status.map(Status::as_str),
                filter.rule,
                filter.assignee,
                filter.source,
                filter.entity_id,
                filter.limit.unwrap_or(100) as i64,
                filter.offset as i64
            ],
            row_to_anomaly,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Counts per rule and status (for a summary): [`counts`].
    pub fn counts(&self) -> Result<Vec<(String, String, u64)>> {
        counts(self.store)
    }

    /// One anomaly with its reviews: [`get`].
    pub fn get(&self, id: i64) -> Result<Anomaly> {
        get(self.store, id)
    }

    /// Raises a new anomaly (status open) and audits it; returns its id. Raising the same rule,
    /// kind and entity again returns the existing anomaly's id.
    #[allow(clippy::too_many_arguments)]
    pub fn raise(
        &mut self,
        rule: RuleId,
        kind: &str,
        entity_kind: EntityKind,
        entity_id: &str,
        message: &str,
        assignee: Option<&str>,
        actor: &str,
    ) -> Result<i64> {
        self.raise_with(
            rule,
            kind,
            entity_kind,
            entity_id,
            message,
            serde_json::json!({}),
            assignee,
            actor,
        )
    }

    /// [`Anomalies::raise`] with evidence.
    #[allow(clippy::too_many_arguments)]
    pub fn raise_with(
        &mut self,
        rule: RuleId,
        kind: &str,
        entity_kind: EntityKind,
        entity_id: &str,
        message: &str,
        detail: serde_json::Value,
        assignee: Option<&str>,
        actor: &str,
    ) -> Result<i64> {
        let tx = self.store.connection_mut().transaction()?;
        let (id, _) = raise_in(
            &tx,
            &Raise {
                rule,
                kind,
                entity_kind,
                entity_id,
                message,
                detail,
                assignee,
            },
            actor,
            None,
        )?;
        tx.commit()?;
        Ok(id)
    }

    pub(super) fn current(
        tx: &rusqlite::Transaction<'_>,
        id: i64,
    ) -> Result<(Status, Option<String>)> {
        let (status, assignee): (String, Option<String>) = tx
            .query_row(
                "SELECT status, assignee FROM anomalies WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Error::NotFound(format!("anomaly {id}")),
                e => e.into(),
            })?;
        Ok((status.parse().map_err(Error::Invalid)?, assignee))
    }

    /// Moves an anomaly to `to` (see [`Status::can_become`]), with the reviewer's comment; the
    /// status change, its review row and its audit entry are one transaction. A refused
    /// transition changes nothing.
    pub fn transition(
        &mut self,
        id: i64,
        to: Status,
        actor: &str,
        comment: Option<&str>,
    ) -> Result<Anomaly> {
        let comment = comment.map(mask_personal);
        let comment = comment.as_deref();
        let tx = self.store.connection_mut().transaction()?;
        let (from, assignee) = Self::current(&tx, id)?;
        if !from.can_become(to) {
            return Err(Error::Invalid(format!(
                "anomaly {id} is {}: it cannot become {}",
                from.as_str(),
                to.as_str()
            )));
        }
        tx.execute(
            "UPDATE anomalies SET status = ?2, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') \
             WHERE id = ?1",
            rusqlite::params![id, to.as_str()],
        )?;
        tx.execute(
            "INSERT INTO reviews (anomaly_id, reviewer, decision, note, at) \
             VALUES (?1, ?2, ?3, ?4, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
            rusqlite::params![id, actor, to.as_str(), comment],
        )?;
        let mut after = serde_json::json!({"status": to.as_str(), "assignee": assignee});
        if let Some(c) = comment {
            after["comment"] = c.into();
        }
        audit(
            &tx,
            actor,
            "anomaly.transition",
            &format!("anomaly:{id}"),
            Some(&state_json(from, assignee.as_deref())),
            Some(&after.to_string()),
        )?;
        tx.commit()?;
        self.get(id)
    }

    /// Adds a comment (audited).
    pub fn comment(&mut self, id: i64, actor: &str, text: &str) -> Result<Anomaly> {
        let tx = self.store.connection_mut().transaction()?;
        comment_in(&tx, id, actor, text)?;
        tx.commit()?;
        self.get(id)
    }

    /// Gives an anomaly to another 街镇 (audited).
    pub fn assign(&mut self, id: i64, assignee: &str, actor: &str) -> Result<Anomaly> {
        let tx = self.store.connection_mut().transaction()?;
        let (status, before) = Self::current(&tx, id)?;
        tx.execute(
            "UPDATE anomalies SET assignee = ?2, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') \
             WHERE id = ?1",
            rusqlite::params![id, assignee],
        )?;
        tx.execute(
            "INSERT INTO reviews (anomaly_id, reviewer, decision, note, at) \
             VALUES (?1, ?2, 'assigned', ?3, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
            rusqlite::params![id, actor, assignee],
        )?;
        audit(
            &tx,
            actor,
            "anomaly.assign",
            &format!("anomaly:{id}"),
            Some(&state_json(status, before.as_deref())),
            Some(&state_json(status, Some(assignee))),
        )?;
        tx.commit()?;
        self.get(id)
    }
}
