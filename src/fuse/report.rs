//! Fusion's CSV reports: one row per [`Finding`], written as fusion finds them (what
//! `dizhi fuse --report` and `dizhi check` write), and a page of the anomaly queue
//! (`dizhi anomaly list --format csv`).

use crate::batch::write::excel_safe;
use std::io::Write;

use super::{Anomaly, Finding};

/// The report's columns, in order.
pub const FINDINGS_HEADER: [&str; 10] = [
    "rule",
    "kind",
    "severity",
    "source",
    "record_key",
    "entity_kind",
    "entity_id",
    "town",
    "message",
    "detail",
];

/// Writes findings as CSV rows under [`FINDINGS_HEADER`] (`detail` as JSON).
///
/// # Examples
/// ```
/// use dizhi::fuse::{EntityKind, Finding, RuleId, Severity, report::FindingsCsv};
/// let finding = Finding {
///     rule: RuleId::UnknownRoad, kind: String::new(), severity: Severity::Warning,
///     entity_kind: EntityKind::SourceRecord, entity_id: "公安/7".into(), source: "公安".into(),
///     record_key: "7".into(), town: Some("华新镇".into()), message: "no road 华滕路".into(),
///     detail: serde_json::json!({"road": "华滕路"}),
/// };
/// let mut out = Vec::new();
/// let mut w = FindingsCsv::new(&mut out).unwrap();
/// w.write(&finding).unwrap();
/// w.finish().unwrap();
/// let text = String::from_utf8(out).unwrap();
/// assert!(text.starts_with("rule,kind,severity,source,record_key,"));
/// assert!(text.contains("unknown_road,,warning,公安,7,source_record,公安/7,华新镇,no road 华滕路,"));
/// ```
pub struct FindingsCsv<W: Write> {
    w: csv::Writer<W>,
}

impl<W: Write> FindingsCsv<W> {
    /// A report on `out`, its header written.
    pub fn new(out: W) -> csv::Result<FindingsCsv<W>> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(FINDINGS_HEADER)?;
        Ok(FindingsCsv { w })
    }

    /// One finding's row.
    pub fn write(&mut self, f: &Finding) -> csv::Result<()> {
        let detail = f.detail.to_string();
        let cells = [
            f.rule.as_str(),
            &f.kind,
            f.severity.as_str(),
            &f.source,
            &f.record_key,
            f.entity_kind.as_str(),
            &f.entity_id,
            f.town.as_deref().unwrap_or(""),
            &f.message,
            &detail,
        ];
        // Record keys, messages and evidence come from imported files: safe to open in Excel.
        self.w
            .write_record(cells.map(excel_safe).iter().map(|c| c.as_ref()))
    }

    /// Flushes the rows written.
    pub fn finish(mut self) -> std::io::Result<()> {
        self.w.flush()
    }
}

/// The columns of the anomaly list as CSV ([`write_anomalies_csv`]).
pub const ANOMALIES_HEADER: [&str; 7] = [
    "id",
    "rule",
    "kind",
    "status",
    "assignee",
    "entity_id",
    "message",
];

/// Writes anomalies as CSV rows under [`ANOMALIES_HEADER`] (an unassigned one's assignee empty).
pub fn write_anomalies_csv<W: Write>(out: W, anomalies: &[Anomaly]) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(ANOMALIES_HEADER)?;
    for a in anomalies {
        let id = a.id.to_string();
        let cells = [
            id.as_str(),
            a.rule.as_str(),
            &a.kind,
            a.status.as_str(),
            a.assignee.as_deref().unwrap_or(""),
            &a.entity_id,
            &a.message,
        ];
        w.write_record(cells.map(excel_safe).iter().map(|c| c.as_ref()))?;
    }
    w.flush()?;
    Ok(())
}
