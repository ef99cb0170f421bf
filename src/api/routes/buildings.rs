//! Buildings: reverse lookup, one building, spatial queries answered as GeoJSON, export.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use geo::{BoundingRect, MapCoords, Point};
use serde::Deserialize;
use serde_json::{Value, json};

use super::lookup::parse_crs;
use crate::Building;
use crate::api::auth::{Authorized, Lookup, Spatial};
use crate::api::{ApiError, ApiJson, ApiPath, ApiQuery, AppState};
use crate::spatial::answer::{building_answer, footprint_in, reverse_answer};
use crate::spatial::{Crs, DEFAULT_RADIUS_M, PolygonRelation};
use crate::store::Store;

/// Largest radius of a distance query, in metres.
const MAX_RADIUS_M: f64 = 5_000.0;

/// A point parameter pair, checked.
fn point(lon: Option<f64>, lat: Option<f64>) -> Result<Option<(f64, f64)>, ApiError> {
    match (lon, lat) {
        (None, None) => Ok(None),
        (Some(lon), Some(lat)) => {
            if !(lon.is_finite() && (-180.0..=180.0).contains(&lon))
                || !(lat.is_finite() && (-90.0..=90.0).contains(&lat))
            {
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
            reverse_answer(&state.footprints, store, lon, lat, crs, radius)
                .map_err(ApiError::internal)
        })
        .await?;
    Ok(axum::Json(answer).into_response())
}

/// A building as a GeoJSON Feature in `crs`, its answer as properties.
fn feature(
    store: &Store,
    b: &Building,
    distance: Option<f64>,
    crs: Crs,
) -> Result<Value, ApiError> {
    let answer = building_answer(store, b, distance, crs).map_err(ApiError::internal)?;
    let geometry = geojson::Geometry::new(geojson::GeometryValue::from(&footprint_in(b, crs)));
    Ok(json!({
        "type": "Feature",
        "id": b.id,
        "geometry": geometry,
        "properties": answer,
    }))
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

#[derive(Deserialize)]
pub(super) struct CrsQuery {
    crs: Option<String>,
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
                .building(&id)
                .map_err(ApiError::internal)?
                .ok_or_else(|| ApiError::NotFound(format!("no building with id {id:?}")))?;
            feature(store, &b, None, crs)
        })
        .await?;
    Ok(geojson_response(body))
}

fn geojson_response(body: Value) -> Response {
    (
        [(header::CONTENT_TYPE, "application/geo+json")],
        axum::Json(body),
    )
        .into_response()
}

#[derive(Deserialize)]
pub(super) struct BuildingsQuery {
    bbox: Option<String>,
    lon: Option<f64>,
    lat: Option<f64>,
    radius: Option<f64>,
    limit: Option<usize>,
    crs: Option<String>,
}

