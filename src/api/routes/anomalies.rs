//! The anomaly queue (异议核实与处理) over HTTP: list (keyset pages), one with its reviews and
//! history, a summary; and the steward's writes — a status change, a comment, a new assignee.
//!
//! Reads need role gis or up: anomalies carry 12345 work-order text and objection notes, which
//! are about citizens. Writes need role steward. Each write is one call into [`crate::fuse`],
//! which commits the change, its review row and its audit row (who = the key id, when, before,
//! after) in one SQLite transaction, synced before it returns: an acknowledged write is on disk
//! with its audit entry.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::text::{MAX_NOTE_CHARS, check_note};
use crate::api::auth::{Authorized, Spatial, Write};
use crate::api::{ApiError, ApiJson, ApiPath, ApiQuery, AppState, json_status, retrying};
use crate::fuse::anomalies::page::{AnomalyQuery, page};
use crate::fuse::{self, Anomalies, Anomaly, Status};
use crate::store::Store;

const MAX_ASSIGNEE_CHARS: usize = 100;
const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 500;

/// An anomaly as listed: without its reviews.
fn listed(a: &Anomaly) -> Value {
    let mut v = json!(a);
    if let Some(o) = v.as_object_mut() {
        o.remove("reviews");
    }
    v
}

/// An anomaly with its reviews (decisions, comments, assignments) and its audit history.
pub(super) fn detailed(store: &Store, a: &Anomaly) -> Result<Value, ApiError> {
    let history = fuse::audit_log(store, Some(&format!("anomaly:{}", a.id)))?;
    let mut v = json!(a);
    v["history"] = history
        .iter()
        .map(|e| {
            json!({"id": e.id, "at": e.at, "actor": e.actor, "action": e.action,
                "before": e.before_json(), "after": e.after_json()})
        })
        .collect();
    Ok(v)
}

#[derive(Deserialize)]
pub(super) struct ListQuery {
    status: Option<String>,
    rule: Option<String>,
    kind: Option<String>,
    assignee: Option<String>,
    source: Option<String>,
    severity: Option<String>,
    address_id: Option<String>,
    town: Option<String>,
    after: Option<i64>,
    limit: Option<usize>,
}

/// `GET /v1/anomalies?status=&rule=&kind=&assignee=&source=&severity=&address_id=&town=&after=&limit=`:
/// one page by id; `next_after` is the `after=` of the next page (null on the last).
pub(super) async fn list(
    _: Authorized<Spatial>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Response, ApiError> {
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    let status = q
        .status
        .as_deref()
        .map(str::parse::<Status>)
        .transpose()
        .map_err(ApiError::BadRequest)?;
    let nonempty = |s: Option<String>| s.filter(|s| !s.is_empty());
    let severity = nonempty(q.severity)
        .map(|s| match s.as_str() {
            "info" | "warning" | "error" => Ok(s),
            _ => Err(ApiError::BadRequest(format!(
                "unknown severity {s:?} (info, warning, error)"
            ))),
        })
        .transpose()?;
    let query = AnomalyQuery {
        status,
        rule: nonempty(q.rule),
        kind: nonempty(q.kind),
        assignee: nonempty(q.assignee),
        source: nonempty(q.source),
        severity,
        address_id: nonempty(q.address_id),
        town: nonempty(q.town),
        after: q.after.unwrap_or(0),
        // One more than asked: whether there is a next page.
        limit: limit + 1,
    };
    let mut rows = state
        .blocking(move |_, store| page(store, &query).map_err(ApiError::from))
        .await?;
    let next_after = (rows.len() > limit).then(|| {
        rows.truncate(limit);
        rows.last().map(|a| a.id)
    });
    let anomalies: Vec<Value> = rows.iter().map(listed).collect();
    Ok(
        axum::Json(json!({"anomalies": anomalies, "next_after": next_after.flatten()}))
            .into_response(),
    )
}

/// `GET /v1/anomalies/summary`: counts per status, and per rule and status.
pub(super) async fn summary(
    _: Authorized<Spatial>,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let counts = state
        .blocking(|_, store| fuse::anomalies::counts(store).map_err(ApiError::from))
        .await?;
    let mut by_status = serde_json::Map::new();
    for s in Status::ALL {
        by_status.insert(s.as_str().into(), 0.into());
    }
    let mut total = 0u64;
    for (_, status, n) in &counts {
        total += n;
        let c = by_status.entry(status.clone()).or_insert(0.into());
        *c = (c.as_u64().unwrap_or(0) + n).into();
    }
    let by_rule: Vec<Value> = counts
        .iter()
        .map(|(rule, status, n)| json!({"rule": rule, "status": status, "count": n}))
        .collect();
    Ok(
        axum::Json(json!({"total": total, "by_status": by_status, "by_rule": by_rule}))
            .into_response(),
    )
}

/// `GET /v1/anomalies/{id}`: the anomaly with its reviews and its history of changes.
pub(super) async fn one(
    _: Authorized<Spatial>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let body = state
        .blocking(move |_, store| {
            let a = fuse::anomalies::get(store, id)
                .map_err(|e| ApiError::from_fuse(e, ApiError::BadRequest))?;
            detailed(store, &a)
        })
        .await?;
    Ok(axum::Json(body).into_response())
}

/// Runs one audited write of the queue and answers with the anomaly after it.
async fn write(
    state: &AppState,
    status: StatusCode,
    f: impl Fn(&mut Anomalies<'_>) -> fuse::Result<Anomaly> + Send + 'static,
) -> Result<Response, ApiError> {
    let body = state
        .blocking_mut(move |_, store, deadline| {
            let a = retrying(store, deadline, |store| {
                Anomalies::new(store).and_then(|mut q| f(&mut q))
            })
            .map_err(|e| ApiError::from_fuse(e, ApiError::Conflict))?;
            detailed(store, &a)
        })
        .await?;
    Ok(json_status(status, body))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct StatusBody {
    status: Status,
    #[serde(default)]
    note: Option<String>,
}

/// `POST /v1/anomalies/{id}/status` `{"status", "note"?}`: open → confirmed | rejected →
/// resolved; any other move is 409 and changes nothing.
pub(super) async fn set_status(
    Authorized(caller, ..): Authorized<Write>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<StatusBody>,
) -> Result<Response, ApiError> {
    if let Some(note) = &body.note {
        check_note("note", note, MAX_NOTE_CHARS)?;
    }
    write(&state, StatusCode::OK, move |q| {
        q.transition(id, body.status, &caller.key_id, body.note.as_deref())
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CommentBody {
    text: String,
}

/// `POST /v1/anomalies/{id}/comments` `{"text"}`: 201 with the anomaly.
pub(super) async fn comment(
    Authorized(caller, ..): Authorized<Write>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<CommentBody>,
) -> Result<Response, ApiError> {
    check_note("text", &body.text, MAX_NOTE_CHARS)?;
    write(&state, StatusCode::CREATED, move |q| {
        q.comment(id, &caller.key_id, &body.text)
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AssigneeBody {
    assignee: String,
}

/// `PUT /v1/anomalies/{id}/assignee` `{"assignee"}`: gives the anomaly to another 街镇.
pub(super) async fn assign(
    Authorized(caller, ..): Authorized<Write>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<AssigneeBody>,
) -> Result<Response, ApiError> {
    check_note("assignee", &body.assignee, MAX_ASSIGNEE_CHARS)?;
    let assignee = body.assignee.trim().to_string();
    write(&state, StatusCode::OK, move |q| {
        q.assign(id, &assignee, &caller.key_id)
    })
    .await
}
