//! `dizhi synth`: a deterministic generator of a synthetic but realistic Shanghai district (the
//! bundled demo's by default, any other with `--district`).
//!
//! The district's real 街镇 and 居/村委 are laid out inside it ([`layout`]); a road network runs
//! through every town, with the demo district's real roads in their towns ([`roads`]); residential
//! compounds, shops, industrial parks, schools and public buildings line the roads and villages
//! cluster around their centres, with footprints that never overlap and addresses whose points
//! lie inside their buildings ([`places`]); four source extracts carry the faults real sources
//! have, and a truth file lists every one of them ([`sources`]).
//!
//! The same seed gives byte-identical output; the address count is exact.

mod delivery;
mod geometry;
mod layout;
mod places;
mod registers;
mod roads;
pub mod sources;
mod write;

use std::path::Path;

pub use geometry::DISTRICT_BOUNDS;
pub use registers::BROKEN_FOOTPRINTS;
pub use roads::generated_road_names;
pub use sources::{FaultKind, GONGAN, GONGAN_COLUMNS, GUIHUA, HOTLINE, MINZHENG};

use crate::{Building, Dictionaries, StandardAddress};

/// What can go wrong while generating.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The district has no room for that many addresses with this seed.
    #[error("the district has room for {placed} of the {wanted} addresses asked for")]
    DistrictFull {
        /// How many were asked for.
        wanted: usize,
        /// How many fit.
        placed: usize,
    },
    /// Writing the output failed.
    #[error("writing {path}: {source}")]
    Write {
        /// The file being written.
        path: String,
        /// Why it failed.
        source: std::io::Error,
    },
}

/// A result of the generator.
pub type Result<T> = std::result::Result<T, Error>;

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct SynthConfig {
    /// Exactly this many standard addresses.
    pub addresses: usize,
    /// The seed of every random choice.
    pub seed: u64,
}

/// A generated district, in memory.
pub struct District {
    /// The config it was generated from.
    pub config: SynthConfig,
    /// Standard addresses, by id.
    pub addresses: Vec<StandardAddress>,
    /// Building footprints, by id.
    pub buildings: Vec<Building>,
    layout: layout::Layout,
    roads: Vec<roads::Road>,
    /// The road each address is numbered on, by address.
    address_road: Vec<Option<usize>>,
    sources: sources::Sources,
}

impl District {
    /// How many faults were injected into the sources.
    pub fn fault_count(&self) -> usize {
        self.sources.faults.len()
    }
}

/// Generates a district.
///
/// # Examples
/// ```
/// use dizhi::synth::{generate, SynthConfig};
/// let dicts = dizhi::Dictionaries::embedded().unwrap();
/// let district = generate(&dicts, SynthConfig { addresses: 500, seed: 3 }).unwrap();
/// assert_eq!(district.addresses.len(), 500);
/// assert!(district.addresses.iter().all(|a| a.building_id.is_some()));
/// ```
pub fn generate(dicts: &Dictionaries, config: SynthConfig) -> Result<District> {
    let demo = dicts
        .admin
        .by_code(crate::dictionaries::DEMO_DISTRICT)
        .expect("the demo district is in the list");
    generate_district(dicts, demo, config)
}

/// Generates any Shanghai district: its real 街镇 and 居/村委 laid out around its centre.
///
/// # Examples
/// ```
/// use dizhi::synth::{generate_district, SynthConfig};
/// let dicts = dizhi::Dictionaries::embedded().unwrap();
/// let jiading = dicts.admin.by_code("310114000000").unwrap();
/// let district = generate_district(&dicts, jiading, SynthConfig { addresses: 300, seed: 1 }).unwrap();
/// assert_eq!(district.addresses.len(), 300);
/// assert!(district.addresses.iter().all(|a| a.town.code.starts_with("310114") && a.district == "嘉定区"));
/// ```
pub fn generate_district(
    dicts: &Dictionaries,
    district: &crate::dictionaries::AdminDivision,
    config: SynthConfig,
) -> Result<District> {
    let (generated, short) = generate_part(
        dicts,
        district,
        config,
        None,
        &IdBase::default(),
        Density::default(),
    )?;
    if short > 0 {
        return Err(Error::DistrictFull {
            wanted: config.addresses,
            placed: config.addresses - short,
        });
    }
    Ok(generated)
}

