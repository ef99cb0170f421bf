//! Measuring [`compare`](crate::address::compare) on labelled address pairs (the CCKS 2021
//! 地址相关性 format: one JSON object a line, `{"text_id", "query", "candidate": [{"text",
//! "label"}]}`, labels 完全匹配 / 部分匹配 / 不匹配), with the shipped model or by k-fold
//! cross-validation grouped by query, and training the relation model from such a file.
//!
//! The relation is scored as its class ([`class_of`]): same → 完全匹配, contains/within →
//! 部分匹配, different → 不匹配 — except siblings (different places under one compound, lane,
//! door or building, parted at a numbered level), which the file's labels call 部分匹配.

use std::fmt::Write as _;
use std::path::Path;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rayon::prelude::*;

use crate::Parser;
use crate::address::relation::{
    DEFAULT_WEIGHTS, MatchClass, RelationModel, Side, TrainParams, add_context, class_of, combine,
    features,
};
use crate::address::{Comparison, compare_rules};

/// A pair file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PairFileError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A line is not a pair object.
    #[error("{path}, line {line}: {reason}")]
    Line {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// The file has no pairs.
    #[error("{0}: no labelled pairs")]
    Empty(String),
}

/// One query and its labelled candidates.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledQuery {
    /// The query's id (pairs of one id are kept in one fold).
    pub text_id: String,
    /// The query text.
    pub query: String,
    /// Candidate texts and their classes.
    pub candidates: Vec<(String, MatchClass)>,
}

#[derive(serde::Deserialize)]
struct RawQuery {
    text_id: String,
    query: String,
    candidate: Vec<RawCandidate>,
}

#[derive(serde::Deserialize)]
struct RawCandidate {
    text: String,
    label: String,
}

/// Reads a pair file.
pub fn read_pairs(path: &Path) -> Result<Vec<LabelledQuery>, PairFileError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| PairFileError::Io {
        path: name.clone(),
        source,
    })?;
    parse_pairs(&text, &name)
}

