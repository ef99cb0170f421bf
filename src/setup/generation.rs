//! Which build a store and a search index come from. `dizhi build` writes a random generation id
//! into the store (`meta.generation`) and, once the index is built from that store, the same id
//! into the index directory (`index/generation`). A build killed between renaming the new store
//! into place and renaming the new index leaves a store and an index that do not belong together:
//! [`ensure_paired`] tells, and rebuilds the index from the store (the store is the truth).
//!
//! An index without the file was built before generations were written, and is taken as it is.
//! The store's side (the id, its `meta` key, stale build files) is [`crate::store::generation`].

use std::path::Path;

use crate::search::{AddressIndex, build_index};
use crate::store::Store;
pub use crate::store::generation::{META_KEY, new_id, remove_stale_build_files};

/// The file in the index directory holding the generation it was built from.
pub const INDEX_FILE: &str = "generation";

/// How a data directory's store and index go together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pairing {
    /// Both carry the same generation.
    Paired,
    /// The store or the index carries none (built before generations were written).
    Unstamped,
    /// They come from different builds.
    Mismatch {
        /// The store's generation.
        store: String,
        /// The index's generation.
        index: String,
    },
}

/// The generation written in an index directory, if any.
pub fn index_generation(data_dir: &Path) -> Option<String> {
    std::fs::read_to_string(AddressIndex::dir(data_dir).join(INDEX_FILE))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Whether the store and the index of `data_dir` belong together.
pub fn pairing(store: &Store, data_dir: &Path) -> crate::store::Result<Pairing> {
    let Some(store_gen) = store.meta(META_KEY)? else {
        return Ok(Pairing::Unstamped);
    };
    Ok(match index_generation(data_dir) {
        None => Pairing::Unstamped,
        Some(index) if index == store_gen => Pairing::Paired,
        Some(index) => Pairing::Mismatch {
            store: store_gen,
            index,
        },
    })
}

/// Writes the store's generation into the index directory (after the index was built from it).
pub fn stamp_index(store: &Store, data_dir: &Path) -> std::io::Result<()> {
    let Some(generation) = store.meta(META_KEY).map_err(std::io::Error::other)? else {
        return Ok(());
    };
    let path = AddressIndex::dir(data_dir).join(INDEX_FILE);
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, format!("{generation}\n"))?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, &path)
}

/// Builds the search index of `data_dir` from `store` and stamps it with the store's generation.
pub fn build_paired_index(store: &Store, data_dir: &Path) -> Result<u64, super::Error> {
    let n = build_index(store, &AddressIndex::dir(data_dir))?;
    stamp_index(store, data_dir)?;
    Ok(n)
}

/// Checks that the store and the index of `data_dir` belong together, and that the index has
/// this version's keys, and rebuilds the index from the store when not. Returns whether it rebuilt.
pub fn ensure_paired(store: &Store, data_dir: &Path) -> Result<bool, super::Error> {
    if AddressIndex::open(data_dir).is_ok_and(|i| !i.is_current()) {
        tracing::warn!(
            "the search index was built by an older version (no door keys): rebuilding it"
        );
        build_paired_index(store, data_dir)?;
        return Ok(true);
    }
    match pairing(store, data_dir)? {
        Pairing::Paired | Pairing::Unstamped => Ok(false),
        Pairing::Mismatch { store: s, index } => {
            tracing::warn!(
                "the search index (build {index}) is not the store's (build {s}): rebuilding it"
            );
            build_paired_index(store, data_dir)?;
            Ok(true)
        }
    }
}
