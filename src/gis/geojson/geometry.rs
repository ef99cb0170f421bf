//! GeoJSON geometries → geo, each conversion with the reason it fails, for its reader to report
//! with the feature's id.
//!
//! [`geometry`] takes any geometry as it is (a source record, a footprint layer, whose range and
//! validity are checked later). The others read what a caller expects — a footprint
//! ([`single_polygon`]), an area ([`polygonal`], [`polygons`]), a road ([`line`]) — checking the raw positions
//! first: lon/lat in range, at least 4 positions per ring and, where the caller asks, closed rings
//! (geo closes rings silently, so closure can only be seen before conversion); polygons must then
//! pass geo's validation.

use geo::{Coord, Geometry, LineString, MultiLineString, MultiPolygon, Polygon, Validation};
use geojson::{GeometryValue, Position};

/// Whether every position of a geometry has an x and a y: the geojson crate's conversion indexes
/// `[1]` unchecked, so `[[[0]]]` would panic instead of being a problem of its feature.
pub fn positions_complete(g: &GeometryValue) -> bool {
    let ok = |p: &Position| p.len() >= 2;
    match g {
        GeometryValue::Point { coordinates } => ok(coordinates),
        GeometryValue::MultiPoint { coordinates } | GeometryValue::LineString { coordinates } => {
            coordinates.iter().all(ok)
        }
        GeometryValue::MultiLineString { coordinates } | GeometryValue::Polygon { coordinates } => {
            coordinates.iter().flatten().all(ok)
        }
        GeometryValue::MultiPolygon { coordinates } => {
            coordinates.iter().flatten().flatten().all(ok)
        }
        GeometryValue::GeometryCollection { geometries } => {
            geometries.iter().all(|g| positions_complete(&g.value))
        }
    }
}

/// Any geometry as geo's, as it is (Z dropped, rings closed, nothing validated); only a position
/// without an x and a y is refused.
///
/// # Examples
/// ```
/// use dizhi::gis::geojson::geometry::geometry;
/// let point = geojson::GeometryValue::new_point([121.1, 31.1]);
/// assert!(matches!(geometry(&point), Ok(geo::Geometry::Point(_))));
/// ```
pub fn geometry(g: &GeometryValue) -> Result<Geometry<f64>, String> {
    if !positions_complete(g) {
        return Err("a position with fewer than two coordinates".to_string());
    }
    Geometry::<f64>::try_from(g).map_err(|e| e.to_string())
}

/// Positions as a line of lon/lat coordinates (|lon| ≤ 180, |lat| ≤ 90, finite); `which` names
/// the line in the reason (`exterior ring`, `line 2`).
pub fn lon_lat_line(positions: &[Position], which: &str) -> Result<LineString<f64>, String> {
    let mut coords = Vec::with_capacity(positions.len());
    for (i, p) in positions.iter().enumerate() {
        let (x, y) = match p.as_slice() {
            [x, y, ..] => (*x, *y),
            _ => return Err(format!("{which}, position {i}: fewer than 2 coordinates")),
        };
        if !(x.is_finite() && y.is_finite() && x.abs() <= 180.0 && y.abs() <= 90.0) {
            return Err(format!(
                "{which}, position {i}: [{x}, {y}] is not a lon/lat"
            ));
        }
        coords.push(Coord { x, y });
    }
    Ok(LineString::new(coords))
}

/// How a polygon's rings must end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rings {
    /// Where they start, as RFC 7946 says: an open ring is a problem (the files a store is built
    /// from).
    MustClose,
    /// An open ring is closed, as geo closes it (request bodies, as they have always been read).
    MayBeOpen,
}

/// A GeoJSON polygon's rings → a valid `geo::Polygon` of lon/lat coordinates. Rings need at least
/// 4 positions (and to be closed, with [`Rings::MustClose`]).
///
/// # Examples
/// ```
/// use dizhi::gis::geojson::geometry::{polygon, Rings};
/// let ring = |ps: &[[f64; 2]]| vec![ps.iter().map(|&p| geojson::Position::from(p)).collect::<Vec<_>>()];
/// let open = ring(&[[0., 0.], [1., 0.], [1., 1.], [0., 1.]]);
/// assert!(polygon(&open, Rings::MustClose).unwrap_err().contains("not closed"));
/// assert!(polygon(&open, Rings::MayBeOpen).is_ok());
/// let bow_tie = ring(&[[0., 0.], [1., 1.], [1., 0.], [0., 1.], [0., 0.]]);
/// assert!(polygon(&bow_tie, Rings::MayBeOpen).unwrap_err().contains("self-intersection"));
/// ```
pub fn polygon(rings: &[Vec<Position>], ends: Rings) -> Result<Polygon<f64>, String> {
    let Some((exterior, interiors)) = rings.split_first() else {
        return Err("polygon has no rings".to_string());
    };
    let mut lines = Vec::with_capacity(rings.len());
    for (i, ring) in std::iter::once(exterior).chain(interiors).enumerate() {
        let which = if i == 0 {
            "exterior ring".to_string()
        } else {
            format!("interior ring {}", i - 1)
        };
        if ring.len() < 4 {
            return Err(format!(
                "{which} has {} positions; a closed ring needs at least 4",
                ring.len()
            ));
        }
        let line = lon_lat_line(ring, &which)?;
        if ends == Rings::MustClose && line.0.first() != line.0.last() {
            return Err(format!(
                "{which} is not closed (first and last positions differ)"
            ));
        }
        lines.push(line);
    }
    let exterior = lines.remove(0);
    let polygon = Polygon::new(exterior, lines);
    match polygon.check_validation() {
        Ok(()) => Ok(polygon),
        Err(e) => Err(format!("invalid polygon: {e}")),
    }
}

