//! Industrial parks and development zones.

use dizhi::Level::*;

use super::Case;

pub const CASES: &[Case] = &[
    (
        "青浦工业园区新业路88号",
        &[(Devzone, "青浦工业园区"), (Road, "新业路"), (Number, "88")],
    ),
    (
        "华新镇华科路200号3幢",
        &[
            (Town, "华新镇"),
            (Road, "华科路"),
            (Number, "200"),
            (Building, "3"),
        ],
    ),
    (
        "赵巷镇赵江路18号A座",
        &[
            (Town, "赵巷镇"),
            (Road, "赵江路"),
            (Number, "18"),
            (Building, "A"),
        ],
    ),
    (
        "白鹤镇鹤祥路9号2号厂房",
        &[
            (Town, "白鹤镇"),
            (Road, "鹤祥路"),
            (Number, "9"),
            (Building, "2"),
        ],
    ),
    (
        "青浦工业园区崧华路168号",
        &[(Devzone, "青浦工业园区"), (Road, "崧华路"), (Number, "168")],
    ),
    (
        "赵巷镇业辉路288号5号楼3层",
        &[
            (Town, "赵巷镇"),
            (Road, "业辉路"),
            (Number, "288"),
            (Building, "5"),
            (Floor, "3"),
        ],
    ),
];

#[test]
fn industrial() {
    super::run_table("industrial", CASES);
}
