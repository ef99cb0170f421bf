//! `dizhi import`: a source file into the store, every raw record kept with its provenance.
//!
//! CSV (UTF-8, or GBK when it is not UTF-8), XLSX (first sheet), GeoJSON (all properties kept),
//! GeoPackage and Shapefile (the attributes the GIS readers know: id, kind, floors). The first
//! column (or the feature id / first property) is the record key. Columns are mapped to
//! [`Field`]s by their names (Chinese and English synonyms, see [`Field::from_header`]), and
//! `--map column=field` overrides that; the mapping is stored with the source so fusion reads
//! the records the same way later. Re-importing a source replaces its records in one transaction:
//! importing the same file twice leaves the same store.

use std::collections::BTreeMap;
use std::path::Path;

use geo::Geometry;
use rusqlite::params;
use serde::{Deserialize, Serialize};

use super::{Error, Result};
use crate::store::{SourceRecord, Store, geometry_to_wkb};

/// What a source's records are: addresses (door plates, gazetteer entries, work orders) or
/// buildings (footprints).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Address records.
    Addresses,
    /// Building footprints.
    Buildings,
}

impl Role {
    /// Its name (`addresses`, `buildings`).
    pub fn as_str(self) -> &'static str {
        crate::wire::name(&self)
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        crate::wire::parse(s).ok_or_else(|| format!("unknown kind {s:?} (addresses or buildings)"))
    }
}

/// A field fusion understands; source columns are mapped onto these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// The record's id in its source.
    Id,
    /// The full address text.
    Address,
    /// 区.
    District,
    /// 街镇.
    Town,
    /// 居/村委.
    Community,
    /// 道路.
    Road,
    /// 弄.
    Lane,
    /// 号.
    Number,
    /// 幢.
    Building,
    /// 组.
    Group,
    /// A place name of a gazetteer (民政地名 标准名称).
    Name,
    /// A gazetteer category (道路, 小区, 单位, 村).
    Category,
    /// First door number of a road (门牌起).
    NumberFrom,
    /// Last door number of a road (门牌止).
    NumberTo,
    /// Longitude.
    Lon,
    /// Latitude.
    Lat,
    /// Floors above ground.
    Floors,
    /// What a building is used for.
    Usage,
}

impl Field {
    /// Every field.
    pub const ALL: [Field; 18] = [
        Field::Id,
        Field::Address,
        Field::District,
        Field::Town,
        Field::Community,
        Field::Road,
        Field::Lane,
        Field::Number,
        Field::Building,
        Field::Group,
        Field::Name,
        Field::Category,
        Field::NumberFrom,
        Field::NumberTo,
        Field::Lon,
        Field::Lat,
        Field::Floors,
        Field::Usage,
    ];

    /// The field's name (`--map column=NAME`).
    pub fn as_str(self) -> &'static str {
        crate::wire::name(&self)
    }

    /// The field a column header names, by the usual Chinese and English column names.
    ///
    /// # Examples
    /// ```
    /// use dizhi::fuse::Field;
    /// assert_eq!(Field::from_header("路名"), Some(Field::Road));
    /// assert_eq!(Field::from_header("所属街镇"), Some(Field::Town));
    /// assert_eq!(Field::from_header("诉求地址"), Some(Field::Address));
    /// assert_eq!(Field::from_header("备注"), None);
    /// ```
    pub fn from_header(header: &str) -> Option<Field> {
        let h = header.trim().to_lowercase();
        let f = match h.as_str() {
            "id" | "编号" | "门牌编号" | "地名代码" | "建筑编号" | "工单编号" | "record_id" => {
                Field::Id
            }
            "address" | "地址" | "地址全称" | "诉求地址" | "详细地址" | "标准地址" => {
                Field::Address
            }
            "district" | "区县" | "区" => Field::District,
            "town" | "街镇" | "所属街镇" | "街道" | "乡镇" => Field::Town,
            "community" | "居委会" | "居委" | "村居委" | "社区" => Field::Community,
            "road" | "路名" | "道路" | "街路巷" => Field::Road,
            "lane" | "弄号" | "弄" => Field::Lane,
            "number" | "门牌号" | "号" => Field::Number,
            "building" | "楼幢号" | "幢号" | "楼号" => Field::Building,
            "group" | "村组" | "组" => Field::Group,
            "name" | "标准名称" | "地名" | "名称" => Field::Name,
            "category" | "类别" | "地名类别" => Field::Category,
            "number_from" | "门牌起" => Field::NumberFrom,
            "number_to" | "门牌止" => Field::NumberTo,
            "lon" | "lng" | "longitude" | "经度" | "x" => Field::Lon,
            "lat" | "latitude" | "纬度" | "y" => Field::Lat,
            "floors" | "层数" | "地上层数" => Field::Floors,
            "usage" | "kind" | "用途" | "建筑用途" => Field::Usage,
            _ => return None,
        };
        Some(f)
    }
}

