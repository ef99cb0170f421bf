//! The one error every command returns: the caller's mistake or a failure of the work. `main`
//! turns it into the exit code (2 or 1) and the message on stderr.

use std::fmt;

/// Why a command failed.
#[derive(Debug)]
pub enum CliError {
    /// The caller's mistake: a flag, argument, column or mapping that does not fit (exit 2).
    Usage(String),
    /// The work failed: a missing or bad file, a store or index that cannot be opened, a
    /// measurement below its floor (exit 1).
    Runtime(Box<dyn std::error::Error>),
}

/// What a command returns.
pub type CliResult<T = ()> = Result<T, CliError>;

impl CliError {
    /// A usage error with this message.
    pub fn usage(message: impl fmt::Display) -> CliError {
        CliError::Usage(message.to_string())
    }

    /// A runtime failure with this message.
    pub fn runtime(message: impl fmt::Display) -> CliError {
        CliError::Runtime(message.to_string().into())
    }

    /// The same kind of error, its message prefixed with `context: ` (a command, a file).
    pub fn context(self, context: impl fmt::Display) -> CliError {
        match self {
            CliError::Usage(m) => CliError::Usage(format!("{context}: {m}")),
            CliError::Runtime(e) => CliError::runtime(format!("{context}: {e}")),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage(m) => f.write_str(m),
            CliError::Runtime(e) => e.fmt(f),
        }
    }
}

/// A batch error is a usage error when the library says so ([`dizhi::batch::Error::is_usage`]:
/// a column or sheet that is not there, options that do not fit, a workbook over the limits).
impl From<dizhi::batch::Error> for CliError {
    fn from(e: dizhi::batch::Error) -> CliError {
        if e.is_usage() {
            CliError::Usage(e.to_string())
        } else {
            CliError::Runtime(e.into())
        }
    }
}

/// Errors that are always a failure of the work, never of the invocation.
macro_rules! runtime_errors {
    ($($error:ty),* $(,)?) => {
        $(
            impl From<$error> for CliError {
                fn from(e: $error) -> CliError {
                    CliError::Runtime(e.into())
                }
            }
        )*
    };
}

runtime_errors!(
    std::io::Error,
    csv::Error,
    serde_json::Error,
    rusqlite::Error,
    dizhi::dictionaries::DictionaryError,
    dizhi::store::Error,
    dizhi::store::BuildError,
    dizhi::search::Error,
    dizhi::gis::Error,
    dizhi::synth::Error,
    dizhi::setup::Error,
    dizhi::api::StartError,
    dizhi::api::ConfigError,
    dizhi::eval::relation::PairFileError,
    // Refused transitions and unknown anomalies stay runtime failures; where a fusion error is
    // the caller's mistake (a bad mapping, a bad file to import), see `invalid_is_usage`.
    dizhi::fuse::Error,
);

/// A fusion error where [`dizhi::fuse::Error::Invalid`] means the caller asked for something
/// that cannot be (an unknown field in `--map`, an objection to a missing address): usage.
pub fn invalid_is_usage(e: dizhi::fuse::Error) -> CliError {
    match e {
        dizhi::fuse::Error::Invalid(m) => CliError::Usage(m),
        e => e.into(),
    }
}
