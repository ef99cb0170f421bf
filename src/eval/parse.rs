//! Span-exact evaluation of the parser on character-per-line labelled files.
//!
//! # File formats
//! One token per line, `<token> <tag>`, a blank line between addresses. A token is a character or
//! a run of digits/Latin letters; `##x` continues the previous token (its text is `x`); `[UNK]`
//! stands for one character the original tokenizer did not know (read as U+FFFD).
//! Tags are `B-/I-` + label (`bio`, naacl2019) or `B-/M-/E-/S-` + label (`bmes`, swei412).
//!
//! # Mapping dizhi's levels onto the files' labels
//! Labels are compared in lower case (naacl's `devZone`, `subRoad` → `devzone`, `subroad`).
//!
//! | dizhi level | label |
//! |---|---|
//! | province | `prov`; a municipality (上海市) with no city after it → `city` (both sets label a lone 上海市 city); bio: a short form right before its own city (北京北京市) → no span (naacl: redundant) |
//! | road | `road`; bio: a road right after a road → `subroad`, and the 号/弄 on it → `subroadno` |
//! | city, district, town, devzone, subroad, poi, subpoi | the label of the same name (bmes: a devzone matched from the division list, i.e. a listed 街道-level zone, → `town`) |
//! | poi, subpoi | bio: a second POI after a first (a park or compound, then a firm in it) → `subpoi`; a part with no POI before it (上蔡村4区) → `poi` |
//! | community | `community` (swei412's `village` is read as `community`); bio: a village right after a village → `poi` |
//! | devzone | bio: a park or estate (…工业区, …工业园, …科技园, …产业园, …园区) → `poi` |
//! | group (组) | bio: `road` (naacl labels 5组 road, the 号 after it roadno); bmes: `group` |
//! | lane (弄) | `roadno` |
//! | number (号) | `houseno` after a lane; after a POI or zone `houseno` (bio: only when a road came before or the POI is named like a compound — 花园, 苑, 工业区 — else `roadno`); bio: `roadno` after a village with no road; bmes: `houseno` also after a community or group; else `roadno`; bio: a dashed door number (1168-10号) → `roadno` 1168 + `houseno` 10号 |
//! | building (幢/栋/号楼/座) | `houseno` |
//! | unit (单元) | `cellno` |
//! | floor (层/楼) | `floorno` |
//! | room (室) | `roomno`; bio: a 号 right after the building (15栋114号) → `cellno` |
//!
//! The structural micro-F1 is over [`STRUCTURAL`]; every label is reported, poi included.

use std::collections::BTreeMap;
use std::path::Path;

use crate::{Level, Parse, Parser};

mod labelled;
pub use labelled::{Labelled, Scheme, read_labelled};

/// The labels the structural micro-F1 is computed over.
/// # Examples
/// ```
/// use dizhi::eval::{evaluate, predicted_spans, read_labelled, Scheme, STRUCTURAL};
/// let dicts = dizhi::Dictionaries::embedded().unwrap();
/// let parser = dizhi::Parser::new(&dicts);
/// let gold = read_labelled("华 B-road\n腾 I-road\n路 I-road\n8 B-roadno\n号 I-roadno\n\n", Scheme::Bio);
/// assert_eq!(gold[0].spans.len(), 2);
/// let spans = predicted_spans(&parser, &parser.parse(&gold[0].text), Scheme::Bio);
/// assert_eq!(spans[1], ("roadno".to_string(), 3, 5));
/// let report = evaluate(&parser, &gold, Scheme::Bio, 0);
/// let road = report.labels.iter().find(|s| s.label == "road").unwrap();
/// assert_eq!((road.precision(), road.recall(), road.f1()), (1.0, 1.0, 1.0));
/// assert!(report.to_table().ends_with("1.0000\n"));
/// assert!(STRUCTURAL.contains(&"roadno"));
/// ```
pub const STRUCTURAL: [&str; 11] = [
    "prov",
    "city",
    "district",
    "town",
    "community",
    "road",
    "roadno",
    "houseno",
    "cellno",
    "floorno",
    "roomno",
];

