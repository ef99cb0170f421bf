//! GIS formats in and out: GeoJSON, GeoPackage (what QGIS opens natively) and Shapefile (with
//! attributes in UTF-8 or GBK, `.cpg` honoured).
//!
//! Every format reads into and writes from the same [`Footprint`] records. Readers tolerate what
//! real files have — MultiPolygons, holes, Z (and M) values, which are dropped — and never stop
//! at a bad feature: an invalid geometry becomes a [`GeometryProblem`] with the feature's id and
//! geo's validation reason, and the valid features still load.

pub mod geojson;
pub mod gpkg;
pub mod shp;

use std::path::{Path, PathBuf};

use geo::{Geometry, MultiPolygon, Validation};

use crate::crs::{ProjectionError, SourceCrs};
use crate::{Building, BuildingKind};

/// What can go wrong reading or writing a GIS file (as a whole; bad features are
/// [`GeometryProblem`]s instead).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not in the format it claims to be.
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// SQLite failed (GeoPackage).
    #[error("{path}: {source}")]
    Sqlite {
        /// The file.
        path: PathBuf,
        /// Why.
        source: rusqlite::Error,
    },
}

impl Error {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn format(path: &Path, message: impl std::fmt::Display) -> Error {
        Error::Format {
            path: path.to_path_buf(),
            message: message.to_string(),
        }
    }

    pub(crate) fn sqlite(path: &Path) -> impl Fn(rusqlite::Error) -> Error + '_ {
        move |source| Error::Sqlite {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The GIS layer's result.
pub type Result<T> = std::result::Result<T, Error>;

/// A building footprint as GIS files carry it: a (multi)polygon and a few attributes.
///
/// Written as the attribute columns `id`, `kind`, `floors`, `address` (the first standard
/// address), `addr_count` (shapefile field names have at most 10 characters).
#[derive(Debug, Clone, PartialEq)]
pub struct Footprint {
    /// The building id (from an `id` or `building_id` attribute; else the feature's position).
    pub id: String,
    /// The building kind as written (`residential`, `shop` …), empty if none.
    pub kind: String,
    /// Floors above ground.
    pub floors: Option<i64>,
    /// The building's first standard address, if any.
    pub address: Option<String>,
    /// How many standard addresses the building has.
    pub address_count: Option<i64>,
    /// The footprint, WGS84 lon/lat, 2D.
    pub geometry: MultiPolygon<f64>,
}

impl Footprint {
    /// A footprint record for a building, with its first address and address count.
    ///
    /// # Examples
    /// ```
    /// use dizhi::gis::Footprint;
    /// use dizhi::{Building, BuildingKind};
    /// use geo::polygon;
    /// let b = Building { id: "B1".into(), footprint: polygon![(x: 0., y: 0.), (x: 1., y: 0.), (x: 1., y: 1.)],
    ///                    kind: BuildingKind::Shop, floors: 2, tags: vec![] };
    /// let f = Footprint::from_building(&b, Some("青浦区华新镇华腾路8号"), 1);
    /// assert_eq!((f.kind.as_str(), f.floors, f.geometry.0.len()), ("shop", Some(2), 1));
    /// assert_eq!(f.to_buildings().unwrap()[0], b);
    /// ```
    pub fn from_building(b: &Building, address: Option<&str>, address_count: usize) -> Footprint {
        Footprint {
            id: b.id.clone(),
            kind: b.kind.as_str().to_string(),
            floors: Some(i64::from(b.floors)),
            address: address.map(str::to_string),
            address_count: Some(address_count as i64),
            geometry: MultiPolygon(vec![b.footprint.clone()]),
        }
    }

    /// The buildings of this footprint: one for a single polygon; for a multipolygon one per
    /// part, with ids `ID#1`, `ID#2` … (a building's footprint is one polygon).
    ///
    /// An unknown kind or a floor count that does not fit is an error, with the reason.
    pub fn to_buildings(&self) -> std::result::Result<Vec<Building>, String> {
        let kind: BuildingKind = self.kind.parse()?;
        let floors = match self.floors {
            None => 0,
            Some(n) => u16::try_from(n).map_err(|_| format!("floors {n} out of range"))?,
        };
        let many = self.geometry.0.len() > 1;
        Ok(self
            .geometry
            .0
            .iter()
            .enumerate()
            .map(|(i, p)| Building {
                id: if many {
                    format!("{}#{}", self.id, i + 1)
                } else {
                    self.id.clone()
                },
                footprint: p.clone(),
                kind,
                floors,
                tags: Vec::new(),
            })
            .collect())
    }
}

/// A feature that was not loaded, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GeometryProblem {
    /// The feature's id, or `#N` (its 0-based position) when it has none.
    pub feature: String,
    /// Why: geo's validation message, or what else is wrong.
    pub reason: String,
}

/// What a reader found: the footprints that loaded and the features that did not.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Loaded {
    /// Valid footprints, in file order.
    pub footprints: Vec<Footprint>,
    /// Features left out, in file order.
    pub problems: Vec<GeometryProblem>,
}

