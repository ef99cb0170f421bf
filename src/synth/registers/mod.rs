//! `dizhi synth --registers`: what a district's departments really hand over for the generated
//! district, with no components, codes, kinds or links precomputed — the 公安 door plates (GBK
//! CSV, split columns and full text, CGCS2000 points), the 民政 place names (XLSX), the 12345 work
//! orders (free text, GCJ-02 points), the 规划资源 footprints (a Shapefile in EPSG:4549), the
//! division boundaries (a GeoPackage) and the road centre lines (GeoJSON) — with the
//! `registers.toml` a steward would write for them, and the truth they are scored against.
//!
//! The registers start from the extracts [`sources`](super::sources) builds, so they carry its
//! faults; the faults only registers have (records with no point, points in the street in front
//! of the building, a door plate written three ways, Chinese numerals in a door number, a wrong
//! 街镇, broken footprints) come from their own random stream, so `synth` without `--registers`
//! is unchanged.

mod layers;

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use geo::{Contains, Point};
use geojson::Geometry;
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::geometry::round7;
use super::sources::{GONGAN, HOTLINE, HOTLINE_COLUMNS, MINZHENG, spoken};
use super::write::{feature, io_err, write_features};
use super::{District, Error, Result};
use crate::StandardAddress;
use crate::dictionaries::Dictionaries;
use crate::text::numerals;
use layers::{kind_zh, write_boundaries, write_footprints, write_roads};

/// The register files, relative to the output directory.
pub const GONGAN_FILE: &str = "registers/公安门牌.csv";
/// The 民政 place-name register.
pub const MINZHENG_FILE: &str = "registers/民政地名.xlsx";
/// The 12345 work orders.
pub const HOTLINE_FILE: &str = "registers/12345工单.csv";
/// The 规划资源 footprints.
pub const FOOTPRINT_FILE: &str = "registers/建筑物.shp";
/// The division boundaries.
pub const BOUNDARY_FILE: &str = "registers/行政区划.gpkg";
/// The road centre lines.
pub const ROAD_FILE: &str = "registers/道路.geojson";

/// The two broken footprints' ids (a bow-tie and an empty one), which the build must report.
pub const BROKEN_FOOTPRINTS: [&str; 2] = ["JZ-ERR-1", "JZ-ERR-2"];

fn other_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Write {
        path: path.display().to_string(),
        source: std::io::Error::other(e.to_string()),
    }
}

/// A fault only the registers carry, for `truth/faults.csv`.
struct RegisterFault {
    register: &'static str,
    record_id: String,
    fault: &'static str,
    field: &'static str,
    true_value: String,
    given_value: String,
}

/// Writes the registers, `registers.toml` and `truth/` of a generated district to `out`.
pub(super) fn write_registers(d: &District, dicts: &Dictionaries, out: &Path) -> Result<()> {
    fs::create_dir_all(out.join("registers")).map_err(io_err(out))?;
    fs::create_dir_all(out.join("truth")).map_err(io_err(out))?;
    let mut rng = ChaCha8Rng::seed_from_u64(d.config.seed ^ 0x5245_4749_5354_4552);
    let mut faults: Vec<RegisterFault> = Vec::new();
    let mut links: Vec<[String; 4]> = Vec::new();

    let (work_orders, gongan_rows) =
        gongan_and_work_orders(d, dicts, &mut rng, &mut faults, &mut links);
    write_gbk_csv(&out.join(GONGAN_FILE), &super::GONGAN_COLUMNS, &gongan_rows)?;
    write_utf8_csv(&out.join(HOTLINE_FILE), &HOTLINE_COLUMNS, &work_orders)?;
    write_minzheng(d, &out.join(MINZHENG_FILE), &mut links)?;
    write_footprints(
        d,
        &out.join(FOOTPRINT_FILE),
        &mut rng,
        &mut faults,
        &mut links,
    )?;
    write_boundaries(d, &out.join(BOUNDARY_FILE))?;
    write_roads(d, &out.join(ROAD_FILE))?;
    write_config(d, &out.join("registers.toml"))?;
    write_truth(d, out, &faults, &links)
}