/// The order labels are printed in.
const ORDER: [&str; 27] = [
    "country",
    "prov",
    "city",
    "district",
    "devzone",
    "town",
    "community",
    "group",
    "road",
    "subroad",
    "roadno",
    "subroadno",
    "poi",
    "subpoi",
    "houseno",
    "cellno",
    "floorno",
    "roomno",
    "person",
    "assist",
    "intersection",
    "direction",
    "distance",
    "traffic_facility",
    "redundant",
    "otherinfo",
    "village",
];

/// Suffixes of industrial parks and estates, which naacl labels `poi` rather than `devZone`.
const PARK_SUFFIXES: [&str; 5] = ["工业区", "工业园", "工业园区", "科技园", "产业园"];

fn is_park_name(name: &str) -> bool {
    PARK_SUFFIXES.iter().any(|s| name.ends_with(s)) || name.ends_with("园区")
}

/// Whether a dashed door number is a range of doors (21-23号, 189-191号): both sides numbers,
/// the second higher.
fn is_range(text: &str) -> bool {
    let digits = |s: &str| -> Option<u64> {
        let d: String = s.chars().take_while(char::is_ascii_digit).collect();
        d.parse().ok()
    };
    match text.split_once('-') {
        Some((a, b)) => matches!((digits(a), digits(b)), (Some(x), Some(y)) if y > x),
        None => false,
    }
}

const MUNICIPALITIES: [&str; 4] = ["北京市", "天津市", "上海市", "重庆市"];

