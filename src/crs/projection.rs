//! The coordinate system a layer or register arrives in, and its conversion to the stored WGS84.
//!
//! Real registers come in lon/lat (WGS84, CGCS2000, GCJ-02 from web maps, BD-09 from Baidu) or
//! projected in metres — above all the CGCS2000 3-degree Gauss–Krüger zones that cover Shanghai
//! (EPSG:4549, CM 120E; EPSG:4550, CM 123E; with zone prefix 4528/4529). A Shapefile says which in
//! its `.prj` (ESRI WKT), a GeoPackage in `gpkg_spatial_ref_sys`, a steward in the registers config
//! (`EPSG:4549`, `gcj02` …). Projections go through proj4rs (WKT read by proj4wkt, EPSG codes from
//! crs-definitions); only the GCJ-02/BD-09 offsets, which no projection library carries, are
//! [`crs`](crate::crs)'s.
//!
//! Metre coordinates are never taken for degrees: [`SourceCrs::to_wgs84`] refuses a point that is
//! out of range for its system (x = 350,000 declared as degrees, or 121.3 declared as metres), and
//! the readers refuse a layer where most features are so.

use std::fmt;

use proj4rs::Proj;

use super::Crs;

/// Why a coordinate system could not be read or a point not converted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProjectionError {
    /// The name, EPSG code or WKT is not one dizhi can use.
    #[error("unknown coordinate system {given:?}: {why}")]
    Unknown {
        /// What was given (a name, `EPSG:NNNN`, or the start of a WKT).
        given: String,
        /// Why it was not understood.
        why: String,
    },
    /// A point lies outside the range its coordinate system allows.
    #[error(
        "coordinates ({x}, {y}) are out of range for {crs}{hint}",
        hint = out_of_range_hint(*x, *y, crs)
    )]
    OutOfRange {
        /// The system the point was declared in.
        crs: String,
        /// Easting or longitude as given.
        x: f64,
        /// Northing or latitude as given.
        y: f64,
    },
}

fn out_of_range_hint(x: f64, y: f64, crs: &str) -> &'static str {
    let looks_like_degrees = x.abs() <= 180.0 && y.abs() <= 90.0;
    if looks_like_degrees && crs.starts_with("EPSG") {
        ": they look like degrees, but the layer is declared in metres"
    } else if !looks_like_degrees {
        ": they look like metres (a projected system such as EPSG:4549), not degrees"
    } else {
        ""
    }
}

/// A coordinate system a register or footprint layer can arrive in.
///
/// # Examples
/// ```
/// use dizhi::crs::SourceCrs;
/// // A point of 青浦 in CGCS2000 / 3-degree Gauss–Krüger CM 120E (EPSG:4549), in metres.
/// let gk: SourceCrs = "EPSG:4549".parse().unwrap();
/// let (lon, lat) = gk.to_wgs84(614_418.0, 3_447_846.0).unwrap();
/// assert!((lon - 121.2).abs() < 0.01 && (lat - 31.15).abs() < 0.01);
/// // The same metres declared as degrees are refused, never loaded.
/// let wgs: SourceCrs = "wgs84".parse().unwrap();
/// assert!(wgs.to_wgs84(614_418.0, 3_447_846.0).is_err());
/// ```
#[derive(Clone)]
pub enum SourceCrs {
    /// Lon/lat degrees: WGS84/CGCS2000 (stored as is), GCJ-02 or BD-09.
    LonLat(Crs),
    /// A projected system in metres.
    Projected(Box<Projected>),
}

/// A projected coordinate system and the geographic system its metres are inverted to.
#[derive(Clone)]
pub struct Projected {
    name: String,
    proj: Proj,
    geographic: Proj,
}

impl fmt::Debug for SourceCrs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SourceCrs({self})")
    }
}

impl fmt::Display for SourceCrs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceCrs::LonLat(c) => f.write_str(c.as_str()),
            SourceCrs::Projected(p) => f.write_str(&p.name),
        }
    }
}

