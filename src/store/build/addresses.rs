//! `addresses.csv`: standard addresses, each checked (id, kind, point, building) and written
//! with its address–building link.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs;

use geo::Point;
use rusqlite::Transaction;

use super::csv_rows::for_each_csv_row;
use super::writer::Batch;
use super::{BuildInProgress, Stage};
use crate::store::addresses::write_addresses;
use crate::store::buildings::write_links;
use crate::store::{Error, Link};
use crate::{AddressKind, AdminRef, StandardAddress};

/// The header `addresses.csv` must have, in this order.
pub const ADDRESS_HEADER: [&str; 17] = [
    "id",
    "address",
    "district",
    "town_code",
    "town",
    "community_code",
    "community",
    "road",
    "lane",
    "number",
    "group",
    "poi",
    "building",
    "kind",
    "building_id",
    "lon",
    "lat",
];

pub(super) fn load_addresses(
    run: &mut BuildInProgress<'_>,
    building_ids: &HashSet<String>,
) -> Result<(), Error> {
    const FILE: &str = "addresses.csv";
    let path = run.source_dir.join(FILE);
    let total = fs::metadata(&path).map_or(0, |m| m.len());
    // Without a clean buildings file every building_id would look unknown: say it once.
    let check_buildings = !run.problems.in_file("buildings.geojson");
    let mut seen: HashMap<String, u64> = HashMap::with_capacity((total / 150) as usize);
    let mut addresses: Batch<(StandardAddress, String)> = Batch::new();
    let mut links: Batch<Link> = Batch::new();
    let (writer, progress) = (run.writer.clone(), run.progress);
    let report = &mut run.report;
    let opt = |s: &str| -> Option<String> { (!s.is_empty()).then(|| s.to_string()) };
    // The districts the addresses lie in (by their towns' codes), and their names for rows that
    // leave the district out.
    let admin = crate::dictionaries::AdminIndex::embedded().ok();
    let mut district_names: HashMap<String, String> = HashMap::new();
    let mut divisions: BTreeSet<String> = BTreeSet::new();
    for_each_csv_row(
        FILE,
        &path,
        &mut run.problems,
        |header, problems| {
            if header.iter().eq(ADDRESS_HEADER) {
                true
            } else {
                problems.line(
                    FILE,
                    1,
                    format!(
                        "header must be exactly `{}`, found `{}`",
                        ADDRESS_HEADER.join(","),
                        header.iter().collect::<Vec<_>>().join(",")
                    ),
                );
                false
            }
        },
        |_, r, line, problems| {
            let mut ok = true;
            let id = &r[0];
            if id.is_empty() {
                problems.line(FILE, line, "empty id");
                ok = false;
            } else if let Some(first) = seen.get(id) {
                problems.line(
                    FILE,
                    line,
                    format!("duplicate id {id} (first on line {first})"),
                );
                ok = false;
            } else {
                seen.insert(id.to_string(), line);
            }
            let kind = match r[13].parse::<AddressKind>() {
                Ok(k) => Some(k),
                Err(e) => {
                    problems.line(FILE, line, e);
                    None
                }
            };
            let point = match parse_point(&r[15], &r[16]) {
                Ok(p) => p,
                Err(reason) => {
                    problems.line(FILE, line, reason);
                    ok = false;
                    None
                }
            };
            let building_id = opt(&r[14]);
            if let Some(b) = &building_id
                && check_buildings
                && !building_ids.contains(b.as_str())
            {
                problems.line(
                    FILE,
                    line,
                    format!("building_id {b} is not among the buildings in buildings.geojson"),
                );
                ok = false;
            }
            let (Some(kind), true) = (kind, ok) else {
                return Ok(());
            };
            report.addresses += 1;
            if !problems.is_empty() {
                return Ok(());
            }
            let district_code = district_code(&r[3]);
            if let Some(code) = &district_code
                && !district_names.contains_key(code)
                && let Some(d) = admin.as_ref().and_then(|a| a.by_code(code))
            {
                district_names.insert(code.clone(), d.name.clone());
            }
            let named = district_code.as_ref().and_then(|c| district_names.get(c));
            if let Some(code) = district_code.filter(|_| named.is_some()) {
                divisions.insert(code);
            }
            let address = StandardAddress {
                id: id.to_string(),
                district: if r[2].is_empty() {
                    named.cloned().unwrap_or_default()
                } else {
                    r[2].to_string()
                },
                town: AdminRef {
                    code: r[3].to_string(),
                    name: r[4].to_string(),
                },
                community: AdminRef {
                    code: r[5].to_string(),
                    name: r[6].to_string(),
                },
                road: opt(&r[7]),
                lane: opt(&r[8]),
                number: opt(&r[9]),
                group: opt(&r[10]),
                poi: opt(&r[11]),
                building: opt(&r[12]),
                kind,
                building_id,
                point,
                tags: Vec::new(),
                status: Default::default(),
            };
            let text = if r[1].is_empty() {
                address.canonical_text()
            } else {
                r[1].to_string()
            };
            if let Some(b) = &address.building_id {
                report.links += 1;
                let link = Link {
                    address_id: address.id.clone(),
                    building_id: b.clone(),
                    source: FILE.to_string(),
                    method: "given".to_string(),
                    confidence: 1.0,
                };
                links.push(link, |l| {
                    writer.send(move |tx| write_links(tx, &l).map(drop))
                })?;
            }
            // Links may reach the store before their addresses: foreign keys are checked once,
            // after everything is written.
            addresses.push((address, text), |a| {
                writer.send(move |tx| write_address_rows(tx, &a))
            })
        },
        |done| progress(Stage::Addresses, done, total),
    )?;
    run.report.divisions = divisions.into_iter().collect();
    let writing = run.problems.is_empty();
    addresses.finish(writing, |a| {
        writer.send(move |tx| write_address_rows(tx, &a))
    })?;
    links.finish(writing, |l| {
        writer.send(move |tx| write_links(tx, &l).map(drop))
    })?;
    Ok(())
}

