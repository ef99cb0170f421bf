//! The HTTP API: the whole engine over JSON under `/v1`, with keys and roles, limits, one error
//! shape, request ids, Prometheus metrics and an OpenAPI document.
//!
//! Start-up is explicit: [`AppState::build`] opens (or first builds) the data directory, loads the
//! matcher, the footprint R-tree and the keys once; [`app`] turns a state into a [`Router`], so
//! tests can serve it on any listener. [`serve`] runs it until Ctrl-C.
//!
//! | layer | file |
//! |---|---|
//! | state, router, serve | `mod.rs` |
//! | errors → responses, JSON/query/path extractors | [`error`] |
//! | keys, roles, the `Authorized` extractor | [`auth`] |
//! | request id, limits, access log, metrics recording | [`observe`] |
//! | the audit log of writes | [`audit`] |
//! | batch jobs: uploads, queue, runners, expiry | [`jobs`] |
//! | Prometheus text | [`metrics`] |
//! | the OpenAPI document and the docs page | [`openapi`] |
//! | handlers, one file per resource | `routes/` |

pub mod audit;
pub mod auth;
pub mod config;
pub mod error;
pub mod guard;
pub mod jobs;
pub mod metrics;
pub mod observe;
pub mod openapi;
pub mod private;
mod routes;
pub mod toml_file;

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::timeout::TimeoutLayer;

pub use auth::Role;
pub use config::{Config, ConfigError, JobsConfig, Limits};
pub use error::{ApiError, ApiJson, ApiPath, ApiQuery};
pub use observe::mask_personal;

use crate::Dictionaries;
use crate::search::{AddressIndex, Matcher};
use crate::spatial::FootprintIndex;
use crate::store::Store;

/// What can stop the server from starting.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The dictionaries did not load.
    #[error("dictionaries: {0}")]
    Dictionaries(#[from] crate::dictionaries::DictionaryError),
    /// The data directory could not be opened or built.
    #[error(transparent)]
    Setup(#[from] crate::setup::Error),
    /// The search index could not be opened.
    #[error(transparent)]
    Search(#[from] crate::search::Error),
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] crate::store::Error),
    /// The keys could not be read or the first admin key written.
    #[error("keys: {0}")]
    Keys(#[from] auth::KeyError),
}

/// A few store connections: `Store` is `Send` but not `Sync`, so each is used by one request at
/// a time, on a blocking thread.
pub struct StorePool {
    stores: Vec<std::sync::Mutex<Store>>,
    next: AtomicUsize,
}

impl StorePool {
    /// `n` connections to the store of `data_dir`.
    pub fn open(data_dir: &Path, n: usize) -> Result<StorePool, crate::store::Error> {
        let stores = (0..n.max(1))
            .map(|_| Store::open(data_dir).map(std::sync::Mutex::new))
            .collect::<Result<_, _>>()?;
        Ok(StorePool {
            stores,
            next: AtomicUsize::new(0),
        })
    }

    /// Runs `f` with one of the connections (blocking: call it from a blocking thread).
    pub fn with<R>(&self, f: impl FnOnce(&Store) -> R) -> R {
        self.with_mut(|store| f(store))
    }

    /// [`StorePool::with`] for the library calls that take `&mut Store` (the fusion writes).
    pub fn with_mut<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        let n = self.stores.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        // A free connection if there is one, else wait for ours.
        for k in 0..n {
            if let Ok(mut store) = self.stores[(start + k) % n].try_lock() {
                return f(&mut store);
            }
        }
        let mut store = self.stores[start % n]
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        f(&mut store)
    }
}

/// Everything a request may need, built once at start-up and shared.
pub struct Inner {
    /// The normalizer (parser, index, alias tables).
    pub matcher: Matcher,
    /// Building footprints in an R-tree.
    pub footprints: FootprintIndex,
    /// Road centre lines in an R-tree (for the map).
    pub roads: crate::spatial::roads::RoadIndex,
    /// Store connections.
    pub stores: StorePool,
    /// A connection of its own for `/readyz`, so a health check never waits for (or takes) one
    /// of the pool's.
    pub health_store: std::sync::Mutex<Store>,
    /// API keys.
    pub keys: auth::KeyRing,
    /// Who may make lookups without a key ([`guard`]).
    pub anonymous: guard::Anonymous,
    /// Request metrics.
    pub metrics: metrics::Metrics,
    /// Request limits.
    pub limits: Limits,
    /// CORS origins (empty: CORS off).
    pub cors_origins: Vec<String>,
    /// Permits for requests in flight.
    pub in_flight: Arc<Semaphore>,
    /// Permits for heavy requests, so they cannot take every store connection.
    pub heavy: Semaphore,
    /// The prefix of generated request ids (random per process).
    pub id_prefix: u32,
    /// The data directory.
    pub data_dir: PathBuf,
    /// Addresses in the store at start-up.
    pub addresses: u64,
    /// Batch jobs.
    pub jobs: Arc<jobs::Jobs>,
    /// Held by [`AppState::blocking_mut`]: SQLite has one writer, and a transaction that reads
    /// before it writes fails (`SQLITE_BUSY`) when another connection commits in between, so the
    /// API's own writes take turns (waiting for a turn counts against [`WRITE_DEADLINE`]).
    pub writer: Arc<tokio::sync::Mutex<()>>,
}

