//! Pages of the anomaly queue for the HTTP API: keyset paging by id, and filters by the standard
//! address an anomaly concerns and by that address's 街镇 (directly, or through the source record
//! it fused to). [`Anomalies::list`](super::Anomalies::list) stays the CLI's offset listing; this
//! is a read-only query on a `&Store`, with the same rows.

use super::{Anomaly, COLUMNS, Status, row_to_anomaly};
use crate::fuse::Result;
use crate::store::Store;

/// Which anomalies, and where a page starts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnomalyQuery {
    /// Only this status.
    pub status: Option<Status>,
    /// Only this rule (`unknown_road`, `objection` …).
    pub rule: Option<String>,
    /// Only this sub-kind of a rule (`typo`, `town` …).
    pub kind: Option<String>,
    /// Only this assignee.
    pub assignee: Option<String>,
    /// Only this severity (`info`, `warning`, `error`).
    pub severity: Option<String>,
    /// Only about records of this source.
    pub source: Option<String>,
    /// Only about this standard address: the address itself, or a source record fused to it.
    pub address_id: Option<String>,
    /// Only about standard addresses in this 街镇 (name or 12-digit code), as for `address_id`.
    pub town: Option<String>,
    /// Only ids greater than this (the last id of the previous page).
    pub after: i64,
    /// At most this many.
    pub limit: usize,
}

/// One page of anomalies, by id, without their reviews (see [`super::Anomalies::get`]).
///
/// # Examples
/// ```
/// use dizhi::fuse::{EntityKind, RuleId};
/// use dizhi::fuse::Anomalies;
/// use dizhi::fuse::anomalies::page::{self, AnomalyQuery};
/// let dir = tempfile::tempdir().unwrap();
/// let mut store = dizhi::store::Store::open(dir.path()).unwrap();
/// let mut q = Anomalies::new(&mut store).unwrap();
/// for n in 0..3 {
///     q.raise(RuleId::Objection, "", EntityKind::Address, &format!("A{n}"), "wrong", None, "op").unwrap();
/// }
/// let first = page::page(&store, &AnomalyQuery { limit: 2, ..Default::default() }).unwrap();
/// assert_eq!(first.len(), 2);
/// let rest = page::page(&store, &AnomalyQuery { limit: 2, after: first[1].id, ..Default::default() }).unwrap();
/// assert_eq!(rest.len(), 1);
/// let one = AnomalyQuery { address_id: Some("A1".into()), limit: 10, ..Default::default() };
/// assert_eq!(page::page(&store, &one).unwrap()[0].entity_id, "A1");
/// ```
pub fn page(store: &Store, q: &AnomalyQuery) -> Result<Vec<Anomaly>> {
    // The anomalies of a set of addresses `d`: about the address, or about a record fused to it.
    let of_addresses = |addresses: &str| {
        format!(
            "SELECT a.id FROM {addresses} JOIN anomalies a ON a.entity_kind = 'address' \
             AND a.entity_id = d.id \
             UNION SELECT a.id FROM {addresses} JOIN fused_records f ON f.address_id = d.id \
             JOIN anomalies a ON a.source = f.source AND a.record_key = f.record_key"
        )
    };
    let by_address = of_addresses("(SELECT ?6 AS id) d");
    let by_town = of_addresses("(SELECT id FROM addresses WHERE town = ?7 OR town_code = ?7) d");
    let sql = format!(
        "SELECT {COLUMNS} FROM anomalies WHERE id > ?8 \
         AND (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR rule = ?2) \
         AND (?3 IS NULL OR kind = ?3) AND (?4 IS NULL OR assignee = ?4) \
         AND (?5 IS NULL OR source = ?5) \
         AND (?6 IS NULL OR id IN ({by_address})) \
         AND (?7 IS NULL OR id IN ({by_town})) \
         AND (?10 IS NULL OR severity = ?10) \
         ORDER BY id LIMIT ?9"
    );
    let conn = store.connection();
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        rusqlite::params![
            q.status.map(Status::as_str),
            q.rule,
            q.kind,
            q.assignee,
            q.source,
            q.address_id,
            q.town,
            q.after,
            q.limit.min(i64::MAX as usize) as i64,
            q.severity
        ],
        row_to_anomaly,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
