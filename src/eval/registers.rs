//! `dizhi eval registers`: a library built from registers (`dizhi build --config`) scored
//! against the truth the generator wrote beside them (`truth/addresses.csv`): the standard
//! addresses recovered (precision and recall of distinct addresses, by their text below the
//! 街镇), and of those recovered, how many are linked to the right footprint and carry the right
//! 街镇 and 居/村委 codes. The lowest figure is the last line.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::Serialize;

use crate::fuse::{Error, Result};
use crate::store::Store;

/// The scores.
#[derive(Debug, Clone, Serialize)]
pub struct RegistersEval {
    /// True standard addresses (distinct).
    pub truth: usize,
    /// Addresses the build made (distinct door keys), proposed ones included.
    pub built: usize,
    /// Of those, proposed (seen only in work orders).
    pub proposed: usize,
    /// Built addresses that are true.
    pub matched: usize,
    /// matched / built.
    pub precision: f64,
    /// matched / truth.
    pub recall: f64,
    /// Of the matched, linked to the true footprint.
    pub linked_right: f64,
    /// Of the matched, with the true 街镇 code.
    pub town_right: f64,
    /// Of the matched, with the true 居/村委 code.
    pub community_right: f64,
    /// Of the matched, how many no register gives any point for (no method can place them).
    pub matched_without_point: usize,
    /// Of the matched with a point in some register, linked to the true footprint.
    pub linked_right_with_point: f64,
    /// The lowest of the five.
    pub lowest: f64,
    /// A few true addresses not built, and built addresses not true (for reading).
    pub missed: Vec<String>,
    /// Built addresses that are not true.
    pub spurious: Vec<String>,
    /// Every right address linked to no footprint or the wrong one, for reading.
    #[serde(skip)]
    pub wrong_links: Vec<WrongLink>,
}

/// A right address whose footprint link is missing or wrong.
#[derive(Debug, Clone, Serialize)]
pub struct WrongLink {
    /// The address below its 街镇 (the door key).
    pub key: String,
    /// The footprint it truly stands in.
    pub truth: String,
    /// The footprint it was linked to (empty: none).
    pub built: String,
    /// How the link was made (`contains:公安:123`, `interpolated:B42`; empty: none).
    pub how: String,
    /// Whether some register gives a point for it.
    pub has_point: bool,
}

impl RegistersEval {
    /// The table `dizhi eval registers` prints, the lowest figure last.
    pub fn to_table(&self) -> String {
        let mut s = String::new();
        s.push_str(&format!(
            "true addresses {}, built {} ({} proposed), right {}\n",
            self.truth, self.built, self.proposed, self.matched
        ));
        for (name, v) in [
            ("addresses precision", self.precision),
            ("addresses recall", self.recall),
            ("linked to the right footprint", self.linked_right),
            ("街镇 right", self.town_right),
            ("居/村委 right", self.community_right),
        ] {
            s.push_str(&format!("{name:<32} {v:.4}\n"));
        }
        s.push_str(&format!(
            "  ({} right addresses have no point in any register; of the others {:.4} are linked right)\n",
            self.matched_without_point, self.linked_right_with_point
        ));
        for m in &self.missed {
            s.push_str(&format!("  missed   {m}\n"));
        }
        for m in &self.spurious {
            s.push_str(&format!("  spurious {m}\n"));
        }
        s.push_str(&format!("{:<32} {:.4}\n", "lowest", self.lowest));
        s
    }
}

struct TrueAddress {
    town_code: String,
    community_code: String,
    building_id: String,
}

/// An address's text below its 街镇: the district and 街镇 names of `town_code` taken off the
/// front (`青浦区华新镇华腾路8号` → `华腾路8号`).
fn below_town(admin: &crate::dictionaries::AdminIndex, text: &str, town_code: &str) -> String {
    let mut rest = text.trim().trim_start_matches("上海市");
    if let Some(district) = town_code
        .get(..6)
        .and_then(|d| admin.by_code(&format!("{d}000000")))
    {
        rest = rest.strip_prefix(district.name.as_str()).unwrap_or(rest);
    }
    if let Some(town) = admin.by_code(town_code) {
        rest = rest
            .strip_prefix(town.name.as_str())
            .or_else(|| rest.strip_prefix(town.short_name.as_str()))
            .unwrap_or(rest);
    }
    rest.to_string()
}