/// dizhi's components as labelled spans, under `scheme`'s conventions (see the module docs).
/// # Examples
/// ```
/// use dizhi::eval::{evaluate, predicted_spans, read_labelled, Scheme, STRUCTURAL};
/// let dicts = dizhi::Dictionaries::embedded().unwrap();
/// let parser = dizhi::Parser::new(&dicts);
/// let gold = read_labelled("华 B-road\n腾 I-road\n路 I-road\n8 B-roadno\n号 I-roadno\n\n", Scheme::Bio);
/// assert_eq!(gold[0].spans.len(), 2);
/// let spans = predicted_spans(&parser, &parser.parse(&gold[0].text), Scheme::Bio);
/// assert_eq!(spans[1], ("roadno".to_string(), 3, 5));
/// let report = evaluate(&parser, &gold, Scheme::Bio, 0);
/// let road = report.labels.iter().find(|s| s.label == "road").unwrap();
/// assert_eq!((road.precision(), road.recall(), road.f1()), (1.0, 1.0, 1.0));
/// assert!(report.to_table().ends_with("1.0000\n"));
/// assert!(STRUCTURAL.contains(&"roadno"));
/// ```
pub fn predicted_spans(
    parser: &Parser,
    parse: &Parse,
    scheme: Scheme,
) -> Vec<(String, usize, usize)> {
    let comps = &parse.components;
    let mut out: Vec<(String, usize, usize)> = Vec::new();
    let mut seen_lane = false;
    for (i, c) in comps.iter().enumerate() {
        // The last component before this one that is not an admin level.
        let prev = comps[..i].iter().rev().map(|c| c.level).next();
        // naacl: 北京北京市 — the short form before the municipality is redundant.
        if scheme == Scheme::Bio
            && c.level == Level::Province
            && comps.get(i + 1).is_some_and(|n| {
                n.start == c.end && n.text.starts_with(&c.text) && n.text.len() > c.text.len()
            })
        {
            continue;
        }
        let label: &str = match c.level {
            Level::Province => {
                let city_follows = comps[i + 1..].iter().any(|c| c.level == Level::City);
                if MUNICIPALITIES.contains(&c.value.as_str()) && !city_follows {
                    "city"
                } else {
                    "prov"
                }
            }
            Level::City => "city",
            Level::District => "district",
            // swei412 labels the zones that are listed 街道-level divisions (dictionary matches,
            // confidence ≥ 0.9) as towns.
            Level::Devzone if scheme == Scheme::Bmes && c.confidence >= 0.9 => "town",
            // naacl labels a named industrial park or estate (…工业区, …工业园, …科技园) a POI and
            // keeps `devZone` for the 开发区/高新区 kind.
            Level::Devzone if scheme == Scheme::Bio && is_park_name(&c.value) => "poi",
            Level::Devzone => "devzone",
            Level::Town => "town",
            // naacl: a village after a village (大陆村七贤桥村) is a natural village, a POI.
            Level::Community if scheme == Scheme::Bio && prev == Some(Level::Community) => "poi",
            Level::Community => "community",
            Level::Group => match scheme {
                Scheme::Bmes => "group",
                Scheme::Bio => "road",
            },
            // naacl: a road right after a road (莫干山路萍水街) is the sub-road.
            Level::Road if scheme == Scheme::Bio && prev == Some(Level::Road) => "subroad",
            Level::Road => "road",
            Level::Subroad => "subroad",
            Level::Lane => {
                seen_lane = true;
                "roadno"
            }
            Level::Number => {
                let after_poi = matches!(prev, Some(Level::Poi | Level::Subpoi | Level::Building));
                let after_area = matches!(prev, Some(Level::Community | Level::Group));
                let road_before = comps[..i].iter().any(|c| c.level == Level::Road);
                // naacl: after a compound or zone (奥林花园24号) the 号 is the house; after a
                // bare place name (鲍家渡240号) it stands for the road number.
                let compound_before = i > 0
                    && (matches!(prev, Some(Level::Subpoi | Level::Devzone | Level::Building))
                        || parser.looks_like_compound(&comps[i - 1].value));
                let after_poi = after_poi || prev == Some(Level::Devzone);
                // naacl: a number after a hamlet or place in a village, with no road, is the
                // road number.
                let village_only = comps[..i]
                    .iter()
                    .any(|c| matches!(c.level, Level::Community | Level::Group))
                    && !road_before;
                let poi_means_house =
                    scheme == Scheme::Bmes || ((road_before || compound_before) && !village_only);
                if seen_lane
                    || (after_poi && poi_means_house)
                    || (scheme == Scheme::Bmes && after_area)
                {
                    "houseno"
                } else {
                    "roadno"
                }
            }
            // naacl: a name after the floor or room (10楼并可尼罗) is the person or shop there.
            Level::Poi | Level::Subpoi
                if scheme == Scheme::Bio && matches!(prev, Some(Level::Floor | Level::Room)) =>
            {
                "person"
            }
            Level::Poi => "poi",
            Level::Subpoi => "subpoi",
            Level::Building => "houseno",
            Level::Unit => "cellno",
            Level::Floor => "floorno",
            Level::Room => {
                // naacl: 15栋114号 — a 号 right after the building is the cell.
                if scheme == Scheme::Bio && prev == Some(Level::Building) && c.text.ends_with('号')
                {
                    "cellno"
                } else if scheme == Scheme::Bio
                    && prev == Some(Level::Number)
                    && out
                        .last()
                        .is_some_and(|(l, _, _)| l == "roadno" || l == "subroadno")
                    && comps[i - 1].end + 1 == c.start
                    && parse.input.chars().nth(comps[i - 1].end) == Some('-')
                {
                    // naacl: 纽扣路344-110 — the number after a road number's dash is the house.
                    "houseno"
                } else {
                    "roomno"
                }
            }
        };
        // naacl: the number on a sub-road is its own label.
        let after_subroad = out.last().is_some_and(|(l, _, _)| l == "subroad");
        let label = if scheme == Scheme::Bio && after_subroad && label == "roadno" {
            "subroadno"
        } else if scheme == Scheme::Bio && matches!(label, "poi" | "subpoi") {
            // naacl: "the second poi appearing after the first poi" is the subpoi, and a part
            // with no POI before it (上蔡村4区) is the POI.
            if out.iter().any(|(l, _, _)| l == "poi") {
                "subpoi"
            } else {
                "poi"
            }
        } else {
            label
        };
        // naacl: 1168-10号 on a road is the road number and a house number under it; a range
        // (21-23号, the second number higher) is one road number.
        let dash = c.text.chars().position(|ch| ch == '-');
        if scheme == Scheme::Bio
            && c.level == Level::Number
            && matches!(label, "roadno" | "subroadno")
            && let Some(k) = dash.filter(|&k| k > 0 && c.start + k + 1 < c.end)
            && !is_range(&c.text)
        {
            out.push((label.to_string(), c.start, c.start + k));
            out.push(("houseno".to_string(), c.start + k + 1, c.end));
            continue;
        }
        out.push((label.to_string(), c.start, c.end));
    }
    out
}

