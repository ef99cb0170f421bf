//! The names the candidates must carry (anchors): each name said — road, compound, village —
//! resolved against the library's names exactly, by stem, by sound, by a tail, by bigrams, with
//! a side dropped, without a compound's generic end, and last one character off.

use tantivy::Term;
use tantivy::schema::Field;

use super::judge::suffix_compatible;
use super::retrieve::place_of_level;
use super::{Anchor, Matcher, Wanted};
use crate::address::community_address_name;
use crate::dictionaries::{ROAD_SIDES, road_stem};
use crate::search::keys::door_key;
use crate::search::names::{NameTable, compound_stems, said_as_firm};
use crate::search::{Correction, CorrectionKind, MatchLevel};

/// The factor of a compound found by its name without its generic end (明泰 for 明泰家园).
const COMPOUND_STEM: f64 = 0.88;

/// How much a firm named as people say it (祥平机械厂) lowers the score.
const FIRM_SAID: f64 = 0.95;

/// At most this many firms sharing the head said are asked (the building and town decide).
const FIRMS: usize = 8;

/// The factor of a name found one character off the one said (星滨村 for 星浜村).
const ONE_CHAR_OFF: f64 = 0.85;

/// More names than this one character off the one said: none of them is meant in particular.
const MAX_ONE_CHAR_OFF: usize = 24;

impl Anchor {
    /// An anchor on `to`, found for the name `from` as said, with the correction saying why.
    fn corrected(
        field: Field,
        level: MatchLevel,
        from: &str,
        to: &str,
        why: CorrectionKind,
        factor: f64,
    ) -> Anchor {
        Anchor {
            field,
            value: to.to_string(),
            level,
            correction: Some(Correction {
                from: from.to_string(),
                to: to.to_string(),
                why,
            }),
            factor,
        }
    }
}

impl Matcher {
    /// The names the candidates must carry: the road, else the compound, else the village —
    /// exact first, then by stem, sound and bigrams.
    pub(super) fn anchors(&self, w: &Wanted) -> Vec<Anchor> {
        let f = &self.index.fields;
        // The first road the library has by that very name, else the first road said.
        let road = std::iter::once(&w.road)
            .flatten()
            .chain(&w.later_roads)
            .find(|r| self.roads.contains(r))
            .or(w.road.as_ref());
        if let Some(road) = road {
            let mut found = self.resolve(road, MatchLevel::Road, f.road, &self.roads);
            if !found.is_empty() {
                // 兴康路明霞府18号: a compound named on its road with no 弄 stands for the lane;
                // its doors are asked too, and the rerank prefers the hit that has both names.
                if w.lane.is_none()
                    && let Some(poi) = &w.poi
                {
                    let whole = w
                        .community_and_poi
                        .as_ref()
                        .map(|n| self.named_place(n, f.poi))
                        .unwrap_or_default();
                    if whole.is_empty() {
                        found.extend(self.resolve(poi, MatchLevel::Poi, f.poi, &self.pois));
                    } else {
                        found.extend(whole);
                    }
                }
                return found;
            }
        }
        // 枫鑫社区文化活动中心: the community's name is the start of the place's.
        if let Some(whole) = &w.community_and_poi {
            let found = self.named_place(whole, f.poi);
            if !found.is_empty() {
                return found;
            }
        }
        if let Some(poi) = &w.poi {
            let mut found = self.resolve(poi, MatchLevel::Poi, f.poi, &self.pois);
            // 金泽海峰36号: when the name as said is not in the library, the compounds of that
            // stem (海峰苑) stand beside what sound or a suffix found (海丰小区, in another town):
            // the door and the town decide.
            // 湖胜小区 for 湖胜新村 likewise, beside 湖盛小区 by sound.
            if !found.is_empty()
                && !said_as_firm(poi)
                && found.iter().all(|a| a.correction.is_some())
            {
                let stems = self.compound_stem_anchors(poi, f.poi);
                for a in stems
                    .into_iter()
                    .chain(self.suffix_swapped(poi, f.poi, &self.pois))
                {
                    if !found.iter().any(|b| b.value == a.value) {
                        found.push(a);
                    }
                }
            }
            if !found.is_empty() {
                return found;
            }
            // A compound said without its generic end (明泰8号 for 明泰家园8号), and a name the
            // parser could not class (育天达道 for 育天大道: no suffix it knows) that may be a
            // road's, by its stem or sound: all kept, the door and the town decide.
            let mut found = self.compound_stem_anchors(poi, f.poi);
            if w.road.is_none() {
                found.extend(self.resolve(poi, MatchLevel::Road, f.road, &self.roads));
            }
            if !found.is_empty() {
                return found;
            }
        }
        if let Some(c) = &w.community {
            let name = community_address_name(c);
            let found = self.resolve(name, MatchLevel::Community, f.village, &self.villages);
            if !found.is_empty() {
                return found;
            }
        }
        // Last, each name said one character off one of the library's.
        let said = [
            (
                road.map(String::as_str),
                MatchLevel::Road,
                f.road,
                &self.roads,
            ),
            (w.poi.as_deref(), MatchLevel::Poi, f.poi, &self.pois),
            (
                w.community.as_deref().map(community_address_name),
                MatchLevel::Community,
                f.village,
                &self.villages,
            ),
        ];
        said.into_iter()
            .filter_map(|(name, level, field, table)| {
                Some(self.one_char_off(name?, level, field, table, w))
            })
            .find(|found| !found.is_empty())
            .unwrap_or_default()
    }

