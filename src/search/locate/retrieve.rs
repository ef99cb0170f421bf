//! Candidate retrieval: door keys required, else the anchor's addresses ranked by lane and
//! group keys; the old way (levels intersected) for an index built before door keys.

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, EnableScoring, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::{DocAddress, DocSet, Searcher, TERMINATED, TantivyDocument, Term};

use super::{Anchor, CANDIDATES, Hit, Matcher, Wanted};
use crate::search::keys::{Place, building_key, door_key, group_key, lane_key};
use crate::search::{MatchLevel, Result};

/// Addresses read per anchor when the door asked for is not in the library: the answer is the
/// anchor itself, and more of its addresses (in the same town) would be judged alike.
const PER_ANCHOR: usize = 3;

impl Matcher {
    /// The candidates: every anchor value required, the finer levels preferred. With
    /// `pinned_only`, a reading that can only count if it names an address (a cut of a digit
    /// run) is not searched again for a partial answer.
    pub(super) fn retrieve(
        &self,
        searcher: &Searcher,
        anchors: &[Anchor],
        w: &Wanted,
        pinned_only: bool,
    ) -> Result<Vec<Hit>> {
        if self.index.door_keys {
            if let Some(required) = self.keyed(anchors, w) {
                return self.retrieve_keyed(searcher, anchors, w, required, pinned_only);
            }
            // 崧宁路, 朱家角镇新昌名邸: nothing asked below the name. A scored union of the name
            // and the names that sound like it would rank the rarest name first (崧林路, fewer
            // addresses), so each name's own addresses are read instead, and the rerank puts
            // the name as said before a sound-alike.
            if w.nothing_below() {
                return self.retrieve_keyed(searcher, anchors, w, Keyed::default(), pinned_only);
            }
        }
        self.retrieve_by_levels(searcher, anchors, w)
    }

    /// What is asked for below the anchor, as door keys: the door (with its lane and group)
    /// and a boost for the 幢 said; or the lane alone; or the group alone. `None` when what is
    /// asked has no key (a 幢 without a door, a lane and a group together).
    fn keyed(&self, anchors: &[Anchor], w: &Wanted) -> Option<Keyed> {
        let places: Vec<(Place, &str)> = anchors
            .iter()
            .map(|a| Some((place_of(a)?, a.value.as_str())))
            .collect::<Option<_>>()?;
        let lane = w.lane.as_deref();
        let group = w.group.as_deref();
        if let Some(number) = w.number.as_deref() {
            let doors: Vec<String> = places
                .iter()
                .map(|&(p, name)| door_key(p, name, lane, group, number))
                .collect();
            let boost = match w.building.as_deref() {
                Some(b) => doors.iter().map(|d| building_key(d, b)).collect(),
                None => Vec::new(),
            };
            return Some(Keyed {
                required: doors,
                boost,
            });
        }
        let required = match (lane, group, w.building.as_deref()) {
            (Some(_), None, None) | (None, Some(_), None) => lane_and_group_keys(&places, w),
            _ => return None,
        };
        Some(Keyed {
            required,
            boost: Vec::new(),
        })
    }

