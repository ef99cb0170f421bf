//! Measurements: `dizhi bench normalize` (the matcher on noisy queries), `dizhi bench reverse`
//! (footprint lookups on seeded points) and `dizhi eval` (the parser, fusion and compare
//! against labelled files).

use std::path::{Path, PathBuf};

use clap::Subcommand;

use super::{CliError, CliResult};

#[derive(Subcommand)]
pub enum BenchCommand {
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
        /// Write every query's time on one thread (microseconds, tab, query), slowest first.
        #[arg(long)]
        times: Option<PathBuf>,
        /// First answer this many other queries (made with the next seed), untimed: the
        /// latency of a server that has been answering for a while, not of a fresh process
        /// meeting every page of the index for the first time.
        #[arg(long, default_value_t = 0)]
        warmup: usize,
    },
    /// Reverse-look-up seeded points (half beside a building, half anywhere in the data's
    /// extent) as `GET /v1/reverse` does: latency on one thread and throughput.
    Reverse {
        /// How many points.
        #[arg(long, default_value_t = 100_000)]
        points: usize,
        /// Seed of the points.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Nearest-building radius in metres.
        #[arg(long, default_value_t = dizhi::spatial::DEFAULT_RADIUS_M)]
        radius: f64,
        /// Threads for the throughput run (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
        /// First look up this many other points (made with the next seed), untimed: the
        /// latency of a server that has been answering for a while.
        #[arg(long, default_value_t = 0)]
        warmup: usize,
    },
}

#[derive(Subcommand)]
pub enum EvalCommand {
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
    /// Score a library built from registers (`build --config`) against the truth beside them:
    /// addresses recovered (precision, recall), linked to the right footprint, 街镇 and 居/村委
    /// right; the last line is the lowest (exit 1 below --min).
    Registers {
        /// The registers directory (with truth/addresses.csv), as `synth --registers` writes it.
        dir: PathBuf,
        /// Fail below this lowest figure.
        #[arg(long, default_value_t = 0.99)]
        min: f64,
        /// Write every right address linked to no footprint or the wrong one here (TSV: key,
        /// true footprint, linked footprint, how it was linked, whether a register gives a point).
        #[arg(long)]
        failures: Option<PathBuf>,
    },
    /// Span-exact precision/recall/F1 per label on a character-per-line labelled file.
    Parse {
        /// The labelled file (e.g. ../shared/data/parsing/naacl2019/dev.txt).
        file: PathBuf,
        /// The file's tag scheme (and annotation conventions): bio (naacl2019) or bmes (swei412).
        #[arg(long, value_enum)]
        format: dizhi::eval::Scheme,
        /// Also write every address whose spans differ from the gold ones to this file, one per
        /// line: text, gold spans, predicted spans (tab-separated, each span `label=text`).
        #[arg(long)]
        failures: Option<PathBuf>,
    },
    /// compare() on labelled address pairs (CCKS 2021 地址相关性 JSON lines): per-class P/R/F1
    /// and, last, the macro-F1 (same → 完全匹配, contains/within → 部分匹配, different → 不匹配).
    Relation(super::relation::EvalRelationArgs),
}

/// `dizhi bench normalize|reverse`.
pub fn bench(data: &Path, what: BenchCommand) -> CliResult {
    match what {
        BenchCommand::Normalize {
            queries,
            seed,
            threads,
            failures,
            queries_out,
            times,
            warmup,
        } => bench_normalize(
            data,
            NormalizeRun {
                queries,
                seed,
                warmup,
                threads,
            },
            failures,
            queries_out,
            times,
        ),
        BenchCommand::Reverse {
            points,
            seed,
            radius,
            threads,
            warmup,
        } => bench_reverse(data, points, seed, radius, threads, warmup),
    }
}

