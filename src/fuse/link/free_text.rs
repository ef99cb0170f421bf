//! Free text and names: a work order's address through the matcher (what its parse says was
//! written non-standardly), and a gazetteer entry's 街镇 against the standard addresses'.

use super::*;

impl RecordCheck<'_> {
    /// A free-text record (a work order): the matcher, and what the parse says was non-standard.
    /// An `Err` is the index failing, never the record.
    pub(super) fn free_text(
        &self,
        out: &mut Checked,
        fields: &BTreeMap<Field, String>,
    ) -> Result<()> {
        let r = self.r;
        let Some(text) = fields.get(&Field::Address) else {
            return Ok(());
        };
        let point = parse_point(fields);
        let Some(matcher) = &r.matcher else {
            return Ok(());
        };
        let parse = matcher.parser().parse(text);
        let m = matcher.normalize_parse(&parse)?;
        out.fused.match_level = m.level;
        out.fused.score = m.score;
        let town = m.town.clone();
        if !parse.components.iter().any(|c| c.level == Level::Town) {
            self.push(
                out,
                RuleId::MissingLevel,
                "town",
                town.clone(),
                "no 街镇".into(),
                serde_json::json!({"level": "town"}),
            );
        }
        for c in &m.corrections {
            let same_sound =
                crate::search::keys::sound(&c.from) == crate::search::keys::sound(&c.to);
            let kind = match c.why {
                CorrectionKind::Homophone => "homophone",
                // A name the text runs into (青浦湾通路 for 湾通路) is no misspelling.
                CorrectionKind::Typo if c.from.contains(c.to.as_str()) => continue,
                CorrectionKind::Typo if same_sound => "homophone",
                CorrectionKind::Typo => "typo",
                CorrectionKind::OldName => "old_name",
                CorrectionKind::Variant => continue,
            };
            self.push(
                out,
                RuleId::NonStandardSpelling,
                kind,
                town.clone(),
                format!("{} for {}", c.from, c.to),
                serde_json::json!({"given": c.from, "standard": c.to}),
            );
        }
        let mut numerals = false;
        let mut variant = None;
        for c in &parse.components {
            let t = c.span_text(text);
            if matches!(
                c.level,
                Level::Group | Level::Lane | Level::Number | Level::Building
            ) && has_cn_numeral(&t)
            {
                numerals = true;
            }
            let marked = match c.level {
                Level::Number => t.ends_with("号楼"),
                Level::Building => ["栋", "号楼", "#", "座"].iter().any(|m| t.ends_with(m)),
                _ => false,
            };
            if marked {
                variant = Some(t);
            }
        }
        if numerals {
            self.push(
                out,
                RuleId::NonStandardSpelling,
                "chinese_numerals",
                town.clone(),
                "numbers in Chinese numerals".into(),
                serde_json::json!({"given": text}),
            );
        }
        if let Some(v) = variant {
            self.push(
                out,
                RuleId::NonStandardSpelling,
                "building_marker_variant",
                town.clone(),
                format!("{v}: a variant of the 幢/号 marker"),
                serde_json::json!({"given": v}),
            );
        }
        let found = m.id.as_ref().and_then(|id| r.addr(id)).cloned();
        match found {
            Some(a) => {
                out.fused.address_id = Some(a.id.clone());
                self.place_point(out, &a, point);
            }
            None => {
                if let Some(p) = point
                    && self.check_extent(out, p)
                    && r.footprints.containing_index(p).is_none()
                {
                    let conv = gcj02_to_wgs84(p.x(), p.y());
                    if let Some(i) = r.footprints.containing_index(Point::new(conv.0, conv.1)) {
                        out.fused.building_id = r.footprints.building(i).map(|b| b.id.clone());
                        out.fused.link_method = Some("contains_gcj02".into());
                        self.push(
                            out,
                            RuleId::Gcj02ShiftSuspected,
                            "point",
                            town,
                            "the point is in no building; read as GCJ-02 it is in one".into(),
                            serde_json::json!({"wgs84": [conv.0, conv.1]}),
                        );
                    }
                }
            }
        }
        out.fused.fields = BTreeMap::from([("address".to_string(), text.clone())]);
        if let Some(a) = &m.address {
            out.fused.fields.insert("standard".into(), a.clone());
        }
        Ok(())
    }

    /// A gazetteer entry: its name checked, its 街镇 compared with the standard addresses'.
    pub(super) fn gazetteer(&self, out: &mut Checked, fields: &BTreeMap<Field, String>) {
        let r = self.r;
        let Some(name) = fields.get(&Field::Name) else {
            return;
        };
        let category = fields
            .get(&Field::Category)
            .map(String::as_str)
            .unwrap_or("");
        let given_town = fields.get(&Field::Town).cloned();
        let (table, level) = match category {
            "道路" => (&r.roads, MatchLevel::Road),
            "村" => (&r.villages, MatchLevel::Community),
            _ => (&r.pois, MatchLevel::Poi),
        };
        let mut std_name = name.clone();
        if !table.contains_key(name) {
            let fixed = if level == MatchLevel::Road {
                self.known_or_homophone(name, &|n| r.roads.contains_key(n), &r.road_sound, &|n| {
                    u8::from(
                        given_town.as_ref().is_some_and(|t| {
                            r.roads.get(n).is_some_and(|i| i.towns.contains_key(t))
                        }),
                    )
                })
            } else {
                None
            };
            match fixed {
                Some((n, true)) => {
                    self.push(
                        out,
                        RuleId::NonStandardSpelling,
                        "homophone",
                        given_town.clone(),
                        format!("标准名称 {name} for {n}"),
                        serde_json::json!({"field": "name", "given": name, "standard": n}),
                    );
                    std_name = n;
                }
                _ => {
                    self.push(
                        out,
                        RuleId::UnknownRoad,
                        level.as_str(),
                        given_town.clone(),
                        format!("unknown {category} {name}"),
                        serde_json::json!({"given": name}),
                    );
                    return;
                }
            }
        }
        out.fused.match_level = level;
        out.fused.score = 1.0;
        // A place of the same name in another district is another place: only the towns of the
        // given town's district are weighed.
        let district_of = |town: &str| r.town_district.get(town).cloned();
        if let (Some(info), Some(t)) = (table.get(&std_name), &given_town)
            && let Some((major, n)) =
                info.majority_among(|other| match (district_of(t), district_of(other)) {
                    (Some(a), Some(b)) => a == b,
                    _ => true,
                })
        {
            // A place over a town boundary is registered with the town that holds most of it;
            // naming the other one is still wrong, and the steward is shown the split.
            let given_n = info.towns.get(t).copied().unwrap_or(0);
            if t != major && given_n < n {
                let message = if given_n > 0 {
                    format!(
                        "{std_name} in {t} here; it straddles {t} ({given_n} addresses) and \
                         {major} ({n}), most of it in {major}"
                    )
                } else {
                    format!("{std_name} in {t} here, in {major} by its standard addresses")
                };
                self.push(
                    out,
                    RuleId::SourcesDisagreeTown,
                    "town",
                    Some(major.to_string()),
                    message,
                    serde_json::json!({"given": t, "standard": major, "standard_count": n,
                        "given_count": given_n, "towns": info.towns}),
                );
            }
        }
        if let Some(p) = parse_point(fields) {
            self.check_extent(out, p);
        }
        out.fused.fields = BTreeMap::from([
            ("name".to_string(), std_name),
            ("category".to_string(), category.to_string()),
        ]);
        if let Some(t) = given_town {
            out.fused.fields.insert("town".into(), t);
        }
    }
}
