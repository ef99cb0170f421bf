//! Buildings: reverse lookup, one building, spatial queries answered as GeoJSON, export.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::time::Duration;

use geo::{BoundingRect, Intersects, Point, Relate};
use serde::Deserialize;
use serde_json::{Value, json};

use super::lookup::{CrsQuery, parse_crs};
use crate::Building;
use crate::api::auth::{Authorized, Lookup, Spatial};
use crate::api::{ApiError, ApiJson, ApiPath, ApiQuery, AppState};
use crate::spatial::answer::building_feature;
use crate::spatial::answer::reverse_answer;
use crate::spatial::{Crs, DEFAULT_RADIUS_M, PolygonRelation};
use crate::store::Store;

/// Largest radius of a distance query, in metres.
const MAX_RADIUS_M: f64 = 5_000.0;

/// A point parameter pair, checked.
fn point(lon: Option<f64>, lat: Option<f64>) -> Result<Option<(f64, f64)>, ApiError> {
    match (lon, lat) {
        (None, None) => Ok(None),
        (Some(lon), Some(lat)) => {
            // NaN and infinities are in no range.
            if !((-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat)) {
                return Err(ApiError::BadRequest(format!(
                    "{lon},{lat} is not a lon/lat point"
                )));
            }
            Ok(Some((lon, lat)))
        }
        _ => Err(ApiError::BadRequest("give both lon and lat".into())),
    }
}

fn radius(r: Option<f64>, default: f64) -> Result<f64, ApiError> {
    let r = r.unwrap_or(default);
    if !(r.is_finite() && (0.0..=MAX_RADIUS_M).contains(&r)) {
        return Err(ApiError::BadRequest(format!(
            "radius must be between 0 and {MAX_RADIUS_M} metres"
        )));
    }
    Ok(r)
}

fn limit(state: &AppState, limit: Option<usize>) -> Result<usize, ApiError> {
    let max = state.limits.max_buildings;
    let l = limit.unwrap_or(1000.min(max));
    if !(1..=max).contains(&l) {
        return Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {max}"
        )));
    }
    Ok(l)
}

#[derive(Deserialize)]
pub(super) struct ReverseQuery {
    lon: Option<f64>,
    lat: Option<f64>,
    radius: Option<f64>,
    crs: Option<String>,
}

/// `GET /v1/reverse?lon=&lat=`: the building at a point (or nearest within the radius).
pub(super) async fn reverse(
    _: Authorized<Lookup>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ReverseQuery>,
) -> Result<Response, ApiError> {
    let (lon, lat) =
        point(q.lon, q.lat)?.ok_or_else(|| ApiError::BadRequest("give lon and lat".into()))?;
    let radius = radius(q.radius, DEFAULT_RADIUS_M)?;
    let crs = parse_crs(q.crs.as_deref())?;
    let answer = state
        .blocking(move |state, store| {
            reverse_answer(&state.footprints, store, lon, lat, crs, radius).map_err(ApiError::from)
        })
        .await?;
    Ok(axum::Json(answer).into_response())
}

/// A building as a GeoJSON Feature in `crs`, its answer as properties (as the CLI writes it).
fn feature(
    store: &Store,
    b: &Building,
    distance: Option<f64>,
    crs: Crs,
) -> Result<geojson::Feature, ApiError> {
    building_feature(store, b, distance, crs).map_err(ApiError::from)
}

fn collection(
    store: &Store,
    found: &[(&Building, Option<f64>)],
    limit: usize,
    crs: Crs,
) -> Result<Value, ApiError> {
    let features = found
        .iter()
        .take(limit)
        .map(|(b, d)| feature(store, b, *d, crs))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(json!({
        "type": "FeatureCollection",
        "features": features,
        "matched": found.len(),
        "truncated": found.len() > limit,
    }))
}