/// The shared state of the API (cheap to clone).
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// What [`AppState::build`] did besides building the state.
#[derive(Debug, Clone)]
pub struct Startup {
    /// The bundled district was just built into the data directory.
    pub built: bool,
    /// Where a fresh admin key was written, if one was created.
    pub admin_key_file: Option<PathBuf>,
    /// Whether lookups need no key.
    pub anonymous_lookups: bool,
    /// Addresses and buildings loaded.
    pub addresses: u64,
    /// Buildings loaded.
    pub buildings: usize,
}

impl AppState {
    /// Opens `data_dir` (building the bundled district into an empty one), loads the matcher, the
    /// footprints and the keys. `config` is the `--config` file if one was given; `loopback` says
    /// whether the server listens on a loopback address only.
    ///
    /// Without a config, lookups need no key on loopback; with one, only if it says
    /// `anonymous_lookups = true`. When no admin key exists, one is created in the data directory.
    pub fn build(
        data_dir: &Path,
        config: Option<Config>,
        loopback: bool,
    ) -> Result<(AppState, Startup), StartError> {
        let dicts = Dictionaries::embedded()?;
        let (store, built) = crate::setup::open_or_build_bundled(data_dir, &dicts)?;
        if let Err(e) = private::harden_data_dir(data_dir) {
            // A directory of another user's (read-only here) is served as it is, said loudly.
            tracing::warn!(
                "cannot make {} private (0700/0600): {e}",
                data_dir.display()
            );
        }
        let addresses = store.summary()?.addresses;
        let footprints = crate::spatial::answer::index_from_store(&store)?;
        let roads = crate::spatial::roads::RoadIndex::new(store.roads()?);
        drop(store);
        let matcher = Matcher::new(AddressIndex::open(data_dir)?, &dicts)?;
        // Connections for the heavy requests, and as many again for everything else.
        let heavy = config
            .as_ref()
            .map_or(Limits::default().max_heavy, |c| c.limits.max_heavy);
        let stores = StorePool::open(data_dir, heavy.max(1) + 4)?;
        let health_store = std::sync::Mutex::new(Store::open(data_dir)?);
        let anonymous = match &config {
            None if loopback => guard::Anonymous::LoopbackOnly,
            None => guard::Anonymous::Off,
            Some(c) if c.anonymous_lookups == Some(true) => guard::Anonymous::Anyone,
            Some(_) => guard::Anonymous::Off,
        };
        let anonymous_lookups = anonymous != guard::Anonymous::Off;
        let config = config.unwrap_or_default();
        let keys = auth::KeyRing::load(data_dir, &config.keys, anonymous_lookups)?;
        let admin_key_file = auth::ensure_admin_key(&keys, data_dir)?;
        let jobs = Arc::new(jobs::Jobs::open(data_dir, &config.jobs));
        let metrics = metrics::Metrics::new(
            openapi::operations()
                .iter()
                .map(|(m, p)| (m.as_str(), p.as_str())),
        );
        let mut prefix = [0u8; 4];
        rand::fill(&mut prefix[..]);
        let startup = Startup {
            built,
            admin_key_file,
            anonymous_lookups,
            addresses,
            buildings: footprints.len(),
        };
        let state = Inner {
            matcher,
            footprints,
            roads,
            stores,
            health_store,
            keys,
            anonymous,
            metrics,
            in_flight: Arc::new(Semaphore::new(config.limits.max_concurrency.max(1))),
            heavy: Semaphore::new(config.limits.max_heavy.max(1)),
            limits: config.limits,
            cors_origins: config.cors_origins,
            id_prefix: u32::from_le_bytes(prefix),
            data_dir: data_dir.to_path_buf(),
            addresses,
            jobs,
            writer: Arc::default(),
        };
        let state = AppState(Arc::new(state));
        jobs::Jobs::start(&state);
        Ok((state, startup))
    }

