//! The steward's commands: `dizhi anomaly` (the queue and its review), `dizhi tag`,
//! `dizhi objection`. Thin: clap → `dizhi::fuse` calls.

use std::path::Path;

use clap::{Subcommand, ValueEnum};
use dizhi::fuse::{self, Anomalies, AnomalyFilter, Status};

use super::CliResult;
use super::error::invalid_is_usage;

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

/// `dizhi anomaly …`: the queue, one anomaly, its review.
pub fn anomaly(data: &Path, cmd: AnomalyCommand) -> CliResult {
    let mut store = dizhi::store::Store::open(data)?;
    let mut q = Anomalies::new(&mut store)?;
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
                    fuse::report::write_anomalies_csv(std::io::stdout().lock(), &list)?;
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
            let a = q.get(id)?;
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
            let a = q.transition(id, to, &actor, comment.as_deref())?;
            println!("done {} {}", a.id, a.status.as_str());
        }
        AnomalyCommand::Comment { id, text, actor } => {
            let a = q.comment(id, &actor, &text)?;
            println!("done {} comment", a.id);
        }
        AnomalyCommand::Assign {
            id,
            assignee,
            actor,
        } => {
            let a = q.assign(id, &assignee, &actor)?;
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

/// `dizhi tag …`.
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

/// `dizhi objection file`.
pub fn objection(data: &Path, cmd: ObjectionCommand) -> CliResult {
    let mut store = dizhi::store::Store::open(data)?;
    match cmd {
        ObjectionCommand::File {
            address_id,
            note,
            reporter,
        } => {
            let (a, _) = fuse::objections::file(&mut store, &address_id, &reporter, &note)
                .map_err(invalid_is_usage)?;
            println!("{}", serde_json::to_string(&a)?);
        }
    }
    Ok(())
}
