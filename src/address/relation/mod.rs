//! The relation model: whether two addresses name the same place, one lies within the other
//! (or they share a road or compound at another granularity), or they differ — learned from
//! real map-search pairs with the project's own features and a small boosted-tree classifier.
//!
//! The model decides the class and gives its probability as the confidence; the rules
//! ([`compare_levels`](crate::address::compare_levels)) still say where the addresses part,
//! what they share and, for a partial match, which side contains the other. The parameters
//! live in `model.txt` beside this file (its header says how it was made) and are embedded.

pub mod context;
pub mod features;
mod gbdt;
pub mod similarity;

use std::sync::OnceLock;

pub use context::{add_context, context_names};
pub use features::{Side, feature_names, features};
pub use gbdt::{Gbdt, ModelError, TrainParams};

use crate::address::{Comparison, Relation, compare_rules};
use crate::{Level, Parse};

/// The names of the features the model reads: the pair features ([`feature_names`]) then the
/// candidate-list context ([`context_names`]).
pub fn model_feature_names() -> Vec<String> {
    let mut names = feature_names();
    names.extend(context_names());
    names
}

/// The three classes the model tells apart (the CCKS 地址相关性 labels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MatchClass {
    /// The same place (完全匹配).
    Same,
    /// One contains the other, or they share a road or compound at another granularity (部分匹配).
    Partial,
    /// Different places (不匹配).
    Different,
}

impl MatchClass {
    /// Every class, in index order.
    pub const ALL: [MatchClass; 3] = [MatchClass::Same, MatchClass::Partial, MatchClass::Different];

    /// The class's index in [`MatchClass::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The class of a CCKS label (完全匹配, 部分匹配, 不匹配).
    ///
    /// # Examples
    /// ```
    /// use dizhi::address::relation::MatchClass;
    /// assert_eq!(MatchClass::from_label("部分匹配"), Some(MatchClass::Partial));
    /// assert_eq!(MatchClass::from_label("maybe"), None);
    /// ```
    pub fn from_label(label: &str) -> Option<MatchClass> {
        match label {
            "完全匹配" => Some(MatchClass::Same),
            "部分匹配" => Some(MatchClass::Partial),
            "不匹配" => Some(MatchClass::Different),
            _ => None,
        }
    }

    /// The CCKS label of the class.
    pub fn label(self) -> &'static str {
        match self {
            MatchClass::Same => "完全匹配",
            MatchClass::Partial => "部分匹配",
            MatchClass::Different => "不匹配",
        }
    }

    /// The class a relation falls in: same → Same, contains/within → Partial, different →
    /// Different.
    pub fn of(relation: Relation) -> MatchClass {
        match relation {
            Relation::Same => MatchClass::Same,
            Relation::Contains | Relation::Within => MatchClass::Partial,
            Relation::Different => MatchClass::Different,
        }
    }
}

/// Weights on the class probabilities when choosing a class, for a model file that gives none:
/// the rare `same` class is weighed up so that the classes' F1 is balanced.
pub const DEFAULT_WEIGHTS: [f64; 3] = [2.0, 1.0, 1.0];

/// The trained classifier: pairwise (the pair features alone, what [`compare`](crate::address::compare)
/// uses) or listwise (the pair features and the candidate-list context, what
/// [`compare_candidates`] uses).
#[derive(Debug, Clone, PartialEq)]
pub struct RelationModel {
    gbdt: Gbdt,
    listwise: bool,
}

/// The shipped pairwise parameters (see their header for how they were made).
pub const MODEL_TEXT: &str = include_str!("model.txt");

/// The shipped listwise parameters (pair features and candidate-list context).
pub const LIST_MODEL_TEXT: &str = include_str!("model_list.txt");

static EMBEDDED: OnceLock<Result<RelationModel, String>> = OnceLock::new();
static EMBEDDED_LIST: OnceLock<Result<RelationModel, String>> = OnceLock::new();