/// Reads pairs from the text of a pair file (`name` is used in errors).
///
/// # Examples
/// ```
/// use dizhi::eval::relation::parse_pairs;
/// let q = parse_pairs(r#"{"text_id": "a", "query": "华腾路8号", "candidate": [{"text": "华腾路", "label": "部分匹配"}]}"#, "x").unwrap();
/// assert_eq!(q[0].candidates.len(), 1);
/// assert!(parse_pairs("{}", "x").is_err());
/// ```
pub fn parse_pairs(text: &str, name: &str) -> Result<Vec<LabelledQuery>, PairFileError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |reason: String| PairFileError::Line {
            path: name.to_string(),
            line: i + 1,
            reason,
        };
        let raw: RawQuery = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
        let candidates = raw
            .candidate
            .into_iter()
            .map(|c| match MatchClass::from_label(&c.label) {
                Some(class) => Ok((c.text, class)),
                None => Err(bad(format!("unknown label {:?}", c.label))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        out.push(LabelledQuery {
            text_id: raw.text_id,
            query: raw.query,
            candidates,
        });
    }
    if out.iter().all(|q| q.candidates.is_empty()) {
        return Err(PairFileError::Empty(name.to_string()));
    }
    Ok(out)
}

/// A labelled pair, parsed, with its features.
#[derive(Debug, Clone)]
pub struct PreparedPair {
    /// Its query's id.
    pub text_id: String,
    /// The two texts.
    pub texts: (String, String),
    /// The index of its query's text_id among the file's distinct ids.
    pub group: usize,
    /// The gold class.
    pub class: MatchClass,
    /// The features the model reads: the pair's own ([`features`]) and its candidate list's
    /// context ([`add_context`]).
    pub features: Vec<f64>,
    /// The pair's own features alone (what the pairwise model of
    /// [`compare`](crate::address::compare) reads).
    pub pair_features: Vec<f64>,
    a: Side,
    b: Side,
    rules: Comparison,
}

impl PreparedPair {
    /// The class of compare's relation for this pair given the model's class probabilities and
    /// the class weights ([`decide`](crate::address::relation::decide)), and its confidence.
    pub fn outcome(&self, probabilities: [f64; 3], weights: [f64; 3]) -> (MatchClass, f64) {
        let c = combine(&self.a, &self.b, self.rules.clone(), probabilities, weights);
        (class_of(&c), c.confidence.unwrap_or(0.0))
    }
}

/// Parses every query and candidate and computes the features (queries in parallel): each
/// pair's own, then its candidate list's context ([`add_context`]), as
/// [`compare_candidates`](crate::address::relation::compare_candidates) does.
pub fn prepare(parser: &Parser, queries: &[LabelledQuery]) -> Vec<PreparedPair> {
    let mut ids: Vec<&str> = queries.iter().map(|q| q.text_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    queries
        .par_iter()
        .flat_map_iter(|q| {
            let group = ids.binary_search(&q.text_id.as_str()).unwrap_or(0);
            let pa = parser.parse(&q.query);
            let a = Side::new(&pa);
            let parsed: Vec<_> = q.candidates.iter().map(|(t, _)| parser.parse(t)).collect();
            let sides: Vec<Side> = parsed.iter().map(Side::new).collect();
            let rules: Vec<Comparison> = parsed.iter().map(|pb| compare_rules(&pa, pb)).collect();
            let pair: Vec<Vec<f64>> = sides
                .iter()
                .zip(&rules)
                .map(|(b, r)| features(&a, b, r))
                .collect();
            let mut listed = pair.clone();
            add_context(&mut listed, &sides.iter().collect::<Vec<_>>());
            q.candidates
                .iter()
                .zip(sides)
                .zip(rules)
                .zip(listed.into_iter().zip(pair))
                .map(
                    |((((text, class), b), rules), (listed, pair))| PreparedPair {
                        text_id: q.text_id.clone(),
                        texts: (q.query.clone(), text.clone()),
                        group,
                        class: *class,
                        features: listed,
                        pair_features: pair,
                        a: a.clone(),
                        b,
                        rules,
                    },
                )
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The pairs as the pairwise model of [`compare`](crate::address::compare) sees them: their
/// features the pair's own alone, no list context.
pub fn as_pairwise(pairs: &[PreparedPair]) -> Vec<PreparedPair> {
    pairs
        .iter()
        .map(|p| PreparedPair {
            features: p.pair_features.clone(),
            ..p.clone()
        })
        .collect()
}

/// Predictions for pairs: the class of compare's relation and its confidence.
fn predict(model: &RelationModel, pairs: &[&PreparedPair]) -> Vec<(MatchClass, f64)> {
    pairs
        .par_iter()
        .map(|p| p.outcome(model.probabilities(&p.features), model.weights()))
        .collect()
}

/// One boosted model on pairs.
fn fit_one(pairs: &[&PreparedPair], params: &TrainParams) -> RelationModel {
    let x: Vec<Vec<f64>> = pairs.iter().map(|p| p.features.clone()).collect();
    let y: Vec<MatchClass> = pairs.iter().map(|p| p.class).collect();
    RelationModel::train(&x, &y, params)
}

/// Trains a model on pairs. With `params.bags` ≥ 2 it is an ensemble whose members' probabilities
/// are averaged, each member trained with its own seed (the features and rows its trees draw).
/// Without `params.tune_weights` every member sees every pair. With it, the pairs' queries are
/// dealt into `bags` groups (seeded by `params.seed`) and each member is trained on all groups
/// but one; each pair is then scored by the one member that never saw its query, and the class
/// weights that give those held-out scores the best macro-F1 are the model's: they are chosen on
/// the training pairs alone.
pub fn train(pairs: &[&PreparedPair], params: &TrainParams) -> RelationModel {
    if params.bags < 2 {
        return fit_one(pairs, params);
    }
    if !params.tune_weights {
        // Every member sees every pair; they differ by their draws.
        let members = (0..params.bags)
            .into_par_iter()
            .map(|b| {
                let member = TrainParams {
                    seed: params.seed.wrapping_add(b as u64),
                    ..*params
                };
                fit_one(pairs, &member)
            })
            .collect();
        return RelationModel::ensemble(members, DEFAULT_WEIGHTS);
    }
    let groups = pairs.iter().map(|p| p.group + 1).max().unwrap_or(0);
    let folds = group_folds(groups, params.bags, params.seed);
    let trained: Vec<(RelationModel, Scored)> = (0..params.bags)
        .into_par_iter()
        .map(|held| {
            let (fit, held_out): (Vec<&PreparedPair>, Vec<&PreparedPair>) =
                pairs.iter().partition(|p| folds[p.group] != held);
            let member = TrainParams {
                seed: params.seed.wrapping_add(held as u64),
                ..*params
            };
            let model = fit_one(&fit, &member);
            let scored = held_out
                .into_iter()
                .map(|p| (p, model.probabilities(&p.features)))
                .collect();
            (model, scored)
        })
        .collect();
    let mut held_out = Vec::with_capacity(pairs.len());
    let mut members = Vec::with_capacity(trained.len());
    for (model, scored) in trained {
        members.push(model);
        held_out.extend(scored);
    }
    RelationModel::ensemble(members, best_weights(&held_out))
}

/// Pairs with the class probabilities a model gave them.
type Scored<'a> = Vec<(&'a PreparedPair, [f64; 3])>;

/// The class weights (same, partial; different fixed at 1) from a coarse grid whose choices give
/// the pairs' held-out probabilities the best macro-F1 (the first best on a tie).
fn best_weights(scored: &[(&PreparedPair, [f64; 3])]) -> [f64; 3] {
    let mut best = (f64::NEG_INFINITY, DEFAULT_WEIGHTS);
    for s in 0..=8 {
        for q in 0..=8 {
            let w = [1.0 + 0.25 * f64::from(s), 0.6 + 0.1 * f64::from(q), 1.0];
            let mut report = RelationReport::default();
            for (p, probabilities) in scored {
                report.add(p.class, p.outcome(*probabilities, w).0, 0.0);
            }
            let f = report.macro_f1();
            if f > best.0 {
                best = (f, w);
            }
        }
    }
    best.1
}

/// The fold of each group: the distinct groups shuffled with `seed`, dealt round-robin.
///
/// # Examples
/// ```
/// use dizhi::eval::relation::group_folds;
/// let f = group_folds(10, 3, 7);
/// assert_eq!(f.len(), 10);
/// assert!(f.iter().all(|&k| k < 3));
/// assert_eq!(f, group_folds(10, 3, 7));
/// ```
pub fn group_folds(groups: usize, k: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..groups).collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    order.shuffle(&mut rng);
    let mut fold = vec![0; groups];
    for (i, g) in order.into_iter().enumerate() {
        fold[g] = i % k.max(1);
    }
    fold
}

/// The split of pairs for fold `held`: (fitting part, scoring part), by their group's fold.
pub fn split<'a>(
    pairs: &'a [PreparedPair],
    folds: &[usize],
    held: usize,
) -> (Vec<&'a PreparedPair>, Vec<&'a PreparedPair>) {
    pairs.iter().partition(|p| folds[p.group] != held)
}

/// Per-class and macro scores, and how well the confidence is calibrated.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RelationReport {
    /// confusion[gold][predicted], classes in [`MatchClass::ALL`] order.
    pub confusion: [[usize; 3]; 3],
    /// Reliability buckets of the confidence (tenths): (pairs, mean confidence, right).
    pub buckets: [(usize, f64, usize); 10],
    /// Queries scored.
    pub queries: usize,
    /// Folds (0: the shipped model, no cross-validation).
    pub folds: usize,
}

impl RelationReport {
    fn add(&mut self, gold: MatchClass, predicted: MatchClass, confidence: f64) {
        self.confusion[gold.index()][predicted.index()] += 1;
        let b = ((confidence * 10.0) as usize).min(9);
        self.buckets[b].0 += 1;
        self.buckets[b].1 += confidence;
        self.buckets[b].2 += usize::from(gold == predicted);
    }

    /// Pairs scored.
    pub fn pairs(&self) -> usize {
        self.confusion.iter().flatten().sum()
    }

    /// Precision, recall and F1 of a class.
    pub fn class_scores(&self, c: MatchClass) -> (f64, f64, f64) {
        let i = c.index();
        let tp = self.confusion[i][i] as f64;
        let predicted: usize = (0..3).map(|g| self.confusion[g][i]).sum();
        let gold: usize = self.confusion[i].iter().sum();
        let p = if predicted == 0 {
            0.0
        } else {
            tp / predicted as f64
        };
        let r = if gold == 0 { 0.0 } else { tp / gold as f64 };
        let f = if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        };
        (p, r, f)
    }

    /// The mean of the classes' F1.
    pub fn macro_f1(&self) -> f64 {
        MatchClass::ALL
            .iter()
            .map(|&c| self.class_scores(c).2)
            .sum::<f64>()
            / 3.0
    }

    /// Share of pairs whose class is right.
    pub fn accuracy(&self) -> f64 {
        let right: usize = (0..3).map(|i| self.confusion[i][i]).sum();
        right as f64 / self.pairs().max(1) as f64
    }

    /// Expected calibration error: the pairs-weighted gap between mean confidence and accuracy
    /// over the buckets.
    pub fn calibration_error(&self) -> f64 {
        let n = self.pairs().max(1) as f64;
        self.buckets
            .iter()
            .filter(|b| b.0 > 0)
            .map(|&(_, conf, right)| (conf - right as f64).abs() / n)
            .sum()
    }

    /// The report as text; the last line is the macro-F1.
    pub fn to_table(&self) -> String {
        let mut out = String::new();
        let how = if self.folds == 0 {
            "shipped model".to_string()
        } else {
            format!("{}-fold cross-validation grouped by text_id", self.folds)
        };
        let _ = writeln!(
            out,
            "relation: {} pairs, {} queries, {how}",
            self.pairs(),
            self.queries
        );
        let _ = writeln!(
            out,
            "{:<10} {:>6} {:>6} {:>6} {:>6}",
            "class", "P", "R", "F1", "gold"
        );
        for c in MatchClass::ALL {
            let (p, r, f) = self.class_scores(c);
            let gold: usize = self.confusion[c.index()].iter().sum();
            let _ = writeln!(
                out,
                "{:<10} {p:>6.3} {r:>6.3} {f:>6.3} {gold:>6}",
                c.label()
            );
        }
        let _ = writeln!(out, "confusion (rows gold, columns predicted):");
        for c in MatchClass::ALL {
            let row = self.confusion[c.index()];
            let _ = writeln!(
                out,
                "  {:<10} {:>6} {:>6} {:>6}",
                c.label(),
                row[0],
                row[1],
                row[2]
            );
        }
        let _ = writeln!(out, "confidence  pairs  mean  right");
        for (i, &(k, conf, right)) in self.buckets.iter().enumerate() {
            if k > 0 {
                let _ = writeln!(
                    out,
                    "  {:.1}-{:.1} {k:>7} {:>5.3} {:>6.3}",
                    i as f64 / 10.0,
                    (i + 1) as f64 / 10.0,
                    conf / k as f64,
                    right as f64 / k as f64
                );
            }
        }
        let _ = writeln!(
            out,
            "accuracy {:.3}, calibration error {:.3}",
            self.accuracy(),
            self.calibration_error()
        );
        let _ = writeln!(out, "macro-F1 {:.4}", self.macro_f1());
        out
    }
}

