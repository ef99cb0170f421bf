//! Coordinate systems used in China: WGS84/CGCS2000 (stored), GCJ-02 (Amap, Tencent) and BD-09
//! (Baidu).
//!
//! GCJ-02 is WGS84 with a published non-linear offset of a few hundred metres inside China; BD-09
//! adds Baidu's own rotation on top of GCJ-02. The forward transforms are the public formulas; the
//! inverses are solved by fixed-point iteration to well under a centimetre.

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
/// use dizhi::spatial::crs::{gcj02_to_wgs84, wgs84_to_gcj02};
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
