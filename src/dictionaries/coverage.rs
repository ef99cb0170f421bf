//! The divisions a data directory covers: one 区, several, or the whole city. `dizhi build`
//! records them in the store (`meta.divisions`) and the search index carries them; the parser,
//! the matcher, fusion, batch notes, the API and the page take "inside" and "outside" from here.

use super::admin::{AdminDivision, AdminIndex, AdminLevel};

/// The 12-digit code of the district the bundled demo data covers (see [`crate::setup::BUNDLED`]),
/// the coverage of a data directory built before divisions were recorded, and `dizhi synth`'s
/// default.
pub const DEMO_DISTRICT: &str = "310118000000";

/// The `meta` key (and index payload field) of the covered districts: their 12-digit codes,
/// comma-separated.
pub const META_KEY: &str = "divisions";

/// The Shanghai districts a data directory covers, with their 街镇 and 居/村委.
///
/// # Examples
/// ```
/// use dizhi::dictionaries::Coverage;
/// let dicts = dizhi::Dictionaries::embedded().unwrap();
/// let jd = Coverage::parse(&dicts.admin, "嘉定").unwrap();
/// assert_eq!(jd.codes(), ["310114000000"]);
/// assert_eq!(jd.label(), "嘉定区");
/// assert!(jd.contains("310114102000"));
/// assert!(jd.contains("310114"), "a county code of the China list");
/// assert!(!jd.contains("310118107000"));
/// assert!(jd.towns().all(|t| t.code.starts_with("310114")));
/// assert_eq!(Coverage::whole_city(&dicts.admin).label(), "上海市");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Coverage {
    districts: Vec<AdminDivision>,
    towns: Vec<AdminDivision>,
    communities: Vec<AdminDivision>,
    /// All 16 districts.
    whole_city: bool,
}

/// A district named that the division list does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown Shanghai district {0:?} (a name like 嘉定区 or 嘉定, or a code like 310114)")]
pub struct UnknownDistrict(pub String);

impl Coverage {
    /// The districts with these 12-digit (or 6-digit) codes, in code order; unknown codes are an
    /// error.
    pub fn new<S: AsRef<str>>(
        admin: &AdminIndex,
        codes: &[S],
    ) -> Result<Coverage, UnknownDistrict> {
        let mut districts: Vec<AdminDivision> = Vec::new();
        for code in codes {
            let d = district_by_code(admin, code.as_ref())
                .ok_or_else(|| UnknownDistrict(code.as_ref().to_string()))?;
            if !districts.iter().any(|x| x.code == d.code) {
                districts.push(d.clone());
            }
        }
        districts.sort_by(|a, b| a.code.cmp(&b.code));
        let prefixes: Vec<&str> = districts.iter().map(|d| &d.code[..6]).collect();
        let under = |d: &&AdminDivision| prefixes.iter().any(|p| d.code.starts_with(p));
        let towns = admin
            .divisions()
            .filter(|d| d.level == AdminLevel::Town)
            .filter(under)
            .cloned()
            .collect();
        let communities = admin
            .divisions()
            .filter(|d| d.level == AdminLevel::Community)
            .filter(under)
            .cloned()
            .collect();
        let all = admin
            .divisions()
            .filter(|d| d.level == AdminLevel::District)
            .count();
        Ok(Coverage {
            whole_city: districts.len() == all,
            districts,
            towns,
            communities,
        })
    }

