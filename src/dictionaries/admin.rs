//! Admin divisions: Shanghai to 居/村委 (NBS 2021) and China levels 1–4 (NBS 2023).

use std::collections::HashMap;

use serde::Deserialize;

use super::DictionaryError;

/// A level of the Shanghai division list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdminLevel {
    /// 上海市.
    Province,
    /// 市辖区 (a statistical level with no name of its own in addresses).
    City,
    /// 区.
    District,
    /// 街道/镇 (and the 工业区 that count as towns).
    Town,
    /// 居委会/村委会.
    Community,
}

/// One Shanghai division with its 12-digit code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminDivision {
    /// 12-digit statistical code.
    pub code: String,
    /// The official name (`王仙村村委会`, `华新镇`).
    pub name: String,
    /// The name as used in addresses (`王仙村`, `东盛`); the same as `name` where there is none.
    pub short_name: String,
    /// Its level.
    pub level: AdminLevel,
    /// The code of the division it belongs to.
    pub parent_code: Option<String>,
}

/// A level of the China-wide list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChinaPlaceLevel {
    /// 省/直辖市/自治区.
    Province,
    /// 地级市/州/盟 (or 市辖区).
    City,
    /// 区/县/县级市.
    County,
    /// 街道/镇/乡.
    Town,
}

/// A place anywhere in China, levels 1–4, with the names of the places above it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChinaPlace {
    /// Its NBS code (2, 4, 6 or 9 digits).
    pub code: String,
    /// Its name.
    pub name: String,
    /// Its level.
    pub level: ChinaPlaceLevel,
    /// The province's code (first two digits).
    pub province_code: String,
}

/// Admin divisions indexed by code and by name.
#[derive(Debug, Clone)]
pub struct AdminIndex {
    divisions: Vec<AdminDivision>,
    by_code: HashMap<String, usize>,
    by_name: HashMap<String, Vec<usize>>,
    china: Vec<ChinaPlace>,
    china_by_code: HashMap<String, usize>,
    china_by_name: HashMap<String, Vec<usize>>,
}

#[derive(Deserialize)]
struct DivisionRow {
    code: String,
    name: String,
    level: u8,
    parent_code: String,
}

/// Strips the suffixes that community names carry in the statistical list but not in addresses.
fn community_short_name(name: &str) -> String {
    for suffix in ["社区居委会", "居委会", "村委会"] {
        if let Some(stem) = name.strip_suffix(suffix)
            && stem.chars().count() >= 2
        {
            return stem.to_string();
        }
    }
    name.to_string()
}

/// Strips 区 from a district name (青浦区 → 青浦, 浦东新区 → 浦东), as callers say it.
///
/// # Examples
/// ```
/// use dizhi::dictionaries::district_short_name;
/// assert_eq!(district_short_name("浦东新区"), "浦东");
/// assert_eq!(district_short_name("嘉定区"), "嘉定");
/// ```
pub fn district_short_name(name: &str) -> String {
    let stem = name
        .strip_suffix("新区")
        .or_else(|| name.strip_suffix('区'))
        .unwrap_or(name);
    if stem.chars().count() >= 2 {
        stem.to_string()
    } else {
        name.to_string()
    }
}

impl AdminIndex {
    /// The division lists embedded from `dictionaries/admin`.
    pub fn embedded() -> Result<Self, DictionaryError> {
        let shanghai = include_str!("../../dictionaries/admin/shanghai_divisions_2021_5level.csv");
        let mut divisions = Vec::new();
        let mut reader = csv::Reader::from_reader(shanghai.as_bytes());
        for (i, row) in reader.deserialize::<DivisionRow>().enumerate() {
            let row = row.map_err(|e| DictionaryError::Row {
                file: "admin/shanghai_divisions_2021_5level.csv",
                line: i as u64 + 2,
                reason: e.to_string(),
            })?;
            let level = match row.level {
                1 => AdminLevel::Province,
                2 => AdminLevel::City,
                3 => AdminLevel::District,
                4 => AdminLevel::Town,
                5 => AdminLevel::Community,
                other => {
                    return Err(DictionaryError::Row {
                        file: "admin/shanghai_divisions_2021_5level.csv",
                        line: i as u64 + 2,
                        reason: format!("unknown level {other}"),
                    });
                }
            };
            let short_name = match level {
                AdminLevel::Community => community_short_name(&row.name),
                AdminLevel::District => district_short_name(&row.name),
                _ => row.name.clone(),
            };
            divisions.push(AdminDivision {
                code: row.code,
                name: row.name,
                short_name,
                level,
                parent_code: (!row.parent_code.is_empty()).then_some(row.parent_code),
            });
        }
        let mut by_code = HashMap::new();
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, d) in divisions.iter().enumerate() {
            by_code.insert(d.code.clone(), i);
            by_name.entry(d.name.clone()).or_default().push(i);
            if d.short_name != d.name {
                by_name.entry(d.short_name.clone()).or_default().push(i);
            }
        }

