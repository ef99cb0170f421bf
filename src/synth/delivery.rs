//! The next month's delivery of the synthetic district's registers: what a district hands over
//! again a month later. About 1 % of the 公安 door plates change — some cancelled (the door is
//! gone: its work orders go too, and it leaves the truth), some renumbered (门牌号 changed: the
//! old door leaves the truth, the new one joins it with the same building), some corrected (a
//! missing point filled in) — and the rest is delivered as it was. Reads the earlier delivery's
//! directory and writes a whole new one (registers, `registers.toml`, `truth/`).

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::Path;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::write::{csv_err, io_err as io};
use super::{Error, Result};

fn read_table(path: &Path, gbk: bool) -> Result<(Vec<String>, Vec<Vec<String>>)> {
    let bytes = fs::read(path).map_err(io(path))?;
    let text = if gbk {
        encoding_rs::GBK.decode(&bytes).0.into_owned()
    } else {
        String::from_utf8_lossy(&bytes).into_owned()
    };
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let header = rdr
        .headers()
        .map_err(csv_err(path))?
        .iter()
        .map(str::to_string)
        .collect();
    let rows = rdr
        .records()
        .map(|r| r.map(|r| r.iter().map(str::to_string).collect()))
        .collect::<std::result::Result<Vec<Vec<String>>, _>>()
        .map_err(csv_err(path))?;
    Ok((header, rows))
}

fn write_table(path: &Path, header: &[String], rows: &[Vec<String>], gbk: bool) -> Result<()> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).map_err(csv_err(path))?;
    for r in rows {
        w.write_record(r).map_err(csv_err(path))?;
    }
    let text = String::from_utf8(w.into_inner().map_err(|e| Error::Write {
        path: path.display().to_string(),
        source: std::io::Error::other(e.to_string()),
    })?)
    .unwrap_or_default();
    let bytes = if gbk {
        encoding_rs::GBK.encode(&text).0.into_owned()
    } else {
        text.into_bytes()
    };
    fs::write(path, bytes).map_err(io(path))
}

/// What changed between the deliveries.
#[derive(Debug, Default, Clone, Copy)]
pub struct DeliveryChanges {
    /// 公安 door plates cancelled.
    pub cancelled: usize,
    /// Door plates renumbered.
    pub renumbered: usize,
    /// Door plates whose missing point was filled in.
    pub corrected: usize,
}

/// Writes the delivery after the one in `from` to `out` (seeded: the same seed gives the same
/// bytes).
pub fn next_delivery(from: &Path, out: &Path, seed: u64) -> Result<DeliveryChanges> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x6465_6c69_7665_7279);
    fs::create_dir_all(out.join("registers")).map_err(io(out))?;
    fs::create_dir_all(out.join("truth")).map_err(io(out))?;
    // Everything but the 公安 register, the work orders and the truth is delivered again as it
    // was.
    for entry in fs::read_dir(from.join("registers")).map_err(io(from))? {
        let entry = entry.map_err(io(from))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name != "公安门牌.csv" && name != "12345工单.csv" {
            fs::copy(entry.path(), out.join("registers").join(&name)).map_err(io(out))?;
        }
    }
    fs::copy(from.join("registers.toml"), out.join("registers.toml")).map_err(io(out))?;
    fs::copy(
        from.join("truth/buildings.geojson"),
        out.join("truth/buildings.geojson"),
    )
    .map_err(io(out))?;

    let (truth_header, truth) = read_table(&from.join("truth/addresses.csv"), false)?;
    let (_, links) = read_table(&from.join("truth/records.csv"), false)?;
    let address_of: HashMap<(&str, &str), &str> = links
        .iter()
        .filter(|l| l.len() >= 3)
        .map(|l| ((l[0].as_str(), l[1].as_str()), l[2].as_str()))
        .collect();
    let truth_by_id: HashMap<&str, &Vec<String>> =
        truth.iter().map(|t| (t[0].as_str(), t)).collect();
    let gongan_path = from.join("registers/公安门牌.csv");
    let (header, plates) = read_table(&gongan_path, true)?;
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| Error::Write {
                path: gongan_path.display().to_string(),
                source: std::io::Error::other(format!("no column {name}")),
            })
    };
    let (number, full, lon, lat) = (col("门牌号")?, col("地址全称")?, col("经度")?, col("纬度")?);
    // Doors named by more than one 公安 record are left alone (a duplicate is no door of its own).
    let mut plates_per_address: HashMap<&str, usize> = HashMap::new();
    for p in &plates {
        if let Some(a) = address_of.get(&("gongan_menpai", p[0].as_str())) {
            *plates_per_address.entry(a).or_default() += 1;
        }
    }
    let mut changes = DeliveryChanges::default();
    let mut gone: HashSet<String> = HashSet::new();
    let mut renumbered: Vec<(String, Vec<String>)> = Vec::new();
    let mut kept_plates = Vec::with_capacity(plates.len());
    let mut next_id = truth.len() + 1;
    for p in &plates {
        let address = address_of
            .get(&("gongan_menpai", p[0].as_str()))
            .copied()
            .filter(|a| plates_per_address.get(a) == Some(&1));
        let roll: f64 = rng.random();
        let digits = p[number].chars().all(|c| c.is_ascii_digit()) && !p[number].is_empty();
        match address.and_then(|a| truth_by_id.get(a)) {
            Some(t) if roll < 0.004 => {
                changes.cancelled += 1;
                gone.insert(t[0].clone());
            }
            Some(t) if roll < 0.007 && digits && p[full].contains(&format!("{}号", p[number])) => {
                changes.renumbered += 1;
                let new_number = format!("{}", p[number].parse::<u64>().unwrap_or(0) + 5000);
                let mut p = p.clone();
                p[full] =
                    p[full].replacen(&format!("{}号", p[number]), &format!("{new_number}号"), 1);
                let mut t = (*t).clone();
                t[1] = t[1].replacen(&format!("{}号", p[number]), &format!("{new_number}号"), 1);
                p[number] = new_number;
                gone.insert(t[0].clone());
                t[0] = format!("A{next_id:08}");
                next_id += 1;
                renumbered.push((t[0].clone(), t));
                kept_plates.push(p);
            }
            Some(t) if roll < 0.3 && p[lon].is_empty() => {
                changes.corrected += 1;
                let mut p = p.clone();
                (p[lon], p[lat]) = (t[5].clone(), t[6].clone());
                kept_plates.push(p);
            }
            _ => kept_plates.push(p.clone()),
        }
    }
    write_table(
        &out.join("registers/公安门牌.csv"),
        &header,
        &kept_plates,
        true,
    )?;
    let (order_header, orders) = read_table(&from.join("registers/12345工单.csv"), false)?;
    let orders: Vec<Vec<String>> = orders
        .into_iter()
        .filter(|o| {
            address_of
                .get(&("hotline_12345", o[0].as_str()))
                .is_none_or(|a| !gone.contains(*a))
        })
        .collect();
    write_table(
        &out.join("registers/12345工单.csv"),
        &order_header,
        &orders,
        false,
    )?;
    let mut truth: Vec<Vec<String>> = truth
        .into_iter()
        .filter(|t| !gone.contains(&t[0]))
        .collect();
    truth.extend(renumbered.into_iter().map(|(_, t)| t));
    write_table(
        &out.join("truth/addresses.csv"),
        &truth_header,
        &truth,
        false,
    )?;
    Ok(changes)
}
