//! The quality rule library as data: rules are read from TOML (`rules/default.toml` is embedded
//! as the default), each with id, description, level, severity and parameters. The checks
//! themselves run inside fusion ([`crate::fuse::Reference::fuse_source`]), where the evidence is;
//! a rule that is not in the set (or `enabled = false`) does not fire.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Error, Result};

/// The default rules file, embedded.
pub const DEFAULT_RULES: &str = include_str!("../../../rules/default.toml");

/// The rules fusion knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleId {
    /// A level left out (no 街镇).
    MissingLevel,
    /// Typo, old name, homophone, marker variant, Chinese numerals (the anomaly's `kind` says which).
    NonStandardSpelling,
    /// A road or village name nobody knows.
    UnknownRoad,
    /// A door number outside the road's known range.
    NumberOutOfRange,
    /// A known road with a number no standard address has.
    UnknownAddress,
    /// The point is not in its address's building.
    PointOutsideBuilding,
    /// The point is in another building whose addresses disagree.
    PointInDisagreeingBuilding,
    /// The same address recorded twice in one register.
    DuplicateAddress,
    /// A building no address is linked to.
    BuildingWithoutAddress,
    /// A standard address linked to no building.
    AddressWithoutBuilding,
    /// Sources disagree on 街镇/居委.
    SourcesDisagreeTown,
    /// A point outside the district.
    CoordinatesOutsideDistrict,
    /// A GCJ-02 point (or footprint) taken for WGS84.
    Gcj02ShiftSuspected,
    /// Floor counts disagree.
    FloorsDisagree,
    /// An objection filed from outside (not a rule of the file; always on).
    Objection,
}

impl RuleId {
    /// Every rule a rules file can name.
    pub const ALL: [RuleId; 14] = [
        RuleId::MissingLevel,
        RuleId::NonStandardSpelling,
        RuleId::UnknownRoad,
        RuleId::NumberOutOfRange,
        RuleId::UnknownAddress,
        RuleId::PointOutsideBuilding,
        RuleId::PointInDisagreeingBuilding,
        RuleId::DuplicateAddress,
        RuleId::BuildingWithoutAddress,
        RuleId::AddressWithoutBuilding,
        RuleId::SourcesDisagreeTown,
        RuleId::CoordinatesOutsideDistrict,
        RuleId::Gcj02ShiftSuspected,
        RuleId::FloorsDisagree,
    ];

    /// The rule's id.
    ///
    /// # Examples
    /// ```
    /// use dizhi::fuse::RuleId;
    /// assert_eq!(RuleId::Gcj02ShiftSuspected.as_str(), "gcj02_shift_suspected");
    /// assert_eq!("missing_level".parse::<RuleId>(), Ok(RuleId::MissingLevel));
    /// ```
    pub fn as_str(self) -> &'static str {
        crate::wire::name(&self)
    }
}

impl std::str::FromStr for RuleId {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        RuleId::ALL
            .into_iter()
            .chain([RuleId::Objection])
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown rule {s:?}"))
    }
}

/// How bad an anomaly is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing; the standard form is clear.
    Info,
    /// Needs a look.
    Warning,
    /// Wrong data.
    Error,
}

impl Severity {
    /// Every severity, mildest first.
    pub const ALL: [Severity; 3] = [Severity::Info, Severity::Warning, Severity::Error];

    /// Its name.
    pub fn as_str(self) -> &'static str {
        crate::wire::name(&self)
    }
}

/// One rule as the rules file gives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleConfig {
    /// Which rule.
    pub id: RuleId,
    /// What it checks, for people.
    pub description: String,
    /// The address level it looks at (`town`, `road`, `number`, `building`, `point`, `any`).
    pub level: String,
    /// How bad its anomalies are.
    pub severity: Severity,
    /// Whether it runs.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Its parameters (numbers, by name).
    #[serde(default)]
    pub parameters: BTreeMap<String, f64>,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
struct RulesFile {
    rule: Vec<RuleConfig>,
}

/// A set of rules, by id.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSet {
    rules: BTreeMap<RuleId, RuleConfig>,
}

impl RuleSet {
    /// The embedded default rules.
    ///
    /// # Examples
    /// ```
    /// use dizhi::fuse::{RuleId, RuleSet};
    /// let rules = RuleSet::default_rules();
    /// assert_eq!(rules.len(), RuleId::ALL.len());
    /// assert_eq!(rules.param(RuleId::Gcj02ShiftSuspected, "min_offset_m", 0.0), 100.0);
    /// ```
    pub fn default_rules() -> RuleSet {
        // The embedded file is checked by a unit test; an error here would be a build defect.
        RuleSet::from_toml(DEFAULT_RULES).unwrap_or_else(|_| RuleSet {
            rules: BTreeMap::new(),
        })
    }

    /// Rules from TOML text (`[[rule]]` tables).
    ///
    /// # Examples
    /// ```
    /// use dizhi::fuse::{RuleId, RuleSet, Severity};
    /// let rules = RuleSet::from_toml(r#"
    /// [[rule]]
    /// id = "missing_level"
    /// description = "no 街镇"
    /// level = "town"
    /// severity = "error"
    /// "#).unwrap();
    /// assert_eq!(rules.get(RuleId::MissingLevel).unwrap().severity, Severity::Error);
    /// assert!(rules.get(RuleId::UnknownRoad).is_none());
    /// assert!(RuleSet::from_toml("[[rule]]\nid = \"nope\"").is_err());
    /// ```
    pub fn from_toml(text: &str) -> Result<RuleSet> {
        let file: RulesFile = toml::from_str(text).map_err(|e| Error::Rules(e.to_string()))?;
        let mut rules = BTreeMap::new();
        for r in file.rule {
            if rules.insert(r.id, r.clone()).is_some() {
                return Err(Error::Rules(format!("rule {} given twice", r.id.as_str())));
            }
        }
        Ok(RuleSet { rules })
    }

    /// Rules from a TOML file.
    pub fn from_file(path: &std::path::Path) -> Result<RuleSet> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::file(path, e))?;
        RuleSet::from_toml(&text).map_err(|e| Error::file(path, e))
    }

    /// The rule, if it is in the set and enabled.
    pub fn get(&self, id: RuleId) -> Option<&RuleConfig> {
        self.rules.get(&id).filter(|r| r.enabled)
    }

    /// Whether the rule runs.
    pub fn on(&self, id: RuleId) -> bool {
        self.get(id).is_some()
    }

    /// A parameter of a rule, or `default`.
    pub fn param(&self, id: RuleId, name: &str, default: f64) -> f64 {
        self.rules
            .get(&id)
            .and_then(|r| r.parameters.get(name))
            .copied()
            .unwrap_or(default)
    }

    /// The severity of a rule's anomalies (`warning` for rules not in the set).
    pub fn severity(&self, id: RuleId) -> Severity {
        self.rules
            .get(&id)
            .map(|r| r.severity)
            .unwrap_or(Severity::Warning)
    }

    /// How many rules the set has (enabled or not).
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rules, by id.
    pub fn iter(&self) -> impl Iterator<Item = &RuleConfig> {
        self.rules.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_rules_parse_and_name_every_rule() {
        let rules = RuleSet::from_toml(DEFAULT_RULES).unwrap();
        for id in RuleId::ALL {
            assert!(
                rules.on(id),
                "{} missing from rules/default.toml",
                id.as_str()
            );
        }
    }
}