fn queries_in(pairs: &[&PreparedPair]) -> usize {
    let mut g: Vec<usize> = pairs.iter().map(|p| p.group).collect();
    g.sort_unstable();
    g.dedup();
    g.len()
}

/// Scores a model on pairs.
pub fn evaluate(model: &RelationModel, pairs: &[PreparedPair]) -> RelationReport {
    evaluate_predictions(model, pairs).0
}

/// [`evaluate`], with each pair's prediction (class, confidence) in input order.
pub fn evaluate_predictions(
    model: &RelationModel,
    pairs: &[PreparedPair],
) -> (RelationReport, Vec<(MatchClass, f64)>) {
    let refs: Vec<&PreparedPair> = pairs.iter().collect();
    let mut report = RelationReport {
        queries: queries_in(&refs),
        ..RelationReport::default()
    };
    let predictions = predict(model, &refs);
    for (p, &(class, conf)) in refs.iter().zip(&predictions) {
        report.add(p.class, class, conf);
    }
    (report, predictions)
}

/// K-fold cross-validation grouped by query: for each fold a fresh model is trained on the other
/// folds and scores this one; the figures are pooled over the folds.
pub fn cross_validate(
    pairs: &[PreparedPair],
    k: usize,
    seed: u64,
    params: &TrainParams,
) -> RelationReport {
    cross_validate_predictions(pairs, k, seed, params).0
}