/// The 公安 door plates with the registers' own faults, and the 12345 work orders with one more
/// for every address no door plate or work order names, and for every door plate written three
/// ways.
fn gongan_and_work_orders(
    d: &District,
    dicts: &Dictionaries,
    rng: &mut ChaCha8Rng,
    faults: &mut Vec<RegisterFault>,
    links: &mut Vec<[String; 4]>,
) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    let table = |name: &str| d.sources.tables.iter().find(|t| t.name == name);
    let by_id: HashMap<&str, usize> = d
        .addresses
        .iter()
        .enumerate()
        .map(|(i, a)| (a.id.as_str(), i))
        .collect();
    let building_at: HashMap<&str, usize> = d
        .buildings
        .iter()
        .enumerate()
        .map(|(i, b)| (b.id.as_str(), i))
        .collect();
    let record_address: HashMap<(&str, &str), &str> = d
        .sources
        .links
        .iter()
        .filter(|l| l.source == GONGAN || l.source == HOTLINE)
        .map(|l| ((l.source, l.record_id.as_str()), l.address_id.as_str()))
        .collect();
    let mut named = vec![false; d.addresses.len()];
    let col = |name: &str| {
        super::GONGAN_COLUMNS
            .iter()
            .position(|c| *c == name)
            .expect("a 公安 column")
    };
    let (town, number, full, lon, lat) = (
        col("街镇"),
        col("门牌号"),
        col("地址全称"),
        col("经度"),
        col("纬度"),
    );
    let town_names: Vec<&str> = d.layout.towns.iter().map(|t| t.name.as_str()).collect();
    let mut three_ways: Vec<usize> = Vec::new();
    let mut gongan = Vec::new();
    for row in table(GONGAN).map(|t| t.rows.as_slice()).unwrap_or_default() {
        let mut row = row.clone();
        let id = row[0].clone();
        let address = record_address
            .get(&(GONGAN, id.as_str()))
            .and_then(|a| by_id.get(a))
            .copied();
        links.push([
            GONGAN.into(),
            id.clone(),
            address
                .map(|i| d.addresses[i].id.clone())
                .unwrap_or_default(),
            address
                .and_then(|i| d.addresses[i].building_id.clone())
                .unwrap_or_default(),
        ]);
        let mut fault = |fault: &'static str, field: &'static str, was: String, is: String| {
            faults.push(RegisterFault {
                register: GONGAN,
                record_id: id.clone(),
                fault,
                field,
                true_value: was,
                given_value: is,
            })
        };
        if let Some(i) = address {
            named[i] = true;
        }
        // A 公安 door plate is geocoded when it is issued: few lack a point (work orders often do).
        let roll: f64 = rng.random();
        if roll < 0.005 {
            fault(
                "no_point",
                "经度,纬度",
                format!("{},{}", row[lon], row[lat]),
                String::new(),
            );
            row[lon].clear();
            row[lat].clear();
        } else if roll < 0.055
            && let Some(i) = address
            && let Some(p) = street_point(d, i, &building_at, rng)
        {
            let given = (format!("{:.7}", p.0), format!("{:.7}", p.1));
            fault(
                "point_in_street",
                "经度,纬度",
                format!("{},{}", row[lon], row[lat]),
                format!("{},{}", given.0, given.1),
            );
            (row[lon], row[lat]) = given;
        }
        let roll: f64 = rng.random();
        if roll < 0.01 && !row[number].is_empty() {
            let spelled = numerals::spelled(&row[number]);
            fault(
                "chinese_numerals",
                "门牌号",
                row[number].clone(),
                spelled.clone(),
            );
            row[number] = spelled;
        } else if roll < 0.015 && !row[town].is_empty() {
            if let Some(other) = town_names
                .iter()
                .filter(|t| **t != row[town])
                .collect::<Vec<_>>()
                .choose(rng)
            {
                fault("wrong_town", "街镇", row[town].clone(), other.to_string());
                row[town] = other.to_string();
            }
        } else if roll < 0.03
            && let Some(i) = address
        {
            // The same door plate, written a second way in the full text and a third in a work
            // order.
            let variant = variant_full_text(&d.addresses[i]);
            fault(
                "variant_full_text",
                "地址全称",
                row[full].clone(),
                variant.clone(),
            );
            row[full] = variant;
            three_ways.push(i);
        }
        gongan.push(row);
    }

    let mut orders: Vec<Vec<String>> = Vec::new();
    for row in table(HOTLINE)
        .map(|t| t.rows.as_slice())
        .unwrap_or_default()
    {
        let address = record_address
            .get(&(HOTLINE, row[0].as_str()))
            .and_then(|a| by_id.get(a))
            .copied();
        if let Some(i) = address {
            named[i] = true;
        }
        links.push(link(HOTLINE, &row[0], address.map(|i| &d.addresses[i])));
        orders.push(row.clone());
    }
    let unnamed = named
        .iter()
        .enumerate()
        .filter(|(_, n)| !**n)
        .map(|(i, _)| i);
    let extra: Vec<usize> = unnamed.chain(three_ways).collect();
    let categories = ["噪声扰民", "道路破损", "垃圾清运", "违章搭建", "供水故障"];
    for i in extra {
        let a = &d.addresses[i];
        let n = orders.len();
        let id = format!("RX{:08}", n + 1);
        let (text, _) = spoken(a, dicts, rng);
        let (x, y) = match a.point {
            Some(p) if rng.random_bool(0.5) => {
                let (x, y) = crate::crs::wgs84_to_gcj02(p.x(), p.y());
                (format!("{:.7}", round7(x)), format!("{:.7}", round7(y)))
            }
            _ => (String::new(), String::new()),
        };
        orders.push(vec![
            id.clone(),
            format!(
                "2026-11-{:02} {:02}:{:02}",
                1 + n % 28,
                8 + n % 10,
                (n * 7) % 60
            ),
            text,
            x,
            y,
            categories[n % categories.len()].to_string(),
        ]);
        links.push(link(HOTLINE, &id, Some(a)));
    }
    (orders, gongan)
}

