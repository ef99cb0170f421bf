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
    /// Parse addresses into components (one argument, or one address per stdin line → JSON lines).
    Parse {
        /// The address; without it, one address per stdin line.
        address: Option<String>,
        /// Output format: a readable table (one address only) or JSON.
        #[arg(long, value_enum, default_value = "table")]
        format: ParseFormat,
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
        Command::Synth { .. } => Err("synth: not built yet".into()),
        Command::Parse { address, format } => run_parse(address, format),
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
