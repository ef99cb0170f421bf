//! What spatial queries answer with, in every interface (CLI JSON lines, GeoJSON, CSV, and the
//! HTTP API): a building with its id, kind, floors, distance in metres where it applies, and its
//! standard addresses, in the coordinate system the caller asked for.

use geo::{MapCoords, Point, Rect};
use serde::Serialize;

use super::crs::Crs;
use super::index::FootprintIndex;
use super::reverse::reverse;
use crate::Building;
use crate::store::{self, Store};

/// A standard address of a building, as answers carry it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AddressRef {
    /// The standard address id.
    pub id: String,
    /// Its canonical text.
    pub address: String,
    /// Its point, in the answer's coordinate system.
    pub lon: Option<f64>,
    /// Its point, in the answer's coordinate system.
    pub lat: Option<f64>,
}

/// A building in an answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BuildingAnswer {
    /// The building id.
    pub building_id: String,
    /// Its kind (`residential`, `shop` …).
    pub kind: &'static str,
    /// Floors above ground.
    pub floors: u16,
    /// Metres from the query point (0 inside); absent for box and polygon queries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance_m: Option<f64>,
    /// Its standard addresses, in id order.
    pub addresses: Vec<AddressRef>,
}

/// The answer to a reverse lookup (one JSON line of `dizhi reverse`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReverseAnswer {
    /// The query point as given.
    pub lon: f64,
    /// The query point as given.
    pub lat: f64,
    /// The coordinate system of the query point and of every point in the answer.
    pub crs: Crs,
    /// The building found, or `null`.
    pub building_id: Option<String>,
    /// Whether the point is inside the building's footprint.
    pub inside: bool,
    /// 0 inside the footprint, else metres to it; `null` when nothing is within the radius.
    pub distance_m: Option<f64>,
    /// The building's kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    /// The building's floors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub floors: Option<u16>,
    /// The building's standard addresses.
    pub addresses: Vec<AddressRef>,
}

/// The columns of building answers as CSV ([`write_csv`]).
pub const CSV_HEADER: [&str; 6] = [
    "building_id",
    "kind",
    "floors",
    "distance_m",
    "address_count",
    "addresses",
];

