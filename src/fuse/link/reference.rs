//! The reference fusion compares every source with, loaded once from the store: the standard
//! addresses by key, the names and sounds of roads, villages, compounds and 街镇, the footprint
//! R-tree and the matcher; and the page-by-page fusing of one source's records against it.

use super::*;

#[derive(Debug, Clone)]
pub(super) struct Addr {
    pub(super) id: String,
    // 街镇, 居委 and road (or village) names repeat across a million addresses: one shared copy
    // each.
    pub(super) town: Arc<str>,
    pub(super) community: Arc<str>,
    pub(super) name: Arc<str>,
    pub(super) lane: String,
    pub(super) number: String,
    pub(super) building_id: Option<String>,
    pub(super) point: Option<Point<f64>>,
}

/// One shared copy of each distinct name.
#[derive(Default)]
pub(super) struct Interner(HashSet<Arc<str>>);

impl Interner {
    fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.0.get(s) {
            return a.clone();
        }
        let a: Arc<str> = s.into();
        self.0.insert(a.clone());
        a
    }
}

#[derive(Debug, Default, Clone)]
pub(super) struct NameInfo {
    pub(super) towns: BTreeMap<String, usize>,
    pub(super) min: u32,
    pub(super) max: u32,
}

impl NameInfo {
    pub(super) fn majority(&self) -> Option<(&str, usize)> {
        self.majority_among(|_| true)
    }

    /// The town holding most of the name's addresses, of the towns `keep` allows.
    pub(super) fn majority_among(&self, keep: impl Fn(&str) -> bool) -> Option<(&str, usize)> {
        self.towns
            .iter()
            .filter(|(t, _)| keep(t))
            .max_by_key(|(_, n)| **n)
            .map(|(t, n)| (t.as_str(), *n))
    }
}

/// Everything fusion compares sources with, loaded once: the standard addresses by key, the
/// names (and their sounds) of roads, villages and 街镇, the footprint R-tree, the matcher.
pub struct Reference {
    pub(super) addrs: Vec<Addr>,
    pub(super) by_id: HashMap<String, u32>,
    pub(super) by_key: HashMap<String, u32>,
    /// Door keys that name several standard addresses (one road name in two districts): all of
    /// them, the first included.
    pub(super) by_key_more: HashMap<String, Vec<u32>>,
    /// Each 街镇's district name.
    pub(super) town_district: HashMap<Arc<str>, Arc<str>>,
    pub(super) roads: HashMap<String, NameInfo>,
    pub(super) road_sound: HashMap<String, Vec<String>>,
    pub(super) villages: HashMap<String, NameInfo>,
    pub(super) pois: HashMap<String, NameInfo>,
    pub(super) communities: HashSet<String>,
    pub(super) community_sound: HashMap<String, Vec<String>>,
    pub(super) towns: HashSet<String>,
    pub(super) town_aliases: HashMap<String, (String, AliasKind)>,
    pub(super) footprints: FootprintIndex,
    pub(super) building_pos: HashMap<String, usize>,
    pub(super) building_addrs: Vec<Vec<u32>>,
    pub(super) extent: Option<Rect<f64>>,
    pub(super) matcher: Option<Matcher>,
}

/// Of several standard addresses with one door key, the one in 街镇 `town`, else in 区
/// `district` (with or without its 区).
fn in_place<'a>(
    all: &[&'a Addr],
    town: Option<&str>,
    district: Option<&str>,
    town_district: &HashMap<Arc<str>, Arc<str>>,
) -> Option<&'a Addr> {
    let bare = |d: &str| d.trim_end_matches('区').to_string();
    town.and_then(|t| all.iter().find(|a| &*a.town == t))
        .or_else(|| {
            let d = bare(district?);
            all.iter()
                .find(|a| town_district.get(&a.town).is_some_and(|x| bare(x) == d))
        })
        .copied()
}

pub(super) fn key(name: &str, lane: &str, number: &str, group: &str, building: &str) -> String {
    format!("{name}\u{1}{lane}\u{1}{number}\u{1}{group}\u{1}{building}")
}

