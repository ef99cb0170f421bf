//! The address model: levels, parsed components, standard addresses and buildings.

use std::str::FromStr;

use geo::{Point, Polygon};
use serde::{Deserialize, Serialize};

pub use crate::level::{Level, UnknownLevel};

/// One parsed part of an input address.
///
/// `start` and `end` are character (Unicode scalar) offsets into the caller's original input, so
/// `input.chars().skip(start).take(end - start)` is exactly `text`.
///
/// # Examples
/// ```
/// use dizhi::{Component, Level};
/// let c = Component::new(Level::Lane, "一二八八弄", "1288", 3, 8);
/// assert_eq!(c.span_text("华腾路一二八八弄3号"), "一二八八弄");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Component {
    /// The level this part stands for.
    pub level: Level,
    /// The text as written in the input.
    pub text: String,
    /// The normalized value: digits for numbered levels (`1288`), the standard name for named ones.
    pub value: String,
    /// First character of the span (inclusive).
    pub start: usize,
    /// Character after the span (exclusive).
    pub end: usize,
    /// How sure the parser is, in [0, 1].
    pub confidence: f32,
}

impl Component {
    /// A component with full confidence.
    pub fn new(level: Level, text: &str, value: &str, start: usize, end: usize) -> Self {
        Component {
            level,
            text: text.to_string(),
            value: value.to_string(),
            start,
            end,
            confidence: 1.0,
        }
    }

    /// Whether the name is said by its stem, the suffix left off (太平 for 太平区, 金泽 for 金泽镇).
    pub(crate) fn said_by_stem(&self) -> bool {
        self.text != self.value && self.value.starts_with(self.text.as_str())
    }

    /// The part of `input` this component's span covers.
    pub fn span_text(&self, input: &str) -> String {
        input
            .chars()
            .skip(self.start)
            .take(self.end.saturating_sub(self.start))
            .collect()
    }
}

/// A 街镇 or 居/村委 with its 12-digit statistical code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct AdminRef {
    /// 12-digit statistical code, e.g. `310118107000`.
    pub code: String,
    /// Its name as in the statistical list, e.g. `华新镇`.
    pub name: String,
}

/// What kind of place a standard address is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddressKind {
    /// A building of a residential compound (小区): road + 弄 + 号.
    Residential,
    /// A door on a street (临街门牌): road + 号, usually a shop.
    Street,
    /// A village house: 村 + 组 + 号.
    Village,
    /// An enterprise in an industrial park: road + 号 (+ 幢).
    Industrial,
    /// A school, hospital or public building.
    Public,
}

impl AddressKind {
    /// Every kind.
    pub const ALL: [AddressKind; 5] = [
        AddressKind::Residential,
        AddressKind::Street,
        AddressKind::Village,
        AddressKind::Industrial,
        AddressKind::Public,
    ];

    /// The kind's name in CSV and JSON.
    pub fn as_str(self) -> &'static str {
        crate::wire::name(&self)
    }
}

impl FromStr for AddressKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AddressKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown address kind {s:?}"))
    }
}

/// Whether a standard address is in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AddressStatus {
    /// In use.
    #[default]
    Current,
    /// Proposed by fusion, not yet confirmed by a steward.
    Proposed,
    /// No longer in use (kept for history and old references).
    Retired,
}

impl AddressStatus {
    /// Every status.
    pub const ALL: [AddressStatus; 3] = [
        AddressStatus::Current,
        AddressStatus::Proposed,
        AddressStatus::Retired,
    ];

    /// The status's name in the store and JSON.
    pub fn as_str(self) -> &'static str {
        crate::wire::name(&self)
    }
}

impl FromStr for AddressStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        crate::wire::parse(s).ok_or_else(|| format!("unknown address status {s:?}"))
    }
}

/// A standard address (标准地名地址): one path of levels with a stable id.
///
/// Numbered levels hold their values without markers (`lane = "1288"`, `number = "3"`,
/// `building = "5"`); [`StandardAddress::canonical_text`] puts the markers back in one spelling.
///
/// # Examples
/// ```
/// use dizhi::{AddressKind, AdminRef, StandardAddress};
/// let mut a = StandardAddress::new("A000000001", AddressKind::Residential);
/// a.district = "青浦区".into();
/// a.town = AdminRef { code: "310118107000".into(), name: "华新镇".into() };
/// a.road = Some("华腾路".into());
/// a.lane = Some("1288".into());
/// a.number = Some("3".into());
/// assert_eq!(a.canonical_text(), "青浦区华新镇华腾路1288弄3号");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StandardAddress {
    /// Stable id.
    pub id: String,
    /// 区, e.g. `嘉定区`; empty where the data does not say.
    pub district: String,
    /// The responsible 街镇.
    pub town: AdminRef,
    /// The responsible 居/村委.
    pub community: AdminRef,
    /// 道路.
    pub road: Option<String>,
    /// 弄 value.
    pub lane: Option<String>,
    /// 号 value.
    pub number: Option<String>,
    /// 组 value (villages).
    pub group: Option<String>,
    /// 小区/园区/单位 name.
    pub poi: Option<String>,
    /// 幢 value.
    pub building: Option<String>,
    /// What kind of place it is.
    pub kind: AddressKind,
    /// The building it belongs to.
    pub building_id: Option<String>,
    /// The address point (WGS84 lon/lat), inside its building's footprint.
    pub point: Option<Point<f64>>,
    /// Address tags (地址标签): 工业园区, 学校, 重点单位 …
    pub tags: Vec<String>,
    /// In use, proposed or retired.
    pub status: AddressStatus,
}