fn all_cores(threads: Option<usize>) -> usize {
    threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// `dizhi bench reverse`.
fn bench_reverse(
    data: &Path,
    points: usize,
    seed: u64,
    radius: f64,
    threads: Option<usize>,
    warmup: usize,
) -> CliResult {
    let opened = std::time::Instant::now();
    let store = dizhi::store::Store::open(data)?;
    let index = dizhi::spatial::answer::index_from_store(&store)?;
    println!(
        "opened {} in {:.2} s",
        data.display(),
        opened.elapsed().as_secs_f64()
    );
    if warmup > 0 {
        for (lon, lat) in dizhi::eval::reverse::points(&index, warmup, seed.wrapping_add(1)) {
            std::hint::black_box(dizhi::spatial::answer::reverse_answer(
                &index,
                &store,
                lon,
                lat,
                dizhi::spatial::Crs::Wgs84,
                radius,
            )?);
        }
        println!("warmed up with {warmup} other points");
    }
    drop(store);
    let points = dizhi::eval::reverse::points(&index, points, seed);
    let report = dizhi::eval::reverse::run(
        &index,
        || dizhi::store::Store::open(data),
        &points,
        radius,
        all_cores(threads),
    )?;
    print!("{}", report.to_text());
    Ok(())
}

/// How many queries `dizhi bench normalize` makes and times, and how many it answers first.
struct NormalizeRun {
    queries: usize,
    seed: u64,
    warmup: usize,
    threads: Option<usize>,
}

/// `dizhi bench normalize`.
fn bench_normalize(
    data: &Path,
    run: NormalizeRun,
    failures: Option<PathBuf>,
    queries_out: Option<PathBuf>,
    times: Option<PathBuf>,
) -> CliResult {
    let dicts = dizhi::Dictionaries::embedded()?;
    let opened = std::time::Instant::now();
    let matcher = dizhi::search::Matcher::new(dizhi::search::AddressIndex::open(data)?, &dicts)?;
    println!(
        "opened {} in {:.2} s",
        data.display(),
        opened.elapsed().as_secs_f64()
    );
    let store = dizhi::store::Store::open(data)?;
    if run.warmup > 0 {
        let warm = dizhi::eval::noisy::noisy_queries(
            &store,
            &dicts,
            run.warmup,
            run.seed.wrapping_add(1),
        )?;
        for q in &warm {
            std::hint::black_box(matcher.normalize(&q.text)?);
        }
        println!("warmed up with {} other queries", warm.len());
    }
    let qs = dizhi::eval::noisy::noisy_queries(&store, &dicts, run.queries, run.seed)?;
    if let Some(path) = queries_out {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
        for q in &qs {
            writeln!(f, "{}", serde_json::to_string(q)?)?;
        }
    }
    let report = dizhi::eval::normalize::run(&matcher, &qs, all_cores(run.threads))?;
    print!("{}", report.to_text());
    if let Some(path) = failures {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
        for (q, m) in &report.failures {
            writeln!(f, "{}", serde_json::json!({"query": q, "answer": m}))?;
        }
    }
    if let Some(path) = times {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
        for (t, text) in &report.slowest {
            writeln!(f, "{}\t{text}", t.as_micros())?;
        }
    }
    Ok(())
}

/// `dizhi eval …`.
pub fn eval(data: &Path, what: EvalCommand) -> CliResult {
    match what {
        EvalCommand::Fusion {
            source_dir,
            min_f1,
            refuse,
        } => fusion(data, &source_dir, min_f1, refuse),
        EvalCommand::Registers { dir, min, failures } => {
            registers(data, &dir, min, failures.as_deref())
        }
        EvalCommand::Parse {
            file,
            format,
            failures,
        } => parse(&file, format, failures.as_deref()),
        EvalCommand::Relation(args) => super::relation::eval_relation(&args),
    }
}

/// `dizhi eval registers DIR [--failures OUT]`: fails when the lowest figure is below `min`.
fn registers(data: &Path, dir: &Path, min: f64, failures: Option<&Path>) -> CliResult {
    let store = dizhi::store::Store::open(data)?;
    let e = dizhi::eval::registers::evaluate(&store, &dir.join("truth"))?;
    print!("{}", e.to_table());
    if let Some(path) = failures {
        let mut out = String::from("key\ttruth\tbuilt\thow\thas_point\n");
        for w in &e.wrong_links {
            out.push_str(&format!(
                "{}\t{}\t{}\t{}\t{}\n",
                w.key, w.truth, w.built, w.how, w.has_point
            ));
        }
        std::fs::write(path, out)?;
    }
    if e.lowest < min {
        return Err(CliError::runtime(format!(
            "eval registers: the lowest figure {:.4} is below --min {min}",
            e.lowest
        )));
    }
    Ok(())
}

/// `dizhi eval parse FILE --format bio|bmes [--failures OUT]`.
fn parse(file: &Path, format: dizhi::eval::Scheme, failures: Option<&Path>) -> CliResult {
    let dicts = dizhi::Dictionaries::embedded()?;
    let parser = dizhi::Parser::new(&dicts);
    let report = dizhi::eval::evaluate_file(&parser, file, format)
        .map_err(|e| CliError::runtime(format!("{}: {e}", file.display())))?;
    print!("{}", report.to_table());
    if let Some(out) = failures {
        let text = std::fs::read_to_string(file)?;
        let addresses = dizhi::eval::read_labelled(&text, format);
        std::fs::write(out, dizhi::eval::failures_tsv(&parser, &addresses, format))?;
    }
    Ok(())
}

/// `dizhi eval fusion SOURCE_DIR`: fuses first when the store has never been fused; fails when the
/// lowest F1 is below `min_f1`.
fn fusion(data: &Path, source_dir: &Path, min_f1: f64, refuse: bool) -> CliResult {
    let store = dizhi::store::Store::open(data)?;
    let fused: i64 =
        store
            .connection()
            .query_row("SELECT count(*) FROM fused_records", [], |r| r.get(0))?;
    drop(store);
    if fused == 0 || refuse {
        super::fusion::fuse_store(data, None, None)?;
    }
    let store = dizhi::store::Store::open(data)?;
    let e = dizhi::eval::fusion::evaluate(&store, source_dir)?;
    print!("{}", e.to_table());
    if e.min_f1 < min_f1 {
        return Err(CliError::runtime(format!(
            "eval fusion: the lowest F1 {:.4} is below --min-f1 {min_f1}",
            e.min_f1
        )));
    }
    Ok(())
}