/// A geometry as one polygon: a Polygon, or a MultiPolygon of exactly one part (a footprint).
pub fn single_polygon(g: &geojson::Geometry, ends: Rings) -> Result<Polygon<f64>, String> {
    match &g.value {
        GeometryValue::Polygon { coordinates } => polygon(coordinates, ends),
        GeometryValue::MultiPolygon { coordinates } if coordinates.len() == 1 => {
            polygon(&coordinates[0], ends)
        }
        GeometryValue::MultiPolygon { coordinates } => Err(format!(
            "geometry is a MultiPolygon of {} parts; a footprint is one polygon",
            coordinates.len()
        )),
        other => Err(format!(
            "geometry is a {}, expected a Polygon",
            other.type_name()
        )),
    }
}

/// A Polygon or a MultiPolygon as it is (an area), every part a valid polygon.
pub fn polygonal(g: &geojson::Geometry, ends: Rings) -> Result<Geometry<f64>, String> {
    match &g.value {
        GeometryValue::Polygon { coordinates } => polygon(coordinates, ends).map(Geometry::Polygon),
        _ => polygons(g, ends).map(|parts| Geometry::MultiPolygon(MultiPolygon::new(parts))),
    }
}

/// The parts of a Polygon or a MultiPolygon (a query's area), each a valid polygon.
pub fn polygons(g: &geojson::Geometry, ends: Rings) -> Result<Vec<Polygon<f64>>, String> {
    match &g.value {
        GeometryValue::Polygon { coordinates } => polygon(coordinates, ends).map(|p| vec![p]),
        GeometryValue::MultiPolygon { coordinates } => coordinates
            .iter()
            .map(|rings| polygon(rings, ends))
            .collect(),
        other => Err(format!(
            "geometry is a {}, expected a Polygon or MultiPolygon",
            other.type_name()
        )),
    }
}

/// A LineString or MultiLineString of lon/lat positions, each line of at least 2 (a road's
/// centre line).
pub fn line(g: &geojson::Geometry) -> Result<Geometry<f64>, String> {
    match &g.value {
        GeometryValue::LineString { coordinates } if coordinates.len() >= 2 => {
            lon_lat_line(coordinates, "line").map(Geometry::LineString)
        }
        GeometryValue::MultiLineString { coordinates }
            if coordinates.iter().all(|l| l.len() >= 2) =>
        {
            let lines = coordinates
                .iter()
                .enumerate()
                .map(|(i, l)| lon_lat_line(l, &format!("line {i}")))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Geometry::MultiLineString(MultiLineString::new(lines)))
        }
        GeometryValue::LineString { .. } | GeometryValue::MultiLineString { .. } => {
            Err("a line needs at least 2 positions".to_string())
        }
        other => Err(format!(
            "geometry is a {}, expected a LineString",
            other.type_name()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(points: &[(f64, f64)]) -> Vec<Vec<Position>> {
        vec![
            points
                .iter()
                .map(|&(x, y)| Position::from([x, y]))
                .collect(),
        ]
    }

    #[test]
    fn bow_tie_is_invalid() {
        let e = polygon(
            &ring(&[(0., 0.), (1., 1.), (1., 0.), (0., 1.), (0., 0.)]),
            Rings::MustClose,
        )
        .unwrap_err();
        assert!(e.contains("self-intersection"), "{e}");
    }

    #[test]
    fn unclosed_and_short_rings_are_invalid() {
        let e = polygon(
            &ring(&[(0., 0.), (1., 0.), (1., 1.), (0., 1.)]),
            Rings::MustClose,
        )
        .unwrap_err();
        assert!(e.contains("not closed"), "{e}");
        let e = polygon(&ring(&[(0., 0.), (1., 0.), (0., 0.)]), Rings::MustClose).unwrap_err();
        assert!(e.contains("at least 4"), "{e}");
        let e = polygon(&ring(&[(0., 0.), (1., 0.), (0., 0.)]), Rings::MayBeOpen).unwrap_err();
        assert!(e.contains("at least 4"), "{e}");
    }

    #[test]
    fn positions_must_be_lon_lat() {
        let e = polygon(
            &ring(&[(0., 0.), (1., 0.), (1., 91.), (0., 0.)]),
            Rings::MayBeOpen,
        )
        .unwrap_err();
        assert!(e.contains("exterior ring, position 2"), "{e}");
    }

    #[test]
    fn incomplete_positions_are_a_reason_not_a_panic() {
        let g = GeometryValue::Polygon {
            coordinates: vec![vec![Position::from(vec![0.0])]],
        };
        assert!(geometry(&g).unwrap_err().contains("fewer than two"));
    }
}
