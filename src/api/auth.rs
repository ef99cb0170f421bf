//! API keys with roles: read from the TOML config and the data directory's key file, stored only
//! as salted SHA-256 hashes, compared in constant time.
//!
//! A key is `dzk_<id>_<secret>`: the id names the key (logs, audit), the 256-bit random secret is
//! what is hashed. Keys are random, not passwords, so one salted SHA-256 is the right cost: a slow
//! password hash would add milliseconds to every request and buy nothing against 256 bits.
//!
//! Roles: `hotline` (lookups), `gis` (lookups, spatial queries, export), `steward` (lookups,
//! spatial, data writes), `admin` (everything, including keys). A handler asks for an [`Access`]
//! by taking an [`Authorized`] extractor; that is the one place where keys are checked.

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::toml_file::{TomlFileError, read_toml};
use super::{ApiError, AppState};

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// 12345 hotline operators: lookups.
    Hotline,
    /// GIS staff: lookups, spatial queries and export.
    Gis,
    /// Address stewards: lookups, spatial queries and data writes.
    Steward,
    /// Everything, including API keys.
    Admin,
}

impl Role {
    /// The role's name in the config and the API.
    pub fn as_str(self) -> &'static str {
        crate::wire::name(&self)
    }

    /// Whether this role grants `access`.
    ///
    /// # Examples
    /// ```
    /// use dizhi::api::auth::{Access, Role};
    /// assert!(Role::Hotline.allows(Access::Lookup));
    /// assert!(!Role::Hotline.allows(Access::Spatial));
    /// assert!(Role::Gis.allows(Access::Spatial));
    /// assert!(!Role::Gis.allows(Access::Write));
    /// assert!(Role::Steward.allows(Access::Write));
    /// assert!(!Role::Steward.allows(Access::Admin));
    /// assert!(Role::Admin.allows(Access::Admin));
    /// ```
    pub fn allows(self, access: Access) -> bool {
        match self {
            Role::Admin => true,
            Role::Steward => access != Access::Admin,
            Role::Gis => matches!(access, Access::Lookup | Access::Spatial),
            Role::Hotline => access == Access::Lookup,
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        crate::wire::parse(s)
            .ok_or_else(|| format!("unknown role {s:?} (expected hotline, gis, steward or admin)"))
    }
}

/// What a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Normalize, suggest, parse, compare, reverse, one address or building.
    Lookup,
    /// Spatial queries over many buildings, export.
    Spatial,
    /// Changes to the data (steward work).
    Write,
    /// Keys and the audit log.
    Admin,
}

/// A key as configured: its id, role and salted hash (`sha256$SALT_HEX$DIGEST_HEX`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyEntry {
    /// The key's id (letters, digits, `-`).
    pub id: String,
    /// What it may do.
    pub role: Role,
    /// `sha256$SALT_HEX$DIGEST_HEX` of the secret.
    pub hash: String,
    /// Free text: whose key it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The 街镇 a steward's key answers for: the page's anomaly queue opens on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub town: Option<String>,
}

/// Where a key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeySource {
    /// The `--config` file (read-only to the API).
    Config,
    /// The data directory's key file (created through the API or at first start).
    Data,
}

/// The file in a data directory that holds the keys created there (hashes only).
pub const KEYS_FILE: &str = "api-keys.toml";
/// The file in a data directory where the first admin key is written, readable by its owner only.
pub const ADMIN_KEY_FILE: &str = "admin-key.txt";

#[derive(Debug, Default, Serialize, Deserialize)]
struct KeysFile {
    #[serde(default)]
    keys: Vec<KeyEntry>,
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The key id, or `anonymous`.
    pub key_id: String,
    /// The key's role; `None` for anonymous callers.
    pub role: Option<Role>,
}

/// A key listed by the API (never the secret or the hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyInfo {
    /// The key's id.
    pub id: String,
    /// Its role.
    pub role: Role,
    /// Where it is kept.
    pub source: KeySource,
    /// Whose key it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The keys the server knows, and whether anonymous lookups are allowed.
#[derive(Debug)]
pub struct KeyRing {
    keys: RwLock<BTreeMap<String, (KeyEntry, KeySource)>>,
    file: PathBuf,
    anonymous_lookups: bool,
}

