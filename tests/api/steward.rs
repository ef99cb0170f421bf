//! The steward view's endpoints on the fused fixture (the governance server of `anomalies`): who
//! the caller is, an anomaly's evidence, the dashboard and its CSV/XLSX report, the severity
//! filter of the queue — and their 4xx on bad input. Only rules no other test reviews are
//! counted, so the numbers hold while those tests write.

use std::io::Cursor;

use calamine::Reader;
use dizhi::api::auth::Role;
use serde_json::Value;

use super::anomalies::{all_pages, gov, gov_key, ok};
use super::{enc, get};

fn gis() -> Option<&'static str> {
    gov_key(Role::Gis)
}

#[test]
fn me_names_the_key_and_needs_one() {
    let me = ok(get(gov(), "/v1/me", gis()), 200);
    assert_eq!(
        (me["key_id"].as_str(), me["role"].as_str()),
        (Some("gov-gis"), Some("gis"))
    );
    assert!(me["town"].is_null(), "no town in this key's entry: {me}");
    get(gov(), "/v1/me", None).error(401, "unauthorized");
}

#[test]
fn the_evidence_of_an_anomaly_shows_every_source_its_points_and_footprints() {
    // A point outside its address's building: the record, the address, the building and the
    // distance between the record's point and the address's.
    let page = ok(
        get(
            gov(),
            "/v1/anomalies?rule=point_outside_building&limit=20",
            gis(),
        ),
        200,
    );
    let mut checked = 0;
    for a in page["anomalies"].as_array().unwrap() {
        let id = a["id"].as_i64().unwrap();
        let e = ok(
            get(gov(), &format!("/v1/anomalies/{id}/evidence"), gis()),
            200,
        );
        assert_eq!(e["id"], id);
        assert!(e["history"].as_array().is_some_and(|h| !h.is_empty()));
        let ev = &e["evidence"];
        let records = ev["records"].as_array().unwrap();
        let own = &records[0];
        assert_eq!(own["concerned"], true);
        assert_eq!(
            (&own["source"], &own["record_key"]),
            (&a["source"], &a["record_key"])
        );
        assert!(own["raw"].is_object(), "the raw record as it came: {own}");
        assert!(records[1..].iter().all(|r| r["concerned"] == false));
        let addresses = ev["addresses"].as_array().unwrap();
        if addresses.is_empty() {
            continue;
        }
        // Every other record is fused to one of the anomaly's addresses.
        let ids: Vec<&Value> = addresses.iter().map(|x| &x["id"]).collect();
        assert!(records[1..].iter().all(|r| ids.contains(&&r["address_id"])));
        assert!(
            addresses[0]["address"]
                .as_str()
                .is_some_and(|s| !s.is_empty())
        );
        let features = ev["buildings"]["features"].as_array().unwrap();
        assert!(!features.is_empty(), "{ev}");
        assert!(features.iter().all(|f| f["geometry"]["type"] == "Polygon"));
        if own["point"].is_array() && addresses[0]["point"].is_array() {
            let from = format!(
                "{}/{}",
                own["source"].as_str().unwrap(),
                own["record_key"].as_str().unwrap()
            );
            let to = format!("address:{}", addresses[0]["id"].as_str().unwrap());
            let d = ev["distances"]
                .as_array()
                .unwrap()
                .iter()
                .find(|d| {
                    (d["from"] == from.as_str() && d["to"] == to.as_str())
                        || (d["from"] == to.as_str() && d["to"] == from.as_str())
                })
                .unwrap_or_else(|| panic!("no distance {from} – {to}: {ev}"));
            assert!(d["metres"].as_f64().unwrap() > 0.0);
            checked += 1;
        }
    }
    assert!(
        checked > 0,
        "no point_outside_building anomaly with both points"
    );
    // Unknown, malformed, no key, a role that may not read the queue.
    get(gov(), "/v1/anomalies/99999999/evidence", gis()).error(404, "not_found");
    get(gov(), "/v1/anomalies/abc/evidence", gis()).error(400, "bad_request");
    get(gov(), "/v1/anomalies/1/evidence", None).error(401, "unauthorized");
    get(gov(), "/v1/anomalies/1/evidence", gov_key(Role::Hotline)).error(403, "forbidden");
}