impl Default for SourceCrs {
    fn default() -> Self {
        SourceCrs::LonLat(Crs::Wgs84)
    }
}

/// EPSG codes of lon/lat systems that are stored as they are (CGCS2000 and WGS84 differ by
/// centimetres).
const LONLAT_EPSG: [u16; 2] = [4326, 4490];

impl SourceCrs {
    /// The system an EPSG code names: 4326 and 4490 are lon/lat; others are looked up in the
    /// EPSG definitions and must be projected.
    pub fn from_epsg(code: u16) -> Result<SourceCrs, ProjectionError> {
        if LONLAT_EPSG.contains(&code) {
            return Ok(SourceCrs::LonLat(Crs::Wgs84));
        }
        let unknown = |why: String| ProjectionError::Unknown {
            given: format!("EPSG:{code}"),
            why,
        };
        let def = crs_definitions::from_code(code)
            .ok_or_else(|| unknown("not in the EPSG definitions".into()))?;
        Self::projected(format!("EPSG:{code}"), def.proj4).map_err(|e| match e {
            ProjectionError::Unknown { why, .. } => unknown(why),
            other => other,
        })
    }

    /// The system a WKT text describes (a Shapefile's `.prj`, a GeoPackage's srs definition):
    /// a GEOGCS on WGS84/CGCS2000 is lon/lat, a PROJCS is projected through proj4rs.
    pub fn from_wkt(wkt: &str) -> Result<SourceCrs, ProjectionError> {
        let head: String = wkt.trim().chars().take(60).collect();
        let unknown = |why: String| ProjectionError::Unknown {
            given: head.clone(),
            why,
        };
        let proj4 = proj4wkt::wkt_to_projstring(wkt).map_err(|e| unknown(e.to_string()))?;
        let name = wkt_name(wkt).unwrap_or_else(|| head.clone());
        if proj4.contains("+proj=longlat") {
            // Geographic: lon/lat on WGS84 or CGCS2000 (GRS80) is what is stored; another datum
            // would need a shift dizhi does not guess.
            let on_stored_datum = ["WGS84", "GRS80", "WGS_1984", "China_2000", "CGCS2000"]
                .iter()
                .any(|d| proj4.contains(d) || wkt.contains(d));
            return if on_stored_datum {
                Ok(SourceCrs::LonLat(Crs::Wgs84))
            } else {
                Err(unknown(format!(
                    "geographic system on another datum ({proj4})"
                )))
            };
        }
        Self::projected(name, &proj4)
    }

