//! `registers.toml`: what a district's departments handed over and how to read each file — the
//! config an address steward writes for their own registers (see the README's "Building from
//! registers" for a complete example). Paths are relative to the file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::crs::SourceCrs;
use crate::fuse::{Error, Result};

/// The whole config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistersConfig {
    /// The divisions the library covers.
    pub district: DistrictSection,
    /// How addresses are linked to footprints.
    #[serde(default)]
    pub link: LinkSection,
    /// Address registers (公安门牌, 12345 work orders …).
    #[serde(default)]
    pub addresses: Vec<AddressRegister>,
    /// Place-name registers (民政地名).
    #[serde(default)]
    pub names: Vec<NameRegister>,
    /// Footprint layers (规划资源).
    #[serde(default)]
    pub footprints: Vec<FootprintLayer>,
    /// 街镇 and 居/村委 boundary layers.
    #[serde(default)]
    pub boundaries: Vec<BoundaryLayer>,
    /// Road centre lines.
    #[serde(default)]
    pub roads: Vec<RoadLayer>,
    /// The directory paths are relative to (the config file's).
    #[serde(skip)]
    pub base: PathBuf,
}

/// `[district]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistrictSection {
    /// 区 codes (6 or 12 digits) or names.
    pub divisions: Vec<String>,
}

/// `[link]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSection {
    /// A point in no footprint links to the nearest one within this many metres.
    #[serde(default = "default_max_distance")]
    pub max_distance_m: f64,
}

fn default_max_distance() -> f64 {
    40.0
}

impl Default for LinkSection {
    fn default() -> Self {
        LinkSection {
            max_distance_m: default_max_distance(),
        }
    }
}

/// How much a register's word counts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Trust {
    /// An authority's register (公安门牌, 不动产): enough on its own to make an address.
    #[default]
    Register,
    /// Work orders and other free text from the public: an address seen only there is proposed.
    WorkOrders,
}

/// One `[[addresses]]` register.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressRegister {
    /// Its name in provenance and review.
    pub name: String,
    /// The department that keeps it.
    #[serde(default)]
    pub department: String,
    /// The file (CSV, TSV, XLSX, or a GeoJSON layer whose geometry gives the point).
    pub path: PathBuf,
    /// How much its word counts for.
    #[serde(default)]
    pub trust: Trust,
    /// `utf-8`, `gbk` or `gb18030`; detected when not given.
    pub encoding: Option<String>,
    /// The record id column.
    pub id: String,
    /// A free-text address column.
    pub address: Option<String>,
    /// Split columns by level (town, community, road, lane, number, building, group, room, poi).
    #[serde(default)]
    pub parts: BTreeMap<String, String>,
    /// The point's x (longitude or easting) column.
    pub x: Option<String>,
    /// The point's y (latitude or northing) column.
    pub y: Option<String>,
    /// The point columns' coordinate system (wgs84, cgcs2000, gcj02, bd09, EPSG:NNNN).
    pub crs: Option<String>,
}

/// One `[[names]]` register.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameRegister {
    /// Its name in provenance.
    pub name: String,
    /// The department that keeps it.
    #[serde(default)]
    pub department: String,
    /// The file (CSV/TSV/XLSX).
    pub path: PathBuf,
    /// `utf-8`, `gbk` or `gb18030`; detected when not given.
    pub encoding: Option<String>,
    /// The record id column.
    pub id: Option<String>,
    /// The standard name column.
    pub name_column: String,
    /// The category column (道路, 小区, 单位, 村 …).
    pub category: Option<String>,
    /// The 街镇 column.
    pub town: Option<String>,
}

/// One `[[footprints]]` layer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FootprintLayer {
    /// Its name in provenance.
    #[serde(default = "default_footprints_name")]
    pub name: String,
    /// The department that keeps it.
    #[serde(default)]
    pub department: String,
    /// The file (Shapefile, GeoPackage, GeoJSON).
    pub path: PathBuf,
    /// A GeoPackage layer.
    pub layer: Option<String>,
    /// Overrides the file's own coordinate system.
    pub crs: Option<String>,
    /// The building id attribute.
    pub id: String,
    /// The floors attribute.
    pub floors: Option<String>,
    /// The kind attribute (住宅, 商业 … or the English names).
    pub kind: Option<String>,
}

fn default_footprints_name() -> String {
    "footprints".to_string()
}

/// Which division a boundary layer draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BoundaryLevel {
    /// 街镇.
    Town,
    /// 居/村委.
    Community,
}

/// One `[[boundaries]]` layer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoundaryLayer {
    /// The file (GeoPackage, Shapefile, GeoJSON).
    pub path: PathBuf,
    /// A GeoPackage layer.
    pub layer: Option<String>,
    /// Overrides the file's own coordinate system.
    pub crs: Option<String>,
    /// 街镇 or 居/村委.
    pub level: BoundaryLevel,
    /// The 12-digit code attribute.
    pub code: String,
    /// The name attribute.
    pub name: Option<String>,
}

