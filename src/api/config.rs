//! The server's config file (`--config FILE`, TOML): anonymous access, CORS, request limits,
//! API keys and batch jobs. Read once at start; its own module because the keys, the jobs and the
//! router all take their part of it.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::auth::{InvalidKey, KeyEntry, valid_entry};
use super::toml_file::{TomlFileError, read_toml};

/// The server's config file (`--config FILE`, TOML).
///
/// # Examples
/// ```
/// let c: dizhi::api::Config = toml::from_str(r#"
/// anonymous_lookups = false
/// cors_origins = ["https://map.example.org"]
/// [limits]
/// max_batch = 500
/// [[keys]]
/// id = "ops"
/// role = "gis"
/// hash = "sha256$00$00"
/// "#).unwrap();
/// assert_eq!(c.limits.max_batch, 500);
/// assert_eq!(c.limits.max_body_bytes, 2 * 1024 * 1024);
/// assert_eq!(c.keys[0].role, dizhi::api::auth::Role::Gis);
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Lookups without a key. Default: allowed only when serving on a loopback address without a
    /// config file.
    pub anonymous_lookups: Option<bool>,
    /// Origins allowed by CORS; empty (the default) means CORS is off.
    #[serde(default)]
    pub cors_origins: Vec<String>,
    /// Request limits.
    #[serde(default)]
    pub limits: Limits,
    /// API keys.
    #[serde(default)]
    pub keys: Vec<KeyEntry>,
    /// Batch jobs: upload and row limits, queue, expiry.
    #[serde(default)]
    pub jobs: JobsConfig,
}

/// Limits on what one request may ask for.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest request body.
    pub max_body_bytes: usize,
    /// Longest query string (bytes, percent-encoded).
    pub max_query_bytes: usize,
    /// Longest address text (characters).
    pub max_address_chars: usize,
    /// Most addresses in one `POST /v1/normalize`.
    pub max_batch: usize,
    /// Most buildings in one spatial answer.
    pub max_buildings: usize,
    /// Most vertices in the polygons of one `POST /v1/buildings/within`.
    pub max_polygon_vertices: usize,
    /// Most heavy requests (polygon, box and distance queries, export) running at once; more wait.
    pub max_heavy: usize,
    /// Longest a request may take.
    pub request_timeout_ms: u64,
    /// Most requests in flight; more get 503.
    pub max_concurrency: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 2 * 1024 * 1024,
            max_query_bytes: 4096,
            max_address_chars: 512,
            max_batch: 1000,
            max_buildings: 10_000,
            max_polygon_vertices: 2_000,
            max_heavy: 2,
            request_timeout_ms: 10_000,
            max_concurrency: 1024,
        }
    }
}

/// The `[jobs]` section of the server config.
///
/// # Examples
/// ```
/// let c: dizhi::api::Config = toml::from_str("[jobs]\nmax_upload_bytes = 1000\n").unwrap();
/// assert_eq!(c.jobs.max_upload_bytes, 1000);
/// assert_eq!(c.jobs.max_running, 1);
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JobsConfig {
    /// Where jobs live; default `DATA/jobs`.
    pub dir: Option<PathBuf>,
    /// Largest upload (the whole multipart request).
    pub max_upload_bytes: usize,
    /// Most data rows in one file.
    pub max_rows: u64,
    /// Jobs running at once; more wait.
    pub max_running: usize,
    /// Jobs waiting; more uploads are refused (503).
    pub max_queued: usize,
    /// Finished jobs kept; beyond this the oldest go before their time.
    pub max_kept: usize,
    /// How long a finished job and its files are kept.
    pub ttl_secs: u64,
    /// Threads of one running job; 0: half the cores (at least one).
    pub threads: usize,
    /// Longest an upload request may take.
    pub upload_timeout_ms: u64,
}

impl Default for JobsConfig {
    fn default() -> Self {
        JobsConfig {
            dir: None,
            max_upload_bytes: 64 * 1024 * 1024,
            max_rows: 500_000,
            max_running: 1,
            max_queued: 16,
            max_kept: 200,
            ttl_secs: 24 * 3600,
            threads: 0,
            upload_timeout_ms: 600_000,
        }
    }
}

/// Why the config file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read or is not valid TOML of this shape.
    #[error(transparent)]
    File(#[from] TomlFileError),
    /// A configured key is not valid.
    #[error("{path}: {source}")]
    Key {
        /// The config file.
        path: PathBuf,
        /// Why.
        source: InvalidKey,
    },
}

impl Config {
    /// Reads a config file.
    pub fn read(path: &Path) -> Result<Config, ConfigError> {
        let config: Config = read_toml(path)?;
        for k in &config.keys {
            valid_entry(k).map_err(|source| ConfigError::Key {
                path: path.to_path_buf(),
                source,
            })?;
        }
        Ok(config)
    }
}
