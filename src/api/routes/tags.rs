//! Address tags (地址标签: 工业园区, 学校, 重点单位 …): the vocabulary with counts and the
//! addresses carrying a tag (role hotline and up: tags are about places, not people), and setting
//! an address's tags (role steward; audited in the same transaction by [`crate::fuse::tags`]).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::api::auth::{Authorized, Lookup, Write};
use crate::api::{ApiError, ApiJson, ApiPath, ApiQuery, AppState, retrying};
use crate::fuse;

const MAX_TAGS: usize = 50;
const MAX_TAG_CHARS: usize = 50;

/// `GET /v1/tags`: every tag with how many addresses carry it.
pub(super) async fn vocabulary(
    _: Authorized<Lookup>,
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let tags = state
        .blocking(|_, store| fuse::tags::vocabulary(store).map_err(ApiError::from))
        .await?;
    let tags: Vec<_> = tags
        .into_iter()
        .map(|(tag, n)| json!({"tag": tag, "addresses": n}))
        .collect();
    Ok(axum::Json(json!({ "tags": tags })).into_response())
}

#[derive(Deserialize)]
pub(super) struct LimitQuery {
    limit: Option<usize>,
}

/// `GET /v1/tags/{tag}/addresses?limit=`: the addresses carrying a tag, by id.
pub(super) async fn addresses(
    _: Authorized<Lookup>,
    State(state): State<AppState>,
    ApiPath(tag): ApiPath<String>,
    ApiQuery(q): ApiQuery<LimitQuery>,
) -> Result<Response, ApiError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::BadRequest(
            "limit must be between 1 and 1000".into(),
        ));
    }
    let body = state
        .blocking(move |_, store| {
            let ids = fuse::tags::query(store, &tag, limit)?;
            let addresses = ids
                .into_iter()
                .map(|id| {
                    let text = store.address_text(&id)?;
                    Ok(json!({"id": id, "address": text}))
                })
                .collect::<Result<Vec<_>, ApiError>>()?;
            Ok(json!({"tag": tag, "addresses": addresses}))
        })
        .await?;
    Ok(axum::Json(body).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TagsBody {
    tags: Vec<String>,
}

/// `PUT /v1/addresses/{id}/tags` `{"tags": [...]}`: the address's tags become exactly these.
pub(super) async fn set(
    Authorized(caller, ..): Authorized<Write>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<TagsBody>,
) -> Result<Response, ApiError> {
    if body.tags.len() > MAX_TAGS {
        return Err(ApiError::InvalidBody(format!("tags: at most {MAX_TAGS}")));
    }
    let mut wanted: Vec<String> = Vec::with_capacity(body.tags.len());
    for t in &body.tags {
        let t = t.trim();
        if t.is_empty() || t.chars().count() > MAX_TAG_CHARS {
            return Err(ApiError::InvalidBody(format!(
                "tags: each 1 to {MAX_TAG_CHARS} characters"
            )));
        }
        wanted.push(t.to_string());
    }
    wanted.sort();
    wanted.dedup();
    let body = state
        .blocking_mut(move |_, store, deadline| {
            let current = store
                .address(&id)?
                .ok_or_else(|| ApiError::NotFound(format!("no address with id {id:?}")))?
                .tags;
            // `fuse::tags::set` adds and removes in one audited transaction; a tag another
            // writer added between the read above and that transaction is removed by one more.
            let mut remove: Vec<String> = current
                .into_iter()
                .filter(|t| !wanted.contains(t))
                .collect();
            let mut add = wanted.clone();
            for _ in 0..3 {
                let after = retrying(store, deadline, |store| {
                    fuse::tags::set(store, &id, &add, &remove, &caller.key_id)
                })
                .map_err(|e| ApiError::from_fuse(e, ApiError::InvalidBody))?;
                if after == wanted {
                    return Ok(json!({"address_id": id, "tags": after}));
                }
                remove = after.into_iter().filter(|t| !wanted.contains(t)).collect();
                add = wanted.clone();
            }
            Err(ApiError::Conflict(
                "the tags kept changing under concurrent writes: try again".into(),
            ))
        })
        .await?;
    Ok(axum::Json(body).into_response())
}
