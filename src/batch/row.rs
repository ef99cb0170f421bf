//! One row's normalization as the `dizhi_` cells, and its status.

use crate::search::{CorrectionKind, Match, MatchLevel, Matcher};

use super::BatchOptions;
use super::read::InRow;

/// How a row came out (`dizhi_status`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Matched a building, door number, lane or compound.
    Ok = 0,
    /// Matched only a road or coarser (community, town, district), or lies outside the district.
    Partial = 1,
    /// Nothing usable.
    NotFound = 2,
    /// The row could not be processed; `dizhi_note` says why.
    Error = 3,
}

impl Status {
    /// Every status, in column order of a summary.
    pub const ALL: [Status; 4] = [Status::Ok, Status::Partial, Status::NotFound, Status::Error];

    /// The status as written in `dizhi_status`.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(dizhi::batch::Status::NotFound.as_str(), "not_found");
    /// ```
    pub fn as_str(self) -> &'static str {
        crate::wire::name(&self)
    }

    /// The status of a match at `level`.
    ///
    /// # Examples
    /// ```
    /// use dizhi::batch::Status;
    /// use dizhi::search::MatchLevel;
    /// assert_eq!(Status::of(MatchLevel::Lane), Status::Ok);
    /// assert_eq!(Status::of(MatchLevel::Outside), Status::Partial);
    /// assert_eq!(Status::of(MatchLevel::None), Status::NotFound);
    /// ```
    pub fn of(level: MatchLevel) -> Status {
        match level {
            MatchLevel::Building | MatchLevel::Number | MatchLevel::Lane | MatchLevel::Poi => {
                Status::Ok
            }
            MatchLevel::Road
            | MatchLevel::Community
            | MatchLevel::Town
            | MatchLevel::District
            | MatchLevel::Outside => Status::Partial,
            MatchLevel::None => Status::NotFound,
        }
    }
}

/// The `dizhi_` cells of one row.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchRow {
    /// `dizhi_id`.
    pub id: Option<String>,
    /// `dizhi_address` (for `outside`: where the address is).
    pub address: Option<String>,
    /// `dizhi_level` (none for an `error` row).
    pub level: Option<MatchLevel>,
    /// `dizhi_score`.
    pub score: Option<f64>,
    /// `dizhi_town`.
    pub town: Option<String>,
    /// `dizhi_community`.
    pub community: Option<String>,
    /// `dizhi_building_id`.
    pub building_id: Option<String>,
    /// `dizhi_lon` (WGS84).
    pub lon: Option<f64>,
    /// `dizhi_lat` (WGS84).
    pub lat: Option<f64>,
    /// `dizhi_status`.
    pub status: Status,
    /// `dizhi_note`: why an `error`, how coarse a `partial`, what was corrected.
    pub note: String,
}

impl BatchRow {
    /// An `error` row.
    ///
    /// # Examples
    /// ```
    /// let r = dizhi::batch::BatchRow::error("empty address");
    /// assert_eq!(r.status, dizhi::batch::Status::Error);
    /// ```
    pub fn error(why: impl Into<String>) -> BatchRow {
        BatchRow {
            id: None,
            address: None,
            level: None,
            score: None,
            town: None,
            community: None,
            building_id: None,
            lon: None,
            lat: None,
            status: Status::Error,
            note: one_line(&why.into()),
        }
    }

    /// The cells of a normalization; `covered` names what the data covers (for `outside`).
    ///
    /// # Examples
    /// ```
    /// use dizhi::batch::{BatchRow, Status};
    /// let r = BatchRow::from_match(dizhi::search::Match::none("火星"), "青浦区");
    /// assert_eq!(r.status, Status::NotFound);
    /// ```
    pub fn from_match(m: Match, covered: &str) -> BatchRow {
        let status = Status::of(m.level);
        let mut note = String::new();
        match m.level {
            MatchLevel::Outside => {
                note.push_str("outside ");
                note.push_str(covered);
                if let Some(a) = &m.address {
                    note.push_str(": ");
                    note.push_str(a);
                }
            }
            MatchLevel::None => note.push_str("no standard address matches"),
            l if status == Status::Partial => {
                note.push_str("matched to the ");
                note.push_str(l.as_str());
                note.push_str(" only");
            }
            _ => {}
        }
        for c in &m.corrections {
            if !note.is_empty() {
                note.push_str("; ");
            }
            let why = match c.why {
                CorrectionKind::Typo => "typo",
                CorrectionKind::Homophone => "homophone",
                CorrectionKind::OldName => "old name",
                CorrectionKind::Variant => "variant",
            };
            note.push_str(&format!("{}→{} ({why})", c.from, c.to));
        }
        let ties = m.candidates.iter().filter(|c| c.tie).count();
        if ties > 0 {
            if !note.is_empty() {
                note.push_str("; ");
            }
            note.push_str(&format!("tied with {ties} other candidate(s)"));
        }
        BatchRow {
            id: m.id,
            address: m.address,
            level: Some(m.level),
            score: Some(m.score),
            town: m.town,
            community: m.community,
            building_id: m.building_id,
            lon: m.lon,
            lat: m.lat,
            status,
            note: one_line(&note),
        }
    }
}

/// A note on one line (a resumed output is counted by records; notes never span lines).
fn one_line(s: &str) -> String {
    if s.contains(['\n', '\r']) {
        s.replace(['\n', '\r'], " ")
    } else {
        s.to_string()
    }
}

/// Checks and normalizes one input row.
pub(crate) fn process(
    row: &InRow,
    columns: &[usize],
    options: &BatchOptions,
    matcher: &Matcher,
) -> BatchRow {
    if let Some(p) = &row.problem {
        return BatchRow::error(p.as_str());
    }
    if let Some((i, f)) = row
        .fields
        .iter()
        .enumerate()
        .find(|(_, f)| f.len() > options.max_cell_bytes)
    {
        return BatchRow::error(format!(
            "column {} is {} bytes (limit {})",
            i + 1,
            f.len(),
            options.max_cell_bytes
        ));
    }
    let mut address = String::new();
    for &c in columns {
        let v = row.fields.get(c).map(|s| s.trim()).unwrap_or("");
        if v.is_empty() {
            continue;
        }
        if !address.is_empty() {
            address.push_str(&options.join);
        }
        address.push_str(v);
    }
    if address.is_empty() {
        return BatchRow::error("empty address");
    }
    let chars = address.chars().count();
    if chars > options.max_address_chars {
        return BatchRow::error(format!(
            "address is {chars} characters (limit {})",
            options.max_address_chars
        ));
    }
    match matcher.normalize(&address) {
        Ok(m) => BatchRow::from_match(m, &matcher.coverage().label()),
        Err(e) => BatchRow::error(format!("search failed: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_levels() {
        use MatchLevel::*;
        let ok = [Building, Number, Lane, Poi];
        let partial = [Road, Community, Town, District, Outside];
        assert!(ok.iter().all(|&l| Status::of(l) == Status::Ok));
        assert!(partial.iter().all(|&l| Status::of(l) == Status::Partial));
        assert_eq!(Status::of(None), Status::NotFound);
    }

    #[test]
    fn outside_says_where_and_notes_are_one_line() {
        let mut m = Match::none("杭州市余杭区人民路8号");
        m.level = MatchLevel::Outside;
        m.address = Some("余杭区".into());
        let r = BatchRow::from_match(m, "青浦区");
        assert_eq!(r.status, Status::Partial);
        assert_eq!(r.note, "outside 青浦区: 余杭区");
        assert_eq!(BatchRow::error("a\nb").note, "a b");
    }
}