impl Loaded {
    /// The footprints as buildings (see [`Footprint::to_buildings`]); footprints that cannot be
    /// buildings (an unknown kind) are added to the problems.
    pub fn into_buildings(self) -> (Vec<Building>, Vec<GeometryProblem>) {
        let mut problems = self.problems;
        let mut buildings = Vec::with_capacity(self.footprints.len());
        for f in &self.footprints {
            match f.to_buildings() {
                Ok(bs) => buildings.extend(bs),
                Err(reason) => problems.push(GeometryProblem {
                    feature: f.id.clone(),
                    reason,
                }),
            }
        }
        (buildings, problems)
    }

    /// Adds a feature: kept if its geometry is a valid (multi)polygon, else reported.
    pub(crate) fn push(&mut self, mut footprint: Footprint, geometry: Option<Geometry<f64>>) {
        match polygonal(geometry) {
            Ok(mp) => {
                footprint.geometry = mp;
                self.footprints.push(footprint);
            }
            Err(reason) => self.problems.push(GeometryProblem {
                feature: footprint.id,
                reason,
            }),
        }
    }
}

/// Brings a layer's geometries from the coordinate system it declares to the stored WGS84, and
/// decides whether the layer as a whole is in that system at all.
///
/// A feature whose coordinates are out of range for the system is reported on its own; when more
/// than half the features with a geometry are, the system is wrong for the layer (metres declared
/// as degrees, a missing `.prj`) and [`finish`](Reprojection::finish) refuses the whole layer
/// instead of loading it in the wrong place.
pub(crate) struct Reprojection {
    crs: SourceCrs,
    features: usize,
    out_of_range: usize,
    first: Option<(String, ProjectionError)>,
}

impl Reprojection {
    pub(crate) fn new(crs: SourceCrs) -> Reprojection {
        Reprojection {
            crs,
            features: 0,
            out_of_range: 0,
            first: None,
        }
    }

    /// The feature's geometry in WGS84 (`None` stays `None`), or why it cannot be.
    pub(crate) fn apply(
        &mut self,
        feature: &str,
        geometry: Option<Geometry<f64>>,
    ) -> std::result::Result<Option<Geometry<f64>>, String> {
        use geo::MapCoords;
        let Some(g) = geometry else {
            return Ok(None);
        };
        self.features += 1;
        let crs = &self.crs;
        let moved = if matches!(crs, SourceCrs::LonLat(crate::crs::Crs::Wgs84)) {
            // Stored as is: only the range is checked.
            let out_of_range =
                geo::CoordsIter::coords_iter(&g).find_map(|c| crs.to_wgs84(c.x, c.y).err());
            match out_of_range {
                None => Ok(g),
                Some(e) => Err(e),
            }
        } else {
            g.try_map_coords(|c| {
                crs.to_wgs84(c.x, c.y)
                    .map(|(x, y)| geo::coord! { x: x, y: y })
            })
        };
        moved.map(Some).map_err(|e| {
            self.out_of_range += 1;
            let reason = e.to_string();
            self.first.get_or_insert_with(|| (feature.to_string(), e));
            reason
        })
    }

    /// The loaded layer, or the refusal of a layer that is not in its declared system.
    pub(crate) fn finish(self, loaded: Loaded) -> std::result::Result<Loaded, String> {
        match self.first {
            Some((feature, e)) if self.out_of_range * 2 > self.features => Err(format!(
                "{} of {} features are out of range for the layer's coordinate system {} \
                 (feature {feature}: {e}); declare the right one (a .prj, the GeoPackage srs, \
                 or crs = \"EPSG:4549\" in the config)",
                self.out_of_range, self.features, self.crs
            )),
            _ => Ok(loaded),
        }
    }
}

/// A geometry as a valid MultiPolygon, or why it is not one.
fn polygonal(geometry: Option<Geometry<f64>>) -> std::result::Result<MultiPolygon<f64>, String> {
    let mp = match geometry {
        None => return Err("no geometry".into()),
        Some(Geometry::Polygon(p)) => MultiPolygon(vec![p]),
        Some(Geometry::MultiPolygon(mp)) => mp,
        Some(Geometry::Rect(r)) => MultiPolygon(vec![r.to_polygon()]),
        Some(other) => {
            return Err(format!(
                "not a polygon but a {}",
                geometry_type_name(&other)
            ));
        }
    };
    if mp.0.is_empty() {
        return Err("empty geometry".into());
    }
    if let Err(e) = mp.check_validation() {
        return Err(e.to_string());
    }
    Ok(mp)
}

