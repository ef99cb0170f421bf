//! Building the standard-address library from the registers a district really holds.
//!
//! ```text
//! registers.toml ─▶ read (each file through its one reader; points to WGS84)
//!                ─▶ merge (parse every record, repair names towards the standard names,
//!                          records naming the same door → one address)
//!                ─▶ assemble (footprint by point, 街镇/居委 by boundary, support, confidence)
//!                ─▶ stage (the source-directory shape) ─▶ store::build + search index
//!                ─▶ provenance (address_evidence, fused_records), anomalies, audit of changes
//! ```
//!
//! A second delivery builds again into the same data directory: a door the library already
//! had keeps its id (by its door key in `address_evidence`), and every address that is new,
//! changed or gone is written to the audit log.

pub mod assemble;
pub mod config;
pub mod merge;
mod place;
pub mod read;
mod stage;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::{Duration, Instant};

use rayon::prelude::*;

pub use config::RegistersConfig;

use crate::fuse::{Error, Result};
use crate::spatial::FootprintIndex;
use assemble::{Areas, Assembled, Context, Divisions};
use config::Trust;

/// What a build from registers did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RegistersReport {
    /// Per register: name, records read, problems.
    pub registers: Vec<(String, usize, usize)>,
    /// Footprints loaded.
    pub footprints: usize,
    /// Footprint features repaired or left out: (id, reason).
    pub footprint_problems: Vec<(String, String)>,
    /// Standard addresses built.
    pub addresses: usize,
    /// By support: confirmed, single_source, proposed.
    pub support: BTreeMap<String, usize>,
    /// Addresses linked to a footprint, by how (contains, nearest).
    pub linked: BTreeMap<String, usize>,
    /// Addresses no footprint could be found for.
    pub unlinked: usize,
    /// Records that name no door the build could key (reported, queued for review).
    pub unplaced_records: usize,
    /// Records whose name was repaired towards a standard name.
    pub repaired_names: usize,
    /// Addresses whose records name another 街镇 than the boundary layer's.
    pub town_conflicts: usize,
    /// Against the library before this delivery: ids kept, new, changed, gone.
    pub kept: usize,
    /// New addresses.
    pub added: usize,
    /// Addresses whose text, 街镇, 居委 or building changed.
    pub changed: usize,
    /// Addresses of the earlier library no register names any more.
    pub retired: usize,
    /// Problems per register and layer, `file: line N: reason` (the first 1,000).
    pub problems: Vec<String>,
    /// Wall time.
    #[serde(skip)]
    pub elapsed: Duration,
}