/// Precision, recall and F1 of one label.
#[derive(Debug, Clone, PartialEq)]
/// # Examples
/// ```
/// use dizhi::eval::{evaluate, predicted_spans, read_labelled, Scheme, STRUCTURAL};
/// let dicts = dizhi::Dictionaries::embedded().unwrap();
/// let parser = dizhi::Parser::new(&dicts);
/// let gold = read_labelled("华 B-road\n腾 I-road\n路 I-road\n8 B-roadno\n号 I-roadno\n\n", Scheme::Bio);
/// assert_eq!(gold[0].spans.len(), 2);
/// let spans = predicted_spans(&parser, &parser.parse(&gold[0].text), Scheme::Bio);
/// assert_eq!(spans[1], ("roadno".to_string(), 3, 5));
/// let report = evaluate(&parser, &gold, Scheme::Bio, 0);
/// let road = report.labels.iter().find(|s| s.label == "road").unwrap();
/// assert_eq!((road.precision(), road.recall(), road.f1()), (1.0, 1.0, 1.0));
/// assert!(report.to_table().ends_with("1.0000\n"));
/// assert!(STRUCTURAL.contains(&"roadno"));
/// ```
pub struct LabelScore {
    /// The label.
    pub label: String,
    /// Spans predicted and gold.
    pub tp: usize,
    /// Spans predicted, not gold.
    pub fp: usize,
    /// Gold spans not predicted.
    pub fn_: usize,
}

impl LabelScore {
    /// tp / (tp + fp).
    /// # Examples
    /// ```
    /// use dizhi::eval::{evaluate, predicted_spans, read_labelled, Scheme, STRUCTURAL};
    /// let dicts = dizhi::Dictionaries::embedded().unwrap();
    /// let parser = dizhi::Parser::new(&dicts);
    /// let gold = read_labelled("华 B-road\n腾 I-road\n路 I-road\n8 B-roadno\n号 I-roadno\n\n", Scheme::Bio);
    /// assert_eq!(gold[0].spans.len(), 2);
    /// let spans = predicted_spans(&parser, &parser.parse(&gold[0].text), Scheme::Bio);
    /// assert_eq!(spans[1], ("roadno".to_string(), 3, 5));
    /// let report = evaluate(&parser, &gold, Scheme::Bio, 0);
    /// let road = report.labels.iter().find(|s| s.label == "road").unwrap();
    /// assert_eq!((road.precision(), road.recall(), road.f1()), (1.0, 1.0, 1.0));
    /// assert!(report.to_table().ends_with("1.0000\n"));
    /// assert!(STRUCTURAL.contains(&"roadno"));
    /// ```
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }
    /// tp / (tp + fn).
    /// # Examples
    /// ```
    /// use dizhi::eval::{evaluate, predicted_spans, read_labelled, Scheme, STRUCTURAL};
    /// let dicts = dizhi::Dictionaries::embedded().unwrap();
    /// let parser = dizhi::Parser::new(&dicts);
    /// let gold = read_labelled("华 B-road\n腾 I-road\n路 I-road\n8 B-roadno\n号 I-roadno\n\n", Scheme::Bio);
    /// assert_eq!(gold[0].spans.len(), 2);
    /// let spans = predicted_spans(&parser, &parser.parse(&gold[0].text), Scheme::Bio);
    /// assert_eq!(spans[1], ("roadno".to_string(), 3, 5));
    /// let report = evaluate(&parser, &gold, Scheme::Bio, 0);
    /// let road = report.labels.iter().find(|s| s.label == "road").unwrap();
    /// assert_eq!((road.precision(), road.recall(), road.f1()), (1.0, 1.0, 1.0));
    /// assert!(report.to_table().ends_with("1.0000\n"));
    /// assert!(STRUCTURAL.contains(&"roadno"));
    /// ```
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }
    /// Harmonic mean of precision and recall.
    /// # Examples
    /// ```
    /// use dizhi::eval::{evaluate, predicted_spans, read_labelled, Scheme, STRUCTURAL};
    /// let dicts = dizhi::Dictionaries::embedded().unwrap();
    /// let parser = dizhi::Parser::new(&dicts);
    /// let gold = read_labelled("华 B-road\n腾 I-road\n路 I-road\n8 B-roadno\n号 I-roadno\n\n", Scheme::Bio);
    /// assert_eq!(gold[0].spans.len(), 2);
    /// let spans = predicted_spans(&parser, &parser.parse(&gold[0].text), Scheme::Bio);
    /// assert_eq!(spans[1], ("roadno".to_string(), 3, 5));
    /// let report = evaluate(&parser, &gold, Scheme::Bio, 0);
    /// let road = report.labels.iter().find(|s| s.label == "road").unwrap();
    /// assert_eq!((road.precision(), road.recall(), road.f1()), (1.0, 1.0, 1.0));
    /// assert!(report.to_table().ends_with("1.0000\n"));
    /// assert!(STRUCTURAL.contains(&"roadno"));
    /// ```
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Labelled spans shown as (label, text).
/// # Examples
/// ```
/// use dizhi::eval::{evaluate, predicted_spans, read_labelled, Scheme, STRUCTURAL};
/// let dicts = dizhi::Dictionaries::embedded().unwrap();
/// let parser = dizhi::Parser::new(&dicts);
/// let gold = read_labelled("华 B-road\n腾 I-road\n路 I-road\n8 B-roadno\n号 I-roadno\n\n", Scheme::Bio);
/// assert_eq!(gold[0].spans.len(), 2);
/// let spans = predicted_spans(&parser, &parser.parse(&gold[0].text), Scheme::Bio);
/// assert_eq!(spans[1], ("roadno".to_string(), 3, 5));
/// let report = evaluate(&parser, &gold, Scheme::Bio, 0);
/// let road = report.labels.iter().find(|s| s.label == "road").unwrap();
/// assert_eq!((road.precision(), road.recall(), road.f1()), (1.0, 1.0, 1.0));
/// assert!(report.to_table().ends_with("1.0000\n"));
/// assert!(STRUCTURAL.contains(&"roadno"));
/// ```
pub type ShownSpans = Vec<(String, String)>;

