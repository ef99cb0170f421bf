//! Lookups on text: normalize (one, or up to the batch limit), suggest, parse, compare.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::api::auth::{Authorized, Lookup};
use crate::api::{ApiError, ApiJson, ApiQuery, AppState};
use crate::crs::Crs;
use crate::search::Match;

#[derive(Deserialize)]
pub(super) struct NormalizeQuery {
    q: String,
    crs: Option<String>,
}

/// A query whose only parameter is `crs=` (one address, one building).
#[derive(Deserialize)]
pub(super) struct CrsQuery {
    pub(super) crs: Option<String>,
}

/// A `crs=` parameter: wgs84 (default), gcj02 or bd09.
pub(crate) fn parse_crs(crs: Option<&str>) -> Result<Crs, ApiError> {
    match crs {
        None => Ok(Crs::Wgs84),
        Some(s) => s
            .parse()
            .map_err(|e: crate::crs::UnknownCrs| ApiError::BadRequest(e.to_string())),
    }
}

/// Rejects an address text over the limit.
pub(crate) fn check_text(state: &AppState, name: &str, text: &str) -> Result<(), ApiError> {
    let n = text.chars().count();
    if n > state.limits.max_address_chars {
        return Err(ApiError::BadRequest(format!(
            "{name} is {n} characters; the limit is {}",
            state.limits.max_address_chars
        )));
    }
    Ok(())
}

fn in_crs(mut m: Match, crs: Crs) -> Match {
    if crs != Crs::Wgs84
        && let (Some(lon), Some(lat)) = (m.lon, m.lat)
    {
        let (x, y) = crs.from_wgs84(lon, lat);
        m.lon = Some((x * 1e7).round() / 1e7);
        m.lat = Some((y * 1e7).round() / 1e7);
    }
    m
}

/// `GET /v1/normalize?q=`: one address → a normalization result.
pub(super) async fn normalize_one(
    _: Authorized<Lookup>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<NormalizeQuery>,
) -> Result<Response, ApiError> {
    check_text(&state, "q", &q.q)?;
    let crs = parse_crs(q.crs.as_deref())?;
    let m = in_crs(state.matcher.normalize(&q.q)?, crs);
    Ok(axum::Json(m).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NormalizeBody {
    addresses: Vec<String>,
    #[serde(default)]
    crs: Option<String>,
}

/// `POST /v1/normalize`: `{"addresses": [...]}` → `{"results": [...]}`, in order.
pub(super) async fn normalize_many(
    _: Authorized<Lookup>,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<NormalizeBody>,
) -> Result<Response, ApiError> {
    if body.addresses.len() > state.limits.max_batch {
        return Err(ApiError::PayloadTooLarge(format!(
            "{} addresses; at most {} per request (use a batch job for more)",
            body.addresses.len(),
            state.limits.max_batch
        )));
    }
    for (i, a) in body.addresses.iter().enumerate() {
        check_text(&state, &format!("addresses[{i}]"), a)?;
    }
    let crs = parse_crs(body.crs.as_deref())?;
    let results = if body.addresses.len() <= 4 {
        body.addresses
            .iter()
            .map(|a| Ok(in_crs(state.matcher.normalize(a)?, crs)))
            .collect::<Result<Vec<_>, ApiError>>()?
    } else {
        // Many: off the async workers, so one big request does not stall the small ones.
        let st = state.clone();
        tokio::task::spawn_blocking(move || {
            body.addresses
                .iter()
                .map(|a| Ok(in_crs(st.matcher.normalize(a)?, crs)))
                .collect::<Result<Vec<_>, ApiError>>()
        })
        .await??
    };
    Ok(axum::Json(serde_json::json!({ "results": results })).into_response())
}

#[derive(Deserialize)]
pub(super) struct SuggestQuery {
    q: String,
    limit: Option<usize>,
}

/// Most completions per request.
const MAX_SUGGEST: usize = 50;

/// `GET /v1/suggest?q=&limit=`: completions of what has been typed.
pub(super) async fn suggest(
    _: Authorized<Lookup>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<SuggestQuery>,
) -> Result<Response, ApiError> {
    check_text(&state, "q", &q.q)?;
    let limit = q.limit.unwrap_or(10);
    if !(1..=MAX_SUGGEST).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {MAX_SUGGEST}"
        )));
    }
    let suggestions = state.matcher.suggest(&q.q, limit)?;
    Ok(axum::Json(serde_json::json!({ "suggestions": suggestions })).into_response())
}

#[derive(Deserialize)]
pub(super) struct ParseQuery {
    q: String,
}

/// `GET /v1/parse?q=`: components with levels and spans.
pub(super) async fn parse(
    _: Authorized<Lookup>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ParseQuery>,
) -> Result<Response, ApiError> {
    check_text(&state, "q", &q.q)?;
    Ok(axum::Json(state.matcher.parser().parse(&q.q)).into_response())
}

#[derive(Deserialize)]
pub(super) struct CompareQuery {
    a: String,
    b: String,
}

/// `GET /v1/compare?a=&b=`: same, contains, within or different, where they part, and how sure.
pub(super) async fn compare(
    _: Authorized<Lookup>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<CompareQuery>,
) -> Result<Response, ApiError> {
    check_text(&state, "a", &q.a)?;
    check_text(&state, "b", &q.b)?;
    let parser = state.matcher.parser();
    let c = crate::address::compare(&parser.parse(&q.a), &parser.parse(&q.b));
    Ok(axum::Json(serde_json::json!({
        "a": q.a,
        "b": q.b,
        "relation": c.relation,
        "parted_at": c.parted_at,
        "shared": c.shared,
        "confidence": c.confidence,
    }))
    .into_response())
}

/// `GET /v1/coverage`: the divisions the data covers (anything else is `outside`), the box
/// around its buildings, and where a map should open: the building nearest the box's middle (a
/// district's middle may be a lake).
pub(super) async fn coverage(_: Authorized<Lookup>, State(state): State<AppState>) -> Response {
    use geo::{BoundingRect, Centroid};
    let coverage = state.matcher.coverage();
    let extent = state.footprints.extent();
    let center = extent.map(|[x0, y0, x1, y1]| {
        let middle = geo::Point::new((x0 + x1) / 2.0, (y0 + y1) / 2.0);
        state
            .footprints
            .nearest_buildings(middle, 1, 30_000.0)
            .first()
            .and_then(|h| h.building.footprint.bounding_rect())
            .map_or(middle, |r| r.centroid())
    });
    axum::Json(serde_json::json!({
        "name": coverage.label(),
        "whole_city": coverage.is_whole_city(),
        "divisions": coverage.districts().iter()
            .map(|d| serde_json::json!({"code": d.code, "name": d.name}))
            .collect::<Vec<_>>(),
        "extent": extent,
        "center": center.map(|p| [(p.x() * 1e7).round() / 1e7, (p.y() * 1e7).round() / 1e7]),
    }))
    .into_response()
}