    /// A public place as said, or with a covered district's name before it, or under another
    /// spelling of its kind (华顺社区医院 for 青浦区华顺社区卫生服务中心).
    fn named_place(&self, said: &str, exact: Field) -> Vec<Anchor> {
        let found = self.district_named(said, exact);
        if !found.is_empty() {
            return found;
        }
        let Some((stem, group)) = self.parser.place_generics().iter().find_map(|group| {
            group
                .iter()
                .find_map(|g| said.strip_suffix(g.as_str()))
                .map(|stem| (stem, group))
        }) else {
            return Vec::new();
        };
        group
            .iter()
            .flat_map(|g| self.district_named(&format!("{stem}{g}"), exact))
            .map(|mut a| {
                a.factor *= 0.95;
                if let Some(c) = a.correction.as_mut() {
                    c.from = said.to_string();
                }
                a
            })
            .collect()
    }

    /// The places the library holds as `said`, or as `said` with a covered district's name
    /// before it (青浦区翠春小学).
    fn district_named(&self, said: &str, exact: Field) -> Vec<Anchor> {
        std::iter::once((said.to_string(), 1.0))
            .chain(
                self.coverage
                    .districts()
                    .iter()
                    .map(|d| (format!("{}{said}", d.name), 0.99)),
            )
            .filter(|(n, _)| self.pois.contains(n))
            .map(|(n, factor)| {
                let why = CorrectionKind::Variant;
                Anchor::corrected(exact, MatchLevel::Poi, said, &n, why, factor)
            })
            .collect()
    }

    /// The compounds whose name without its generic end is `stem` (明泰 for 明泰家园).
    fn compound_stem_anchors(&self, stem: &str, exact: Field) -> Vec<Anchor> {
        self.pois
            .by_compound_stem(stem)
            .into_iter()
            .map(|n| {
                let why = CorrectionKind::Variant;
                Anchor::corrected(exact, MatchLevel::Poi, stem, n, why, COMPOUND_STEM)
            })
            .collect()
    }

    /// The compounds whose stem is the stem of `name` under another generic end (翠柳景苑:
    /// 翠柳景 and 翠柳, as the library's stems are cut).
    fn suffix_swapped(&self, name: &str, exact: Field, table: &NameTable) -> Vec<Anchor> {
        let ends: Vec<&str> = self.compound_ends.iter().map(String::as_str).collect();
        let mut names: Vec<&str> = Vec::new();
        for st in compound_stems(name, &ends) {
            for n in table.by_compound_stem(&st) {
                if !names.contains(&n) {
                    names.push(n);
                }
            }
        }
        names
            .into_iter()
            .filter(|n| *n != name)
            .map(|n| {
                let why = CorrectionKind::Variant;
                Anchor::corrected(exact, MatchLevel::Poi, name, n, why, COMPOUND_STEM)
            })
            .collect()
    }

    /// 祥平机械厂 for 上海祥平机械有限公司: the firms a name may stand for, as people say them.
    fn firms_said(&self, name: &str, exact: Field, table: &NameTable) -> Vec<Anchor> {
        table
            .by_firm_stem(name)
            .into_iter()
            .take(FIRMS)
            .map(|n| {
                let why = CorrectionKind::Variant;
                Anchor::corrected(exact, MatchLevel::Poi, name, n, why, FIRM_SAID)
            })
            .collect()
    }

