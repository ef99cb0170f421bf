//! Standard-address search on the fixture district: the real tantivy index on disk.

use std::sync::LazyLock;

use dizhi::Dictionaries;
use dizhi::eval::noisy::{Expected, noisy_queries};
use dizhi::eval::normalize as bench;
use dizhi::search::{AddressIndex, CorrectionKind, MatchLevel, Matcher};

use crate::common::fixture_data;

mod spoken;

fn matcher() -> &'static Matcher {
    static MATCHER: LazyLock<Matcher> = LazyLock::new(|| {
        let dicts = Dictionaries::embedded().unwrap();
        Matcher::new(AddressIndex::open(fixture_data()).unwrap(), &dicts).unwrap()
    });
    &MATCHER
}

/// (input, expected level, expected id) — one row per way of writing an address of the fixture.
const GOLDEN: &[(&str, MatchLevel, Option<&str>)] = &[
    // residential compound: road + 弄 + 号
    (
        "青浦区朱家角镇淀山湖大道468弄1号",
        MatchLevel::Number,
        Some("A00000001"),
    ),
    (
        "上海市青浦区淀山湖大道468弄1号",
        MatchLevel::Number,
        Some("A00000001"),
    ),
    (
        "淀山湖大道四六八弄一号",
        MatchLevel::Number,
        Some("A00000001"),
    ),
    (
        "淀山湖大道468弄1号楼502室",
        MatchLevel::Number,
        Some("A00000001"),
    ),
    (
        "我住在青浦朱家角淀山湖大道468弄1号附近",
        MatchLevel::Number,
        Some("A00000001"),
    ),
    ("朱家角镇长锦苑1号", MatchLevel::Number, Some("A00000001")),
    // 468-1号 said for 468弄1号: the library holds the lane's door, not a door "468-1"
    ("淀山湖大道468-1号", MatchLevel::Number, Some("A00000001")),
    ("淀山湖大道468-1", MatchLevel::Number, Some("A00000001")),
    // street door
    ("淀山湖大道328号", MatchLevel::Number, Some("A00008401")),
    // industrial park: 号 + 幢, with marker variants
    ("白虬江路299号2幢", MatchLevel::Building, Some("A00012402")),
    (
        "白鹤镇白虬江路299号2栋",
        MatchLevel::Building,
        Some("A00012402"),
    ),
    ("白虬江路299号2#", MatchLevel::Building, Some("A00012402")),
    // village: 村 + 组 + 号
    (
        "青浦区白鹤镇太平村1组1号",
        MatchLevel::Number,
        Some("A00015001"),
    ),
    ("太平村一组一号", MatchLevel::Number, Some("A00015001")),
    // 村 dropped before the group; a dash for 组
    ("太平1组1号", MatchLevel::Number, Some("A00015001")),
    ("太平村1-1号", MatchLevel::Number, Some("A00015001")),
    // school / public
    ("诸民路102号", MatchLevel::Number, Some("A00014401")),
    // not in the library: an honest coarser answer, never a nearby number
    ("淀山湖大道99999号", MatchLevel::Road, None),
    ("淀山湖大道468弄999号", MatchLevel::Lane, None),
    ("青浦区白鹤镇", MatchLevel::Town, None),
    // outside the district
    ("浦东新区张江路100号", MatchLevel::Outside, None),
    ("浙江省杭州市余杭区文一西路969号", MatchLevel::Outside, None),
    // nothing usable
    ("", MatchLevel::None, None),
    ("hello world", MatchLevel::None, None),
];

#[test]
fn golden_inputs_match_at_the_right_level() {
    let mut wrong = Vec::new();
    for &(input, level, id) in GOLDEN {
        let m = matcher().normalize(input).unwrap();
        if m.level != level || m.id.as_deref() != id {
            wrong.push(format!(
                "{input}: got {:?} {:?} (score {})",
                m.level, m.id, m.score
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_match_names_the_responsible_town_and_community_and_the_building() {
    let m = matcher().normalize("淀山湖大道468弄1号").unwrap();
    assert_eq!(m.town.as_deref(), Some("朱家角镇"));
    assert_eq!(m.town_code.as_deref(), Some("310118102000"));
    assert_eq!(m.community_code.as_deref().map(str::len), Some(12));
    assert_eq!(m.building_id.as_deref(), Some("B00000002"));
    assert!(m.lon.is_some() && m.lat.is_some());
    assert!(m.score >= 0.9);
}

#[test]
fn corrections_say_what_was_changed_and_why() {
    let m = matcher().normalize("淀山湖大道468弄1号楼").unwrap();
    assert!(
        m.corrections
            .iter()
            .any(|c| c.why == CorrectionKind::Variant && c.to == "1号")
    );
    let m = matcher().normalize("淀山湖大道468弄1号3单元502室").unwrap();
    assert_eq!(m.detail.as_deref(), Some("3单元502室"));
}

#[test]
fn a_wrong_door_number_is_never_promoted_to_a_nearby_one() {
    for n in [2, 3, 5, 7, 11] {
        let m = matcher()
            .normalize(&format!("淀山湖大道{}号", 90_000 + n))
            .unwrap();
        assert!(!m.level.is_address(), "{m:?}");
        assert!(m.id.is_none());
    }
}

#[test]
fn noisy_queries_meet_the_accuracy_and_calibration_targets() {
    let dicts = Dictionaries::embedded().unwrap();
    let store = dizhi::store::Store::open(fixture_data()).unwrap();
    let queries = noisy_queries(&store, &dicts, 3000, 11).unwrap();
    assert!(queries.iter().any(|q| q.expected == Expected::NotInLibrary));
    assert!(queries.iter().any(|q| q.expected == Expected::Outside));
    let report = bench::run(matcher(), &queries, 2).unwrap();
    let (n, right) = report.in_library;
    assert!(right as f64 >= 0.98 * n as f64, "top-1 {right}/{n}");
    let (n, promoted) = report.not_in_library;
    assert!(
        promoted as f64 <= 0.005 * n as f64,
        "{promoted}/{n} not-in-library answered at number level"
    );
    let (sure, sure_right) = report
        .buckets
        .iter()
        .filter(|b| b.0 >= 0.9)
        .fold((0, 0), |(n, k), b| (n + b.1, k + b.2));
    assert!(
        sure_right as f64 >= 0.99 * sure as f64,
        "score ≥ 0.9: {sure_right}/{sure} right"
    );
}

#[test]
fn suggestions_complete_what_was_typed() {
    let s = matcher().suggest("淀山湖大道46", 10).unwrap();
    assert!(!s.is_empty() && s.len() <= 10);
    assert!(
        s.iter().all(|s| s.address.contains("淀山湖大道46")),
        "{s:?}"
    );
    assert!(
        matcher()
            .suggest("青浦区淀山湖大道468弄1", 10)
            .unwrap()
            .iter()
            .any(|s| s.id == "A00000001")
    );
    // by compound name
    assert!(
        matcher()
            .suggest("长锦苑", 10)
            .unwrap()
            .iter()
            .any(|s| s.id == "A00000001")
    );
    assert!(matcher().suggest("", 10).unwrap().is_empty());
    assert!(matcher().suggest("不存在的路名", 10).unwrap().is_empty());
}

#[test]
fn odd_input_gets_an_answer_not_a_panic() {
    for input in [
        "号号号号",
        "弄",
        "1288弄",
        "！！！",
        "\u{0}\u{1}",
        "🏠青浦🏠",
        &"路".repeat(10_000),
    ] {
        let m = matcher().normalize(input).unwrap();
        assert!(m.score >= 0.0 && m.score <= 1.0);
    }
}