/// `GET /v1/buildings/{id}`: one building as a GeoJSON Feature.
pub(super) async fn building(
    _: Authorized<Lookup>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<CrsQuery>,
) -> Result<Response, ApiError> {
    let crs = parse_crs(q.crs.as_deref())?;
    let body = state
        .blocking(move |_, store| {
            let b = store
                .building(&id)?
                .ok_or_else(|| ApiError::NotFound(format!("no building with id {id:?}")))?;
            feature(store, &b, None, crs)
        })
        .await?;
    Ok(geojson_response(body))
}

fn geojson_response(body: impl serde::Serialize) -> Response {
    (
        [(header::CONTENT_TYPE, "application/geo+json")],
        axum::Json(body),
    )
        .into_response()
}

#[derive(Deserialize)]
pub(super) struct BoxQuery {
    bbox: Option<String>,
    limit: Option<usize>,
    crs: Option<String>,
}

/// Whether `s` is a plain decimal number (`-12`, `121.5`), as the OpenAPI pattern says.
fn plain_number(s: &str) -> bool {
    let s = s.trim_matches(' ');
    let s = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    digits(int) && frac.is_none_or(digits)
}

/// A `bbox=MINLON,MINLAT,MAXLON,MAXLAT` parameter given in `crs`, as a WGS84 box.
pub(super) fn bbox_param(bbox: Option<&str>, crs: Crs) -> Result<geo::Rect<f64>, ApiError> {
    let bbox =
        bbox.ok_or_else(|| ApiError::BadRequest("give bbox=MINLON,MINLAT,MAXLON,MAXLAT".into()))?;
    let parts: Vec<&str> = bbox.split(',').collect();
    if parts.len() != 4 || !parts.iter().all(|p| plain_number(p)) {
        return Err(ApiError::BadRequest(format!(
            "bad bbox {bbox:?}: expected MINLON,MINLAT,MAXLON,MAXLAT as decimal numbers"
        )));
    }
    crate::spatial::answer::parse_bbox(bbox, crs).map_err(ApiError::BadRequest)
}

/// `GET /v1/buildings?bbox=`: buildings intersecting a box, a GeoJSON FeatureCollection.
pub(super) async fn in_box(
    _: Authorized<Spatial>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<BoxQuery>,
) -> Result<Response, ApiError> {
    let crs = parse_crs(q.crs.as_deref())?;
    let limit = limit(&state, q.limit)?;
    let rect = bbox_param(q.bbox.as_deref(), crs)?;
    let _heavy = state.heavy_permit().await?;
    let body = state
        .blocking(move |state, store| {
            let found: Vec<(&Building, Option<f64>)> = state
                .footprints
                .buildings_in_box(rect)
                .into_iter()
                .map(|b| (b, None))
                .collect();
            collection(store, &found, limit, crs)
        })
        .await?;
    Ok(geojson_response(body))
}

#[derive(Deserialize)]
pub(super) struct PointQuery {
    lon: Option<f64>,
    lat: Option<f64>,
    radius: Option<f64>,
    limit: Option<usize>,
    crs: Option<String>,
}

/// `GET /v1/buildings/at?lon=&lat=`: the building containing the point, a FeatureCollection of
/// none or one.
pub(super) async fn at(
    _: Authorized<Spatial>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PointQuery>,
) -> Result<Response, ApiError> {
    let crs = parse_crs(q.crs.as_deref())?;
    let (lon, lat) =
        point(q.lon, q.lat)?.ok_or_else(|| ApiError::BadRequest("give lon and lat".into()))?;
    let body = state
        .blocking(move |state, store| {
            let (x, y) = crs.to_wgs84(lon, lat);
            let found: Vec<(&Building, Option<f64>)> = state
                .footprints
                .containing_building(Point::new(x, y))
                .map(|b| (b, Some(0.0)))
                .into_iter()
                .collect();
            collection(store, &found, 1, crs)
        })
        .await?;
    Ok(geojson_response(body))
}