impl StandardAddress {
    /// An address with nothing set: its district, like the rest, is the data's to say.
    pub fn new(id: &str, kind: AddressKind) -> Self {
        StandardAddress {
            id: id.to_string(),
            district: String::new(),
            town: AdminRef::default(),
            community: AdminRef::default(),
            road: None,
            lane: None,
            number: None,
            group: None,
            poi: None,
            building: None,
            kind,
            building_id: None,
            point: None,
            tags: Vec::new(),
            status: AddressStatus::Current,
        }
    }

    /// The levels this address has, in path order, with their values.
    ///
    /// The community is a level of village addresses only: a road address names its road, not the
    /// 居委 that serves it (that is kept in [`StandardAddress::community`] for routing).
    pub fn levels(&self) -> Vec<(Level, &str)> {
        self.text_parts().levels().collect()
    }

    /// The canonical full text: levels in order, one spelling per marker, no province prefix.
    pub fn canonical_text(&self) -> String {
        self.text_parts().canonical_text()
    }

    fn text_parts(&self) -> TextParts<'_> {
        TextParts {
            district: &self.district,
            town: &self.town.name,
            community: &self.community.name,
            group: self.group.as_deref(),
            road: self.road.as_deref(),
            lane: self.lane.as_deref(),
            number: self.number.as_deref(),
            building: self.building.as_deref(),
        }
    }
}

/// The values an address's text is made of, borrowed — from a [`StandardAddress`] or straight
/// from a stored row, so that a reader that wants only the text need not build the address.
///
/// # Examples
/// ```
/// use dizhi::address::TextParts;
/// let parts = TextParts { district: "青浦区", town: "华新镇", road: Some("华腾路"),
///     lane: Some("1288"), number: Some("3"), ..TextParts::default() };
/// assert_eq!(parts.canonical_text(), "青浦区华新镇华腾路1288弄3号");
/// let village = TextParts { district: "青浦区", town: "练塘镇", community: "东厍村村委会",
///     group: Some("5"), number: Some("12"), ..TextParts::default() };
/// assert_eq!(village.canonical_text(), "青浦区练塘镇东厍村5组12号");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TextParts<'a> {
    pub district: &'a str,
    pub town: &'a str,
    /// The 居/村委's name as registered (its title is dropped in the text).
    pub community: &'a str,
    pub group: Option<&'a str>,
    pub road: Option<&'a str>,
    pub lane: Option<&'a str>,
    pub number: Option<&'a str>,
    pub building: Option<&'a str>,
}

impl<'a> TextParts<'a> {
    /// The levels in path order, with their values: see [`StandardAddress::levels`].
    pub fn levels(self) -> impl Iterator<Item = (Level, &'a str)> {
        let named = [
            (Level::District, Some(self.district)),
            (Level::Town, Some(self.town)),
            (
                Level::Community,
                self.road
                    .is_none()
                    .then(|| community_address_name(self.community)),
            ),
        ];
        let optional = [
            (Level::Group, self.group),
            (Level::Road, self.road),
            (Level::Lane, self.lane),
            (Level::Number, self.number),
            (Level::Building, self.building),
        ];
        named
            .into_iter()
            .filter(|(_, v)| v.is_some_and(|v| !v.is_empty()))
            .chain(optional)
            .filter_map(|(level, v)| v.map(|v| (level, v)))
    }

    /// The canonical full text: see [`StandardAddress::canonical_text`].
    pub fn canonical_text(self) -> String {
        let mut out = String::new();
        for (level, value) in self.levels() {
            out.push_str(value);
            out.push_str(canonical_marker(level));
        }
        out
    }
}

