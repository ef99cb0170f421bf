//! compare(a, b): whether two addresses name the same place, one contains the other, or they
//! differ — and at which level they part. Fusion and the matcher both use it.

use serde::{Deserialize, Serialize};

use super::parse::Parse;
use crate::Level;

/// How two addresses relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// The same place.
    Same,
    /// The first contains the second (华腾路1288弄 contains 华腾路1288弄3号).
    Contains,
    /// The first lies within the second.
    Within,
    /// Different places.
    Different,
}

/// The result of [`compare`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// How they relate.
    pub relation: Relation,
    /// The first level at which they part (a different value, or one has it and the other not);
    /// `None` when they are the same.
    pub parted_at: Option<Level>,
    /// The levels both have, with equal values.
    pub shared: Vec<Level>,
    /// How likely the relation's class (same; contains or within; different) is right, in
    /// [0, 1], from the relation model; `None` from the rules alone ([`compare_levels`]).
    pub confidence: Option<f64>,
}

/// The levels of a parse as a standard address has them: admin levels from the text or inferred,
/// then the place levels, with `3号楼` after a 弄 read as `3号` (it is the door number there).
///
/// # Examples
/// ```
/// use dizhi::address::standard_levels;
/// let dicts = dizhi::Dictionaries::embedded().unwrap();
/// let p = dizhi::Parser::new(&dicts).parse("华腾路1288弄3号楼");
/// let levels = standard_levels(&p);
/// assert!(levels.contains(&(dizhi::Level::Number, "3".to_string())));
/// assert!(!levels.iter().any(|(l, _)| *l == dizhi::Level::Building));
/// ```
pub fn standard_levels(p: &Parse) -> Vec<(Level, String)> {
    let mut out: Vec<(Level, String)> = p
        .components
        .iter()
        .filter(|c| !matches!(c.level, Level::Province | Level::City))
        .map(|c| (c.level, c.value.clone()))
        .collect();
    for i in &p.inferred {
        if matches!(i.level, Level::District | Level::Town)
            && !out.iter().any(|(l, _)| *l == i.level)
        {
            out.push((i.level, i.value.clone()));
        }
    }
    let has = |out: &[(Level, String)], level: Level| out.iter().any(|(l, _)| *l == level);
    if has(&out, Level::Lane)
        && !has(&out, Level::Number)
        && let Some(b) = out.iter_mut().find(|(l, _)| *l == Level::Building)
    {
        b.0 = Level::Number;
    }
    out.sort_by_key(|(l, _)| *l);
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

/// Compares two parsed addresses: the relation model
/// ([`relation`](crate::address::relation)) decides same / partial / different with a calibrated
/// confidence; the rules ([`compare_rules`]) say where they part, what they share and which side
/// contains the other. Without a usable model the rules decide alone.
///
/// # Examples
/// ```
/// use dizhi::address::{compare, Relation};
/// let dicts = dizhi::Dictionaries::embedded().unwrap();
/// let parser = dizhi::Parser::new(&dicts);
/// let c = compare(&parser.parse("华腾路1288弄"), &parser.parse("华腾路1288弄3号"));
/// assert_eq!(c.relation, Relation::Contains);
/// let p = c.confidence.unwrap();
/// assert!((0.0..=1.0).contains(&p));
/// ```
pub fn compare(a: &Parse, b: &Parse) -> Comparison {
    let rules = compare_rules(a, b);
    match super::relation::RelationModel::embedded() {
        Ok(model) => {
            let (sa, sb) = (super::relation::Side::new(a), super::relation::Side::new(b));
            let x = super::relation::features(&sa, &sb, &rules);
            super::relation::combine(&sa, &sb, rules, model.probabilities(&x), model.weights())
        }
        Err(_) => rules,
    }
}

/// Compares two parsed addresses by the rules alone (no confidence).
///
/// Upper admin levels (district, town) that only one side gives do not make them differ: callers
/// leave them out all the time. Below them, a level only one side has makes that side the more
/// specific one — or, when each side has a level the other lacks, different places.
///
/// # Examples
/// ```
/// use dizhi::address::{compare_rules as compare, Relation};
/// let dicts = dizhi::Dictionaries::embedded().unwrap();
/// let parser = dizhi::Parser::new(&dicts);
/// let same = compare(&parser.parse("青浦区华新镇华腾路1288弄3号"), &parser.parse("华腾路一二八八弄3号楼"));
/// assert_eq!(same.relation, Relation::Same);
/// let c = compare(&parser.parse("华腾路1288弄"), &parser.parse("华腾路1288弄3号"));
/// assert_eq!(c.relation, Relation::Contains);
/// let d = compare(&parser.parse("华腾路1288弄3号"), &parser.parse("华腾路1288弄5号"));
/// assert_eq!((d.relation, d.parted_at), (Relation::Different, Some(dizhi::Level::Number)));
/// ```
pub fn compare_rules(a: &Parse, b: &Parse) -> Comparison {
    compare_levels(&standard_levels(a), &standard_levels(b))
}

/// [`compare`] on level/value lists (sorted by level), e.g. of stored standard addresses.
pub fn compare_levels(a: &[(Level, String)], b: &[(Level, String)]) -> Comparison {
    fn get(side: &[(Level, String)], level: Level) -> Option<&str> {
        side.iter()
            .find(|(l, _)| *l == level)
            .map(|(_, v)| v.as_str())
    }
    let mut shared = Vec::new();
    let mut only_a = Vec::new();
    let mut only_b = Vec::new();
    for level in Level::ALL {
        match (get(a, level), get(b, level)) {
            (Some(x), Some(y)) if x == y => shared.push(level),
            (Some(_), Some(_)) => {
                return Comparison {
                    relation: Relation::Different,
                    parted_at: Some(level),
                    shared,
                    confidence: None,
                };
            }
            (Some(_), None) => only_a.push(level),
            (None, Some(_)) => only_b.push(level),
            (None, None) => {}
        }
    }
    let admin = |l: &Level| {
        matches!(
            l,
            Level::Province | Level::City | Level::District | Level::Town
        )
    };
    only_a.retain(|l| !admin(l));
    only_b.retain(|l| !admin(l));
    // One side is the more specific only when what it adds lies below everything the other has:
    // 华腾路3号 does not contain 华腾路1288弄3号, whose 3号 is inside the lane.
    let deepest =
        |side: &[(Level, String)]| side.iter().map(|(l, _)| *l).filter(|l| !admin(l)).max();
    let (relation, parted_at) = match (only_a.first(), only_b.first()) {
        (None, None) => (Relation::Same, None),
        (None, Some(&l)) if deepest(a).is_none_or(|d| d < l) => (Relation::Contains, Some(l)),
        (Some(&l), None) if deepest(b).is_none_or(|d| d < l) => (Relation::Within, Some(l)),
        (x, y) => (Relation::Different, x.into_iter().chain(y).min().copied()),
    };
    Comparison {
        relation,
        parted_at,
        shared,
        confidence: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lv(pairs: &[(Level, &str)]) -> Vec<(Level, String)> {
        pairs.iter().map(|(l, v)| (*l, v.to_string())).collect()
    }

    #[test]
    fn missing_upper_levels_do_not_part_addresses() {
        let a = lv(&[
            (Level::Town, "华新镇"),
            (Level::Road, "华腾路"),
            (Level::Number, "3"),
        ]);
        let b = lv(&[(Level::Road, "华腾路"), (Level::Number, "3")]);
        assert_eq!(compare_levels(&a, &b).relation, Relation::Same);
    }

    #[test]
    fn a_different_town_parts_them_at_the_town() {
        let a = lv(&[(Level::Town, "华新镇"), (Level::Road, "华腾路")]);
        let b = lv(&[(Level::Town, "徐泾镇"), (Level::Road, "华腾路")]);
        let c = compare_levels(&a, &b);
        assert_eq!(
            (c.relation, c.parted_at),
            (Relation::Different, Some(Level::Town))
        );
    }

    #[test]
    fn a_door_on_the_road_and_a_door_in_a_lane_are_different_places() {
        let a = lv(&[(Level::Road, "华腾路"), (Level::Number, "3")]);
        let b = lv(&[
            (Level::Road, "华腾路"),
            (Level::Lane, "1288"),
            (Level::Number, "3"),
        ]);
        let c = compare_levels(&a, &b);
        assert_eq!(
            (c.relation, c.parted_at),
            (Relation::Different, Some(Level::Lane))
        );
        let d = lv(&[
            (Level::Road, "华腾路"),
            (Level::Number, "3"),
            (Level::Building, "2"),
        ]);
        let c = compare_levels(&d, &b);
        assert_eq!(
            (c.relation, c.parted_at),
            (Relation::Different, Some(Level::Lane))
        );
    }

    #[test]
    fn the_more_specific_address_lies_within() {
        let a = lv(&[
            (Level::Road, "华腾路"),
            (Level::Lane, "1288"),
            (Level::Number, "3"),
            (Level::Room, "502"),
        ]);
        let b = lv(&[(Level::Road, "华腾路"), (Level::Lane, "1288")]);
        let c = compare_levels(&a, &b);
        assert_eq!(
            (c.relation, c.parted_at),
            (Relation::Within, Some(Level::Number))
        );
    }
}
