//! A structured door plate (公安门牌): its spelling put right (old and misspelt 街镇, homophone
//! road and village names, 幢 markers, Chinese numerals), then matched by key, else through the
//! matcher on its full text.

use super::*;

/// Chinese numerals as digits (一二八八 → 1288, 十三 → 13); `None` when not all numerals.
pub(super) fn cn_number(s: &str) -> Option<String> {
    let chars: Vec<char> = s.chars().collect();
    numerals::to_digits(&chars)
}

pub(super) fn has_cn_numeral(s: &str) -> bool {
    s.chars().any(numerals::is_numeral)
}

/// A 幢 value without its marker: `3栋` → (`3`, Some("栋")).
pub(super) fn strip_building_marker(b: &str) -> (String, Option<&'static str>) {
    for m in ["号楼", "栋", "#", "座", "幢", "号"] {
        if let Some(stem) = b.strip_suffix(m) {
            let marker = match m {
                "号楼" => "号楼",
                "栋" => "栋",
                "#" => "#",
                "座" => "座",
                "幢" => "幢",
                _ => "号",
            };
            return (stem.to_string(), Some(marker));
        }
    }
    (b.to_string(), None)
}

impl RecordCheck<'_> {
    /// A structured door plate; returns its normalized fields for the duplicate check. An `Err`
    /// is the index failing, never the record.
    pub(super) fn door_plate(
        &self,
        out: &mut Checked,
        fields: &BTreeMap<Field, String>,
        mapping: &Mapping,
    ) -> Result<BTreeMap<Field, String>> {
        let r = self.r;
        let mut norm = fields.clone();
        norm.remove(&Field::Address);
        norm.remove(&Field::Lon);
        norm.remove(&Field::Lat);
        norm.remove(&Field::Id);
        norm.remove(&Field::District);
        let mut town = None;
        // 街镇: missing, misspelt, old.
        let gives_town = mapping.columns.values().any(|f| *f == Field::Town);
        match fields.get(&Field::Town) {
            None if gives_town => self.push(
                out,
                RuleId::MissingLevel,
                "town",
                None,
                "no 街镇".into(),
                serde_json::json!({"level": "town"}),
            ),
            None => {}
            Some(t) if r.towns.contains(t) => town = Some(t.clone()),
            Some(t) => {
                if let Some((to, kind)) = r.town_aliases.get(t) {
                    let kind = if *kind == AliasKind::Typo {
                        "typo"
                    } else {
                        "old_name"
                    };
                    self.push(
                        out,
                        RuleId::NonStandardSpelling,
                        kind,
                        Some(to.clone()),
                        format!("街镇 {t} for {to}"),
                        serde_json::json!({"field": "town", "given": t, "standard": to}),
                    );
                    // For a split old unit the standard address says which of its successors.
                    if !to.contains('|') {
                        norm.insert(Field::Town, to.clone());
                        town = Some(to.clone());
                    }
                } else {
                    self.push(
                        out,
                        RuleId::NonStandardSpelling,
                        "unknown_town",
                        None,
                        format!("unknown 街镇 {t}"),
                        serde_json::json!({"field": "town", "given": t}),
                    );
                }
            }
        }
        // Road or village; among names that sound alike, the one with this door plate, and of
        // those the one whose standard address is in the 街镇 (2) and 居委 (1) the record gives.
        let plate_rank = |n: &str, community_too: bool| -> u8 {
            let g = |f: Field| fields.get(&f).map(String::as_str).unwrap_or("");
            let b = strip_building_marker(g(Field::Building)).0;
            let Some(a) = r.by_door(
                &key(n, g(Field::Lane), g(Field::Number), g(Field::Group), &b),
                town.as_deref(),
                fields.get(&Field::District).map(String::as_str),
            ) else {
                return 0;
            };
            1 + 2 * u8::from(town.as_deref() == Some(&*a.town))
                + u8::from(
                    community_too
                        && fields.get(&Field::Community).map(String::as_str) == Some(&*a.community),
                )
        };
        let mut name_known = false;
        let mut name = String::new();
        if let Some(road) = fields.get(&Field::Road) {
            match self.known_or_homophone(road, &|n| r.roads.contains_key(n), &r.road_sound, &|n| {
                plate_rank(n, true)
            }) {
                Some((n, fixed)) => {
                    if fixed {
                        self.push(
                            out,
                            RuleId::NonStandardSpelling,
                            "homophone",
                            town.clone(),
                            format!("路名 {road} for {n}"),
                            serde_json::json!({"field": "road", "given": road, "standard": n}),
                        );
                        norm.insert(Field::Road, n.clone());
                    }
                    name = n;
                    name_known = true;
                }
                None => self.push(
                    out,
                    RuleId::UnknownRoad,
                    "road",
                    town.clone(),
                    format!("unknown road {road}"),
                    serde_json::json!({"given": road}),
                ),
            }
        }
        if let Some(c) = fields.get(&Field::Community) {
            match self.known_or_homophone(
                c,
                &|n| r.communities.contains(n),
                &r.community_sound,
                &|n| plate_rank(community_address_name(n), false),
            ) {
                Some((n, fixed)) => {
                    if fixed {
                        self.push(
                            out,
                            RuleId::NonStandardSpelling,
                            "homophone",
                            town.clone(),
                            format!("居委会 {c} for {n}"),
                            serde_json::json!({"field": "community", "given": c, "standard": n}),
                        );
                        norm.insert(Field::Community, n.clone());
                    }
                    if name.is_empty() && !fields.contains_key(&Field::Road) {
                        name = community_address_name(&n).to_string();
                        name_known = r.villages.contains_key(&name);
                    }
                }
                None if !fields.contains_key(&Field::Road) => self.push(
                    out,
                    RuleId::UnknownRoad,
                    "village",
                    town.clone(),
                    format!("unknown 居/村委 {c}"),
                    serde_json::json!({"given": c}),
                ),
                None => {}
            }
        }
        // Numbers: Chinese numerals, then the 幢 marker.
        for f in [Field::Lane, Field::Number, Field::Group, Field::Building] {
            if let Some(v) = norm.get(&f).cloned()
                && has_cn_numeral(&v)
            {
                let (stem, marker) = strip_building_marker(&v);
                if let Some(d) = cn_number(&stem) {
                    self.push(
                        out,
                        RuleId::NonStandardSpelling,
                        "chinese_numerals",
                        town.clone(),
                        format!("{} {v} in Chinese numerals", f.as_str()),
                        serde_json::json!({"field": f.as_str(), "given": v, "standard": d}),
                    );
                    norm.insert(f, format!("{d}{}", marker.unwrap_or("")));
                }
            }
        }
        if let Some(b) = norm.get(&Field::Building).cloned() {
            let (stem, marker) = strip_building_marker(&b);
            if let Some(m) = marker
                && m != "幢"
            {
                self.push(
                    out,
                    RuleId::NonStandardSpelling,
                    "building_marker_variant",
                    town.clone(),
                    format!("楼幢号 {b}: {m} for 幢"),
                    serde_json::json!({"field": "building", "given": b, "standard": format!("{stem}幢")}),
                );
            }
            norm.insert(Field::Building, stem);
        }
        let get = |f: Field| norm.get(&f).map(String::as_str).unwrap_or("");
        let found = r.by_door(
            &key(
                &name,
                get(Field::Lane),
                get(Field::Number),
                get(Field::Group),
                get(Field::Building),
            ),
            town.as_deref(),
            fields.get(&Field::District).map(String::as_str),
        );
        let point = parse_point(fields);
        match found {
            Some(a) => {
                out.fused.address_id = Some(a.id.clone());
                out.fused.match_level = MatchLevel::Number;
                out.fused.score = 1.0;
                if town.is_some() && town.as_deref() != Some(&*a.town) {
                    self.push(
                        out,
                        RuleId::SourcesDisagreeTown,
                        "town",
                        Some(a.town.to_string()),
                        format!(
                            "街镇 {} but the standard address is in {}",
                            get(Field::Town),
                            a.town
                        ),
                        serde_json::json!({"given": get(Field::Town), "standard": &*a.town}),
                    );
                }
                if let Some(c) = norm.get(&Field::Community)
                    && r.communities.contains(c)
                    && !a.community.is_empty()
                    && c.as_str() != &*a.community
                {
                    self.push(
                        out,
                        RuleId::SourcesDisagreeTown,
                        "community",
                        Some(a.town.to_string()),
                        format!("居委 {c} but the standard address is in {}", a.community),
                        serde_json::json!({"given": c, "standard": &*a.community}),
                    );
                }
                let a = a.clone();
                self.place_point(out, &a, point);
            }
            None => {
                if name_known {
                    let range = if fields.contains_key(&Field::Road) {
                        r.roads.get(&name)
                    } else {
                        r.villages.get(&name)
                    };
                    let town = town
                        .clone()
                        .or_else(|| range.and_then(|i| i.majority().map(|(t, _)| t.to_string())));
                    let n: Option<u32> = [Field::Lane, Field::Number]
                        .iter()
                        .find_map(|f| norm.get(f))
                        .and_then(|n| n.parse().ok());
                    if let (Some(info), Some(n)) = (range, n) {
                        let margin = self.rules.param(RuleId::NumberOutOfRange, "margin", 0.1);
                        let lo = f64::from(info.min) * (1.0 - margin);
                        let hi = f64::from(info.max) * (1.0 + margin);
                        if f64::from(n) < lo || f64::from(n) > hi {
                            self.push(
                                out,
                                RuleId::NumberOutOfRange,
                                "",
                                town.clone(),
                                format!(
                                    "{name} {n} outside its known range {}–{}",
                                    info.min, info.max
                                ),
                                serde_json::json!({"number": n, "min": info.min, "max": info.max}),
                            );
                        }
                    }
                    self.push(
                        out,
                        RuleId::UnknownAddress,
                        "",
                        town,
                        format!("no standard address {name} {}", fields.get(&Field::Address).map(String::as_str).unwrap_or("")),
                        serde_json::json!({"name": name, "lane": get(Field::Lane), "number": get(Field::Number), "building": get(Field::Building)}),
                    );
                    out.fused.match_level = MatchLevel::Road;
                    out.fused.score = 0.5;
                } else if let (Some(text), Some(m)) = (fields.get(&Field::Address), &r.matcher) {
                    // A name the key cannot place: let the matcher try the full text.
                    let found = m.normalize(text)?;
                    out.fused.match_level = found.level;
                    out.fused.score = found.score;
                    if let Some(id) = &found.id
                        && let Some(a) = r.addr(id).cloned()
                    {
                        out.fused.address_id = Some(a.id.clone());
                        self.place_point(out, &a, point);
                    }
                }
                if let Some(p) = point {
                    self.check_extent(out, p);
                }
            }
        }
        out.fused.fields = norm
            .iter()
            .map(|(f, v)| (f.as_str().to_string(), v.clone()))
            .collect();
        Ok(norm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_numerals_as_numbers() {
        assert_eq!(cn_number("一二八八").as_deref(), Some("1288"));
        assert_eq!(cn_number("十三").as_deref(), Some("13"));
        assert_eq!(cn_number("十").as_deref(), Some("10"));
        assert_eq!(cn_number("四十").as_deref(), Some("40"));
        assert_eq!(cn_number("二十五").as_deref(), Some("25"));
        assert_eq!(cn_number("三零五").as_deref(), Some("305"));
        assert_eq!(cn_number("3"), None);
    }

    #[test]
    fn building_markers_are_stripped() {
        assert_eq!(strip_building_marker("3栋"), ("3".into(), Some("栋")));
        assert_eq!(strip_building_marker("3号楼"), ("3".into(), Some("号楼")));
        assert_eq!(strip_building_marker("3"), ("3".into(), None));
    }
}
