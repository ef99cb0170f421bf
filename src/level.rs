//! The levels of a Chinese address, in path order, and their wire names.
//!
//! Its own module because the dictionaries (which know which marker names which level) and the
//! address model (which parses text into levelled components) both rest on it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A level of a Chinese address, in path order (province first, room last).
///
/// The names are the ones every interface uses (see the contracts): `lane` is 弄, `number` is 号,
/// `group` is a village's 组, `building` is 幢 (号楼/栋/座/#), `community` is a 居委/村委.
///
/// # Examples
/// ```
/// use dizhi::Level;
/// assert_eq!("lane".parse::<Level>(), Ok(Level::Lane));
/// assert_eq!(Level::Building.as_str(), "building");
/// assert!(Level::Road < Level::Lane);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// 省 or 直辖市 (上海市).
    Province,
    /// 地级市.
    City,
    /// 区/县.
    District,
    /// 开发区/工业园区.
    Devzone,
    /// 街道/镇/乡.
    Town,
    /// 居委会/村委会 (社区, 自然村).
    Community,
    /// 村民小组 (组).
    Group,
    /// 道路.
    Road,
    /// 支路 (a road branching off a road).
    Subroad,
    /// 弄.
    Lane,
    /// 号 (door number).
    Number,
    /// 小区/园区/单位 name.
    Poi,
    /// A named part of a POI (一期, 东区).
    Subpoi,
    /// 幢/栋/号楼/座.
    Building,
    /// 单元.
    Unit,
    /// 层/楼.
    Floor,
    /// 室/户.
    Room,
}

impl Level {
    /// Every level, in path order.
    pub const ALL: [Level; 17] = [
        Level::Province,
        Level::City,
        Level::District,
        Level::Devzone,
        Level::Town,
        Level::Community,
        Level::Group,
        Level::Road,
        Level::Subroad,
        Level::Lane,
        Level::Number,
        Level::Poi,
        Level::Subpoi,
        Level::Building,
        Level::Unit,
        Level::Floor,
        Level::Room,
    ];

    /// The level's name as used in JSON, CSV and the CLI.
    pub fn as_str(self) -> &'static str {
        crate::wire::name(&self)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name given to [`Level::from_str`] is not a level.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown level {0:?}")]
pub struct UnknownLevel(pub String);

impl FromStr for Level {
    type Err = UnknownLevel;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Level::ALL
            .into_iter()
            .find(|level| level.as_str() == s)
            .ok_or_else(|| UnknownLevel(s.to_string()))
    }
}
