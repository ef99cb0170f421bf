//! What is wrong with a source directory: each problem with its file, where in it, and why;
//! the first [`MAX_PROBLEMS`] kept, the rest counted.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::store::Error;

/// How many problems a failed build reports before it only counts the rest.
pub const MAX_PROBLEMS: usize = 20;

/// Where in a file a problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The file as a whole (missing, unreadable, wrong header).
    File,
    /// A 1-based line of a CSV (or of a JSON file that does not parse).
    Line(u64),
    /// A GeoJSON feature: its 0-based index in the collection, and its id if it has one.
    Feature {
        /// Index in `features`.
        index: usize,
        /// The feature's id, when it could be read.
        id: Option<String>,
    },
}

/// One problem in a source directory.
///
/// # Examples
/// ```
/// use dizhi::store::{Location, Problem};
/// let p = Problem { file: "addresses.csv".into(), location: Location::Line(7), reason: "lon \"x\" is not a number".into() };
/// assert_eq!(p.to_string(), "addresses.csv, line 7: lon \"x\" is not a number");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file, relative to the source directory (`sources/mp.csv`).
    pub file: String,
    /// Where in it.
    pub location: Location,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Location::File => write!(f, "{}: {}", self.file, self.reason),
            Location::Line(line) => write!(f, "{}, line {line}: {}", self.file, self.reason),
            Location::Feature {
                index,
                id: Some(id),
            } => {
                write!(
                    f,
                    "{}, feature {index} (id {id}): {}",
                    self.file, self.reason
                )
            }
            Location::Feature { index, id: None } => {
                write!(f, "{}, feature {index}: {}", self.file, self.reason)
            }
        }
    }
}

/// Why a build failed. Whatever the reason, the data directory is as it was before.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The source directory does not exist or is not a directory.
    #[error("source directory {0} does not exist or is not a directory")]
    NoSourceDir(PathBuf),
    /// The source directory's files have problems; nothing was written.
    #[error("{}", describe_problems(.dir, .problems, *.more))]
    Invalid {
        /// The source directory.
        dir: PathBuf,
        /// The first [`MAX_PROBLEMS`] problems, in the order found.
        problems: Vec<Problem>,
        /// How many more were found but not listed.
        more: usize,
    },
    /// Writing the new store failed; the previous store is untouched.
    #[error("writing the store: {0}")]
    Store(#[from] Error),
}

impl From<rusqlite::Error> for BuildError {
    fn from(e: rusqlite::Error) -> Self {
        BuildError::Store(Error::Sqlite(e))
    }
}

fn describe_problems(dir: &Path, problems: &[Problem], more: usize) -> String {
    let total = problems.len() + more;
    let mut s = format!(
        "{} has {total} problem{}; nothing was written:",
        dir.display(),
        if total == 1 { "" } else { "s" }
    );
    for p in problems {
        s.push_str("\n  ");
        s.push_str(&p.to_string());
    }
    if more > 0 {
        s.push_str(&format!("\n  … and {more} more"));
    }
    s
}

/// Problems found so far: the first [`MAX_PROBLEMS`] kept, the rest counted.
#[derive(Default)]
pub(super) struct Problems {
    list: Vec<Problem>,
    more: usize,
}

impl Problems {
    pub(super) fn push(&mut self, file: &str, location: Location, reason: impl Into<String>) {
        if self.list.len() < MAX_PROBLEMS {
            self.list.push(Problem {
                file: file.to_string(),
                location,
                reason: reason.into(),
            });
        } else {
            self.more += 1;
        }
    }

    pub(super) fn line(&mut self, file: &str, line: u64, reason: impl Into<String>) {
        self.push(file, Location::Line(line), reason);
    }

    pub(super) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    pub(super) fn in_file(&self, file: &str) -> bool {
        self.list.iter().any(|p| p.file == file)
    }

    pub(super) fn into_error(self, dir: &Path) -> BuildError {
        BuildError::Invalid {
            dir: dir.to_path_buf(),
            problems: self.list,
            more: self.more,
        }
    }
}
