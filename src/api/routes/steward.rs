//! What the page's steward view reads besides the queue itself: who the caller is (and the 街镇 a
//! steward key answers for), the evidence of one anomaly side by side, the dashboard (counts by
//! 街镇, rule, severity, source and status, and the weekly trend), and the dashboard as a CSV or
//! XLSX report for a 街镇. Reads need role gis or up, like the queue (`/v1/me`: any key).

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::auth::{AnyKey, Authorized, Spatial};
use crate::api::{ApiError, ApiPath, ApiQuery, AppState};
use crate::fuse::anomalies::dashboard::{self, CountGroup, MAX_WEEKS, Week};
use crate::fuse::anomalies::evidence::{EvidenceBuilding, evidence as gather};
use crate::fuse::{self, RuleId, Status};

const DEFAULT_WEEKS: u32 = 8;
const MAX_TOWN_CHARS: usize = 100;

/// `GET /v1/me`: the caller's key id, role and 街镇 (`null` when its entry names none).
pub(super) async fn me(
    Authorized(caller, ..): Authorized<AnyKey>,
    State(state): State<AppState>,
) -> Response {
    let town = state.keys.town_of(&caller.key_id);
    axum::Json(
        json!({"key_id": caller.key_id, "role": caller.role.map(|r| r.as_str()),
        "town": town}),
    )
    .into_response()
}

fn footprint(b: &EvidenceBuilding) -> Value {
    let geometry = geojson::Geometry::new(geojson::GeometryValue::from(&b.footprint));
    json!({"type": "Feature", "id": b.id, "properties": {}, "geometry": geometry})
}

/// `GET /v1/anomalies/{id}/evidence`: the anomaly (with reviews and history), the standard
/// addresses it concerns with their provenance, every source record about them, the footprints
/// (GeoJSON features), and the distance between every two points.
pub(super) async fn evidence(
    _: Authorized<Spatial>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let body = state
        .blocking(move |_, store| {
            let a = fuse::anomalies::get(store, id)
                .map_err(|e| ApiError::from_fuse(e, ApiError::BadRequest))?;
            let e = gather(store, &a)?;
            let mut v = super::anomalies::detailed(store, &a)?;
            v["evidence"] = json!({
                "addresses": e.addresses,
                "records": e.records,
                "truncated": e.truncated,
                "buildings": {"type": "FeatureCollection",
                    "features": e.buildings.iter().map(footprint).collect::<Vec<_>>()},
                "distances": e.distances,
            });
            Ok(v)
        })
        .await?;
    Ok(axum::Json(body).into_response())
}

#[derive(Deserialize)]
pub(super) struct DashboardQuery {
    town: Option<String>,
    weeks: Option<u32>,
    format: Option<String>,
}

impl DashboardQuery {
    fn checked(self) -> Result<(Option<String>, u32), ApiError> {
        let weeks = self.weeks.unwrap_or(DEFAULT_WEEKS);
        if !(1..=MAX_WEEKS).contains(&weeks) {
            return Err(ApiError::BadRequest(format!(
                "weeks must be between 1 and {MAX_WEEKS}"
            )));
        }
        let town = self
            .town
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
        if town
            .as_ref()
            .is_some_and(|t| t.chars().count() > MAX_TOWN_CHARS)
        {
            return Err(ApiError::BadRequest(format!(
                "town: at most {MAX_TOWN_CHARS} characters"
            )));
        }
        Ok((town, weeks))
    }
}

async fn numbers(
    state: &AppState,
    town: Option<String>,
    weeks: u32,
) -> Result<(Vec<CountGroup>, Vec<Week>), ApiError> {
    state
        .blocking(move |_, store| {
            let groups = dashboard::groups(store, town.as_deref())?;
            let trend = dashboard::trend(store, town.as_deref(), weeks)?;
            Ok((groups, trend))
        })
        .await
}

/// `GET /v1/anomalies/dashboard?town=&weeks=`: counts by 街镇, rule, severity, source and status
/// (`groups`), and the trend of the last `weeks` weeks (default 8).
pub(super) async fn dashboard(
    _: Authorized<Spatial>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<DashboardQuery>,
) -> Result<Response, ApiError> {
    if q.format.is_some() {
        return Err(ApiError::BadRequest(
            "format: use /v1/anomalies/report for a file".into(),
        ));
    }
    let (town, weeks) = q.checked()?;
    let (groups, trend) = numbers(&state, town.clone(), weeks).await?;
    let total: u64 = groups.iter().map(|g| g.count).sum();
    Ok(
        axum::Json(json!({"town": town, "total": total, "groups": groups, "trend": trend}))
            .into_response(),
    )
}

/// The Chinese name of a rule, for the report.
fn rule_name(rule: &str) -> &'static str {
    match rule.parse::<RuleId>() {
        Ok(RuleId::MissingLevel) => "缺少层级",
        Ok(RuleId::NonStandardSpelling) => "写法不规范",
        Ok(RuleId::UnknownRoad) => "未知道路",
        Ok(RuleId::NumberOutOfRange) => "门牌号超出范围",
        Ok(RuleId::UnknownAddress) => "未知地址",
        Ok(RuleId::PointOutsideBuilding) => "点位不在建筑物内",
        Ok(RuleId::PointInDisagreeingBuilding) => "点位落在其他建筑物",
        Ok(RuleId::DuplicateAddress) => "重复地址",
        Ok(RuleId::BuildingWithoutAddress) => "建筑物无地址",
        Ok(RuleId::AddressWithoutBuilding) => "地址无建筑物",
        Ok(RuleId::SourcesDisagreeTown) => "多源街镇不一致",
        Ok(RuleId::CoordinatesOutsideDistrict) => "坐标在区外",
        Ok(RuleId::Gcj02ShiftSuspected) => "疑似 GCJ-02 偏移",
        Ok(RuleId::FloorsDisagree) => "层数不一致",
        Ok(RuleId::Objection) => "异议",
        Err(_) => "",
    }
}