    /// Waits for a heavy-request permit (see [`Limits::max_heavy`]).
    pub async fn heavy_permit(&self) -> Result<tokio::sync::SemaphorePermit<'_>, ApiError> {
        self.heavy.acquire().await.map_err(ApiError::from)
    }

    /// Runs `f` with a store connection on a blocking thread.
    pub async fn blocking<R: Send + 'static>(
        &self,
        f: impl FnOnce(&AppState, &Store) -> Result<R, ApiError> + Send + 'static,
    ) -> Result<R, ApiError> {
        let state = self.clone();
        tokio::task::spawn_blocking(move || state.stores.with(|store| f(&state, store))).await?
    }

    /// [`AppState::blocking`] with a `&mut Store` (the fusion library's calls take one), one
    /// call at a time (see [`Inner::writer`]), all within [`WRITE_DEADLINE`]: `f` gets the
    /// deadline (for [`retrying`]), and a call whose turn comes too late is [`ApiError::Busy`]
    /// without running. The fusion writes sync their commits themselves (`synchronous = FULL`).
    pub async fn blocking_mut<R: Send + 'static>(
        &self,
        f: impl FnOnce(&AppState, &mut Store, Instant) -> Result<R, ApiError> + Send + 'static,
    ) -> Result<R, ApiError> {
        // Two fifths of a request timeout configured below 10 s, so the answer is never sent first.
        let timeout = Duration::from_millis(self.limits.request_timeout_ms.max(1));
        let deadline = Instant::now() + WRITE_DEADLINE.min(timeout * 2 / 5);
        let turn = tokio::time::timeout_at(deadline.into(), self.writer.clone().lock_owned())
            .await
            .map_err(|_| ApiError::Busy)?;
        let state = self.clone();
        tokio::task::spawn_blocking(move || {
            let _turn = turn;
            state.stores.with_mut(|store| {
                if Instant::now() >= deadline {
                    return Err(ApiError::Busy);
                }
                let done = f(&state, store, deadline);
                // Back to the pool with the usual wait for a lock (see `retrying`).
                let reset = store.connection().busy_timeout(crate::store::BUSY_TIMEOUT);
                let value = done?;
                reset?;
                Ok(value)
            })
        })
        .await?
    }
}

/// How long a write of the API may take in all — its turn among the API's writes, SQLite's wait
/// for another process's lock, its tries — well under the request timeout (10 s by default), so
/// that no write can still commit after its request was answered with an error.
pub const WRITE_DEADLINE: Duration = Duration::from_secs(4);

/// The pause between two tries of [`retrying`].
const RETRY_PAUSE: Duration = Duration::from_millis(100);

/// Runs a fusion write again while another process (the CLI, an import) holds the database —
/// a failed try has rolled back whole — until `deadline`: each try waits for SQLite's lock only
/// as long as is left, and the error after the last is [`crate::fuse::Error::is_busy`], which
/// [`ApiError::from_fuse`] answers as [`ApiError::Busy`].
pub fn retrying<T>(
    store: &mut Store,
    deadline: Instant,
    mut f: impl FnMut(&mut Store) -> crate::fuse::Result<T>,
) -> crate::fuse::Result<T> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        store
            .connection()
            .busy_timeout(left.max(Duration::from_millis(1)))?;
        match f(store) {
            Err(e) if e.is_busy() && Instant::now() + RETRY_PAUSE * 2 < deadline => {
                std::thread::sleep(RETRY_PAUSE)
            }
            done => return done,
        }
    }
}

/// The API as a router over `state`: `/healthz`, `/readyz`, `/metrics`, `/openapi.json`,
/// `/docs`, everything under `/v1` and the web page at `/` ([`crate::web`]), behind the limits,
/// the error shape and the request log.
pub fn app(state: AppState) -> Router {
    let limits = &state.limits;
    // Uploads have their own size limit and time (a large file on a slow line).
    let uploads = routes::uploads()
        .layer(DefaultBodyLimit::max(state.jobs.config().max_upload_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_millis(state.jobs.config().upload_timeout_ms.max(1)),
        ));
    let mut router = routes::router()
        .merge(crate::web::router())
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_millis(limits.request_timeout_ms.max(1)),
        ))
        .merge(uploads)
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::Internal("a handler panicked".into()).into_response()
        }));
    if !state.cors_origins.is_empty() {
        let origins: Vec<HeaderValue> = state
            .cors_origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect();
        router = router.layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(origins))
                .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
                .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]),
        );
    }
    router
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::guard,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            observe::observe,
        ))
        .with_state(state)
}

pub use guard::serve;
pub use private::private_temp_dir;

/// A response body read from `file` in chunks on a blocking thread: the file is never held in
/// memory whole, and the reading stops when the response is dropped (`cancel` is dropped with the
/// body).
pub(crate) fn stream_file(file: std::fs::File, cancel: routes::CancelOnDrop) -> axum::body::Body {
    use std::io::Read;
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Vec<u8>>>(4);
    tokio::task::spawn_blocking(move || {
        let mut file = file;
        loop {
            let mut chunk = vec![0u8; 256 * 1024];
            match file.read(&mut chunk) {
                Ok(0) => return,
                Ok(n) => {
                    chunk.truncate(n);
                    if tx.blocking_send(Ok(chunk)).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            }
        }
    });
    let stream = futures_util::stream::unfold((rx, cancel), |(mut rx, cancel)| async move {
        rx.recv().await.map(|chunk| (chunk, (rx, cancel)))
    });
    axum::body::Body::from_stream(stream)
}

/// A JSON response with a status.
pub(crate) fn json_status(status: StatusCode, body: impl serde::Serialize) -> Response {
    (status, axum::Json(body)).into_response()
}
