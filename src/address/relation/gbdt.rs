//! A small gradient-boosted tree classifier (softmax over a few classes, second-order leaves,
//! histogram splits), written here so the relation model is trained in the project, from the
//! project's own features, with no outside weights. A model may hold several boosted members
//! whose probabilities are averaged (bagging). Training is deterministic: every draw (the
//! features and rows a tree sees) comes from a fixed seed.

use std::fmt::Write as _;

use rand::{RngExt, SeedableRng};

/// How a model is grown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainParams {
    /// Boosting rounds (one tree per class each round).
    pub rounds: usize,
    /// Deepest tree.
    pub max_depth: usize,
    /// Shrinkage applied to every leaf.
    pub learning_rate: f64,
    /// L2 penalty on leaf values.
    pub lambda: f64,
    /// Fewest training rows in a leaf.
    pub min_leaf: usize,
    /// Most candidate thresholds per feature (quantiles of the training values).
    pub max_bins: usize,
    /// Share of the features each tree may split on (drawn per tree from a fixed seed): trees
    /// that cannot all lean on the same few features generalize better.
    pub feature_fraction: f64,
    /// Share of the training rows each tree fits (drawn per tree; 1.0: all of them).
    pub subsample: f64,
    /// Members of the ensemble: each is trained with its own draws and their probabilities are
    /// averaged. How members get their rows is the caller's choice (see
    /// [`Gbdt::train_member`]).
    pub bags: usize,
    /// Seed of the per-tree draws (features, rows).
    pub seed: u64,
    /// Whether the caller choosing classes from the probabilities should pick its class weights
    /// on held-out members' scores (only with `bags` ≥ 2).
    pub tune_weights: bool,
}

impl Default for TrainParams {
    fn default() -> Self {
        TrainParams {
            rounds: 200,
            max_depth: 5,
            learning_rate: 0.05,
            lambda: 5.0,
            min_leaf: 20,
            max_bins: 48,
            feature_fraction: 0.5,
            subsample: 0.8,
            bags: 5,
            seed: 7,
            tune_weights: false,
        }
    }
}

/// One node: a split (`x[feature] <= threshold` goes left) or a leaf.
#[derive(Debug, Clone, PartialEq)]
enum Node {
    Split {
        feature: usize,
        threshold: f64,
        left: usize,
        right: usize,
    },
    Leaf(f64),
}

/// A regression tree on the feature vector; nodes[0] is the root.
#[derive(Debug, Clone, PartialEq)]
struct Tree {
    nodes: Vec<Node>,
}

impl Tree {
    fn predict(&self, x: &[f64]) -> f64 {
        let mut i = 0;
        loop {
            match self.nodes[i] {
                Node::Leaf(v) => return v,
                Node::Split {
                    feature,
                    threshold,
                    left,
                    right,
                } => i = if x[feature] <= threshold { left } else { right },
            }
        }
    }
}

/// One boosted model: per class, a base score and a list of trees.
#[derive(Debug, Clone, PartialEq)]
struct Member {
    base: Vec<f64>,
    /// trees[round][class]
    trees: Vec<Vec<Tree>>,
}

impl Member {
    fn predict_proba(&self, x: &[f64]) -> Vec<f64> {
        let mut score = self.base.clone();
        for round in &self.trees {
            for (k, t) in round.iter().enumerate() {
                score[k] += t.predict(x);
            }
        }
        softmax(&score)
    }
}

/// A trained classifier: one or more boosted members whose class probabilities are averaged,
/// and per-class weights for choosing a class from them.
#[derive(Debug, Clone, PartialEq)]
pub struct Gbdt {
    /// The features' names, in input order (checked against the code's when loading).
    pub features: Vec<String>,
    members: Vec<Member>,
    /// Multipliers on the probabilities when choosing a class (none: the caller's default).
    pub weights: Option<Vec<f64>>,
}

/// A model file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A line is not what the format says.
    #[error("model line {line}: {reason}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// The file's features are not the ones the code computes (the model is stale: train again).
    #[error("the model was trained on other features than the code computes: {0}")]
    Features(String),
}

impl Gbdt {
    /// Number of classes.
    pub fn classes(&self) -> usize {
        self.members[0].base.len()
    }

    /// Number of members (1 unless bagged).
    pub fn members(&self) -> usize {
        self.members.len()
    }

