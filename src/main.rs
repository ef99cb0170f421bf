//! The `dizhi` command: clap → library calls. Exit codes: 0 ok, 1 runtime failure, 2 usage error.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(name = "dizhi", version, about = "Chinese address standardization and building footprints (青浦)")]
struct Cli {
    /// Data directory (default: $DIZHI_DATA, else ./dizhi-data).
    #[arg(long, global = true, env = "DIZHI_DATA", default_value = "dizhi-data")]
    data: PathBuf,
    #[command(subcommand)]
    command: Command,
}

/// Output formats shared by the commands that print results.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Format {
    Table,
    Json,
    Csv,
    Geojson,
}

#[derive(Subcommand)]
enum Command {
    /// Generate a synthetic 青浦 district (deterministic for a seed).
    Synth {
        /// How many standard addresses to generate.
        #[arg(long, default_value_t = 20_000)]
        addresses: usize,
        /// Random seed; the same seed gives byte-identical output.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output directory.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print the generated road-name dictionary instead (dictionaries/roads_generated.tsv).
        #[arg(long, conflicts_with = "out")]
        road_names: bool,
    },
    /// Build the data directory's store from a synthetic-district directory (all or nothing).
    Build {
        /// The source directory (manifest.json, addresses.csv, buildings.geojson, sources/ …).
        source_dir: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dizhi: {e}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let _ = (&cli.data, Format::Table);
    match cli.command {
        Command::Synth { .. } => Err("synth: not built yet".into()),
        Command::Build { source_dir } => build(&source_dir, &cli.data),
    }
}

/// `dizhi build`: a progress bar on a terminal once the build has run for a second, then a short
/// summary on stdout.
fn build(
    source_dir: &std::path::Path,
    data: &std::path::Path,
) -> Result<(), Box<dyn std::error::Error>> {
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    let started = Instant::now();
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    bar.set_style(
        ProgressStyle::with_template("{msg:20} [{bar:40}] {percent:>3}%  {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let shown = Mutex::new(false);
    let progress = |stage: dizhi::store::Stage, done: u64, total: u64| {
        // Only bother a terminal, and only when the build is slow enough to wonder about.
        if let Ok(mut shown) = shown.lock()
            && !*shown
            && started.elapsed() > Duration::from_secs(1)
        {
            // `stderr()` is itself hidden when stderr is not a terminal.
            bar.set_draw_target(ProgressDrawTarget::stderr());
            *shown = true;
        }
        bar.set_message(stage.label());
        // A total of 0 means unknown: let the bar grow with the work.
        bar.set_length(total.max(done).max(1));
        bar.set_position(done);
    };
    let result = dizhi::store::build(source_dir, data, &progress);
    bar.finish_and_clear();
    let report = result?;
    println!(
        "built {} from {} in {:.1} s",
        report.store.display(),
        report.source_dir.display(),
        report.elapsed.as_secs_f64()
    );
    println!(
        "  {} addresses, {} buildings, {} links, {} roads, {} areas",
        report.addresses, report.buildings, report.links, report.roads, report.areas
    );
    println!(
        "  {} sources with {} records, {} truth files{}",
        report.sources,
        report.source_records,
        report.truth_files,
        report
            .seed
            .map(|s| format!(", seed {s}"))
            .unwrap_or_default()
    );
    if !report.skipped.is_empty() {
        println!(
            "  skipped (not .csv/.geojson): {}",
            report.skipped.join(", ")
        );
    }
    Ok(())
}
