//! The `dizhi` command: clap → library calls. Exit codes: 0 ok, 1 runtime failure, 2 usage error.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

mod fusion_cli;
mod relation_cli;

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
    /// Open the data directory (building the bundled 青浦 district on first start) and serve the
    /// HTTP API on it until Ctrl-C.
    ///
    /// Without --config, lookups need no key on a loopback address, and an admin key is created
    /// in the data directory on first start. Logs: RUST_LOG (default `info`).
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: String,
        /// The server config (TOML): keys with roles, limits, CORS origins.
        #[arg(long)]
        config: Option<PathBuf>,
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
    /// Normalize the address column(s) of a CSV/TSV (UTF-8 or GBK) or XLSX file: every row back,
    /// in order, with the dizhi_ columns appended (CSV on stdout without -o).
    Batch(BatchArgs),
    /// Measure the matcher: accuracy, calibration, latency and throughput on noisy queries.
    Bench {
        #[command(subcommand)]
        what: BenchCommand,
    },
    /// Measure the parser, fusion and compare against labelled files.
    Eval {
        #[command(subcommand)]
        what: EvalCommand,
    },
    /// Train a model of the project's own from labelled data.
    Train {
        #[command(subcommand)]
        what: relation_cli::TrainCommand,
    },
    /// Reverse lookup: the building at a point (or the nearest within --radius) and its addresses.
    ///
    /// With no point, reads one `lon,lat` per stdin line and writes one JSON object per line.
    Reverse {
        /// The point, `LON,LAT`.
        #[arg(value_parser = parse_point_arg, allow_hyphen_values = true)]
        point: Option<(f64, f64)>,
        /// Coordinate system of the input and output points.
        #[arg(long, default_value = "wgs84")]
        crs: dizhi::spatial::Crs,
        /// How far to look for a building when the point is in none (metres).
        #[arg(long, default_value_t = dizhi::spatial::DEFAULT_RADIUS_M)]
        radius: f64,
        /// Output format (json lines; table is one tab-separated line).
        #[arg(long, value_enum, default_value = "json")]
        format: Format,
    },
    /// Buildings in a box, in a polygon file, or near a point, with their addresses.
    #[command(group(clap::ArgGroup::new("query").required(true).args(["bbox", "within", "near"])))]
    Buildings {
        /// `MINLON,MINLAT,MAXLON,MAXLAT`: buildings intersecting the box.
        #[arg(long, allow_hyphen_values = true, value_parser = parse_bbox_arg)]
        bbox: Option<geo::Rect<f64>>,
        /// A GeoJSON, GeoPackage or Shapefile of polygons: buildings intersecting them.
        #[arg(long)]
        within: Option<PathBuf>,
        /// Only buildings entirely inside the --within polygons.
        #[arg(long, requires = "within")]
        contained: bool,
        /// `LON,LAT`: buildings within --radius metres, nearest first.
        #[arg(long, value_parser = parse_point_arg, allow_hyphen_values = true)]
        near: Option<(f64, f64)>,
        /// Radius for --near, in metres.
        #[arg(long, default_value_t = 100.0)]
        radius: f64,
        /// At most this many buildings (for --near: the k nearest).
        #[arg(long)]
        limit: Option<usize>,
        /// Coordinate system of the input and output points.
        #[arg(long, default_value = "wgs84")]
        crs: dizhi::spatial::Crs,
        /// Output format.
        #[arg(long, value_enum, default_value = "json")]
        format: Format,
    },
    /// Export data for GIS tools (QGIS opens GeoPackage natively).
    Export {
        /// What to export.
        #[arg(value_enum)]
        what: ExportWhat,
        /// File format.
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// Output file (`.gpkg`, `.geojson`, `.shp`).
        #[arg(short, long)]
        output: PathBuf,
        /// Shapefile attribute encoding (`utf-8` or `gbk`), written to the `.cpg`.
        #[arg(long, default_value = "utf-8")]
        encoding: dizhi::gis::shp::DbfEncoding,
    },
    /// Import a source file (CSV/XLSX/GeoJSON/GeoPackage/Shapefile), keeping every raw record;
    /// re-importing a source replaces it (idempotent).
    Import {
        /// The file.
        file: PathBuf,
        /// The source's name.
        #[arg(long)]
        source: String,
        /// What its records are.
        #[arg(long)]
        kind: dizhi::fuse::Role,
        /// Column mapping overrides, `column=field` (fields: id, address, town, community, road,
        /// lane, number, building, group, name, category, lon, lat, floors, usage …).
        #[arg(long = "map")]
        map: Vec<String>,
    },
    /// Fuse every source in the store: match, link to buildings, run the rules, queue anomalies.
    Fuse {
        /// A rules file (TOML) instead of the embedded rules/default.toml.
        #[arg(long)]
        rules: Option<PathBuf>,
        /// Also write every finding to this CSV.
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// Run the quality rules: on the store (fusing it and queueing anomalies), or on a FILE
    /// (report only). A CSV report (stdout, or --report) and a summary (stderr).
    Check {
        /// A file to check instead of the store.
        file: Option<PathBuf>,
        /// A rules file (TOML) instead of the embedded rules/default.toml.
        #[arg(long)]
        rules: Option<PathBuf>,
        /// What the file's records are.
        #[arg(long, default_value = "addresses")]
        kind: dizhi::fuse::Role,
        /// Column mapping overrides for FILE, `column=field`.
        #[arg(long = "map")]
        map: Vec<String>,
        /// Write the CSV report here instead of stdout.
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// The anomaly queue and its review.
    Anomaly {
        #[command(subcommand)]
        what: fusion_cli::AnomalyCommand,
    },
    /// Address tags (地址标签).
    Tag {
        #[command(subcommand)]
        what: fusion_cli::TagCommand,
    },
    /// Objections from outside: "this address is wrong".
    Objection {
        #[command(subcommand)]
        what: fusion_cli::ObjectionCommand,
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
        /// Write the queries with their answers (JSON lines) to this file, to run them through
        /// another build (`dizhi normalize --format json`).
        #[arg(long)]
        queries_out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum EvalCommand {
    /// Score the store's anomalies and links against a synthetic district's truth: precision and
    /// recall per fault kind; the last line is the lowest F1 (exit 1 below --min-f1).
    Fusion {
        /// The synthetic-district directory (with truth/).
        source_dir: PathBuf,
        /// Fail below this lowest F1.
        #[arg(long, default_value_t = 0.95)]
        min_f1: f64,
        /// Fuse again first (otherwise only when the store was never fused).
        #[arg(long)]
        refuse: bool,
    },
    /// Span-exact precision/recall/F1 per label on a character-per-line labelled file.
    Parse {
        /// The labelled file (e.g. ../shared/data/parsing/naacl2019/dev.txt).
        file: PathBuf,
        /// The file's tag scheme (and annotation conventions): bio (naacl2019) or bmes (swei412).
        #[arg(long, value_enum)]
        format: dizhi::eval::Scheme,
    },
    /// compare() on labelled address pairs (CCKS 2021 地址相关性 JSON lines): per-class P/R/F1
    /// and, last, the macro-F1 (same → 完全匹配, contains/within → 部分匹配, different → 不匹配).
    Relation(relation_cli::EvalRelationArgs),
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
        Command::Serve { addr, config } => serve(&cli.data, &addr, config.as_deref()),
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
        Command::Batch(args) => batch_cmd(&cli.data, args),
        Command::Reverse {
            point,
            crs,
            radius,
            format,
        } => reverse_cmd(&cli.data, point, crs, radius, format),
        Command::Buildings {
            bbox,
            within,
            contained,
            near,
            radius,
            limit,
            crs,
            format,
        } => {
            let query = if let Some(b) = bbox {
                BuildingQuery::Box(b)
            } else if let Some(f) = within {
                BuildingQuery::Within(f, contained)
            } else if let Some(p) = near {
                BuildingQuery::Near(p, radius)
            } else {
                return Err("buildings: give --bbox, --within or --near".into());
            };
            buildings_cmd(&cli.data, query, limit, crs, format)
        }
        Command::Export {
            what: ExportWhat::Buildings,
            format,
            output,
            encoding,
        } => export_cmd(&cli.data, format, &output, encoding),
        Command::Bench {
            what:
                BenchCommand::Normalize {
                    queries,
                    seed,
                    threads,
                    failures,
                    queries_out,
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
            let qs = dizhi::eval::noisy::noisy_queries(&store, &dicts, queries, seed)?;
            if let Some(path) = queries_out {
                use std::io::Write;
                let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
                for q in &qs {
                    writeln!(f, "{}", serde_json::to_string(q)?)?;
                }
            }
            let threads = threads
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            let report = dizhi::eval::normalize::run(&matcher, &qs, threads)?;
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
        Command::Import {
            file,
            source,
            kind,
            map,
        } => fusion_cli::import(&cli.data, &file, &source, kind, &map),
        Command::Fuse { rules, report } => {
            fusion_cli::fuse_store(&cli.data, rules.as_deref(), report.as_deref())
        }
        Command::Check {
            file,
            rules,
            kind,
            map,
            report,
        } => fusion_cli::check(
            &cli.data,
            rules.as_deref(),
            file.as_deref(),
            kind,
            &map,
            report.as_deref(),
        ),
        Command::Anomaly { what } => fusion_cli::anomaly(&cli.data, what),
        Command::Tag { what } => fusion_cli::tag(&cli.data, what),
        Command::Objection { what } => fusion_cli::objection(&cli.data, what),
        Command::Eval {
            what:
                EvalCommand::Fusion {
                    source_dir,
                    min_f1,
                    refuse,
                },
        } => fusion_cli::eval_fusion(&cli.data, &source_dir, min_f1, refuse),
        Command::Eval {
            what: EvalCommand::Relation(args),
        } => relation_cli::eval_relation(&args),
        Command::Train { what } => relation_cli::train(what),
        Command::Eval {
            what: EvalCommand::Parse { file, format },
        } => {
            let dicts = dizhi::Dictionaries::embedded()?;
            let parser = dizhi::Parser::new(&dicts);
            let report = dizhi::eval::evaluate_file(&parser, &file, format)
                .map_err(|e| format!("{}: {e}", file.display()))?;
            print!("{}", report.to_table());
            Ok(())
        }
    }
}

/// `dizhi serve`: the HTTP API until Ctrl-C (or SIGTERM), then the requests in flight finish.
fn serve(
    data: &std::path::Path,
    addr: &str,
    config: Option<&std::path::Path>,
) -> Result<(), Box<dyn std::error::Error>> {
    use tracing_subscriber::EnvFilter;
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = config.map(dizhi::api::Config::read).transpose()?;
    let addr: std::net::SocketAddr = addr
        .parse()
        .map_err(|e| format!("--addr {addr}: {e} (expected IP:PORT)"))?;
    let started = std::time::Instant::now();
    let (state, startup) = dizhi::api::AppState::build(data, config, addr.ip().is_loopback())?;
    if startup.built {
        eprintln!("built the bundled 青浦 district into {}", data.display());
    }
    if let Some(file) = &startup.admin_key_file {
        eprintln!(
            "created an admin API key: it is in {} (readable by you only); use it as `Authorization: Bearer KEY`",
            file.display()
        );
    }
    eprintln!(
        "{}: {} addresses, {} buildings, loaded in {:.1} s; lookups {}",
        data.display(),
        startup.addresses,
        startup.buildings,
        started.elapsed().as_secs_f64(),
        if startup.anonymous_lookups {
            "need no key"
        } else {
            "need a key"
        }
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        eprintln!("serving http://{local}/ (API docs: http://{local}/docs)");
        dizhi::api::serve(listener, dizhi::api::app(state), shutdown_signal()).await?;
        eprintln!("stopped");
        Ok::<(), Box<dyn std::error::Error>>(())
    })
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
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
    let indexing = Instant::now();
    let store = dizhi::store::Store::open(data)?;
    let indexed = dizhi::setup::generation::build_paired_index(&store, data)?;
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
            let m = matcher.normalize(&a)?;
            match format {
                ParseFormat::Json => writeln!(out, "{}", serde_json::to_string(&m)?)?,
                ParseFormat::Table => writeln!(out, "{}", serde_json::to_string_pretty(&m)?)?,
            }
        }
        None => {
            for line in std::io::stdin().lock().lines() {
                let line = line?;
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string(&matcher.normalize(&line)?)?
                )?;
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
        serde_json::json!({"a": a, "b": b, "relation": c.relation, "parted_at": c.parted_at, "shared": c.shared, "confidence": c.confidence})
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

/// What `dizhi export` exports.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum ExportWhat {
    /// Building footprints with their first address and address count.
    Buildings,
}

/// File formats of `dizhi export`.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum ExportFormat {
    Gpkg,
    Geojson,
    Shp,
}

fn parse_bbox_arg(s: &str) -> Result<geo::Rect<f64>, String> {
    dizhi::spatial::answer::parse_bbox(s, dizhi::spatial::Crs::Wgs84)
}

fn parse_point_arg(s: &str) -> Result<(f64, f64), String> {
    dizhi::spatial::answer::parse_point(s)
}

/// Opens the store and bulk-loads the footprint index, timing it on stderr when asked.
fn open_spatial(
    data: &std::path::Path,
) -> Result<(dizhi::store::Store, dizhi::spatial::FootprintIndex), Box<dyn std::error::Error>> {
    if !data.join(dizhi::store::STORE_FILE).exists() {
        return Err(format!(
            "no store in {} (run `dizhi build SOURCE_DIR --data {}` first)",
            data.display(),
            data.display()
        )
        .into());
    }
    let store = dizhi::store::Store::open(data)?;
    let index = dizhi::spatial::answer::index_from_store(&store)?;
    Ok((store, index))
}

/// `dizhi reverse`: one point, or one per stdin line; a bad line gives an error object.
fn reverse_cmd(
    data: &std::path::Path,
    point: Option<(f64, f64)>,
    crs: dizhi::spatial::Crs,
    radius: f64,
    format: Format,
) -> Result<(), Box<dyn std::error::Error>> {
    use std::io::{BufRead, Write};
    let (store, index) = open_spatial(data)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let answer_line = |input: &str,
                       out: &mut dyn Write|
     -> Result<(), Box<dyn std::error::Error>> {
        let line = match dizhi::spatial::answer::parse_point(input) {
            Ok((lon, lat)) => {
                let a =
                    dizhi::spatial::answer::reverse_answer(&index, &store, lon, lat, crs, radius)?;
                if format == Format::Table {
                    let addr = a
                        .addresses
                        .first()
                        .map(|x| x.address.as_str())
                        .unwrap_or("");
                    format!(
                        "{}\t{}\t{}",
                        a.building_id.as_deref().unwrap_or("-"),
                        a.distance_m
                            .map(|d| d.to_string())
                            .unwrap_or_else(|| "-".into()),
                        addr
                    )
                } else {
                    serde_json::to_string(&a)?
                }
            }
            Err(e) => serde_json::json!({ "input": input, "error": e }).to_string(),
        };
        writeln!(out, "{line}")?;
        Ok(())
    };
    match point {
        Some((lon, lat)) => answer_line(&format!("{lon},{lat}"), &mut out)?,
        None => {
            for line in std::io::stdin().lock().lines() {
                let line = line?;
                if line.trim().is_empty() {
                    continue;
                }
                answer_line(line.trim(), &mut out)?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

enum BuildingQuery {
    Box(geo::Rect<f64>),
    Within(PathBuf, bool),
    Near((f64, f64), f64),
}

/// `dizhi buildings`: a box, polygon or distance query, printed as JSON lines, GeoJSON or CSV.
fn buildings_cmd(
    data: &std::path::Path,
    query: BuildingQuery,
    limit: Option<usize>,
    crs: dizhi::spatial::Crs,
    format: Format,
) -> Result<(), Box<dyn std::error::Error>> {
    use dizhi::spatial::PolygonRelation;
    use dizhi::spatial::answer::{building_answer, footprint_in};
    use std::io::Write;
    // Parse the query before the (slow) index load, so a usage mistake fails fast.
    let area = match &query {
        BuildingQuery::Box(b) => {
            let (x0, y0) = crs.to_wgs84(b.min().x, b.min().y);
            let (x1, y1) = crs.to_wgs84(b.max().x, b.max().y);
            let rect = geo::Rect::new(geo::coord! { x: x0, y: y0 }, geo::coord! { x: x1, y: y1 });
            Some(geo::MultiPolygon(vec![rect.to_polygon()]))
        }
        BuildingQuery::Within(file, _) => {
            let (polygons, problems) = read_query_polygons(file, crs)?;
            for p in &problems {
                eprintln!(
                    "dizhi: {}: feature {}: {}",
                    file.display(),
                    p.feature,
                    p.reason
                );
            }
            Some(polygons)
        }
        BuildingQuery::Near(..) => None,
    };
    let (store, index) = open_spatial(data)?;
    let found: Vec<(&dizhi::Building, Option<f64>)> = match (&query, &area) {
        (BuildingQuery::Near((lon, lat), radius), _) => {
            let (x, y) = crs.to_wgs84(*lon, *lat);
            let hits = index.buildings_within_distance(geo::Point::new(x, y), *radius);
            hits.into_iter()
                .map(|h| (h.building, Some(h.distance_m)))
                .collect()
        }
        (BuildingQuery::Box(_), Some(area)) => {
            let rect = geo::BoundingRect::bounding_rect(area).ok_or("empty box")?;
            index
                .buildings_in_box(rect)
                .into_iter()
                .map(|b| (b, None))
                .collect()
        }
        (BuildingQuery::Within(_, contained), Some(area)) => {
            let rel = if *contained {
                PolygonRelation::Within
            } else {
                PolygonRelation::Intersects
            };
            index
                .buildings_in_polygon(area, rel)
                .into_iter()
                .map(|b| (b, None))
                .collect()
        }
        _ => Vec::new(),
    };
    let found = &found[..found.len().min(limit.unwrap_or(usize::MAX))];
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match format {
        Format::Json => {
            for (b, d) in found {
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string(&building_answer(&store, b, *d, crs)?)?
                )?;
            }
        }
        Format::Geojson => {
            writeln!(out, "{{\"type\":\"FeatureCollection\",\"features\":[")?;
            for (i, (b, d)) in found.iter().enumerate() {
                let answer = building_answer(&store, b, *d, crs)?;
                let properties = match serde_json::to_value(&answer)? {
                    serde_json::Value::Object(m) => Some(m),
                    _ => None,
                };
                let feature = geojson::Feature {
                    bbox: None,
                    geometry: Some(geojson::Geometry::new(geojson::GeometryValue::from(
                        &footprint_in(b, crs),
                    ))),
                    id: None,
                    properties,
                    foreign_members: None,
                };
                let sep = if i + 1 < found.len() { "," } else { "" };
                writeln!(out, "{}{sep}", serde_json::to_string(&feature)?)?;
            }
            writeln!(out, "]}}")?;
        }
        Format::Csv | Format::Table => {
            let mut w = csv::WriterBuilder::new()
                .delimiter(if format == Format::Table { b'\t' } else { b',' })
                .from_writer(&mut out);
            w.write_record([
                "building_id",
                "kind",
                "floors",
                "distance_m",
                "address_count",
                "addresses",
            ])?;
            for (b, d) in found {
                let a = building_answer(&store, b, *d, crs)?;
                let texts: Vec<&str> = a.addresses.iter().map(|x| x.address.as_str()).collect();
                w.write_record([
                    a.building_id.as_str(),
                    a.kind,
                    &a.floors.to_string(),
                    &a.distance_m.map(|d| d.to_string()).unwrap_or_default(),
                    &a.addresses.len().to_string(),
                    &texts.join(";"),
                ])?;
            }
            w.flush()?;
        }
    }
    out.flush()?;
    Ok(())
}

/// The polygons of a query file, in WGS84 (the file's coordinates are in `crs`).
fn read_query_polygons(
    file: &std::path::Path,
    crs: dizhi::spatial::Crs,
) -> Result<(geo::MultiPolygon<f64>, Vec<dizhi::gis::GeometryProblem>), Box<dyn std::error::Error>>
{
    use geo::MapCoords;
    let loaded = dizhi::gis::read_footprints(file)?;
    let polygons = loaded
        .footprints
        .iter()
        .flat_map(|f| f.geometry.0.iter())
        .map(|p| {
            p.map_coords(|c| {
                let (x, y) = crs.to_wgs84(c.x, c.y);
                geo::coord! { x: x, y: y }
            })
        })
        .collect();
    Ok((geo::MultiPolygon(polygons), loaded.problems))
}

/// `dizhi export buildings`.
fn export_cmd(
    data: &std::path::Path,
    format: ExportFormat,
    output: &std::path::Path,
    encoding: dizhi::gis::shp::DbfEncoding,
) -> Result<(), Box<dyn std::error::Error>> {
    use dizhi::gis::GisFormat;
    let started = std::time::Instant::now();
    let store = dizhi::store::Store::open(data)?;
    let footprints = dizhi::gis::footprints_from_store(&store)?;
    let format = match format {
        ExportFormat::Gpkg => GisFormat::GeoPackage,
        ExportFormat::Geojson => GisFormat::GeoJson,
        ExportFormat::Shp => GisFormat::Shapefile,
    };
    dizhi::gis::write_footprints(output, format, &footprints, encoding)?;
    eprintln!(
        "exported {} buildings to {} in {:.1} s",
        footprints.len(),
        output.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `dizhi batch`'s arguments.
#[derive(clap::Args)]
struct BatchArgs {
    /// The input: `.csv`, `.tsv`, `.xlsx` (by extension), or `-` for CSV on stdin.
    input: PathBuf,
    /// An address column by header name; repeat to join several (default: the first header
    /// containing 地址 or address).
    #[arg(long = "column")]
    columns: Vec<String>,
    /// An address column by position (1 = the first); repeat to join several (after --column's).
    #[arg(long = "column-index")]
    column_indexes: Vec<usize>,
    /// What goes between the values of joined address columns.
    #[arg(long, default_value = "")]
    join: String,
    /// The output file (default: CSV on stdout).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// The output format (default: by the output's extension, else csv).
    #[arg(long, value_enum)]
    format: Option<BatchFormat>,
    /// The input's encoding: utf-8, gbk, gb18030 (default: detected).
    #[arg(long)]
    encoding: Option<dizhi::batch::Encoding>,
    /// The input's field delimiter: one character, or `tab` (default: by extension).
    #[arg(long)]
    delimiter: Option<String>,
    /// The sheet of an XLSX input (default: the first).
    #[arg(long)]
    sheet: Option<String>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Continue an interrupted run: keep the complete rows already in -o OUT, append the rest.
    #[arg(long, requires = "output")]
    resume: bool,
}

/// Output formats of `dizhi batch`.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum BatchFormat {
    Csv,
    Tsv,
    Xlsx,
}

/// `dizhi batch`: usage mistakes exit 2 before any output is made; an interrupted run prints its
/// summary and exits 1 (run again with --resume).
fn batch_cmd(data: &std::path::Path, args: BatchArgs) -> Result<(), Box<dyn std::error::Error>> {
    use dizhi::batch::{self, BatchOptions, ColumnRef, InputFormat, OutputFormat};
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    use std::io::{IsTerminal, Write};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let usage = |msg: String| -> ! {
        eprintln!("dizhi: batch: {msg}");
        std::process::exit(2)
    };
    let stdin = args.input.as_os_str() == "-";
    let mut options = BatchOptions {
        join: args.join,
        encoding: args.encoding,
        sheet: args.sheet,
        ..BatchOptions::default()
    };
    options
        .columns
        .extend(args.columns.into_iter().map(ColumnRef::Name));
    for i in args.column_indexes {
        if i == 0 {
            usage("--column-index counts from 1".into());
        }
        options.columns.push(ColumnRef::Index(i - 1));
    }
    if let Some(t) = args.threads {
        options.threads = t.max(1);
    }
    options.input_format = match args.delimiter.as_deref() {
        Some("tab" | "\\t" | "\t") => Some(InputFormat::Delimited(b'\t')),
        Some(d) if d.len() == 1 => Some(InputFormat::Delimited(d.as_bytes()[0])),
        Some(d) => usage(format!(
            "--delimiter must be one ASCII character or `tab`, not {d:?}"
        )),
        None if stdin => Some(InputFormat::Delimited(b',')),
        None => None,
    };
    options.output_format = match (args.format, &args.output) {
        (Some(BatchFormat::Csv), _) => OutputFormat::Csv { delimiter: b',' },
        (Some(BatchFormat::Tsv), _) => OutputFormat::Csv { delimiter: b'\t' },
        (Some(BatchFormat::Xlsx), _) => OutputFormat::Xlsx,
        (None, Some(path)) => OutputFormat::from_path(path),
        (None, None) => OutputFormat::Csv { delimiter: b',' },
    };
    if stdin && args.resume {
        usage("--resume needs a file input, not stdin".into());
    }
    if args.resume && options.output_format == OutputFormat::Xlsx {
        usage("--resume works with CSV/TSV output only (an XLSX file is written whole)".into());
    }
    // Read the header first: a wrong column name must not cost the matcher's start-up or leave
    // an empty output behind.
    let inspection = if stdin {
        None
    } else {
        match batch::inspect(&args.input, &options) {
            Ok(i) => Some(i),
            Err(e) if e.is_usage() => usage(e.to_string()),
            Err(e) => return Err(format!("{}: {e}", args.input.display()).into()),
        }
    };

    let dicts = dizhi::Dictionaries::embedded()?;
    let matcher = dizhi::search::Matcher::new(dizhi::search::AddressIndex::open(data)?, &dicts)?;

    let out: Box<dyn Write + Send> = match &args.output {
        None => Box::new(std::io::stdout()),
        Some(path) => {
            // A new CSV file begins with a BOM so that Excel reads it as UTF-8.
            options.bom = true;
            let resumed = match (&inspection, args.resume) {
                (Some(found), true) => {
                    let delimiter = match options.output_format {
                        OutputFormat::Csv { delimiter } => delimiter,
                        OutputFormat::Xlsx => b',',
                    };
                    match batch::prepare_resume(path, delimiter, &found.output_header()) {
                        Ok(point) => Some(point),
                        Err(e) if e.is_usage() => usage(e.to_string()),
                        Err(e) => return Err(e.into()),
                    }
                }
                _ => None,
            };
            let file = match resumed {
                Some(point) => {
                    options.skip_rows = point.rows;
                    options.write_header = !point.header;
                    if point.rows > 0 || point.truncated > 0 {
                        eprintln!(
                            "batch: resuming {} after {} rows{}",
                            path.display(),
                            point.rows,
                            if point.truncated > 0 {
                                format!(" (removed a cut last row of {} bytes)", point.truncated)
                            } else {
                                String::new()
                            }
                        );
                    }
                    std::fs::OpenOptions::new()
                        .append(true)
                        .create(true)
                        .open(path)?
                }
                None => std::fs::File::create(path)?,
            };
            Box::new(file)
        }
    };

    let cancel = Arc::new(AtomicBool::new(false));
    options.cancel = Some(Arc::clone(&cancel));
    let flag = Arc::clone(&cancel);
    // First Ctrl-C: finish the rows in flight and stop cleanly; a second one: stop now.
    let _ = ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            std::process::exit(1);
        }
    });

    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:40} {human_pos}/{human_len} rows  {per_sec}  ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let progress = |done: u64, total: Option<u64>| {
        if let Some(t) = total {
            bar.set_length(t);
        }
        bar.set_position(done);
    };
    let result = if stdin {
        batch::run_reader(std::io::stdin(), out, &options, &matcher, &progress)
    } else {
        batch::run(&args.input, out, &options, &matcher, &progress)
    };
    bar.finish_and_clear();
    let summary = match result {
        Ok(s) => s,
        Err(e) if e.is_usage() => usage(e.to_string()),
        Err(e) => return Err(format!("batch: {e}").into()),
    };
    eprint!(
        "batch: {} ({}; address from {})\n  {}",
        args.input.display(),
        summary.encoding,
        summary.address_columns.join(" + "),
        summary.to_text()
    );
    if summary.interrupted {
        return Err("batch: interrupted before the end of the input".into());
    }
    Ok(())
}
