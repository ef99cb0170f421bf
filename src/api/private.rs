//! What the server writes is its own: the data directory, the database, the key files, the
//! batch jobs and the export scratch space are readable by the service's user only (directories
//! 0700, files 0600), and nothing is written in the shared system temporary directory.

use std::path::{Path, PathBuf};

/// Makes the files the server creates from now on private (umask 077) and makes the data
/// directory and what is in it so: the directory and its subdirectories 0700, its files 0600
/// (the database and its journal, the key files, the jobs and their files). Only the service's
/// own files are changed; a link is never followed.
pub fn harden_data_dir(data_dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        // SAFETY: umask only swaps the process's file-creation mask; it cannot fail.
        unsafe {
            libc::umask(0o077);
        }
        restrict(data_dir, 2)?;
    }
    #[cfg(not(unix))]
    let _ = data_dir;
    Ok(())
}

#[cfg(unix)]
fn restrict(path: &Path, depth: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::symlink_metadata(path)?;
    if meta.file_type().is_symlink() {
        return Ok(());
    }
    if meta.is_dir() {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))?;
        if depth > 0 {
            for entry in std::fs::read_dir(path)? {
                let entry = entry?;
                // The search index's many segment files are left as they are (not personal).
                if entry.file_name() == "index" {
                    continue;
                }
                restrict(&entry.path(), depth - 1)?;
            }
        }
    } else if meta.is_file() && meta.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// The data directory's private temporary directory (`DATA/tmp`, mode 0700), created when
/// missing: exports are written there under random names, never in the shared system temporary
/// directory where another local user could plant a link.
pub fn private_temp_dir(data_dir: &Path) -> std::io::Result<PathBuf> {
    let dir = data_dir.join("tmp");
    std::fs::create_dir_all(&dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(dir)
}
