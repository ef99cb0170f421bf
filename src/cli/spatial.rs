//! Footprints: `dizhi reverse`, `dizhi buildings` (JSON lines, GeoJSON or CSV) and `dizhi export`.

use std::path::{Path, PathBuf};

use clap::ValueEnum;
use dizhi::spatial::Crs;
use dizhi::spatial::answer::building_feature;

use super::{CliError, CliResult, Format};

/// What `dizhi export` exports.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ExportWhat {
    /// Building footprints with their first address and address count.
    Buildings,
}

/// File formats of `dizhi export`.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ExportFormat {
    Gpkg,
    Geojson,
    Shp,
}

pub fn parse_bbox_arg(s: &str) -> Result<geo::Rect<f64>, String> {
    dizhi::spatial::answer::parse_bbox(s, dizhi::spatial::Crs::Wgs84)
}

pub fn parse_point_arg(s: &str) -> Result<(f64, f64), String> {
    dizhi::spatial::answer::parse_point(s)
}

/// Opens the store and bulk-loads the footprint index, timing it on stderr when asked.
fn open_spatial(data: &Path) -> CliResult<(dizhi::store::Store, dizhi::spatial::FootprintIndex)> {
    if !data.join(dizhi::store::STORE_FILE).exists() {
        return Err(CliError::runtime(format!(
            "no store in {} (run `dizhi build SOURCE_DIR --data {}` first)",
            data.display(),
            data.display()
        )));
    }
    let store = dizhi::store::Store::open(data)?;
    let index = dizhi::spatial::answer::index_from_store(&store)?;
    Ok((store, index))
}

