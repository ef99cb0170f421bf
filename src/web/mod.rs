//! The web page `dizhi serve` shows at `/`: plain HTML, CSS and JavaScript drawing footprints and
//! roads on a canvas, embedded in the binary. It works with no internet: no tile server, no CDN,
//! and a Content-Security-Policy that lets the page talk to this server only.
//!
//! | asset | what |
//! |---|---|
//! | `assets/index.html` | the page: search, result, map, batch |
//! | `assets/app.js` | every API call in one `api` object; suggestions, result, map, batch, objections |
//! | `assets/steward.js` | the steward view: anomaly queue, evidence and its map, review actions; dashboard |
//! | `assets/style.css` | readable at 1366×768, focus always visible |
//!
//! The page needs no key for lookups on loopback; it asks for one (kept in `sessionStorage`) when
//! a request answers 401/403. Its routes are not API operations, so they are not in the OpenAPI
//! document.

use std::sync::LazyLock;

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

/// The page.
pub const INDEX_HTML: &str = include_str!("assets/index.html");
/// The page's script.
pub const APP_JS: &str = include_str!("assets/app.js");
/// The steward view's script (the anomaly queue and the dashboard).
pub const STEWARD_JS: &str = include_str!("assets/steward.js");
/// The page's style sheet.
pub const STYLE_CSS: &str = include_str!("assets/style.css");

/// The page's Content-Security-Policy: its own scripts, styles and API only; `data:` and `blob:`
/// images for the favicon and the GeoJSON export.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; form-action 'self'; \
    base-uri 'none'; frame-ancestors 'none'";

/// An embedded asset with its content type and a strong ETag (a hash of its bytes).
struct Asset {
    body: &'static str,
    content_type: &'static str,
    etag: String,
}

impl Asset {
    fn new(body: &'static str, content_type: &'static str) -> Asset {
        let digest = Sha256::digest(body.as_bytes());
        let etag = format!(
            "\"{}\"",
            digest[..8]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        Asset {
            body,
            content_type,
            etag,
        }
    }

    /// The asset, or 304 when the browser has this version. `no-cache`: the browser revalidates
    /// every time (one small request), so a new binary's page is never mixed with an old script.
    fn respond(&self, request: &HeaderMap) -> Response {
        let fresh = request
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|t| t.trim() == self.etag));
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        if let Ok(v) = HeaderValue::from_str(&self.etag) {
            headers.insert(header::ETAG, v);
        }
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        if fresh {
            (StatusCode::NOT_MODIFIED, headers).into_response()
        } else {
            (headers, self.body).into_response()
        }
    }
}

static INDEX: LazyLock<Asset> =
    LazyLock::new(|| Asset::new(INDEX_HTML, "text/html; charset=utf-8"));
static APP: LazyLock<Asset> =
    LazyLock::new(|| Asset::new(APP_JS, "text/javascript; charset=utf-8"));
static STEWARD: LazyLock<Asset> =
    LazyLock::new(|| Asset::new(STEWARD_JS, "text/javascript; charset=utf-8"));
static STYLE: LazyLock<Asset> = LazyLock::new(|| Asset::new(STYLE_CSS, "text/css; charset=utf-8"));

/// The page's routes (no key needed): `/`, `/assets/app.js`, `/assets/steward.js`,
/// `/assets/style.css`.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(|h: HeaderMap| async move { INDEX.respond(&h) }))
        .route(
            "/assets/app.js",
            get(|h: HeaderMap| async move { APP.respond(&h) }),
        )
        .route(
            "/assets/steward.js",
            get(|h: HeaderMap| async move { STEWARD.respond(&h) }),
        )
        .route(
            "/assets/style.css",
            get(|h: HeaderMap| async move { STYLE.respond(&h) }),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_nothing_from_elsewhere() {
        for text in [INDEX_HTML, APP_JS, STEWARD_JS, STYLE_CSS] {
            assert!(!text.contains("http://") && !text.contains("https://"));
            assert!(!text.contains("//cdn") && !text.contains("@import"));
        }
        assert!(INDEX_HTML.contains("/assets/app.js") && INDEX_HTML.contains("/assets/style.css"));
        assert!(INDEX_HTML.contains("/assets/steward.js"));
        // No inline script or style: the CSP forbids them.
        assert!(!INDEX_HTML.contains("<script>") && !INDEX_HTML.contains("style="));
    }
}
