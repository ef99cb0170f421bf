//! Governance over HTTP, on a data directory where fusion has run: the anomaly queue (list,
//! filters, keyset pages, one with its history, summary), the steward's writes with their audit
//! rows, objections from a hotline key (masked notes), address tags — and the real `dizhi serve`
//! killed with SIGKILL in the middle of a stream of reviews, restarted, and checked.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use dizhi::Dictionaries;
use dizhi::api::Config;
use dizhi::api::auth::{KeyEntry, Role};
use dizhi::fuse::{self, Reference, RuleSet};
use dizhi::search::{AddressIndex, Matcher};
use dizhi::store::Store;
use reqwest::Method;
use serde_json::{Value, json};

use super::{RT, Reply, Server, enc, fixture, get, key_entries, post_json, request, start_on};

/// A data directory built from the fixture, with its search index (no fusion yet).
fn built_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    dizhi::store::build(&fixture(), dir.path(), &|_, _, _| {}).unwrap();
    let store = Store::open(dir.path()).unwrap();
    dizhi::search::build_index(&store, &AddressIndex::dir(dir.path())).unwrap();
    dir
}

/// A data directory built from the fixture and fused (every source matched, linked and checked:
/// about 3,500 anomalies, all open).
pub(crate) fn fused_dir() -> tempfile::TempDir {
    let dir = built_dir();
    let mut store = Store::open(dir.path()).unwrap();
    let dicts = Dictionaries::embedded().unwrap();
    let matcher = Matcher::new(AddressIndex::open(dir.path()).unwrap(), &dicts).unwrap();
    let reference = Reference::load(&store, &dicts, Some(matcher)).unwrap();
    fuse::fuse_store(&mut store, &reference, &RuleSet::default_rules()).unwrap();
    dir
}

const KEYS: [(&str, Role, &str); 3] = [
    ("gov-hotline", Role::Hotline, "dzk_gov-hotline_h0t"),
    ("gov-gis", Role::Gis, "dzk_gov-gis_g1s"),
    ("gov-steward", Role::Steward, "dzk_gov-steward_st3w"),
];

/// The key of a role among [`KEYS`] (`key` in `tests/api` is the locked server's).
pub(super) fn gov_key(role: Role) -> Option<&'static str> {
    KEYS.iter().find(|k| k.1 == role).map(|k| k.2)
}

fn config(keys: &[(&str, Role, &str)]) -> Config {
    let mut config: Config =
        toml::from_str("anonymous_lookups = true\n[limits]\nmax_body_bytes = 4096\n").unwrap();
    config.keys = key_entries(keys);
    config
}

/// One fused data directory and a server on it (anonymous lookups on, so that objections show
/// they need a key anyway).
static GOV: LazyLock<(tempfile::TempDir, Server)> = LazyLock::new(|| {
    let dir = fused_dir();
    let server = start_on(dir.path(), Some(config(&KEYS)));
    (dir, server)
});

pub(super) fn gov() -> &'static Server {
    &GOV.1
}

fn put_json(server: &Server, path: &str, key: Option<&str>, body: &Value) -> Reply {
    request(
        server,
        Method::PUT,
        path,
        key,
        Some(("application/json", body.to_string().into_bytes())),
    )
}

pub(super) fn ok(r: Reply, status: u16) -> Value {
    assert_eq!(r.status, status, "{}", r.text);
    r.json()
}

/// Every anomaly matching `query`, following `next_after`, pages of `limit`.
pub(super) fn all_pages(query: &str, limit: usize) -> Vec<Value> {
    let mut out = Vec::new();
    let mut after = 0i64;
    loop {
        let page = ok(
            get(
                gov(),
                &format!("/v1/anomalies?{query}&limit={limit}&after={after}"),
                gov_key(Role::Gis),
            ),
            200,
        );
        let rows = page["anomalies"].as_array().unwrap();
        assert!(rows.len() <= limit);
        out.extend(rows.iter().cloned());
        match page["next_after"].as_i64() {
            Some(n) => {
                assert_eq!(rows.len(), limit);
                assert_eq!(rows.last().unwrap()["id"].as_i64(), Some(n));
                after = n;
            }
            None => return out,
        }
    }
}

/// The first open anomaly of a rule (each test takes its own rule, so tests do not collide).
fn open_anomaly_of(rule: &str) -> i64 {
    let page = ok(
        get(
            gov(),
            &format!("/v1/anomalies?status=open&rule={rule}&limit=1"),
            gov_key(Role::Gis),
        ),
        200,
    );
    page["anomalies"][0]["id"].as_i64().unwrap()
}

