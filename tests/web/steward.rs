//! The steward's workspace end to end, in Chromium: a steward whose key names their 街镇 opens the
//! queue (filtered to that 街镇), narrows it to a rule, opens an anomaly, sees both sources' points
//! on the map, and confirms it with a note by keyboard alone — then the store has the change and
//! its audit row. A hotline operator reports a wrong address from a lookup result, and the
//! objection appears in the steward's queue. The dashboard draws its charts. Screenshots of the
//! queue, the evidence on the map and the dashboard go to `docs/screenshots/`.

use std::collections::BTreeSet;
use std::sync::LazyLock;
use std::time::Duration;

use dizhi::api::auth::{KeyEntry, Role, hash_key};
use dizhi::api::{AppState, Config};
use dizhi::fuse::anomalies::{self, evidence, page};
use dizhi::fuse::{self, Status};
use dizhi::store::Store;
use serde_json::json;

use super::webdriver::Browser;
use super::{CONTROL, ENTER, ESCAPE, assert_fits, browser, screenshot_path, wait_attr, wait_text};
use crate::common::serve_on_loopback;

const STEWARD_KEY: &str = "dzk_desk-steward_d3sk";
const HOTLINE_KEY: &str = "dzk_desk-hotline_h0t";

/// A fused fixture served with a hotline key and a steward key whose entry names a 街镇, and the
/// anomaly the steward will decide: the first open one of its (街镇, rule) whose evidence has the
/// points of two sources.
struct Desk {
    dir: tempfile::TempDir,
    base: String,
    town: String,
    rule: String,
    target: i64,
    sources: BTreeSet<String>,
}

/// The sources with a point in an anomaly's evidence.
fn sources_with_points(store: &Store, a: &fuse::Anomaly) -> BTreeSet<String> {
    let e = evidence::evidence(store, a).unwrap();
    e.records
        .iter()
        .filter(|r| r.point.is_some())
        .map(|r| r.source.clone())
        .collect()
}

static DESK: LazyLock<Desk> = LazyLock::new(|| {
    let dir = crate::api::anomalies::fused_dir();
    let store = Store::open(dir.path()).unwrap();
    let groups = anomalies::dashboard::groups(&store, None).unwrap();
    let mut pairs: Vec<(String, String)> = groups
        .iter()
        .filter(|g| g.status == Status::Open && g.rule != "objection")
        .filter_map(|g| Some((g.town.clone()?, g.rule.clone())))
        .collect();
    pairs.sort();
    pairs.dedup();
    let (town, rule, target, sources) = pairs
        .into_iter()
        .find_map(|(town, rule)| {
            let q = page::AnomalyQuery {
                status: Some(Status::Open),
                rule: Some(rule.clone()),
                assignee: Some(town.clone()),
                limit: 1,
                ..Default::default()
            };
            let a = page::page(&store, &q).unwrap().pop()?;
            let sources = sources_with_points(&store, &a);
            (sources.len() >= 2).then_some((town, rule, a.id, sources))
        })
        .expect("an open anomaly whose evidence has two sources' points");
    drop(store);
    let entry = |id: &str, role, key: &str, town: Option<&str>| KeyEntry {
        id: id.into(),
        role,
        hash: hash_key(key).unwrap(),
        note: None,
        town: town.map(str::to_string),
    };
    let mut config: Config = toml::from_str("anonymous_lookups = true").unwrap();
    config.keys = vec![
        entry(
            "desk-steward",
            Role::Steward,
            STEWARD_KEY,
            Some(town.as_str()),
        ),
        entry("desk-hotline", Role::Hotline, HOTLINE_KEY, None),
    ];
    let (state, _) = AppState::build(dir.path(), Some(config), true).unwrap();
    let base = format!("http://{}", serve_on_loopback(state));
    Desk {
        dir,
        base,
        town,
        rule,
        target,
        sources,
    }
});

fn dialog_open(b: &Browser, id: &str) -> bool {
    b.exec(
        "return document.getElementById(arguments[0]).open",
        json!([id]),
    ) == true
}

/// Enters a key in the key dialog once it opens.
fn give_key(b: &Browser, key: &str) {
    b.wait("the key dialog", || {
        dialog_open(b, "key-dialog").then_some(())
    });
    // The dialog offers the key in use (another role's): select it and type over it.
    assert_eq!(b.focused(), "input#key-input");
    b.chord(&[CONTROL, "a"]);
    b.send_keys(&b.find("#key-input"), key);
    b.press(&[ENTER]);
}

/// Sets a filter's select as a person choosing an option would (a change event).
fn choose(b: &Browser, select: &str, value: &str) {
    b.exec(
        "const s = document.getElementById(arguments[0]); s.value = arguments[1]; \
         s.dispatchEvent(new Event('change'));",
        json!([select, value]),
    );
}

/// The queue's first item, once loaded.
fn first_in_queue(b: &Browser) -> String {
    wait_attr(b, "#queue li[data-id]", "data-id")
}

