//! The `dizhi` command: clap → library calls. Exit codes: 0 ok, 1 runtime failure, 2 usage error.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "dizhi",
    version,
    about = "Chinese address standardization and building footprints (青浦)"
)]
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
    /// Open the data directory (building the bundled 青浦 district on first start) and serve it.
    ///
    /// Until the HTTP service lands, this prints a summary of the loaded district and what to try.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
    },
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
    /// Parse addresses into components (one argument, or one address per stdin line → JSON lines).
    Parse {
        /// The address; without it, one address per stdin line.
        address: Option<String>,
        /// Output format: a readable table (one address only) or JSON.
        #[arg(long, value_enum, default_value = "table")]
        format: ParseFormat,
    },
    /// Normalize addresses to standard addresses (one argument, or one per stdin line → JSON lines).
    Normalize {
        /// The address; without it, one address per stdin line.
        address: Option<String>,
        /// Output format: a readable table (one address only) or JSON.
        #[arg(long, value_enum, default_value = "json")]
        format: ParseFormat,
    },
    /// Complete a partially typed address (what an operator sees while typing).
    Suggest {
        /// What has been typed so far.
        typed: String,
        /// How many completions.
        #[arg(long, default_value_t = 10)]
        limit: usize,
    },
    /// Compare two addresses: same, one contains the other, or different (and where they part).
    /// Without arguments: two tab-separated addresses per stdin line → JSON lines.
    Compare {
        /// The first address.
        a: Option<String>,
        /// The second address.
        b: Option<String>,
    },
    /// Measure the matcher: accuracy, calibration, latency and throughput on noisy queries.
    Bench {
        #[command(subcommand)]
        what: BenchCommand,
    },
    /// Measure the parser against labelled files.
    Eval {
        #[command(subcommand)]
        what: EvalCommand,
    },
}

