//! Geometries in the store: WKB (little-endian, 2D, WGS84 lon/lat) via the `wkb` crate.

use geo::{Geometry, Polygon};
use geo_traits::to_geo::ToGeoGeometry;
use wkb::writer::{
    WriteOptions, geometry_wkb_size, polygon_wkb_size, write_geometry, write_polygon,
};

use super::{Error, Result};

/// A polygon as WKB.
///
/// # Examples
/// ```
/// use dizhi::store::{polygon_from_wkb, polygon_to_wkb};
/// use geo::polygon;
/// let p = polygon![(x: 121.0, y: 31.0), (x: 121.001, y: 31.0), (x: 121.001, y: 31.001)];
/// let bytes = polygon_to_wkb(&p).unwrap();
/// assert_eq!(polygon_from_wkb(&bytes).unwrap(), p);
/// ```
pub fn polygon_to_wkb(polygon: &Polygon<f64>) -> Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(polygon_wkb_size(polygon));
    write_polygon(&mut buf, polygon, &WriteOptions::default()).map_err(Error::wkb)?;
    Ok(buf)
}

/// Any geometry as WKB.
///
/// # Examples
/// ```
/// use dizhi::store::{geometry_from_wkb, geometry_to_wkb};
/// use geo::{line_string, Geometry};
/// let g = Geometry::LineString(line_string![(x: 121.0, y: 31.0), (x: 121.1, y: 31.1)]);
/// assert_eq!(geometry_from_wkb(&geometry_to_wkb(&g).unwrap()).unwrap(), g);
/// ```
pub fn geometry_to_wkb(geometry: &Geometry<f64>) -> Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(geometry_wkb_size(geometry));
    write_geometry(&mut buf, geometry, &WriteOptions::default()).map_err(Error::wkb)?;
    Ok(buf)
}

/// A polygon from WKB; anything but a polygon, or bytes that are not WKB, is an error.
///
/// # Examples
/// ```
/// use dizhi::store::{geometry_to_wkb, polygon_from_wkb};
/// let point = geo::Geometry::Point(geo::Point::new(121.0, 31.0));
/// assert!(polygon_from_wkb(&geometry_to_wkb(&point).unwrap()).is_err());
/// assert!(polygon_from_wkb(b"not wkb").is_err());
/// ```
pub fn polygon_from_wkb(bytes: &[u8]) -> Result<Polygon<f64>> {
    let wkb = wkb::reader::read_wkb(bytes).map_err(Error::wkb)?;
    match wkb.to_geometry() {
        Geometry::Polygon(p) => Ok(p),
        _ => Err(Error::Corrupt(format!(
            "expected a WKB polygon, found a {:?}",
            wkb.geometry_type()
        ))),
    }
}

/// Any geometry from WKB.
pub fn geometry_from_wkb(bytes: &[u8]) -> Result<Geometry<f64>> {
    let wkb = wkb::reader::read_wkb(bytes).map_err(Error::wkb)?;
    Ok(wkb.to_geometry())
}

/// The geometry in column `i` of a row, `None` for NULL.
pub(super) fn optional_geometry(
    row: &rusqlite::Row<'_>,
    i: usize,
) -> Result<Option<Geometry<f64>>> {
    match row
        .get_ref(i)?
        .as_blob_or_null()
        .map_err(rusqlite::Error::from)?
    {
        Some(bytes) => Ok(Some(geometry_from_wkb(bytes)?)),
        None => Ok(None),
    }
}

/// A geometry as WKB, `None` staying `None`.
pub(super) fn optional_wkb(g: &Option<Geometry<f64>>) -> Result<Option<Vec<u8>>> {
    g.as_ref().map(geometry_to_wkb).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{LineString, MultiPolygon, coord, polygon};

    #[test]
    fn polygon_with_hole_round_trips_through_wkb() {
        let p = Polygon::new(
            LineString::from(vec![
                (121.0, 31.0),
                (121.01, 31.0),
                (121.01, 31.01),
                (121.0, 31.01),
                (121.0, 31.0),
            ]),
            vec![LineString::from(vec![
                (121.002, 31.002),
                (121.004, 31.002),
                (121.004, 31.004),
                (121.002, 31.002),
            ])],
        );
        let bytes = polygon_to_wkb(&p).unwrap();
        // 1 byte order + 4 type + 4 ring count + (4 + 5·16) + (4 + 4·16)
        assert_eq!(bytes.len(), 1 + 4 + 4 + 4 + 5 * 16 + 4 + 4 * 16);
        assert_eq!(bytes[0], 1, "little-endian");
        assert_eq!(polygon_from_wkb(&bytes).unwrap(), p);
    }

    #[test]
    fn coordinates_survive_bit_for_bit() {
        let p = polygon![
            coord! { x: 121.123_456_789_012_3, y: 31.987_654_321_098_7 },
            coord! { x: 121.123_456_789_012_4, y: 31.987_654_321_098_7 },
            coord! { x: 121.123_456_789_012_4, y: 31.987_654_321_098_8 },
        ];
        assert_eq!(polygon_from_wkb(&polygon_to_wkb(&p).unwrap()).unwrap(), p);
    }

    #[test]
    fn multipolygon_round_trips_as_geometry() {
        let mp = Geometry::MultiPolygon(MultiPolygon::new(vec![polygon![
            (x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0)
        ]]));
        let bytes = geometry_to_wkb(&mp).unwrap();
        assert_eq!(geometry_from_wkb(&bytes).unwrap(), mp);
        assert!(
            polygon_from_wkb(&bytes).is_err(),
            "a multipolygon is not a polygon"
        );
    }

    proptest::proptest! {
        // Any coordinates (not just nice ones) come back bit for bit, holes included.
        #[test]
        fn any_polygon_round_trips(
            exterior in proptest::collection::vec((-180.0f64..180.0, -90.0f64..90.0), 3..40),
            hole in proptest::collection::vec((-180.0f64..180.0, -90.0f64..90.0), 0..10),
        ) {
            let holes = if hole.len() >= 3 { vec![LineString::from(hole)] } else { vec![] };
            let p = Polygon::new(LineString::from(exterior), holes);
            proptest::prop_assert_eq!(polygon_from_wkb(&polygon_to_wkb(&p).unwrap()).unwrap(), p);
        }

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = polygon_from_wkb(&bytes);
            let _ = geometry_from_wkb(&bytes);
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bytes in [
            &b""[..],
            &[1, 3, 0, 0],
            &[1, 3, 0, 0, 0, 9, 0, 0, 0],
            &[7; 40],
        ] {
            assert!(polygon_from_wkb(bytes).is_err());
        }
    }
}