    /// Class probabilities for one feature vector: the mean of the members'.
    pub fn predict_proba(&self, x: &[f64]) -> Vec<f64> {
        let mut p = vec![0.0; self.classes()];
        for m in &self.members {
            for (s, v) in p.iter_mut().zip(m.predict_proba(x)) {
                *s += v;
            }
        }
        let n = self.members.len() as f64;
        p.iter_mut().for_each(|s| *s /= n);
        p
    }

    /// Trains one boosted model on rows `x` (all the same length, named by `features`) with
    /// labels `y` in `0..classes`, its draws seeded by `params.seed` (`params.bags` is not read
    /// here).
    pub fn train(
        features: &[String],
        x: &[Vec<f64>],
        y: &[usize],
        classes: usize,
        params: &TrainParams,
    ) -> Gbdt {
        Gbdt {
            features: features.to_vec(),
            members: vec![Self::train_member(x, y, classes, params)],
            weights: None,
        }
    }

    /// Joins models trained on the same features into one whose probabilities are the mean of
    /// theirs.
    pub fn ensemble(models: Vec<Gbdt>, weights: Option<Vec<f64>>) -> Gbdt {
        let features = models[0].features.clone();
        Gbdt {
            features,
            members: models.into_iter().flat_map(|m| m.members).collect(),
            weights,
        }
    }

    fn train_member(x: &[Vec<f64>], y: &[usize], classes: usize, params: &TrainParams) -> Member {
        let n = x.len();
        let nf = x.first().map_or(0, Vec::len);
        let bins: Vec<Vec<f64>> = (0..nf)
            .map(|f| thresholds(x.iter().map(|r| r[f]), params.max_bins))
            .collect();
        // binned[f][row]: the index of the first threshold >= value (values above the last
        // threshold get thresholds.len()).
        let binned: Vec<Vec<u8>> = (0..nf)
            .map(|f| {
                x.iter()
                    .map(|r| bins[f].partition_point(|&t| t < r[f]) as u8)
                    .collect()
            })
            .collect();
        let mut counts = vec![0.0; classes];
        for &c in y {
            counts[c] += 1.0;
        }
        let base: Vec<f64> = counts
            .iter()
            .map(|&c| ((c + 1.0) / (n as f64 + classes as f64)).ln())
            .collect();
        let mut score: Vec<Vec<f64>> = vec![base.clone(); n];
        let mut trees = Vec::with_capacity(params.rounds);
        let all: Vec<usize> = (0..n).collect();
        // The features (and rows) each tree may use: seeded draws, so training stays
        // deterministic.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(params.seed);
        for _ in 0..params.rounds {
            let probs: Vec<Vec<f64>> = score.iter().map(|s| softmax(s)).collect();
            let mut round = Vec::with_capacity(classes);
            for k in 0..classes {
                let g: Vec<f64> = (0..n)
                    .map(|i| probs[i][k] - f64::from(u8::from(y[i] == k)))
                    .collect();
                let h: Vec<f64> = (0..n)
                    .map(|i| (probs[i][k] * (1.0 - probs[i][k])).max(1e-6))
                    .collect();
                let use_f: Vec<bool> = (0..nf)
                    .map(|_| rng.random::<f64>() < params.feature_fraction)
                    .collect();
                let rows: Vec<usize> = if params.subsample < 1.0 {
                    all.iter()
                        .copied()
                        .filter(|_| rng.random::<f64>() < params.subsample)
                        .collect()
                } else {
                    all.clone()
                };
                let mut grower = Grower {
                    use_f: &use_f,
                    bins: &bins,
                    binned: &binned,
                    g: &g,
                    h: &h,
                    params,
                    nodes: Vec::new(),
                };
                let hist = grower.histograms(&rows);
                grower.grow(rows, hist, 0);
                let tree = Tree {
                    nodes: grower.nodes,
                };
                for (i, s) in score.iter_mut().enumerate() {
                    s[k] += tree.predict(&x[i]);
                }
                round.push(tree);
            }
            trees.push(round);
        }
        Member { base, trees }
    }

    /// The model as text: `#` header lines, then `features`, optionally `weights`, and per
    /// member a `base` line and one `tree` line per class per round (nodes
    /// `f:threshold:left:right` or `=value`, separated by spaces).
    pub fn to_text(&self, header: &str) -> String {
        let mut out = String::new();
        for line in header.lines() {
            let _ = writeln!(out, "# {line}");
        }
        let _ = writeln!(out, "features {}", self.features.join(" "));
        if let Some(w) = &self.weights {
            let w: Vec<String> = w.iter().map(|v| v.to_string()).collect();
            let _ = writeln!(out, "weights {}", w.join(" "));
        }
        for m in &self.members {
            m.write(&mut out);
        }
        out
    }

