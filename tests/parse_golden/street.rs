//! Street doors (临街门牌): road + 号, with 号之 and 3-1号 forms.

use dizhi::Level::*;

use super::Case;

pub const CASES: &[Case] = &[
    // Numbered streets, a side and suffix after a compound-like stem, a lane-street name.
    ("12号大街88号", &[(Road, "12号大街"), (Number, "88")]),
    (
        "谢家路村鑫益路12号",
        &[(Community, "谢家路村"), (Road, "鑫益路"), (Number, "12")],
    ),
    (
        "环城西路南段245号",
        &[(Road, "环城西路南段"), (Number, "245")],
    ),
    ("康庄南路1330号", &[(Road, "康庄南路"), (Number, "1330")]),
    ("横街路1174号", &[(Road, "横街路"), (Number, "1174")]),
    (
        "青浦区公园路100号",
        &[(District, "青浦区"), (Road, "公园路"), (Number, "100")],
    ),
    (
        "沪青平公路3398号",
        &[(Road, "沪青平公路"), (Number, "3398")],
    ),
    ("崧泽大道9号之1", &[(Road, "崧泽大道"), (Number, "9之1")]),
    ("城中东路3-1号", &[(Road, "城中东路"), (Number, "3-1")]),
    (
        "外青松公路5045号2楼",
        &[(Road, "外青松公路"), (Number, "5045"), (Floor, "2")],
    ),
    (
        "徐泾镇诸光路1588号",
        &[(Town, "徐泾镇"), (Road, "诸光路"), (Number, "1588")],
    ),
    ("漕盈路１２３号", &[(Road, "漕盈路"), (Number, "123")]),
    (
        "徐泾镇的明珠路88号",
        &[(Town, "徐泾镇"), (Road, "明珠路"), (Number, "88")],
    ),
    (
        "赵巷镇崧泽大道与嘉松中路交叉口",
        &[(Town, "赵巷镇"), (Road, "崧泽大道"), (Road, "嘉松中路")],
    ),
    (
        "崧泽大道近嘉松中路",
        &[(Road, "崧泽大道"), (Road, "嘉松中路")],
    ),
    // A shop's name glued before a road: the road is the last two characters before its suffix.
    (
        "华新镇华伦服饰聚成路128号",
        &[
            (Town, "华新镇"),
            (Poi, "华伦服饰"),
            (Road, "聚成路"),
            (Number, "128"),
        ],
    ),
];

#[test]
fn street() {
    super::run_table("street", CASES);
}