/// A mismatched address: its text, the gold spans and dizhi's spans.
/// # Examples
/// ```
/// use dizhi::eval::{evaluate, predicted_spans, read_labelled, Scheme, STRUCTURAL};
/// let dicts = dizhi::Dictionaries::embedded().unwrap();
/// let parser = dizhi::Parser::new(&dicts);
/// let gold = read_labelled("华 B-road\n腾 I-road\n路 I-road\n8 B-roadno\n号 I-roadno\n\n", Scheme::Bio);
/// assert_eq!(gold[0].spans.len(), 2);
/// let spans = predicted_spans(&parser, &parser.parse(&gold[0].text), Scheme::Bio);
/// assert_eq!(spans[1], ("roadno".to_string(), 3, 5));
/// let report = evaluate(&parser, &gold, Scheme::Bio, 0);
/// let road = report.labels.iter().find(|s| s.label == "road").unwrap();
/// assert_eq!((road.precision(), road.recall(), road.f1()), (1.0, 1.0, 1.0));
/// assert!(report.to_table().ends_with("1.0000\n"));
/// assert!(STRUCTURAL.contains(&"roadno"));
/// ```
pub type Mismatch = (String, ShownSpans, ShownSpans);

/// The evaluation of one file.
#[derive(Debug, Clone, PartialEq)]
/// # Examples
/// ```
/// use dizhi::eval::{evaluate, predicted_spans, read_labelled, Scheme, STRUCTURAL};
/// let dicts = dizhi::Dictionaries::embedded().unwrap();
/// let parser = dizhi::Parser::new(&dicts);
/// let gold = read_labelled("华 B-road\n腾 I-road\n路 I-road\n8 B-roadno\n号 I-roadno\n\n", Scheme::Bio);
/// assert_eq!(gold[0].spans.len(), 2);
/// let spans = predicted_spans(&parser, &parser.parse(&gold[0].text), Scheme::Bio);
/// assert_eq!(spans[1], ("roadno".to_string(), 3, 5));
/// let report = evaluate(&parser, &gold, Scheme::Bio, 0);
/// let road = report.labels.iter().find(|s| s.label == "road").unwrap();
/// assert_eq!((road.precision(), road.recall(), road.f1()), (1.0, 1.0, 1.0));
/// assert!(report.to_table().ends_with("1.0000\n"));
/// assert!(STRUCTURAL.contains(&"roadno"));
/// ```
pub struct EvalReport {
    /// How many addresses were parsed.
    pub addresses: usize,
    /// Per label, in a fixed order.
    pub labels: Vec<LabelScore>,
    /// Micro-F1 over [`STRUCTURAL`].
    pub structural_micro_f1: f64,
    /// A few mismatched addresses: (text, gold, predicted), for tuning on train files.
    pub errors: Vec<Mismatch>,
}