/// Output of `dizhi parse`.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum ParseFormat {
    Table,
    Json,
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Normalize seeded noisy queries made from the data directory's addresses.
    Normalize {
        /// How many queries.
        #[arg(long, default_value_t = 20_000)]
        queries: usize,
        /// Seed of the queries.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Threads for the throughput run (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// Write the wrong answers (JSON lines) to this file.
        #[arg(long)]
        failures: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum EvalCommand {
    /// Span-exact precision/recall/F1 per label on a character-per-line labelled file.
    Parse {
        /// The labelled file (e.g. ../shared/data/parsing/naacl2019/dev.txt).
        file: PathBuf,
        /// The file's tag scheme (and annotation conventions): bio (naacl2019) or bmes (swei412).
        #[arg(long, value_enum)]
        format: dizhi::eval::Scheme,
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
        Command::Synth {
            addresses,
            seed,
            out,
            road_names,
        } => {
            let dicts = dizhi::Dictionaries::embedded()?;
            if road_names {
                print!("{}", dizhi::synth::road_names_tsv(&dicts));
                return Ok(());
            }
            let out = out.ok_or("synth: --out DIR is required")?;
            let started = std::time::Instant::now();
            let config = dizhi::synth::SynthConfig { addresses, seed };
            let district = dizhi::synth::generate_to_dir(&dicts, config, &out)?;
            eprintln!(
                "synth: {} addresses, {} buildings, {} injected faults in {} ({:.1} s)",
                district.addresses.len(),
                district.buildings.len(),
                district.fault_count(),
                out.display(),
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Build { source_dir } => build(&source_dir, &cli.data),
        Command::Serve { addr } => serve(&cli.data, &addr),
        Command::Parse { address, format } => run_parse(address, format),
        Command::Normalize { address, format } => run_normalize(&cli.data, address, format),
        Command::Suggest { typed, limit } => {
            let dicts = dizhi::Dictionaries::embedded()?;
            let matcher =
                dizhi::search::Matcher::new(dizhi::search::AddressIndex::open(&cli.data)?, &dicts)?;
            for s in matcher.suggest(&typed, limit)? {
                println!("{}\t{}", s.id, s.address);
            }
            Ok(())
        }
        Command::Compare { a, b } => run_compare(a, b),
        Command::Bench {
            what:
                BenchCommand::Normalize {
                    queries,
                    seed,
                    threads,
                    failures,
                },
        } => {
            let dicts = dizhi::Dictionaries::embedded()?;
            let opened = std::time::Instant::now();
            let matcher =
                dizhi::search::Matcher::new(dizhi::search::AddressIndex::open(&cli.data)?, &dicts)?;
            println!(
                "opened {} in {:.2} s",
                cli.data.display(),
                opened.elapsed().as_secs_f64()
            );
            let store = dizhi::store::Store::open(&cli.data)?;
            let qs = dizhi::search::noisy::noisy_queries(&store, &dicts, queries, seed)?;
            let threads = threads
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            let report = dizhi::search::bench::run(&matcher, &qs, threads);
            print!("{}", report.to_text());
            if let Some(path) = failures {
                use std::io::Write;
                let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
                for (q, m) in &report.failures {
                    writeln!(f, "{}", serde_json::json!({"query": q, "answer": m}))?;
                }
            }
            Ok(())
        }
        Command::Eval {
            what: EvalCommand::Parse { file, format },
        } => {
            let dicts = dizhi::Dictionaries::embedded()?;
            let parser = dizhi::Parser::new(&dicts);
            let report = dizhi::eval::evaluate_file(&parser, &file, format)?;
            print!("{}", report.to_table());
            Ok(())
        }
    }
}

/// `dizhi serve`: for now, the loaded district and what to try.
fn serve(data: &std::path::Path, addr: &str) -> Result<(), Box<dyn std::error::Error>> {
    let dicts = dizhi::Dictionaries::embedded()?;
    let (store, built) = dizhi::setup::open_or_build_bundled(data, &dicts)?;
    if built {
        println!("built the bundled 青浦 district into {}", data.display());
    }
    let summary = store.summary()?;
    println!(
        "{}: {} addresses, {} buildings, {} roads, {} 居/村委 areas, {} sources ({} records)",
        store.path().display(),
        summary.addresses,
        summary.buildings,
        summary.roads,
        summary.areas,
        summary.sources,
        summary.source_records
    );
    for (town, n) in &summary.addresses_per_town {
        println!("  {town:<8} {n:>8}");
    }
    println!(
        "The HTTP API and web page at {addr} are not built yet. Try:\n  \
         dizhi parse \"青浦华新镇华腾路1288弄3号502室\"\n  \
         dizhi build fixtures/qingpu-20k --data {}",
        data.display()
    );
    Ok(())
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
        bar.set_length(total.max(1));
        bar.set_position(done);
    };
    let result = dizhi::store::build(source_dir, data, &progress);
    bar.finish_and_clear();
    let report = result?;
    let indexing = Instant::now();
    let store = dizhi::store::Store::open(data)?;
    let indexed = dizhi::search::build_index(&store, &dizhi::search::AddressIndex::dir(data))?;
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
    println!(
        "  search index: {indexed} addresses in {:.1} s",
        indexing.elapsed().as_secs_f64()
    );
    if !report.skipped.is_empty() {
        println!(
            "  skipped (not .csv/.geojson): {}",
            report.skipped.join(", ")
        );
    }
    Ok(())
}

/// `dizhi normalize`: one address → JSON (or a table); none → JSON lines from stdin, one process
/// for the whole stream.
fn run_normalize(
    data: &std::path::Path,
    address: Option<String>,
    format: ParseFormat,
) -> Result<(), Box<dyn std::error::Error>> {
    use std::io::{BufRead, Write};
    let dicts = dizhi::Dictionaries::embedded()?;
    let matcher = dizhi::search::Matcher::new(dizhi::search::AddressIndex::open(data)?, &dicts)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match address {
        Some(a) => {
            let m = matcher.normalize(&a);
            match format {
                ParseFormat::Json => writeln!(out, "{}", serde_json::to_string(&m)?)?,
                ParseFormat::Table => writeln!(out, "{}", serde_json::to_string_pretty(&m)?)?,
            }
        }
        None => {
            for line in std::io::stdin().lock().lines() {
                let line = line?;
                writeln!(out, "{}", serde_json::to_string(&matcher.normalize(&line))?)?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// `dizhi compare A B`, or tab-separated pairs from stdin → JSON lines.
fn run_compare(a: Option<String>, b: Option<String>) -> Result<(), Box<dyn std::error::Error>> {
    use std::io::{BufRead, Write};
    let dicts = dizhi::Dictionaries::embedded()?;
    let parser = dizhi::Parser::new(&dicts);
    let one = |a: &str, b: &str| {
        let c = dizhi::address::compare(&parser.parse(a), &parser.parse(b));
        serde_json::json!({"a": a, "b": b, "relation": c.relation, "parted_at": c.parted_at, "shared": c.shared})
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match (a, b) {
        (Some(a), Some(b)) => writeln!(out, "{}", one(&a, &b))?,
        (None, None) => {
            for line in std::io::stdin().lock().lines() {
                let line = line?;
                match line.split_once('\t') {
                    Some((a, b)) => writeln!(out, "{}", one(a, b))?,
                    None => writeln!(
                        out,
                        "{}",
                        serde_json::json!({"input": line, "error": "expected two addresses separated by a tab"})
                    )?,
                }
            }
        }
        _ => {
            return Err(
                "compare: give two addresses, or none to read tab-separated pairs from stdin"
                    .into(),
            );
        }
    }
    out.flush()?;
    Ok(())
}

/// `dizhi parse`: one address → table or JSON; none → JSON lines from stdin.
fn run_parse(
    address: Option<String>,
    format: ParseFormat,
) -> Result<(), Box<dyn std::error::Error>> {
    use std::io::{BufRead, Write};
    let dicts = dizhi::Dictionaries::embedded()?;
    let parser = dizhi::Parser::new(&dicts);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match address {
        Some(a) => {
            let p = parser.parse(&a);
            match format {
                ParseFormat::Table => write!(out, "{}", p.to_table())?,
                ParseFormat::Json => writeln!(out, "{}", serde_json::to_string(&p)?)?,
            }
        }
        None => {
            for line in std::io::stdin().lock().lines() {
                let line = line?;
                writeln!(out, "{}", serde_json::to_string(&parser.parse(&line))?)?;
            }
        }
    }
    out.flush()?;
    Ok(())
}