    fn projected(name: String, proj4: &str) -> Result<SourceCrs, ProjectionError> {
        let unknown = |why: String| ProjectionError::Unknown {
            given: name.clone(),
            why,
        };
        let proj = Proj::from_proj_string(proj4).map_err(|e| unknown(e.to_string()))?;
        if proj.is_latlong() {
            return Err(unknown(format!("{proj4} is lon/lat on an unknown datum")));
        }
        // Invert to lon/lat on the layer's own ellipsoid, with its datum shift to WGS84 when
        // the definition carries one (+towgs84); CGCS2000 (GRS80) needs none.
        let geographic = if proj4.contains("+towgs84") || proj4.contains("+datum=") {
            "+proj=longlat +datum=WGS84 +no_defs".to_string()
        } else {
            let ellps = proj4
                .split_whitespace()
                .find(|t| t.starts_with("+ellps=") || t.starts_with("+a=") || t.starts_with("+b="))
                .map(|_| {
                    proj4
                        .split_whitespace()
                        .filter(|t| {
                            t.starts_with("+ellps=")
                                || t.starts_with("+a=")
                                || t.starts_with("+b=")
                                || t.starts_with("+rf=")
                        })
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_else(|| "+ellps=WGS84".into());
            format!("+proj=longlat {ellps} +no_defs")
        };
        let geographic = Proj::from_proj_string(&geographic).map_err(|e| unknown(e.to_string()))?;
        Ok(SourceCrs::Projected(Box::new(Projected {
            name,
            proj,
            geographic,
        })))
    }

    /// Whether coordinates in this system are metres.
    pub fn is_projected(&self) -> bool {
        matches!(self, SourceCrs::Projected(_))
    }

    /// A point of this system in WGS84 lon/lat, or why it cannot be one.
    pub fn to_wgs84(&self, x: f64, y: f64) -> Result<(f64, f64), ProjectionError> {
        let out_of_range = || ProjectionError::OutOfRange {
            crs: self.to_string(),
            x,
            y,
        };
        if !x.is_finite() || !y.is_finite() {
            return Err(out_of_range());
        }
        match self {
            SourceCrs::LonLat(crs) => {
                if x.abs() > 180.0 || y.abs() > 90.0 {
                    return Err(out_of_range());
                }
                Ok(crs.to_wgs84(x, y))
            }
            SourceCrs::Projected(p) => {
                // Metres that fit in degrees' range are degrees declared as metres: no
                // projected point of China lies within 180 m of a false origin.
                if x.abs() <= 180.0 && y.abs() <= 90.0 {
                    return Err(out_of_range());
                }
                let mut point = (x, y, 0.0);
                proj4rs::transform::transform(&p.proj, &p.geographic, &mut point)
                    .map_err(|_| out_of_range())?;
                let (lon, lat) = (point.0.to_degrees(), point.1.to_degrees());
                if !lon.is_finite() || !lat.is_finite() || lon.abs() > 180.0 || lat.abs() > 90.0 {
                    return Err(out_of_range());
                }
                Ok((lon, lat))
            }
        }
    }
}

impl SourceCrs {
    /// A WGS84 lon/lat point in this system: metres for a projected one (the inverse of
    /// [`SourceCrs::to_wgs84`]), the offset lon/lat for GCJ-02/BD-09.
    ///
    /// # Examples
    /// ```
    /// use dizhi::crs::SourceCrs;
    /// let gk: SourceCrs = "EPSG:4549".parse().unwrap();
    /// let (x, y) = gk.from_wgs84(121.2, 31.15).unwrap();
    /// let (lon, lat) = gk.to_wgs84(x, y).unwrap();
    /// assert!((lon - 121.2).abs() < 1e-9 && (lat - 31.15).abs() < 1e-9);
    /// ```
    // Named as [`Crs::from_wgs84`], whose inverse it mirrors.
    #[allow(clippy::wrong_self_convention)]
    pub fn from_wgs84(&self, lon: f64, lat: f64) -> Result<(f64, f64), ProjectionError> {
        let out_of_range = || ProjectionError::OutOfRange {
            crs: "wgs84".into(),
            x: lon,
            y: lat,
        };
        if !lon.is_finite() || !lat.is_finite() || lon.abs() > 180.0 || lat.abs() > 90.0 {
            return Err(out_of_range());
        }
        match self {
            SourceCrs::LonLat(crs) => Ok(crs.from_wgs84(lon, lat)),
            SourceCrs::Projected(p) => {
                let mut point = (lon.to_radians(), lat.to_radians(), 0.0);
                proj4rs::transform::transform(&p.geographic, &p.proj, &mut point)
                    .map_err(|_| out_of_range())?;
                if !point.0.is_finite() || !point.1.is_finite() {
                    return Err(out_of_range());
                }
                Ok((point.0, point.1))
            }
        }
    }
}

impl std::str::FromStr for SourceCrs {
    type Err = ProjectionError;

    /// `wgs84`, `cgcs2000`, `gcj02`, `bd09` (and [`Crs`]'s aliases), `EPSG:NNNN`, or a WKT text.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if let Ok(crs) = t.parse::<Crs>() {
            return Ok(SourceCrs::LonLat(crs));
        }
        let upper = t.to_ascii_uppercase();
        if let Some(code) = upper.strip_prefix("EPSG:") {
            let code: u16 = code.trim().parse().map_err(|_| ProjectionError::Unknown {
                given: t.to_string(),
                why: "an EPSG code is a number".into(),
            })?;
            return SourceCrs::from_epsg(code);
        }
        if upper.starts_with("PROJCS[") || upper.starts_with("GEOGCS[") {
            return SourceCrs::from_wkt(t);
        }
        Err(ProjectionError::Unknown {
            given: t.chars().take(60).collect(),
            why: "expected wgs84, cgcs2000, gcj02, bd09, EPSG:NNNN or a WKT text".into(),
        })
    }
}