    /// Reads [`Gbdt::to_text`]'s output, checking the feature names against `expected`.
    pub fn from_text(text: &str, expected: &[&str]) -> Result<Gbdt, ModelError> {
        let bad = |line: usize, reason: &str| ModelError::Line {
            line,
            reason: reason.to_string(),
        };
        let mut features = None;
        let mut weights: Option<Vec<f64>> = None;
        // Per member: its base line and its trees.
        let mut members: Vec<(Vec<f64>, Vec<Tree>)> = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let ln = i + 1;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, rest) = line.split_once(' ').unwrap_or((line, ""));
            let numbers = |what: &str| {
                rest.split(' ')
                    .map(|v| {
                        v.parse::<f64>()
                            .ok()
                            .filter(|v| v.is_finite())
                            .ok_or_else(|| bad(ln, what))
                    })
                    .collect::<Result<Vec<f64>, _>>()
            };
            match key {
                "features" => {
                    features = Some(rest.split(' ').map(str::to_string).collect::<Vec<_>>())
                }
                "weights" => weights = Some(numbers("bad class weight")?),
                "base" => members.push((numbers("bad base score")?, Vec::new())),
                "tree" => {
                    let tree = parse_tree(rest, expected.len()).map_err(|r| bad(ln, r))?;
                    match members.last_mut() {
                        Some((_, trees)) => trees.push(tree),
                        None => return Err(bad(ln, "a tree before any base line")),
                    }
                }
                _ => return Err(bad(ln, "expected features, weights, base or tree")),
            }
        }
        let features = features.ok_or_else(|| bad(0, "no features line"))?;
        if features != expected {
            return Err(ModelError::Features(format!(
                "file has {} features, code {}",
                features.len(),
                expected.len()
            )));
        }
        if members.is_empty() {
            return Err(bad(0, "no base line"));
        }
        let k = members[0].0.len();
        if weights.as_ref().is_some_and(|w| w.len() != k) {
            return Err(bad(0, "one class weight per class"));
        }
        let mut out = Vec::new();
        for (base, flat) in members {
            if k < 2 || base.len() != k || flat.len() % k != 0 {
                return Err(bad(0, "tree count is not a multiple of the classes"));
            }
            let mut trees = Vec::new();
            let mut it = flat.into_iter();
            while let Some(first) = it.next() {
                let mut round = vec![first];
                round.extend(it.by_ref().take(k - 1));
                trees.push(round);
            }
            out.push(Member { base, trees });
        }
        Ok(Gbdt {
            features,
            members: out,
            weights,
        })
    }
}

/// One `tree` line's nodes, checked: every split names a feature below `nf` and children that
/// come after it (so a walk cannot loop).
fn parse_tree(rest: &str, nf: usize) -> Result<Tree, &'static str> {
    let mut nodes = Vec::new();
    for tok in rest.split(' ') {
        if let Some(v) = tok.strip_prefix('=') {
            let v: f64 = v.parse().map_err(|_| "bad leaf value")?;
            if !v.is_finite() {
                return Err("bad leaf value");
            }
            nodes.push(Node::Leaf(v));
        } else {
            let p: Vec<&str> = tok.split(':').collect();
            let [f, t, l, r] = p[..] else {
                return Err("a split is feature:threshold:left:right");
            };
            let num = |s: &str| s.parse::<usize>().map_err(|_| "bad index");
            nodes.push(Node::Split {
                feature: num(f)?,
                threshold: t.parse().map_err(|_| "bad threshold")?,
                left: num(l)?,
                right: num(r)?,
            });
        }
    }
    let n = nodes.len();
    let ok = !nodes.is_empty()
        && nodes.iter().enumerate().all(|(i, node)| match node {
            Node::Leaf(_) => true,
            Node::Split {
                feature,
                left,
                right,
                ..
            } => *feature < nf && *left < n && *right < n && *left > i && *right > i,
        });
    if !ok {
        return Err("a node points outside the tree or the features, or back");
    }
    Ok(Tree { nodes })
}

