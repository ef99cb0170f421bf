//! One address (or one per stdin line) at a time: `dizhi parse`, `normalize`, `suggest`,
//! `compare`.

use std::io::{BufRead, Write};
use std::path::Path;

use clap::ValueEnum;

use super::{CliError, CliResult};

/// Output of `dizhi parse` and `dizhi normalize`.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ParseFormat {
    Table,
    Json,
}

/// The parser for the data directory's divisions: those its store records when it has one, else
/// the bundled demo's.
fn parser_for(data: &Path, dicts: &dizhi::Dictionaries) -> Result<dizhi::Parser, CliError> {
    let coverage = if data.join(dizhi::store::STORE_FILE).is_file() {
        dizhi::store::Store::open(data)?.coverage(&dicts.admin)?
    } else {
        dizhi::dictionaries::Coverage::demo(&dicts.admin)
    };
    Ok(dizhi::Parser::with_coverage(dicts, coverage))
}

/// `dizhi parse`: one address → table or JSON; none → JSON lines from stdin. Outside means
/// outside the data directory's divisions.
pub fn parse(data: &Path, address: Option<String>, format: ParseFormat) -> CliResult {
    let dicts = dizhi::Dictionaries::embedded()?;
    let parser = parser_for(data, &dicts)?;
    one_or_each_line(
        address,
        |a| Ok(parser.parse(a)),
        |p, out| {
            match format {
                ParseFormat::Table => write!(out, "{}", p.to_table())?,
                ParseFormat::Json => writeln!(out, "{}", serde_json::to_string(p)?)?,
            }
            Ok(())
        },
    )
}

/// `dizhi normalize`: one address → JSON (or a table); none → JSON lines from stdin, one process
/// for the whole stream.
pub fn normalize(data: &Path, address: Option<String>, format: ParseFormat) -> CliResult {
    let dicts = dizhi::Dictionaries::embedded()?;
    let matcher = dizhi::search::Matcher::new(dizhi::search::AddressIndex::open(data)?, &dicts)?;
    one_or_each_line(
        address,
        |a| Ok(matcher.normalize(a)?),
        |m, out| {
            match format {
                ParseFormat::Json => writeln!(out, "{}", serde_json::to_string(m)?)?,
                ParseFormat::Table => writeln!(out, "{}", serde_json::to_string_pretty(m)?)?,
            }
            Ok(())
        },
    )
}

/// The answer to one address, written by `one`; without an address, the answer to each stdin
/// line as a JSON line.
fn one_or_each_line<T: serde::Serialize>(
    address: Option<String>,
    answer: impl Fn(&str) -> CliResult<T>,
    one: impl FnOnce(&T, &mut dyn Write) -> CliResult,
) -> CliResult {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match address {
        Some(a) => one(&answer(&a)?, &mut out)?,
        None => {
            for line in std::io::stdin().lock().lines() {
                let line = line?;
                writeln!(out, "{}", serde_json::to_string(&answer(&line)?)?)?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// `dizhi suggest`: completions of what has been typed, one `id<TAB>address` a line.
pub fn suggest(data: &Path, typed: &str, limit: usize) -> CliResult {
    let dicts = dizhi::Dictionaries::embedded()?;
    let matcher = dizhi::search::Matcher::new(dizhi::search::AddressIndex::open(data)?, &dicts)?;
    for s in matcher.suggest(typed, limit)? {
        println!("{}\t{}", s.id, s.address);
    }
    Ok(())
}

/// `dizhi compare A B`, or tab-separated pairs from stdin → JSON lines.
pub fn compare(data: &Path, a: Option<String>, b: Option<String>) -> CliResult {
    use std::io::{BufRead, Write};
    let dicts = dizhi::Dictionaries::embedded()?;
    let parser = parser_for(data, &dicts)?;
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
            return Err(CliError::usage(
                "compare: give two addresses, or none to read tab-separated pairs from stdin",
            ));
        }
    }
    out.flush()?;
    Ok(())
}