    /// [`Matcher::retrieve`] by door keys: the keys required, else the anchor's addresses with
    /// those sharing its lane, group or compound first.
    fn retrieve_keyed(
        &self,
        searcher: &Searcher,
        anchors: &[Anchor],
        w: &Wanted,
        keyed: Keyed,
        pinned_only: bool,
    ) -> Result<Vec<Hit>> {
        let f = &self.index.fields;
        let any_of = |keys: &[String]| -> Box<dyn Query> {
            Box::new(BooleanQuery::new(
                keys.iter()
                    .map(|k| (Occur::Should, term(f.door, k)))
                    .collect(),
            ))
        };
        if !keyed.required.is_empty() {
            let mut clauses = vec![(Occur::Must, any_of(&keyed.required))];
            if !keyed.boost.is_empty() {
                clauses.push((Occur::Should, any_of(&keyed.boost)));
            }
            let found = self.top(searcher, &BooleanQuery::new(clauses))?;
            if !found.is_empty() || pinned_only {
                return Ok(found);
            }
        }
        // Nothing has the door (or lane) asked for: first the addresses on the lane or in the
        // group asked for, under any anchor (short key lists), so the answer goes as deep as it
        // can; then a few addresses of each anchor, in the town and compound asked for first.
        // One search per name, not one scored union of every name that sounds alike: each name
        // is seen, not only the rarest, and its first few addresses are read without scoring
        // every address on the road (they would all score the same).
        let mut found: Vec<DocAddress> = Vec::new();
        let places: Vec<(Place, &str)> = anchors
            .iter()
            .filter_map(|a| Some((place_of(a)?, a.value.as_str())))
            .collect();
        let prefer = lane_and_group_keys(&places, w);
        if !prefer.is_empty() {
            found = top_docs(searcher, any_of(&prefer).as_ref(), CANDIDATES)?;
        }
        // Narrowest first: the town and compound asked, the town alone, then none.
        let mut narrowings: Vec<Vec<(Field, &str)>> = Vec::new();
        let town = w.town.as_deref().map(|t| (f.town, t));
        let poi = w.poi.as_deref().map(|p| (f.poi, p));
        if town.is_some() || poi.is_some() {
            narrowings.push(town.into_iter().chain(poi).collect());
        }
        if let (Some(t), Some(_)) = (town, poi) {
            narrowings.push(vec![t]);
        }
        narrowings.push(Vec::new());
        for a in anchors {
            let k = PER_ANCHOR.min(CANDIDATES.saturating_sub(found.len()));
            if k == 0 {
                break;
            }
            let mut docs = Vec::new();
            for narrowing in &narrowings {
                let mut clauses = vec![(Occur::Must, term(a.field, &a.value))];
                clauses.extend(
                    narrowing
                        .iter()
                        .map(|&(field, v)| (Occur::Must, term(field, v))),
                );
                docs = first_docs(searcher, &BooleanQuery::new(clauses), k)?;
                if !docs.is_empty() {
                    break;
                }
            }
            for d in docs {
                if !found.contains(&d) {
                    found.push(d);
                }
            }
        }
        found
            .into_iter()
            .map(|addr| self.hit(searcher, addr))
            .collect()
    }

    /// 祥平机械厂1幢: the addresses of the compound or firm anchors with the building said (a
    /// firm's door is its road number, which the caller does not say).
    pub(super) fn with_building(
        &self,
        searcher: &Searcher,
        anchors: &[Anchor],
        building: &str,
    ) -> Result<Vec<Hit>> {
        let f = &self.index.fields;
        let names: Vec<Anchor> = anchors
            .iter()
            .filter(|a| a.level == MatchLevel::Poi)
            .cloned()
            .collect();
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let query = BooleanQuery::new(vec![
            (Occur::Must, anchor_query(&names)),
            (Occur::Must, term(f.building, building)),
        ]);
        self.top(searcher, &query)
    }

    /// The best [`CANDIDATES`] of a query, read from the index.
    fn top(&self, searcher: &Searcher, query: &dyn Query) -> Result<Vec<Hit>> {
        top_docs(searcher, query, CANDIDATES)?
            .into_iter()
            .map(|addr| self.hit(searcher, addr))
            .collect()
    }

    /// [`Matcher::retrieve`] on an index without door keys: every level asked for required (an
    /// intersection of the level's posting lists), else optional.
    fn retrieve_by_levels(
        &self,
        searcher: &Searcher,
        anchors: &[Anchor],
        w: &Wanted,
    ) -> Result<Vec<Hit>> {
        let f = &self.index.fields;
        let given: Vec<(Field, &String)> = [
            (f.lane, &w.lane),
            (f.number, &w.number),
            (f.building, &w.building),
            (f.group, &w.group),
            (f.poi, &w.poi),
        ]
        .into_iter()
        .filter_map(|(field, v)| v.as_ref().map(|v| (field, v)))
        .collect();
        // Everything asked for, required: an intersection of short posting lists, usually one
        // document. Only when that finds nothing, the levels become optional and the rerank
        // decides how deep the best candidates go.
        if !given.is_empty() {
            let mut clauses = vec![(Occur::Must, anchor_query(anchors))];
            clauses.extend(
                given
                    .iter()
                    .filter(|(field, _)| *field != f.poi)
                    .map(|(field, v)| (Occur::Must, term(*field, v))),
            );
            let top = self.top(searcher, &BooleanQuery::new(clauses))?;
            if !top.is_empty() {
                return Ok(top);
            }
        }
        let mut clauses = vec![(Occur::Must, anchor_query(anchors))];
        clauses.extend(
            given
                .iter()
                .map(|(field, v)| (Occur::Should, term(*field, v))),
        );
        self.top(searcher, &BooleanQuery::new(clauses))
    }

