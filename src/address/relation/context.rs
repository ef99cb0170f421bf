//! Candidate-list (listwise) context: map search returns a query's candidates as a list, and a
//! pair's class depends on its siblings — mostly at most one candidate is the same place, and the
//! one most like the query is far likelier to be it. For a few key similarities of each pair
//! ([`KEYS`]) these features say how the candidate stands in its list: its rank, its gap to the
//! list's best and to the best of the others, whether it is the only best; plus the list's
//! length and how many other candidates share its POI or road.

use std::sync::OnceLock;

use super::features::{Side, feature_names};

/// The pair features the context is computed on, and whether a higher value means more alike
/// (`false`: lower is more alike, such as an edit distance).
pub const KEYS: &[(&str, bool)] = &[
    ("subseq_a", true),
    ("subseq_b", true),
    ("core_subseq_b", true),
    ("core_bigram_jaccard", true),
    ("edit", false),
    ("name_dice", true),
    ("name_sound_dice", true),
    ("entity_dice", true),
    ("entity_stem_dice", true),
    ("names_best_dice", true),
    ("poi_sim", true),
    ("road_sim", true),
    ("tiled_a", true),
    ("tiled_b", true),
    ("leftover_name_b", false),
];

/// The context features' names, in the order [`add_context`] appends them.
pub fn context_names() -> Vec<String> {
    let mut out = vec![
        "list_len".to_string(),
        "list_same_poi".to_string(),
        "list_same_road".to_string(),
        "list_same_entity".to_string(),
    ];
    for (key, _) in KEYS {
        for what in ["rank", "from_max", "from_second", "unique_max"] {
            out.push(format!("ctx_{key}_{what}"));
        }
    }
    out
}

/// Where each key sits among the pair features.
fn key_positions() -> &'static [usize] {
    static POS: OnceLock<Vec<usize>> = OnceLock::new();
    POS.get_or_init(|| {
        let names = feature_names();
        KEYS.iter()
            .map(|(k, _)| {
                names
                    .iter()
                    .position(|n| n == k)
                    .unwrap_or_else(|| panic!("context key {k} is not a pair feature"))
            })
            .collect()
    })
}

/// Appends the context features to each row of one query's candidate list (`rows[i]` holds the
/// pair features of the query and `candidates[i]`). A list of one is its own best.
pub fn add_context(rows: &mut [Vec<f64>], candidates: &[&Side]) {
    let n = rows.len();
    let pos = key_positions();
    // Each key's values, signed so that higher is more alike.
    let values: Vec<Vec<f64>> = KEYS
        .iter()
        .zip(pos)
        .map(|((_, higher), &p)| {
            rows.iter()
                .map(|r| if *higher { r[p] } else { -r[p] })
                .collect()
        })
        .collect();
    let mut extra: Vec<Vec<f64>> = vec![Vec::with_capacity(4 + 4 * KEYS.len()); n];
    for (i, e) in extra.iter_mut().enumerate() {
        let others = (0..n).filter(|&j| j != i);
        let c = candidates.get(i);
        let share = |f: &dyn Fn(&Side) -> Option<String>| -> f64 {
            let Some(v) = c.and_then(|c| f(c)) else {
                return -1.0;
            };
            others
                .clone()
                .filter(|&j| candidates.get(j).and_then(|o| f(o)).as_ref() == Some(&v))
                .count() as f64
        };
        e.push(n as f64);
        e.push(share(&|s| s.level_value(crate::Level::Poi)));
        e.push(share(&|s| s.level_value(crate::Level::Road)));
        e.push(share(&|s| s.entity_text()));
        for v in &values {
            let x = v[i];
            let rank = others.clone().filter(|&j| v[j] > x).count();
            let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let second = others
                .clone()
                .map(|j| v[j])
                .fold(f64::NEG_INFINITY, f64::max);
            let from_second = if second.is_finite() { x - second } else { 0.0 };
            e.push(rank as f64);
            e.push(x - max);
            e.push(from_second);
            e.push(f64::from(u8::from(x > second)));
        }
    }
    for (r, e) in rows.iter_mut().zip(extra) {
        r.extend(e);
    }
}