/// Writes building answers as CSV rows under [`CSV_HEADER`] (`dizhi buildings --format csv`, or
/// with a tab as `delimiter`, `--format table`): the addresses' texts joined by `;`, an absent
/// distance empty.
///
/// # Examples
/// ```
/// use dizhi::spatial::answer::{AddressRef, BuildingAnswer, write_csv};
/// let a = BuildingAnswer { building_id: "B1".into(), kind: "shop", floors: 2, distance_m: None,
///     addresses: vec![AddressRef { id: "A1".into(), address: "华腾路8号".into(), lon: None, lat: None }] };
/// let mut out = Vec::new();
/// write_csv(&mut out, b',', &[a]).unwrap();
/// assert_eq!(String::from_utf8(out).unwrap(),
///     "building_id,kind,floors,distance_m,address_count,addresses\nB1,shop,2,,1,华腾路8号\n");
/// ```
pub fn write_csv<W: std::io::Write>(
    out: W,
    delimiter: u8,
    answers: &[BuildingAnswer],
) -> csv::Result<()> {
    let mut w = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .from_writer(out);
    w.write_record(CSV_HEADER)?;
    for a in answers {
        let texts: Vec<&str> = a.addresses.iter().map(|x| x.address.as_str()).collect();
        w.write_record([
            a.building_id.as_str(),
            a.kind,
            &a.floors.to_string(),
            &a.distance_m.map(|d| d.to_string()).unwrap_or_default(),
            &a.addresses.len().to_string(),
            &texts.join(";"),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// Builds the index from every building in the store.
pub fn index_from_store(store: &Store) -> store::Result<FootprintIndex> {
    Ok(FootprintIndex::new(store.buildings()?))
}

/// Reverse lookup of a point given in `crs`: the building containing it or the nearest within
/// `radius_m`, with its addresses from the store.
pub fn reverse_answer(
    index: &FootprintIndex,
    store: &Store,
    lon: f64,
    lat: f64,
    crs: Crs,
    radius_m: f64,
) -> store::Result<ReverseAnswer> {
    let (wlon, wlat) = crs.to_wgs84(lon, lat);
    let mut answer = ReverseAnswer {
        lon,
        lat,
        crs,
        building_id: None,
        inside: false,
        distance_m: None,
        kind: None,
        floors: None,
        addresses: Vec::new(),
    };
    if let Some(hit) = reverse(index, Point::new(wlon, wlat), radius_m) {
        answer.building_id = Some(hit.building.id.clone());
        answer.inside = hit.inside;
        answer.distance_m = Some(round_cm(hit.distance_m));
        answer.kind = Some(hit.building.kind.as_str());
        answer.floors = Some(hit.building.floors);
        answer.addresses = addresses_of(store, &hit.building.id, crs)?;
    }
    Ok(answer)
}

/// A building with its addresses from the store, points in `crs`.
pub fn building_answer(
    store: &Store,
    building: &Building,
    distance_m: Option<f64>,
    crs: Crs,
) -> store::Result<BuildingAnswer> {
    Ok(BuildingAnswer {
        building_id: building.id.clone(),
        kind: building.kind.as_str(),
        floors: building.floors,
        distance_m: distance_m.map(round_cm),
        addresses: addresses_of(store, &building.id, crs)?,
    })
}

fn addresses_of(store: &Store, building_id: &str, crs: Crs) -> store::Result<Vec<AddressRef>> {
    Ok(store
        .address_lines_of_building(building_id)?
        .into_iter()
        .map(|a| {
            let p = a.point.map(|p| crs.from_wgs84(p.x(), p.y()));
            AddressRef {
                address: a.text,
                id: a.id,
                lon: p.map(|p| round7(p.0)),
                lat: p.map(|p| round7(p.1)),
            }
        })
        .collect())
}

/// A building as every interface writes it (`dizhi buildings --format geojson`, the API's
/// `/v1/buildings…` answers): a feature whose `id` is the building id, whose geometry is the
/// footprint in `crs`, and whose properties are its [`BuildingAnswer`] (kind, floors, distance
/// when given, addresses).
pub fn building_feature(
    store: &Store,
    building: &Building,
    distance_m: Option<f64>,
    crs: Crs,
) -> store::Result<geojson::Feature> {
    let answer = building_answer(store, building, distance_m, crs)?;
    // A struct of strings, numbers and lists always serializes to an object.
    let properties = match serde_json::to_value(&answer) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    let value = geojson::GeometryValue::from(&footprint_in(building, crs));
    Ok(crate::gis::geojson::polygon_feature(
        Some(geojson::feature::Id::String(building.id.clone())),
        value,
        properties,
    ))
}

/// A footprint in `crs`, coordinates to 7 decimals (about a centimetre).
pub fn footprint_in(building: &Building, crs: Crs) -> geo::Polygon<f64> {
    building.footprint.map_coords(|c| {
        let (x, y) = crs.from_wgs84(c.x, c.y);
        geo::coord! { x: round7(x), y: round7(y) }
    })
}

fn round_cm(m: f64) -> f64 {
    (m * 100.0).round() / 100.0
}

fn round7(v: f64) -> f64 {
    (v * 1e7).round() / 1e7
}

/// Parses `LON,LAT` (spaces and a tab allowed around the comma).
///
/// # Examples
/// ```
/// use dizhi::spatial::answer::parse_point;
/// assert_eq!(parse_point(" 121.1, 31.2 "), Ok((121.1, 31.2)));
/// assert!(parse_point("121.1").is_err());
/// assert!(parse_point("121.1,95").is_err());
/// ```
pub fn parse_point(s: &str) -> Result<(f64, f64), String> {
    let parts: Vec<&str> = s.split([',', '\t']).map(str::trim).collect();
    let [lon, lat] = parts.as_slice() else {
        return Err(format!("expected LON,LAT, got {s:?}"));
    };
    let lon: f64 = lon.parse().map_err(|_| format!("bad longitude {lon:?}"))?;
    let lat: f64 = lat.parse().map_err(|_| format!("bad latitude {lat:?}"))?;
    if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
        return Err(format!("{lon},{lat} is not a lon/lat point"));
    }
    Ok((lon, lat))
}

/// Parses `MINLON,MINLAT,MAXLON,MAXLAT` (given in `crs`) into a WGS84 box.
///
/// # Examples
/// ```
/// use dizhi::spatial::{answer::parse_bbox, Crs};
/// let r = parse_bbox("121.0,31.0,121.1,31.1", Crs::Wgs84).unwrap();
/// assert_eq!((r.min().x, r.max().y), (121.0, 31.1));
/// assert!(parse_bbox("121.0,31.0,121.1", Crs::Wgs84).is_err());
/// ```
pub fn parse_bbox(s: &str, crs: Crs) -> Result<Rect<f64>, String> {
    let v: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("bad box {s:?}: expected MINLON,MINLAT,MAXLON,MAXLAT"))?;
    let [a, b, c, d] = v.as_slice() else {
        return Err(format!(
            "bad box {s:?}: expected MINLON,MINLAT,MAXLON,MAXLAT"
        ));
    };
    if v.iter().any(|x| !x.is_finite()) {
        return Err(format!("bad box {s:?}"));
    }
    let (x0, y0) = crs.to_wgs84(*a, *b);
    let (x1, y1) = crs.to_wgs84(*c, *d);
    Ok(Rect::new(
        geo::coord! { x: x0, y: y0 },
        geo::coord! { x: x1, y: y1 },
    ))
}