impl EvalReport {
    /// The per-label table, with the structural micro-F1 as its last line.
    /// # Examples
    /// ```
    /// use dizhi::eval::{evaluate, predicted_spans, read_labelled, Scheme, STRUCTURAL};
    /// let dicts = dizhi::Dictionaries::embedded().unwrap();
    /// let parser = dizhi::Parser::new(&dicts);
    /// let gold = read_labelled("华 B-road\n腾 I-road\n路 I-road\n8 B-roadno\n号 I-roadno\n\n", Scheme::Bio);
    /// assert_eq!(gold[0].spans.len(), 2);
    /// let spans = predicted_spans(&parser, &parser.parse(&gold[0].text), Scheme::Bio);
    /// assert_eq!(spans[1], ("roadno".to_string(), 3, 5));
    /// let report = evaluate(&parser, &gold, Scheme::Bio, 0);
    /// let road = report.labels.iter().find(|s| s.label == "road").unwrap();
    /// assert_eq!((road.precision(), road.recall(), road.f1()), (1.0, 1.0, 1.0));
    /// assert!(report.to_table().ends_with("1.0000\n"));
    /// assert!(STRUCTURAL.contains(&"roadno"));
    /// ```
    pub fn to_table(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let _ = writeln!(out, "addresses: {}", self.addresses);
        let _ = writeln!(
            out,
            "{:<18} {:>6} {:>6} {:>6} {:>7} {:>7} {:>7}",
            "label", "tp", "fp", "fn", "P", "R", "F1"
        );
        for s in &self.labels {
            let mark = if STRUCTURAL.contains(&s.label.as_str()) {
                "*"
            } else {
                " "
            };
            let _ = writeln!(
                out,
                "{:<17}{} {:>6} {:>6} {:>6} {:>7.4} {:>7.4} {:>7.4}",
                s.label,
                mark,
                s.tp,
                s.fp,
                s.fn_,
                s.precision(),
                s.recall(),
                s.f1()
            );
        }
        for (text, gold, pred) in &self.errors {
            let fmt = |v: &Vec<(String, String)>| {
                v.iter()
                    .map(|(l, t)| format!("{l}={t}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            let _ = writeln!(
                out,
                "ERR {text}\n  gold {}\n  pred {}",
                fmt(gold),
                fmt(pred)
            );
        }
        let _ = writeln!(
            out,
            "structural micro-F1 (* labels): {:.4}",
            self.structural_micro_f1
        );
        out
    }
}

/// Parses every address of `addresses` and scores the spans.
///
/// # Examples
/// ```
/// use dizhi::eval::{evaluate, read_labelled, Scheme};
/// let dicts = dizhi::Dictionaries::embedded().unwrap();
/// let parser = dizhi::Parser::new(&dicts);
/// let gold = read_labelled("华 B-road\n腾 I-road\n路 I-road\n8 B-roadno\n号 I-roadno\n\n", Scheme::Bio);
/// let report = evaluate(&parser, &gold, Scheme::Bio, 0);
/// assert_eq!(report.structural_micro_f1, 1.0);
/// ```
pub fn evaluate(
    parser: &Parser,
    addresses: &[Labelled],
    scheme: Scheme,
    max_errors: usize,
) -> EvalReport {
    let mut scores: BTreeMap<String, LabelScore> = BTreeMap::new();
    let mut errors = Vec::new();
    for a in addresses {
        let parse = parser.parse(&a.text);
        let pred = predicted_spans(parser, &parse, scheme);
        let mut wrong = false;
        for g in &a.spans {
            let s = entry(&mut scores, &g.0);
            if pred.contains(g) {
                s.tp += 1;
            } else {
                s.fn_ += 1;
                wrong |= STRUCTURAL.contains(&g.0.as_str());
            }
        }
        for p in &pred {
            if !a.spans.contains(p) {
                entry(&mut scores, &p.0).fp += 1;
                wrong |= STRUCTURAL.contains(&p.0.as_str());
            }
        }
        if wrong && errors.len() < max_errors {
            let chars: Vec<char> = a.text.chars().collect();
            let show = |v: &[(String, usize, usize)]| {
                v.iter()
                    .map(|(l, s, e)| {
                        (
                            l.clone(),
                            chars
                                .get(*s..*e)
                                .map(|c| c.iter().collect())
                                .unwrap_or_default(),
                        )
                    })
                    .collect()
            };
            errors.push((a.text.clone(), show(&a.spans), show(&pred)));
        }
    }
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    for s in scores
        .values()
        .filter(|s| STRUCTURAL.contains(&s.label.as_str()))
    {
        tp += s.tp;
        fp += s.fp;
        fn_ += s.fn_;
    }
    let micro = LabelScore {
        label: String::new(),
        tp,
        fp,
        fn_,
    }
    .f1();
    let mut labels: Vec<LabelScore> = scores.into_values().collect();
    labels.sort_by_key(|s| {
        ORDER
            .iter()
            .position(|o| *o == s.label)
            .unwrap_or(ORDER.len())
    });
    EvalReport {
        addresses: addresses.len(),
        labels,
        structural_micro_f1: micro,
        errors,
    }
}

/// Every address of `addresses` whose predicted spans differ from the gold ones (any label, not
/// only the structural ones), one line each: the text, the gold spans and dizhi's, tab-separated,
/// each span written `label=text` and separated by spaces. For grouping failures by phenomenon.
///
/// # Examples
/// ```
/// use dizhi::eval::{failures_tsv, read_labelled, Scheme};
/// let dicts = dizhi::Dictionaries::embedded().unwrap();
/// let parser = dizhi::Parser::new(&dicts);
/// let gold = read_labelled("华 B-poi\n腾 I-poi\n路 I-poi\n\n", Scheme::Bio);
/// assert_eq!(failures_tsv(&parser, &gold, Scheme::Bio), "华腾路\tpoi=华腾路\troad=华腾路\n");
/// ```
pub fn failures_tsv(parser: &Parser, addresses: &[Labelled], scheme: Scheme) -> String {
    let mut out = String::new();
    for a in addresses {
        let pred = predicted_spans(parser, &parser.parse(&a.text), scheme);
        if pred == a.spans {
            continue;
        }
        let chars: Vec<char> = a.text.chars().collect();
        let show = |v: &[(String, usize, usize)]| {
            v.iter()
                .map(|(l, s, e)| {
                    let t: String = chars
                        .get(*s..*e)
                        .map(|c| c.iter().collect())
                        .unwrap_or_default();
                    format!("{l}={t}")
                })
                .collect::<Vec<_>>()
                .join(" ")
        };
        out.push_str(&format!(
            "{}\t{}\t{}\n",
            a.text,
            show(&a.spans),
            show(&pred)
        ));
    }
    out
}

fn entry<'a>(scores: &'a mut BTreeMap<String, LabelScore>, label: &str) -> &'a mut LabelScore {
    scores
        .entry(label.to_string())
        .or_insert_with(|| LabelScore {
            label: label.to_string(),
            tp: 0,
            fp: 0,
            fn_: 0,
        })
}

/// Reads `path` and evaluates it (see [`evaluate`]); `DIZHI_EVAL_ERRORS=N` lists N mismatches.
/// # Examples
/// ```
/// use dizhi::eval::{evaluate_file, Scheme};
/// let dicts = dizhi::Dictionaries::embedded().unwrap();
/// let parser = dizhi::Parser::new(&dicts);
/// let path = std::env::temp_dir().join("dizhi-eval-doctest.txt");
/// std::fs::write(&path, "华 B-road\n腾 I-road\n路 I-road\n\n").unwrap();
/// let report = evaluate_file(&parser, &path, Scheme::Bio).unwrap();
/// assert_eq!(report.addresses, 1);
/// assert!(evaluate_file(&parser, std::path::Path::new("/nonexistent"), Scheme::Bio).is_err());
/// ```
pub fn evaluate_file(parser: &Parser, path: &Path, scheme: Scheme) -> std::io::Result<EvalReport> {
    let text = std::fs::read_to_string(path)?;
    let addresses = read_labelled(&text, scheme);
    let max_errors = std::env::var("DIZHI_EVAL_ERRORS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Ok(evaluate(parser, &addresses, scheme, max_errors))
}