fn ratio(n: usize, d: usize) -> f64 {
    if d == 0 { 1.0 } else { n as f64 / d as f64 }
}

/// Scores the store's library against `truth_dir/addresses.csv`.
pub fn evaluate(store: &Store, truth_dir: &Path) -> Result<RegistersEval> {
    let admin =
        crate::dictionaries::AdminIndex::embedded().map_err(|e| Error::Invalid(e.to_string()))?;
    let path = truth_dir.join("addresses.csv");
    let mut rdr = csv::Reader::from_path(&path).map_err(|e| Error::file(&path, e))?;
    let headers = rdr.headers().map_err(|e| Error::file(&path, e))?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| Error::file(&path, format!("no column {name}")))
    };
    let (address_i, town_i, community_i, building_i) = (
        col("address")?,
        col("town_code")?,
        col("community_code")?,
        col("building_id")?,
    );
    let mut truth: HashMap<String, TrueAddress> = HashMap::new();
    for row in rdr.records() {
        let row = row.map_err(|e| Error::file(&path, e))?;
        let field = |i: usize| row.get(i).unwrap_or("").to_string();
        let key = below_town(&admin, &field(address_i), &field(town_i));
        truth.insert(
            key,
            TrueAddress {
                town_code: field(town_i),
                community_code: field(community_i),
                building_id: field(building_i),
            },
        );
    }
    let pointless: HashSet<String> = store
        .connection()
        .prepare(
            "SELECT entity_id FROM anomalies WHERE rule = 'address_without_building' \
             AND json_extract(detail, '$.points') = 0",
        )?
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<std::result::Result<_, _>>()?;
    let mut stmt = store.connection().prepare(
        "SELECT e.address_id, e.door_key, e.support, coalesce(a.town_code, ''), coalesce(a.community_code, ''), \
         coalesce(a.building_id, ''), coalesce(json_extract(e.fields, '$.building'), '') \
         FROM address_evidence e JOIN addresses a ON a.id = e.address_id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, String>(6)?,
        ))
    })?;
    let (mut without_point, mut linked_with_point) = (0usize, 0usize);
    let (mut built, mut proposed, mut matched) = (0usize, 0usize, 0usize);
    let (mut linked, mut town, mut community) = (0usize, 0usize, 0usize);
    let mut found = HashSet::new();
    let mut spurious = Vec::new();
    let mut wrong_links = Vec::new();
    for row in rows {
        let (id, key, support, town_code, community_code, building_id, how) = row?;
        built += 1;
        proposed += usize::from(support == "proposed");
        match truth.get(&key) {
            Some(t) => {
                matched += 1;
                linked += usize::from(t.building_id == building_id);
                if t.building_id != building_id {
                    wrong_links.push(WrongLink {
                        key: key.clone(),
                        truth: t.building_id.clone(),
                        built: building_id.clone(),
                        how,
                        has_point: !pointless.contains(&id),
                    });
                }
                found.insert(key);
                if pointless.contains(&id) {
                    without_point += 1;
                } else {
                    linked_with_point += usize::from(t.building_id == building_id);
                }
                town += usize::from(t.town_code == town_code);
                community += usize::from(t.community_code == community_code);
            }
            None if spurious.len() < 10 => spurious.push(format!("{key} ({support})")),
            None => {}
        }
    }
    let mut missed: Vec<String> = truth
        .keys()
        .filter(|k| !found.contains(*k))
        .cloned()
        .collect();
    missed.sort();
    missed.truncate(10);
    let precision = ratio(matched, built);
    let recall = ratio(matched, truth.len());
    let (linked_right, town_right, community_right) = (
        ratio(linked, matched),
        ratio(town, matched),
        ratio(community, matched),
    );
    let lowest = [precision, recall, linked_right, town_right, community_right]
        .into_iter()
        .fold(f64::INFINITY, f64::min);
    Ok(RegistersEval {
        truth: truth.len(),
        built,
        proposed,
        matched,
        precision,
        recall,
        linked_right,
        town_right,
        community_right,
        matched_without_point: without_point,
        linked_right_with_point: ratio(linked_with_point, matched - without_point),
        lowest,
        missed,
        spurious,
        wrong_links,
    })
}
