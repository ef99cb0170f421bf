//! Villages: 村 + 组 + 号.

use dizhi::Level::*;

use super::Case;

pub const CASES: &[Case] = &[
    (
        "东厍村3组12号",
        &[(Community, "东厍村"), (Group, "3"), (Number, "12")],
    ),
    (
        "练塘镇东厍村三组12号",
        &[
            (Town, "练塘镇"),
            (Community, "东厍村"),
            (Group, "3"),
            (Number, "12"),
        ],
    ),
    (
        "青浦区金泽镇王仙村5组",
        &[
            (District, "青浦区"),
            (Town, "金泽镇"),
            (Community, "王仙村"),
            (Group, "5"),
        ],
    ),
    (
        "白鹤镇新木桥村十二组35号",
        &[
            (Town, "白鹤镇"),
            (Community, "新木桥村"),
            (Group, "12"),
            (Number, "35"),
        ],
    ),
    (
        "金泽镇王仙村五组二十号",
        &[
            (Town, "金泽镇"),
            (Community, "王仙村"),
            (Group, "5"),
            (Number, "20"),
        ],
    ),
    // The group by its full or older name.
    (
        "白鹤镇新木桥村十二小组35号",
        &[
            (Town, "白鹤镇"),
            (Community, "新木桥村"),
            (Group, "12"),
            (Number, "35"),
        ],
    ),
    (
        "金泽镇王仙村5生产队20号",
        &[
            (Town, "金泽镇"),
            (Community, "王仙村"),
            (Group, "5"),
            (Number, "20"),
        ],
    ),
    // A place said before a village the dictionaries do not know: cut after its first word (here
    // an old town's stem: 商榻 for 商榻镇, now 金泽镇).
    (
        "金泽镇商榻王仙村5组",
        &[
            (Town, "金泽镇"),
            (Town, "金泽镇"),
            (Community, "王仙村"),
            (Group, "5"),
        ],
    ),
    (
        "练塘镇东厍村3组12号后面的仓库",
        &[
            (Town, "练塘镇"),
            (Community, "东厍村"),
            (Group, "3"),
            (Number, "12"),
        ],
    ),
    // An old town said by its stem (商榻 for 商榻镇, now 金泽镇).
    (
        "商榻王仙村5组20号",
        &[
            (Town, "金泽镇"),
            (Community, "王仙村"),
            (Group, "5"),
            (Number, "20"),
        ],
    ),
];

#[test]
fn village() {
    super::run_table("village", CASES);
}