fn link(register: &str, record: &str, a: Option<&StandardAddress>) -> [String; 4] {
    [
        register.to_string(),
        record.to_string(),
        a.map(|a| a.id.clone()).unwrap_or_default(),
        a.and_then(|a| a.building_id.clone()).unwrap_or_default(),
    ]
}

/// A door plate as a clerk types it into the full-text column: no 上海市, the door number in
/// Chinese numerals, 号楼 for 幢.
fn variant_full_text(a: &StandardAddress) -> String {
    let mut s = a.district.clone();
    s.push_str(&a.town.name);
    match &a.road {
        Some(r) => s.push_str(r),
        None => s.push_str(crate::address::community_address_name(&a.community.name)),
    }
    if let Some(g) = &a.group {
        s.push_str(g);
        s.push('组');
    }
    if let Some(l) = &a.lane {
        s.push_str(l);
        s.push('弄');
    }
    if let Some(n) = &a.number {
        s.push_str(&numerals::spelled(n));
        s.push('号');
    }
    if let Some(b) = &a.building {
        s.push_str(b);
        s.push_str("号楼");
    }
    s
}

/// A point in the street in front of the address's building: from the address's point towards
/// its road, out of the footprint, then 3–12 m further. `None` for an address on no road.
fn street_point(
    d: &District,
    i: usize,
    building_at: &HashMap<&str, usize>,
    rng: &mut ChaCha8Rng,
) -> Option<(f64, f64)> {
    let a = &d.addresses[i];
    let road = &d.roads[d.address_road.get(i).copied().flatten()?];
    let footprint = &d.buildings[*building_at.get(a.building_id.as_deref()?)?].footprint;
    let frame = d.layout.frame;
    let point = a.point?;
    let p = frame.to_xy(point.x(), point.y());
    let q = nearest_on_line(&road.points, p)?;
    let dist = super::layout::dist(p, q);
    if dist < 1.0 {
        return None;
    }
    let u = ((q.0 - p.0) / dist, (q.1 - p.1) / dist);
    let inside = |t: f64| {
        let (lon, lat) = frame.to_lonlat(p.0 + u.0 * t, p.1 + u.1 * t);
        footprint.contains(&Point::new(lon, lat))
    };
    let mut t = 0.0;
    while inside(t) {
        t += 0.5;
        if t > dist + 50.0 {
            return None;
        }
    }
    let t = t + rng.random_range(3.0..12.0);
    let (lon, lat) = frame.to_lonlat(p.0 + u.0 * t, p.1 + u.1 * t);
    let (lon, lat) = (round7(lon), round7(lat));
    (!footprint.contains(&Point::new(lon, lat))).then_some((lon, lat))
}

