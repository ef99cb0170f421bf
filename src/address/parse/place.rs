//! After the walk: where the address is (outside the district, with its path), the upper
//! levels inferred from the dictionaries, and ambiguity between divisions.

use super::*;

impl Parser {
    /// Outside / inferred upper levels / ambiguity.
    pub(super) fn place(&self, st: &Reading, parse: &mut Parse) {
        parse.ambiguous.extend(st.ambiguous.iter().cloned());
        let deepest = st.deepest_admin();
        if let Some(d) = deepest {
            let inside = self.coverage.contains(&d.code);
            // 上海市 alone is above the covered districts, not outside them.
            let above = matches!(d.code.as_str(), "31" | "310000000000")
                || (d.level == Level::Province && d.code.starts_with("31"));
            if !inside && !above {
                parse.outside = Some(Outside {
                    level: d.level,
                    name: self.admin_path(d),
                    code: d.code.clone(),
                });
            }
        }
        if parse.outside.is_some() {
            return;
        }
        let has = |l: Level| parse.components.iter().any(|c| c.level == l);
        let mut town: Option<(String, Option<String>, String)> = None;
        if !has(Level::Town) {
            if let Some(road) = parse.components.iter().find(|c| c.level == Level::Road)
                && let Some(towns) = self.road_towns.get(&road.value)
            {
                match towns.as_slice() {
                    [] => {}
                    [t] => town = Some((t.clone(), self.towns.get(t).cloned(), road.value.clone())),
                    many => parse.ambiguous.push(Ambiguity {
                        level: Level::Town,
                        candidates: many.to_vec(),
                        from: road.value.clone(),
                    }),
                }
            }
            if town.is_none()
                && let Some(c) = st
                    .comps
                    .iter()
                    .find(|r| r.level == Level::Community && r.admin.is_some())
                && let Some(hit) = &c.admin
                && let Some((_, Some(parent))) = self.shanghai.get(&hit.code)
                && let Some((name, _)) = self.shanghai.get(parent)
            {
                town = Some((name.clone(), Some(parent.clone()), c.value.clone()));
            }
        }
        if let Some((name, code, from)) = &town {
            parse.inferred.push(Inferred {
                level: Level::Town,
                value: name.clone(),
                code: code.clone(),
                from: from.clone(),
            });
        }
        if !has(Level::District) {
            let town_code = town.as_ref().and_then(|t| t.1.clone()).or_else(|| {
                st.comps
                    .iter()
                    .find(|r| r.level == Level::Town)
                    .and_then(|r| r.admin.as_ref())
                    .map(|h| h.code.clone())
            });
            let from = town.as_ref().map(|t| t.0.clone()).or_else(|| {
                st.comps
                    .iter()
                    .find(|r| r.level == Level::Town)
                    .map(|r| r.value.clone())
            });
            if let (Some(code), Some(from)) = (town_code, from)
                && let Some((_, Some(parent))) = self.shanghai.get(&code)
                && let Some((name, _)) = self.shanghai.get(parent)
            {
                parse.inferred.push(Inferred {
                    level: Level::District,
                    value: name.clone(),
                    code: Some(parent.clone()),
                    from,
                });
            }
        }
    }
}