/// Builds (or updates) the data directory `data_dir` from the registers `config` names.
pub fn build_from_registers(config: &RegistersConfig, data_dir: &Path) -> Result<RegistersReport> {
    let started = Instant::now();
    let mut report = RegistersReport::default();
    let dicts = crate::Dictionaries::embedded().map_err(|e| Error::Invalid(e.to_string()))?;
    let coverage =
        crate::dictionaries::Coverage::parse(&dicts.admin, &config.district.divisions.join(","))
            .map_err(|e| Error::Invalid(format!("[district] divisions: {e}")))?;
    let mut problems: Vec<String> = Vec::new();

    // Footprints, boundaries, names and roads first: they decide how records are read.
    let mut buildings = Vec::new();
    for layer in &config.footprints {
        let (bs, bad) = read::read_footprints(layer)?;
        for (id, reason) in &bad {
            problems.push(format!("{}: feature {id}: {reason}", layer.path.display()));
        }
        report.footprint_problems.extend(bad);
        buildings.extend(bs);
    }
    report.footprints = buildings.len();
    let footprints = FootprintIndex::new(buildings);
    let areas = read_areas(config, &mut problems)?;
    let mut standard_names = Vec::new();
    for r in &config.names {
        let (names, bad) = read::read_names(r)?;
        problems.extend(
            bad.into_iter()
                .map(|p| format!("{}: {p}", r.path.display())),
        );
        standard_names.extend(names.iter().map(|n| n.name.clone()));
    }
    let mut roads = Vec::new();
    for layer in &config.roads {
        let (lines, bad) = read::read_roads(layer)?;
        problems.extend(
            bad.into_iter()
                .map(|p| format!("{}: {p}", layer.path.display())),
        );
        standard_names.extend(lines.iter().map(|l| l.name.clone()));
        roads.extend(lines);
    }

    // Every address record.
    let mut records = Vec::new();
    let mut raw = Vec::new();
    for (i, r) in config.addresses.iter().enumerate() {
        let index = u16::try_from(i).map_err(|_| Error::Invalid("too many registers".into()))?;
        let read = read::read_address_register(index, r)?;
        report
            .registers
            .push((r.name.clone(), read.records.len(), read.problems.len()));
        problems.extend(
            read.problems
                .iter()
                .map(|p| format!("{}: {p}", r.path.display())),
        );
        records.extend(read.records);
        raw.push((read.header, read.rows));
    }
    let trust: Vec<Trust> = config.addresses.iter().map(|r| r.trust).collect();
    let register_names: Vec<String> = config.addresses.iter().map(|r| r.name.clone()).collect();

    let parser = crate::Parser::with_coverage(&dicts, coverage.clone());
    let merged = merge::merge(
        &parser,
        &records,
        &merge::StandardNames::new(standard_names),
    );
    report.repaired_names = merged.repaired.len();
    // The split columns are read: only the records' ids, texts and points are needed from here.
    for r in &mut records {
        r.parts = Vec::new();
    }
    let merge::Merged {
        doors: door_map,
        readings,
        unkeyed,
        repaired,
    } = merged;
    let divisions = Divisions::new(&coverage);
    let doors: Vec<(&merge::DoorKey, &Vec<u32>)> = door_map.iter().collect();
    let door_records: Vec<&[u32]> = doors.iter().map(|(_, rs)| rs.as_slice()).collect();
    let claims = assemble::claims(&records, &footprints, &door_records);
    let door_keys: Vec<&merge::DoorKey> = doors.iter().map(|(k, _)| *k).collect();
    let mut road_lines: HashMap<String, Vec<geo::Geometry<f64>>> = HashMap::new();
    for r in &roads {
        road_lines
            .entry(r.name.clone())
            .or_default()
            .push(r.geometry.clone());
    }
    let cx = Context {
        records: &records,
        readings: &readings,
        trust: &trust,
        register_names: &register_names,
        footprints: &footprints,
        areas: areas.as_ref(),
        divisions: &divisions,
        max_distance_m: config.link.max_distance_m,
        claims: &claims,
        doors: &door_keys,
        roads: &road_lines,
        bracketed: &HashMap::new(),
    };
    let mut assembled: Vec<Assembled> = doors
        .par_iter()
        .enumerate()
        .map(|(d, (k, rs))| assemble::assemble(&cx, d, k, rs))
        .collect();
    // Doors with no point of their own: placed between their run neighbours where both lie in
    // one footprint, then the rest where their number puts them along their run, then a 幢 on
    // the free footprint beside the other 幢 under its number.
    let bracketed = place::bracket(&assembled);
    assemble_placed(&cx, &bracketed, &doors, &mut assembled);
    let interpolated = place::interpolate(&assembled, &footprints);
    assemble_placed(&cx, &interpolated, &doors, &mut assembled);
    let on_site = place::place_on_site(&assembled, &footprints);
    assemble_placed(&cx, &on_site, &doors, &mut assembled);
    assemble::infer_towns(&mut assembled, &divisions);
    drop((claims, door_keys, road_lines, door_records, doors));
    drop(door_map);
    let building_ids: Vec<Option<String>> = assembled
        .iter()
        .map(|a| {
            a.building
                .and_then(|(b, _)| footprints.building(b))
                .map(|b| b.id.clone())
        })
        .collect();

    // Ids: a door the library had keeps its id.
    let before = stage::earlier_library(data_dir)?;
    let ids = stage::assign_ids(&assembled, &before);
    let staging = data_dir.join(".registers-staging");
    std::fs::create_dir_all(data_dir).map_err(|e| Error::file(data_dir, e))?;
    let _ = std::fs::remove_dir_all(&staging);
    let staged = stage::write_source_dir(
        &staging,
        &stage::Library {
            assembled: &assembled,
            ids: &ids,
            footprints: &footprints,
            areas: areas.as_ref(),
            roads: &roads,
            registers: &config.addresses,
            raw: &raw,
            coverage: &coverage,
        },
    );
    // The registers as they came and the footprints are in the staging directory now; the store
    // build reads them from there.
    drop(raw);
    drop(footprints);
    let built = staged.and_then(|()| {
        crate::store::build(&staging, data_dir, &|_, _, _| {})
            .map_err(|e| Error::Invalid(e.to_string()))
    });
    let _ = std::fs::remove_dir_all(&staging);
    built?;

    let mut store = crate::store::Store::open(data_dir)?;
    let written = stage::write_provenance(
        &mut store,
        &stage::Provenance {
            assembled: &assembled,
            ids: &ids,
            records: &records,
            readings: &readings,
            repaired: &repaired,
            unkeyed: &unkeyed,
            register_names: &register_names,
            building_ids: &building_ids,
            before: &before,
        },
    )?;
    for a in &assembled {
        *report.support.entry(a.support.to_string()).or_default() += 1;
        match a.building {
            Some((_, how)) => *report.linked.entry(how.to_string()).or_default() += 1,
            None => report.unlinked += 1,
        }
        report.town_conflicts += usize::from(a.town_conflict.is_some());
    }
    report.addresses = assembled.len();
    report.unplaced_records = unkeyed.len();
    report.kept = written.kept;
    report.added = written.added;
    report.changed = written.changed;
    report.retired = written.retired;
    // The index is built from the store alone: what the build held is let go first.
    drop((assembled, records, readings, building_ids, ids, before));
    crate::setup::generation::build_paired_index(&store, data_dir)
        .map_err(|e| Error::Invalid(e.to_string()))?;
    problems.truncate(1000);
    report.problems = problems;
    report.elapsed = started.elapsed();
    Ok(report)
}