/// [`cross_validate`], with each pair's held-out prediction (class, confidence) in input order.
pub fn cross_validate_predictions(
    pairs: &[PreparedPair],
    k: usize,
    seed: u64,
    params: &TrainParams,
) -> (RelationReport, Vec<(MatchClass, f64)>) {
    let groups = pairs.iter().map(|p| p.group + 1).max().unwrap_or(0);
    let folds = group_folds(groups, k, seed);
    let refs: Vec<&PreparedPair> = pairs.iter().collect();
    let mut report = RelationReport {
        queries: queries_in(&refs),
        folds: k,
        ..RelationReport::default()
    };
    // The folds' models are trained in parallel; pooling in fold order keeps the report
    // deterministic.
    let scored: Vec<Vec<(usize, (MatchClass, f64))>> = (0..k)
        .into_par_iter()
        .map(|held| {
            let (fit, _) = split(pairs, &folds, held);
            let score: Vec<usize> = (0..pairs.len())
                .filter(|&i| folds[pairs[i].group] == held)
                .collect();
            if fit.is_empty() || score.is_empty() {
                return Vec::new();
            }
            let model = train(&fit, params);
            let refs: Vec<&PreparedPair> = score.iter().map(|&i| &pairs[i]).collect();
            score.into_iter().zip(predict(&model, &refs)).collect()
        })
        .collect();
    let mut out = vec![(MatchClass::Different, 0.0); pairs.len()];
    for (i, (class, conf)) in scored.into_iter().flatten() {
        report.add(pairs[i].class, class, conf);
        out[i] = (class, conf);
    }
    (report, out)
}