/// The report's table: one row per 街镇 and rule with its counts by status, by 街镇 then rule.
fn report_rows(groups: &[CountGroup]) -> Vec<(String, String, [u64; 4])> {
    let mut rows: std::collections::BTreeMap<(String, String), [u64; 4]> = Default::default();
    for g in groups {
        let town = g.town.clone().unwrap_or_else(|| "（未分派）".into());
        let counts = rows.entry((town, g.rule.clone())).or_default();
        let i = Status::ALL.iter().position(|s| *s == g.status).unwrap_or(0);
        counts[i] += g.count;
    }
    rows.into_iter().map(|((t, r), c)| (t, r, c)).collect()
}

const HEADER: [&str; 8] = [
    "街镇",
    "规则",
    "规则名称",
    "待处理",
    "已确认",
    "已驳回",
    "已解决",
    "合计",
];
const TREND_HEADER: [&str; 5] = ["周（周一）", "新增", "确认", "驳回", "解决"];

fn csv_report(rows: &[(String, String, [u64; 4])]) -> Result<Vec<u8>, ApiError> {
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    w.write_record(HEADER)?;
    for (town, rule, c) in rows {
        let mut rec = vec![town.clone(), rule.clone(), rule_name(rule).to_string()];
        rec.extend(c.iter().map(u64::to_string));
        rec.push(c.iter().sum::<u64>().to_string());
        w.write_record(&rec)?;
    }
    w.into_inner().map_err(ApiError::from)
}

fn xlsx_report(rows: &[(String, String, [u64; 4])], trend: &[Week]) -> Result<Vec<u8>, ApiError> {
    use rust_xlsxwriter::{Format, Workbook};
    let x = |e: rust_xlsxwriter::XlsxError| ApiError::internal(e);
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = book.add_worksheet().set_name("按街镇和规则").map_err(x)?;
    for (c, h) in HEADER.iter().enumerate() {
        sheet
            .write_string_with_format(0, c as u16, *h, &bold)
            .map_err(x)?;
    }
    for (r, (town, rule, c)) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        sheet.write_string(r, 0, town).map_err(x)?;
        sheet.write_string(r, 1, rule).map_err(x)?;
        sheet.write_string(r, 2, rule_name(rule)).map_err(x)?;
        for (i, n) in c.iter().enumerate() {
            sheet.write_number(r, 3 + i as u16, *n as f64).map_err(x)?;
        }
        sheet
            .write_number(r, 7, c.iter().sum::<u64>() as f64)
            .map_err(x)?;
    }
    sheet.set_column_width(0, 14).map_err(x)?;
    sheet.set_column_width(1, 30).map_err(x)?;
    sheet.set_column_width(2, 20).map_err(x)?;
    let sheet = book.add_worksheet().set_name("近期趋势").map_err(x)?;
    for (c, h) in TREND_HEADER.iter().enumerate() {
        sheet
            .write_string_with_format(0, c as u16, *h, &bold)
            .map_err(x)?;
    }
    for (r, w) in trend.iter().enumerate() {
        let r = r as u32 + 1;
        sheet.write_string(r, 0, &w.week).map_err(x)?;
        for (i, n) in [w.raised, w.confirmed, w.rejected, w.resolved]
            .iter()
            .enumerate()
        {
            sheet.write_number(r, 1 + i as u16, *n as f64).map_err(x)?;
        }
    }
    sheet.set_column_width(0, 14).map_err(x)?;
    book.save_to_buffer().map_err(x)
}

/// `GET /v1/anomalies/report?format=csv|xlsx&town=&weeks=`: the dashboard as a file for the 街镇
/// report — one row per 街镇 and rule with the counts by status (CSV, UTF-8 with a BOM); the
/// XLSX adds a sheet with the weekly trend.
pub(super) async fn report(
    _: Authorized<Spatial>,
    State(state): State<AppState>,
    ApiQuery(mut q): ApiQuery<DashboardQuery>,
) -> Result<Response, ApiError> {
    let format = q.format.take().unwrap_or_else(|| "csv".into());
    let (mime, ext) = match format.as_str() {
        "csv" => ("text/csv; charset=utf-8", "csv"),
        "xlsx" => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        other => {
            return Err(ApiError::BadRequest(format!(
                "format {other:?}: expected csv or xlsx"
            )));
        }
    };
    let (town, weeks) = q.checked()?;
    let (groups, trend) = numbers(&state, town.clone(), weeks).await?;
    let rows = report_rows(&groups);
    let bytes = if ext == "csv" {
        csv_report(&rows)?
    } else {
        xlsx_report(&rows, &trend)?
    };
    // The file name in ASCII: the 街镇 goes in the file, not in the header.
    let name = format!("anomalies-report.{ext}");
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}