impl std::str::FromStr for Field {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Field::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Field::ALL.iter().map(|f| f.as_str()).collect();
                format!("unknown field {s:?} (one of {})", names.join(", "))
            })
    }
}

/// How a source's columns map to [`Field`]s.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    /// Column name → field.
    pub columns: BTreeMap<String, Field>,
}

impl Mapping {
    /// The mapping the headers imply ([`Field::from_header`]), then `overrides` (`column=field`).
    ///
    /// # Examples
    /// ```
    /// use dizhi::fuse::{Field, Mapping};
    /// let m = Mapping::infer(["编号", "addr", "x"], &["addr=address".to_string()]).unwrap();
    /// assert_eq!(m.columns["addr"], Field::Address);
    /// assert_eq!(m.columns["x"], Field::Lon);
    /// assert!(Mapping::infer(["a"], &["a=nope".to_string()]).is_err());
    /// ```
    pub fn infer<'a>(
        headers: impl IntoIterator<Item = &'a str>,
        overrides: &[String],
    ) -> Result<Mapping> {
        let mut columns = BTreeMap::new();
        for h in headers {
            if let Some(f) = Field::from_header(h) {
                columns.insert(h.to_string(), f);
            }
        }
        for o in overrides {
            let (col, field) = o
                .split_once('=')
                .ok_or_else(|| Error::Invalid(format!("--map {o:?}: expected column=field")))?;
            let field: Field = field.trim().parse().map_err(Error::Invalid)?;
            // A field comes from one column: an override takes it from the inferred one.
            columns.retain(|_, f| *f != field);
            columns.insert(col.trim().to_string(), field);
        }
        Ok(Mapping { columns })
    }

    /// The record's fields: each mapped column's value (trimmed, empty values left out).
    pub fn apply(
        &self,
        raw: &serde_json::Map<String, serde_json::Value>,
    ) -> BTreeMap<Field, String> {
        let mut out = BTreeMap::new();
        for (col, field) in &self.columns {
            let text = match raw.get(col) {
                Some(serde_json::Value::String(s)) => s.trim().to_string(),
                Some(serde_json::Value::Null) | None => continue,
                Some(v) => v.to_string(),
            };
            if !text.is_empty() {
                out.insert(*field, text);
            }
        }
        out
    }
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportReport {
    /// The source's name.
    pub source: String,
    /// Addresses or buildings.
    pub role: Role,
    /// Records stored.
    pub records: usize,
    /// Records or features left out, with why (no key, a bad geometry, a repeated key).
    pub problems: Vec<String>,
    /// The column → field mapping used.
    pub mapping: Mapping,
}

/// A file read whole as records (GeoJSON, GIS layers): header (column order) and records.
struct Read {
    headers: Vec<String>,
    records: Vec<SourceRecord>,
    problems: Vec<String>,
}

/// Rows as they come: (line, fields, what was wrong with the row's shape).
type Rows = Box<dyn Iterator<Item = Result<(u64, Vec<String>, Option<String>)>>>;

/// A file's records as they come: a CSV/TSV row by row, so that a register of millions of rows
/// is never held whole (only its record ids, which the store checks for repeats); a workbook's
/// rows from its bounded sheet; GeoJSON and GIS layers read whole by their readers.
enum Input {
    Rows { headers: Vec<String>, rows: Rows },
    Whole(Read),
}

impl Input {
    fn headers(&self) -> &[String] {
        match self {
            Input::Rows { headers, .. } | Input::Whole(Read { headers, .. }) => headers,
        }
    }
}

