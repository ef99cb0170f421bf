//! Liveness, readiness, metrics, the OpenAPI document and its docs page (no key needed).

use axum::extract::State;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use crate::api::{ApiError, AppState, openapi};

/// `GET /healthz`: the process is up.
pub(super) async fn healthz() -> Response {
    axum::Json(json!({"status": "ok"})).into_response()
}

/// `GET /readyz`: the store answers and the indexes are loaded. It asks the store on a connection
/// of its own ([`crate::api::Inner::health_store`]), never one of the pool's.
pub(super) async fn readyz(State(state): State<AppState>) -> Result<Response, ApiError> {
    let checked = state.clone();
    let (addresses, buildings) = tokio::task::spawn_blocking(move || {
        let store = checked
            .health_store
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let n: i64 = store
            .connection()
            .query_row("SELECT count(*) FROM buildings", [], |r| r.get(0))?;
        Ok::<_, ApiError>((checked.addresses, n))
    })
    .await??;
    Ok(axum::Json(json!({
        "status": "ready",
        "addresses": addresses,
        "buildings": buildings,
        "indexed_buildings": state.footprints.len(),
    }))
    .into_response())
}

/// `GET /metrics`: Prometheus text.
pub(super) async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

/// `GET /openapi.json`.
pub(super) async fn openapi_json() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        openapi::document_json(),
    )
        .into_response()
}

/// `GET /docs`: a page that renders the OpenAPI document, with no assets from elsewhere.
pub(super) async fn docs() -> Html<&'static str> {
    Html(openapi::DOCS_HTML)
}