impl Reference {
    /// The standard address a door key names. Where one key names several (one road name in two
    /// districts), the one in the record's 街镇, else in its 区, else the first loaded.
    pub(super) fn by_door(
        &self,
        k: &str,
        town: Option<&str>,
        district: Option<&str>,
    ) -> Option<&Addr> {
        let first = &self.addrs[*self.by_key.get(k)? as usize];
        let Some(all) = self.by_key_more.get(k) else {
            return Some(first);
        };
        let all: Vec<&Addr> = all.iter().map(|&i| &self.addrs[i as usize]).collect();
        Some(in_place(&all, town, district, &self.town_district).unwrap_or(first))
    }

    /// Loads the reference from a store; `matcher` (for free text) may be left out, and then
    /// free-text records match nothing.
    ///
    /// # Examples
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let store = dizhi::store::Store::open(dir.path()).unwrap();
    /// let dicts = dizhi::Dictionaries::embedded().unwrap();
    /// let reference = dizhi::fuse::Reference::load(&store, &dicts, None).unwrap();
    /// assert_eq!(reference.address_count(), 0);
    /// ```
    pub fn load(
        store: &Store,
        dicts: &Dictionaries,
        matcher: Option<Matcher>,
    ) -> Result<Reference> {
        let mut addrs = Vec::new();
        let mut by_key: HashMap<String, u32> = HashMap::new();
        let mut by_key_more: HashMap<String, Vec<u32>> = HashMap::new();
        let mut town_district: HashMap<Arc<str>, Arc<str>> = HashMap::new();
        let mut roads: HashMap<String, NameInfo> = HashMap::new();
        let mut villages: HashMap<String, NameInfo> = HashMap::new();
        let mut pois: HashMap<String, NameInfo> = HashMap::new();
        let mut communities = HashSet::new();
        let mut names = Interner::default();
        store.for_each_address(|a, _| {
            let name = a
                .road
                .clone()
                .unwrap_or_else(|| community_address_name(&a.community.name).to_string());
            let lane = a.lane.clone().unwrap_or_default();
            let number = a.number.clone().unwrap_or_default();
            let k = key(
                &name,
                &lane,
                &number,
                a.group.as_deref().unwrap_or(""),
                a.building.as_deref().unwrap_or(""),
            );
            let at = addrs.len() as u32;
            match by_key.entry(k) {
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(at);
                }
                std::collections::hash_map::Entry::Occupied(o) => by_key_more
                    .entry(o.key().clone())
                    .or_insert_with(|| vec![*o.get()])
                    .push(at),
            }
            let n: Option<u32> = a
                .lane
                .as_deref()
                .or(a.number.as_deref())
                .and_then(|n| n.parse().ok());
            let info = if a.road.is_some() {
                roads.entry(name.clone()).or_default()
            } else {
                villages.entry(name.clone()).or_default()
            };
            *info.towns.entry(a.town.name.clone()).or_default() += 1;
            if let Some(n) = n {
                info.min = if info.towns.values().sum::<usize>() == 1 {
                    n
                } else {
                    info.min.min(n)
                };
                info.max = info.max.max(n);
            }
            if let Some(p) = &a.poi {
                *pois
                    .entry(p.clone())
                    .or_default()
                    .towns
                    .entry(a.town.name.clone())
                    .or_default() += 1;
            }
            communities.insert(a.community.name.clone());
            let town = names.get(&a.town.name);
            if !town_district.contains_key(&town) {
                town_district.insert(town.clone(), names.get(&a.district));
            }
            addrs.push(Addr {
                id: a.id,
                town,
                community: names.get(&a.community.name),
                name: names.get(&name),
                lane,
                number,
                building_id: a.building_id,
                point: a.point,
            });
        })?;
        let mut road_sound: HashMap<String, Vec<String>> = HashMap::new();
        for r in roads.keys() {
            road_sound
                .entry(crate::search::keys::sound(r))
                .or_default()
                .push(r.clone());
        }
        let mut community_sound: HashMap<String, Vec<String>> = HashMap::new();
        let coverage = store.coverage(&dicts.admin)?;
        for c in coverage.communities() {
            communities.insert(c.name.clone());
        }
        for c in &communities {
            community_sound
                .entry(crate::search::keys::sound(c))
                .or_default()
                .push(c.clone());
        }
        // In name order, so that a tie between names that sound alike goes the same way each run.
        for names in road_sound.values_mut().chain(community_sound.values_mut()) {
            names.sort();
        }
        let towns: HashSet<String> = coverage.towns().map(|t| t.name.clone()).collect();
        let town_aliases = dicts
            .aliases
            .iter()
            .filter(|a| a.level == Level::Town && !a.to.is_empty())
            .filter(|a| matches!(a.kind, AliasKind::Typo | AliasKind::OldName))
            // An old unit split into several (青浦镇) is still an old name; the first is named.
            .map(|a| (a.from.clone(), (a.to.join("|"), a.kind)))
            .collect();
        let buildings = store.buildings()?;
        let mut extent: Option<Rect<f64>> = None;
        for b in &buildings {
            if let Some(r) = b.footprint.bounding_rect() {
                extent = Some(match extent {
                    None => r,
                    Some(e) => Rect::new(
                        (e.min().x.min(r.min().x), e.min().y.min(r.min().y)),
                        (e.max().x.max(r.max().x), e.max().y.max(r.max().y)),
                    ),
                });
            }
        }
        let building_pos: HashMap<String, usize> = buildings
            .iter()
            .enumerate()
            .map(|(i, b)| (b.id.clone(), i))
            .collect();
        let mut building_addrs = vec![Vec::new(); buildings.len()];
        for (i, a) in addrs.iter().enumerate() {
            if let Some(&b) = a.building_id.as_ref().and_then(|b| building_pos.get(b)) {
                building_addrs[b].push(i as u32);
            }
        }
        let by_id = addrs
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id.clone(), i as u32))
            .collect();
        Ok(Reference {
            addrs,
            by_id,
            by_key,
            by_key_more,
            town_district,
            roads,
            road_sound,
            villages,
            pois,
            communities,
            community_sound,
            towns,
            town_aliases,
            footprints: FootprintIndex::new(buildings),
            building_pos,
            building_addrs,
            extent,
            matcher,
        })
    }

    pub(super) fn addr(&self, id: &str) -> Option<&Addr> {
        self.by_id.get(id).map(|&i| &self.addrs[i as usize])
    }

    /// How many standard addresses the reference holds.
    pub fn address_count(&self) -> usize {
        self.addrs.len()
    }

    /// Fuses one source: a fused record per record and the rules' findings.
    pub fn fuse_source(
        &self,
        input: &SourceInput,
        rules: &RuleSet,
    ) -> Result<(Vec<FusedRecord>, Vec<Finding>)> {
        self.fuse_page(
            &input.name,
            input.role,
            &input.mapping,
            &input.records,
            rules,
            &mut FirstSeen::default(),
        )
    }

    /// Fuses a page of a source's records (in parallel); `first` carries the register's first
    /// record per standard address from page to page, for the duplicate check.
    pub(super) fn fuse_page(
        &self,
        source: &str,
        role: Role,
        mapping: &Mapping,
        records: &[SourceRecord],
        rules: &RuleSet,
        first: &mut FirstSeen,
    ) -> Result<(Vec<FusedRecord>, Vec<Finding>)> {
        let ctx = RecordCheck {
            r: self,
            rules,
            source,
        };
        type PerRecord = (FusedRecord, Vec<Finding>, Option<BTreeMap<Field, String>>);
        let per: Vec<PerRecord> = records
            .par_iter()
            .map(|rec| {
                let raw: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(&rec.raw).unwrap_or_default();
                let fields = mapping.apply(&raw);
                let mut out = Checked::new(&ctx, &rec.key);
                let structured = match role {
                    Role::Buildings => {
                        ctx.building(&mut out, &fields, rec.geometry.as_ref());
                        None
                    }
                    Role::Addresses => {
                        if fields.contains_key(&Field::Name) {
                            ctx.gazetteer(&mut out, &fields);
                            None
                        } else if [Field::Road, Field::Community, Field::Number]
                            .iter()
                            .any(|f| mapping.columns.values().any(|m| m == f))
                        {
                            Some(ctx.door_plate(&mut out, &fields, mapping)?)
                        } else {
                            ctx.free_text(&mut out, &fields)?;
                            None
                        }
                    }
                };
                Ok((out.fused, out.findings, structured))
            })
            .collect::<Result<_>>()?;
        let mut fused = Vec::with_capacity(per.len());
        let mut findings = Vec::new();
        // Duplicates: a later register record naming the same standard address as an earlier
        // one (and the same place by compare()).
        for (f, mut fs, structured) in per {
            if rules.on(RuleId::DuplicateAddress)
                && let (Some(levels), Some(a)) = (&structured, &f.address_id)
                && let Some(&i) = self.by_id.get(a)
            {
                match first.0.get(&i) {
                    Some((earlier, their)) if same_place(&FirstSeen::decode(their), levels) => {
                        fs.push(ctx.finding(
                            RuleId::DuplicateAddress,
                            "",
                            &f.record_key,
                            self.addr_town(a),
                            format!("the same address as record {earlier}"),
                            serde_json::json!({"address_id": a, "earlier": earlier}),
                        ));
                    }
                    Some(_) => {}
                    None => {
                        first
                            .0
                            .insert(i, (f.record_key.clone().into(), FirstSeen::encode(levels)));
                    }
                }
            }
            fused.push(f);
            findings.extend(fs);
        }
        Ok((fused, findings))
    }

    pub(super) fn addr_town(&self, id: &str) -> Option<String> {
        self.addr(id).map(|a| a.town.to_string())
    }

    /// Findings on the standard addresses themselves: addresses linked to no building.
    pub fn check_addresses(&self, rules: &RuleSet) -> Vec<Finding> {
        if !rules.on(RuleId::AddressWithoutBuilding) {
            return Vec::new();
        }
        self.addrs
            .iter()
            .filter(|a| {
                a.building_id
                    .as_ref()
                    .is_none_or(|b| !self.building_pos.contains_key(b))
            })
            .map(|a| Finding {
                rule: RuleId::AddressWithoutBuilding,
                kind: String::new(),
                severity: rules.severity(RuleId::AddressWithoutBuilding),
                entity_kind: EntityKind::Address,
                entity_id: a.id.clone(),
                source: String::new(),
                record_key: String::new(),
                town: Some(a.town.to_string()),
                message: "no building".into(),
                detail: serde_json::json!({"building_id": a.building_id}),
            })
            .collect()
    }
}

