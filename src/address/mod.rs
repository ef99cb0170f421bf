//! The address model and what works on it: levels, components, standard addresses, buildings.

mod compare;
mod model;
pub mod parse;
pub mod relation;

pub use compare::{Comparison, Relation, compare, compare_levels, compare_rules, standard_levels};

pub use model::{
    AddressKind, AddressStatus, AdminRef, Building, BuildingKind, Component, Level,
    StandardAddress, TextParts, UnknownLevel, canonical_marker, community_address_name,
};
pub use parse::{
    Ambiguity, GLUED_BEFORE_NAME, Inferred, Masked, MaskedKind, Near, Outside, Parse, Parser,
};