/// The admin audit log's entries about `entity`, oldest first.
fn audit_of(server: &Server, entity: &str) -> Vec<Value> {
    let r = get(server, "/v1/admin/audit?limit=1000", Some(&server.admin));
    let mut v: Vec<Value> = ok(r, 200)["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["entity"] == entity)
        .cloned()
        .collect();
    v.reverse();
    v
}

/// A standard address of the fixture with a 街镇: (id, town).
fn an_address(n: usize) -> (String, String) {
    let store = Store::open(GOV.0.path()).unwrap();
    store
        .connection()
        .query_row(
            "SELECT id, town FROM addresses WHERE town IS NOT NULL AND town != '' \
             ORDER BY id LIMIT 1 OFFSET ?1",
            [n as i64],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap()
}

#[test]
fn the_queue_is_listed_filtered_and_paged_by_id() {
    // 118 typo anomalies, in pages of 50: 50, 50, 18, ids increasing, none twice.
    let typos = all_pages("rule=non_standard_spelling&kind=typo", 50);
    assert_eq!(typos.len(), 118);
    let ids: Vec<i64> = typos.iter().map(|a| a["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    for a in &typos {
        assert_eq!(
            (a["rule"].as_str(), a["kind"].as_str()),
            (Some("non_standard_spelling"), Some("typo"))
        );
        assert!(a.get("reviews").is_none(), "a listing has no reviews");
    }
    // Assignee and source filters.
    let town = typos[0]["assignee"].as_str().unwrap().to_string();
    let assigned = all_pages(
        &format!("rule=non_standard_spelling&assignee={}", enc(&town)),
        200,
    );
    assert!(!assigned.is_empty() && assigned.iter().all(|a| a["assignee"] == town));
    let hotline = all_pages("source=hotline_12345&rule=missing_level", 100);
    assert!(!hotline.is_empty() && hotline.iter().all(|a| a["source"] == "hotline_12345"));

    // By address and by town: a record fused to an address stands for it.
    let store = Store::open(GOV.0.path()).unwrap();
    let (anomaly, address, address_town): (i64, String, String) = store
        .connection()
        .query_row(
            "SELECT a.id, d.id, d.town FROM anomalies a JOIN fused_records f \
             ON f.source = a.source AND f.record_key = a.record_key \
             JOIN addresses d ON d.id = f.address_id \
             WHERE a.rule = 'non_standard_spelling' AND a.kind = 'old_name' ORDER BY a.id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let by_address = all_pages(&format!("address_id={address}"), 100);
    assert!(
        by_address.iter().any(|a| a["id"] == anomaly),
        "{by_address:?}"
    );
    let in_town = all_pages(&format!("kind=old_name&town={}", enc(&address_town)), 100);
    assert!(in_town.iter().any(|a| a["id"] == anomaly));
    let other = if address_town == "白鹤镇" {
        "华新镇"
    } else {
        "白鹤镇"
    };
    let elsewhere = all_pages(&format!("kind=old_name&town={}", enc(other)), 100);
    assert!(elsewhere.iter().all(|a| a["id"] != anomaly));
    assert!(all_pages("address_id=A99999999", 10).is_empty());

    // Bad parameters, keys and roles.
    let gis = gov_key(Role::Gis);
    get(gov(), "/v1/anomalies?status=nope", gis).error(400, "bad_request");
    get(gov(), "/v1/anomalies?limit=0", gis).error(400, "bad_request");
    get(gov(), "/v1/anomalies?limit=501", gis).error(400, "bad_request");
    get(gov(), "/v1/anomalies?after=x", gis).error(400, "bad_request");
    get(gov(), "/v1/anomalies", None).error(401, "unauthorized");
    get(gov(), "/v1/anomalies", gov_key(Role::Hotline)).error(403, "forbidden");
    get(gov(), "/v1/anomalies/summary", gov_key(Role::Hotline)).error(403, "forbidden");
    get(gov(), "/v1/anomalies/1", gov_key(Role::Hotline)).error(403, "forbidden");

    // The summary adds up.
    let s = ok(get(gov(), "/v1/anomalies/summary", gis), 200);
    let by_status = s["by_status"].as_object().unwrap();
    assert_eq!(by_status.len(), 4);
    let total: u64 = by_status.values().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(s["total"].as_u64(), Some(total));
    assert!(total >= 3485, "{s}");
    let typo_rows: u64 = s["by_rule"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["rule"] == "non_standard_spelling")
        .map(|r| r["count"].as_u64().unwrap())
        .sum();
    assert!(typo_rows >= 118);
}

#[test]
fn one_anomaly_with_its_reviews_and_history() {
    let id = open_anomaly_of("sources_disagree_town");
    let a = ok(
        get(gov(), &format!("/v1/anomalies/{id}"), gov_key(Role::Gis)),
        200,
    );
    assert_eq!(a["id"], id);
    assert_eq!(a["status"], "open");
    assert!(a["reviews"].as_array().unwrap().is_empty());
    let history = a["history"].as_array().unwrap();
    assert_eq!(history[0]["action"], "anomaly.create", "{a}");
    assert_eq!(history[0]["after"]["status"], "open");
    get(gov(), "/v1/anomalies/99999999", gov_key(Role::Gis)).error(404, "not_found");
    get(gov(), "/v1/anomalies/abc", gov_key(Role::Gis)).error(400, "bad_request");
}

#[test]
fn a_steward_reviews_comments_and_reassigns_and_each_write_is_audited() {
    let id = open_anomaly_of("floors_disagree");
    let path = |what: &str| format!("/v1/anomalies/{id}/{what}");
    let steward = gov_key(Role::Steward);
    // Only a steward (or admin) writes; no key is 401 before the body is looked at.
    for role in [Role::Hotline, Role::Gis] {
        post_json(
            gov(),
            &path("status"),
            gov_key(role),
            &json!({"status": "confirmed"}),
        )
        .error(403, "forbidden");
        post_json(
            gov(),
            &path("comments"),
            gov_key(role),
            &json!({"text": "x"}),
        )
        .error(403, "forbidden");
        put_json(
            gov(),
            &path("assignee"),
            gov_key(role),
            &json!({"assignee": "华新镇"}),
        )
        .error(403, "forbidden");
    }
    post_json(
        gov(),
        &path("status"),
        None,
        &json!({"status": "confirmed"}),
    )
    .error(401, "unauthorized");
    request(
        gov(),
        Method::POST,
        &path("status"),
        None,
        Some(("application/json", b"{".to_vec())),
    )
    .error(401, "unauthorized");
    // Bodies of the wrong shape.
    request(
        gov(),
        Method::POST,
        &path("status"),
        steward,
        Some(("application/json", b"{".to_vec())),
    )
    .error(400, "invalid_json");
    post_json(gov(), &path("status"), steward, &json!({"status": "done"}))
        .error(422, "invalid_body");
    post_json(gov(), &path("status"), steward, &json!({})).error(422, "invalid_body");
    post_json(
        gov(),
        &path("status"),
        steward,
        &json!({"status": "confirmed", "extra": 1}),
    )
    .error(422, "invalid_body");
    request(
        gov(),
        Method::POST,
        &path("status"),
        steward,
        Some(("text/plain", b"{}".to_vec())),
    )
    .error(415, "unsupported_media_type");
    post_json(gov(), &path("comments"), steward, &json!({"text": "  "})).error(422, "invalid_body");
    put_json(gov(), &path("assignee"), steward, &json!({"assignee": ""}))
        .error(422, "invalid_body");
    let big = "很".repeat(3000);
    post_json(gov(), &path("comments"), steward, &json!({ "text": big }))
        .error(413, "payload_too_large");
    // Unknown anomalies.
    post_json(
        gov(),
        "/v1/anomalies/99999999/status",
        steward,
        &json!({"status": "confirmed"}),
    )
    .error(404, "not_found");
    post_json(
        gov(),
        "/v1/anomalies/99999999/comments",
        steward,
        &json!({"text": "x"}),
    )
    .error(404, "not_found");
    put_json(
        gov(),
        "/v1/anomalies/99999999/assignee",
        steward,
        &json!({"assignee": "华新镇"}),
    )
    .error(404, "not_found");
    // Illegal moves are 409 and change nothing.
    post_json(
        gov(),
        &path("status"),
        steward,
        &json!({"status": "resolved"}),
    )
    .error(409, "conflict");
    post_json(gov(), &path("status"), steward, &json!({"status": "open"})).error(409, "conflict");

    // The workflow: confirmed (with a note), a comment, another 街镇, resolved.
    let a = ok(
        post_json(
            gov(),
            &path("status"),
            steward,
            &json!({"status": "confirmed", "note": "层数以规划资源为准"}),
        ),
        200,
    );
    assert_eq!(a["status"], "confirmed");
    post_json(
        gov(),
        &path("status"),
        steward,
        &json!({"status": "rejected"}),
    )
    .error(409, "conflict");
    let a = ok(
        post_json(
            gov(),
            &path("comments"),
            steward,
            &json!({"text": "已通知街镇"}),
        ),
        201,
    );
    assert_eq!(a["reviews"][1]["note"], "已通知街镇");
    let a = ok(
        put_json(
            gov(),
            &path("assignee"),
            steward,
            &json!({"assignee": "夏阳街道"}),
        ),
        200,
    );
    assert_eq!(a["assignee"], "夏阳街道");
    let a = ok(
        post_json(
            gov(),
            &path("status"),
            steward,
            &json!({"status": "resolved"}),
        ),
        200,
    );
    assert_eq!(a["status"], "resolved");
    let decisions: Vec<&str> = a["reviews"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["decision"].as_str().unwrap())
        .collect();
    assert_eq!(decisions, ["confirmed", "comment", "assigned", "resolved"]);
    assert!(
        a["reviews"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["reviewer"] == "gov-steward")
    );

    // The history in the answer and the admin audit log agree: who, before, after.
    let actions: Vec<&str> = a["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "anomaly.create",
            "anomaly.transition",
            "anomaly.comment",
            "anomaly.assign",
            "anomaly.transition"
        ]
    );
    let audit = audit_of(gov(), &format!("anomaly:{id}"));
    let writes: Vec<&Value> = audit
        .iter()
        .filter(|e| e["actor"] == "gov-steward")
        .collect();
    assert_eq!(writes.len(), 4, "{audit:?}");
    assert_eq!(writes[0]["before"]["status"], "open");
    assert_eq!(writes[0]["after"]["status"], "confirmed");
    assert_eq!(writes[0]["after"]["comment"], "层数以规划资源为准");
    assert_eq!(writes[1]["after"]["comment"], "已通知街镇");
    assert_eq!(writes[2]["after"]["assignee"], "夏阳街道");
    assert_eq!(writes[3]["before"]["status"], "confirmed");
    assert_eq!(writes[3]["after"]["status"], "resolved");
    assert!(
        writes
            .iter()
            .all(|e| e["at"].as_str().is_some_and(|t| t.len() >= 19))
    );
    // The filters see the change.
    let resolved = all_pages("status=resolved&rule=floors_disagree", 100);
    assert!(resolved.iter().any(|a| a["id"] == id));
}

#[test]
fn an_objection_from_a_hotline_key_becomes_an_anomaly_with_the_note_masked() {
    let (address, town) = an_address(7);
    let hotline = gov_key(Role::Hotline);
    let note = "门牌已改为10号，来电人13812345678，身份证31011819900101123X";
    let body = json!({"address_id": address, "note": note});
    // A key is needed even though lookups are anonymous here.
    post_json(gov(), "/v1/objections", None, &body).error(401, "unauthorized");
    post_json(
        gov(),
        "/v1/objections",
        hotline,
        &json!({"address_id": "A99999999", "note": "x"}),
    )
    .error(404, "not_found");
    post_json(
        gov(),
        "/v1/objections",
        hotline,
        &json!({"address_id": address, "note": " "}),
    )
    .error(422, "invalid_body");
    post_json(gov(), "/v1/objections", hotline, &json!({"note": "x"})).error(422, "invalid_body");

    let a = ok(post_json(gov(), "/v1/objections", hotline, &body), 201);
    let id = a["id"].as_i64().unwrap();
    assert_eq!(a["rule"], "objection");
    assert_eq!(a["status"], "open");
    assert_eq!(a["entity_id"], address);
    assert_eq!(a["assignee"], town);
    assert_eq!(a["detail"]["reporter"], "gov-hotline");
    let stored = a["reviews"][0]["note"].as_str().unwrap();
    assert!(stored.contains("138******78"), "{stored}");
    assert!(stored.contains("310*************3X"), "{stored}");
    assert!(stored.starts_with("门牌已改为10号"));
    assert!(!a.to_string().contains("13812345678"));
    // Again: the same anomaly, one more comment.
    let again = ok(
        post_json(
            gov(),
            "/v1/objections",
            gov_key(Role::Steward),
            &json!({"address_id": address, "note": "现场核实：确已改号"}),
        ),
        200,
    );
    assert_eq!(again["id"], id);
    assert_eq!(again["reviews"].as_array().unwrap().len(), 2);
    // Rejected by a steward, then a new objection: back in the open queue (200, same anomaly).
    ok(
        post_json(
            gov(),
            &format!("/v1/anomalies/{id}/status"),
            gov_key(Role::Steward),
            &json!({"status": "rejected", "note": "门牌无误"}),
        ),
        200,
    );
    let reopened = ok(
        post_json(
            gov(),
            "/v1/objections",
            hotline,
            &json!({"address_id": address, "note": "又有来电：门牌不对"}),
        ),
        200,
    );
    assert_eq!(
        (reopened["id"].as_i64(), &reopened["status"]),
        (Some(id), &json!("open"))
    );
    let last = reopened["reviews"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (&last["decision"], &last["note"]),
        (&json!("reopened"), &json!("又有来电：门牌不对"))
    );
    let history = reopened["history"].as_array().unwrap();
    let reopen = history.last().unwrap();
    assert_eq!(reopen["action"], "anomaly.reopen");
    assert_eq!(
        (&reopen["before"]["status"], &reopen["after"]["status"]),
        (&json!("rejected"), &json!("open"))
    );
    assert!(
        all_pages(
            &format!("status=open&rule=objection&address_id={address}"),
            10
        )
        .iter()
        .any(|a| a["id"] == id)
    );
    // In the queue, for the address and for its 街镇.
    let listed = all_pages(&format!("rule=objection&address_id={address}"), 10);
    assert_eq!(listed.len(), 1);
    assert!(
        all_pages(&format!("rule=objection&town={}", enc(&town)), 100)
            .iter()
            .any(|a| a["id"] == id)
    );
    // Audited with the operator's key id; the numbers are stored nowhere.
    // One audit row per filing, in the filing's transaction: the first carries the note.
    let audit = audit_of(gov(), &format!("anomaly:{id}"));
    let actions: Vec<&str> = audit
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "anomaly.create",
            "anomaly.comment",
            "anomaly.transition",
            "anomaly.reopen"
        ]
    );
    assert_eq!(audit[0]["actor"], "gov-hotline");
    assert!(
        audit[0]["after"]["comment"]
            .as_str()
            .unwrap()
            .starts_with("门牌已改为10号")
    );
    let store = Store::open(GOV.0.path()).unwrap();
    for (table, column) in [
        ("anomalies", "detail"),
        ("reviews", "note"),
        ("audit_log", "after"),
    ] {
        let n: i64 = store
            .connection()
            .query_row(
                &format!(
                    "SELECT count(*) FROM {table} WHERE {column} LIKE '%13812345678%' \
                     OR {column} LIKE '%31011819900101123X%'"
                ),
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 0, "{table}.{column}");
    }
}

#[test]
fn an_empty_kind_filter_is_no_filter() {
    let ids = |query: &str| -> Vec<Value> {
        let page = ok(
            get(
                gov(),
                &format!("/v1/anomalies?{query}limit=20"),
                gov_key(Role::Gis),
            ),
            200,
        );
        page["anomalies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].clone())
            .collect()
    };
    let all = ids("");
    assert_eq!(all.len(), 20);
    assert_eq!(ids("kind=&"), all);
    assert_eq!(ids("kind=&rule=&assignee=&source=&address_id=&town=&"), all);
}

/// Regression: a write waited up to 100 × 5 s for another process's lock, long after its request
/// had been answered 503 by the timeout, and could still commit then.
#[test]
fn a_write_blocked_by_another_process_is_503_busy_and_never_applied_later() {
    let dir = built_dir();
    let server = start_on(dir.path(), Some(config(&KEYS)));
    let address: String = Store::open(dir.path())
        .unwrap()
        .connection()
        .query_row("SELECT id FROM addresses ORDER BY id LIMIT 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    let a = ok(
        post_json(
            &server,
            "/v1/objections",
            gov_key(Role::Hotline),
            &json!({"address_id": address, "note": "门牌不对"}),
        ),
        201,
    );
    let id = a["id"].as_i64().unwrap();
    let comment = |text: &str| {
        post_json(
            &server,
            &format!("/v1/anomalies/{id}/comments"),
            gov_key(Role::Steward),
            &json!({"text": text}),
        )
    };
    // Another process (the CLI, say) holds the write lock.
    let cli = Store::open(dir.path()).unwrap();
    cli.connection().execute_batch("BEGIN IMMEDIATE").unwrap();
    let started = Instant::now();
    let r = comment("while locked");
    let waited = started.elapsed();
    r.error(503, "busy");
    assert!(
        r.text.contains("the address database is busy, try again"),
        "{}",
        r.text
    );
    assert!(waited < Duration::from_secs(8), "answered after {waited:?}");
    // Past the answer, the lock goes: the refused comment must not turn up.
    std::thread::sleep(Duration::from_millis(500));
    cli.connection().execute_batch("ROLLBACK").unwrap();
    std::thread::sleep(Duration::from_secs(1));
    ok(comment("after the lock"), 201);
    let a = ok(
        get(&server, &format!("/v1/anomalies/{id}"), gov_key(Role::Gis)),
        200,
    );
    let notes: Vec<&str> = a["reviews"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["note"].as_str().unwrap())
        .collect();
    assert_eq!(notes, ["门牌不对", "after the lock"]);
}

#[test]
fn tags_are_set_queried_and_audited() {
    let (address, _) = an_address(11);
    let path = format!("/v1/addresses/{address}/tags");
    let steward = gov_key(Role::Steward);
    let r = ok(
        put_json(
            gov(),
            &path,
            steward,
            &json!({"tags": ["重点单位", "学校", " 学校 "]}),
        ),
        200,
    );
    assert_eq!(
        r,
        json!({"address_id": address, "tags": ["学校", "重点单位"]})
    );
    // Lookups: anonymous here, the vocabulary with counts, the addresses of a tag.
    let vocab = ok(get(gov(), "/v1/tags", None), 200);
    let school = vocab["tags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tag"] == "学校")
        .cloned()
        .unwrap();
    assert!(school["addresses"].as_u64().unwrap() >= 1);
    let tagged = ok(
        get(gov(), &format!("/v1/tags/{}/addresses", enc("学校")), None),
        200,
    );
    let hit = tagged["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == address)
        .cloned()
        .unwrap();
    assert!(!hit["address"].as_str().unwrap().is_empty());
    let one = get(
        gov(),
        &format!("/v1/tags/{}/addresses?limit=1", enc("学校")),
        None,
    );
    assert!(ok(one, 200)["addresses"].as_array().unwrap().len() <= 1);
    get(
        gov(),
        &format!("/v1/tags/{}/addresses?limit=0", enc("学校")),
        None,
    )
    .error(400, "bad_request");
    assert_eq!(
        ok(get(gov(), &format!("/v1/addresses/{address}"), None), 200)["tags"],
        json!(["学校", "重点单位"])
    );
    // Replace: 学校 goes.
    let r = ok(
        put_json(gov(), &path, steward, &json!({"tags": ["重点单位"]})),
        200,
    );
    assert_eq!(r["tags"], json!(["重点单位"]));
    let tagged = ok(
        get(gov(), &format!("/v1/tags/{}/addresses", enc("学校")), None),
        200,
    );
    assert!(
        tagged["addresses"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["id"] != address)
    );
    // Errors.
    put_json(
        gov(),
        "/v1/addresses/A99999999/tags",
        steward,
        &json!({"tags": ["学校"]}),
    )
    .error(404, "not_found");
    put_json(gov(), &path, gov_key(Role::Gis), &json!({"tags": []})).error(403, "forbidden");
    put_json(gov(), &path, gov_key(Role::Hotline), &json!({"tags": []})).error(403, "forbidden");
    put_json(gov(), &path, None, &json!({"tags": []})).error(401, "unauthorized");
    put_json(gov(), &path, steward, &json!({"tags": [""]})).error(422, "invalid_body");
    put_json(gov(), &path, steward, &json!({"tags": "学校"})).error(422, "invalid_body");
    put_json(gov(), &path, steward, &json!({"tags": ["x".repeat(51)]})).error(422, "invalid_body");
    // Each set is audited: who, before, after.
    let audit = audit_of(gov(), &format!("address:{address}"));
    assert_eq!(audit.len(), 2, "{audit:?}");
    assert!(
        audit
            .iter()
            .all(|e| e["action"] == "tag.set" && e["actor"] == "gov-steward")
    );
    assert_eq!(audit[0]["before"], json!([]));
    assert_eq!(audit[0]["after"], json!(["学校", "重点单位"]));
    assert_eq!(audit[1]["before"], json!(["学校", "重点单位"]));
    assert_eq!(audit[1]["after"], json!(["重点单位"]));
}

// ---- SIGKILL in the middle of a stream of reviews ----------------------------------------------

/// What the `dizhi serve` children wrote to stderr (shown when the kill test fails).
static SERVER_LOG: LazyLock<Arc<Mutex<Vec<String>>>> = LazyLock::new(Arc::default);

/// A `dizhi serve` child process, killed (SIGKILL) when dropped, so that a failing test leaves
/// no server behind.
struct Served(Child);

impl Served {
    fn sigkill(&mut self) {
        let _ = self.0.kill(); // SIGKILL on Unix
        let _ = self.0.wait();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.sigkill();
    }
}

/// `dizhi serve` as a child process on `data` with `config`, once it answers `/readyz`.
fn serve(data: &Path, config: &Path) -> (Served, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dizhi"))
        .arg("--data")
        .arg(data)
        .args(["serve", "--addr", "127.0.0.1:0", "--config"])
        .arg(config)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The port is in the line `serving http://127.0.0.1:PORT/ …`; the rest of stderr is drained.
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    let log = SERVER_LOG.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            log.lock().unwrap().push(line.clone());
            if let Some(rest) = line.strip_prefix("serving ") {
                let base = rest.split('/').take(3).collect::<Vec<_>>().join("/");
                let _ = tx.send(base);
            }
        }
    });
    let ready = |base: &str| {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(300);
        while Instant::now() < deadline {
            let up = RT.block_on(async {
                client
                    .get(format!("{base}/readyz"))
                    .timeout(Duration::from_secs(10))
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == 200)
            });
            if up {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    };
    match rx.recv_timeout(Duration::from_secs(300)) {
        Ok(base) if ready(&base) => (Served(child), base),
        _ => {
            Served(child).sigkill();
            panic!("dizhi serve was not ready within 300 s");
        }
    }
}