/// The 12-digit code of the district a 12-digit town code lies in.
fn district_code(town_code: &str) -> Option<String> {
    (town_code.len() == 12 && town_code.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("{}000000", &town_code[..6]))
}

fn write_address_rows(
    tx: &Transaction<'_>,
    rows: &[(StandardAddress, String)],
) -> Result<(), Error> {
    write_addresses(tx, rows.iter().map(|(a, t)| (a, t.as_str()))).map(drop)
}

/// A lon/lat pair of cells: both empty is no point; anything else must be two finite numbers in
/// range.
fn parse_point(lon: &str, lat: &str) -> Result<Option<Point<f64>>, String> {
    if lon.is_empty() && lat.is_empty() {
        return Ok(None);
    }
    let number = |name: &str, text: &str, limit: f64| -> Result<f64, String> {
        match text.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && v.abs() <= limit => Ok(v),
            Ok(_) => Err(format!("{name} {text:?} is out of range")),
            Err(_) if text.is_empty() => {
                Err(format!("{name} is empty but the other coordinate is not"))
            }
            Err(_) => Err(format!("{name} {text:?} is not a number")),
        }
    };
    Ok(Some(Point::new(
        number("lon", lon, 180.0)?,
        number("lat", lat, 90.0)?,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_must_be_numbers_in_range() {
        assert_eq!(parse_point("", ""), Ok(None));
        assert!(
            parse_point("12l.1", "31.0")
                .unwrap_err()
                .contains("not a number")
        );
        assert!(parse_point("121.1", "").unwrap_err().contains("empty"));
        assert!(
            parse_point("999", "31")
                .unwrap_err()
                .contains("out of range")
        );
        assert!(parse_point("NaN", "31").is_err());
    }
}