/// The name a 居/村委 goes by in an address: `东厍村村委会` → `东厍村`, `东盛社区居委会` → `东盛社区`.
///
/// # Examples
/// ```
/// use dizhi::address::community_address_name;
/// assert_eq!(community_address_name("东厍村村委会"), "东厍村");
/// assert_eq!(community_address_name("杜村村委会"), "杜村");
/// assert_eq!(community_address_name("东盛社区居委会"), "东盛社区");
/// assert_eq!(community_address_name("王仙村"), "王仙村");
/// // The committee's full and short titles too.
/// assert_eq!(community_address_name("沈泾塘村村民委员会"), "沈泾塘村");
/// assert_eq!(community_address_name("沈泾塘村民委员会"), "沈泾塘村");
/// assert_eq!(community_address_name("东盛社区居民委员会"), "东盛社区");
/// assert_eq!(community_address_name("东厍村村委"), "东厍村");
/// assert_eq!(community_address_name("东厍村委"), "东厍村");
/// assert_eq!(community_address_name("东盛居委"), "东盛");
/// ```
pub fn community_address_name(name: &str) -> &str {
    // 沈泾塘村村民委员会 and 沈泾塘村民委员会 (村 said once) are both 沈泾塘村.
    if let Some(stem) = name.strip_suffix("民委员会").filter(|s| s.ends_with('村')) {
        return stem
            .strip_suffix('村')
            .filter(|s| s.ends_with('村'))
            .unwrap_or(stem);
    }
    name.strip_suffix("居民委员会")
        .or_else(|| {
            name.strip_suffix("村委会")
                .filter(|stem| stem.ends_with('村'))
        })
        .or_else(|| name.strip_suffix("居委会"))
        .or_else(|| name.strip_suffix("委会"))
        .or_else(|| {
            name.strip_suffix("村委")
                .filter(|stem| stem.ends_with('村'))
        })
        .or_else(|| name.strip_suffix('委').filter(|stem| stem.ends_with('村')))
        .or_else(|| name.strip_suffix("居委"))
        .unwrap_or(name)
}

/// The one spelling of a level's marker in a standard address (`弄`, `号`, `幢`, …); empty for
/// named levels, whose names carry their own suffix.
///
/// # Examples
/// ```
/// use dizhi::{canonical_marker, Level};
/// assert_eq!(canonical_marker(Level::Building), "幢");
/// assert_eq!(canonical_marker(Level::Road), "");
/// ```
pub fn canonical_marker(level: Level) -> &'static str {
    match level {
        Level::Group => "组",
        Level::Lane => "弄",
        Level::Number => "号",
        Level::Building => "幢",
        Level::Unit => "单元",
        Level::Floor => "层",
        Level::Room => "室",
        _ => "",
    }
}

/// What kind of building a footprint is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuildingKind {
    /// A residential slab or tower in a compound (6–33 floors).
    Residential,
    /// A low village house.
    VillageHouse,
    /// A shop or mixed building on a street.
    Shop,
    /// A factory or warehouse.
    Factory,
    /// An office building in a park.
    Office,
    /// A school.
    School,
    /// A hospital, government or other public building.
    Public,
}

impl BuildingKind {
    /// Every kind.
    pub const ALL: [BuildingKind; 7] = [
        BuildingKind::Residential,
        BuildingKind::VillageHouse,
        BuildingKind::Shop,
        BuildingKind::Factory,
        BuildingKind::Office,
        BuildingKind::School,
        BuildingKind::Public,
    ];

    /// The kind's name in GeoJSON properties, CSV and JSON.
    pub fn as_str(self) -> &'static str {
        crate::wire::name(&self)
    }
}

impl FromStr for BuildingKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BuildingKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown building kind {s:?}"))
    }
}

/// A building footprint (建筑物面) with a stable id.
#[derive(Debug, Clone, PartialEq)]
pub struct Building {
    /// Stable id.
    pub id: String,
    /// The footprint in WGS84 lon/lat.
    pub footprint: Polygon<f64>,
    /// What kind of building it is.
    pub kind: BuildingKind,
    /// Floors above ground.
    pub floors: u16,
    /// Tags (重点单位 …).
    pub tags: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_names_round_trip() {
        for level in Level::ALL {
            assert_eq!(level.as_str().parse::<Level>(), Ok(level));
            let json = serde_json::to_string(&level).unwrap();
            assert_eq!(json, format!("\"{}\"", level.as_str()));
        }
        assert!("弄".parse::<Level>().is_err());
    }

    #[test]
    fn levels_are_in_path_order() {
        let mut sorted = Level::ALL;
        sorted.sort();
        assert_eq!(sorted, Level::ALL);
    }

    #[test]
    fn village_address_names_its_community_and_group() {
        let mut a = StandardAddress::new("A1", AddressKind::Village);
        a.district = "青浦区".into();
        a.town = AdminRef {
            code: "310118103000".into(),
            name: "练塘镇".into(),
        };
        a.community = AdminRef {
            code: "310118103025".into(),
            name: "东厍村村委会".into(),
        };
        a.group = Some("3".into());
        a.number = Some("12".into());
        assert_eq!(a.canonical_text(), "青浦区练塘镇东厍村3组12号");
    }

    #[test]
    fn kinds_round_trip() {
        for k in AddressKind::ALL {
            assert_eq!(k.as_str().parse::<AddressKind>(), Ok(k));
        }
        for k in BuildingKind::ALL {
            assert_eq!(k.as_str().parse::<BuildingKind>(), Ok(k));
        }
    }
}
