//! Start-up of a data directory: an empty or missing one is filled with the bundled district.

pub mod generation;

use std::path::Path;

use crate::Dictionaries;
use crate::search::AddressIndex;
use crate::store::{self, Store};
use crate::synth::{self, SynthConfig};

/// The bundled district: the same as `fixtures/qingpu-20k` (a test keeps them identical).
pub const BUNDLED: SynthConfig = SynthConfig {
    addresses: 20_000,
    seed: 1,
};

/// What went wrong preparing a data directory.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Generating the bundled district failed.
    #[error(transparent)]
    Synth(#[from] synth::Error),
    /// Building or opening the store failed.
    #[error(transparent)]
    Build(#[from] store::BuildError),
    /// Opening the store failed.
    #[error(transparent)]
    Store(#[from] store::Error),
    /// Building or opening the search index failed.
    #[error(transparent)]
    Search(#[from] crate::search::Error),
    /// A temporary directory could not be made.
    #[error("temporary directory: {0}")]
    Io(#[from] std::io::Error),
}

/// Opens the store of `data_dir`, first building the bundled 青浦 district into it when it has no
/// addresses yet (and the search index when it has none). Returns the store and whether it was just built.
///
/// # Examples
/// ```no_run
/// let dicts = dizhi::Dictionaries::embedded().unwrap();
/// let (store, built) = dizhi::setup::open_or_build_bundled("dizhi-data".as_ref(), &dicts).unwrap();
/// assert!(store.summary().unwrap().addresses > 0);
/// # let _ = built;
/// ```
pub fn open_or_build_bundled(
    data_dir: &Path,
    dicts: &Dictionaries,
) -> Result<(Store, bool), Error> {
    let has_addresses =
        data_dir.join("dizhi.sqlite").exists() && Store::open(data_dir)?.summary()?.addresses > 0;
    if has_addresses {
        let store = Store::open(data_dir)?;
        if !AddressIndex::dir(data_dir).join("meta.json").exists() {
            generation::build_paired_index(&store, data_dir)?;
        } else {
            generation::ensure_paired(&store, data_dir)?;
        }
        return Ok((store, false));
    }
    std::fs::create_dir_all(data_dir)?;
    let source = tempfile_dir(data_dir)?;
    synth::generate_to_dir(dicts, BUNDLED, &source)?;
    let built = store::build(&source, data_dir, &|_, _, _| {});
    let _ = std::fs::remove_dir_all(&source);
    built?;
    let store = Store::open(data_dir)?;
    generation::build_paired_index(&store, data_dir)?;
    Ok((store, true))
}

/// A fresh directory inside the data directory for the generated sources.
fn tempfile_dir(data_dir: &Path) -> std::io::Result<std::path::PathBuf> {
    let dir = data_dir.join(format!(".bundled-{}", std::process::id()));
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