/// Imports `path` as source `name`, replacing any earlier import of that name.
///
/// # Examples
/// ```
/// use dizhi::fuse::{import_file, Role};
/// let dir = tempfile::tempdir().unwrap();
/// let csv = dir.path().join("mp.csv");
/// std::fs::write(&csv, "编号,路名,门牌号\nR1,华腾路,8\nR2,华腾路,10\nR1,华腾路,12\n").unwrap();
/// let mut store = dizhi::store::Store::open(dir.path().join("data")).unwrap();
/// let r = import_file(&mut store, &csv, "mp", Role::Addresses, &[]).unwrap();
/// assert_eq!(r.records, 2);
/// assert_eq!(r.problems, ["line 4: repeated record id R1"]);
/// let again = import_file(&mut store, &csv, "mp", Role::Addresses, &[]).unwrap();
/// assert_eq!(again.records, 2);
/// assert_eq!(store.summary().unwrap().source_records, 2);
/// ```
pub fn import_file(
    store: &mut Store,
    path: &Path,
    name: &str,
    role: Role,
    map: &[String],
) -> Result<ImportReport> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_lowercase();
    let input = match ext.as_str() {
        "csv" | "txt" | "tsv" => open_csv(path)?,
        "xlsx" | "xls" | "xlsm" | "xlsb" => open_xlsx(path)?,
        "geojson" | "json" => Input::Whole(read_geojson(path)?),
        "gpkg" | "shp" => Input::Whole(read_gis(path)?),
        _ => {
            return Err(Error::file(
                path,
                "unknown format (csv, xlsx, geojson, gpkg, shp)",
            ));
        }
    };
    let mapping = Mapping::infer(input.headers().iter().map(String::as_str), map)?;
    let data_columns = data_columns(&mapping, input.headers());
    let kind = match ext.as_str() {
        "tsv" | "txt" => "csv".to_string(),
        "xls" | "xlsm" | "xlsb" => "xlsx".to_string(),
        "json" => "geojson".to_string(),
        e => e.to_string(),
    };
    let mapping_json =
        serde_json::to_string(&mapping).map_err(|e| Error::Invalid(e.to_string()))?;
    let path_text = std::fs::canonicalize(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string();
    let conn = store.connection_mut();
    let tx = conn.transaction()?;
    tx.execute("DELETE FROM sources WHERE name = ?1", [name])?;
    tx.execute(
        "INSERT INTO sources (name, kind, path, record_count, role, mapping) \
         VALUES (?1, ?2, ?3, 0, ?4, ?5)",
        params![name, kind, path_text, role.as_str(), mapping_json],
    )?;
    let source_id = tx.last_insert_rowid();
    let mut records = 0usize;
    let mut problems = Vec::new();
    {
        // A repeated record id is refused by the store's unique key, not by a set in memory.
        let mut stmt = tx.prepare_cached(
            "INSERT OR IGNORE INTO source_records (source_id, record_key, line, raw, geometry) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        let mut store_record = |r: &SourceRecord, problems: &mut Vec<String>| -> Result<()> {
            let wkb = match &r.geometry {
                Some(g) => Some(geometry_to_wkb(g)?),
                None => None,
            };
            let line = r.line.map(|l| l as i64);
            if stmt.execute(params![source_id, r.key, line, r.raw, wkb])? == 0 {
                let at = r.line.map(|l| format!("line {l}")).unwrap_or_default();
                problems.push(format!("{at}: repeated record id {}", r.key));
            } else {
                records += 1;
            }
            Ok(())
        };
        match input {
            Input::Rows { headers, rows } => {
                for row in rows {
                    let (line, fields, problem) = row?;
                    if let Some(p) = problem {
                        problems.push(format!("line {line}: {p}"));
                    }
                    match record_from_row(&headers, &data_columns, line, fields) {
                        Ok(r) => store_record(&r, &mut problems)?,
                        Err(p) => problems.push(p),
                    }
                }
            }
            Input::Whole(mut read) => {
                problems.append(&mut read.problems);
                for mut r in read.records {
                    mask_record(&mut r, &data_columns);
                    store_record(&r, &mut problems)?;
                }
            }
        }
    }
    tx.execute(
        "UPDATE sources SET record_count = ?1 WHERE id = ?2",
        params![records as i64, source_id],
    )?;
    tx.commit()?;
    Ok(ImportReport {
        source: name.to_string(),
        role,
        records,
        problems,
        mapping,
    })
}

/// The columns whose values are data, not a caller's words, and so are never masked: the first
/// (the record id) and those mapped to an id, a number, a coordinate or a count.
fn data_columns(mapping: &Mapping, headers: &[String]) -> std::collections::HashSet<String> {
    mapping
        .columns
        .iter()
        .filter(|(_, f)| {
            matches!(
                f,
                Field::Id
                    | Field::Lane
                    | Field::Number
                    | Field::Building
                    | Field::Group
                    | Field::NumberFrom
                    | Field::NumberTo
                    | Field::Lon
                    | Field::Lat
                    | Field::Floors
            )
        })
        .map(|(c, _)| c.clone())
        .chain(headers.first().cloned())
        .collect()
}

