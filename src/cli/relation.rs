//! `dizhi eval relation` and `dizhi train relation`: compare() measured on labelled address
//! pairs, and the relation model trained from them.

use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, Subcommand};
use dizhi::address::relation::TrainParams;
use dizhi::eval::relation::{
    as_pairwise, cross_validate_predictions, evaluate_predictions, prepare, read_pairs,
    train as fit,
};

use super::{CliError, CliResult};

/// `dizhi eval relation FILE [--folds K]`.
#[derive(Args)]
pub struct EvalRelationArgs {
    /// The pair file (e.g. ../shared/data/matching/ccks2021_track3/train.jsonl).
    file: PathBuf,
    /// Cross-validate instead: K folds grouped by text_id, a fresh model trained on K-1 of
    /// them scores the held one, figures pooled.
    #[arg(long)]
    folds: Option<usize>,
    /// Seed of the fold assignment.
    #[arg(long, default_value_t = 16)]
    seed: u64,
    /// Write the wrongly classed pairs (JSON lines) to this file.
    #[arg(long)]
    failures: Option<PathBuf>,
    #[command(flatten)]
    model: ModelArgs,
}

/// How the models are trained (defaults: the shipped model's parameters).
#[derive(Args, Clone, Default)]
pub struct ModelArgs {
    /// Boosting rounds.
    #[arg(long)]
    rounds: Option<usize>,
    /// Deepest tree.
    #[arg(long)]
    depth: Option<usize>,
    /// Shrinkage.
    #[arg(long)]
    learning_rate: Option<f64>,
    /// Fewest rows in a leaf.
    #[arg(long)]
    min_leaf: Option<usize>,
    /// Share of the features each tree may split on.
    #[arg(long)]
    feature_fraction: Option<f64>,
    /// Share of the rows each tree fits.
    #[arg(long)]
    subsample: Option<f64>,
    /// Members of the ensemble (each trained leaving out one group of queries).
    #[arg(long)]
    bags: Option<usize>,
    /// Choose the class weights on the members' held-out scores (true/false).
    #[arg(long)]
    tune_weights: Option<bool>,
    /// The pairwise model (each pair alone, what compare(a, b) uses; shipped as
    /// src/address/relation/model.txt) instead of the listwise one (each query's candidates as a
    /// list, what compare_candidates uses; src/address/relation/model_list.txt).
    #[arg(long)]
    pairwise: bool,
}

impl ModelArgs {
    fn params(&self) -> TrainParams {
        let d = TrainParams::default();
        TrainParams {
            rounds: self.rounds.unwrap_or(d.rounds),
            max_depth: self.depth.unwrap_or(d.max_depth),
            learning_rate: self.learning_rate.unwrap_or(d.learning_rate),
            min_leaf: self.min_leaf.unwrap_or(d.min_leaf),
            feature_fraction: self.feature_fraction.unwrap_or(d.feature_fraction),
            subsample: self.subsample.unwrap_or(d.subsample),
            bags: self.bags.unwrap_or(d.bags),
            tune_weights: self.tune_weights.unwrap_or(d.tune_weights),
            ..d
        }
    }
}

#[derive(Subcommand)]
pub enum TrainCommand {
    /// Train the relation model compare() uses from a pair file and write its parameters.
    Relation {
        /// The pair file (CCKS 2021 地址相关性 JSON lines).
        file: PathBuf,
        /// Where to write the model (the shipped one is src/address/relation/model.txt).
        #[arg(short, long)]
        out: PathBuf,
        #[command(flatten)]
        model: ModelArgs,
    },
}

/// `dizhi eval relation`: the shipped model scored on a pair file, or K-fold cross-validation.
pub fn eval_relation(args: &EvalRelationArgs) -> CliResult {
    if args.folds.is_some_and(|k| k < 2) {
        return Err(CliError::usage("--folds must be at least 2"));
    }
    let started = Instant::now();
    let queries = read_pairs(&args.file)?;
    let dicts = dizhi::Dictionaries::embedded()?;
    let parser = dizhi::Parser::new(&dicts);
    let pairs = prepare(&parser, &queries);
    let prepared = started.elapsed().as_secs_f64();
    let pairwise = args.model.pairwise;
    let pairs = if pairwise { as_pairwise(&pairs) } else { pairs };
    let (report, predictions) = match args.folds {
        Some(k) => cross_validate_predictions(&pairs, k, args.seed, &args.model.params()),
        None => {
            use dizhi::address::relation::RelationModel;
            let model = if pairwise {
                RelationModel::embedded()
            } else {
                RelationModel::embedded_list()
            };
            evaluate_predictions(model.map_err(CliError::runtime)?, &pairs)
        }
    };
    eprintln!(
        "parsed and featurized in {prepared:.1} s, scored in {:.1} s",
        started.elapsed().as_secs_f64() - prepared
    );
    if let Some(path) = &args.failures {
        use std::io::Write;
        let mut w = std::io::BufWriter::new(
            std::fs::File::create(path)
                .map_err(|e| CliError::runtime(format!("{}: {e}", path.display())))?,
        );
        for (p, (class, conf)) in pairs.iter().zip(&predictions) {
            if *class != p.class {
                writeln!(
                    w,
                    "{}",
                    serde_json::json!({"a": p.texts.0, "b": p.texts.1, "gold": p.class.label(),
                        "predicted": class.label(), "confidence": conf})
                )?;
            }
        }
    }
    print!("{}", report.to_table());
    Ok(())
}

/// `dizhi train relation`.
pub fn train(what: TrainCommand) -> CliResult {
    let TrainCommand::Relation { file, out, model } = what;
    let queries = read_pairs(&file)?;
    let dicts = dizhi::Dictionaries::embedded()?;
    let parser = dizhi::Parser::new(&dicts);
    let pairs = prepare(&parser, &queries);
    let pairwise = model.pairwise;
    let pairs = if pairwise { as_pairwise(&pairs) } else { pairs };
    let params = model.params();
    let refs: Vec<_> = pairs.iter().collect();
    let model = fit(&refs, &params);
    let name = file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let what = if pairwise {
        "the features of src/address/relation/features.rs (pairwise: each pair alone)"
    } else {
        "the features of src/address/relation/features.rs and the candidate-list context of\n\
         src/address/relation/context.rs (listwise: each query's candidates as one list)"
    };
    let command = if pairwise { " --pairwise" } else { "" };
    let header = format!(
        "dizhi relation model: gradient-boosted trees (softmax over same / partial / different)\n\
         on {what}, trained in the project.\n\
         Trained from: {name} ({} queries, {} pairs; CCKS 2021 地址相关性, round-2 training half)\n\
         Command: dizhi train relation {} -o {}{command}\n\
         Parameters: {params:?}\n\
         Deterministic: the same file and code give the same model.",
        queries.len(),
        pairs.len(),
        file.display(),
        out.display(),
    );
    std::fs::write(&out, model.to_text(&header))
        .map_err(|e| CliError::runtime(format!("{}: {e}", out.display())))?;
    eprintln!("wrote {} ({} pairs)", out.display(), pairs.len());
    Ok(())
}
