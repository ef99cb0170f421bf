//! Fusion of the registers: `dizhi import`, `dizhi fuse`, `dizhi check`. Thin: clap →
//! `dizhi::fuse` calls, findings written as CSV with a summary on stderr.

use std::io::Write;
use std::path::{Path, PathBuf};

use dizhi::fuse::report::FindingsCsv;
use dizhi::fuse::{self, Role, RuleSet};

use super::error::invalid_is_usage;
use super::{CliError, CliResult};

fn reference(data: &Path, store: &dizhi::store::Store) -> CliResult<fuse::Reference> {
    let dicts = dizhi::Dictionaries::embedded()?;
    let matcher = match dizhi::search::AddressIndex::open(data) {
        Ok(index) => Some(dizhi::search::Matcher::new(index, &dicts)?),
        Err(e) => {
            eprintln!("dizhi: no matcher ({e}); free-text records will not match");
            None
        }
    };
    Ok(fuse::Reference::load(store, &dicts, matcher)?)
}

fn rules(path: Option<&Path>) -> CliResult<RuleSet> {
    Ok(match path {
        Some(p) => RuleSet::from_file(p)?,
        None => RuleSet::default_rules(),
    })
}

/// `dizhi import FILE --source NAME --kind addresses|buildings [--map column=field …]`.
pub fn import(data: &Path, file: &Path, source: &str, kind: Role, map: &[String]) -> CliResult {
    if map.iter().any(|m| !m.contains('=')) {
        return Err(CliError::usage("--map takes column=field"));
    }
    let mut store = dizhi::store::Store::open(data)?;
    let report =
        fuse::import_file(&mut store, file, source, kind, map).map_err(invalid_is_usage)?;
    println!(
        "imported {} {} records from {} as source {}",
        report.records,
        report.role.as_str(),
        file.display(),
        report.source
    );
    for (col, field) in &report.mapping.columns {
        println!("  {col} → {}", field.as_str());
    }
    for p in report.problems.iter().take(20) {
        eprintln!("  left out: {p}");
    }
    if report.problems.len() > 20 {
        eprintln!("  … and {} more left out", report.problems.len() - 20);
    }
    Ok(())
}

/// A report file, created (or emptied); a failure names it.
fn create(path: &Path) -> CliResult<std::fs::File> {
    std::fs::File::create(path).map_err(|e| CliError::runtime(format!("{}: {e}", path.display())))
}

/// Findings per (rule, kind).
type Counts = std::collections::BTreeMap<(&'static str, String), usize>;

fn count(per: &mut Counts, f: &fuse::Finding) {
    *per.entry((f.rule.as_str(), f.kind.clone())).or_default() += 1;
}

fn summary(per: &Counts) -> String {
    let mut s = String::from("rule                            kind                      count\n");
    for ((r, k), n) in per {
        s.push_str(&format!("{r:<31} {k:<25} {n:>6}\n"));
    }
    s
}

/// `dizhi fuse` / `dizhi check` on the store: fuse every source, queue anomalies.
pub fn fuse_store(data: &Path, rules_file: Option<&Path>, report: Option<&Path>) -> CliResult {
    let started = std::time::Instant::now();
    let mut store = dizhi::store::Store::open(data)?;
    let rules = rules(rules_file)?;
    let reference = reference(data, &store)?;
    let loaded = started.elapsed().as_secs_f64();
    // Findings go to the CSV report as each page of records is written, not held to the end.
    let mut csv = match report {
        Some(path) => Some(FindingsCsv::new(create(path)?)?),
        None => None,
    };
    let mut per = Counts::new();
    let mut written: csv::Result<()> = Ok(());
    let r = fuse::fuse_store_each(&mut store, &reference, &rules, |f| {
        count(&mut per, f);
        if let Some(w) = &mut csv
            && written.is_ok()
        {
            written = w.write(f);
        }
    })?;
    written?;
    if let Some(w) = csv {
        w.finish()?;
    }
    let findings: usize = per.values().sum();
    for (source, n) in &r.records {
        eprintln!(
            "  {source:<20} {n:>8} records, {:>8} matched to a door-level address",
            r.matched.get(source).copied().unwrap_or(0)
        );
    }
    eprint!("{}", summary(&per));
    eprintln!(
        "fused in {:.1} s (reference loaded in {loaded:.1} s, fusion {:.1} s): {} links, {findings} findings, {} new anomalies",
        started.elapsed().as_secs_f64(),
        r.seconds,
        r.links,
        r.new_anomalies
    );
    Ok(())
}

/// `dizhi check [--rules FILE] [FILE]`: on the store (fuse and queue) or on a file (report only).
pub fn check(
    data: &Path,
    rules_file: Option<&Path>,
    file: Option<&Path>,
    kind: Role,
    map: &[String],
    report: Option<&Path>,
) -> CliResult {
    let Some(file) = file else {
        let report = report
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("/dev/stdout"));
        return fuse_store(data, rules_file, Some(&report));
    };
    let store = dizhi::store::Store::open(data)?;
    let rules = rules(rules_file)?;
    let reference = reference(data, &store)?;
    let input = fuse::link::read_file_source(file, kind, map).map_err(invalid_is_usage)?;
    let (_, findings) = reference.fuse_source(&input, &rules)?;
    let out: Box<dyn Write> = match report {
        Some(path) => Box::new(create(path)?),
        None => Box::new(std::io::stdout()),
    };
    let mut w = FindingsCsv::new(out)?;
    let mut per = Counts::new();
    for f in &findings {
        w.write(f)?;
        count(&mut per, f);
    }
    w.finish()?;
    eprint!("{}", summary(&per));
    eprintln!(
        "{} records checked, {} findings",
        input.records.len(),
        findings.len()
    );
    Ok(())
}