/// One write of the stream: a review (every op but each fourth) or a comment, each on its own
/// anomaly so that every one can be checked alone.
#[derive(Clone, Debug)]
enum Op {
    Confirm(i64, String),
    Comment(i64, String),
}

impl Op {
    fn new(n: usize, id: i64) -> Op {
        if n % 4 == 3 {
            Op::Comment(id, format!("kill-test comment {n}"))
        } else {
            Op::Confirm(id, format!("kill-test note {n}"))
        }
    }

    fn id(&self) -> i64 {
        match self {
            Op::Confirm(id, _) | Op::Comment(id, _) => *id,
        }
    }
}

const KILL_AFTER: usize = 150;
const WORKERS: usize = 6;
const KILL_STEWARD: (&str, Role, &str) = ("kill-steward", Role::Steward, "dzk_kill-steward_k1ll");
const KILL_ADMIN: (&str, Role, &str) = ("kill-admin", Role::Admin, "dzk_kill-admin_adm1n");

#[test]
fn acknowledged_reviews_survive_a_sigkill_of_the_server() {
    let dir = fused_dir();
    let data = dir.path();
    let config_file = data.join("kill-test.toml");
    // The default request timeout (10 s): a write waits at most 4 s (then 503 busy, not
    // applied), so a slow sync answers late or 503, never after the answer.
    #[derive(serde::Serialize)]
    struct ConfigFile {
        keys: Vec<KeyEntry>,
    }
    let config_text = toml::to_string(&ConfigFile {
        keys: key_entries(&[KILL_STEWARD, KILL_ADMIN]),
    })
    .unwrap();
    std::fs::write(&config_file, config_text).unwrap();
    let steward = format!("Bearer {}", KILL_STEWARD.2);
    let admin = format!("Bearer {}", KILL_ADMIN.2);

    // 600 open anomalies, from the store: one op each.
    let ids: Vec<i64> = {
        let store = Store::open(data).unwrap();
        let mut stmt = store
            .connection()
            .prepare("SELECT id FROM anomalies WHERE status = 'open' ORDER BY id LIMIT 600")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(ids.len(), 600);
    let ops: Arc<Vec<Op>> = Arc::new(
        ids.iter()
            .enumerate()
            .map(|(n, &id)| Op::new(n, id))
            .collect(),
    );

    let (mut child, base) = serve(data, &config_file);
    let next = Arc::new(AtomicUsize::new(0));
    let acked: Arc<Mutex<Vec<usize>>> = Arc::default();
    let failed: Arc<Mutex<Vec<String>>> = Arc::default();
    let client = reqwest::Client::new();
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (ops, next, acked, failed) =
                (ops.clone(), next.clone(), acked.clone(), failed.clone());
            let (client, base, steward) = (client.clone(), base.clone(), steward.clone());
            RT.spawn(async move {
                loop {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    let Some(op) = ops.get(n) else { return };
                    let (path, body) = match op {
                        Op::Confirm(id, note) => (
                            format!("/v1/anomalies/{id}/status"),
                            json!({"status": "confirmed", "note": note}),
                        ),
                        Op::Comment(id, text) => (
                            format!("/v1/anomalies/{id}/comments"),
                            json!({"text": text}),
                        ),
                    };
                    let sent = client
                        .post(format!("{base}{path}"))
                        .header("Authorization", &steward)
                        .json(&body)
                        .timeout(Duration::from_secs(300))
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status().is_success() => {
                            // Acknowledged: the whole answer arrived.
                            match r.bytes().await {
                                Ok(_) => acked.lock().unwrap().push(n),
                                Err(e) => {
                                    failed.lock().unwrap().push(format!("op {n}: {e:?}"));
                                    return;
                                }
                            }
                        }
                        // Busy past the write deadline (not applied), or too slow for the
                        // request timeout (it may have been applied, whole): not acknowledged,
                        // and the stream goes on.
                        Ok(r) if r.status() == 503 => {}
                        // Wrong: said when the stream stops (a `dizhi` binary without these
                        // routes answers 404, say).
                        Ok(r) => {
                            let status = r.status();
                            let text = r.text().await.unwrap_or_default();
                            failed
                                .lock()
                                .unwrap()
                                .push(format!("op {n}: status {status} {text}"));
                            return;
                        }
                        // The server is gone: this one was in flight.
                        Err(e) => {
                            failed.lock().unwrap().push(format!("op {n}: {e:?}"));
                            return;
                        }
                    }
                }
            })
        })
        .collect();
    // SIGKILL once KILL_AFTER writes are acknowledged, with the others still sending.
    let deadline = Instant::now() + Duration::from_secs(600);
    while acked.lock().unwrap().len() < KILL_AFTER {
        let stuck = Instant::now() > deadline || workers.iter().all(|w| w.is_finished());
        assert!(
            !stuck,
            "the stream stopped before the kill: {} acknowledged, {} sent; failures {:?}; \
             server log {:?}",
            acked.lock().unwrap().len(),
            next.load(Ordering::SeqCst),
            failed.lock().unwrap(),
            SERVER_LOG.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    child.sigkill();
    for w in workers {
        RT.block_on(w).unwrap();
    }
    let failures = failed.lock().unwrap().clone();
    assert!(
        !failures.iter().any(|f| f.contains(": status ")),
        "{failures:?}"
    );
    let acked: BTreeSet<usize> = acked.lock().unwrap().iter().copied().collect();
    let sent = next.load(Ordering::SeqCst).min(ops.len());
    assert!(acked.len() >= KILL_AFTER);
    assert!(sent < ops.len(), "killed before the stream's end");
    eprintln!(
        "kill test: {} acknowledged, {} in flight at the kill, {} never sent",
        acked.len(),
        failures.len(),
        ops.len() - sent
    );

    // Restart on the same data directory.
    let (mut child, base) = serve(data, &config_file);
    let client = reqwest::Client::new();
    let fetch = |path: String| -> Value {
        RT.block_on(async {
            let r = client
                .get(format!("{base}{path}"))
                .header("Authorization", &admin)
                .timeout(Duration::from_secs(60))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{path}");
            r.json().await.unwrap()
        })
    };
    // Every acknowledged write is there, through the API, with its history entry.
    for &n in &acked {
        let op = &ops[n];
        let a = fetch(format!("/v1/anomalies/{}", op.id()));
        let history = a["history"].as_array().unwrap();
        match op {
            Op::Confirm(_, note) => {
                assert_eq!(a["status"], "confirmed", "acknowledged op {n} lost: {a}");
                assert!(history.iter().any(|e| e["action"] == "anomaly.transition"
                    && e["actor"] == KILL_STEWARD.0
                    && e["before"]["status"] == "open"
                    && e["after"]["status"] == "confirmed"
                    && e["after"]["comment"] == note.as_str()));
            }
            Op::Comment(_, text) => {
                assert!(
                    a["reviews"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|r| r["note"] == text.as_str()),
                    "acknowledged comment {n} lost: {a}"
                );
                assert!(
                    history.iter().any(|e| e["action"] == "anomaly.comment"
                        && e["after"]["comment"] == text.as_str())
                );
            }
        }
    }
    // … and in the admin audit log.
    let audit = fetch("/v1/admin/audit?limit=1000".into());
    let logged: BTreeMap<String, Vec<Value>> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"] == KILL_STEWARD.0)
        .fold(BTreeMap::new(), |mut m, e| {
            m.entry(e["entity"].as_str().unwrap().to_string())
                .or_default()
                .push(e.clone());
            m
        });
    for &n in &acked {
        let entries = &logged[&format!("anomaly:{}", ops[n].id())];
        assert_eq!(entries.len(), 1, "op {n}: {entries:?}");
    }
    child.sigkill();

    // Whole or not at all, acknowledged or not: a change is on disk exactly when its audit row is.
    let store = Store::open(data).unwrap();
    let conn = store.connection();
    let count = |sql: &str, p: rusqlite::types::Value| -> i64 {
        conn.query_row(sql, [p], |r| r.get(0)).unwrap()
    };
    for (n, op) in ops.iter().enumerate() {
        let entity = format!("anomaly:{}", op.id());
        let (changed, audited) = match op {
            Op::Confirm(id, _) => (
                count(
                    "SELECT count(*) FROM anomalies WHERE id = ?1 AND status = 'confirmed'",
                    (*id).into(),
                ),
                count(
                    "SELECT count(*) FROM audit_log WHERE entity = ?1 AND actor = 'kill-steward' \
                     AND action = 'anomaly.transition'",
                    entity.into(),
                ),
            ),
            Op::Comment(id, _) => (
                count(
                    "SELECT count(*) FROM reviews WHERE anomaly_id = ?1 AND decision = 'comment'",
                    (*id).into(),
                ),
                count(
                    "SELECT count(*) FROM audit_log WHERE entity = ?1 AND actor = 'kill-steward' \
                     AND action = 'anomaly.comment'",
                    entity.into(),
                ),
            ),
        };
        assert_eq!(changed, audited, "op {n} ({op:?}) is half there");
        assert!(changed <= 1);
        if acked.contains(&n) {
            assert_eq!(changed, 1, "acknowledged op {n} lost");
        }
    }
}
