//! Noisy queries with known answers, made from a store's standard addresses: how callers and
//! clerks really write them (levels left out, numerals in words, 号楼 for 号, homophones, 公路 as
//! 路, a compound name for road+弄, old town names, extra words), plus addresses that are not in
//! the library and addresses outside the district. Seeded: the same seed, the same queries.

use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::address::community_address_name;
use crate::dictionaries::{AliasKind, Dictionaries};
use crate::store::Store;
use crate::synth::sources::chinese_numerals;
use crate::{AddressKind, StandardAddress};

/// What a noisy query should be answered with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "expect", rename_all = "snake_case")]
pub enum Expected {
    /// This standard address.
    Address {
        /// Its id.
        id: String,
    },
    /// Not in the library: anything but a number- or building-level answer is honest.
    NotInLibrary,
    /// Outside the district.
    Outside,
}

/// One query and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoisyQuery {
    /// The text.
    pub text: String,
    /// The right answer.
    #[serde(flatten)]
    pub expected: Expected,
    /// The variations applied (for reading failures).
    pub noise: Vec<String>,
}

/// Makes `n` noisy queries from the store: 90 % of real addresses, 7 % not in the library, 3 %
/// outside the district.
pub fn noisy_queries(
    store: &Store,
    dicts: &Dictionaries,
    n: usize,
    seed: u64,
) -> crate::store::Result<Vec<NoisyQuery>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // A reservoir sample of addresses, and the highest number on each road.
    let mut sample: Vec<StandardAddress> = Vec::with_capacity(n);
    let mut seen = 0usize;
    let mut max_number: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    store.for_each_address(|a, _| {
        if let Some(road) = &a.road {
            let v = a
                .lane
                .as_deref()
                .or(a.number.as_deref())
                .and_then(|v| v.parse::<u32>().ok())
                .unwrap_or(0);
            let e = max_number.entry(road.clone()).or_default();
            *e = (*e).max(v);
        }
        seen += 1;
        if sample.len() < n {
            sample.push(a);
        } else {
            let j = rng.random_range(0..seen);
            if j < n {
                sample[j] = a;
            }
        }
    })?;
    let others: Vec<&str> = dicts
        .admin
        .divisions()
        .filter(|d| {
            d.level == crate::dictionaries::AdminLevel::District && !d.code.starts_with("310118")
        })
        .map(|d| d.name.as_str())
        .collect();
    let provinces: Vec<&str> = dicts
        .admin
        .china_places()
        .filter(|p| {
            p.level == crate::dictionaries::ChinaPlaceLevel::County && !p.code.starts_with("31")
        })
        .map(|p| p.name.as_str())
        .collect();
    let mut out = Vec::with_capacity(n);
    for a in &sample {
        let roll: f64 = rng.random();
        if roll < 0.03 {
            let place = if rng.random_bool(0.5) {
                others
                    .choose(&mut rng)
                    .copied()
                    .unwrap_or("浦东新区")
                    .to_string()
            } else {
                provinces
                    .choose(&mut rng)
                    .copied()
                    .unwrap_or("余杭区")
                    .to_string()
            };
            let road = a.road.clone().unwrap_or_else(|| "人民路".to_string());
            out.push(NoisyQuery {
                text: format!("{place}{road}{}号", rng.random_range(1..400)),
                expected: Expected::Outside,
                noise: vec!["outside".into()],
            });
        } else if roll < 0.10 && a.road.is_some() {
            let road = a.road.clone().unwrap_or_default();
            let max = max_number.get(&road).copied().unwrap_or(0);
            let fake = max + 2 * rng.random_range(50..500) + 1;
            let text = if rng.random_bool(0.5) {
                format!("青浦区{}{road}{fake}号", a.town.name)
            } else {
                format!("{road}{}弄{}号", fake, rng.random_range(1..30))
            };
            out.push(NoisyQuery {
                text,
                expected: Expected::NotInLibrary,
                noise: vec!["not_in_library".into()],
            });
        } else {
            let (text, noise) = say(a, dicts, &mut rng);
            out.push(NoisyQuery {
                text,
                expected: Expected::Address { id: a.id.clone() },
                noise,
            });
        }
    }
    Ok(out)
}