fn geometry_type_name(g: &Geometry<f64>) -> &'static str {
    match g {
        Geometry::Point(_) => "Point",
        Geometry::Line(_) => "Line",
        Geometry::LineString(_) => "LineString",
        Geometry::Polygon(_) => "Polygon",
        Geometry::MultiPoint(_) => "MultiPoint",
        Geometry::MultiLineString(_) => "MultiLineString",
        Geometry::MultiPolygon(_) => "MultiPolygon",
        Geometry::GeometryCollection(_) => "GeometryCollection",
        Geometry::Rect(_) => "Rect",
        Geometry::Triangle(_) => "Triangle",
    }
}

/// The file formats dizhi reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GisFormat {
    /// GeoJSON (RFC 7946), WGS84.
    GeoJson,
    /// OGC GeoPackage.
    GeoPackage,
    /// ESRI Shapefile (.shp/.shx/.dbf/.prj/.cpg).
    Shapefile,
}

impl GisFormat {
    /// The format a file name says (`.geojson`/`.json`, `.gpkg`, `.shp`).
    ///
    /// # Examples
    /// ```
    /// use dizhi::gis::GisFormat;
    /// assert_eq!(GisFormat::from_path("a/b.GPKG".as_ref()), Some(GisFormat::GeoPackage));
    /// assert_eq!(GisFormat::from_path("b.txt".as_ref()), None);
    /// ```
    pub fn from_path(path: &Path) -> Option<GisFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "geojson" | "json" => Some(GisFormat::GeoJson),
            "gpkg" => Some(GisFormat::GeoPackage),
            "shp" => Some(GisFormat::Shapefile),
            _ => None,
        }
    }
}

/// Reads footprints from a GeoJSON, GeoPackage or Shapefile, chosen by the file's extension.
pub fn read_footprints(path: &Path) -> Result<Loaded> {
    read_footprints_as(path, &ReadOptions::default())
}

/// Which attributes a reader takes a footprint's id, kind and floors from (matched
/// case-insensitively, the first present wins), which layer, and which coordinate system when the
/// file's own is to be overridden.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Id attributes (else the feature id, else `#N`).
    pub id: Vec<String>,
    /// Kind attributes.
    pub kind: Vec<String>,
    /// Floor-count attributes.
    pub floors: Vec<String>,
    /// A GeoPackage layer (else the first feature layer).
    pub layer: Option<String>,
    /// The coordinate system, overriding the `.prj` / GeoPackage srs.
    pub crs: Option<SourceCrs>,
}

impl Default for ReadOptions {
    /// What dizhi writes: `id` (or `building_id`), `kind`, `floors`.
    fn default() -> Self {
        ReadOptions {
            id: vec!["id".into(), "building_id".into(), "building_i".into()],
            kind: vec!["kind".into()],
            floors: vec!["floors".into()],
            layer: None,
            crs: None,
        }
    }
}

impl ReadOptions {
    /// The position of the first attribute of `wanted` among `names` (lower-cased).
    pub(crate) fn find(wanted: &[String], names: &[String]) -> Option<usize> {
        wanted.iter().find_map(|w| {
            let w = w.to_lowercase();
            names.iter().position(|n| n.to_lowercase() == w)
        })
    }
}

/// [`read_footprints`] with the attributes, layer and coordinate system of `options`.
///
/// # Examples
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("jzw.geojson");
/// std::fs::write(&path, r#"{"type":"FeatureCollection","features":[{"type":"Feature",
///   "properties":{"JZWBM":"J1","CS":"6"},
///   "geometry":{"type":"Polygon","coordinates":[[[121,31],[121.001,31],[121.001,31.001],[121,31]]]}}]}"#).unwrap();
/// let options = dizhi::gis::ReadOptions {
///     id: vec!["jzwbm".into()], floors: vec!["cs".into()], ..Default::default()
/// };
/// let loaded = dizhi::gis::read_footprints_as(&path, &options).unwrap();
/// assert_eq!((loaded.footprints[0].id.as_str(), loaded.footprints[0].floors), ("J1", Some(6)));
/// ```
pub fn read_footprints_as(path: &Path, options: &ReadOptions) -> Result<Loaded> {
    match GisFormat::from_path(path) {
        Some(GisFormat::GeoJson) => geojson::read_as(path, options),
        Some(GisFormat::GeoPackage) => gpkg::read_as(path, options),
        Some(GisFormat::Shapefile) => shp::read_as(path, None, options),
        None => Err(Error::format(
            path,
            "unknown format (expected .geojson, .json, .gpkg or .shp)",
        )),
    }
}

/// Writes footprints in a format (Shapefile attributes in `encoding`).
pub fn write_footprints(
    path: &Path,
    format: GisFormat,
    footprints: &[Footprint],
    encoding: shp::DbfEncoding,
) -> Result<()> {
    match format {
        GisFormat::GeoJson => geojson::write_file(path, footprints),
        GisFormat::GeoPackage => gpkg::write(path, footprints),
        GisFormat::Shapefile => shp::write(path, footprints, encoding),
    }
}
