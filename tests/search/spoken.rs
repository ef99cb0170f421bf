//! Addresses as callers say them on the phone, on the fixture district.

use dizhi::search::MatchLevel;

use super::matcher;

/// (said, expected level, expected id).
const SAID: &[(&str, MatchLevel, Option<&str>)] = &[
    // work-order text around the address: a date, a time, the caller, a description
    (
        "12月16号晚上10点左右，淀山湖大道468弄1号路灯不亮",
        MatchLevel::Number,
        Some("A00000001"),
    ),
    // two addresses in one call: the place the call is about, not the caller's home
    (
        "来电人住淀山湖大道468弄1号，反映淀山湖大道468弄2号路灯不亮",
        MatchLevel::Number,
        Some("A00000002"),
    ),
    (
        "我住长锦苑1号，长锦苑3号那边油烟扰民",
        MatchLevel::Number,
        Some("A00000003"),
    ),
    // a firm by its brand and a building; public places as people name them
    ("平云电子厂2号楼", MatchLevel::Building, Some("A00012402")),
    ("宁瑞社区医院", MatchLevel::Number, Some("A00014401")),
    ("梅荷派出所", MatchLevel::Number, Some("A00014402")),
    ("振鑫文化中心", MatchLevel::Number, Some("A00014409")),
    // a filler glued to the first name
    (
        "在朱家角淀山湖大道468弄1号",
        MatchLevel::Number,
        Some("A00000001"),
    ),
    (
        "我家在淀山湖大道468弄1号",
        MatchLevel::Number,
        Some("A00000001"),
    ),
    (
        "嗯那个白虬江路299号2幢",
        MatchLevel::Building,
        Some("A00012402"),
    ),
    // what the caller or operator says first, with pauses and a label
    (
        "你好，我这里是朱家角淀山湖大道468弄1号",
        MatchLevel::Number,
        Some("A00000001"),
    ),
    (
        "报修地址：淀山湖大道468弄1号",
        MatchLevel::Number,
        Some("A00000001"),
    ),
    (
        "我们是上海青浦朱家角淀山湖大道四六八龙一号",
        MatchLevel::Number,
        Some("A00000001"),
    ),
    // a place word after the door
    ("淀山湖大道328号门口", MatchLevel::Number, Some("A00008401")),
    ("淀山湖大道上328号", MatchLevel::Number, Some("A00008401")),
    // a range of doors (a shop over two) is its first door
    ("淀山湖大道328-330号", MatchLevel::Number, Some("A00008401")),
    // a compound said without its generic end, a name one character off, a committee's title
    ("朱家角长锦1号", MatchLevel::Number, Some("A00000001")),
    ("大平村1组1号", MatchLevel::Number, Some("A00015001")),
    (
        "太平村村民委员会1组1号",
        MatchLevel::Number,
        Some("A00015001"),
    ),
    (
        "白虬江路299号2幢对面那个",
        MatchLevel::Building,
        Some("A00012402"),
    ),
    // numbers said aloud, the marker dropped
    ("淀山湖大道三二八", MatchLevel::Number, Some("A00008401")),
    (
        "淀山湖大道三百二十八",
        MatchLevel::Number,
        Some("A00008401"),
    ),
    (
        "淀山湖大道四六八弄一",
        MatchLevel::Number,
        Some("A00000001"),
    ),
    ("太平村一组一", MatchLevel::Number, Some("A00015001")),
    // 号 dropped between the door and the room: the library says where to cut
    ("淀山湖大道468弄1403", MatchLevel::Number, Some("A00000001")),
    (
        "淀山湖大道468弄1403室",
        MatchLevel::Number,
        Some("A00000001"),
    ),
    // a name heard by its sound
    ("电山湖大道468弄1号", MatchLevel::Number, Some("A00000001")),
    // pauses, a door number taken back
    (
        "淀山湖大道 468弄，1号",
        MatchLevel::Number,
        Some("A00000001"),
    ),
    (
        "淀山湖大道468弄2号不对1号",
        MatchLevel::Number,
        Some("A00000001"),
    ),
    // spaces typed between a number and its marker
    (
        "淀山湖大道 468 弄 1 号",
        MatchLevel::Number,
        Some("A00000001"),
    ),
    (
        "白虬江路299号 2 幢",
        MatchLevel::Building,
        Some("A00012402"),
    ),
    // a side dropped from the road's name: the door decides among the sided roads
    ("瑞盈路124弄1号", MatchLevel::Number, Some("A00002543")),
    ("港山路85弄1号", MatchLevel::Number, Some("A00000928")),
    // a shop or place name glued before the road or village (the parser cuts it on length
    // alone; the matcher reads the name as written)
    (
        "鸿运服饰白虬江路299号2幢",
        MatchLevel::Building,
        Some("A00012402"),
    ),
    ("商榻太平村一组一", MatchLevel::Number, Some("A00015001")),
    // a door said twice on a road whose doors are in lanes: the first 号 stands for 弄
    ("淀山湖大道468号1号", MatchLevel::Number, Some("A00000001")),
    (
        "淀山湖大道468号弄1号",
        MatchLevel::Number,
        Some("A00000001"),
    ),
    // … or the second as a building (a lane's doors are its buildings to those who live there)
    (
        "淀山湖大道468号1号楼",
        MatchLevel::Number,
        Some("A00000001"),
    ),
    // a village said without 村 before a dashed group and door
    ("金泽太平1-1", MatchLevel::Number, Some("A00015001")),
    ("太平村1-1号", MatchLevel::Number, Some("A00015001")),
    ("朱家角张巷1-2", MatchLevel::Number, Some("A00015548")),
    // … whose stem is also a far district's short name (太平区), or after an old town's stem
    ("太平1-1", MatchLevel::Number, Some("A00015001")),
    ("商榻太平1-1", MatchLevel::Number, Some("A00015001")),
    // a village group by its formal title
    (
        "太平村第1村民小组1号",
        MatchLevel::Number,
        Some("A00015001"),
    ),
    ("太平村1村民组1号", MatchLevel::Number, Some("A00015001")),
    // said aloud and not in the library: still no door
    ("淀山湖大道九九九九九", MatchLevel::Road, None),
];

#[test]
fn spoken_addresses_match() {
    let mut wrong = Vec::new();
    for &(input, level, id) in SAID {
        let m = matcher().normalize(input).unwrap();
        if m.level != level || m.id.as_deref() != id {
            wrong.push(format!(
                "{input}: got {:?} {:?} (score {}, {:?})",
                m.level, m.id, m.score, m.corrections
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_door_run_into_its_room_is_cut_where_the_library_says() {
    let m = matcher().normalize("淀山湖大道468弄1403").unwrap();
    assert_eq!(m.id.as_deref(), Some("A00000001"));
    assert_eq!(m.detail.as_deref(), Some("403室"));
    assert!(m.corrections.iter().any(|c| c.to == "1号403室"), "{m:?}");
}

#[test]
fn the_same_seed_says_the_same_queries() {
    let dicts = dizhi::Dictionaries::embedded().unwrap();
    let store = dizhi::store::Store::open(crate::common::fixture_data()).unwrap();
    let a = dizhi::eval::noisy::noisy_queries(&store, &dicts, 500, 3).unwrap();
    let b = dizhi::eval::noisy::noisy_queries(&store, &dicts, 500, 3).unwrap();
    assert_eq!(a, b);
    assert!(a.iter().any(|q| q.noise.iter().any(|n| n == "homophone")));
}