/// `dizhi reverse`: one point, or one per stdin line; a bad line gives an error object.
pub fn reverse(
    data: &Path,
    point: Option<(f64, f64)>,
    crs: Crs,
    radius: f64,
    format: Format,
) -> CliResult {
    use std::io::{BufRead, Write};
    let (store, index) = open_spatial(data)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let answer_line = |input: &str, out: &mut dyn Write| -> CliResult {
        let line = match dizhi::spatial::answer::parse_point(input) {
            Ok((lon, lat)) => {
                let a =
                    dizhi::spatial::answer::reverse_answer(&index, &store, lon, lat, crs, radius)?;
                if format == Format::Table {
                    let addr = a
                        .addresses
                        .first()
                        .map(|x| x.address.as_str())
                        .unwrap_or("");
                    format!(
                        "{}\t{}\t{}",
                        a.building_id.as_deref().unwrap_or("-"),
                        a.distance_m
                            .map(|d| d.to_string())
                            .unwrap_or_else(|| "-".into()),
                        addr
                    )
                } else {
                    serde_json::to_string(&a)?
                }
            }
            Err(e) => serde_json::json!({ "input": input, "error": e }).to_string(),
        };
        writeln!(out, "{line}")?;
        Ok(())
    };
    match point {
        Some((lon, lat)) => answer_line(&format!("{lon},{lat}"), &mut out)?,
        None => {
            for line in std::io::stdin().lock().lines() {
                let line = line?;
                if line.trim().is_empty() {
                    continue;
                }
                answer_line(line.trim(), &mut out)?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// What `dizhi buildings` asks for.
pub enum BuildingQuery {
    Box(geo::Rect<f64>),
    Within(PathBuf, bool),
    Near((f64, f64), f64),
}

/// `dizhi buildings`: a box, polygon or distance query, printed as JSON lines, GeoJSON or CSV.
pub fn buildings(
    data: &Path,
    query: BuildingQuery,
    limit: Option<usize>,
    crs: Crs,
    format: Format,
) -> CliResult {
    use dizhi::spatial::PolygonRelation;
    use dizhi::spatial::answer::building_answer;
    use std::io::Write;
    // Parse the query before the (slow) index load, so a usage mistake fails fast.
    let area = match &query {
        BuildingQuery::Box(b) => {
            let (x0, y0) = crs.to_wgs84(b.min().x, b.min().y);
            let (x1, y1) = crs.to_wgs84(b.max().x, b.max().y);
            let rect = geo::Rect::new(geo::coord! { x: x0, y: y0 }, geo::coord! { x: x1, y: y1 });
            Some(geo::MultiPolygon(vec![rect.to_polygon()]))
        }
        BuildingQuery::Within(file, _) => {
            let (polygons, problems) = read_query_polygons(file, crs)?;
            for p in &problems {
                eprintln!(
                    "dizhi: {}: feature {}: {}",
                    file.display(),
                    p.feature,
                    p.reason
                );
            }
            Some(polygons)
        }
        BuildingQuery::Near(..) => None,
    };
    let (store, index) = open_spatial(data)?;
    let found: Vec<(&dizhi::Building, Option<f64>)> = match (&query, &area) {
        (BuildingQuery::Near((lon, lat), radius), _) => {
            let (x, y) = crs.to_wgs84(*lon, *lat);
            let hits = index.buildings_within_distance(geo::Point::new(x, y), *radius);
            hits.into_iter()
                .map(|h| (h.building, Some(h.distance_m)))
                .collect()
        }
        (BuildingQuery::Box(_), Some(area)) => {
            let rect = geo::BoundingRect::bounding_rect(area)
                .ok_or_else(|| CliError::runtime("empty box"))?;
            index
                .buildings_in_box(rect)
                .into_iter()
                .map(|b| (b, None))
                .collect()
        }
        (BuildingQuery::Within(_, contained), Some(area)) => {
            let rel = if *contained {
                PolygonRelation::Within
            } else {
                PolygonRelation::Intersects
            };
            index
                .buildings_in_polygon(area, rel)
                .into_iter()
                .map(|b| (b, None))
                .collect()
        }
        _ => Vec::new(),
    };
    let found = &found[..found.len().min(limit.unwrap_or(usize::MAX))];
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match format {
        Format::Json => {
            for (b, d) in found {
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string(&building_answer(&store, b, *d, crs)?)?
                )?;
            }
        }
        Format::Geojson => {
            let features = found
                .iter()
                .map(|(b, d)| building_feature(&store, b, *d, crs))
                .collect::<Result<Vec<_>, _>>()?;
            dizhi::gis::geojson::write_features(&mut out, features)?;
        }
        Format::Csv | Format::Table => {
            let answers = found
                .iter()
                .map(|(b, d)| building_answer(&store, b, *d, crs))
                .collect::<Result<Vec<_>, _>>()?;
            let delimiter = if format == Format::Table { b'\t' } else { b',' };
            dizhi::spatial::answer::write_csv(&mut out, delimiter, &answers)?;
        }
    }
    out.flush()?;
    Ok(())
}

/// The polygons of a query file, in WGS84 (the file's coordinates are in `crs`).
fn read_query_polygons(
    file: &Path,
    crs: Crs,
) -> CliResult<(geo::MultiPolygon<f64>, Vec<dizhi::gis::GeometryProblem>)> {
    use geo::MapCoords;
    let loaded = dizhi::gis::read_footprints(file)?;
    let polygons = loaded
        .footprints
        .iter()
        .flat_map(|f| f.geometry.0.iter())
        .map(|p| {
            p.map_coords(|c| {
                let (x, y) = crs.to_wgs84(c.x, c.y);
                geo::coord! { x: x, y: y }
            })
        })
        .collect();
    Ok((geo::MultiPolygon(polygons), loaded.problems))
}

/// `dizhi export buildings`.
pub fn export(
    data: &Path,
    format: ExportFormat,
    output: &Path,
    encoding: dizhi::gis::shp::DbfEncoding,
) -> CliResult {
    use dizhi::gis::GisFormat;
    let started = std::time::Instant::now();
    let store = dizhi::store::Store::open(data)?;
    let footprints = store.footprints()?;
    let format = match format {
        ExportFormat::Gpkg => GisFormat::GeoPackage,
        ExportFormat::Geojson => GisFormat::GeoJson,
        ExportFormat::Shp => GisFormat::Shapefile,
    };
    dizhi::gis::write_footprints(output, format, &footprints, encoding)?;
    eprintln!(
        "exported {} buildings to {} in {:.1} s",
        footprints.len(),
        output.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