/// Masks phone and ID-card numbers ([`crate::text::personal`]) in the free text of a record read
/// whole: every column but the [`data_columns`].
fn mask_record(record: &mut SourceRecord, data_columns: &std::collections::HashSet<String>) {
    let Ok(serde_json::Value::Object(mut obj)) = serde_json::from_str(&record.raw) else {
        return;
    };
    let mut changed = false;
    for (column, value) in obj.iter_mut() {
        if data_columns.contains(column.as_str()) {
            continue;
        }
        if let serde_json::Value::String(text) = value {
            let masked = crate::text::personal::mask_personal(text);
            if masked != *text {
                *text = masked;
                changed = true;
            }
        }
    }
    if changed {
        record.raw = serde_json::Value::Object(obj).to_string();
    }
}

/// A record from a row: key from the first column, raw as an ordered JSON object with the free
/// text masked; a row with no key is a problem.
fn record_from_row(
    headers: &[String],
    data_columns: &std::collections::HashSet<String>,
    line: u64,
    row: Vec<String>,
) -> std::result::Result<SourceRecord, String> {
    let key = row
        .first()
        .map(|k| k.trim().to_string())
        .unwrap_or_default();
    if key.is_empty() {
        return Err(format!("line {line}: no record id in the first column"));
    }
    let mut obj = serde_json::Map::new();
    for (h, v) in headers.iter().zip(row) {
        let v = if data_columns.contains(h) {
            v
        } else {
            crate::text::personal::mask_personal(&v)
        };
        obj.insert(h.clone(), serde_json::Value::String(v));
    }
    Ok(SourceRecord {
        key,
        line: Some(line),
        raw: serde_json::Value::Object(obj).to_string(),
        geometry: None,
    })
}

/// A CSV/TSV register through the batch reader ([`crate::batch::read::Source`]), row by row: the
/// same encoding detection (BOM, UTF-8, else GB18030) and the same handling of a row with too few
/// or too many fields (kept, padded, and named among the problems).
fn open_csv(path: &Path) -> Result<Input> {
    let mut source = crate::batch::read::Source::open(path, &crate::batch::BatchOptions::default())
        .map_err(|e| Error::file(path, e))?;
    let headers: Vec<String> = source
        .header()
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
        .collect();
    let at = path.to_path_buf();
    let mut line = 1u64;
    let rows = std::iter::from_fn(move || match source.next_row(false) {
        Ok(Some(row)) => {
            line += 1;
            Some(Ok((line, row.fields, row.problem)))
        }
        Ok(None) => None,
        Err(e) => Some(Err(Error::file(&at, e))),
    });
    Ok(Input::Rows {
        headers,
        rows: Box::new(rows),
    })
}

/// The first sheet, through the one bounded workbook opener ([`crate::batch::workbook`]): a
/// workbook over its budgets, or an `.xls`, is refused with the limit named.
fn open_xlsx(path: &Path) -> Result<Input> {
    let sheet = crate::batch::workbook::read_sheet(path, None).map_err(|e| Error::file(path, e))?;
    let mut rows = sheet.range.rows();
    let headers: Vec<String> = rows
        .next()
        .map(|r| r.iter().map(|c| c.to_string().trim().to_string()).collect())
        .unwrap_or_default();
    let body: Vec<_> = rows
        .enumerate()
        .map(|(i, r)| {
            Ok((
                i as u64 + 2,
                r.iter().map(|c| c.to_string()).collect(),
                None::<String>,
            ))
        })
        .collect();
    Ok(Input::Rows {
        headers,
        rows: Box::new(body.into_iter()),
    })
}

/// Every property kept, in file order; the record key is the feature id, else the first property.
/// Read feature by feature through the one GeoJSON reader ([`crate::gis::geojson`]): a feature
/// without a key or with a bad geometry is a problem of its own, and the rest still import.
fn read_geojson(path: &Path) -> Result<Read> {
    use crate::gis::geojson::{features, geometry};
    use serde_json::Value;
    let bytes = std::fs::read(path).map_err(|e| Error::file(path, e))?;
    let mut headers: Vec<String> = Vec::new();
    let mut records = Vec::new();
    let mut problems = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let streamed = features::for_each_feature(&bytes, |i, mut f| {
        let props = f.properties.take().unwrap_or_default();
        for k in props.keys() {
            if !headers.contains(k) {
                headers.push(k.clone());
            }
        }
        let key = match &f.id {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => props.values().next().map(|v| match v {
                Value::String(s) => s.clone(),
                v => v.to_string(),
            }),
        };
        let Some(key) = key.filter(|k| !k.is_empty()) else {
            problems.push(format!("feature {i}: no record id"));
            return Ok(());
        };
        if !seen.insert(key.clone()) {
            problems.push(format!("feature {i}: repeated record id {key}"));
            return Ok(());
        }
        let geometry = match f.geometry() {
            Ok(None) => None,
            Ok(Some(g)) => match geometry::geometry(&g.value) {
                Ok(g) => Some(g),
                Err(e) => {
                    problems.push(format!("feature {i} ({key}): invalid geometry: {e}"));
                    return Ok(());
                }
            },
            Err(e) => {
                problems.push(format!("feature {i} ({key}): {e}"));
                return Ok(());
            }
        };
        records.push(SourceRecord {
            key,
            line: Some(i as u64),
            raw: Value::Object(props).to_string(),
            geometry,
        });
        Ok::<(), std::convert::Infallible>(())
    });
    streamed.map_err(|e| crate::fuse::import::geojson_error(path, e))?;
    Ok(Read {
        headers,
        records,
        problems,
    })
}