#[test]
fn a_steward_confirms_an_anomaly_of_their_town_by_keyboard_with_the_evidence_on_the_map() {
    let Some((_guard, b)) = browser() else { return };
    let desk = &*DESK;
    b.goto(&desk.base);
    b.click(&b.find("#tab-steward"));
    // The page asks for the key once; the key's 街镇 is the queue's filter.
    give_key(&b, STEWARD_KEY);
    first_in_queue(&b);
    assert_eq!(
        b.exec("return document.getElementById('f-town').value", json!([])),
        desk.town.as_str()
    );
    assert_eq!(
        b.exec(
            "return document.getElementById('f-status').value",
            json!([])
        ),
        "open"
    );
    wait_text(&b, "#queue-counts", |t| t.contains("待处理"));
    assert_fits(&b);
    b.screenshot(&screenshot_path("steward-queue.png"));
    choose(&b, "f-rule", &desk.rule);
    b.wait("the rule's queue", || {
        (first_in_queue(&b) == desk.target.to_string()).then_some(())
    });
    // Keyboard alone from here: the queue has the focus; j opens the first anomaly.
    b.exec("document.getElementById('queue').focus()", json!([]));
    b.press(&["j"]);
    wait_attr(&b, "#anomaly-status", "data-status");
    assert_eq!(
        wait_attr(&b, "#evidence-map", "data-anomaly"),
        desk.target.to_string()
    );
    // Both sources' points are drawn inside the map.
    let drawn = b.wait("both sources on the map", || {
        let s = b.exec(
            "return document.getElementById('evidence-map').dataset.sources || ''",
            json!([]),
        );
        let drawn: BTreeSet<String> = s
            .as_str()?
            .split(' ')
            .filter(|x| !x.is_empty())
            .map(str::to_string)
            .collect();
        (drawn.len() >= 2).then_some(drawn)
    });
    assert!(
        drawn.is_subset(&desk.sources) && drawn.len() >= 2,
        "{drawn:?} of {:?}",
        desk.sources
    );
    wait_text(&b, "#records", |t| {
        desk.sources.iter().all(|s| t.contains(s.as_str()))
    });
    // Let the map's context (roads, buildings) arrive before the picture.
    std::thread::sleep(Duration::from_millis(600));
    b.screenshot(&screenshot_path("steward-evidence.png"));
    // n → the note; type; Esc back to the queue; c confirms with the note.
    let note = "现场核实：两个来源的点位不一致";
    b.press(&["n"]);
    assert_eq!(b.focused(), "textarea#note");
    b.type_slowly(&b.find("#note"), note, Duration::from_millis(5));
    b.press(&[ESCAPE]);
    assert_eq!(b.focused(), "ol#queue");
    b.press(&["c"]);
    b.wait("the confirmation", || {
        (wait_attr(&b, "#anomaly-status", "data-status") == "confirmed").then_some(())
    });
    wait_text(&b, "#history", |t| t.contains(note));
    assert!(!dialog_open(&b, "key-dialog"), "the key was asked for once");
    // In the store: the status, the review with the note, and the audit row with who and before.
    let store = Store::open(desk.dir.path()).unwrap();
    let a = anomalies::get(&store, desk.target).unwrap();
    assert_eq!(a.status, Status::Confirmed);
    let review = a.reviews.last().unwrap();
    assert_eq!(
        (
            review.reviewer.as_str(),
            review.decision.as_str(),
            review.note.as_deref()
        ),
        ("desk-steward", "confirmed", Some(note))
    );
    let audit = fuse::audit_log(&store, Some(&format!("anomaly:{}", desk.target))).unwrap();
    let row = audit.last().unwrap();
    assert_eq!(
        (row.actor.as_str(), row.action.as_str()),
        ("desk-steward", "anomaly.transition")
    );
    let before: serde_json::Value = serde_json::from_str(row.before.as_deref().unwrap()).unwrap();
    let after: serde_json::Value = serde_json::from_str(row.after.as_deref().unwrap()).unwrap();
    assert_eq!(
        (before["status"].as_str(), after["status"].as_str()),
        (Some("open"), Some("confirmed"))
    );
    assert_eq!(after["comment"], note);
    // k goes back up; the list shows the new status.
    assert_eq!(
        wait_attr(&b, &format!("#q-{}", desk.target), "data-status"),
        "confirmed"
    );
}

