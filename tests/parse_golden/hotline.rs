//! Spoken hotline style: fillers, near-qualifiers, phone numbers, missing upper levels.

use dizhi::Level::*;

use super::Case;

pub const CASES: &[Case] = &[
    // Work-order text around the address: a date, a time, a ticket number, the caller.
    (
        "12月16号晚上10点左右，白鹤镇青龙村2组339号路灯不亮",
        &[
            (Town, "白鹤镇"),
            (Community, "青龙村"),
            (Group, "2"),
            (Number, "339"),
            (Poi, "路灯不亮"),
        ],
    ),
    (
        "工单202404225823：华腾路1288弄3号",
        &[(Road, "华腾路"), (Lane, "1288"), (Number, "3")],
    ),
    (
        "来电人王先生13598658242，地址华腾路88号",
        &[(Road, "华腾路"), (Number, "88")],
    ),
    (
        "华腾路7号门前非机动车乱停",
        &[(Road, "华腾路"), (Number, "7"), (Poi, "非机动车乱停")],
    ),
    // Two addresses in one call: the place the call is about, not the caller's home.
    (
        "来电人住华腾路1288弄18号，反映华腾路1288弄6号路灯不亮",
        &[
            (Road, "华腾路"),
            (Lane, "1288"),
            (Building, "6"),
            (Poi, "路灯不亮"),
        ],
    ),
    (
        "我住南崧村29组456号，南崧村23组276号那边占道经营",
        &[
            (Community, "南崧村"),
            (Group, "23"),
            (Building, "276"),
            (Poi, "占道经营"),
        ],
    ),
    (
        "华腾路151弄5号违章搭建，来电人住址：华腾路151弄13号",
        &[
            (Road, "华腾路"),
            (Lane, "151"),
            (Number, "5"),
            (Poi, "违章搭建"),
        ],
    ),
    // A take-back after an apology, and one said twice: only the part before it goes.
    (
        "金泽镇东星村2组…不好意思说错了，1组543号",
        &[
            (Town, "金泽镇"),
            (Community, "东星村"),
            (Group, "1"),
            (Number, "543"),
        ],
    ),
    (
        "练塘镇星浜村32组，不是不是，22组379号",
        &[
            (Town, "练塘镇"),
            (Community, "星浜村"),
            (Group, "22"),
            (Number, "379"),
        ],
    ),
    // The door said again to confirm it is no building; 号房 after a door is the room.
    (
        "华腾路1288弄3号，华腾路1288弄3号",
        &[
            (Road, "华腾路"),
            (Lane, "1288"),
            (Number, "3"),
            (Road, "华腾路"),
            (Lane, "1288"),
        ],
    ),
    (
        "华腾路1288弄3号201号房",
        &[
            (Road, "华腾路"),
            (Lane, "1288"),
            (Number, "3"),
            (Room, "201"),
        ],
    ),
    // Markers heard by their sound between two numbers.
    (
        "白鹤镇青龙村30租21号",
        &[
            (Town, "白鹤镇"),
            (Community, "青龙村"),
            (Group, "30"),
            (Number, "21"),
        ],
    ),
    (
        "华腾路162弄堂30号",
        &[(Road, "华腾路"), (Lane, "162"), (Number, "30")],
    ),
    // The town said last, after a pause; the building said first.
    (
        "4组46号，杨家庄村，华新",
        &[
            (Group, "4"),
            (Number, "46"),
            (Community, "杨家庄村"),
            (Town, "华新镇"),
        ],
    ),
    (
        "2幢，华腾路331号，华新",
        &[
            (Building, "2"),
            (Road, "华腾路"),
            (Number, "331"),
            (Town, "华新镇"),
        ],
    ),
    // Village groups by their older names; 廿 is twenty.
    (
        "沈泾塘村廿二组一千七百六十八号",
        &[(Community, "沈泾塘村"), (Group, "22"), (Number, "1768")],
    ),
    (
        "青龙村十八小队1964号",
        &[(Community, "青龙村"), (Group, "18"), (Number, "1964")],
    ),
    // A known road that opens with a far city's short name (福泉市) is the road.
    (
        "福泉山东路360弄1号",
        &[(Road, "福泉山东路"), (Lane, "360"), (Number, "1")],
    ),
    (
        "青浦华新那个华腾路1288弄3号楼502",
        &[
            (District, "青浦区"),
            (Town, "华新镇"),
            (Road, "华腾路"),
            (Lane, "1288"),
            (Building, "3"),
            (Room, "502"),
        ],
    ),
    (
        "我住在华腾路一二八八弄三号",
        &[(Road, "华腾路"), (Lane, "1288"), (Number, "3")],
    ),
    ("就是公园路100号对面", &[(Road, "公园路"), (Number, "100")]),
    // What the caller or operator says before the address, as a run of lead words.
    (
        "你好，我这里是青浦赵巷南崧村16组959号",
        &[
            (District, "青浦区"),
            (Town, "赵巷镇"),
            (Community, "南崧村"),
            (Group, "16"),
            (Number, "959"),
        ],
    ),
    (
        "报修地址：华腾路1288弄3号",
        &[(Road, "华腾路"), (Lane, "1288"), (Number, "3")],
    ),
    (
        "麻烦派人到上海青浦练塘徐顺公路209弄29号",
        &[
            (Province, "上海市"),
            (District, "青浦区"),
            (Town, "练塘镇"),
            (Road, "徐顺公路"),
            (Lane, "209"),
            (Number, "29"),
        ],
    ),
    (
        "来电人反映：其家住在华腾路88号",
        &[(Road, "华腾路"), (Number, "88")],
    ),
    // 来 and 住 open names: no lead run starts with them.
    ("来安路88号", &[(Road, "来安路"), (Number, "88")]),
    // On the road (路上) before the door; 弄 typed by its Shanghai sound (龙).
    ("新萍路上149号", &[(Road, "新萍路"), (Number, "149")]),
    (
        "华腾路1288龙3号",
        &[(Road, "华腾路"), (Lane, "1288"), (Number, "3")],
    ),
    (
        "华腾路88号 电话13812345678",
        &[(Road, "华腾路"), (Number, "88")],
    ),
    (
        "嗯，青浦区，城中北路，五十号",
        &[(District, "青浦区"), (Road, "城中北路"), (Number, "50")],
    ),
    (
        "那个就是华新华腾路那边1288弄",
        &[(Town, "华新镇"), (Road, "华腾路"), (Lane, "1288")],
    ),
    (
        "我家在重固镇，福泉山东路88号二楼",
        &[
            (Town, "重固镇"),
            (Road, "福泉山东路"),
            (Number, "88"),
            (Floor, "2"),
        ],
    ),
    (
        "白鹤镇鹤祥路九号靠近菜场",
        &[
            (Town, "白鹤镇"),
            (Road, "鹤祥路"),
            (Number, "9"),
            (Poi, "菜场"),
        ],
    ),
    (
        "喂你好我要报修，青浦华新华腾路1288弄3号",
        &[
            (District, "青浦区"),
            (Town, "华新镇"),
            (Road, "华腾路"),
            (Lane, "1288"),
            (Number, "3"),
        ],
    ),
    // A room said aloud after a building or unit, its 室 dropped.
    (
        "长锦苑二号楼三零二",
        &[(Poi, "长锦苑"), (Building, "2"), (Room, "302")],
    ),
    (
        "华腾路1288弄3号2单元六零一",
        &[
            (Road, "华腾路"),
            (Lane, "1288"),
            (Number, "3"),
            (Unit, "2"),
            (Room, "601"),
        ],
    ),
];