/// `GET /v1/buildings?bbox=` | `?lon=&lat=` (containing) | `?lon=&lat=&radius=` (near, nearest
/// first): a GeoJSON FeatureCollection.
pub(super) async fn query(
    _: Authorized<Spatial>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<BuildingsQuery>,
) -> Result<Response, ApiError> {
    let crs = parse_crs(q.crs.as_deref())?;
    let limit = limit(&state, q.limit)?;
    let at = point(q.lon, q.lat)?;
    enum Query {
        Box(geo::Rect<f64>),
        At(f64, f64),
        Near(f64, f64, f64),
    }
    let query = match (&q.bbox, at, q.radius) {
        (Some(b), None, None) => {
            Query::Box(crate::spatial::answer::parse_bbox(b, crs).map_err(ApiError::BadRequest)?)
        }
        (None, Some((lon, lat)), None) => Query::At(lon, lat),
        (None, Some((lon, lat)), Some(r)) => Query::Near(lon, lat, radius(Some(r), 0.0)?),
        (None, None, _) => {
            return Err(ApiError::BadRequest(
                "give bbox, or lon and lat (with radius for buildings near the point)".into(),
            ));
        }
        _ => {
            return Err(ApiError::BadRequest(
                "give either bbox or lon and lat, not both".into(),
            ));
        }
    };
    let body = state
        .blocking(move |state, store| {
            let index = &state.footprints;
            let found: Vec<(&Building, Option<f64>)> = match query {
                Query::Box(rect) => index
                    .buildings_in_box(rect)
                    .into_iter()
                    .map(|b| (b, None))
                    .collect(),
                Query::At(lon, lat) => {
                    let (x, y) = crs.to_wgs84(lon, lat);
                    index
                        .containing_building(Point::new(x, y))
                        .map(|b| (b, Some(0.0)))
                        .into_iter()
                        .collect()
                }
                Query::Near(lon, lat, r) => {
                    let (x, y) = crs.to_wgs84(lon, lat);
                    index
                        .buildings_within_distance(Point::new(x, y), r)
                        .into_iter()
                        .map(|h| (h.building, Some(h.distance_m)))
                        .collect()
                }
            };
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

/// The polygons of a GeoJSON geometry, Feature or FeatureCollection, in WGS84.
fn polygons(body: &Value, crs: Crs) -> Result<geo::MultiPolygon<f64>, ApiError> {
    let gj: geojson::GeoJson = body
        .to_string()
        .parse()
        .map_err(|e| ApiError::InvalidBody(format!("not GeoJSON: {e}")))?;
    let geometries: Vec<geojson::Geometry> = match gj {
        geojson::GeoJson::Geometry(g) => vec![g],
        geojson::GeoJson::Feature(f) => f.geometry.into_iter().collect(),
        geojson::GeoJson::FeatureCollection(c) => {
            c.features.into_iter().filter_map(|f| f.geometry).collect()
        }
    };
    let mut out = Vec::new();
    for g in &geometries {
        match geo::Geometry::<f64>::try_from(&g.value) {
            Ok(geo::Geometry::Polygon(p)) => out.push(p),
            Ok(geo::Geometry::MultiPolygon(mp)) => out.extend(mp.0),
            Ok(_) => {
                return Err(ApiError::InvalidBody(
                    "only Polygon and MultiPolygon geometries are accepted".into(),
                ));
            }
            Err(e) => return Err(ApiError::InvalidBody(format!("bad geometry: {e}"))),
        }
    }
    if out.is_empty() {
        return Err(ApiError::InvalidBody("no polygon in the body".into()));
    }
    let mp = geo::MultiPolygon(out).map_coords(|c| {
        let (x, y) = crs.to_wgs84(c.x, c.y);
        geo::coord! { x: x, y: y }
    });
    if mp.bounding_rect().is_none()
        || mp
            .0
            .iter()
            .flat_map(|p| p.exterior().0.iter())
            .any(|c| !c.x.is_finite() || !c.y.is_finite())
    {
        return Err(ApiError::InvalidBody("the polygon has no area".into()));
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
    let area = polygons(&body, crs)?;
    let relation = if q.contained.unwrap_or(false) {
        PolygonRelation::Within
    } else {
        PolygonRelation::Intersects
    };
    let body = state
        .blocking(move |state, store| {
            let found: Vec<(&Building, Option<f64>)> = state
                .footprints
                .buildings_in_polygon(&area, relation)
                .into_iter()
                .map(|b| (b, None))
                .collect();
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
    let bytes = state
        .blocking(move |_, store| {
            let footprints =
                crate::gis::footprints_from_store(store).map_err(ApiError::internal)?;
            let dir = std::env::temp_dir().join(format!(
                "dizhi-export-{}-{}",
                std::process::id(),
                crate::api::observe::current_request_id()
                    .unwrap_or_else(|| format!("{:?}", std::thread::current().id()))
                    .replace(|c: char| !c.is_ascii_alphanumeric(), "")
            ));
            std::fs::create_dir_all(&dir).map_err(ApiError::internal)?;
            let path = dir.join(format!("buildings.{ext}"));
            let written =
                crate::gis::write_footprints(&path, format, &footprints, Default::default())
                    .map_err(ApiError::internal)
                    .and_then(|()| std::fs::read(&path).map_err(ApiError::internal));
            let _ = std::fs::remove_dir_all(&dir);
            written
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
        bytes,
    )
        .into_response())
}
