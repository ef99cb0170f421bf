//! The one place where errors become HTTP responses: `{"error": {"code", "message"}}`.
//!
//! Handlers return [`ApiError`]; the extractors ([`ApiJson`], [`ApiQuery`], [`ApiPath`]) turn
//! axum's rejections into it, so a malformed body or query comes back in the same shape. Internal
//! errors are logged with the request id; the client gets the code, a fixed message and the id.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// An error answer of the API.
///
/// # Examples
/// ```
/// use axum::response::IntoResponse;
/// use dizhi::api::ApiError;
/// let r = ApiError::NotFound("no address A1".into()).into_response();
/// assert_eq!(r.status(), 404);
/// assert_eq!(ApiError::BadRequest("x".into()).code(), "bad_request");
/// ```
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A query or path parameter is missing or malformed (400).
    #[error("{0}")]
    BadRequest(String),
    /// The body is not valid JSON (400).
    #[error("{0}")]
    InvalidJson(String),
    /// No key, or a key that is not valid (401).
    #[error("{0}")]
    Unauthorized(String),
    /// A valid key whose role may not do this (403).
    #[error("{0}")]
    Forbidden(String),
    /// No such route or entity (404).
    #[error("{0}")]
    NotFound(String),
    /// The route exists but not with this method (405).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The entity is in a state that forbids this (409).
    #[error("{0}")]
    Conflict(String),
    /// The body, or the number of items in it, is over the limit (413).
    #[error("{0}")]
    PayloadTooLarge(String),
    /// The query string is over the limit (414).
    #[error("{0}")]
    UriTooLong(String),
    /// The body is not JSON (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The body is JSON of the wrong shape (422).
    #[error("{0}")]
    InvalidBody(String),
    /// A box larger than the endpoint draws (422), e.g. a map view zoomed too far out.
    #[error("{0}")]
    BoxTooLarge(String),
    /// The server is at its concurrency limit (503).
    #[error("the server is busy: try again")]
    Overloaded,
    /// A service is off or full, with why (503): the batch job queue, for one.
    #[error("{0}")]
    Unavailable(String),
    /// The address database stayed locked by another writer (the CLI, an import) for as long as
    /// a write may wait (503): nothing was written.
    #[error("the address database is busy, try again")]
    Busy,
    /// The request took longer than the limit (503).
    #[error("the request took too long")]
    Timeout,
    /// Anything else (500): the detail is logged, never sent.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// An internal error from any displayable cause.
    pub fn internal(e: impl std::fmt::Display) -> ApiError {
        ApiError::Internal(e.to_string())
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) | ApiError::InvalidJson(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UriTooLong(_) => StatusCode::URI_TOO_LONG,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::InvalidBody(_) | ApiError::BoxTooLarge(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Overloaded
            | ApiError::Busy
            | ApiError::Timeout
            | ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::InvalidJson(_) => "invalid_json",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::Conflict(_) => "conflict",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::UriTooLong(_) => "uri_too_long",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::InvalidBody(_) => "invalid_body",
            ApiError::BoxTooLarge(_) => "box_too_large",
            ApiError::Overloaded => "overloaded",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Busy => "busy",
            ApiError::Timeout => "timeout",
            ApiError::Internal(_) => "internal",
        }
    }

    /// The error for a bare status produced outside the handlers (a layer, the router), so that
    /// every error has the same shape.
    pub fn from_status(status: StatusCode) -> ApiError {
        match status.as_u16() {
            401 => ApiError::Unauthorized("a valid API key is required".into()),
            403 => ApiError::Forbidden("this key's role may not do this".into()),
            404 => ApiError::NotFound("no such resource".into()),
            405 => ApiError::MethodNotAllowed,
            408 | 503 => ApiError::Timeout,
            413 => ApiError::PayloadTooLarge("the request body is too large".into()),
            414 => ApiError::UriTooLong("the request URI is too long".into()),
            415 => ApiError::UnsupportedMediaType("expected application/json".into()),
            422 => ApiError::InvalidBody("the request body is not valid".into()),
            s if (400..500).contains(&s) => ApiError::BadRequest(
                status
                    .canonical_reason()
                    .unwrap_or("bad request")
                    .to_lowercase(),
            ),
            _ => ApiError::Internal(format!("status {status} from a layer")),
        }
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            ApiError::Internal(detail) => {
                let id = super::observe::current_request_id().unwrap_or_default();
                tracing::error!(request_id = %id, error = %detail, "internal error");
                format!("internal error (request id {id})")
            }
            other => other.to_string(),
        };
        let body = Body {
            error: Inner {
                code: self.code(),
                message,
            },
        };
        (status, Json(body)).into_response()
    }
}

/// A JSON body whose rejections are [`ApiError`]s.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(r: JsonRejection) -> ApiError {
    let text = r.body_text();
    match r {
        JsonRejection::JsonDataError(_) => ApiError::InvalidBody(text),
        JsonRejection::JsonSyntaxError(_) => ApiError::InvalidJson(text),
        JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType(
            "expected a body with Content-Type: application/json".into(),
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::PayloadTooLarge("the request body is too large".into())
        }
        _ => ApiError::BadRequest(text),
    }
}