/// A GeoJSON layer that could not be streamed, as the fusion layer's error.
pub(crate) fn geojson_error(
    path: &Path,
    e: crate::gis::geojson::features::StreamError<std::convert::Infallible>,
) -> Error {
    use crate::gis::geojson::features::StreamError;
    match e {
        StreamError::Json(e) => Error::file(path, e),
        StreamError::NotACollection { found } => Error::file(
            path,
            format!("expected a FeatureCollection, found type {found:?}"),
        ),
        StreamError::Stopped(never) => match never {},
    }
}

fn read_gis(path: &Path) -> Result<Read> {
    let loaded = crate::gis::read_footprints(path).map_err(|e| Error::file(path, e))?;
    let headers = vec!["id".to_string(), "kind".to_string(), "floors".to_string()];
    let mut problems: Vec<String> = loaded
        .problems
        .iter()
        .map(|p| format!("feature {}: {}", p.feature, p.reason))
        .collect();
    let mut seen = std::collections::HashSet::new();
    let mut records = Vec::new();
    for (i, f) in loaded.footprints.into_iter().enumerate() {
        if !seen.insert(f.id.clone()) {
            problems.push(format!("feature {i}: repeated record id {}", f.id));
            continue;
        }
        let raw = serde_json::json!({"id": f.id, "kind": f.kind, "floors": f.floors});
        let geometry = if f.geometry.0.len() == 1 {
            Geometry::Polygon(f.geometry.0[0].clone())
        } else {
            Geometry::MultiPolygon(f.geometry)
        };
        records.push(SourceRecord {
            key: f.id,
            line: Some(i as u64),
            raw: raw.to_string(),
            geometry: Some(geometry),
        });
    }
    Ok(Read {
        headers,
        records,
        problems,
    })
}

/// A stored source as fusion reads it: its name, role and mapping (inferred from the first
/// record's columns when the source came from `dizhi build`, which stores none).
pub fn stored_sources(store: &Store) -> Result<Vec<(i64, String, Role, Mapping)>> {
    let conn = store.connection();
    let mut stmt = conn.prepare(
        "SELECT s.id, s.name, s.kind, s.role, s.mapping, \
         (SELECT raw FROM source_records r WHERE r.source_id = s.id ORDER BY r.id LIMIT 1), \
         (SELECT geometry IS NOT NULL FROM source_records r WHERE r.source_id = s.id ORDER BY r.id LIMIT 1) \
         FROM sources s WHERE s.kind != 'truth' ORDER BY s.name",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, Option<String>>(5)?,
            r.get::<_, Option<bool>>(6)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, name, role, mapping, first, has_geometry) = row?;
        let mapping = match mapping {
            Some(m) => serde_json::from_str(&m)
                .map_err(|e| Error::Invalid(format!("source {name}: mapping {m:?}: {e}")))?,
            None => {
                let keys: Vec<String> = first
                    .as_deref()
                    .and_then(|f| {
                        serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(f).ok()
                    })
                    .map(|m| m.keys().cloned().collect())
                    .unwrap_or_default();
                Mapping::infer(keys.iter().map(String::as_str), &[])?
            }
        };
        let role = match role.as_deref() {
            Some(r) => r.parse().map_err(Error::Invalid)?,
            None if has_geometry == Some(true) => Role::Buildings,
            None => Role::Addresses,
        };
        out.push((id, name, role, mapping));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_moves_a_field_from_the_inferred_column() {
        let m = Mapping::infer(["地址全称", "addr2"], &["addr2=address".into()]).unwrap();
        assert_eq!(m.columns.len(), 1);
        assert_eq!(m.columns["addr2"], Field::Address);
    }

    #[test]
    fn fields_round_trip_by_name() {
        for f in Field::ALL {
            assert_eq!(f.as_str().parse::<Field>(), Ok(f));
        }
    }
}
