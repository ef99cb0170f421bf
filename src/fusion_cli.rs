//! The fusion and governance commands of `dizhi`: import, fuse, check, anomaly, tag, objection,
//! eval fusion. Thin: clap → `dizhi::fuse` calls.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Subcommand, ValueEnum};
use dizhi::fuse::{self, Anomalies, AnomalyFilter, Role, RuleSet, Status};

type CliResult = Result<(), Box<dyn std::error::Error>>;

/// Output format of the governance commands.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum OutFormat {
    Table,
    Json,
    Csv,
}

#[derive(Subcommand)]
pub enum AnomalyCommand {
    /// List anomalies (newest filters first: status, rule, assignee, source).
    List {
        #[arg(long)]
        status: Option<Status>,
        #[arg(long)]
        rule: Option<String>,
        /// The responsible 街镇.
        #[arg(long)]
        assignee: Option<String>,
        #[arg(long)]
        source: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long, default_value_t = 0)]
        offset: usize,
        #[arg(long, value_enum, default_value = "table")]
        format: OutFormat,
    },
    /// One anomaly with its reviews and audit entries (JSON).
    Show { id: i64 },
    /// Move an anomaly: open → confirmed | rejected → resolved. Prints `done ID STATUS` once the
    /// change and its audit entry are on disk.
    Transition {
        id: i64,
        to: Status,
        /// Who (recorded in the audit log).
        #[arg(long)]
        actor: String,
        #[arg(long)]
        comment: Option<String>,
    },
    /// Comment on an anomaly.
    Comment {
        id: i64,
        text: String,
        #[arg(long)]
        actor: String,
    },
    /// Give an anomaly to another 街镇.
    Assign {
        id: i64,
        assignee: String,
        #[arg(long)]
        actor: String,
    },
    /// Counts per rule and status.
    Summary,
}

