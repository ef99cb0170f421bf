//! Residential compounds (小区): road + 弄 + 号 + 室, or a compound name standing for road + 弄.

use dizhi::Level::*;

use super::Case;

pub const CASES: &[Case] = &[
    // A letter for the building in a dash chain (B-12-502); after the building, unit and room.
    (
        "华新镇东方花园B-12-502",
        &[
            (Town, "华新镇"),
            (Poi, "东方花园"),
            (Building, "B"),
            (Unit, "12"),
            (Room, "502"),
        ],
    ),
    (
        "华腾路1288弄3幢2-501",
        &[
            (Road, "华腾路"),
            (Lane, "1288"),
            (Building, "3"),
            (Unit, "2"),
            (Room, "501"),
        ],
    ),
    // 内 glued to a compound's name says where, it is no part of the name.
    ("华新镇东方花园内", &[(Town, "华新镇"), (Poi, "东方花园")]),
    (
        "青浦区华新镇华腾路1288弄3号502室",
        &[
            (District, "青浦区"),
            (Town, "华新镇"),
            (Road, "华腾路"),
            (Lane, "1288"),
            (Number, "3"),
            (Room, "502"),
        ],
    ),
    (
        "上海市青浦区盈浦街道城中北路一二八弄十三号三百零五室",
        &[
            (Province, "上海市"),
            (District, "青浦区"),
            (Town, "盈浦街道"),
            (Road, "城中北路"),
            (Lane, "128"),
            (Number, "13"),
            (Room, "305"),
        ],
    ),
    (
        "华腾路1288弄3号楼502",
        &[
            (Road, "华腾路"),
            (Lane, "1288"),
            (Building, "3"),
            (Room, "502"),
        ],
    ),
    (
        "华腾路1288弄3栋2单元502室",
        &[
            (Road, "华腾路"),
            (Lane, "1288"),
            (Building, "3"),
            (Unit, "2"),
            (Room, "502"),
        ],
    ),
    (
        "公园路２８８弄５＃６０１",
        &[
            (Road, "公园路"),
            (Lane, "288"),
            (Building, "5"),
            (Room, "601"),
        ],
    ),
    (
        "徐泾镇明珠路88弄3-502",
        &[
            (Town, "徐泾镇"),
            (Road, "明珠路"),
            (Lane, "88"),
            (Number, "3"),
            (Room, "502"),
        ],
    ),
    (
        "大发融悦3-502",
        &[(Poi, "大发融悦"), (Building, "3"), (Room, "502")],
    ),
    (
        "青浦区夏阳街道青湖路500弄12号1201室",
        &[
            (District, "青浦区"),
            (Town, "夏阳街道"),
            (Road, "青湖路"),
            (Lane, "500"),
            (Number, "12"),
            (Room, "1201"),
        ],
    ),
    (
        "盈港路128弄7支弄3号",
        &[
            (Road, "盈港路"),
            (Lane, "128"),
            (Subroad, "7"),
            (Number, "3"),
        ],
    ),
    (
        "绿舟路66弄东方花园8号楼5层",
        &[
            (Road, "绿舟路"),
            (Lane, "66"),
            (Poi, "东方花园"),
            (Building, "8"),
            (Floor, "5"),
        ],
    ),
    (
        "华新镇淮海新村12幢301",
        &[
            (Town, "华新镇"),
            (Poi, "淮海新村"),
            (Building, "12"),
            (Room, "301"),
        ],
    ),
    (
        "青浦区华新镇华腾路1288弄3号楼的502",
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
        "盈浦街道漕盈路3500弄东方花园11号1101",
        &[
            (Town, "盈浦街道"),
            (Road, "漕盈路"),
            (Lane, "3500"),
            (Poi, "东方花园"),
            (Number, "11"),
            (Room, "1101"),
        ],
    ),
    (
        "华腾路1288弄3号502室王先生收",
        &[
            (Road, "华腾路"),
            (Lane, "1288"),
            (Number, "3"),
            (Room, "502"),
        ],
    ),
    // A word for a part of the compound (its sales office, a gate) after its name: its part.
    (
        "华新镇东方花园售楼处",
        &[(Town, "华新镇"), (Poi, "东方花园"), (Subpoi, "售楼处")],
    ),
    (
        "华新镇凤溪中学东门",
        &[(Town, "华新镇"), (Poi, "凤溪中学"), (Subpoi, "东门")],
    ),
    // A name after a whole unit's (a school's) is a named part of it.
    (
        "徐泾镇龙湾中学体育馆",
        &[(Town, "徐泾镇"), (Poi, "龙湾中学"), (Subpoi, "体育馆")],
    ),
    // A block (北楼), a sided numbered zone (北二区) or a 组团 is a part, not a name or a group.
    (
        "赵巷镇万达广场北楼",
        &[(Town, "赵巷镇"), (Poi, "万达广场"), (Subpoi, "北楼")],
    ),
    (
        "华新镇东方花园北二区3号",
        &[
            (Town, "华新镇"),
            (Poi, "东方花园"),
            (Subpoi, "北二区"),
            (Number, "3"),
        ],
    ),
    (
        "华新镇东方花园二组团5号楼",
        &[
            (Town, "华新镇"),
            (Poi, "东方花园"),
            (Subpoi, "2"),
            (Building, "5"),
        ],
    ),
    // A 村 the dictionaries do not know, with a building number after it, is a housing estate;
    // a known village stays one.
    (
        "华新镇侯儿村36栋5单元1135室",
        &[
            (Town, "华新镇"),
            (Poi, "侯儿村"),
            (Building, "36"),
            (Unit, "5"),
            (Room, "1135"),
        ],
    ),
    (
        "练塘镇东厍村5号楼",
        &[(Town, "练塘镇"), (Community, "东厍村"), (Building, "5")],
    ),
    // A door said aloud after a compound is no part of it.
    (
        "练塘镇永天苑五十六",
        &[(Town, "练塘镇"), (Poi, "永天苑"), (Number, "56")],
    ),
];

#[test]
fn residential() {
    super::run_table("residential", CASES);
}
