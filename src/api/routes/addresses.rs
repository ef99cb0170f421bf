//! One standard address by id.

use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::lookup::{CrsQuery, parse_crs};
use crate::api::auth::{Authorized, Lookup};
use crate::api::{ApiError, ApiPath, ApiQuery, AppState};
use axum::extract::State;

/// `GET /v1/addresses/{id}`: the standard address, its components, building and links.
pub(super) async fn address(
    _: Authorized<Lookup>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<CrsQuery>,
) -> Result<Response, ApiError> {
    let crs = parse_crs(q.crs.as_deref())?;
    let body = state
        .blocking(move |_, store| {
            let a = store
                .address(&id)?
                .ok_or_else(|| ApiError::NotFound(format!("no address with id {id:?}")))?;
            let links = store.links_of_address(&id)?;
            let point = a.point.map(|p| {
                let (x, y) = crs.from_wgs84(p.x(), p.y());
                ((x * 1e7).round() / 1e7, (y * 1e7).round() / 1e7)
            });
            let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
            Ok(json!({
                "id": a.id,
                "address": a.canonical_text(),
                "district": a.district,
                "town_code": opt(&a.town.code),
                "town": opt(&a.town.name),
                "community_code": opt(&a.community.code),
                "community": opt(&a.community.name),
                "road": a.road,
                "lane": a.lane,
                "number": a.number,
                "group": a.group,
                "poi": a.poi,
                "building": a.building,
                "kind": a.kind.as_str(),
                "status": a.status.as_str(),
                "building_id": a.building_id,
                "lon": point.map(|p| p.0),
                "lat": point.map(|p| p.1),
                "crs": crs,
                "tags": a.tags,
                "links": links.iter().map(|l| json!({
                    "building_id": l.building_id,
                    "source": l.source,
                    "method": l.method,
                    "confidence": l.confidence,
                })).collect::<Vec<_>>(),
            }))
        })
        .await?;
    Ok(axum::Json(body).into_response())
}
