//! Admin: API keys (create, list, revoke) and the audit log. Every write is audited.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::api::auth::{Admin, Authorized, CreateError, RevokeError, Role};
use crate::api::{ApiError, ApiJson, ApiPath, ApiQuery, AppState, audit, json_status};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateKey {
    role: Role,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    note: Option<String>,
}

/// `POST /v1/admin/keys`: a new key with a role; the key is in this answer only.
pub(super) async fn create_key(
    Authorized(caller, ..): Authorized<Admin>,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CreateKey>,
) -> Result<Response, ApiError> {
    if body.note.as_ref().is_some_and(|n| n.chars().count() > 200) {
        return Err(ApiError::InvalidBody("note: at most 200 characters".into()));
    }
    let (entry, key) = state
        .blocking(move |state, store| {
            let (entry, key) = state
                .keys
                .create(body.id.as_deref(), body.role, body.note)
                .map_err(|e| match e {
                    CreateError::BadId(m) => ApiError::InvalidBody(m.to_string()),
                    CreateError::Exists(_) => ApiError::Conflict(e.to_string()),
                    CreateError::Io(e) => ApiError::internal(e),
                })?;
            let after = json!({"id": entry.id, "role": entry.role, "note": entry.note});
            if let Err(e) = audit::record(
                store,
                &caller.key_id,
                "key.create",
                &format!("api_key:{}", entry.id),
                None,
                Some(&after),
            ) {
                // No write without its audit entry.
                let _ = state.keys.revoke(&entry.id);
                return Err(ApiError::internal(e));
            }
            Ok((entry, key))
        })
        .await?;
    tracing::info!(key_id = %entry.id, role = entry.role.as_str(), "API key created");
    Ok(json_status(
        StatusCode::CREATED,
        json!({"id": entry.id, "role": entry.role, "note": entry.note, "key": key}),
    ))
}

/// `GET /v1/admin/keys`: every key, without secrets.
pub(super) async fn list_keys(_: Authorized<Admin>, State(state): State<AppState>) -> Response {
    axum::Json(json!({ "keys": state.keys.list() })).into_response()
}

/// `DELETE /v1/admin/keys/{id}`: revokes a key created through the API.
pub(super) async fn revoke_key(
    Authorized(caller, ..): Authorized<Admin>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    if id == caller.key_id {
        return Err(ApiError::Conflict("a key cannot revoke itself".into()));
    }
    state
        .blocking(move |state, store| {
            let entry = state.keys.revoke(&id).map_err(|e| match e {
                RevokeError::NotFound => ApiError::NotFound(format!("no key with id {id:?}")),
                RevokeError::InConfig => ApiError::Conflict(e.to_string()),
                RevokeError::Io(e) => ApiError::internal(e),
            })?;
            let before = json!({"id": entry.id, "role": entry.role, "note": entry.note});
            audit::record(
                store,
                &caller.key_id,
                "key.revoke",
                &format!("api_key:{}", entry.id),
                Some(&before),
                None,
            )?;
            Ok(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
pub(super) struct AuditQuery {
    limit: Option<usize>,
}

/// `GET /v1/admin/audit?limit=`: the most recent audit entries, newest first.
pub(super) async fn audit(
    _: Authorized<Admin>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Response, ApiError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::BadRequest(
            "limit must be between 1 and 1000".into(),
        ));
    }
    let entries = state
        .blocking(move |_, store| audit::recent(store, limit).map_err(ApiError::from))
        .await?;
    Ok(axum::Json(json!({ "entries": entries })).into_response())
}