/// A register's first record per standard address (by the address's index): its key and its
/// normalized fields, packed into one string each (a million of them stay small).
#[derive(Default)]
pub(super) struct FirstSeen(HashMap<u32, (Box<str>, Box<str>)>);

impl FirstSeen {
    pub(super) fn encode(fields: &BTreeMap<Field, String>) -> Box<str> {
        let mut s = String::new();
        for (f, v) in fields {
            s.push_str(f.as_str());
            s.push('\u{1}');
            s.push_str(v);
            s.push('\u{2}');
        }
        s.into()
    }

    pub(super) fn decode(s: &str) -> BTreeMap<Field, String> {
        s.split_terminator('\u{2}')
            .filter_map(|kv| {
                let (f, v) = kv.split_once('\u{1}')?;
                Some((f.parse().ok()?, v.to_string()))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(id: &str, town: &str) -> Addr {
        Addr {
            id: id.into(),
            town: town.into(),
            community: "".into(),
            name: "人民路".into(),
            lane: String::new(),
            number: "1".into(),
            building_id: None,
            point: None,
        }
    }

    #[test]
    fn one_door_key_in_two_districts_goes_by_the_record_s_town_then_district() {
        let (a, b) = (addr("A", "华新镇"), addr("B", "嘉定镇街道"));
        let all = [&a, &b];
        let districts: HashMap<Arc<str>, Arc<str>> = [
            (a.town.clone(), Arc::from("青浦区")),
            (b.town.clone(), Arc::from("嘉定区")),
        ]
        .into_iter()
        .collect();
        let pick =
            |t: Option<&str>, d: Option<&str>| in_place(&all, t, d, &districts).map(|x| &x.id);
        assert_eq!(
            pick(Some("嘉定镇街道"), None).map(String::as_str),
            Some("B")
        );
        assert_eq!(pick(None, Some("嘉定区")).map(String::as_str), Some("B"));
        assert_eq!(pick(None, Some("嘉定")).map(String::as_str), Some("B"));
        assert_eq!(
            pick(Some("华新镇"), Some("嘉定区")).map(String::as_str),
            Some("A")
        );
        assert_eq!(
            pick(None, None),
            None,
            "no place said: the caller takes the first"
        );
        assert_eq!(pick(Some("白鹤镇"), Some("浦东新区")), None);
    }
}
