//! The governance dashboard's numbers: anomaly counts by responsible 街镇, rule, severity, source
//! and status (one grouped scan; the page sums them for any filter), and the trend by week —
//! anomalies raised and decisions taken (confirmed, rejected, resolved). Read-only queries on a
//! `&Store`.

use serde::Serialize;

use super::Status;
use crate::fuse::Result;
use crate::store::Store;

/// The most weeks a trend may cover.
pub const MAX_WEEKS: u32 = 104;

/// How many anomalies share a 街镇, rule, severity, source and status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CountGroup {
    /// The responsible 街镇 (the assignee); `None` when it is not known.
    pub town: Option<String>,
    /// The rule.
    pub rule: String,
    /// info | warning | error.
    pub severity: String,
    /// The source of the record it is about; `None` for anomalies about addresses or buildings.
    pub source: Option<String>,
    /// Where they are in their review.
    pub status: Status,
    /// How many.
    pub count: u64,
}

/// One week of the trend (weeks start on Monday, UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Week {
    /// Its Monday, `YYYY-MM-DD`.
    pub week: String,
    /// Anomalies raised that week.
    pub raised: u64,
    /// Decisions that week: confirmed.
    pub confirmed: u64,
    /// … rejected.
    pub rejected: u64,
    /// … resolved.
    pub resolved: u64,
}

/// Every anomaly counted by 街镇, rule, severity, source and status; only `town`'s when given.
///
/// # Examples
/// ```
/// use dizhi::fuse::{Anomalies, Status};
/// use dizhi::fuse::anomalies::dashboard;
/// let dir = tempfile::tempdir().unwrap();
/// let mut store = dizhi::store::Store::open(dir.path()).unwrap();
/// let mut q = Anomalies::new(&mut store).unwrap();
/// q.raise("objection", "", "address", "A1", "wrong", Some("华新镇"), "op").unwrap();
/// let id = q.raise("objection", "", "address", "A2", "wrong", Some("华新镇"), "op").unwrap();
/// q.transition(id, Status::Confirmed, "steward", None).unwrap();
/// let groups = dashboard::groups(&store, None).unwrap();
/// assert_eq!(groups.len(), 2);
/// assert!(groups.iter().all(|g| g.count == 1 && g.town.as_deref() == Some("华新镇")));
/// assert!(dashboard::groups(&store, Some("徐泾镇")).unwrap().is_empty());
/// ```
pub fn groups(store: &Store, town: Option<&str>) -> Result<Vec<CountGroup>> {
    let mut stmt = store.connection().prepare_cached(
        "SELECT assignee, rule, severity, source, status, count(*) FROM anomalies \
         WHERE ?1 IS NULL OR assignee = ?1 \
         GROUP BY assignee, rule, severity, source, status",
    )?;
    let rows = stmt.query_map([town], |r| {
        let status: String = r.get(4)?;
        Ok(CountGroup {
            town: r.get(0)?,
            rule: r.get(1)?,
            severity: r.get(2)?,
            source: r.get(3)?,
            status: status.parse().unwrap_or(Status::Open),
            count: r.get::<_, i64>(5)?.max(0) as u64,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The last `weeks` weeks up to the current one (UTC), oldest first, every week present (zeros
/// included); only `town`'s anomalies when given.
///
/// # Examples
/// ```
/// use dizhi::fuse::{Anomalies, Status};
/// use dizhi::fuse::anomalies::dashboard;
/// let dir = tempfile::tempdir().unwrap();
/// let mut store = dizhi::store::Store::open(dir.path()).unwrap();
/// let mut q = Anomalies::new(&mut store).unwrap();
/// let id = q.raise("objection", "", "address", "A1", "wrong", Some("华新镇"), "op").unwrap();
/// q.transition(id, Status::Rejected, "steward", None).unwrap();
/// let weeks = dashboard::trend(&store, None, 4).unwrap();
/// assert_eq!(weeks.len(), 4);
/// let now = weeks.last().unwrap();
/// assert_eq!((now.raised, now.rejected, now.confirmed), (1, 1, 0));
/// ```
pub fn trend(store: &Store, town: Option<&str>, weeks: u32) -> Result<Vec<Week>> {
    let weeks = weeks.clamp(1, MAX_WEEKS);
    let conn = store.connection();
    // Monday of this week, and of the first week shown.
    let monday = "date('now', '-6 days', 'weekday 1')";
    let first: String = conn.query_row(
        &format!("SELECT date({monday}, ?1)"),
        [format!("-{} days", 7 * (weeks - 1))],
        |r| r.get(0),
    )?;
    let mut out: Vec<Week> = Vec::with_capacity(weeks as usize);
    let mut stmt = conn.prepare_cached("SELECT date(?1, ?2)")?;
    for i in 0..weeks {
        let week: String = stmt
            .query_row(rusqlite::params![first, format!("+{} days", 7 * i)], |r| {
                r.get(0)
            })?;
        out.push(Week {
            week,
            raised: 0,
            confirmed: 0,
            rejected: 0,
            resolved: 0,
        });
    }
    let index: std::collections::HashMap<String, usize> = out
        .iter()
        .enumerate()
        .map(|(i, w)| (w.week.clone(), i))
        .collect();
    let slot = |week: &str| index.get(week).copied();
    // Counted by day first (from the indexes on created_at and at), then the days by week: the
    // date arithmetic runs once per day, not once per anomaly.
    let mut raised = conn.prepare_cached(
        "SELECT date(day, '-6 days', 'weekday 1'), sum(n) FROM (SELECT substr(created_at, 1, 10) \
         AS day, count(*) AS n FROM anomalies WHERE created_at >= ?1 \
         AND (?2 IS NULL OR assignee = ?2) GROUP BY 1) GROUP BY 1",
    )?;
    let rows: Vec<(String, i64)> = raised
        .query_map(rusqlite::params![first, town], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut decided = conn.prepare_cached(
        "SELECT date(day, '-6 days', 'weekday 1'), decision, sum(n) FROM (SELECT \
         substr(r.at, 1, 10) AS day, r.decision AS decision, count(*) AS n FROM reviews r \
         JOIN anomalies a ON a.id = r.anomaly_id \
         WHERE r.at >= ?1 AND r.decision IN ('confirmed', 'rejected', 'resolved') \
         AND (?2 IS NULL OR a.assignee = ?2) GROUP BY 1, 2) GROUP BY 1, 2",
    )?;
    let decisions: Vec<(String, String, i64)> = decided
        .query_map(rusqlite::params![first, town], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    for (week, n) in rows {
        if let Some(i) = slot(&week) {
            out[i].raised += n.max(0) as u64;
        }
    }
    for (week, decision, n) in decisions {
        if let Some(i) = slot(&week) {
            let n = n.max(0) as u64;
            match decision.as_str() {
                "confirmed" => out[i].confirmed += n,
                "rejected" => out[i].rejected += n,
                _ => out[i].resolved += n,
            }
        }
    }
    Ok(out)
}