#[test]
fn an_operator_reports_a_wrong_address_and_it_reaches_the_stewards_queue() {
    let Some((_guard, b)) = browser() else { return };
    let desk = &*DESK;
    // An address of the steward's 街镇.
    let (address_id, text): (String, String) = {
        let store = Store::open(desk.dir.path()).unwrap();
        store
            .connection()
            .query_row(
                "SELECT id, address FROM addresses WHERE town = ?1 AND building_id IS NOT NULL \
                 ORDER BY id LIMIT 1 OFFSET 7",
                [&desk.town],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
    };
    b.goto(&desk.base);
    b.send_keys(&b.find("#q"), &text);
    b.press(&[ENTER]);
    wait_text(&b, "#answer", |t| t == text);
    assert_eq!(b.text(&b.find("#fact-id")), address_id);
    b.click(&b.find("#report-wrong"));
    b.wait("the objection dialog", || {
        dialog_open(&b, "objection-dialog").then_some(())
    });
    b.send_keys(&b.find("#objection-note"), "来电人 13912345678 称门牌已改");
    b.click(&b.find("#objection-ok"));
    // Objections need a key even where lookups are anonymous: the page asks for it.
    give_key(&b, HOTLINE_KEY);
    let id: i64 = wait_text(&b, "#objection-anomaly", |t| t.starts_with('#'))
        .trim_start_matches('#')
        .parse()
        .unwrap();
    assert!(b.text(&b.find("#objection-result")).contains(&desk.town));
    let store = Store::open(desk.dir.path()).unwrap();
    let a = anomalies::get(&store, id).unwrap();
    assert_eq!(
        (a.rule.as_str(), a.entity_id.as_str()),
        ("objection", address_id.as_str())
    );
    assert_eq!(a.assignee.as_deref(), Some(desk.town.as_str()));
    let history = fuse::audit_log(&store, Some(&format!("anomaly:{id}"))).unwrap();
    assert!(
        history
            .iter()
            .all(|h| !h.after.as_deref().unwrap_or("").contains("13912345678"))
    );
    // The steward's queue (same browser: the hotline key may not read it, so the page asks for
    // the steward's) lists it under 异议.
    b.click(&b.find("#tab-steward"));
    give_key(&b, STEWARD_KEY);
    first_in_queue(&b);
    choose(&b, "f-rule", "objection");
    wait_attr(&b, &format!("#q-{id}"), "data-id");
}

#[test]
fn the_dashboard_draws_towns_rules_and_the_trend() {
    let Some((_guard, b)) = browser() else { return };
    let desk = &*DESK;
    // A day's work of the 街镇's steward, over HTTP: two confirmed (one of them then resolved),
    // two rejected — anomalies of another rule than the keyboard test's.
    let store = Store::open(desk.dir.path()).unwrap();
    let q = page::AnomalyQuery {
        status: Some(Status::Open),
        assignee: Some(desk.town.clone()),
        limit: 200,
        ..Default::default()
    };
    let ids: Vec<i64> = page::page(&store, &q)
        .unwrap()
        .into_iter()
        .filter(|a| a.rule.as_str() != desk.rule && a.rule.as_str() != "objection")
        .map(|a| a.id)
        .take(4)
        .collect();
    assert_eq!(ids.len(), 4);
    for (id, status) in [
        (ids[0], "confirmed"),
        (ids[1], "confirmed"),
        (ids[2], "rejected"),
        (ids[3], "rejected"),
        (ids[0], "resolved"),
    ] {
        let url = format!("{}/v1/anomalies/{id}/status", desk.base);
        let code = crate::common::RT.block_on(async {
            reqwest::Client::new()
                .post(url)
                .bearer_auth(STEWARD_KEY)
                .json(&json!({"status": status, "note": "核实"}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        });
        assert_eq!(code, 200, "{id} → {status}");
    }
    b.goto(&desk.base);
    b.click(&b.find("#tab-dashboard"));
    give_key(&b, STEWARD_KEY);
    // The steward's own 街镇 first; then the whole district.
    b.wait("the dashboard", || {
        let t = b.text(&b.find("#d-total"));
        t.contains(&desk.town).then_some(())
    });
    choose(&b, "d-town", "");
    wait_text(&b, "#d-total", |t| t.starts_with("全区"));
    let towns: usize = wait_attr(&b, "#chart-town", "data-bars").parse().unwrap();
    let rules: usize = wait_attr(&b, "#chart-rule", "data-bars").parse().unwrap();
    assert!(towns >= 2 && rules >= 5, "{towns} 街镇, {rules} rules");
    assert_eq!(wait_attr(&b, "#chart-trend", "data-weeks"), "8");
    // The town's row: at least these decisions (the keyboard test may have confirmed one more).
    let row: Vec<u64> = serde_json::from_value(b.exec(
        "const row = [...document.querySelectorAll('#d-town-table tr')].find(r => r.cells[0].innerText === arguments[0]); \
         return [...row.cells].slice(1).map(c => Number(c.innerText));",
        json!([desk.town]),
    ))
    .unwrap();
    assert!(row[1] >= 1 && row[2] >= 2 && row[3] >= 1, "{row:?}");
    assert_eq!(row[..4].iter().sum::<u64>(), row[4]);
    assert_fits(&b);
    b.screenshot(&screenshot_path("steward-dashboard.png"));
}