/// Query parameters whose rejections are [`ApiError`]s (400).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|r: QueryRejection| ApiError::BadRequest(r.body_text()))
    }
}

/// Path parameters whose rejections are [`ApiError`]s (400).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|r: PathRejection| ApiError::BadRequest(r.body_text()))
    }
}

// ---- The fusion layer's errors (the governance routes) ------------------------------------

impl ApiError {
    /// A fusion-layer error as an answer: an unknown entity 404, a locked database `busy` (503),
    /// a refused request `refused` (409 for a move the anomaly's state forbids, 422 for a body
    /// the call cannot take), anything else internal.
    ///
    /// # Examples
    /// ```
    /// use dizhi::api::ApiError;
    /// let e = ApiError::from_fuse(dizhi::fuse::Error::NotFound("anomaly 7".into()), ApiError::Conflict);
    /// assert_eq!((e.status().as_u16(), e.to_string()), (404, "no anomaly 7".to_string()));
    /// let e = ApiError::from_fuse(dizhi::fuse::Error::Invalid("no".into()), ApiError::Conflict);
    /// assert_eq!(e.code(), "conflict");
    /// ```
    pub fn from_fuse(e: crate::fuse::Error, refused: fn(String) -> ApiError) -> ApiError {
        match e {
            e if e.is_busy() => ApiError::Busy,
            crate::fuse::Error::NotFound(m) => ApiError::NotFound(format!("no {m}")),
            crate::fuse::Error::Invalid(m) => refused(m),
            e => ApiError::internal(e),
        }
    }
}

/// A batch input error: the caller's file (422, 413 for a sheet too large to read) or the
/// server's (500).
impl From<crate::batch::Error> for ApiError {
    fn from(e: crate::batch::Error) -> ApiError {
        use crate::batch::Error;
        match e {
            Error::Io(e) => ApiError::internal(e),
            Error::Empty => ApiError::InvalidBody("the file is empty (no header row)".into()),
            Error::SheetTooLarge { .. } | Error::WorkbookTooLarge { .. } => {
                ApiError::PayloadTooLarge(e.to_string())
            }
            Error::Busy(_) => ApiError::Busy,
            Error::Sheet(..) | Error::Usage(_) => ApiError::InvalidBody(e.to_string()),
            other => ApiError::InvalidBody(format!("the file cannot be read: {other}")),
        }
    }
}

/// A multipart form that cannot be read: over the size limit (413), else malformed (400).
impl From<axum::extract::multipart::MultipartError> for ApiError {
    fn from(e: axum::extract::multipart::MultipartError) -> ApiError {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge("the upload is over the size limit".into())
        } else {
            ApiError::BadRequest(format!("the form could not be read: {}", e.body_text()))
        }
    }
}

// ---- Server-side failures: one `From` per layer -----------------------------------------------

fn sqlite_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// SQLite: `busy` (503) while another connection writes, else internal (500).
impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> ApiError {
        if sqlite_busy(&e) {
            ApiError::Busy
        } else {
            ApiError::internal(e)
        }
    }
}

/// The store: `busy` (503) while another connection writes, else internal (500).
impl From<crate::store::Error> for ApiError {
    fn from(e: crate::store::Error) -> ApiError {
        match e {
            crate::store::Error::Sqlite(e) => ApiError::from(e),
            e => ApiError::internal(e),
        }
    }
}

/// The fusion layer, where the route has no more particular answer for a refused request
/// ([`ApiError::from_fuse`]): 404, 503, 422, else 500.
impl From<crate::fuse::Error> for ApiError {
    fn from(e: crate::fuse::Error) -> ApiError {
        ApiError::from_fuse(e, ApiError::InvalidBody)
    }
}

/// The search layer (the index failed): internal (500).
impl From<crate::search::Error> for ApiError {
    fn from(e: crate::search::Error) -> ApiError {
        ApiError::internal(e)
    }
}

/// A file of the server's own (a job, an export) could not be read or written: internal (500).
impl From<std::io::Error> for ApiError {
    fn from(e: std::io::Error) -> ApiError {
        ApiError::internal(e)
    }
}

/// A GIS file the server writes itself (an export): internal (500).
impl From<crate::gis::Error> for ApiError {
    fn from(e: crate::gis::Error) -> ApiError {
        ApiError::internal(e)
    }
}

/// A CSV the server writes itself (a report): internal (500).
impl From<csv::Error> for ApiError {
    fn from(e: csv::Error) -> ApiError {
        ApiError::internal(e)
    }
}

impl<W> From<csv::IntoInnerError<W>> for ApiError {
    fn from(e: csv::IntoInnerError<W>) -> ApiError {
        ApiError::internal(e.error())
    }
}

/// A blocking task panicked or was cancelled: internal (500).
impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> ApiError {
        ApiError::internal(e)
    }
}

/// The heavy-request semaphore was closed (only at shutdown): internal (500).
impl From<tokio::sync::AcquireError> for ApiError {
    fn from(e: tokio::sync::AcquireError) -> ApiError {
        ApiError::internal(e)
    }
}