/// The dashboard's groups of one rule nobody reviews in these tests, summed by status.
fn counted(d: &Value, rule: &str, town: &str) -> u64 {
    d["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["rule"] == rule && g["town"] == town && g["status"] == "open")
        .map(|g| g["count"].as_u64().unwrap())
        .sum()
}

#[test]
fn the_dashboard_counts_agree_with_the_queue() {
    let d = ok(get(gov(), "/v1/anomalies/dashboard?weeks=4", gis()), 200);
    let groups = d["groups"].as_array().unwrap();
    let total: u64 = groups.iter().map(|g| g["count"].as_u64().unwrap()).sum();
    assert_eq!(d["total"].as_u64(), Some(total));
    assert!(total > 1000, "{total}");
    // The trend: four weeks ending with this one, oldest first; fusion just raised them all.
    let trend = d["trend"].as_array().unwrap();
    assert_eq!(trend.len(), 4);
    assert!(
        trend
            .windows(2)
            .all(|w| w[0]["week"].as_str() < w[1]["week"].as_str())
    );
    assert!(trend[3]["raised"].as_u64().unwrap() >= total.min(1));
    // One 街镇 and rule: the dashboard's count is what the queue lists.
    let rule = "gcj02_shift_suspected";
    let town = groups
        .iter()
        .find(|g| g["rule"] == rule && g["town"].is_string())
        .expect("a gcj02_shift_suspected anomaly with a 街镇")["town"]
        .as_str()
        .unwrap()
        .to_string();
    let listed = all_pages(
        &format!("status=open&rule={rule}&assignee={}", enc(&town)),
        200,
    );
    assert_eq!(listed.len() as u64, counted(&d, rule, &town));
    // Only that 街镇's.
    let mine = ok(
        get(
            gov(),
            &format!("/v1/anomalies/dashboard?town={}", enc(&town)),
            gis(),
        ),
        200,
    );
    assert!(
        mine["groups"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["town"] == town.as_str())
    );
    assert_eq!(counted(&mine, rule, &town), listed.len() as u64);
    assert_eq!(
        mine["trend"].as_array().unwrap().len(),
        8,
        "eight weeks by default"
    );
    // Severity: the queue's filter agrees with the groups.
    let errors: u64 = groups
        .iter()
        .filter(|g| {
            g["severity"] == "error"
                && g["rule"] == rule
                && g["town"] == town.as_str()
                && g["status"] == "open"
        })
        .map(|g| g["count"].as_u64().unwrap())
        .sum();
    let listed = all_pages(
        &format!(
            "status=open&rule={rule}&severity=error&assignee={}",
            enc(&town)
        ),
        200,
    );
    assert_eq!(listed.len() as u64, errors);
    assert!(listed.iter().all(|a| a["severity"] == "error"));
    // Bad input.
    for path in [
        "/v1/anomalies/dashboard?weeks=0",
        "/v1/anomalies/dashboard?weeks=105",
        "/v1/anomalies/dashboard?weeks=x",
        "/v1/anomalies/dashboard?format=csv",
        "/v1/anomalies?severity=fatal",
    ] {
        get(gov(), path, gis()).error(400, "bad_request");
    }
    let long = "镇".repeat(101);
    get(
        gov(),
        &format!("/v1/anomalies/dashboard?town={}", enc(&long)),
        gis(),
    )
    .error(400, "bad_request");
    get(gov(), "/v1/anomalies/dashboard", None).error(401, "unauthorized");
    get(gov(), "/v1/anomalies/dashboard", gov_key(Role::Hotline)).error(403, "forbidden");
}

#[test]
fn the_report_is_a_csv_or_an_xlsx_of_the_dashboard() {
    let before = ok(get(gov(), "/v1/anomalies/dashboard", gis()), 200)["total"]
        .as_u64()
        .unwrap();
    let r = get(gov(), "/v1/anomalies/report?format=csv", gis());
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        r.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let text = r.text.trim_start_matches('\u{feff}');
    let mut csv = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = csv.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(
        header,
        [
            "街镇",
            "规则",
            "规则名称",
            "待处理",
            "已确认",
            "已驳回",
            "已解决",
            "合计"
        ]
    );
    let mut sum = 0u64;
    for rec in csv.records() {
        let rec = rec.unwrap();
        let n: Vec<u64> = (3..8).map(|i| rec[i].parse().unwrap()).collect();
        assert_eq!(n[..4].iter().sum::<u64>(), n[4], "{rec:?}");
        if rec[1] != *"objection" {
            assert!(!rec[2].is_empty(), "a Chinese rule name: {rec:?}");
        }
        sum += n[4];
    }
    let after = ok(get(gov(), "/v1/anomalies/dashboard", gis()), 200)["total"]
        .as_u64()
        .unwrap();
    // Other tests may file objections meanwhile: anomalies are only ever added.
    assert!(
        (before..=after).contains(&sum),
        "{before} ≤ {sum} ≤ {after}"
    );
    // XLSX: the table and the trend, as two sheets.
    let r = gis_bytes("/v1/anomalies/report?format=xlsx&weeks=3");
    let mut book = calamine::Xlsx::new(Cursor::new(r)).unwrap();
    assert_eq!(book.sheet_names(), ["按街镇和规则", "近期趋势"]);
    let trend = book.worksheet_range("近期趋势").unwrap();
    assert_eq!(trend.height(), 4, "a header and three weeks");
    for bad in ["format=pdf", "format=csv&weeks=0"] {
        get(gov(), &format!("/v1/anomalies/report?{bad}"), gis()).error(400, "bad_request");
    }
    get(gov(), "/v1/anomalies/report", None).error(401, "unauthorized");
}

/// The body of a GET with the gis key, as bytes.
fn gis_bytes(path: &str) -> Vec<u8> {
    let url = format!("{}{path}", gov().base);
    crate::common::RT.block_on(async {
        let r = reqwest::Client::new()
            .get(url)
            .header("Authorization", format!("Bearer {}", gis().unwrap()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        r.bytes().await.unwrap().to_vec()
    })
}
