//! Reading a TOML file of the server's (its config, the data directory's keys) with the file's
//! path in every error.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

/// Why a TOML file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TomlFileError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML of the expected shape.
    #[error("{path}: {source}")]
    Toml {
        /// The file.
        path: PathBuf,
        /// Why.
        source: toml::de::Error,
    },
}

/// Reads and parses `path`.
pub fn read_toml<T: DeserializeOwned>(path: &Path) -> Result<T, TomlFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| TomlFileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    toml::from_str(&text).map_err(|source| TomlFileError::Toml {
        path: path.to_path_buf(),
        source,
    })
}