impl KeyRing {
    /// The keys of the config and of the data directory's key file.
    pub fn load(
        data_dir: &Path,
        config_keys: &[KeyEntry],
        anonymous_lookups: bool,
    ) -> Result<KeyRing, KeyError> {
        let file = data_dir.join(KEYS_FILE);
        let mut keys = BTreeMap::new();
        if file.exists() {
            let kf: KeysFile = read_toml(&file)?;
            for k in kf.keys {
                keys.insert(k.id.clone(), (k, KeySource::Data));
            }
        }
        for k in config_keys {
            keys.insert(k.id.clone(), (k.clone(), KeySource::Config));
        }
        Ok(KeyRing {
            keys: RwLock::new(keys),
            file,
            anonymous_lookups,
        })
    }

    /// Whether lookups need no key.
    pub fn anonymous_lookups(&self) -> bool {
        self.anonymous_lookups
    }

    /// Whether any admin key exists.
    pub fn has_admin(&self) -> bool {
        self.read().values().any(|(k, _)| k.role == Role::Admin)
    }

    /// The principal of a presented key, or `None` if it is not a valid key.
    pub fn verify(&self, presented: &str) -> Option<Principal> {
        let (id, secret) = split_key(presented)?;
        let keys = self.read();
        let entry = keys.get(id).map(|(k, _)| k);
        // Hash even for an unknown id, so timing says nothing about which ids exist.
        let (salt, digest) = entry
            .and_then(|k| parse_hash(&k.hash))
            .unwrap_or_else(|| (vec![0; 16], vec![0xff; 32]));
        let ok: bool = digest_of(&salt, secret).ct_eq(&digest).into();
        match entry {
            Some(k) if ok => Some(Principal {
                key_id: k.id.clone(),
                role: Some(k.role),
            }),
            _ => None,
        }
    }

    /// Creates a key with a fresh secret, stores its hash in the data directory's key file and
    /// returns the key (the only time it is ever shown).
    pub fn create(
        &self,
        id: Option<&str>,
        role: Role,
        note: Option<String>,
    ) -> Result<(KeyEntry, String), CreateError> {
        let note = note.map(|n| crate::text::personal::mask_personal(&n));
        let id = match id {
            Some(id) => {
                valid_id(id).map_err(CreateError::BadId)?;
                id.to_string()
            }
            None => format!("{}-{}", role.as_str(), &hex(&random_bytes::<4>())),
        };
        let mut keys = self.write();
        if keys.contains_key(&id) {
            return Err(CreateError::Exists(id));
        }
        let secret = hex(&random_bytes::<32>());
        let salt = random_bytes::<16>();
        let entry = KeyEntry {
            id: id.clone(),
            role,
            hash: format!("sha256${}${}", hex(&salt), hex(&digest_of(&salt, &secret))),
            note,
            town: None,
        };
        // Saved first, then known in memory: a key that could not be saved never works.
        let mut after = keys.clone();
        after.insert(id.clone(), (entry.clone(), KeySource::Data));
        self.save(&after).map_err(CreateError::Io)?;
        *keys = after;
        Ok((entry, format!("dzk_{id}_{secret}")))
    }

    /// Removes a key created in the data directory. Config keys cannot be removed here.
    pub fn revoke(&self, id: &str) -> Result<KeyEntry, RevokeError> {
        let mut keys = self.write();
        match keys.get(id) {
            None => return Err(RevokeError::NotFound),
            Some((_, KeySource::Config)) => return Err(RevokeError::InConfig),
            Some(_) => {}
        }
        // Saved first, then dropped in memory: a revocation that could not be saved is refused
        // whole instead of coming back at the next start.
        let mut after = keys.clone();
        let (entry, _) = after.remove(id).ok_or(RevokeError::NotFound)?;
        self.save(&after).map_err(RevokeError::Io)?;
        *keys = after;
        Ok(entry)
    }

    /// The 街镇 a key answers for, when its entry says.
    pub fn town_of(&self, id: &str) -> Option<String> {
        self.read().get(id).and_then(|(k, _)| k.town.clone())
    }

    /// Every key, without secrets or hashes.
    pub fn list(&self) -> Vec<KeyInfo> {
        self.read()
            .values()
            .map(|(k, s)| KeyInfo {
                id: k.id.clone(),
                role: k.role,
                source: *s,
                note: k.note.clone(),
            })
            .collect()
    }

