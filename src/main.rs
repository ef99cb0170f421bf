//! The `dizhi` command (see `cli`): clap → library calls. Exit codes, decided here and nowhere
//! else: 0 ok, 1 runtime failure, 2 usage error.

use std::process::ExitCode;

use clap::Parser;

mod cli;

use cli::CliError;

/// The exit code of a failure of the work (a missing file, a bad store, a run interrupted).
const RUNTIME_FAILURE: u8 = 1;
/// The exit code of a mistake in the invocation (a bad flag, an unknown column).
const USAGE_ERROR: u8 = 2;

fn main() -> ExitCode {
    let args = match cli::Cli::try_parse() {
        Ok(args) => args,
        Err(e) => {
            // --help and --version are printed to stdout and succeed; the rest is a usage error.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(USAGE_ERROR)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli::run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dizhi: {e}");
            ExitCode::from(match e {
                CliError::Usage(_) => USAGE_ERROR,
                CliError::Runtime(_) => RUNTIME_FAILURE,
            })
        }
    }
}

/// Ends the process at once as a runtime failure: for a second Ctrl-C, which cannot wait for
/// the command to return.
fn stop_now() -> ! {
    std::process::exit(i32::from(RUNTIME_FAILURE))
}