#[derive(Subcommand)]
pub enum TagCommand {
    /// Add (and remove) tags of an address.
    Set {
        address_id: String,
        /// Tags to add.
        tags: Vec<String>,
        /// Tags to remove.
        #[arg(long)]
        remove: Vec<String>,
        #[arg(long)]
        actor: String,
    },
    /// Addresses with a tag (or, without one, the tag vocabulary with counts).
    Query {
        tag: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
}

#[derive(Subcommand)]
pub enum ObjectionCommand {
    /// File an objection against an address: it becomes an anomaly for the address's 街镇.
    File {
        address_id: String,
        /// What is wrong.
        #[arg(long)]
        note: String,
        /// Who reports it (an operator id).
        #[arg(long)]
        reporter: String,
    },
}

fn usage(msg: impl std::fmt::Display) -> ! {
    eprintln!("dizhi: {msg}");
    std::process::exit(2)
}

fn reference(
    data: &Path,
    store: &dizhi::store::Store,
) -> Result<fuse::Reference, Box<dyn std::error::Error>> {
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

fn rules(path: Option<&Path>) -> Result<RuleSet, Box<dyn std::error::Error>> {
    Ok(match path {
        Some(p) => RuleSet::from_file(p)?,
        None => RuleSet::default_rules(),
    })
}

/// `dizhi import FILE --source NAME --kind addresses|buildings [--map column=field …]`.
pub fn import(data: &Path, file: &Path, source: &str, kind: Role, map: &[String]) -> CliResult {
    if map.iter().any(|m| !m.contains('=')) {
        usage("--map takes column=field");
    }
    let mut store = dizhi::store::Store::open(data)?;
    let report = match fuse::import_file(&mut store, file, source, kind, map) {
        Ok(r) => r,
        Err(fuse::Error::Invalid(m)) => usage(m),
        Err(e) => return Err(e.into()),
    };
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

fn findings_csv(out: Box<dyn Write>) -> std::io::Result<csv::Writer<Box<dyn Write>>> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record([
        "rule",
        "kind",
        "severity",
        "source",
        "record_key",
        "entity_kind",
        "entity_id",
        "town",
        "message",
        "detail",
    ])?;
    Ok(w)
}

fn write_finding(w: &mut csv::Writer<Box<dyn Write>>, f: &fuse::Finding) -> std::io::Result<()> {
    w.write_record([
        f.rule.as_str(),
        &f.kind,
        f.severity.as_str(),
        &f.source,
        &f.record_key,
        f.entity_kind.as_str(),
        &f.entity_id,
        f.town.as_deref().unwrap_or(""),
        &f.message,
        &f.detail.to_string(),
    ])?;
    Ok(())
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
        Some(path) => Some(findings_csv(Box::new(
            std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?,
        ))?),
        None => None,
    };
    let mut per = Counts::new();
    let mut written: std::io::Result<()> = Ok(());
    let r = fuse::fuse_store_each(&mut store, &reference, &rules, |f| {
        count(&mut per, f);
        if let Some(w) = &mut csv
            && written.is_ok()
        {
            written = write_finding(w, f);
        }
    })?;
    written?;
    if let Some(mut w) = csv {
        w.flush()?;
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
    let input = match fuse::link::read_file_source(file, kind, map) {
        Ok(i) => i,
        Err(fuse::Error::Invalid(m)) => usage(m),
        Err(e) => return Err(e.into()),
    };
    let (_, findings) = reference.fuse_source(&input, &rules)?;
    let out: Box<dyn Write> = match report {
        Some(path) => {
            Box::new(std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?)
        }
        None => Box::new(std::io::stdout()),
    };
    let mut w = findings_csv(out)?;
    let mut per = Counts::new();
    for f in &findings {
        write_finding(&mut w, f)?;
        count(&mut per, f);
    }
    w.flush()?;
    eprint!("{}", summary(&per));
    eprintln!(
        "{} records checked, {} findings",
        input.records.len(),
        findings.len()
    );
    Ok(())
}

pub fn anomaly(data: &Path, cmd: AnomalyCommand) -> CliResult {
    let mut store = dizhi::store::Store::open(data)?;
    let mut q = Anomalies::new(&mut store)?;
    let done = |r: Result<fuse::Anomaly, fuse::Error>| -> Result<fuse::Anomaly, Box<dyn std::error::Error>> {
        match r {
            Ok(a) => Ok(a),
            Err(fuse::Error::Invalid(m)) => {
                eprintln!("dizhi: {m}");
                std::process::exit(1)
            }
            Err(e) => Err(e.into()),
        }
    };
    match cmd {
        AnomalyCommand::List {
            status,
            rule,
            assignee,
            source,
            limit,
            offset,
            format,
        } => {
            let list = q.list(&AnomalyFilter {
                status,
                rule,
                assignee,
                source,
                entity_id: None,
                limit: Some(limit),
                offset,
            })?;
            match format {
                OutFormat::Json => {
                    for a in &list {
                        println!("{}", serde_json::to_string(a)?);
                    }
                }
                OutFormat::Csv => {
                    let mut w = csv::Writer::from_writer(std::io::stdout().lock());
                    w.write_record([
                        "id",
                        "rule",
                        "kind",
                        "status",
                        "assignee",
                        "entity_id",
                        "message",
                    ])?;
                    for a in &list {
                        w.write_record([
                            a.id.to_string().as_str(),
                            a.rule.as_str(),
                            &a.kind,
                            a.status.as_str(),
                            a.assignee.as_deref().unwrap_or(""),
                            &a.entity_id,
                            &a.message,
                        ])?;
                    }
                    w.flush()?;
                }
                OutFormat::Table => {
                    for a in &list {
                        println!(
                            "{:>8}  {:<10} {:<30} {:<8} {:<28} {}",
                            a.id,
                            a.status.as_str(),
                            format!("{} {}", a.rule.as_str(), a.kind).trim(),
                            a.assignee.as_deref().unwrap_or("-"),
                            a.entity_id,
                            a.message
                        );
                    }
                }
            }
        }
        AnomalyCommand::Show { id } => {
            let a = match q.get(id) {
                Ok(a) => a,
                Err(fuse::Error::NotFound(m)) => {
                    eprintln!("dizhi: not found: {m}");
                    std::process::exit(1)
                }
                Err(e) => return Err(e.into()),
            };
            let audit = fuse::audit_log(&store, Some(&format!("anomaly:{id}")))?;
            let mut v = serde_json::to_value(&a)?;
            v["audit"] = serde_json::to_value(audit)?;
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
        AnomalyCommand::Transition {
            id,
            to,
            actor,
            comment,
        } => {
            let a = done(q.transition(id, to, &actor, comment.as_deref()))?;
            println!("done {} {}", a.id, a.status.as_str());
        }
        AnomalyCommand::Comment { id, text, actor } => {
            let a = done(q.comment(id, &actor, &text))?;
            println!("done {} comment", a.id);
        }
        AnomalyCommand::Assign {
            id,
            assignee,
            actor,
        } => {
            let a = done(q.assign(id, &assignee, &actor))?;
            println!("done {} assigned {}", a.id, assignee);
        }
        AnomalyCommand::Summary => {
            for (rule, status, n) in q.counts()? {
                println!("{rule:<31} {status:<10} {n:>8}");
            }
        }
    }
    Ok(())
}

pub fn tag(data: &Path, cmd: TagCommand) -> CliResult {
    let mut store = dizhi::store::Store::open(data)?;
    match cmd {
        TagCommand::Set {
            address_id,
            tags,
            remove,
            actor,
        } => {
            let after = fuse::tags::set(&mut store, &address_id, &tags, &remove, &actor)?;
            println!("{address_id}\t{}", after.join(","));
        }
        TagCommand::Query {
            tag: Some(tag),
            limit,
        } => {
            for id in fuse::tags::query(&store, &tag, limit)? {
                let text = store.address_text(&id)?.unwrap_or_default();
                println!("{id}\t{text}");
            }
        }
        TagCommand::Query { tag: None, .. } => {
            for (t, n) in fuse::tags::vocabulary(&store)? {
                println!("{t}\t{n}");
            }
        }
    }
    Ok(())
}

pub fn objection(data: &Path, cmd: ObjectionCommand) -> CliResult {
    let mut store = dizhi::store::Store::open(data)?;
    match cmd {
        ObjectionCommand::File {
            address_id,
            note,
            reporter,
        } => match fuse::objections::file(&mut store, &address_id, &reporter, &note) {
            Ok((a, _)) => println!("{}", serde_json::to_string(&a)?),
            Err(fuse::Error::Invalid(m)) => usage(m),
            Err(e) => return Err(e.into()),
        },
    }
    Ok(())
}

/// `dizhi eval fusion SOURCE_DIR`: fuses first when the store has never been fused; exits 1 when
/// the lowest F1 is below `min_f1`.
pub fn eval_fusion(data: &Path, source_dir: &Path, min_f1: f64, refuse: bool) -> CliResult {
    let store = dizhi::store::Store::open(data)?;
    let fused: i64 =
        store
            .connection()
            .query_row("SELECT count(*) FROM fused_records", [], |r| r.get(0))?;
    drop(store);
    if fused == 0 || refuse {
        fuse_store(data, None, None)?;
    }
    let store = dizhi::store::Store::open(data)?;
    let e = dizhi::eval::fusion::evaluate(&store, source_dir)?;
    print!("{}", e.to_table());
    if e.min_f1 < min_f1 {
        std::process::exit(1);
    }
    Ok(())
}
