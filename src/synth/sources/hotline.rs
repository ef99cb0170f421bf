//! 12345 work orders: how callers say an address (levels dropped, names misheard, numbers in
//! words), with GCJ-02 points from the hotline's map.

use rand::RngExt;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;

use super::super::geometry::round7;
use super::super::places::Places;
use super::{Fault, FaultKind, HOTLINE, Table, TruthLink, homophone_of};
use crate::address::community_address_name;
use crate::crs::wgs84_to_gcj02;
use crate::dictionaries::Dictionaries;
use crate::text::numerals;
use crate::{AddressKind, StandardAddress};

/// The work orders' columns (the same in the generator's source and the raw register).
pub(in crate::synth) const HOTLINE_COLUMNS: [&str; 6] = [
    "工单编号",
    "受理时间",
    "诉求地址",
    "经度",
    "纬度",
    "诉求类别",
];

/// The work orders: about one per 25 addresses (at least 200), each with its faults and the
/// address it stands for added to `faults` and `links`.
pub(super) fn work_orders(
    places: &Places,
    dicts: &Dictionaries,
    rng: &mut ChaCha8Rng,
    ids: &crate::synth::IdBase,
    faults: &mut Vec<Fault>,
    links: &mut Vec<TruthLink>,
) -> Table {
    let mut hotline = Table {
        name: HOTLINE,
        header: HOTLINE_COLUMNS.to_vec(),
        rows: Vec::new(),
    };
    let categories = [
        "噪声扰民",
        "道路破损",
        "垃圾清运",
        "违章搭建",
        "供水故障",
        "路灯不亮",
        "占道经营",
    ];
    let wanted = (places.addresses.len() / 25)
        .max(200)
        .min(places.addresses.len());
    for i in 0..wanted {
        let Some(a) = places.addresses.choose(rng) else {
            break;
        };
        let id = format!("RX{:08}", ids.hotline + i + 1);
        let (text, text_faults) = spoken(a, dicts, rng);
        let truth_text = a.canonical_text();
        for kind in text_faults {
            faults.push(Fault {
                source: HOTLINE,
                record_id: id.clone(),
                kind,
                field: "诉求地址",
                true_value: truth_text.clone(),
                given_value: text.clone(),
            });
        }
        let (lon, lat) = a.point.map(|p| (p.x(), p.y())).unwrap_or_default();
        let (glon, glat) = if rng.random_bool(0.7) {
            let (x, y) = wgs84_to_gcj02(lon, lat);
            faults.push(Fault {
                source: HOTLINE,
                record_id: id.clone(),
                kind: FaultKind::Gcj02Point,
                field: "经度,纬度",
                true_value: format!("{lon:.7},{lat:.7}"),
                given_value: format!("{:.7},{:.7}", round7(x), round7(y)),
            });
            (format!("{:.7}", round7(x)), format!("{:.7}", round7(y)))
        } else {
            (String::new(), String::new())
        };
        let day = 1 + (i % 28);
        hotline.rows.push(vec![
            id.clone(),
            format!("2026-10-{day:02} {:02}:{:02}", 8 + i % 10, (i * 7) % 60),
            text,
            glon,
            glat,
            categories[i % categories.len()].to_string(),
        ]);
        links.push(TruthLink {
            source: HOTLINE,
            record_id: id,
            address_id: a.id.clone(),
            building_id: a.building_id.clone().unwrap_or_default(),
        });
    }

    hotline
}

/// How a caller says an address: levels dropped, names misheard, numbers in words, 号楼 for 号,
/// words around it. Returns the text and the faults it carries.
pub(in crate::synth) fn spoken(
    a: &StandardAddress,
    dicts: &Dictionaries,
    rng: &mut ChaCha8Rng,
) -> (String, Vec<FaultKind>) {
    let mut faults = Vec::new();
    let mut s = String::new();
    if rng.random_bool(0.3) {
        s.push_str(
            ["我住在", "我家在", "就是", "那个"]
                .choose(rng)
                .unwrap_or(&""),
        );
    }
    if rng.random_bool(0.5) {
        s.push_str(&crate::dictionaries::district_short_name(&a.district));
        if rng.random_bool(0.5) {
            s.push_str(&a.town.name);
        } else {
            faults.push(FaultKind::MissingLevel);
        }
    } else {
        faults.push(FaultKind::MissingLevel);
    }
    let numerals = rng.random_bool(0.15);
    if numerals {
        faults.push(FaultKind::ChineseNumerals);
    }
    let num = |n: &str| {
        if numerals {
            numerals::spelled(n)
        } else {
            n.to_string()
        }
    };
    let mut name = a
        .road
        .clone()
        .unwrap_or_else(|| community_address_name(&a.community.name).to_string());
    if rng.random_bool(0.08)
        && let Some(h) = homophone_of(&name, dicts, rng)
    {
        name = h;
        faults.push(FaultKind::Homophone);
    }
    s.push_str(&name);
    if let Some(g) = &a.group {
        s.push_str(&num(g));
        s.push('组');
    }
    if let Some(l) = &a.lane {
        s.push_str(&num(l));
        s.push('弄');
    }
    if let Some(n) = &a.number {
        s.push_str(&num(n));
        if a.kind == AddressKind::Residential && rng.random_bool(0.4) {
            s.push_str("号楼");
            faults.push(FaultKind::BuildingMarkerVariant);
        } else {
            s.push('号');
        }
    }
    if let Some(b) = &a.building {
        s.push_str(&num(b));
        if rng.random_bool(0.5) {
            s.push_str(["栋", "号楼"].choose(rng).unwrap_or(&"栋"));
            faults.push(FaultKind::BuildingMarkerVariant);
        } else {
            s.push('幢');
        }
    }
    if a.kind == AddressKind::Residential && rng.random_bool(0.5) {
        s.push_str(&format!(
            "{}{:02}室",
            rng.random_range(1..=18),
            rng.random_range(1..=4)
        ));
    }
    if rng.random_bool(0.1) {
        s.push_str(["附近", "旁边", "门口"].choose(rng).unwrap_or(&"附近"));
    }
    faults.sort();
    faults.dedup();
    (s, faults)
}
