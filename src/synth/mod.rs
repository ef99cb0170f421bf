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
    let layout = layout::Layout::in_district(dicts, district, config.seed);
    let mut occupancy = geometry::Occupancy::new(&layout.frame, 5.0);
    let roads = roads::road_network(&layout, dicts, config.seed, &mut occupancy);
    let places = places::build_places(
        &layout,
        &roads,
        &mut occupancy,
        config.addresses,
        config.seed,
    )
    .map_err(|placed| Error::DistrictFull {
        wanted: config.addresses,
        placed,
    })?;
    let sources = sources::build_sources(&places, &roads, dicts, &district.code, config.seed);
    Ok(District {
        config,
        addresses: places.addresses,
        buildings: places.buildings,
        address_road: places.address_road,
        layout,
        roads,
        sources,
    })
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
