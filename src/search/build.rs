//! Builds the search index of a data directory from its store.

use std::path::Path;

use tantivy::{Index, IndexSettings, IndexWriter, TantivyDocument};

use super::keys::{DoorParts, bigrams, door_keys, road_stem, sound};
use super::schema::Fields;
use super::{Error, Result};
use crate::address::community_address_name;
use crate::store::Store;
use crate::{AddressKind, StandardAddress};

/// The stored-document block size: about eight addresses (tantivy's default, 16 KiB, holds
/// about sixty).
const DOCSTORE_BLOCK_BYTES: usize = 2048;

/// The keys an address is suggested under: what an operator starts typing (the road, the
/// compound name, the village), each with the canonical text after it.
pub(crate) fn suggest_keys(a: &StandardAddress, canonical: &str) -> Vec<String> {
    let without_district = canonical.strip_prefix(&a.district).unwrap_or(canonical);
    let without_town = without_district
        .strip_prefix(&a.town.name)
        .unwrap_or(without_district);
    let mut keys = vec![without_district.to_string(), without_town.to_string()];
    if a.kind == AddressKind::Residential
        && let (Some(poi), Some(number)) = (&a.poi, &a.number)
    {
        keys.push(format!("{poi}{number}号"));
    }
    keys.sort();
    keys.dedup();
    keys
}

fn document(f: &Fields, a: &StandardAddress, canonical: &str) -> TantivyDocument {
    let mut doc = TantivyDocument::new();
    doc.add_text(f.id, &a.id);
    doc.add_text(f.address, canonical);
    doc.add_text(f.kind, a.kind.as_str());
    doc.add_text(f.town, &a.town.name);
    doc.add_text(f.town_code, &a.town.code);
    doc.add_text(f.community, &a.community.name);
    doc.add_text(f.community_code, &a.community.code);
    let mut grams = Vec::new();
    let village =
        (a.kind == AddressKind::Village).then(|| community_address_name(&a.community.name));
    if let Some(name) = village {
        doc.add_text(f.village, name);
        doc.add_text(f.village_sound, sound(name));
        grams.extend(bigrams(name));
    }
    if let Some(road) = &a.road {
        doc.add_text(f.road, road);
        doc.add_text(f.road_stem, road_stem(road));
        doc.add_text(f.road_sound, sound(road_stem(road)));
        grams.extend(bigrams(road));
    }
    if let Some(poi) = &a.poi {
        doc.add_text(f.poi, poi);
        doc.add_text(f.poi_sound, sound(poi));
        grams.extend(bigrams(poi));
    }
    for (field, value) in [
        (f.lane, &a.lane),
        (f.number, &a.number),
        (f.group, &a.group),
        (f.building, &a.building),
        (f.building_id, &a.building_id),
    ] {
        if let Some(v) = value {
            doc.add_text(field, v);
        }
    }
    doc.add_text(f.grams, grams.join(" "));
    let parts = DoorParts {
        road: a.road.as_deref(),
        poi: a.poi.as_deref(),
        village,
        lane: a.lane.as_deref(),
        group: a.group.as_deref(),
        number: a.number.as_deref(),
        building: a.building.as_deref(),
    };
    for key in door_keys(&parts) {
        doc.add_text(f.door, key);
    }
    for key in suggest_keys(a, canonical) {
        doc.add_text(f.suggest, format!("{key}\u{1}{}", a.id));
    }
    if let Some(p) = a.point {
        doc.add_f64(f.lon, p.x());
        doc.add_f64(f.lat, p.y());
    }
    doc
}

/// Builds the index into `dir` (replacing what is there) from every address of the store.
/// Returns how many addresses were indexed.
///
/// The index is written into a sibling directory and renamed into place when complete, so a
/// failed build leaves the previous index.
pub fn build_index(store: &Store, dir: &Path) -> Result<u64> {
    let tmp = dir.with_extension("building");
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| Error::Io(tmp.clone(), e))?;
    }
    std::fs::create_dir_all(&tmp).map_err(|e| Error::Io(tmp.clone(), e))?;
    let (schema, fields) = Fields::schema();
    // Small stored-document blocks: reading a candidate copies its whole block (the store is not
    // compressed), and a query reads about a dozen candidates from all over the index.
    let settings = IndexSettings {
        docstore_blocksize: DOCSTORE_BLOCK_BYTES,
        ..IndexSettings::default()
    };
    let index = Index::builder()
        .schema(schema)
        .settings(settings)
        .create_in_dir(&tmp)?;
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4);
    let mut writer: IndexWriter = index.writer_with_num_threads(threads, 400_000_000)?;
    // The one merge is ours, below: a background merge of some of the segments at the same time
    // would take them from under it (a whole city's index has enough segments to start one).
    writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
    let mut failed = None;
    let mut districts = std::collections::BTreeSet::new();
    let n = store.for_each_address(|a, canonical| {
        if let Some(prefix) = a.town.code.get(..6) {
            districts.insert(format!("{prefix}000000"));
        }
        if failed.is_none()
            && let Err(e) = writer.add_document(document(&fields, &a, &canonical))
        {
            failed = Some(e);
        }
    })?;
    if let Some(e) = failed {
        return Err(e.into());
    }
    // The index carries the divisions its data covers: the store's record, else its towns' districts.
    let divisions = match store.meta(crate::dictionaries::COVERAGE_META_KEY)? {
        Some(d) => d,
        None => districts.into_iter().collect::<Vec<_>>().join(","),
    };
    let mut commit = writer.prepare_commit()?;
    commit.set_payload(&serde_json::json!({ "divisions": divisions }).to_string());
    commit.commit()?;
    // One segment answers faster than several, and suggestions walk one term dictionary.
    let ids = index.searchable_segment_ids()?;
    if ids.len() > 1 {
        writer.merge(&ids).wait()?;
    }
    writer.wait_merging_threads()?;
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| Error::Io(dir.to_path_buf(), e))?;
    }
    std::fs::rename(&tmp, dir).map_err(|e| Error::Io(dir.to_path_buf(), e))?;
    Ok(n)
}
