//! Coordinate systems used in China: WGS84/CGCS2000 (stored), GCJ-02 (Amap, Tencent) and BD-09
//! (Baidu).
//!
//! GCJ-02 is WGS84 with a published non-linear offset of a few hundred metres inside China; BD-09
//! adds Baidu's own rotation on top of GCJ-02. The forward transforms are the public formulas; the
//! inverses are solved by fixed-point iteration to well under a centimetre. The systems layers and
//! registers arrive in, projected ones included, are [`projection`]'s.
//!
//! Pure arithmetic with no dependency on the rest of dizhi: the GIS readers (which the store's build
//! uses) and the spatial layer (which queries the store) both convert through it.

pub mod projection;

pub use projection::{ProjectionError, SourceCrs};

use std::f64::consts::PI;

/// The semi-major axis of the Krasovsky 1940 ellipsoid that GCJ-02's offset is defined on.
const A: f64 = 6_378_245.0;
/// Its first eccentricity squared.
const EE: f64 = 0.006_693_421_622_965_943;
const X_PI: f64 = PI * 3000.0 / 180.0;

/// Whether a point lies in the rough box where GCJ-02 applies (outside it, GCJ-02 equals WGS84).
pub fn in_china(lon: f64, lat: f64) -> bool {
    (72.004..=137.8347).contains(&lon) && (0.8293..=55.8271).contains(&lat)
}

fn transform_lat(x: f64, y: f64) -> f64 {
    let mut r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    r
}

fn transform_lon(x: f64, y: f64) -> f64 {
    let mut r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    r
}

/// WGS84 → GCJ-02.
///
/// # Examples
/// ```
/// use dizhi::crs::{gcj02_to_wgs84, wgs84_to_gcj02};
/// let (lon, lat) = wgs84_to_gcj02(121.12, 31.15);
/// assert!((lon - 121.12).abs() > 1e-3); // a few hundred metres off in Shanghai
/// let (back_lon, back_lat) = gcj02_to_wgs84(lon, lat);
/// assert!((back_lon - 121.12).abs() < 1e-7 && (back_lat - 31.15).abs() < 1e-7);
/// ```
pub fn wgs84_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    if !in_china(lon, lat) {
        return (lon, lat);
    }
    let dlat = transform_lat(lon - 105.0, lat - 35.0);
    let dlon = transform_lon(lon - 105.0, lat - 35.0);
    let rad_lat = lat / 180.0 * PI;
    let magic = 1.0 - EE * rad_lat.sin() * rad_lat.sin();
    let sqrt_magic = magic.sqrt();
    let dlat = (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrt_magic) * PI);
    let dlon = (dlon * 180.0) / (A / sqrt_magic * rad_lat.cos() * PI);
    (lon + dlon, lat + dlat)
}

/// GCJ-02 → WGS84, by iterating the forward transform.
pub fn gcj02_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    let (mut wlon, mut wlat) = (lon, lat);
    for _ in 0..30 {
        let (glon, glat) = wgs84_to_gcj02(wlon, wlat);
        let (dlon, dlat) = (glon - lon, glat - lat);
        wlon -= dlon;
        wlat -= dlat;
        if dlon.abs() < 1e-10 && dlat.abs() < 1e-10 {
            break;
        }
    }
    (wlon, wlat)
}

/// GCJ-02 → BD-09.
pub fn gcj02_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    let z = (lon * lon + lat * lat).sqrt() + 0.00002 * (lat * X_PI).sin();
    let theta = lat.atan2(lon) + 0.000003 * (lon * X_PI).cos();
    (z * theta.cos() + 0.0065, z * theta.sin() + 0.006)
}

/// BD-09 → GCJ-02, by iterating the forward transform.
pub fn bd09_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    let (mut glon, mut glat) = (lon - 0.0065, lat - 0.006);
    for _ in 0..30 {
        let (blon, blat) = gcj02_to_bd09(glon, glat);
        let (dlon, dlat) = (blon - lon, blat - lat);
        glon -= dlon;
        glat -= dlat;
        if dlon.abs() < 1e-10 && dlat.abs() < 1e-10 {
            break;
        }
    }
    (glon, glat)
}

/// WGS84 → BD-09.
pub fn wgs84_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    let (glon, glat) = wgs84_to_gcj02(lon, lat);
    gcj02_to_bd09(glon, glat)
}

/// BD-09 → WGS84.
pub fn bd09_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    let (glon, glat) = bd09_to_gcj02(lon, lat);
    gcj02_to_wgs84(glon, glat)
}