impl RelationModel {
    /// The pairwise model shipped with the library, read once.
    ///
    /// # Examples
    /// ```
    /// let m = dizhi::address::relation::RelationModel::embedded().unwrap();
    /// assert_eq!(m.classes(), 3);
    /// assert!(!m.listwise());
    /// ```
    pub fn embedded() -> Result<&'static RelationModel, String> {
        EMBEDDED
            .get_or_init(|| RelationModel::from_text(MODEL_TEXT).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The listwise model shipped with the library, read once.
    ///
    /// # Examples
    /// ```
    /// let m = dizhi::address::relation::RelationModel::embedded_list().unwrap();
    /// assert!(m.listwise());
    /// ```
    pub fn embedded_list() -> Result<&'static RelationModel, String> {
        EMBEDDED_LIST
            .get_or_init(|| RelationModel::from_text(LIST_MODEL_TEXT).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Reads a model written by [`RelationModel::to_text`]: its features must be the pair
    /// features ([`feature_names`]) or those and the list context ([`model_feature_names`]).
    pub fn from_text(text: &str) -> Result<RelationModel, ModelError> {
        let list = model_feature_names();
        let list: Vec<&str> = list.iter().map(String::as_str).collect();
        let (gbdt, listwise) = match Gbdt::from_text(text, &list) {
            Ok(g) => (g, true),
            Err(ModelError::Features(_)) => {
                let pair = feature_names();
                let pair: Vec<&str> = pair.iter().map(String::as_str).collect();
                (Gbdt::from_text(text, &pair)?, false)
            }
            Err(e) => return Err(e),
        };
        if gbdt.classes() != MatchClass::ALL.len() {
            return Err(ModelError::Line {
                line: 0,
                reason: format!("{} classes, expected 3", gbdt.classes()),
            });
        }
        Ok(RelationModel { gbdt, listwise })
    }

    /// Whether the model reads the candidate-list context.
    pub fn listwise(&self) -> bool {
        self.listwise
    }

    /// The model as text, with `header` as its comment lines.
    pub fn to_text(&self, header: &str) -> String {
        self.gbdt.to_text(header)
    }

    /// Number of classes (3).
    pub fn classes(&self) -> usize {
        self.gbdt.classes()
    }

    /// Trains one boosted model on feature rows and their classes (`params.bags` is not read:
    /// see [`RelationModel::ensemble`]). Rows as long as [`model_feature_names`] make a listwise
    /// model, else the rows are the pair features alone.
    pub fn train(x: &[Vec<f64>], y: &[MatchClass], params: &TrainParams) -> RelationModel {
        let y: Vec<usize> = y.iter().map(|c| c.index()).collect();
        let list = model_feature_names();
        let listwise = x.first().is_some_and(|r| r.len() == list.len());
        let names = if listwise { list } else { feature_names() };
        RelationModel {
            gbdt: Gbdt::train(&names, x, &y, MatchClass::ALL.len(), params),
            listwise,
        }
    }

    /// One model from several (their probabilities averaged), choosing classes with `weights`.
    pub fn ensemble(models: Vec<RelationModel>, weights: [f64; 3]) -> RelationModel {
        let listwise = models.first().is_some_and(|m| m.listwise);
        RelationModel {
            gbdt: Gbdt::ensemble(
                models.into_iter().map(|m| m.gbdt).collect(),
                Some(weights.to_vec()),
            ),
            listwise,
        }
    }

    /// Members whose probabilities are averaged (1 unless bagged).
    pub fn members(&self) -> usize {
        self.gbdt.members()
    }

    /// The multipliers on the probabilities when choosing a class ([`decide`]).
    pub fn weights(&self) -> [f64; 3] {
        match self.gbdt.weights.as_deref() {
            Some(&[a, b, c]) => [a, b, c],
            _ => DEFAULT_WEIGHTS,
        }
    }

    /// The probability of each class (in [`MatchClass::ALL`] order) for one feature row.
    pub fn probabilities(&self, x: &[f64]) -> [f64; 3] {
        let p = self.gbdt.predict_proba(x);
        [p[0], p[1], p[2]]
    }
}

/// The class chosen from the probabilities (the highest once multiplied by `weights`), and its
/// probability (the confidence).
pub fn decide(p: [f64; 3], weights: [f64; 3]) -> (MatchClass, f64) {
    let best = (0..3)
        .max_by(|&i, &j| (p[i] * weights[i]).total_cmp(&(p[j] * weights[j])))
        .unwrap_or(2);
    (MatchClass::ALL[best], p[best])
}

/// Levels that count: a difference there parts two places however alike their names are.
fn numbered(level: Level) -> bool {
    matches!(
        level,
        Level::Lane | Level::Number | Level::Building | Level::Unit | Level::Floor | Level::Room
    )
}

/// Whether the parses settle the relation: both name the same compound, lane, door or building
/// and they part at a numbered level. A shared road alone does not settle it: two doors or lanes
/// of one road are, as map search labels them, mostly unrelated places.
fn settled(c: &Comparison) -> bool {
    c.relation != Relation::Same
        && c.parted_at.is_some_and(numbered)
        && c.shared.iter().any(|l| {
            matches!(
                l,
                Level::Poi
                    | Level::Subpoi
                    | Level::Community
                    | Level::Lane
                    | Level::Number
                    | Level::Building
            )
        })
}

/// Whether they part below the door (单元, 层, 室): not at a lane, door or building, where one
/// side going deeper names a smaller place (华腾路1288弄 contains 华腾路1288弄3号).
fn parted_below_door(c: &Comparison) -> bool {
    c.parted_at
        .is_some_and(|l| matches!(l, Level::Unit | Level::Floor | Level::Room))
}

/// The class of a comparison as map search labels it: same → Same; contains/within → Partial;
/// different → Different, except siblings — different places that share a compound, lane, door
/// or building and part only at a numbered level (5号楼 and 2号楼 of one compound) — which are
/// Partial.
///
/// # Examples
/// ```
/// use dizhi::address::{compare, relation::{MatchClass, class_of}};
/// let dicts = dizhi::Dictionaries::embedded().unwrap();
/// let parser = dizhi::Parser::new(&dicts);
/// let c = compare(&parser.parse("华腾路1288弄3号"), &parser.parse("华腾路1288弄5号"));
/// assert_eq!(c.relation, dizhi::address::Relation::Different);
/// assert_eq!(class_of(&c), MatchClass::Partial);
/// ```
pub fn class_of(c: &Comparison) -> MatchClass {
    if settled(c) {
        MatchClass::Partial
    } else {
        MatchClass::of(c.relation)
    }
}

/// The comparison of two addresses from the model's class probabilities and the rules'
/// comparison. The model decides same / partial / different, except where the parses settle it:
/// when both name the same compound, lane, door or building and part at a numbered level (弄,
/// 号, 幢, 单元, 层, 室), the rules' relation stands (华腾路1288弄 contains 华腾路1288弄3号; 3号 and 5号
/// are different places, though map search calls such siblings a partial match) — unless they
/// part below the door (单元, 层, 室) and the model calls them the same place (盛世大唐一单元六楼
/// and 盛世大唐: map search calls these the same). For a partial
/// match the rules' direction is kept when they found one, else the side that stops higher
/// contains the other. The confidence is the model's probability of the comparison's class
/// ([`class_of`]: for siblings, that they are partial matches). `weights` choose the class
/// ([`decide`]).
pub fn combine(
    a: &Side,
    b: &Side,
    rules: Comparison,
    probabilities: [f64; 3],
    weights: [f64; 3],
) -> Comparison {
    let (class, confidence) = match decide(probabilities, weights) {
        // They part below the door (单元, 层, 室): the model may still call them one place (a
        // query down to the floor, a candidate at the building).
        (MatchClass::Same, p) if !settled(&rules) || parted_below_door(&rules) => {
            (MatchClass::Same, p)
        }
        // Contained, or a sibling under the same compound, lane, door or building: partial.
        _ if settled(&rules) => (
            MatchClass::of(rules.relation),
            probabilities[MatchClass::Partial.index()],
        ),
        d => d,
    };
    let pos = |l: Option<Level>| l.map(|l| Level::ALL.iter().position(|m| *m == l));
    let relation = match class {
        MatchClass::Same => Relation::Same,
        MatchClass::Different => Relation::Different,
        MatchClass::Partial => match rules.relation {
            Relation::Contains | Relation::Within => rules.relation,
            _ => match pos(a.deepest()).cmp(&pos(b.deepest())) {
                std::cmp::Ordering::Greater => Relation::Within,
                std::cmp::Ordering::Less => Relation::Contains,
                std::cmp::Ordering::Equal if a.text_len() > b.text_len() => Relation::Within,
                std::cmp::Ordering::Equal => Relation::Contains,
            },
        },
    };
    let parted_at = match relation {
        Relation::Same => None,
        _ if rules.relation == relation => rules.parted_at,
        _ => rules.parted_at.or_else(|| a.first_difference(b)),
    };
    Comparison {
        relation,
        parted_at,
        shared: rules.shared,
        confidence: Some(confidence),
    }
}

/// Compares a query with each candidate of its list (as map search returns them): each pair's
/// features plus the list's context ([`add_context`]: how the candidate stands among its
/// siblings), then the listwise model ([`RelationModel::embedded_list`]) and the rules as in
/// [`combine`]; the contract is [`compare`](crate::address::compare)'s. Without a usable model
/// the rules decide alone. One comparison per candidate, in order.
///
/// # Examples
/// ```
/// use dizhi::address::{Relation, relation::compare_candidates};
/// let dicts = dizhi::Dictionaries::embedded().unwrap();
/// let parser = dizhi::Parser::new(&dicts);
/// let q = parser.parse("华腾路1288弄");
/// let c = compare_candidates(&q, &[parser.parse("华腾路1288弄3号"), parser.parse("华新镇")]);
/// assert_eq!(c.len(), 2);
/// assert_eq!(c[0].relation, Relation::Contains);
/// ```
pub fn compare_candidates(query: &Parse, candidates: &[Parse]) -> Vec<Comparison> {
    let rules: Vec<Comparison> = candidates.iter().map(|c| compare_rules(query, c)).collect();
    let Ok(model) = RelationModel::embedded_list() else {
        return rules;
    };
    let a = Side::new(query);
    let sides: Vec<Side> = candidates.iter().map(Side::new).collect();
    let mut rows: Vec<Vec<f64>> = sides
        .iter()
        .zip(&rules)
        .map(|(b, r)| features(&a, b, r))
        .collect();
    add_context(&mut rows, &sides.iter().collect::<Vec<_>>());
    sides
        .iter()
        .zip(rules)
        .zip(&rows)
        .map(|((b, r), x)| combine(&a, b, r, model.probabilities(x), model.weights()))
        .collect()
}
