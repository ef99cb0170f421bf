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

use super::anomalies::detailed;
use super::text::{MAX_NOTE_CHARS, check_note};
use crate::api::auth::{AnyKey, Authorized};
use crate::api::{ApiError, ApiJson, AppState, json_status, mask_personal, retrying};
use crate::fuse::{self, objections::Filed};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ObjectionBody {
    address_id: String,
    note: String,
}

/// `POST /v1/objections` `{"address_id", "note"}`: 201 with the anomaly it became; 200 when the
/// address already had an objection anomaly: the note is added to it as a comment while it is
/// open or confirmed, and a rejected or resolved one is re-opened (back in the open queue).
pub(super) async fn file(
    Authorized(caller, ..): Authorized<AnyKey>,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<ObjectionBody>,
) -> Result<Response, ApiError> {
    check_note("note", &body.note, MAX_NOTE_CHARS)?;
    let note = mask_personal(body.note.trim());
    let (filed, anomaly) = state
        .blocking_mut(move |_, store, deadline| {
            let id = body.address_id;
            if store.address(&id)?.is_none() {
                return Err(ApiError::NotFound(format!("no address with id {id:?}")));
            }
            let (a, filed) = retrying(store, deadline, |store| {
                fuse::objections::file(store, &id, &caller.key_id, &note)
            })
            .map_err(|e| ApiError::from_fuse(e, ApiError::InvalidBody))?;
            Ok((filed, detailed(store, &a)?))
        })
        .await?;
    let status = match filed {
        Filed::New => StatusCode::CREATED,
        Filed::Added | Filed::Reopened => StatusCode::OK,
    };
    Ok(json_status(status, anomaly))
}
