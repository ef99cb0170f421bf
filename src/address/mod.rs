//! The address model and what works on it: levels, components, standard addresses, buildings.

mod model;
pub mod parse;

pub use model::{
    canonical_marker, AddressKind, AddressStatus, AdminRef, Building, BuildingKind, Component,
    Level, StandardAddress, UnknownLevel,
};
pub use parse::{Ambiguity, Inferred, Masked, MaskedKind, Near, Outside, Parse, Parser};