    /// One district or several, by name (嘉定区, 嘉定) or code (310114, 310114000000), separated
    /// by commas; `上海市` (or `上海`, `all`) for the whole city.
    pub fn parse(admin: &AdminIndex, spec: &str) -> Result<Coverage, UnknownDistrict> {
        let spec = spec.trim();
        if matches!(spec, "上海市" | "上海" | "all" | "310000000000" | "31") {
            return Ok(Coverage::whole_city(admin));
        }
        let mut codes = Vec::new();
        for part in spec
            .split([',', '，', '、'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let d = district_by_code(admin, part)
                .or_else(|| {
                    admin
                        .by_name(part)
                        .find(|d| d.level == AdminLevel::District)
                })
                .ok_or_else(|| UnknownDistrict(part.to_string()))?;
            codes.push(d.code.clone());
        }
        if codes.is_empty() {
            return Err(UnknownDistrict(spec.to_string()));
        }
        Coverage::new(admin, &codes)
    }

    /// Every district of the city.
    pub fn whole_city(admin: &AdminIndex) -> Coverage {
        let codes: Vec<String> = admin
            .divisions()
            .filter(|d| d.level == AdminLevel::District)
            .map(|d| d.code.clone())
            .collect();
        Coverage::new(admin, &codes).expect("the list's own codes")
    }

    /// The bundled demo's district ([`DEMO_DISTRICT`]).
    pub fn demo(admin: &AdminIndex) -> Coverage {
        Coverage::new(admin, &[DEMO_DISTRICT]).expect("the demo district is in the list")
    }

    /// The coverage recorded as `value` (comma-separated codes, [`Coverage::to_meta`]).
    pub fn from_meta(admin: &AdminIndex, value: &str) -> Result<Coverage, UnknownDistrict> {
        let codes: Vec<&str> = value
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        if codes.is_empty() {
            return Err(UnknownDistrict(value.to_string()));
        }
        Coverage::new(admin, &codes)
    }

    /// The value recorded in `meta.divisions`: the codes, comma-separated.
    pub fn to_meta(&self) -> String {
        self.codes().join(",")
    }

    /// The 12-digit codes of the covered districts, in code order.
    pub fn codes(&self) -> Vec<String> {
        self.districts.iter().map(|d| d.code.clone()).collect()
    }

    /// The covered districts.
    pub fn districts(&self) -> &[AdminDivision] {
        &self.districts
    }

    /// Whether the whole city is covered.
    pub fn is_whole_city(&self) -> bool {
        self.whole_city
    }

    /// How the covered area is named: 嘉定区, 嘉定区、青浦区, or 上海市 for the whole city.
    pub fn label(&self) -> String {
        if self.whole_city {
            return "上海市".to_string();
        }
        self.districts
            .iter()
            .map(|d| d.name.as_str())
            .collect::<Vec<_>>()
            .join("、")
    }

    /// Whether the division with this code lies inside the covered districts: a 12-digit code of
    /// the Shanghai list, or a 6- or 9-digit county or town code of the China list. Codes above
    /// a district (上海市) are not inside.
    pub fn contains(&self, code: &str) -> bool {
        code.len() >= 6
            && self
                .districts
                .iter()
                .any(|d| code.starts_with(&d.code[..6]))
    }

    /// The covered district a code lies in.
    pub fn district_of(&self, code: &str) -> Option<&AdminDivision> {
        (code.len() >= 6)
            .then(|| {
                self.districts
                    .iter()
                    .find(|d| code.starts_with(&d.code[..6]))
            })
            .flatten()
    }

    /// The 街镇 of the covered districts, in list order.
    pub fn towns(&self) -> impl Iterator<Item = &AdminDivision> {
        self.towns.iter()
    }

    /// The 居/村委 of the covered districts, in list order.
    pub fn communities(&self) -> impl Iterator<Item = &AdminDivision> {
        self.communities.iter()
    }
}

/// The district of a 12- or 6-digit district code.
fn district_by_code<'a>(admin: &'a AdminIndex, code: &str) -> Option<&'a AdminDivision> {
    let full = match code.len() {
        6 if code.bytes().all(|b| b.is_ascii_digit()) => format!("{code}000000"),
        _ => code.to_string(),
    };
    admin
        .by_code(&full)
        .filter(|d| d.level == AdminLevel::District)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_district_has_its_towns_and_communities() {
        let admin = AdminIndex::embedded().unwrap();
        let demo = Coverage::demo(&admin);
        assert_eq!(demo.towns().count(), 11);
        assert_eq!(demo.communities().count(), 330);
        assert_eq!(Coverage::from_meta(&admin, &demo.to_meta()).unwrap(), demo);
    }

    #[test]
    fn several_districts_by_name_and_code() {
        let admin = AdminIndex::embedded().unwrap();
        let c = Coverage::parse(&admin, "青浦区,310114").unwrap();
        assert_eq!(c.codes(), ["310114000000", "310118000000"]);
        assert_eq!(c.label(), "嘉定区、青浦区");
        assert!(Coverage::parse(&admin, "火星区").is_err());
        assert!(Coverage::parse(&admin, "华新镇").is_err());
        assert!(Coverage::whole_city(&admin).contains("310151100000"));
    }
}
