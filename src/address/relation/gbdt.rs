//! A small gradient-boosted tree classifier (softmax over a few classes, second-order leaves,
//! histogram splits), written here so the relation model is trained in the project, from the
//! project's own features, with no outside weights. Training is deterministic: no sampling.

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
}

/// Seed of the per-tree feature draw.
const FEATURE_SEED: u64 = 7;

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

/// A trained classifier: per class, a base score and a list of trees.
#[derive(Debug, Clone, PartialEq)]
pub struct Gbdt {
    /// The features' names, in input order (checked against the code's when loading).
    pub features: Vec<String>,
    base: Vec<f64>,
    /// trees[round][class]
    trees: Vec<Vec<Tree>>,
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
        self.base.len()
    }

    /// Class probabilities for one feature vector.
    pub fn predict_proba(&self, x: &[f64]) -> Vec<f64> {
        let mut score = self.base.clone();
        for round in &self.trees {
            for (k, t) in round.iter().enumerate() {
                score[k] += t.predict(x);
            }
        }
        softmax(&score)
    }

    /// Trains on rows `x` (all the same length, named by `features`) with labels `y` in
    /// `0..classes`.
    pub fn train(
        features: &[String],
        x: &[Vec<f64>],
        y: &[usize],
        classes: usize,
        params: &TrainParams,
    ) -> Gbdt {
        let n = x.len();
        let nf = features.len();
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
        // The features each tree may split on: a seeded draw, so training stays deterministic.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(FEATURE_SEED);
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
                let mut grower = Grower {
                    use_f: &use_f,
                    bins: &bins,
                    binned: &binned,
                    g: &g,
                    h: &h,
                    params,
                    nodes: Vec::new(),
                };
                grower.grow(all.clone(), 0);
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
        Gbdt {
            features: features.to_vec(),
            base,
            trees,
        }
    }

    /// The model as text: `#` header lines, then `features`, `base` and one `tree` line per
    /// class per round (nodes `f:threshold:left:right` or `=value`, separated by spaces).
    pub fn to_text(&self, header: &str) -> String {
        let mut out = String::new();
        for line in header.lines() {
            let _ = writeln!(out, "# {line}");
        }
        let _ = writeln!(out, "features {}", self.features.join(" "));
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
        out
    }

    /// Reads [`Gbdt::to_text`]'s output, checking the feature names against `expected`.
    pub fn from_text(text: &str, expected: &[&str]) -> Result<Gbdt, ModelError> {
        let bad = |line: usize, reason: &str| ModelError::Line {
            line,
            reason: reason.to_string(),
        };
        let mut features = None;
        let mut base: Option<Vec<f64>> = None;
        let mut flat = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let ln = i + 1;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (key, rest) = line.split_once(' ').unwrap_or((line, ""));
            match key {
                "features" => {
                    features = Some(rest.split(' ').map(str::to_string).collect::<Vec<_>>())
                }
                "base" => {
                    base = Some(
                        rest.split(' ')
                            .map(|v| v.parse::<f64>().map_err(|_| bad(ln, "bad base score")))
                            .collect::<Result<_, _>>()?,
                    )
                }
                "tree" => {
                    let mut nodes = Vec::new();
                    for tok in rest.split(' ') {
                        if let Some(v) = tok.strip_prefix('=') {
                            nodes.push(Node::Leaf(
                                v.parse().map_err(|_| bad(ln, "bad leaf value"))?,
                            ));
                        } else {
                            let p: Vec<&str> = tok.split(':').collect();
                            let [f, t, l, r] = p[..] else {
                                return Err(bad(ln, "a split is feature:threshold:left:right"));
                            };
                            let num =
                                |s: &str| s.parse::<usize>().map_err(|_| bad(ln, "bad index"));
                            nodes.push(Node::Split {
                                feature: num(f)?,
                                threshold: t.parse().map_err(|_| bad(ln, "bad threshold"))?,
                                left: num(l)?,
                                right: num(r)?,
                            });
                        }
                    }
                    let n = nodes.len();
                    let nf = expected.len();
                    let ok = !nodes.is_empty()
                        && nodes.iter().all(|node| match node {
                            Node::Leaf(v) => v.is_finite(),
                            Node::Split {
                                feature,
                                left,
                                right,
                                ..
                            } => *feature < nf && *left < n && *right < n,
                        });
                    if !ok {
                        return Err(bad(ln, "a node points outside the tree or the features"));
                    }
                    flat.push((ln, Tree { nodes }));
                }
                _ => return Err(bad(ln, "expected features, base or tree")),
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
        let base = base.ok_or_else(|| bad(0, "no base line"))?;
        let k = base.len();
        if k < 2 || flat.len() % k != 0 {
            return Err(bad(0, "tree count is not a multiple of the classes"));
        }
        let mut trees = Vec::new();
        let mut it = flat.into_iter().map(|(_, t)| t);
        while let Some(first) = it.next() {
            let mut round = vec![first];
            round.extend(it.by_ref().take(k - 1));
            trees.push(round);
        }
        // Children always come after their parent, so a walk cannot loop.
        for round in &trees {
            for t in round {
                for (i, node) in t.nodes.iter().enumerate() {
                    if let Node::Split { left, right, .. } = node
                        && (*left <= i || *right <= i)
                    {
                        return Err(bad(0, "a child comes before its parent"));
                    }
                }
            }
        }
        Ok(Gbdt {
            features,
            base,
            trees,
        })
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
    /// Grows the subtree over `rows` and returns its node index.
    fn grow(&mut self, rows: Vec<usize>, depth: usize) -> usize {
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
        for (f, th) in self.bins.iter().enumerate() {
            if th.is_empty() || !self.use_f[f] {
                continue;
            }
            let nb = th.len() + 1;
            let mut hg = vec![0.0; nb];
            let mut hh = vec![0.0; nb];
            let mut hc = vec![0usize; nb];
            for &i in &rows {
                let b = self.binned[f][i] as usize;
                hg[b] += self.g[i];
                hh[b] += self.h[i];
                hc[b] += 1;
            }
            let (mut gl, mut hl, mut cl) = (0.0, 0.0, 0usize);
            for b in 0..nb - 1 {
                gl += hg[b];
                hl += hh[b];
                cl += hc[b];
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
        let left = self.grow(left_rows, depth + 1);
        let right = self.grow(right_rows, depth + 1);
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
}