/// How densely a district is built: its town centres' road spacing and the share of their
/// residential parcels that are 里弄 rows rather than compounds.
#[derive(Debug, Clone, Copy)]
struct Density {
    /// The road spacing (m) of 街道 and of 镇.
    spacing: (f64, f64),
    lanes: f64,
}

impl Default for Density {
    /// A district of its own: a 300 m grid in the town centres, compounds only.
    fn default() -> Self {
        Density {
            spacing: (300.0, 380.0),
            lanes: 0.0,
        }
    }
}

impl Density {
    /// For one of the whole city's districts asked to hold `per_km2` addresses per square
    /// kilometre of its land: as a district of its own up to 500, denser past it — a 200 m grid
    /// in the 街道 and 260 m in the 镇, the villages' roads built up like the towns' (15 % of
    /// their parcels industrial parks), parks and public sites placed before housing, and 30 %
    /// to 85 % of the residential parcels 里弄 (黄浦 at 10M is asked for 12,000 per km²).
    fn for_addresses_per_km2(per_km2: f64) -> Density {
        if per_km2 <= 500.0 {
            return Density::default();
        }
        Density {
            spacing: (200.0, 260.0),
            lanes: ((per_km2 - 500.0) / 4_000.0).clamp(0.3, 0.85),
        }
    }
}

/// Where a district's ids start: at 1 for a district of its own, after the districts before it
/// when several are written to one directory (the whole city).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct IdBase {
    pub addresses: usize,
    pub buildings: usize,
    pub roads: usize,
    /// Generated road names the districts before took.
    pub road_names: usize,
    pub gongan: usize,
    pub minzheng: usize,
    pub guihua: usize,
    pub hotline: usize,
}

impl IdBase {
    /// The ids of the next district, after `d`'s.
    fn after(self, d: &District) -> IdBase {
        let rows = |name: &str| {
            d.sources
                .tables
                .iter()
                .filter(|t| t.name == name)
                .map(|t| t.rows.len())
                .sum::<usize>()
        };
        IdBase {
            addresses: self.addresses + d.addresses.len(),
            buildings: self.buildings + d.buildings.len(),
            roads: self.roads + d.roads.len(),
            road_names: self.road_names + d.roads.iter().filter(|r| r.generated_name).count(),
            gongan: self.gongan + rows(GONGAN),
            minzheng: self.minzheng + rows(MINZHENG),
            guihua: self.guihua
                + d.sources
                    .footprints
                    .iter()
                    .map(|f| f.features.len())
                    .sum::<usize>(),
            hotline: self.hotline + rows(HOTLINE),
        }
    }
}

/// A district, kept to its territory among `territories` when it is one of the whole city's.
fn generate_part(
    dicts: &Dictionaries,
    district: &crate::dictionaries::AdminDivision,
    config: SynthConfig,
    territories: Option<&layout::CityTerritories>,
    ids: &IdBase,
    density: Density,
) -> Result<(District, usize)> {
    let layout = layout::Layout::in_district_within(
        dicts,
        district,
        config.seed,
        territories,
        density.spacing,
    );
    let mut occupancy = geometry::Occupancy::new(&layout.frame, 5.0);
    layout.claim_neighbours_ground(&mut occupancy);
    let roads = roads::road_network(&layout, dicts, config.seed, &mut occupancy, ids);
    let (places, short) = places::build_places(
        &layout,
        &roads,
        &mut occupancy,
        config.addresses,
        config.seed,
        ids,
        density.lanes,
    );
    let sources = sources::build_sources(&places, &roads, dicts, &district.code, config.seed, ids);
    let generated = District {
        config,
        addresses: places.addresses,
        buildings: places.buildings,
        address_road: places.address_road,
        layout,
        roads,
        sources,
    };
    Ok((generated, short))
}

/// What a whole-city generation made, district by district.
#[derive(Debug, Clone)]
pub struct CityPart {
    /// The district's name.
    pub district: String,
    /// Its addresses.
    pub addresses: usize,
    /// Its building footprints.
    pub buildings: usize,
}

