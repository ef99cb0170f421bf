//! The store's side of a build's generation: `dizhi build` writes a random generation id into
//! the store (`meta.generation`); the index built from it carries the same id
//! ([`crate::setup::generation`] pairs them). And the files killed builds leave behind.

use std::path::Path;

use super::STORE_FILE;

/// The `meta` key of the store's generation.
pub const META_KEY: &str = "generation";

/// A fresh random generation id.
pub fn new_id() -> String {
    let mut bytes = [0u8; 8];
    rand::fill(&mut bytes[..]);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Removes what killed builds left in `data_dir`: `.dizhi.sqlite.build-PID` files whose process
/// is gone (or, where that cannot be told, older than a day), and the sources of an interrupted
/// first start (`.bundled-PID`).
pub fn remove_stale_build_files(data_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(data_dir) else {
        return;
    };
    let store_prefix = format!(".{STORE_FILE}.build-");
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let pid = name
            .strip_prefix(&store_prefix)
            .or_else(|| name.strip_prefix(".bundled-"))
            .and_then(|p| p.parse::<u32>().ok());
        let Some(pid) = pid else { continue };
        if pid == std::process::id() || !process_gone(pid, &entry) {
            continue;
        }
        let path = entry.path();
        let _ = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
    }
}

fn process_gone(pid: u32, entry: &std::fs::DirEntry) -> bool {
    if cfg!(target_os = "linux") && Path::new("/proc/self").exists() {
        return !Path::new(&format!("/proc/{pid}")).exists();
    }
    entry
        .metadata()
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age > std::time::Duration::from_secs(24 * 3600))
}
