//! `dizhi batch`: the address column(s) of a CSV/TSV/XLSX file normalized, every row back in
//! order, with a progress bar on a terminal.

use std::fmt::Display;
use std::path::{Path, PathBuf};

use clap::ValueEnum;

use super::{CliError, CliResult};

/// `dizhi batch`'s arguments.
#[derive(clap::Args)]
pub struct BatchArgs {
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
pub enum BatchFormat {
    Csv,
    Tsv,
    Xlsx,
}

/// `dizhi batch`: usage mistakes are found before any output is made; an interrupted run prints
/// its summary and fails (run again with --resume).
pub fn batch(data: &Path, args: BatchArgs) -> CliResult {
    use dizhi::batch::{self, BatchOptions, ColumnRef, InputFormat, OutputFormat};
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    use std::io::{IsTerminal, Write};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let usage = |msg: &str| CliError::usage(msg).context("batch");
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
            return Err(usage("--column-index counts from 1"));
        }
        options.columns.push(ColumnRef::Index(i - 1));
    }
    if let Some(t) = args.threads {
        options.threads = t.max(1);
    }
    options.input_format = match args.delimiter.as_deref() {
        Some("tab" | "\\t" | "\t") => Some(InputFormat::Delimited(b'\t')),
        Some(d) if d.len() == 1 => Some(InputFormat::Delimited(d.as_bytes()[0])),
        Some(d) => {
            return Err(usage(&format!(
                "--delimiter must be one ASCII character or `tab`, not {d:?}"
            )));
        }
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
        return Err(usage("--resume needs a file input, not stdin"));
    }
    if args.resume && options.output_format == OutputFormat::Xlsx {
        return Err(usage(
            "--resume works with CSV/TSV output only (an XLSX file is written whole)",
        ));
    }
    // Read the header first: a wrong column name must not cost the matcher's start-up or leave
    // an empty output behind.
    let inspection = if stdin {
        None
    } else {
        match batch::inspect(&args.input, &options) {
            Ok(i) => Some(i),
            Err(e) => return Err(batch_error(e, Some(&args.input.display()))),
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
                        Err(e) => return Err(batch_error(e, None)),
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
            crate::stop_now();
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
    let summary = result.map_err(|e| batch_error(e, Some(&"batch")))?;
    eprint!(
        "batch: {} ({}; address from {})\n  {}",
        args.input.display(),
        summary.encoding,
        summary.address_columns.join(" + "),
        summary.to_text()
    );
    if summary.interrupted {
        return Err(CliError::runtime(
            "batch: interrupted before the end of the input",
        ));
    }
    Ok(())
}

/// A batch error as `dizhi batch` reports it: a usage mistake after `batch: ` (with the flags that
/// name a column when none was found), a failure after `failed` when given.
fn batch_error(e: dizhi::batch::Error, failed: Option<&dyn Display>) -> CliError {
    use dizhi::batch::{Error, columns::ColumnError};
    if let Error::Column(missing @ ColumnError::NoAddressColumn { .. }) = &e {
        return CliError::usage(format!(
            "batch: {missing}; give --column NAME or --column-index N"
        ));
    }
    match (CliError::from(e), failed) {
        (usage @ CliError::Usage(_), _) => usage.context("batch"),
        (failure, Some(context)) => failure.context(context),
        (failure, None) => failure,
    }
}
