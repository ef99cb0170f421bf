//! Address tags (地址标签: 工业园区, 学校, 重点单位 …): set on an address, queried by tag.
//!
//! An address carries its tags as a JSON array (`addresses.tags`); the `tags` table is the
//! vocabulary (a tag is added to it the first time it is used). Setting tags is one transaction
//! with its audit entry (before and after).

use super::{Error, Result, audit};
use crate::store::Store;

/// Sets an address's tags: `add` then `remove` (each tag trimmed; empty ones ignored). Returns the
/// tags after, sorted.
///
/// # Examples
/// ```
/// use dizhi::{AddressKind, StandardAddress};
/// let dir = tempfile::tempdir().unwrap();
/// let mut store = dizhi::store::Store::open(dir.path()).unwrap();
/// store.insert_addresses(&[StandardAddress::new("A1", AddressKind::Street)]).unwrap();
/// let tags = dizhi::fuse::tags::set(&mut store, "A1", &["学校".into(), "重点单位".into()], &[], "steward").unwrap();
/// assert_eq!(tags, vec!["学校", "重点单位"]);
/// assert_eq!(dizhi::fuse::tags::query(&store, "学校", 10).unwrap(), vec!["A1"]);
/// dizhi::fuse::tags::set(&mut store, "A1", &[], &["学校".into()], "steward").unwrap();
/// assert!(dizhi::fuse::tags::query(&store, "学校", 10).unwrap().is_empty());
/// ```
pub fn set(
    store: &mut Store,
    address_id: &str,
    add: &[String],
    remove: &[String],
    actor: &str,
) -> Result<Vec<String>> {
    super::anomalies::synced(store)?;
    let tx = store.connection_mut().transaction()?;
    let before: String = tx
        .query_row(
            "SELECT tags FROM addresses WHERE id = ?1",
            [address_id],
            |r| r.get(0),
        )
        .map_err(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => {
                Error::NotFound(format!("address {address_id}"))
            }
            e => e.into(),
        })?;
    let mut tags: Vec<String> = serde_json::from_str(&before).unwrap_or_default();
    for t in add.iter().map(|t| t.trim()).filter(|t| !t.is_empty()) {
        if !tags.iter().any(|x| x == t) {
            tags.push(t.to_string());
        }
        tx.execute("INSERT OR IGNORE INTO tags (name) VALUES (?1)", [t])?;
    }
    tags.retain(|t| !remove.iter().any(|r| r.trim() == t));
    tags.sort();
    let after = serde_json::Value::from(tags.clone()).to_string();
    tx.execute(
        "UPDATE addresses SET tags = ?2 WHERE id = ?1",
        [address_id, after.as_str()],
    )?;
    audit(
        &tx,
        actor,
        "tag.set",
        &format!("address:{address_id}"),
        Some(&before),
        Some(&after),
    )?;
    tx.commit()?;
    Ok(tags)
}

/// The ids of addresses carrying `tag`, by id, at most `limit`.
pub fn query(store: &Store, tag: &str, limit: usize) -> Result<Vec<String>> {
    let conn = store.connection();
    let mut stmt = conn.prepare(
        "SELECT a.id FROM addresses a WHERE a.tags != '[]' AND EXISTS \
         (SELECT 1 FROM json_each(a.tags) t WHERE t.value = ?1) ORDER BY a.id LIMIT ?2",
    )?;
    let rows = stmt.query_map(rusqlite::params![tag, limit as i64], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The tag vocabulary with how many addresses carry each tag.
pub fn vocabulary(store: &Store) -> Result<Vec<(String, u64)>> {
    let conn = store.connection();
    let mut stmt = conn.prepare(
        "SELECT t.name, (SELECT count(*) FROM addresses a, json_each(a.tags) j \
         WHERE a.tags != '[]' AND j.value = t.name) FROM tags t ORDER BY t.name",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)?.max(0) as u64)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
