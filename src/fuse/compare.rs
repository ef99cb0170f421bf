//! Comparing what sources say about the same place, with [`compare_levels`]: a structured record
//! becomes address levels, and two records name the same place when compare() says `same`.

use std::collections::BTreeMap;

use super::import::Field;
use crate::Level;
use crate::address::{Relation, compare_levels};

/// The address levels of a structured record's fields (town, road or village, group, lane,
/// number, building), values as given.
///
/// # Examples
/// ```
/// use std::collections::BTreeMap;
/// use dizhi::fuse::Field;
/// use dizhi::fuse::compare::record_levels;
/// let f = BTreeMap::from([(Field::Road, "华腾路".to_string()), (Field::Number, "8".to_string())]);
/// assert_eq!(record_levels(&f).len(), 2);
/// ```
pub fn record_levels(fields: &BTreeMap<Field, String>) -> Vec<(Level, String)> {
    let order = [
        (Field::Town, Level::Town),
        (Field::Road, Level::Road),
        (Field::Group, Level::Group),
        (Field::Lane, Level::Lane),
        (Field::Number, Level::Number),
        (Field::Building, Level::Building),
    ];
    let mut out = Vec::new();
    for (field, level) in order {
        if let Some(v) = fields.get(&field) {
            out.push((level, v.clone()));
        }
    }
    if !fields.contains_key(&Field::Road)
        && let Some(c) = fields.get(&Field::Community)
    {
        out.insert(
            usize::from(fields.contains_key(&Field::Town)),
            (
                Level::Community,
                crate::address::community_address_name(c).to_string(),
            ),
        );
    }
    out
}

/// Whether two structured records name the same place: compare() of their levels is `same`,
/// ignoring the 街镇 when only one of them gives it (a missing level is not a different place).
///
/// # Examples
/// ```
/// use std::collections::BTreeMap;
/// use dizhi::fuse::Field;
/// use dizhi::fuse::compare::same_place;
/// let a = BTreeMap::from([(Field::Road, "华腾路".to_string()), (Field::Number, "8".to_string())]);
/// let mut b = a.clone();
/// b.insert(Field::Town, "华新镇".to_string());
/// assert!(same_place(&a, &b));
/// b.insert(Field::Number, "10".to_string());
/// assert!(!same_place(&a, &b));
/// ```
pub fn same_place(a: &BTreeMap<Field, String>, b: &BTreeMap<Field, String>) -> bool {
    let (mut la, mut lb) = (record_levels(a), record_levels(b));
    let has_town = |l: &[(Level, String)]| l.iter().any(|(lv, _)| *lv == Level::Town);
    if has_town(&la) != has_town(&lb) {
        la.retain(|(l, _)| *l != Level::Town);
        lb.retain(|(l, _)| *l != Level::Town);
    }
    compare_levels(&la, &lb).relation == Relation::Same
}