    fn hit(&self, searcher: &Searcher, addr: DocAddress) -> Result<Hit> {
        let f = &self.index.fields;
        let doc: TantivyDocument = searcher.doc(addr)?;
        let text = |field: Field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .map(str::to_string)
        };
        let num = |field: Field| doc.get_first(field).and_then(|v| v.as_f64());
        Ok(Hit {
            id: text(f.id).unwrap_or_default(),
            address: text(f.address).unwrap_or_default(),
            town: text(f.town).unwrap_or_default(),
            town_code: text(f.town_code).unwrap_or_default(),
            community: text(f.community).unwrap_or_default(),
            community_code: text(f.community_code).unwrap_or_default(),
            road: text(f.road),
            poi: text(f.poi),
            lane: text(f.lane),
            number: text(f.number),
            group: text(f.group),
            building: text(f.building),
            building_id: text(f.building_id),
            lon: num(f.lon),
            lat: num(f.lat),
        })
    }
}

/// The best `k` documents of a query.
fn top_docs(searcher: &Searcher, query: &dyn Query, k: usize) -> Result<Vec<DocAddress>> {
    Ok(searcher
        .search(query, &TopDocs::with_limit(k).order_by_score())?
        .into_iter()
        .map(|(_, addr): (f32, DocAddress)| addr)
        .collect())
}

/// The first `k` live documents of a query in index order, unscored: for a query whose matches
/// all score alike, the same as its top `k`, without visiting the rest.
fn first_docs(searcher: &Searcher, query: &dyn Query, k: usize) -> Result<Vec<DocAddress>> {
    let weight = query.weight(EnableScoring::disabled_from_searcher(searcher))?;
    let mut out = Vec::new();
    for (ord, reader) in searcher.segment_readers().iter().enumerate() {
        let mut scorer = weight.scorer(reader, 1.0)?;
        let alive = reader.alive_bitset();
        let mut doc = scorer.doc();
        while doc != TERMINATED && out.len() < k {
            if alive.is_none_or(|a| a.is_alive(doc)) {
                out.push(DocAddress::new(ord as u32, doc));
            }
            doc = scorer.advance();
        }
        if out.len() >= k {
            break;
        }
    }
    Ok(out)
}

/// The keys of the lane and the group asked for under each place (a village has no lanes).
fn lane_and_group_keys(places: &[(Place, &str)], w: &Wanted) -> Vec<String> {
    let mut keys = Vec::new();
    for &(place, name) in places {
        if let Some(l) = &w.lane
            && place != Place::Village
        {
            keys.push(lane_key(place, name, l));
        }
        if let Some(g) = &w.group {
            keys.push(group_key(place, name, g));
        }
    }
    keys
}

/// The place a door key hangs on for an anchor: its road, compound or village.
fn place_of(a: &Anchor) -> Option<Place> {
    place_of_level(a.level)
}

/// The place a door key hangs on for a name of this level: a road, compound or village.
pub(super) fn place_of_level(level: MatchLevel) -> Option<Place> {
    match level {
        MatchLevel::Road => Some(Place::Road),
        MatchLevel::Poi => Some(Place::Poi),
        MatchLevel::Community => Some(Place::Village),
        _ => None,
    }
}

/// The door keys a search requires, and those it prefers (the 幢 said).
#[derive(Default)]
struct Keyed {
    required: Vec<String>,
    boost: Vec<String>,
}

fn term(field: Field, v: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, v),
        IndexRecordOption::Basic,
    ))
}

/// Any of the anchors' names.
fn anchor_query(anchors: &[Anchor]) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(
        anchors
            .iter()
            .map(|a| (Occur::Should, term(a.field, &a.value)))
            .collect(),
    ))
}
