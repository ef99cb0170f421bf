//! The `dizhi` command: clap → library calls, one module per command family. Every command
//! returns a [`CliError`]; `main` alone turns it into the exit code (0 ok, 1 runtime failure,
//! 2 usage error).

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

mod address;
mod batch;
mod build;
mod error;
mod eval;
mod fusion;
mod relation;
mod serve;
mod spatial;
mod steward;

pub use error::{CliError, CliResult};

#[derive(Parser)]
#[command(
    name = "dizhi",
    version,
    about = "Chinese address standardization and building footprints for Shanghai districts"
)]
pub struct Cli {
    /// Data directory (default: $DIZHI_DATA, else ./dizhi-data).
    #[arg(long, global = true, env = "DIZHI_DATA", default_value = "dizhi-data")]
    pub data: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

/// Output formats shared by the commands that print results.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
    Geojson,
}

#[derive(Subcommand)]
pub enum Command {
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
    /// Generate a synthetic district (deterministic for a seed): any Shanghai 区, the bundled
    /// demo's by default.
    Synth {
        /// The district: a name (嘉定区, 嘉定) or code (310114).
        #[arg(long, default_value = "青浦区")]
        district: String,
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
        /// Write the raw registers a district's departments hand over instead (registers/, the
        /// registers.toml that reads them, truth/), with nothing precomputed.
        #[arg(long, conflicts_with = "road_names")]
        registers: bool,
        /// Write the next month's delivery of the registers in this directory instead (about
        /// 1 % of the 公安 door plates cancelled, renumbered or corrected; truth/ updated).
        #[arg(long, conflicts_with_all = ["road_names", "registers"])]
        next_delivery: Option<PathBuf>,
    },
    /// Build the data directory's store from a source directory (all or nothing), or from a
    /// district's registers (`--config registers.toml`: the standard addresses are made from
    /// them; building again with a new delivery keeps the ids of addresses that still exist).
    Build {
        /// The source directory (manifest.json, addresses.csv, buildings.geojson, sources/ …).
        #[arg(required_unless_present = "config", conflicts_with = "config")]
        source_dir: Option<PathBuf>,
        /// The registers config (TOML; paths relative to it).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Parse addresses into components (one argument, or one address per stdin line → JSON lines).
    Parse {
        /// The address; without it, one address per stdin line.
        address: Option<String>,
        /// Output format: a readable table (one address only) or JSON.
        #[arg(long, value_enum, default_value = "table")]
        format: address::ParseFormat,
    },
    /// Normalize addresses to standard addresses (one argument, or one per stdin line → JSON lines).
    Normalize {
        /// The address; without it, one address per stdin line.
        address: Option<String>,
        /// Output format: a readable table (one address only) or JSON.
        #[arg(long, value_enum, default_value = "json")]
        format: address::ParseFormat,
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
    Batch(batch::BatchArgs),
    /// Measure the matcher: accuracy, calibration, latency and throughput on noisy queries.
    Bench {
        #[command(subcommand)]
        what: eval::BenchCommand,
    },
    /// Measure the parser, fusion and compare against labelled files.
    Eval {
        #[command(subcommand)]
        what: eval::EvalCommand,
    },
    /// Train a model of the project's own from labelled data.
    Train {
        #[command(subcommand)]
        what: relation::TrainCommand,
    },
    /// Reverse lookup: the building at a point (or the nearest within --radius) and its addresses.
    ///
    /// With no point, reads one `lon,lat` per stdin line and writes one JSON object per line.
    Reverse {
        /// The point, `LON,LAT`.
        #[arg(value_parser = spatial::parse_point_arg, allow_hyphen_values = true)]
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
        #[arg(long, allow_hyphen_values = true, value_parser = spatial::parse_bbox_arg)]
        bbox: Option<geo::Rect<f64>>,
        /// A GeoJSON, GeoPackage or Shapefile of polygons: buildings intersecting them.
        #[arg(long)]
        within: Option<PathBuf>,
        /// Only buildings entirely inside the --within polygons.
        #[arg(long, requires = "within")]
        contained: bool,
        /// `LON,LAT`: buildings within --radius metres, nearest first.
        #[arg(long, value_parser = spatial::parse_point_arg, allow_hyphen_values = true)]
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
        what: spatial::ExportWhat,
        /// File format.
        #[arg(long, value_enum)]
        format: spatial::ExportFormat,
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
        what: steward::AnomalyCommand,
    },
    /// Address tags (地址标签).
    Tag {
        #[command(subcommand)]
        what: steward::TagCommand,
    },
    /// Objections from outside: "this address is wrong".
    Objection {
        #[command(subcommand)]
        what: steward::ObjectionCommand,
    },
}

/// Runs one command.
pub fn run(cli: Cli) -> CliResult {
    let data = cli.data.as_path();
    match cli.command {
        Command::Serve { addr, config } => serve::serve(data, &addr, config.as_deref()),
        Command::Synth {
            district,
            addresses,
            seed,
            out,
            road_names,
            registers,
            next_delivery,
        } => match next_delivery {
            Some(from) => build::next_delivery(&from, out.as_deref(), seed),
            None => build::synth(
                &district,
                addresses,
                seed,
                out.as_deref(),
                road_names,
                registers,
            ),
        },
        Command::Build { source_dir, config } => match (source_dir, config) {
            (_, Some(config)) => build::build_from_registers(&config, data),
            (Some(dir), None) => build::build(&dir, data),
            (None, None) => Err(CliError::usage("build: give SOURCE_DIR or --config FILE")),
        },
        Command::Parse { address, format } => address::parse(data, address, format),
        Command::Normalize { address, format } => address::normalize(data, address, format),
        Command::Suggest { typed, limit } => address::suggest(data, &typed, limit),
        Command::Compare { a, b } => address::compare(data, a, b),
        Command::Batch(args) => batch::batch(data, args),
        Command::Bench { what } => eval::bench(data, what),
        Command::Eval { what } => eval::eval(data, what),
        Command::Train { what } => relation::train(what),
        Command::Reverse {
            point,
            crs,
            radius,
            format,
        } => spatial::reverse(data, point, crs, radius, format),
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
                spatial::BuildingQuery::Box(b)
            } else if let Some(f) = within {
                spatial::BuildingQuery::Within(f, contained)
            } else if let Some(p) = near {
                spatial::BuildingQuery::Near(p, radius)
            } else {
                return Err(CliError::usage(
                    "buildings: give --bbox, --within or --near",
                ));
            };
            spatial::buildings(data, query, limit, crs, format)
        }
        Command::Export {
            what: spatial::ExportWhat::Buildings,
            format,
            output,
            encoding,
        } => spatial::export(data, format, &output, encoding),
        Command::Import {
            file,
            source,
            kind,
            map,
        } => fusion::import(data, &file, &source, kind, &map),
        Command::Fuse { rules, report } => {
            fusion::fuse_store(data, rules.as_deref(), report.as_deref())
        }
        Command::Check {
            file,
            rules,
            kind,
            map,
            report,
        } => fusion::check(
            data,
            rules.as_deref(),
            file.as_deref(),
            kind,
            &map,
            report.as_deref(),
        ),
        Command::Anomaly { what } => steward::anomaly(data, what),
        Command::Tag { what } => steward::tag(data, what),
        Command::Objection { what } => steward::objection(data, what),
    }
}