    fn save(&self, keys: &BTreeMap<String, (KeyEntry, KeySource)>) -> std::io::Result<()> {
        let kf = KeysFile {
            keys: keys
                .values()
                .filter(|(_, s)| *s == KeySource::Data)
                .map(|(k, _)| k.clone())
                .collect(),
        };
        let text = format!(
            "# API keys created by dizhi (salted SHA-256 hashes; the keys themselves are never stored).\n{}",
            toml::to_string(&kf).map_err(std::io::Error::other)?
        );
        // A temporary file of this writer's own: two servers starting on one fresh directory must
        // not rename each other's file away.
        let tmp = self
            .file
            .with_extension(format!("toml.{}.tmp", hex(&random_bytes::<8>())));
        write_private(&tmp, &text)?;
        std::fs::rename(&tmp, &self.file)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, (KeyEntry, KeySource)>> {
        self.keys.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, (KeyEntry, KeySource)>> {
        self.keys.write().unwrap_or_else(|p| p.into_inner())
    }
}

/// Why a key is not valid as configured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidKey {
    /// The id is empty, too long, or has characters other than letters, digits and `-`.
    #[error("key id {0:?}: use 1-64 ASCII letters, digits and '-'")]
    Id(String),
    /// The hash is not `sha256$SALT_HEX$DIGEST_HEX` with a 32-byte digest.
    #[error("key {0}: bad hash (expected sha256$SALT_HEX$DIGEST_HEX)")]
    Hash(String),
}

/// Why the keys could not be read, or the first admin key not made.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The data directory's key file could not be read.
    #[error(transparent)]
    File(#[from] TomlFileError),
    /// The first admin key could not be created.
    #[error("first admin key: {0}")]
    Create(#[from] CreateError),
    /// The first admin key could not be written to its file.
    #[error("{path}: {source}")]
    Write {
        /// The admin key file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Why a key could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// The id has characters other than letters, digits and `-`, or is too long.
    #[error(transparent)]
    BadId(InvalidKey),
    /// A key with this id exists.
    #[error("a key with id {0:?} exists")]
    Exists(String),
    /// The key file could not be written.
    #[error("key file: {0}")]
    Io(std::io::Error),
}

/// Why a key could not be revoked.
#[derive(Debug, thiserror::Error)]
pub enum RevokeError {
    /// No key has this id.
    #[error("no such key")]
    NotFound,
    /// The key is in the config file.
    #[error("the key is in the config file: remove it there")]
    InConfig,
    /// The key file could not be written.
    #[error("key file: {0}")]
    Io(std::io::Error),
}

/// Creates the first admin key in the data directory when there is no admin key at all, writing the
/// key to [`ADMIN_KEY_FILE`] (mode 0600). Returns the file when a key was created.
pub fn ensure_admin_key(ring: &KeyRing, data_dir: &Path) -> Result<Option<PathBuf>, KeyError> {
    if ring.has_admin() {
        return Ok(None);
    }
    let (_, key) = ring.create(
        Some("admin"),
        Role::Admin,
        Some("created at first start".into()),
    )?;
    let path = data_dir.join(ADMIN_KEY_FILE);
    write_private(&path, &format!("{key}\n")).map_err(|source| KeyError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(Some(path))
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(text.as_bytes())
}

/// Hashes a key for a config file: `sha256$SALT$DIGEST` of the secret part of `dzk_ID_SECRET`.
///
/// # Examples
/// ```
/// let h = dizhi::api::auth::hash_key("dzk_ops_abc").unwrap();
/// assert!(h.starts_with("sha256$"));
/// assert!(dizhi::api::auth::hash_key("not-a-key").is_none());
/// ```
pub fn hash_key(key: &str) -> Option<String> {
    let (_, secret) = split_key(key)?;
    let salt = random_bytes::<16>();
    Some(format!(
        "sha256${}${}",
        hex(&salt),
        hex(&digest_of(&salt, secret))
    ))
}

fn split_key(key: &str) -> Option<(&str, &str)> {
    let rest = key.strip_prefix("dzk_")?;
    let (id, secret) = rest.split_once('_')?;
    (!id.is_empty() && !secret.is_empty()).then_some((id, secret))
}

pub(super) fn valid_id(id: &str) -> Result<(), InvalidKey> {
    if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(InvalidKey::Id(id.to_string()));
    }
    Ok(())
}

/// Checks a configured key's id and hash.
pub(super) fn valid_entry(k: &KeyEntry) -> Result<(), InvalidKey> {
    valid_id(&k.id)?;
    parse_hash(&k.hash)
        .map(|_| ())
        .ok_or_else(|| InvalidKey::Hash(k.id.clone()))
}

fn digest_of(salt: &[u8], secret: &str) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(secret.as_bytes());
    h.finalize().to_vec()
}

fn parse_hash(s: &str) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut parts = s.split('$');
    if parts.next()? != "sha256" {
        return None;
    }
    let salt = unhex(parts.next()?)?;
    let digest = unhex(parts.next()?)?;
    (parts.next().is_none() && digest.len() == 32).then_some((salt, digest))
}

pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    rand::fill(&mut b[..]);
    b
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A marker for the [`Access`] a handler needs.
pub trait Needs: Send + Sync + 'static {
    /// The access.
    const ACCESS: Access;
    /// Whether a key is needed even where anonymous lookups are allowed.
    const KEY_REQUIRED: bool = false;
}
/// Needs [`Access::Lookup`].
pub struct Lookup;
/// Needs [`Access::Spatial`].
pub struct Spatial;
/// Needs [`Access::Write`].
pub struct Write;
/// Needs [`Access::Admin`].
pub struct Admin;
impl Needs for Lookup {
    const ACCESS: Access = Access::Lookup;
}
impl Needs for Spatial {
    const ACCESS: Access = Access::Spatial;
}
impl Needs for Write {
    const ACCESS: Access = Access::Write;
}
impl Needs for Admin {
    const ACCESS: Access = Access::Admin;
}
/// Needs [`Access::Lookup`] with a key of any role, even where lookups are anonymous: for writes
/// anyone may make but someone must answer for (an objection from the hotline).
pub struct AnyKey;
impl Needs for AnyKey {
    const ACCESS: Access = Access::Lookup;
    const KEY_REQUIRED: bool = true;
}

