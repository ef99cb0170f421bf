//! Noisy queries with known answers, made from a store's standard addresses: how callers and
//! clerks really write and say them (levels left out, numerals in words, 号楼 for 号, homophones
//! by sound, 公路 as 路, a compound name for road+弄, old and short town names, words before the
//! first name and after the door, numbers said aloud with the marker dropped, a door run into
//! its room, pauses, repeats, a door number taken back), some of them retold as an operator
//! types them (a label or sentence before the address, a space before a marker, 撞 for 幢, 龙 for
//! 弄, 小组 for 组, 路上, a road's side left out; `retold`, on a random stream of its own), plus
//! addresses that are not in the library and addresses outside the district. Seeded: the same
//! seed, the same queries.

mod retold;
mod spoken;

use std::collections::BTreeSet;

use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::address::community_address_name;
use crate::dictionaries::{AliasKind, Dictionaries};
use crate::store::Store;
use crate::text::numerals;
use crate::{AddressKind, StandardAddress};

use self::spoken::SoundPool;

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
    // The retellings draw from a stream of their own: the first stream's queries stay as they were.
    let mut told = ChaCha8Rng::seed_from_u64(seed ^ 0x7e11_d0c5_0000_0000);
    // A reservoir sample of addresses, and the highest number on each road.
    let mut sample: Vec<StandardAddress> = Vec::with_capacity(n);
    let mut seen = 0usize;
    let mut max_number: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    // Every name of the library: a name misheard as another real one is not a fair query.
    let mut names: BTreeSet<String> = BTreeSet::new();
    store.for_each_address(|a, _| {
        for n in [&a.road, &a.poi].into_iter().flatten() {
            if !names.contains(n) {
                names.insert(n.clone());
            }
        }
        let village = community_address_name(&a.community.name);
        if !names.contains(village) {
            names.insert(village.to_string());
        }
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
    let coverage = store.coverage(&dicts.admin)?;
    let others: Vec<&str> = dicts
        .admin
        .divisions()
        .filter(|d| {
            d.level == crate::dictionaries::AdminLevel::District && !coverage.contains(&d.code)
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
    let sounds = SoundPool::new(names.iter().map(String::as_str));
    let exists = |n: &str| names.contains(n);
    let mut out = Vec::with_capacity(n);
    for a in &sample {
        let roll: f64 = rng.random();
        if roll < 0.03 {
            // Another 区 of Shanghai, or (always, when the data covers the whole city) a county
            // elsewhere in China.
            let place = if !others.is_empty() && rng.random_bool(0.5) {
                others
                    .choose(&mut rng)
                    .copied()
                    .unwrap_or_default()
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
            let text = match rng.random_range(0..4) {
                0 => format!("{}{}{road}{fake}号", a.district, a.town.name),
                1 => format!("{road}{}弄{}号", fake, rng.random_range(1..30)),
                // Said aloud, the marker dropped: the number still does not exist.
                2 => format!("{road}{}", spoken::spoken(&fake.to_string(), &mut rng)),
                // Said aloud before a place word.
                _ => format!(
                    "{road}{}{}",
                    spoken::spoken(&fake.to_string(), &mut rng),
                    spoken::any(&spoken::PLACE_WORDS, &mut rng)
                ),
            };
            out.push(NoisyQuery {
                text,
                expected: Expected::NotInLibrary,
                noise: vec!["not_in_library".into()],
            });
        } else {
            let (text, mut noise) = say(a, dicts, &sounds, &exists, &mut rng);
            let (text, retold) = retold::retell(text, a, &exists, &mut told);
            noise.extend(retold);
            out.push(NoisyQuery {
                text,
                expected: Expected::Address { id: a.id.clone() },
                noise,
            });
        }
    }
    Ok(out)
}

/// One way of writing or saying a real address, as the parts said in order.
fn say(
    a: &StandardAddress,
    dicts: &Dictionaries,
    sounds: &SoundPool,
    exists: &dyn Fn(&str) -> bool,
    rng: &mut ChaCha8Rng,
) -> (String, Vec<String>) {
    let mut noise: Vec<String> = Vec::new();
    let mut parts: Vec<String> = Vec::new();
    if rng.random_bool(0.08) {
        parts.push(
            ["我住在", "那个", "就是", "我家是"]
                .choose(rng)
                .unwrap_or(&"")
                .to_string(),
        );
        noise.push("filler".into());
    }
    match rng.random_range(0..4) {
        0 => parts.push(format!("上海市{}", a.district)),
        1 => parts.push(crate::dictionaries::district_short_name(&a.district)),
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
    } else if rng.random_bool(0.15) {
        // 华新 for 华新镇: the town said without its suffix.
        let short = town
            .strip_suffix("街道")
            .or_else(|| town.strip_suffix('镇'))
            .filter(|s| s.chars().count() >= 2)
            .map(str::to_string);
        if let Some(short) = short {
            town = short;
            noise.push("town_short".into());
        }
    }
    if rng.random_bool(0.6) {
        parts.push(town);
    } else {
        noise.push("no_town".into());
    }
    // Said on the phone: the numbers as heard, the markers sometimes dropped.
    let spoken_numbers = rng.random_bool(0.12);
    let numerals = !spoken_numbers && rng.random_bool(0.1);
    if numerals {
        noise.push("numerals".into());
    }
    let num = |v: &str| {
        if numerals {
            numerals::spelled(v)
        } else {
            v.to_string()
        }
    };
    let misheard = |name: &str, keep: usize, rng: &mut ChaCha8Rng| -> Option<String> {
        // A name heard as another real one is no longer this address: only unknown spellings.
        (0..4)
            .filter_map(|_| sounds.misheard(name, keep, rng))
            .find(|h| !exists(h))
    };
    let residential = a.kind == AddressKind::Residential;
    let use_poi = residential && a.poi.is_some() && rng.random_bool(0.15);
    // Whether the door is the last thing said (nothing after it).
    let door_last = a.building.is_none();
    if use_poi {
        let poi = a.poi.clone().unwrap_or_default();
        let poi = match rng
            .random_bool(0.05)
            .then(|| misheard(&poi, 1, rng))
            .flatten()
        {
            Some(h) => {
                noise.push("homophone".into());
                h
            }
            None => poi,
        };
        parts.push(poi);
        noise.push("poi_for_road_lane".into());
    } else if let Some(road) = &a.road {
        let mut road = road.clone();
        if rng.random_bool(0.08) {
            if let Some(h) = misheard(&road, 1, rng) {
                road = h;
                noise.push("homophone".into());
            }
        } else if road.ends_with("公路") && rng.random_bool(0.3) {
            road = format!("{}路", road.trim_end_matches("公路"));
            noise.push("gonglu_as_lu".into());
        }
        parts.push(road.clone());
        if rng.random_bool(0.02) {
            parts.push(road);
            noise.push("repeated".into());
        }
        if let Some(l) = &a.lane {
            if spoken_numbers {
                parts.push(format!("{}弄", spoken::spoken(l, rng)));
                noise.push("spoken_lane".into());
            } else if rng.random_bool(0.04) {
                parts.push(format!("{}支弄", num(l)));
                noise.push("lane_as_zhinong".into());
            } else {
                parts.push(format!("{}弄", num(l)));
            }
        }
    } else {
        let mut village = community_address_name(&a.community.name).to_string();
        if rng.random_bool(0.06)
            && let Some(h) = misheard(&village, 1, rng)
        {
            village = h;
            noise.push("homophone".into());
        }
        parts.push(village);
        if let Some(g) = &a.group {
            if spoken_numbers {
                parts.push(format!("{}组", spoken::spoken(g, rng)));
            } else {
                parts.push(format!("{}组", num(g)));
            }
        }
    }
    // A room or unit after the door, and whether the caller runs the door into it (28403).
    let room = (residential && rng.random_bool(0.3))
        .then(|| format!("{}{:02}", rng.random_range(1..=18), rng.random_range(1..=4)));
    let unit = (residential && room.is_some() && rng.random_bool(0.2))
        .then(|| rng.random_range(1..=6).to_string());
    if let Some(n) = &a.number {
        let run_together = door_last && room.is_some() && rng.random_bool(0.3);
        if run_together {
            // 28号403室 said 28403 or 28403室; 17号2单元 said 172单元.
            let inner = match &unit {
                Some(u) => format!("{u}单元"),
                None => String::new(),
            };
            let r = room.as_deref().unwrap_or_default();
            let tail = if inner.is_empty() && rng.random_bool(0.5) {
                ""
            } else {
                "室"
            };
            parts.push(format!("{n}{inner}{r}{tail}"));
            noise.push("door_run_into_room".into());
        } else if spoken_numbers && door_last && room.is_none() {
            parts.push(spoken::spoken(n, rng));
            noise.push("spoken_door_no_marker".into());
        } else if residential && rng.random_bool(0.25) {
            let marker = *["号楼", "栋"].choose(rng).unwrap_or(&"号楼");
            parts.push(format!("{}{marker}", num(n)));
            noise.push("building_marker".into());
        } else if rng.random_bool(0.05) {
            parts.push(format!("门牌{}号", num(n)));
            noise.push("menpai".into());
        } else if rng.random_bool(0.03) {
            // Took back a wrong door number: 12号不对13号.
            let v: u32 = n.parse().unwrap_or(1);
            parts.push(format!("{}号", v + rng.random_range(1..5)));
            parts.push(spoken::any(&spoken::TAKE_BACKS, rng).to_string());
            parts.push(format!("{}号", num(n)));
            noise.push("self_correction".into());
        } else {
            parts.push(format!("{}号", num(n)));
        }
        if !run_together && let Some(r) = &room {
            if let Some(u) = &unit {
                parts.push(format!("{u}单元"));
            }
            parts.push(format!("{r}室"));
            noise.push("room".into());
        }
    }
    if let Some(b) = &a.building {
        let marker = *["幢", "幢", "栋", "号楼", "#"].choose(rng).unwrap_or(&"幢");
        if marker != "幢" {
            noise.push("building_marker".into());
        }
        parts.push(format!("{}{marker}", num(b)));
    }
    if rng.random_bool(0.08) {
        parts.push(spoken::any(&spoken::PLACE_WORDS, rng).to_string());
        noise.push("place_word".into());
    }
    // The first name heard with what the caller said before it (在白鹤…, 我家在…).
    if rng.random_bool(0.1) {
        parts.insert(0, spoken::any(&spoken::LEAD_INS, rng).to_string());
        noise.push("lead_in".into());
    }
    let pauses = rng.random_bool(0.08);
    if pauses {
        noise.push("pauses".into());
    }
    let mut s = String::new();
    for (i, part) in parts.iter().enumerate() {
        if pauses && i > 0 && rng.random_bool(0.5) {
            s.push_str(spoken::any(&spoken::PAUSES, rng));
        }
        s.push_str(part);
    }
    (s, noise)
}
