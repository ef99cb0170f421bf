//! The map view: the footprints and roads in a small box, drawn by the web page.
//!
//! Role hotline: an operator who found an address must see its building on the map without a gis
//! key. The box is capped at a map view's size, so this is not a way around the gis role for
//! bulk spatial queries (`/v1/buildings?bbox=` answers those, with every address).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use geo::MapCoords;
use serde::Deserialize;
use serde_json::{Value, json};

use super::buildings::bbox_param;
use super::lookup::parse_crs;
use crate::api::auth::{Authorized, Lookup};
use crate::api::{ApiError, ApiQuery, AppState};
use crate::spatial::answer::footprint_in;

/// The largest box side, in degrees (about 5 km): a map view, not a district.
pub const MAX_MAP_SPAN_DEG: f64 = 0.05;

/// At most this many buildings (and, separately, roads) in one answer.
pub const MAX_MAP_FEATURES: usize = 5_000;

#[derive(Deserialize)]
pub(super) struct MapQuery {
    bbox: Option<String>,
    crs: Option<String>,
}

fn round7(v: f64) -> f64 {
    (v * 1e7).round() / 1e7
}

/// `GET /v1/map?bbox=`: `{"buildings": FeatureCollection, "roads": FeatureCollection,
/// "truncated"}` for the box, each building labelled with its first address and address count.
pub(super) async fn map(
    _: Authorized<Lookup>,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<MapQuery>,
) -> Result<Response, ApiError> {
    let crs = parse_crs(q.crs.as_deref())?;
    let rect = bbox_param(q.bbox.as_deref(), crs)?;
    if rect.width() > MAX_MAP_SPAN_DEG || rect.height() > MAX_MAP_SPAN_DEG {
        return Err(ApiError::BoxTooLarge(format!(
            "the box is {:.4}° × {:.4}°; the map draws at most {MAX_MAP_SPAN_DEG}° a side: zoom in",
            rect.width(),
            rect.height()
        )));
    }
    let _heavy = state.heavy_permit().await?;
    let body = state
        .blocking(move |state, store| {
            let found = state.footprints.buildings_in_box(rect);
            let roads = state.roads.roads_in_box(rect);
            let truncated = found.len() > MAX_MAP_FEATURES || roads.len() > MAX_MAP_FEATURES;
            let mut buildings = Vec::with_capacity(found.len().min(MAX_MAP_FEATURES));
            for b in found.into_iter().take(MAX_MAP_FEATURES) {
                let addresses = store.address_lines_of_building(&b.id)?;
                let geometry =
                    geojson::Geometry::new(geojson::GeometryValue::from(&footprint_in(b, crs)));
                buildings.push(json!({
                    "type": "Feature",
                    "id": b.id,
                    "geometry": geometry,
                    "properties": {
                        "building_id": b.id,
                        "kind": b.kind.as_str(),
                        "floors": b.floors,
                        "address": addresses.first().map(|a| a.text.as_str()),
                        "address_count": addresses.len(),
                    },
                }));
            }
            let roads: Vec<Value> = roads
                .into_iter()
                .take(MAX_MAP_FEATURES)
                .map(|r| {
                    let line = r.line.map_coords(|c| {
                        let (x, y) = crs.from_wgs84(c.x, c.y);
                        geo::coord! { x: round7(x), y: round7(y) }
                    });
                    let geometry = if line.0.len() == 1 {
                        geojson::GeometryValue::from(&line.0[0])
                    } else {
                        geojson::GeometryValue::from(&line)
                    };
                    json!({
                        "type": "Feature",
                        "id": r.id,
                        "geometry": geojson::Geometry::new(geometry),
                        "properties": {"name": r.name},
                    })
                })
                .collect();
            Ok(json!({
                "crs": crs,
                "buildings": {"type": "FeatureCollection", "features": buildings},
                "roads": {"type": "FeatureCollection", "features": roads},
                "truncated": truncated,
            }))
        })
        .await?;
    Ok(axum::Json(body).into_response())
}
