//! The routes, one file per resource. Every route here is also in the OpenAPI document
//! ([`super::openapi`]); a test checks that they agree.

mod addresses;
mod admin;
mod anomalies;
mod batch;
mod buildings;
pub(crate) use buildings::CancelOnDrop;
mod health;
mod lookup;
mod map;
mod objections;
mod steward;
mod tags;
mod text;

use axum::Router;
use axum::routing::{get, post, put};

use super::AppState;

/// Every route of the API.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        // Operations.
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/openapi.json", get(health::openapi_json))
        .route("/docs", get(health::docs))
        // Lookups (role hotline and up; anonymous on loopback without a config).
        .route(
            "/v1/normalize",
            get(lookup::normalize_one).post(lookup::normalize_many),
        )
        .route("/v1/suggest", get(lookup::suggest))
        .route("/v1/coverage", get(lookup::coverage))
        .route("/v1/parse", get(lookup::parse))
        .route("/v1/compare", get(lookup::compare))
        .route("/v1/reverse", get(buildings::reverse))
        .route("/v1/addresses/{id}", get(addresses::address))
        .route("/v1/buildings/{id}", get(buildings::building))
        .route("/v1/map", get(map::map))
        // Spatial queries and export (role gis and up).
        .route("/v1/buildings", get(buildings::in_box))
        .route("/v1/buildings/at", get(buildings::at))
        .route("/v1/buildings/near", get(buildings::near))
        .route("/v1/buildings/within", post(buildings::within))
        .route("/v1/export/buildings", get(buildings::export))
        // Admin (role admin): keys and the audit log. Every write is audited.
        .route(
            "/v1/admin/keys",
            get(admin::list_keys).post(admin::create_key),
        )
        .route(
            "/v1/admin/keys/{id}",
            axum::routing::delete(admin::revoke_key),
        )
        .route("/v1/admin/audit", get(admin::audit))
        // Batch jobs (role hotline and up; a job is seen by the key that made it only). The
        // uploads are in `uploads()`.
        .route("/v1/batch/{id}", get(batch::job).delete(batch::remove))
        .route("/v1/batch/{id}/result", get(batch::result))
        // Governance: the anomaly queue (reads gis and up, writes steward), address tags
        // (reads hotline and up, writes steward), objections (any key). Every write is one
        // transaction of `crate::fuse` with its review and audit rows (an objection: the anomaly or
        // its re-open, the note and the audit row), within `WRITE_DEADLINE` or 503 busy.
        .route("/v1/anomalies", get(anomalies::list))
        .route("/v1/anomalies/summary", get(anomalies::summary))
        .route("/v1/anomalies/dashboard", get(steward::dashboard))
        .route("/v1/anomalies/report", get(steward::report))
        .route("/v1/anomalies/{id}/evidence", get(steward::evidence))
        .route("/v1/me", get(steward::me))
        .route("/v1/anomalies/{id}", get(anomalies::one))
        .route("/v1/anomalies/{id}/status", post(anomalies::set_status))
        .route("/v1/anomalies/{id}/comments", post(anomalies::comment))
        .route("/v1/anomalies/{id}/assignee", put(anomalies::assign))
        .route("/v1/tags", get(tags::vocabulary))
        .route("/v1/tags/{tag}/addresses", get(tags::addresses))
        .route("/v1/addresses/{id}/tags", put(tags::set))
        .route("/v1/objections", post(objections::file))
}

/// The routes that take a file upload, served with the `[jobs]` upload size limit and time
/// instead of the body limit and request timeout.
pub(super) fn uploads() -> Router<AppState> {
    Router::new()
        .route("/v1/batch", post(batch::create))
        .route("/v1/batch/inspect", post(batch::inspect))
}