impl Member {
    fn write(&self, out: &mut String) {
        let base: Vec<String> = self.base.iter().map(|b| b.to_string()).collect();
        let _ = writeln!(out, "base {}", base.join(" "));
        for round in &self.trees {
            for tree in round {
                out.push_str("tree");
                for node in &tree.nodes {
                    match node {
                        Node::Leaf(v) => {
                            let _ = write!(out, " ={v}");
                        }
                        Node::Split {
                            feature,
                            threshold,
                            left,
                            right,
                        } => {
                            let _ = write!(out, " {feature}:{threshold}:{left}:{right}");
                        }
                    }
                }
                out.push('\n');
            }
        }
    }
}

/// Softmax of scores.
fn softmax(s: &[f64]) -> Vec<f64> {
    let m = s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = s.iter().map(|v| (v - m).exp()).collect();
    let z: f64 = e.iter().sum();
    e.into_iter().map(|v| v / z).collect()
}

/// Candidate split thresholds for one feature: midpoints between distinct values, thinned to
/// at most `max_bins` by quantile.
fn thresholds(values: impl Iterator<Item = f64>, max_bins: usize) -> Vec<f64> {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let mut distinct: Vec<(f64, usize)> = Vec::new(); // value, rows up to and including it
    for (i, &x) in v.iter().enumerate() {
        match distinct.last_mut() {
            Some((last, upto)) if *last == x => *upto = i + 1,
            _ => distinct.push((x, i + 1)),
        }
    }
    let mut out = Vec::new();
    let mut next_quantile = 0.0;
    for w in distinct.windows(2) {
        let (a, upto) = w[0];
        let frac = upto as f64 / n as f64;
        if distinct.len() <= max_bins || frac >= next_quantile {
            out.push(a + (w[1].0 - a) / 2.0);
            next_quantile = frac + 1.0 / max_bins as f64;
        }
    }
    out.truncate(255);
    out
}

/// Per feature, per bin: the sums of gradients and hessians and the row count (empty for a
/// feature the tree may not split on).
type Histograms = Vec<Vec<(f64, f64, usize)>>;

struct Grower<'a> {
    /// The features this tree may split on.
    use_f: &'a [bool],
    bins: &'a [Vec<f64>],
    binned: &'a [Vec<u8>],
    g: &'a [f64],
    h: &'a [f64],
    params: &'a TrainParams,
    nodes: Vec<Node>,
}