/// A coordinate system a point can be given or returned in. Everything is stored in
/// [`Crs::Wgs84`]; the others are converted at the edges.
///
/// # Examples
/// ```
/// use dizhi::crs::Crs;
/// let crs: Crs = "gcj02".parse().unwrap();
/// let (lon, lat) = crs.from_wgs84(121.12, 31.15);
/// let (back_lon, back_lat) = crs.to_wgs84(lon, lat);
/// assert!((back_lon - 121.12).abs() < 1e-8 && (back_lat - 31.15).abs() < 1e-8);
/// assert_eq!(Crs::default(), Crs::Wgs84);
/// assert_eq!(Crs::Bd09.to_string(), "bd09");
/// assert!("epsg:3857".parse::<Crs>().is_err());
/// ```
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Crs {
    /// WGS84 / CGCS2000 lon/lat (EPSG:4326; CGCS2000 differs by centimetres): what is stored.
    #[default]
    Wgs84,
    /// GCJ-02 (火星坐标): Amap (高德), Tencent.
    Gcj02,
    /// BD-09: Baidu.
    Bd09,
}

/// The name given to [`Crs::from_str`](std::str::FromStr) is not a coordinate system dizhi knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown coordinate system {0:?} (expected wgs84, gcj02 or bd09)")]
pub struct UnknownCrs(pub String);

impl Crs {
    /// Every coordinate system.
    pub const ALL: [Crs; 3] = [Crs::Wgs84, Crs::Gcj02, Crs::Bd09];

    /// The name used by the CLI (`--crs`) and the API (`crs=`).
    pub fn as_str(self) -> &'static str {
        crate::wire::name(&self)
    }

    /// A point given in this system, in WGS84.
    pub fn to_wgs84(self, lon: f64, lat: f64) -> (f64, f64) {
        match self {
            Crs::Wgs84 => (lon, lat),
            Crs::Gcj02 => gcj02_to_wgs84(lon, lat),
            Crs::Bd09 => bd09_to_wgs84(lon, lat),
        }
    }

    /// A WGS84 point, in this system.
    pub fn from_wgs84(self, lon: f64, lat: f64) -> (f64, f64) {
        match self {
            Crs::Wgs84 => (lon, lat),
            Crs::Gcj02 => wgs84_to_gcj02(lon, lat),
            Crs::Bd09 => wgs84_to_bd09(lon, lat),
        }
    }
}

impl std::fmt::Display for Crs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Crs {
    type Err = UnknownCrs;

    /// Accepts the names and the usual aliases (`epsg:4326`, `cgcs2000`, `amap`, `baidu` …),
    /// case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "wgs84" | "wgs-84" | "epsg:4326" | "4326" | "cgcs2000" | "epsg:4490" => Ok(Crs::Wgs84),
            "gcj02" | "gcj-02" | "amap" | "gaode" | "tencent" => Ok(Crs::Gcj02),
            "bd09" | "bd-09" | "bd09ll" | "baidu" => Ok(Crs::Bd09),
            _ => Err(UnknownCrs(s.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Metres between two nearby lon/lat points (equirectangular is enough at this scale).
    fn metres(a: (f64, f64), b: (f64, f64)) -> f64 {
        let k = 111_320.0;
        let dx = (a.0 - b.0) * k * (a.1.to_radians()).cos();
        let dy = (a.1 - b.1) * k;
        (dx * dx + dy * dy).sqrt()
    }

    #[test]
    fn gcj02_offset_in_shanghai_is_hundreds_of_metres() {
        let p = (121.12, 31.15);
        let d = metres(p, wgs84_to_gcj02(p.0, p.1));
        assert!((300.0..800.0).contains(&d), "{d}");
    }

    #[test]
    fn round_trips_stay_within_a_centimetre_across_china() {
        for lon in (74..135).step_by(3) {
            for lat in (19..53).step_by(3) {
                let p = (lon as f64 + 0.37, lat as f64 + 0.21);
                let g = wgs84_to_gcj02(p.0, p.1);
                assert!(metres(p, gcj02_to_wgs84(g.0, g.1)) < 0.01);
                let b = wgs84_to_bd09(p.0, p.1);
                assert!(metres(p, bd09_to_wgs84(b.0, b.1)) < 0.01);
            }
        }
    }

    #[test]
    fn outside_china_gcj02_is_wgs84() {
        assert_eq!(wgs84_to_gcj02(2.35, 48.85), (2.35, 48.85));
    }
}
