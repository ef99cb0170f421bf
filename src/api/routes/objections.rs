//! Objections from outside (异议): a hotline operator says "this address is wrong", with a note;
//! it becomes an anomaly of rule `objection` for the address's 街镇 (see
//! [`crate::fuse::objections`]), audited with the operator's key id as the actor.
//!
//! Any key may file one (role hotline and up), never an anonymous caller: someone answers for
//! each objection. The note is free text typed during a call, so phone and ID-card numbers in it
//! are masked before it is stored — as for query text, such numbers are never stored. (Any run of
//! 7 or more digits is masked, so a long record number in a note is masked too.)

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::anomalies::{MAX_NOTE_CHARS, check_note, detailed, fuse_error, retrying};
use crate::api::auth::{AnyKey, Authorized};
use crate::api::{ApiError, ApiJson, AppState, json_status, mask_personal};
use crate::fuse::{self, Anomalies, AnomalyFilter};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ObjectionBody {
    address_id: String,
    note: String,
}

/// `POST /v1/objections` `{"address_id", "note"}`: 201 with the anomaly it became; 200 when the
/// address already had an objection (the note is added to it as a comment).
pub(super) async fn file(
    Authorized(caller, ..): Authorized<AnyKey>,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<ObjectionBody>,
) -> Result<Response, ApiError> {
    check_note("note", &body.note, MAX_NOTE_CHARS)?;
    let note = mask_personal(body.note.trim());
    let (created, anomaly) = state
        .blocking_mut(move |_, store| {
            let id = body.address_id;
            if store.address(&id).map_err(ApiError::internal)?.is_none() {
                return Err(ApiError::NotFound(format!("no address with id {id:?}")));
            }
            let earlier = Anomalies::new(store)
                .and_then(|q| {
                    q.list(&AnomalyFilter {
                        rule: Some("objection".into()),
                        entity_id: Some(id.clone()),
                        limit: Some(1),
                        ..AnomalyFilter::default()
                    })
                })
                .map_err(ApiError::internal)?;
            let a = retrying(|| fuse::objections::file(store, &id, &caller.key_id, &note))
                .map_err(|e| fuse_error(e, ApiError::InvalidBody))?;
            Ok((earlier.is_empty(), detailed(store, &a)?))
        })
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(json_status(status, anomaly))
}