impl Grower<'_> {
    /// The histograms of `rows` over the features the tree may split on.
    fn histograms(&self, rows: &[usize]) -> Histograms {
        self.bins
            .iter()
            .enumerate()
            .map(|(f, th)| {
                if th.is_empty() || !self.use_f[f] {
                    return Vec::new();
                }
                let mut hist = vec![(0.0, 0.0, 0usize); th.len() + 1];
                let binned = &self.binned[f];
                for &i in rows {
                    let b = &mut hist[binned[i] as usize];
                    b.0 += self.g[i];
                    b.1 += self.h[i];
                    b.2 += 1;
                }
                hist
            })
            .collect()
    }

    /// Grows the subtree over `rows` (whose histograms are `hist`) and returns its node index.
    fn grow(&mut self, rows: Vec<usize>, hist: Histograms, depth: usize) -> usize {
        let lambda = self.params.lambda;
        let (gs, hs) = rows
            .iter()
            .fold((0.0, 0.0), |(g, h), &i| (g + self.g[i], h + self.h[i]));
        let id = self.nodes.len();
        self.nodes
            .push(Node::Leaf(-gs / (hs + lambda) * self.params.learning_rate));
        if depth >= self.params.max_depth || rows.len() < 2 * self.params.min_leaf {
            return id;
        }
        let parent = gs * gs / (hs + lambda);
        let mut best: Option<(f64, usize, usize)> = None; // gain, feature, bin
        for (f, hf) in hist.iter().enumerate() {
            if hf.is_empty() {
                continue;
            }
            let (mut gl, mut hl, mut cl) = (0.0, 0.0, 0usize);
            for (b, &(g, h, c)) in hf[..hf.len() - 1].iter().enumerate() {
                gl += g;
                hl += h;
                cl += c;
                let cr = rows.len() - cl;
                if cl < self.params.min_leaf || cr < self.params.min_leaf {
                    continue;
                }
                let (gr, hr) = (gs - gl, hs - hl);
                let gain = gl * gl / (hl + lambda) + gr * gr / (hr + lambda) - parent;
                if gain > 1e-9 && best.is_none_or(|(bg, _, _)| gain > bg) {
                    best = Some((gain, f, b));
                }
            }
        }
        let Some((_, feature, bin)) = best else {
            return id;
        };
        let (left_rows, right_rows): (Vec<usize>, Vec<usize>) = rows
            .into_iter()
            .partition(|&i| (self.binned[feature][i] as usize) <= bin);
        // The children's histograms: the smaller child's counted, the larger's the parent's
        // less the smaller's (only when a child may still split).
        let splits_again =
            |n: usize| depth + 1 < self.params.max_depth && n >= 2 * self.params.min_leaf;
        let (left_hist, right_hist) =
            if splits_again(left_rows.len()) || splits_again(right_rows.len()) {
                let left_smaller = left_rows.len() <= right_rows.len();
                let small = self.histograms(if left_smaller {
                    &left_rows
                } else {
                    &right_rows
                });
                let mut big = hist;
                for (bf, sf) in big.iter_mut().zip(&small) {
                    for (b, s) in bf.iter_mut().zip(sf) {
                        b.0 -= s.0;
                        b.1 -= s.1;
                        b.2 -= s.2;
                    }
                }
                if left_smaller {
                    (small, big)
                } else {
                    (big, small)
                }
            } else {
                (Vec::new(), Vec::new())
            };
        let left = self.grow(left_rows, left_hist, depth + 1);
        let right = self.grow(right_rows, right_hist, depth + 1);
        self.nodes[id] = Node::Split {
            feature,
            threshold: self.bins[feature][bin],
            left,
            right,
        };
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy() -> (Vec<String>, Vec<Vec<f64>>, Vec<usize>) {
        // Class by which third of [0, 3) the first feature falls in; the second is noise.
        let names = vec!["a".to_string(), "noise".to_string()];
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..300 {
            let a = i as f64 / 100.0;
            x.push(vec![a, ((i * 37) % 11) as f64]);
            y.push(i / 100);
        }
        (names, x, y)
    }

    #[test]
    fn learns_thresholds_and_round_trips_through_text() {
        let (names, x, y) = toy();
        let m = Gbdt::train(&names, &x, &y, 3, &TrainParams::default());
        let right = x
            .iter()
            .zip(&y)
            .filter(|(r, c)| {
                let p = m.predict_proba(r);
                (0..3).max_by(|&a, &b| p[a].total_cmp(&p[b])) == Some(**c)
            })
            .count();
        assert!(right >= 295, "{right}");
        let text = m.to_text("toy\nmodel");
        let back = Gbdt::from_text(&text, &["a", "noise"]).unwrap();
        assert_eq!(back, m);
        assert!(matches!(
            Gbdt::from_text(&text, &["a", "b"]),
            Err(ModelError::Features(_))
        ));
        assert!(Gbdt::from_text("features a\nbase 0 0\ntree 0:1:5:6\n", &["a"]).is_err());
    }

    #[test]
    fn members_drawn_from_their_seeds_average_and_round_trip() {
        let (names, x, y) = toy();
        let member = |seed| {
            let params = TrainParams {
                rounds: 40,
                subsample: 0.8,
                seed,
                ..TrainParams::default()
            };
            Gbdt::train(&names, &x, &y, 3, &params)
        };
        let (m1, m2) = (member(1), member(2));
        assert_eq!(m1, member(1), "seeded");
        assert_ne!(m1, m2, "another seed draws other rows and features");
        let both = Gbdt::ensemble(vec![m1.clone(), m2.clone()], Some(vec![2.0, 1.0, 1.0]));
        assert_eq!(both.members(), 2);
        let (p, p1, p2) = (
            both.predict_proba(&x[150]),
            m1.predict_proba(&x[150]),
            m2.predict_proba(&x[150]),
        );
        for k in 0..3 {
            assert!((p[k] - (p1[k] + p2[k]) / 2.0).abs() < 1e-12);
        }
        let back = Gbdt::from_text(&both.to_text("two"), &["a", "noise"]).unwrap();
        assert_eq!(back, both);
        assert!(
            Gbdt::from_text(
                "features a\nweights 1 1\nbase 0 0 0\ntree =0\ntree =0\ntree =0\n",
                &["a"]
            )
            .is_err(),
            "one weight per class"
        );
    }
}