/// The caller, checked to have the access `N` names: the one place where keys are checked.
/// No key: allowed for lookups when anonymous lookups are on, else 401. A key that is not valid:
/// 401. A valid key whose role does not allow it: 403.
pub struct Authorized<N: Needs>(pub Principal, pub PhantomData<N>);

impl<N: Needs> FromRequestParts<AppState> for Authorized<N> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts.headers.get(axum::http::header::AUTHORIZATION);
        let Some(header) = header else {
            let caller_may = parts
                .extensions
                .get::<super::guard::AnonymousAllowed>()
                .is_some_and(|a| a.0);
            if N::ACCESS == Access::Lookup
                && !N::KEY_REQUIRED
                && state.keys.anonymous_lookups()
                && caller_may
            {
                return Ok(Authorized(
                    Principal {
                        key_id: "anonymous".into(),
                        role: None,
                    },
                    PhantomData,
                ));
            }
            return Err(ApiError::Unauthorized(
                "an API key is required: Authorization: Bearer KEY".into(),
            ));
        };
        let key = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| ApiError::Unauthorized("expected Authorization: Bearer KEY".into()))?;
        let principal = state
            .keys
            .verify(key)
            .ok_or_else(|| ApiError::Unauthorized("the API key is not valid".into()))?;
        let role = principal.role.unwrap_or(Role::Hotline);
        if !role.allows(N::ACCESS) {
            return Err(ApiError::Forbidden(format!(
                "the role {} may not do this",
                role.as_str()
            )));
        }
        Ok(Authorized(principal, PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_keys_verify_and_wrong_ones_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let ring = KeyRing::load(dir.path(), &[], false).unwrap();
        let (entry, key) = ring.create(Some("ops"), Role::Gis, None).unwrap();
        assert_eq!(entry.id, "ops");
        assert_eq!(ring.verify(&key).unwrap().role, Some(Role::Gis));
        assert!(ring.verify(&format!("{key}0")).is_none());
        assert!(ring.verify("dzk_nobody_abc").is_none());
        assert!(ring.verify("garbage").is_none());
        // Persisted as a hash only, and read back.
        let text = std::fs::read_to_string(dir.path().join(KEYS_FILE)).unwrap();
        assert!(!text.contains(key.rsplit('_').next().unwrap()));
        let again = KeyRing::load(dir.path(), &[], false).unwrap();
        assert!(again.verify(&key).is_some());
        assert!(matches!(
            ring.create(Some("ops"), Role::Gis, None),
            Err(CreateError::Exists(_))
        ));
        ring.revoke("ops").unwrap();
        assert!(ring.verify(&key).is_none());
    }

    #[test]
    fn config_hashes_verify() {
        let key = "dzk_cfg_s3cret";
        let keys = [KeyEntry {
            id: "cfg".into(),
            role: Role::Hotline,
            hash: hash_key(key).unwrap(),
            note: None,
            town: None,
        }];
        assert_eq!(valid_entry(&keys[0]), Ok(()));
        let dir = tempfile::tempdir().unwrap();
        let ring = KeyRing::load(dir.path(), &keys, false).unwrap();
        assert!(ring.verify(key).is_some());
        assert!(matches!(ring.revoke("cfg"), Err(RevokeError::InConfig)));
    }
}