/// `GET /v1/buildings/near?lon=&lat=&radius=`: buildings within the radius, nearest first.
pub(super) async fn near(
    _: Authorized<Spatial>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PointQuery>,
) -> Result<Response, ApiError> {
    let crs = parse_crs(q.crs.as_deref())?;
    let limit = limit(&state, q.limit)?;
    let (lon, lat) =
        point(q.lon, q.lat)?.ok_or_else(|| ApiError::BadRequest("give lon and lat".into()))?;
    let r = q
        .radius
        .ok_or_else(|| ApiError::BadRequest("give radius (metres)".into()))?;
    let r = radius(Some(r), 0.0)?;
    let _heavy = state.heavy_permit().await?;
    let body = state
        .blocking(move |state, store| {
            let (x, y) = crs.to_wgs84(lon, lat);
            let found: Vec<(&Building, Option<f64>)> = state
                .footprints
                .buildings_within_distance(Point::new(x, y), r)
                .into_iter()
                .map(|h| (h.building, Some(h.distance_m)))
                .collect();
            collection(store, &found, limit, crs)
        })
        .await?;
    Ok(geojson_response(body))
}

#[derive(Deserialize)]
pub(super) struct WithinQuery {
    contained: Option<bool>,
    limit: Option<usize>,
    crs: Option<String>,
}

/// The polygons of a GeoJSON Polygon or MultiPolygon, or a Feature or FeatureCollection of them,
/// in WGS84, read by the one GeoJSON reader ([`crate::gis::geojson`]) as the OpenAPI schema says:
/// rings of at least 4 positions, in degrees (an open ring is closed).
fn polygons(
    body: &Value,
    crs: Crs,
    max_vertices: usize,
) -> Result<geo::MultiPolygon<f64>, ApiError> {
    use crate::gis::geojson::geometry::{Rings, polygons};
    use geo::MapCoords;
    let features =
        crate::gis::geojson::features::features_of_value(body).map_err(ApiError::InvalidBody)?;
    if features.is_empty() {
        return Err(ApiError::InvalidBody(
            "a FeatureCollection needs at least one feature".to_string(),
        ));
    }
    let mut found = Vec::new();
    for f in &features {
        let g = f
            .geometry()
            .map_err(ApiError::InvalidBody)?
            .ok_or_else(|| {
                ApiError::InvalidBody(
                    "a Feature needs a Polygon or MultiPolygon geometry".to_string(),
                )
            })?;
        for p in polygons(&g, Rings::MayBeOpen).map_err(ApiError::InvalidBody)? {
            let in_wgs84 = p.try_map_coords(|c| {
                let (x, y) = crs.to_wgs84(c.x, c.y);
                if x.is_finite() && y.is_finite() {
                    Ok(geo::coord! { x: x, y: y })
                } else {
                    Err(ApiError::InvalidBody(format!(
                        "[{}, {}] has no place in {crs}",
                        c.x, c.y
                    )))
                }
            })?;
            found.push(in_wgs84);
        }
    }
    let vertices: usize = found
        .iter()
        .map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>())
        .sum();
    if vertices > max_vertices {
        return Err(ApiError::PayloadTooLarge(format!(
            "the polygons have {vertices} vertices; the limit is {max_vertices}"
        )));
    }
    let mp = geo::MultiPolygon(found);
    if mp.bounding_rect().is_none() {
        return Err(ApiError::InvalidBody("the polygons are empty".to_string()));
    }
    // An invalid area (self-intersecting, overlapping parts …) has no well-defined inside, and
    // relating it to thousands of footprints is what makes a request slow.
    if let Err(e) = geo::Validation::check_validation(&mp) {
        return Err(ApiError::InvalidBody(format!(
            "the area is not a valid polygon: {e}"
        )));
    }
    Ok(mp)
}