        let china = china_places()?;
        let mut china_by_code = HashMap::new();
        let mut china_by_name: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, p) in china.iter().enumerate() {
            china_by_code.insert(p.code.clone(), i);
            china_by_name.entry(p.name.clone()).or_default().push(i);
        }
        Ok(AdminIndex {
            divisions,
            by_code,
            by_name,
            china,
            china_by_code,
            china_by_name,
        })
    }

    /// Every Shanghai division, in the list's order (parents before children).
    pub fn divisions(&self) -> impl Iterator<Item = &AdminDivision> {
        self.divisions.iter()
    }

    /// The Shanghai division with this 12-digit code.
    pub fn by_code(&self, code: &str) -> Option<&AdminDivision> {
        self.by_code.get(code).map(|&i| &self.divisions[i])
    }

    /// The Shanghai divisions whose name or short name is `name`.
    pub fn by_name<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a AdminDivision> + 'a {
        self.by_name
            .get(name)
            .into_iter()
            .flatten()
            .map(|&i| &self.divisions[i])
    }

    /// The divisions directly under `code`.
    pub fn children<'a>(&'a self, code: &'a str) -> impl Iterator<Item = &'a AdminDivision> + 'a {
        self.divisions
            .iter()
            .filter(move |d| d.parent_code.as_deref() == Some(code))
    }

    /// Every place in China, levels 1–4.
    pub fn china_places(&self) -> impl Iterator<Item = &ChinaPlace> {
        self.china.iter()
    }

    /// The places in China with this exact name (many 街道 share names).
    pub fn china_by_name<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a ChinaPlace> + 'a {
        self.china_by_name
            .get(name)
            .into_iter()
            .flatten()
            .map(|&i| &self.china[i])
    }

    /// The place in China with this NBS code.
    pub fn china_by_code(&self, code: &str) -> Option<&ChinaPlace> {
        self.china_by_code.get(code).map(|&i| &self.china[i])
    }
}

fn china_places() -> Result<Vec<ChinaPlace>, DictionaryError> {
    let files: [(&'static str, &str, ChinaPlaceLevel); 4] = [
        (
            "admin/china_2023/provinces.csv",
            include_str!("../../dictionaries/admin/china_2023/provinces.csv"),
            ChinaPlaceLevel::Province,
        ),
        (
            "admin/china_2023/cities.csv",
            include_str!("../../dictionaries/admin/china_2023/cities.csv"),
            ChinaPlaceLevel::City,
        ),
        (
            "admin/china_2023/areas.csv",
            include_str!("../../dictionaries/admin/china_2023/areas.csv"),
            ChinaPlaceLevel::County,
        ),
        (
            "admin/china_2023/streets.csv",
            include_str!("../../dictionaries/admin/china_2023/streets.csv"),
            ChinaPlaceLevel::Town,
        ),
    ];
    let mut out = Vec::new();
    for (file, text, level) in files {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        for (i, record) in reader.records().enumerate() {
            let record = record.map_err(|e| DictionaryError::Row {
                file,
                line: i as u64 + 2,
                reason: e.to_string(),
            })?;
            let (Some(code), Some(name)) = (record.get(0), record.get(1)) else {
                return Err(DictionaryError::Row {
                    file,
                    line: i as u64 + 2,
                    reason: "expected code,name".into(),
                });
            };
            out.push(ChinaPlace {
                code: code.to_string(),
                name: name.to_string(),
                level,
                province_code: code.get(..2).unwrap_or(code).to_string(),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qingpu_counts_match_the_statistical_list() {
        let admin = AdminIndex::embedded().unwrap();
        let qingpu = super::super::Coverage::parse(&admin, "青浦区").unwrap();
        assert_eq!(qingpu.towns().count(), 11);
        assert_eq!(qingpu.communities().count(), 330);
        let huaxin: Vec<_> = admin.by_name("华新镇").collect();
        assert_eq!(huaxin.len(), 1);
        assert_eq!(huaxin[0].code, "310118107000");
    }

    #[test]
    fn short_names_match_the_qingpu_list() {
        // The Qingpu extract carries the short names the statistical list lacks; ours must agree.
        let admin = AdminIndex::embedded().unwrap();
        let qingpu = include_str!("../../dictionaries/admin/qingpu_310118_divisions_2021.csv");
        for line in qingpu.lines().skip(1) {
            let cols: Vec<&str> = line.split(',').collect();
            if cols[2] == "5" {
                assert_eq!(
                    admin.by_code(cols[0]).unwrap().short_name,
                    cols[4],
                    "{line}"
                );
            }
        }
    }

    #[test]
    fn china_places_cover_every_level() {
        let admin = AdminIndex::embedded().unwrap();
        assert_eq!(admin.china_by_code("31").unwrap().name, "上海市");
        assert!(admin.china_by_name("朝阳区").count() >= 2);
        assert!(
            admin
                .china_by_name("东华门街道")
                .any(|p| p.level == ChinaPlaceLevel::Town)
        );
    }
}