fn read_areas(config: &RegistersConfig, problems: &mut Vec<String>) -> Result<Option<Areas>> {
    if config.boundaries.is_empty() {
        return Ok(None);
    }
    let (mut towns, mut communities, mut names) = (Vec::new(), Vec::new(), HashMap::new());
    for layer in &config.boundaries {
        let (areas, bad) = read::read_boundaries(layer)?;
        problems.extend(
            bad.into_iter()
                .map(|(id, reason)| format!("{}: feature {id}: {reason}", layer.path.display())),
        );
        for a in areas {
            names.insert(a.code.clone(), a.name.clone());
            let parts = a.area.0.into_iter().map(|p| crate::Building {
                id: a.code.clone(),
                footprint: p,
                kind: crate::BuildingKind::Public,
                floors: 0,
                tags: Vec::new(),
            });
            match a.level {
                config::BoundaryLevel::Town => towns.extend(parts),
                config::BoundaryLevel::Community => communities.extend(parts),
            }
        }
    }
    Ok(Some(Areas {
        towns: FootprintIndex::new(towns),
        communities: FootprintIndex::new(communities),
        names,
    }))
}

/// Assembles again the doors `placed` by their run (door position → (footprint, how)), now with
/// that footprint.
fn assemble_placed(
    cx: &Context<'_>,
    placed: &HashMap<usize, (usize, &'static str)>,
    doors: &[(&merge::DoorKey, &Vec<u32>)],
    assembled: &mut [Assembled],
) {
    let cx = Context {
        bracketed: placed,
        ..*cx
    };
    for &d in placed.keys() {
        let (k, rs) = doors[d];
        assembled[d] = assemble::assemble(&cx, d, k, rs);
    }
}