/// `POST /v1/buildings/within`: buildings intersecting (or, with `contained=true`, inside) the
/// polygons of a GeoJSON body.
pub(super) async fn within(
    _: Authorized<Spatial>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<WithinQuery>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let crs = parse_crs(q.crs.as_deref())?;
    let limit = limit(&state, q.limit)?;
    let area = polygons(&body, crs, state.limits.max_polygon_vertices)?;
    let relation = if q.contained.unwrap_or(false) {
        PolygonRelation::Within
    } else {
        PolygonRelation::Intersects
    };
    let _heavy = state.heavy_permit().await?;
    // The polygon test is the slow part (a relate per candidate): bounded by the request
    // timeout here too, because a blocking task cannot be cancelled from outside.
    let deadline =
        std::time::Instant::now() + Duration::from_millis(state.limits.request_timeout_ms);
    let body = state
        .blocking(move |state, store| {
            let Some(rect) = area.bounding_rect() else {
                return collection(store, &[], limit, crs);
            };
            // Prepared once (its edge graph and index), related to every candidate.
            let prepared = geo::PreparedGeometry::from(&area);
            let mut found: Vec<(&Building, Option<f64>)> = Vec::new();
            for b in state.footprints.buildings_in_box(rect) {
                if std::time::Instant::now() > deadline {
                    return Err(ApiError::Timeout);
                }
                let hit = match relation {
                    PolygonRelation::Intersects => area.intersects(&b.footprint),
                    PolygonRelation::Within => prepared.relate(&b.footprint).is_contains(),
                };
                if hit {
                    found.push((b, None));
                }
            }
            collection(store, &found, limit, crs)
        })
        .await?;
    Ok(geojson_response(body))
}

#[derive(Deserialize)]
pub(super) struct ExportQuery {
    format: Option<String>,
}

/// `GET /v1/export/buildings?format=geojson|gpkg`: every building with its first address, as a
/// file QGIS opens.
pub(super) async fn export(
    _: Authorized<Spatial>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    use crate::gis::GisFormat;
    let (format, ext, mime) = match q.format.as_deref().unwrap_or("geojson") {
        "geojson" => (GisFormat::GeoJson, "geojson", "application/geo+json"),
        "gpkg" => (
            GisFormat::GeoPackage,
            "gpkg",
            "application/geopackage+sqlite3",
        ),
        other => {
            return Err(ApiError::BadRequest(format!(
                "format {other:?}: expected geojson or gpkg"
            )));
        }
    };
    // A directory of this export's own, with a random name, in the data directory's private
    // temporary directory (see `crate::api::private_temp_dir`): nothing in its path comes from
    // the request, and no other local user can enter it.
    let tmp = crate::api::private_temp_dir(&state.data_dir)?;
    let _heavy = state.heavy_permit().await?;
    // Dropped with the request (a timeout, a closed connection): the export stops at its next step.
    let cancel = CancelOnDrop::default();
    let cancelled = cancel.0.clone();
    let file = state
        .blocking(move |_, store| {
            let footprints = store.footprints()?;
            if cancelled.load(std::sync::atomic::Ordering::Relaxed) {
                return Err(ApiError::Timeout);
            }
            let dir = tempfile::Builder::new()
                .prefix("export-")
                .tempdir_in(&tmp)?;
            let path = dir.path().join(format!("buildings.{ext}"));
            crate::gis::write_footprints(&path, format, &footprints, Default::default())?;
            if cancelled.load(std::sync::atomic::Ordering::Relaxed) {
                return Err(ApiError::Timeout);
            }
            // Opened, then the directory removed: the open file is streamed, nothing is left.
            let file = std::fs::File::open(&path)?;
            drop(dir);
            Ok(file)
        })
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"buildings.{ext}\""),
            ),
        ],
        crate::api::stream_file(file, cancel),
    )
        .into_response())
}

/// Set when dropped: tells a blocking export that its request is gone.
#[derive(Default)]
pub(crate) struct CancelOnDrop(pub std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}
