//! An address that names a place outside the covered area: before answering `outside`, the
//! readings in which it is one of ours after all — a bare village or town name other districts
//! share (东方村), a short far name that opens the address and runs into one of our names
//! (福泉山冬路, 太平1组1号), or a short far name with nothing but numbers after it (太平4-15: a
//! village said without 村).

use super::Matcher;
use crate::Level;
use crate::address::{Outside, Parse};
use crate::search::{Match, MatchLevel, Result};

impl Matcher {
    /// The first local reading of `p` that names an address of the library, else `outside`.
    pub(super) fn outside_or_ours(&self, p: &Parse, o: &Outside, mut m: Match) -> Result<Match> {
        for local in bare_name_local(p)
            .into_iter()
            .chain(short_division_glued(p))
            .chain(short_division_before_numbers(p))
        {
            let found = self.normalize_parse(&local)?;
            if found.level.is_address() || self.names_a_place_of_ours(&local, &found) {
                return Ok(found);
            }
        }
        m.level = MatchLevel::Outside;
        m.address = Some(o.name.clone());
        m.score = 0.95;
        Ok(m)
    }

    /// 兴宁华庭, 安康公馆 alone: a local reading that finds, with no correction, a road,
    /// compound or village the library holds by the very name the reading glued (a far county's
    /// stem opening one of our names). Said with no door, the name is the whole answer.
    fn names_a_place_of_ours(&self, local: &Parse, found: &Match) -> bool {
        let named = |level: Level, table: &super::super::names::NameTable| {
            local
                .components
                .iter()
                .any(|c| c.level == level && table.contains(&c.value))
        };
        let held = match found.level {
            MatchLevel::Road => named(Level::Road, &self.roads),
            MatchLevel::Poi | MatchLevel::Lane => named(Level::Poi, &self.pois),
            MatchLevel::Community => named(Level::Community, &self.villages),
            _ => false,
        };
        held && found.corrections.is_empty()
    }
}

/// The parse read locally when no province, city or district is named: a bare village or town
/// name that other districts share (东方村) is still most likely ours, the village as written.
fn bare_name_local(p: &Parse) -> Option<Parse> {
    let named_elsewhere = p
        .components
        .iter()
        .any(|c| matches!(c.level, Level::Province | Level::City | Level::District));
    if named_elsewhere {
        return None;
    }
    let mut local = p.clone();
    local.outside = None;
    if let Some(c) = local
        .components
        .iter_mut()
        .find(|c| c.level == Level::Community)
    {
        c.value = c.text.clone();
    }
    Some(local)
}

/// The parse read locally when its only sign of elsewhere is a short division name (no suffix:
/// 福泉 for 福泉市) that opens the address and runs straight into a road, compound or village
/// name: that name with the short one glued back on its front.
fn short_division_glued(p: &Parse) -> Option<Parse> {
    let [first, next, ..] = p.components.as_slice() else {
        return None;
    };
    let short = matches!(first.level, Level::City | Level::District)
        && first.said_by_stem()
        && first.end == next.start
        && matches!(
            next.level,
            Level::Road | Level::Poi | Level::Community | Level::Group
        );
    let alone = p.components[1..]
        .iter()
        .all(|c| !matches!(c.level, Level::Province | Level::City | Level::District));
    if !short || !alone {
        return None;
    }
    let mut local = p.clone();
    local.outside = None;
    if next.level == Level::Group {
        // 太平1组1号: a name before a group is a village's (太平村), not 太平区.
        let village = &mut local.components[0];
        village.level = Level::Community;
        village.value = village.text.clone();
        return Some(local);
    }
    let glued = &mut local.components[1];
    glued.value = format!("{}{}", first.text, glued.value);
    glued.text = format!("{}{}", first.text, glued.text);
    glued.start = first.start;
    local.components.remove(0);
    Some(local)
}

/// The parse read locally when it is a short division name (no suffix: 太平 for 太平区) and
/// numbers only (太平4-15, 新和24-2): no caller of a district's hotline names a far county by its
/// bare stem and a door; it is a name of ours said without its suffix (a village without 村), read
/// as a compound-or-village name for the readings that try both. Nothing else is said, so the far
/// division stays the answer when the library has no such door.
fn short_division_before_numbers(p: &Parse) -> Option<Parse> {
    let (first, rest) = p.components.split_first()?;
    let short = matches!(first.level, Level::City | Level::District) && first.said_by_stem();
    let numbers_only = !rest.is_empty()
        && rest.iter().all(|c| {
            matches!(
                c.level,
                Level::Number | Level::Building | Level::Room | Level::Unit
            )
        });
    if !short || !numbers_only || rest[0].start != first.end {
        return None;
    }
    let mut local = p.clone();
    local.outside = None;
    let name = &mut local.components[0];
    name.level = Level::Poi;
    name.value = name.text.clone();
    Some(local)
}