/// The point of a polyline nearest to `p`.
fn nearest_on_line(line: &[(f64, f64)], p: (f64, f64)) -> Option<(f64, f64)> {
    let mut best: Option<((f64, f64), f64)> = None;
    for w in line.windows(2) {
        let (a, b) = (w[0], w[1]);
        let ab = (b.0 - a.0, b.1 - a.1);
        let len2 = ab.0 * ab.0 + ab.1 * ab.1;
        let t = if len2 > 0.0 {
            (((p.0 - a.0) * ab.0 + (p.1 - a.1) * ab.1) / len2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let c = (a.0 + t * ab.0, a.1 + t * ab.1);
        let dd = super::layout::dist(p, c);
        if best.is_none_or(|(_, bd)| dd < bd) {
            best = Some((c, dd));
        }
    }
    best.map(|(c, _)| c)
}

fn csv_bytes(path: &Path, header: &[&str], rows: &[Vec<String>]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).map_err(|e| other_err(path, e))?;
    for row in rows {
        w.write_record(row).map_err(|e| other_err(path, e))?;
    }
    w.into_inner().map_err(|e| other_err(path, e))
}

fn write_utf8_csv(path: &Path, header: &[&str], rows: &[Vec<String>]) -> Result<()> {
    fs::write(path, csv_bytes(path, header, rows)?).map_err(io_err(path))
}

/// A CSV in GBK, as a department's desktop export writes it.
fn write_gbk_csv(path: &Path, header: &[&str], rows: &[Vec<String>]) -> Result<()> {
    let utf8 = String::from_utf8(csv_bytes(path, header, rows)?).map_err(|e| other_err(path, e))?;
    let (gbk, _, _) = encoding_rs::GBK.encode(&utf8);
    fs::write(path, gbk).map_err(io_err(path))
}

/// The 民政 place names as a workbook: 地名代码, 标准名称, 类别, 所属街镇, 门牌起, 门牌止.
fn write_minzheng(d: &District, path: &Path, links: &mut Vec<[String; 4]>) -> Result<()> {
    use rust_xlsxwriter::{DocProperties, ExcelDateTime, Workbook};
    let x = |e: rust_xlsxwriter::XlsxError| other_err(path, e);
    let Some(table) = d.sources.tables.iter().find(|t| t.name == MINZHENG) else {
        return Ok(());
    };
    let keep: Vec<usize> = [
        "地名代码",
        "标准名称",
        "类别",
        "所属街镇",
        "门牌起",
        "门牌止",
    ]
    .iter()
    .filter_map(|c| table.header.iter().position(|h| h == c))
    .collect();
    let mut book = Workbook::new();
    // A fixed creation time: the same seed gives the same bytes.
    let when = ExcelDateTime::from_ymd(2026, 10, 1).map_err(x)?;
    book.set_properties(&DocProperties::new().set_creation_datetime(&when));
    let sheet = book.add_worksheet();
    sheet.set_name("地名").map_err(x)?;
    for (c, &k) in keep.iter().enumerate() {
        sheet
            .write_string(0, c as u16, table.header[k])
            .map_err(x)?;
    }
    for (r, row) in table.rows.iter().enumerate() {
        for (c, &k) in keep.iter().enumerate() {
            if !row[k].is_empty() {
                sheet
                    .write_string(r as u32 + 1, c as u16, &row[k])
                    .map_err(x)?;
            }
        }
    }
    for l in d.sources.links.iter().filter(|l| l.source == MINZHENG) {
        links.push([
            MINZHENG.into(),
            l.record_id.clone(),
            l.address_id.clone(),
            l.building_id.clone(),
        ]);
    }
    book.save(path).map_err(x)
}

fn write_config(d: &District, path: &Path) -> Result<()> {
    let district = &d.layout.district.code;
    let text = format!(
        r#"# What the district's departments handed over, and how to read each file.
# Written by `dizhi synth --registers` for the synthetic district.
[district]
divisions = ["{district}"]

[link]
max_distance_m = 40

[[addresses]]
name = "gongan_menpai"
department = "公安"
path = "{GONGAN_FILE}"
trust = "register"
encoding = "gbk"
id = "门牌编号"
address = "地址全称"
parts = {{ town = "街镇", community = "居委会", road = "路名", lane = "弄号", number = "门牌号", building = "楼幢号", group = "村组" }}
x = "经度"
y = "纬度"
crs = "cgcs2000"

[[addresses]]
name = "hotline_12345"
department = "12345"
path = "{HOTLINE_FILE}"
trust = "work_orders"
encoding = "utf-8"
id = "工单编号"
address = "诉求地址"
x = "经度"
y = "纬度"
crs = "gcj02"

[[names]]
name = "minzheng_diming"
department = "民政"
path = "{MINZHENG_FILE}"
id = "地名代码"
name_column = "标准名称"
category = "类别"
town = "所属街镇"

[[footprints]]
name = "guihua_jzw"
department = "规划资源"
path = "{FOOTPRINT_FILE}"
id = "JZWBM"
floors = "JZCS"
kind = "JZWLX"

[[boundaries]]
path = "{BOUNDARY_FILE}"
layer = "jiezhen"
level = "town"
code = "XZQDM"
name = "XZQMC"

[[boundaries]]
path = "{BOUNDARY_FILE}"
layer = "juweihui"
level = "community"
code = "XZQDM"
name = "XZQMC"

[[roads]]
path = "{ROAD_FILE}"
name = "DLMC"
"#
    );
    fs::write(path, text).map_err(io_err(path))
}

/// `truth/addresses.csv`, `truth/buildings.geojson`, `truth/records.csv` (which address and
/// building each register record names) and `truth/faults.csv`.
fn write_truth(
    d: &District,
    out: &Path,
    faults: &[RegisterFault],
    links: &[[String; 4]],
) -> Result<()> {
    let truth = out.join("truth");
    let rows: Vec<Vec<String>> = d
        .addresses
        .iter()
        .map(|a| {
            let (lon, lat) = a.point.map(|p| (p.x(), p.y())).unwrap_or_default();
            vec![
                a.id.clone(),
                a.canonical_text(),
                a.town.code.clone(),
                a.community.code.clone(),
                a.building_id.clone().unwrap_or_default(),
                format!("{lon:.7}"),
                format!("{lat:.7}"),
            ]
        })
        .collect();
    write_utf8_csv(
        &truth.join("addresses.csv"),
        &[
            "id",
            "address",
            "town_code",
            "community_code",
            "building_id",
            "lon",
            "lat",
        ],
        &rows,
    )?;
    write_features(
        &truth.join("buildings.geojson"),
        d.buildings.iter().map(|b| {
            feature(
                Geometry::from(&b.footprint),
                vec![
                    ("id", b.id.clone().into()),
                    ("kind", kind_zh(b.kind).into()),
                    ("floors", b.floors.into()),
                ],
            )
        }),
    )?;
    let links: Vec<Vec<String>> = links.iter().map(|l| l.to_vec()).collect();
    write_utf8_csv(
        &truth.join("records.csv"),
        &["register", "record_id", "address_id", "building_id"],
        &links,
    )?;
    let faults: Vec<Vec<String>> = d
        .sources
        .faults
        .iter()
        .filter(|f| f.source == GONGAN || f.source == HOTLINE || f.source == MINZHENG)
        .map(|f| {
            vec![
                f.source.to_string(),
                f.record_id.clone(),
                f.kind.as_str().to_string(),
                f.field.to_string(),
                f.true_value.clone(),
                f.given_value.clone(),
            ]
        })
        .chain(faults.iter().map(|f| {
            vec![
                f.register.to_string(),
                f.record_id.clone(),
                f.fault.to_string(),
                f.field.to_string(),
                f.true_value.clone(),
                f.given_value.clone(),
            ]
        }))
        .collect();
    write_utf8_csv(
        &truth.join("faults.csv"),
        &[
            "register",
            "record_id",
            "fault",
            "field",
            "true_value",
            "given_value",
        ],
        &faults,
    )
}