/// Generates the whole city — every district of the centres table, the addresses shared out
/// by residents, each district kept to its own territory (no two build on the same ground) —
/// and writes it to `out` as one source directory, one district at a time, so that only one
/// district is ever held in memory. `progress` hears of each district as it is written.
pub fn generate_city_to_dir(
    dicts: &Dictionaries,
    config: SynthConfig,
    out: &Path,
    mut progress: impl FnMut(&CityPart),
) -> Result<Vec<CityPart>> {
    let rows = layout::district_rows();
    let shares = share_out(
        config.addresses,
        &rows.iter().map(|r| r.4).collect::<Vec<_>>(),
    );
    let territories = layout::CityTerritories::measure();
    let mut writer = write::DirWriter::create(out, config.seed)?;
    let mut ids = IdBase::default();
    let mut parts = Vec::new();
    // What a district has no room for passes to the next (the centre's to the suburbs).
    let mut carry = 0;
    for (row, &n) in rows.iter().zip(&shares) {
        let Some(district) = dicts.admin.by_code(row.0) else {
            carry += n;
            continue;
        };
        let wanted = n + carry;
        let part_config = SynthConfig {
            addresses: wanted,
            seed: config.seed ^ row.0[..6].parse::<u64>().unwrap_or(0),
        };
        let land = std::f64::consts::PI * row.3 * row.3;
        let density = Density::for_addresses_per_km2(wanted as f64 / land);
        let (generated, short) = generate_part(
            dicts,
            district,
            part_config,
            Some(&territories),
            &ids,
            density,
        )?;
        carry = short;
        writer.append(&generated)?;
        ids = ids.after(&generated);
        let part = CityPart {
            district: district.name.clone(),
            addresses: generated.addresses.len(),
            buildings: generated.buildings.len(),
        };
        progress(&part);
        parts.push(part);
    }
    if carry > 0 {
        return Err(Error::DistrictFull {
            wanted: config.addresses,
            placed: config.addresses - carry,
        });
    }
    let city = crate::dictionaries::Coverage::whole_city(&dicts.admin);
    writer.finish(Some(&city.codes()))?;
    Ok(parts)
}

/// `total` shared out in proportion to `weights`, the remainders to the largest fractions.
fn share_out(total: usize, weights: &[f64]) -> Vec<usize> {
    let sum: f64 = weights.iter().sum();
    let exact: Vec<f64> = weights.iter().map(|w| total as f64 * w / sum).collect();
    let mut shares: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor())));
    let left = total - shares.iter().sum::<usize>();
    for &i in order.iter().take(left) {
        shares[i] += 1;
    }
    shares
}

/// Generates a district and writes it to `out`: `addresses.csv`, `buildings.geojson`,
/// `roads.geojson`, `areas.geojson`, `sources/`, `truth/` and `manifest.json`.
pub fn generate_to_dir(dicts: &Dictionaries, config: SynthConfig, out: &Path) -> Result<District> {
    let district = generate(dicts, config)?;
    write::write_district(&district, out)?;
    Ok(district)
}

/// Generates any Shanghai district ([`generate_district`]) and writes it to `out`.
pub fn generate_district_to_dir(
    dicts: &Dictionaries,
    district: &crate::dictionaries::AdminDivision,
    config: SynthConfig,
    out: &Path,
) -> Result<District> {
    let generated = generate_district(dicts, district, config)?;
    write::write_district(&generated, out)?;
    Ok(generated)
}

pub use delivery::{DeliveryChanges, next_delivery};

/// Generates any Shanghai district ([`generate_district`]) and writes the registers its
/// departments would hand over to `out`: `registers/`, `registers.toml` and `truth/` (see
/// REGISTERS in the README), with no components, codes, kinds or links precomputed.
pub fn generate_registers_to_dir(
    dicts: &Dictionaries,
    district: &crate::dictionaries::AdminDivision,
    config: SynthConfig,
    out: &Path,
) -> Result<District> {
    let generated = generate_district(dicts, district, config)?;
    registers::write_registers(&generated, dicts, out)?;
    Ok(generated)
}

/// The generated road-name dictionary (`dictionaries/roads_generated.tsv`), header included.
pub fn road_names_tsv(dicts: &Dictionaries) -> String {
    let mut out = String::from(
        "# Road names generated for the synthetic 青浦 (see src/synth/roads.rs); regenerate with\n\
         #   cargo run -- synth --road-names > dictionaries/roads_generated.tsv\n\
         # They are not real roads: the synthetic district uses them to fill its road network.\n\
         # columns: name\ttowns\nname\ttowns\n",
    );
    for name in generated_road_names(dicts) {
        out.push_str(&name);
        out.push_str("\t\n");
    }
    out
}
