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
    }
}
