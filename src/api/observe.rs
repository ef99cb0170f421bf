//! The middleware every request passes: a request id, a tracing span, the query-length and
//! concurrency limits, latency metrics, an access log line with personal numbers masked, and the
//! one error shape for errors made outside the handlers (router, layers).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use super::{ApiError, AppState};

/// The response (and accepted request) header carrying the request id.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

tokio::task_local! {
    static REQUEST_ID: Arc<str>;
}

/// The id of the request being served on this task, if any.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(|id| id.to_string()).ok()
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn new_request_id(prefix: u32) -> String {
    format!("{prefix:08x}-{:x}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// An id the client sent, if it is short and plain enough to log.
fn client_request_id(req: &Request) -> Option<String> {
    let v = req.headers().get(REQUEST_ID_HEADER)?.to_str().ok()?;
    (!v.is_empty()
        && v.len() <= 64
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    .then(|| v.to_string())
}

/// The middleware (see the module docs).
pub async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id: Arc<str> = client_request_id(&req)
        .unwrap_or_else(|| new_request_id(state.id_prefix))
        .into();
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let route_str = route.as_ref().map(|r| r.as_str());
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %method,
        route = route_str.unwrap_or("unmatched"),
    );
    let query_len = req.uri().query().map_or(0, str::len);
    let logged_uri = tracing::enabled!(target: "dizhi::access", tracing::Level::INFO)
        .then(|| mask_personal(&percent_decode(&req.uri().to_string())));

    state.metrics.in_flight(1);
    let response = if query_len > state.limits.max_query_bytes {
        ApiError::UriTooLong(format!(
            "the query string is {query_len} bytes; the limit is {}",
            state.limits.max_query_bytes
        ))
        .into_response()
    } else {
        match state.in_flight.clone().try_acquire_owned() {
            Ok(permit) => {
                let r = REQUEST_ID
                    .scope(id.clone(), next.run(req))
                    .instrument(span.clone())
                    .await;
                drop(permit);
                r
            }
            Err(_) => ApiError::Overloaded.into_response(),
        }
    };
    let mut response = REQUEST_ID
        .scope(id.clone(), async { ensure_error_shape(response) })
        .instrument(span.clone())
        .await;
    state.metrics.in_flight(-1);
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, v);
    }
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    state
        .metrics
        .record(method.as_str(), route_str, status, elapsed);
    if let Some(uri) = logged_uri {
        tracing::info!(
            target: "dizhi::access",
            parent: &span,
            status,
            micros = elapsed.as_micros() as u64,
            uri = %uri,
            "request"
        );
    }
    response
}

/// An error response made by the router or a layer (404, 405, 408, 413, a panic …) in the API's
/// error shape; handler errors already have it.
fn ensure_error_shape(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        return response;
    }
    let mut shaped = ApiError::from_status(status).into_response();
    *shaped.status_mut() = status;
    if let Some(allow) = response.headers().get(header::ALLOW) {
        shaped.headers_mut().insert(header::ALLOW, allow.clone());
    }
    shaped
}

pub use crate::text::personal::mask_personal;

/// Percent-decodes a URI for the log (`+` as a space; invalid UTF-8 replaced).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex_val(bytes[i + 1]), hex_val(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_val(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_masks_a_logged_uri() {
        let uri = "/v1/normalize?q=%E5%8D%8E%E8%85%BE%E8%B7%AF88%E5%8F%B7+13812345678";
        assert_eq!(
            mask_personal(&percent_decode(uri)),
            "/v1/normalize?q=华腾路88号 138******78"
        );
        assert_eq!(percent_decode("%zz%E5"), "%zz\u{fffd}");
        assert_eq!(percent_decode("a%"), "a%");
    }

    #[test]
    fn masks_full_width_digits() {
        assert_eq!(mask_personal("１３８１２３４５６７８"), "１３８******７８");
    }
}
