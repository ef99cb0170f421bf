//! The project's own TSV dictionaries: roads, markers, aliases, homophones.

use std::str::FromStr;

use super::DictionaryError;
use crate::level::Level;

/// A 青浦 road.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Road {
    /// Its name (`华腾路`).
    pub name: String,
    /// The 街镇 it runs through (full names); empty where not known.
    pub towns: Vec<String>,
    /// Whether the road is real (hand-checked) rather than generated for the synthetic district.
    pub real: bool,
}

/// Whether a marker ends a named component or follows a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MarkerKind {
    /// Ends a name: 华腾路, 东厍村, 华新镇.
    Suffix,
    /// Follows a number: 1288弄, 3号楼, 502室.
    Number,
}

/// The spellings of one level marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    /// The level it marks.
    pub level: Level,
    /// Suffix or number marker.
    pub kind: MarkerKind,
    /// Its spellings, canonical first.
    pub spellings: Vec<String>,
}

/// Why an alias exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AliasKind {
    /// A misspelling.
    Typo,
    /// A name no longer in use (a merged 乡镇).
    OldName,
    /// A short or informal form.
    Variant,
}

/// Another name for an admin division.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    /// The name as people write it.
    pub from: String,
    /// The official name(s) it stands for; several when an old unit was split.
    pub to: Vec<String>,
    /// The level of the named division.
    pub level: Level,
    /// Typo, old name or variant.
    pub kind: AliasKind,
}

/// The data rows of a TSV dictionary: `#` comments and the header line skipped, with line numbers.
fn rows(text: &str) -> impl Iterator<Item = (u64, Vec<&str>)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty())
        .skip(1)
        .map(|(i, l)| (i as u64 + 1, l.split('\t').collect()))
}

fn row_error(file: &'static str, line: u64, reason: impl Into<String>) -> DictionaryError {
    DictionaryError::Row {
        file,
        line,
        reason: reason.into(),
    }
}

fn split_bar(s: &str) -> Vec<String> {
    s.split('|')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

pub(super) fn roads(
    file: &'static str,
    text: &str,
    real: bool,
) -> Result<Vec<Road>, DictionaryError> {
    rows(text)
        .map(|(line, cols)| match cols.as_slice() {
            [name, towns, ..] if !name.is_empty() => Ok(Road {
                name: name.to_string(),
                towns: split_bar(towns),
                real,
            }),
            [name] if !name.is_empty() => Ok(Road {
                name: name.to_string(),
                towns: Vec::new(),
                real,
            }),
            _ => Err(row_error(file, line, "expected name<TAB>towns")),
        })
        .collect()
}

pub(super) fn markers(text: &str) -> Result<Vec<Marker>, DictionaryError> {
    const FILE: &str = "markers.tsv";
    rows(text)
        .map(|(line, cols)| {
            let [level, kind, spellings] = cols.as_slice() else {
                return Err(row_error(
                    FILE,
                    line,
                    "expected level<TAB>kind<TAB>spellings",
                ));
            };
            let level = Level::from_str(level).map_err(|e| row_error(FILE, line, e.to_string()))?;
            let kind = match *kind {
                "suffix" => MarkerKind::Suffix,
                "number" => MarkerKind::Number,
                other => return Err(row_error(FILE, line, format!("unknown kind {other:?}"))),
            };
            Ok(Marker {
                level,
                kind,
                spellings: split_bar(spellings),
            })
        })
        .collect()
}

pub(super) fn aliases(text: &str) -> Result<Vec<Alias>, DictionaryError> {
    const FILE: &str = "aliases.tsv";
    rows(text)
        .map(|(line, cols)| {
            let [from, to, level, kind] = cols.as_slice() else {
                return Err(row_error(
                    FILE,
                    line,
                    "expected from<TAB>to<TAB>level<TAB>kind",
                ));
            };
            let level = Level::from_str(level).map_err(|e| row_error(FILE, line, e.to_string()))?;
            let kind = match *kind {
                "typo" => AliasKind::Typo,
                "old_name" => AliasKind::OldName,
                "variant" => AliasKind::Variant,
                other => return Err(row_error(FILE, line, format!("unknown kind {other:?}"))),
            };
            Ok(Alias {
                from: from.to_string(),
                to: split_bar(to),
                level,
                kind,
            })
        })
        .collect()
}

pub(super) fn homophones(text: &str) -> Result<Vec<(char, Vec<char>)>, DictionaryError> {
    const FILE: &str = "homophones.tsv";
    rows(text)
        .map(|(line, cols)| {
            let [c, others] = cols.as_slice() else {
                return Err(row_error(FILE, line, "expected char<TAB>homophones"));
            };
            let mut chars = c.chars();
            let (Some(c), None) = (chars.next(), chars.next()) else {
                return Err(row_error(FILE, line, "first column must be one character"));
            };
            let others: Option<Vec<char>> = others
                .split('|')
                .map(|h| {
                    let mut cs = h.chars();
                    match (cs.next(), cs.next()) {
                        (Some(h), None) => Some(h),
                        _ => None,
                    }
                })
                .collect();
            let others =
                others.ok_or_else(|| row_error(FILE, line, "homophones are single characters"))?;
            Ok((c, others))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_skip_comments_and_header_and_count_lines() {
        let text = "# comment\nname\ttowns\n华腾路\t华新镇\n";
        let r: Vec<_> = rows(text).collect();
        assert_eq!(r, vec![(3, vec!["华腾路", "华新镇"])]);
    }

    #[test]
    fn a_bad_row_names_file_and_line() {
        let err = markers("# c\nlevel\tkind\tspellings\nnowhere\tsuffix\t路\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "dictionary markers.tsv, line 3: unknown level \"nowhere\""
        );
    }
}