/// One way of writing a real address.
fn say(a: &StandardAddress, dicts: &Dictionaries, rng: &mut ChaCha8Rng) -> (String, Vec<String>) {
    let mut noise: Vec<String> = Vec::new();
    let mut s = String::new();
    if rng.random_bool(0.15) {
        s.push_str(
            ["我住在", "那个", "就是", "我家是"]
                .choose(rng)
                .unwrap_or(&""),
        );
        noise.push("filler".into());
    }
    match rng.random_range(0..4) {
        0 => s.push_str("上海市青浦区"),
        1 => s.push_str("青浦"),
        _ => noise.push("no_district".into()),
    }
    let mut town = a.town.name.clone();
    if rng.random_bool(0.06) {
        let alias: Vec<(&str, AliasKind)> = dicts
            .aliases
            .iter()
            .filter(|al| al.to == [a.town.name.clone()] && al.kind != AliasKind::Variant)
            .map(|al| (al.from.as_str(), al.kind))
            .collect();
        if let Some((from, kind)) = alias.choose(rng) {
            town = from.to_string();
            noise.push(format!("town_{kind:?}").to_lowercase());
        }
    }
    if rng.random_bool(0.6) {
        s.push_str(&town);
    } else {
        noise.push("no_town".into());
    }
    let numerals = rng.random_bool(0.12);
    if numerals {
        noise.push("numerals".into());
    }
    let num = |v: &str| {
        if numerals {
            chinese_numerals(v)
        } else {
            v.to_string()
        }
    };
    let homophone = |name: &str, rng: &mut ChaCha8Rng| -> Option<String> {
        let chars: Vec<char> = name.chars().collect();
        let idx: Vec<usize> = (0..chars.len().saturating_sub(1))
            .filter(|&i| !dicts.homophones_of(chars[i]).is_empty())
            .collect();
        let &i = idx.choose(rng)?;
        let mut c = chars.clone();
        c[i] = *dicts.homophones_of(chars[i]).choose(rng)?;
        Some(c.into_iter().collect())
    };
    let use_poi = a.kind == AddressKind::Residential && a.poi.is_some() && rng.random_bool(0.15);
    if use_poi {
        s.push_str(a.poi.as_deref().unwrap_or_default());
        noise.push("poi_for_road_lane".into());
    } else if let Some(road) = &a.road {
        let mut road = road.clone();
        if rng.random_bool(0.06) {
            if let Some(h) = homophone(&road, rng) {
                road = h;
                noise.push("homophone".into());
            }
        } else if road.ends_with("公路") && rng.random_bool(0.3) {
            road = format!("{}路", road.trim_end_matches("公路"));
            noise.push("gonglu_as_lu".into());
        }
        s.push_str(&road);
        if let Some(l) = &a.lane {
            s.push_str(&num(l));
            s.push('弄');
        }
    } else {
        let mut village = community_address_name(&a.community.name).to_string();
        if rng.random_bool(0.05)
            && let Some(h) = homophone(&village, rng)
        {
            village = h;
            noise.push("homophone".into());
        }
        s.push_str(&village);
        if let Some(g) = &a.group {
            s.push_str(&num(g));
            s.push('组');
        }
    }
    if let Some(n) = &a.number {
        s.push_str(&num(n));
        if a.kind == AddressKind::Residential && rng.random_bool(0.3) {
            s.push_str(["号楼", "栋"].choose(rng).unwrap_or(&"号楼"));
            noise.push("building_marker".into());
        } else {
            s.push('号');
        }
    }
    if let Some(b) = &a.building {
        s.push_str(&num(b));
        let marker = *["幢", "幢", "栋", "号楼", "#"].choose(rng).unwrap_or(&"幢");
        if marker != "幢" {
            noise.push("building_marker".into());
        }
        s.push_str(marker);
    }
    if a.kind == AddressKind::Residential && rng.random_bool(0.3) {
        s.push_str(&format!(
            "{}{:02}室",
            rng.random_range(1..=18),
            rng.random_range(1..=4)
        ));
        noise.push("room".into());
    }
    if rng.random_bool(0.05) {
        s.push_str("附近");
        noise.push("near".into());
    }
    (s, noise)
}
