//! The governance dashboard's numbers: anomaly counts by responsible 街镇, rule, severity, source
//! and status (the page sums them for any filter), and the trend by week — anomalies raised and
//! decisions taken (confirmed, rejected, resolved). Read-only queries on a `&Store`, of the two
//! small tables the store's triggers keep in step with every anomaly and review write
//! (`anomaly_counts`, `anomaly_days`: schema migration 4), so they cost the same at 100 or 100,000
//! anomalies. A decision counts in the trend under the 街镇 the anomaly had when it was taken.

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
/// use dizhi::fuse::{EntityKind, RuleId};
/// use dizhi::fuse::{Anomalies, Status};
/// use dizhi::fuse::anomalies::dashboard;
/// let dir = tempfile::tempdir().unwrap();
/// let mut store = dizhi::store::Store::open(dir.path()).unwrap();
/// let mut q = Anomalies::new(&mut store).unwrap();
/// q.raise(RuleId::Objection, "", EntityKind::Address, "A1", "wrong", Some("华新镇"), "op").unwrap();
/// let id = q.raise(RuleId::Objection, "", EntityKind::Address, "A2", "wrong", Some("华新镇"), "op").unwrap();
/// q.transition(id, Status::Confirmed, "steward", None).unwrap();
/// let groups = dashboard::groups(&store, None).unwrap();
/// assert_eq!(groups.len(), 2);
/// assert!(groups.iter().all(|g| g.count == 1 && g.town.as_deref() == Some("华新镇")));
/// assert!(dashboard::groups(&store, Some("徐泾镇")).unwrap().is_empty());
/// ```
pub fn groups(store: &Store, town: Option<&str>) -> Result<Vec<CountGroup>> {
    let mut stmt = store.connection().prepare_cached(
        "SELECT assignee, rule, severity, source, status, sum(n) FROM anomaly_counts \
         WHERE n > 0 AND (?1 IS NULL OR assignee = ?1) \
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
/// use dizhi::fuse::{EntityKind, RuleId};
/// use dizhi::fuse::{Anomalies, Status};
/// use dizhi::fuse::anomalies::dashboard;
/// let dir = tempfile::tempdir().unwrap();
/// let mut store = dizhi::store::Store::open(dir.path()).unwrap();
/// let mut q = Anomalies::new(&mut store).unwrap();
/// let id = q.raise(RuleId::Objection, "", EntityKind::Address, "A1", "wrong", Some("华新镇"), "op").unwrap();
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
    // From the per-day table the store's triggers keep (schema migration 4).
    let mut stmt = conn.prepare_cached(
        "SELECT date(day, '-6 days', 'weekday 1'), event, sum(n) FROM anomaly_days \
         WHERE day >= ?1 AND (?2 IS NULL OR assignee = ?2) GROUP BY 1, 2",
    )?;
    let rows: Vec<(String, String, i64)> = stmt
        .query_map(rusqlite::params![first, town], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    for (week, event, n) in rows {
        if let Some(i) = slot(&week) {
            let n = n.max(0) as u64;
            match event.as_str() {
                "raised" => out[i].raised += n,
                "confirmed" => out[i].confirmed += n,
                "rejected" => out[i].rejected += n,
                "resolved" => out[i].resolved += n,
                _ => {}
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuse::{Anomalies, EntityKind, RuleId};

    /// One count: 街镇, rule, severity, source, status, how many.
    type Row = (Option<String>, String, String, Option<String>, String, i64);

    /// The counts straight from the anomalies table.
    fn recount(store: &Store) -> Vec<Row> {
        let mut stmt = store
            .connection()
            .prepare(
                "SELECT assignee, rule, severity, source, status, count(*) FROM anomalies \
                 GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5",
            )
            .unwrap();
        stmt.query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
    }

    fn kept(store: &Store) -> Vec<Row> {
        let mut v: Vec<_> = groups(store, None)
            .unwrap()
            .into_iter()
            .map(|g| {
                let n = g.count as i64;
                (
                    g.town,
                    g.rule,
                    g.severity,
                    g.source,
                    g.status.as_str().to_string(),
                    n,
                )
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn the_kept_counts_follow_every_write() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let mut q = Anomalies::new(&mut store).unwrap();
        let mut ids = Vec::new();
        for n in 0..6 {
            let town = [Some("华新镇"), Some("徐泾镇"), None][n % 3];
            let entity = format!("gongan_menpai/GA{n}");
            ids.push(
                q.raise(
                    RuleId::UnknownRoad,
                    "",
                    EntityKind::SourceRecord,
                    &entity,
                    "?",
                    town,
                    "fuse",
                )
                .unwrap(),
            );
        }
        q.raise(
            RuleId::Objection,
            "",
            EntityKind::Address,
            "A1",
            "wrong",
            Some("华新镇"),
            "op",
        )
        .unwrap();
        q.transition(ids[0], Status::Confirmed, "s", Some("ok"))
            .unwrap();
        q.transition(ids[0], Status::Resolved, "s", None).unwrap();
        q.transition(ids[1], Status::Rejected, "s", None).unwrap();
        q.assign(ids[2], "华新镇", "s").unwrap();
        q.assign(ids[3], "白鹤镇", "s").unwrap();
        q.comment(ids[4], "s", "look").unwrap();
        assert_eq!(kept(&store), recount(&store));
        // A deleted anomaly leaves the counts too.
        store
            .connection()
            .execute("DELETE FROM anomalies WHERE id = ?1", [ids[5]])
            .unwrap();
        assert_eq!(kept(&store), recount(&store));
        // The week: 7 raised, one of each decision.
        let week = trend(&store, None, 1).unwrap().pop().unwrap();
        assert_eq!(
            (week.raised, week.confirmed, week.rejected, week.resolved),
            (7, 1, 1, 1)
        );
        let xinzhen = trend(&store, Some("华新镇"), 1).unwrap().pop().unwrap();
        assert_eq!((xinzhen.raised, xinzhen.confirmed), (3, 1));
    }
}