/// One `[[roads]]` layer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoadLayer {
    /// The file (GeoJSON, GeoPackage, Shapefile).
    pub path: PathBuf,
    /// The road name attribute.
    pub name: String,
}

/// The levels `parts` may name, in the order they are joined, with the marker each value gets
/// when it has none (`15` in a 弄号 column is `15弄`).
pub const PART_LEVELS: [(&str, &str); 9] = [
    ("town", ""),
    ("community", ""),
    ("road", ""),
    ("lane", "弄"),
    ("group", "组"),
    ("number", "号"),
    ("poi", ""),
    ("building", "幢"),
    ("room", "室"),
];

impl RegistersConfig {
    /// Reads and checks a config file.
    ///
    /// # Examples
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let path = dir.path().join("registers.toml");
    /// std::fs::write(&path, r#"
    /// [district]
    /// divisions = ["310118"]
    /// [[addresses]]
    /// name = "menpai"
    /// path = "menpai.csv"
    /// id = "编号"
    /// address = "地址"
    /// "#).unwrap();
    /// let c = dizhi::fuse::registers::RegistersConfig::load(&path).unwrap();
    /// assert_eq!(c.addresses[0].path, dir.path().join("menpai.csv"));
    /// let bad = dir.path().join("bad.toml");
    /// std::fs::write(&bad, "[district]\ndivisions = []\n[[addresses]]\nname = \"a\"\npath = \"a.csv\"\nid = \"id\"\n").unwrap();
    /// let e = dizhi::fuse::registers::RegistersConfig::load(&bad).unwrap_err().to_string();
    /// assert!(e.contains("divisions"), "{e}");
    /// ```
    pub fn load(path: &Path) -> Result<RegistersConfig> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::file(path, e))?;
        let mut config: RegistersConfig = toml::from_str(&text)
            .map_err(|e| Error::file(path, format!("not a registers config: {e}")))?;
        config.base = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        config.resolve_paths();
        config.check().map_err(|m| Error::file(path, m))?;
        Ok(config)
    }

    fn resolve_paths(&mut self) {
        let base = self.base.clone();
        let at = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        self.addresses.iter_mut().for_each(|r| at(&mut r.path));
        self.names.iter_mut().for_each(|r| at(&mut r.path));
        self.footprints.iter_mut().for_each(|r| at(&mut r.path));
        self.boundaries.iter_mut().for_each(|r| at(&mut r.path));
        self.roads.iter_mut().for_each(|r| at(&mut r.path));
    }

    /// What is wrong with the config as a whole, before any file is read.
    fn check(&self) -> std::result::Result<(), String> {
        if self.district.divisions.is_empty() {
            return Err("[district] divisions is empty: name the 区 the registers cover".into());
        }
        if self.addresses.is_empty() {
            return Err("no [[addresses]] register".into());
        }
        if !(self.link.max_distance_m.is_finite() && self.link.max_distance_m >= 0.0) {
            return Err("[link] max_distance_m must be a distance in metres".into());
        }
        let mut names = std::collections::HashSet::new();
        for r in &self.addresses {
            if !names.insert(r.name.as_str()) {
                return Err(format!("two registers are named {:?}", r.name));
            }
            if r.address.is_none() && r.parts.is_empty() {
                return Err(format!(
                    "register {:?}: give an address column or parts",
                    r.name
                ));
            }
            if let Some(level) = r
                .parts
                .keys()
                .find(|k| !PART_LEVELS.iter().any(|(l, _)| l == k))
            {
                return Err(format!(
                    "register {:?}: unknown part {level:?} (expected one of {})",
                    r.name,
                    PART_LEVELS.map(|(l, _)| l).join(", ")
                ));
            }
            if r.x.is_some() != r.y.is_some() {
                return Err(format!("register {:?}: give both x and y", r.name));
            }
            if let Some(crs) = &r.crs {
                crs.parse::<SourceCrs>()
                    .map_err(|e| format!("register {:?}: crs: {e}", r.name))?;
            }
            if let Some(e) = &r.encoding {
                encoding_of(e).map_err(|m| format!("register {:?}: {m}", r.name))?;
            }
        }
        for f in &self.footprints {
            if let Some(crs) = &f.crs {
                crs.parse::<SourceCrs>()
                    .map_err(|e| format!("footprints {:?}: crs: {e}", f.path))?;
            }
        }
        Ok(())
    }
}

/// The batch reader's encoding for a config's name of one.
pub(crate) fn encoding_of(name: &str) -> std::result::Result<crate::batch::Encoding, String> {
    match name.trim().to_ascii_lowercase().replace('_', "-").as_str() {
        "utf-8" | "utf8" => Ok(crate::batch::Encoding::Utf8),
        "gbk" | "gb2312" | "gb18030" | "cp936" => Ok(crate::batch::Encoding::Gb18030),
        other => Err(format!(
            "unknown encoding {other:?} (utf-8, gbk or gb18030)"
        )),
    }
}