    fn resolve(
        &self,
        name: &str,
        level: MatchLevel,
        exact: Field,
        table: &NameTable,
    ) -> Vec<Anchor> {
        // 龙鑫公司, 宁泽厂: a name said as a firm's is looked up as a firm first (not 龙鑫名邸 or
        // 宁泽城 by sound).
        if level == MatchLevel::Poi && !table.contains(name) && said_as_firm(name) {
            let firms = self.firms_said(name, exact, table);
            if !firms.is_empty() {
                return firms;
            }
        }
        let direct = self.resolve_direct(name, level, exact, table, true);
        // 兴峰路 for 兴峰东路: when the road as said is not in the library, the roads of its
        // stem with a side stand beside whatever else is found, and the door decides.
        let sided = if level == MatchLevel::Road && !table.contains(name) {
            Self::side_dropped(name, exact, table)
        } else {
            Vec::new()
        };
        let with_sided = |mut found: Vec<Anchor>| {
            for a in &sided {
                if !found.iter().any(|f| f.value == a.value) {
                    found.push(a.clone());
                }
            }
            found
        };
        if !direct.is_empty() {
            return with_sided(direct);
        }
        // 长锦苑小区 for 长锦苑 and the reverse: 小区 is what callers add to any compound; and
        // 杨元12组 for 杨元村12组: callers drop 村 before a group.
        let other = match level {
            MatchLevel::Poi => Some(match name.strip_suffix("小区") {
                Some(stem) => stem.to_string(),
                None => format!("{name}小区"),
            }),
            // 青龙大队: a village by its commune-era name.
            MatchLevel::Community if name.ends_with("大队") => Some(format!(
                "{}村",
                name.trim_end_matches("大队").trim_end_matches("生产")
            )),
            MatchLevel::Community if !name.ends_with('村') => Some(format!("{name}村")),
            _ => None,
        };
        // 翠春小学 for 青浦区翠春小学: a public place the library names after its district.
        if level == MatchLevel::Poi {
            let found = self.named_place(name, exact);
            if !found.is_empty() {
                return found;
            }
        }
        if let Some(other) = other {
            let found = self.resolve_direct(&other, level, exact, table, false);
            if !found.is_empty() {
                return found
                    .into_iter()
                    .map(|mut a| {
                        a.factor *= 0.97;
                        a.correction.get_or_insert(Correction {
                            from: name.to_string(),
                            to: a.value.clone(),
                            why: CorrectionKind::Variant,
                        });
                        a
                    })
                    .collect();
            }
        }
        // A word glued before the name (在白鹤…, 我家在…, an old town name before a compound):
        // the longest tail of the text that is a name of the library, exactly, by stem or sound.
        let chars: Vec<char> = name.chars().collect();
        let min_tail = 3;
        for k in 1..=chars.len().saturating_sub(min_tail).min(8) {
            let tail: String = chars[k..].iter().collect();
            let mut found = self.resolve_direct(&tail, level, exact, table, false);
            if found.is_empty() && level == MatchLevel::Road {
                // 青浦城浦路: the district glued before a road said without its side.
                found = Self::side_dropped(&tail, exact, table);
            }
            if !found.is_empty() {
                return with_sided(
                    found
                        .into_iter()
                        .map(|mut a| {
                            a.factor *= 0.95;
                            a.correction = Some(Correction {
                                from: name.to_string(),
                                to: a.value.clone(),
                                why: a.correction.map_or(CorrectionKind::Variant, |c| c.why),
                            });
                            a
                        })
                        .collect(),
                );
            }
        }
        // 泰长家园 for 泰长花园, 湖胜小区 for 湖胜苑: a compound said by its own name with
        // another generic end; the stem's compounds before any name one character off.
        if level == MatchLevel::Poi {
            let swapped = self.suffix_swapped(name, exact, table);
            if !swapped.is_empty() {
                return swapped;
            }
            // 珠宏物流园: a firm by the head of its name (one said as a firm was asked first).
            if !said_as_firm(name) {
                let firms = self.firms_said(name, exact, table);
                if !firms.is_empty() {
                    return firms;
                }
            }
        }
        let roads = level == MatchLevel::Road;
        let nearest = table
            .nearest_by_bigrams(name, 0.6)
            .filter(|(n, _)| !roads || suffix_compatible(name, n))
            .map(|(n, dice)| {
                let why = CorrectionKind::Typo;
                vec![Anchor::corrected(exact, level, name, n, why, 0.8 * dice)]
            })
            .unwrap_or_default();
        with_sided(nearest)
    }