#[test]
fn hotline() {
    super::run_table("hotline", CASES);
}

#[test]
fn near_qualifier_is_kept() {
    let p = super::parser().parse("就是公园路100号对面");
    assert_eq!(p.near.expect("near").text, "对面");
}

#[test]
fn phone_is_masked_and_reported() {
    let p = super::parser().parse("华腾路88号 电话13812345678");
    assert_eq!(p.masked.len(), 1);
    assert_eq!(p.masked[0].masked, "138******78");
}

#[test]
fn upper_levels_are_inferred_from_the_road() {
    let p = super::parser().parse("华腾路1288弄3号");
    let towns: Vec<&str> = p.inferred.iter().map(|i| i.value.as_str()).collect();
    assert_eq!(towns, ["华新镇", "青浦区"]);
    let p = super::parser().parse("沪青平公路3398号");
    assert!(p.inferred.is_empty());
    assert_eq!(p.ambiguous[0].candidates.len(), 4);
}

#[test]
fn a_door_run_into_its_room_is_not_a_phone_number() {
    // 号 dropped between a 3-digit door and a 4-digit room: seven digits, left to the search.
    for text in [
        "福顺别墅1601502室",
        "蒸中北路212弄1881704",
        "鹤霞别墅1961001",
        "湾雅路216弄1101601门口",
    ] {
        let p = super::parser().parse(text);
        assert!(p.masked.is_empty(), "{text}: {:?}", p.masked);
        assert!(
            p.components
                .iter()
                .any(|c| c.value.len() == 7 && c.value.bytes().all(|b| b.is_ascii_digit())),
            "{text}: {p:?}"
        );
    }
    // A phone number stays one: after a space or a phone word, or eight digits after a door.
    for text in [
        "华腾路88号 62345678",
        "华腾路88号电话1234567",
        "华腾路88号62345678",
    ] {
        let p = super::parser().parse(text);
        assert_eq!(p.masked.len(), 1, "{text}: {p:?}");
    }
}