/// The quoted name after the first `[` of a WKT text.
fn wkt_name(wkt: &str) -> Option<String> {
    let rest = &wkt[wkt.find('[')? + 1..];
    let rest = rest.trim_start().strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ESRI_GK_120: &str = r#"PROJCS["CGCS2000_3_Degree_GK_CM_120E",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",120.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;

    #[test]
    fn the_esri_prj_of_a_gauss_kruger_zone_equals_its_epsg_code() {
        let from_prj = SourceCrs::from_wkt(ESRI_GK_120).unwrap();
        let from_code = SourceCrs::from_epsg(4549).unwrap();
        assert_eq!(from_prj.to_string(), "CGCS2000_3_Degree_GK_CM_120E");
        for (x, y) in [(614_418.0, 3_447_846.0), (590_000.0, 3_430_000.0)] {
            let a = from_prj.to_wgs84(x, y).unwrap();
            let b = from_code.to_wgs84(x, y).unwrap();
            assert!(
                (a.0 - b.0).abs() < 1e-9 && (a.1 - b.1).abs() < 1e-9,
                "{a:?} {b:?}"
            );
        }
    }

    #[test]
    fn metres_declared_as_degrees_and_degrees_declared_as_metres_are_refused() {
        let wgs = SourceCrs::default();
        let e = wgs.to_wgs84(350_000.0, 3_450_000.0).unwrap_err();
        assert!(e.to_string().contains("look like metres"), "{e}");
        let gk = SourceCrs::from_epsg(4549).unwrap();
        let e = gk.to_wgs84(121.2, 31.1).unwrap_err();
        assert!(e.to_string().contains("look like degrees"), "{e}");
        assert!(wgs.to_wgs84(f64::NAN, 31.0).is_err());
    }

    #[test]
    fn wgs84_to_gauss_kruger_and_back_is_within_a_centimetre() {
        let gk = SourceCrs::from_epsg(4549).unwrap();
        for (lon, lat) in [
            (121.05, 31.0),
            (121.2, 31.15),
            (121.35, 31.3),
            (120.9, 30.9),
        ] {
            let (x, y) = gk.from_wgs84(lon, lat).unwrap();
            assert!(x > 500_000.0 && y > 3_000_000.0, "{x} {y}");
            let (lon2, lat2) = gk.to_wgs84(x, y).unwrap();
            // 1 cm is about 1e-7 degrees.
            let m = ((lon2 - lon) * 95_000.0).hypot((lat2 - lat) * 110_574.0);
            assert!(m <= 0.01, "{lon},{lat}: {m} m");
        }
        assert!(gk.from_wgs84(f64::NAN, 31.0).is_err());
    }

    #[test]
    fn names_codes_and_wkt_parse() {
        assert!(matches!("gcj02".parse(), Ok(SourceCrs::LonLat(Crs::Gcj02))));
        assert!(matches!(
            "EPSG:4490".parse(),
            Ok(SourceCrs::LonLat(Crs::Wgs84))
        ));
        assert!("epsg:4550".parse::<SourceCrs>().unwrap().is_projected());
        assert!("EPSG:abc".parse::<SourceCrs>().is_err());
        assert!("EPSG:1".parse::<SourceCrs>().is_err());
        assert!("mars".parse::<SourceCrs>().is_err());
        assert!(ESRI_GK_120.parse::<SourceCrs>().unwrap().is_projected());
    }
}