    /// 星滨村 for 星浜村: a name one character off the one said — mistyped by its look, not its
    /// sound — when no part of the input found anything closer; the door decides between several.
    fn one_char_off(
        &self,
        name: &str,
        level: MatchLevel,
        exact: Field,
        table: &NameTable,
        w: &Wanted,
    ) -> Vec<Anchor> {
        let roads = level == MatchLevel::Road;
        let mut off = table.one_char_off(name);
        if off.len() > MAX_ONE_CHAR_OFF {
            // 华X路 is one char off too many roads to be anyone's in particular — unless the
            // door said narrows them (长海路137号: few of the 长X路 have a 137号).
            match (place_of_level(level), w.number.as_deref()) {
                (Some(place), Some(number)) => {
                    let searcher = self.index.reader.searcher();
                    let door = self.index.fields.door;
                    off.retain(|n| {
                        let key = door_key(place, n, w.lane.as_deref(), w.group.as_deref(), number);
                        searcher
                            .doc_freq(&Term::from_field_text(door, &key))
                            .is_ok_and(|k| k > 0)
                    });
                    if off.len() > MAX_ONE_CHAR_OFF {
                        off.clear();
                    }
                }
                _ => off.clear(),
            }
        }
        off.into_iter()
            .filter(|n| !roads || suffix_compatible(name, n))
            .map(|n| Anchor::corrected(exact, level, name, n, CorrectionKind::Typo, ONE_CHAR_OFF))
            .collect()
    }

    /// 青利路 for 青利南路: a side dropped from a road's name. Every road of the stem with a side
    /// is kept, and the door number decides (several with that door are a tie).
    fn side_dropped(name: &str, exact: Field, table: &NameTable) -> Vec<Anchor> {
        let stem = road_stem(name);
        let suffix = &name[stem.len()..];
        if suffix.is_empty() {
            return Vec::new();
        }
        ROAD_SIDES
            .iter()
            .map(|side| format!("{stem}{side}{suffix}"))
            .filter(|sided| table.contains(sided))
            .map(|sided| {
                let why = CorrectionKind::Variant;
                Anchor::corrected(exact, MatchLevel::Road, name, &sided, why, 0.9)
            })
            .collect()
    }

    /// A name found exactly, by stem (公路 said as 路) or by sound; with `alike`, an exact name
    /// keeps the names that sound the same as weaker anchors.
    fn resolve_direct(
        &self,
        name: &str,
        level: MatchLevel,
        exact: Field,
        table: &NameTable,
        alike_too: bool,
    ) -> Vec<Anchor> {
        let roads = level == MatchLevel::Road;
        let corrected =
            |to: &str, why, factor| Anchor::corrected(exact, level, name, to, why, factor);
        // Names that sound the same, keeping direction words (城中北路 is not 城中南路).
        let alike = |exclude: &str| -> Vec<&str> {
            table
                .same_sound(name)
                .into_iter()
                .filter(|n| *n != exclude && (!roads || suffix_compatible(name, n)))
                .collect()
        };
        if table.contains(name) {
            // The name exists; names that sound the same stay in as weaker anchors, since a
            // misheard name can be another real one (中杨路 for 中阳路).
            let mut out = vec![Anchor {
                field: exact,
                value: name.to_string(),
                level,
                correction: None,
                factor: 1.0,
            }];
            if !alike_too {
                return out;
            }
            out.extend(
                alike(name)
                    .into_iter()
                    .map(|n| corrected(n, CorrectionKind::Homophone, 0.85)),
            );
            return out;
        }
        // 公路 said as 路 and a name misheard: both kept, the door number decides.
        let mut out: Vec<Anchor> = table
            .same_stem(name)
            .into_iter()
            .map(|n| corrected(n, CorrectionKind::Variant, 0.97))
            .collect();
        for n in alike(name) {
            if !out.iter().any(|a| a.value == n) {
                out.push(corrected(n, CorrectionKind::Homophone, 0.93));
            }
        }
        out
    }
}
