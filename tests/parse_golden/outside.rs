//! Addresses outside 青浦: other Shanghai districts and other provinces. They parse, and say where.

use dizhi::Level::*;

use super::Case;

pub const CASES: &[Case] = &[
    // A form's home place before the address: the second path is the address.
    (
        "安徽省宿州市萧县浙江省杭州市余杭区文一西路969号",
        &[
            (Province, "浙江省"),
            (City, "杭州市"),
            (District, "余杭区"),
            (Road, "文一西路"),
            (Number, "969"),
        ],
    ),
    (
        "上海市浦东新区张江镇祖冲之路887弄",
        &[
            (Province, "上海市"),
            (District, "浦东新区"),
            (Town, "张江镇"),
            (Road, "祖冲之路"),
            (Lane, "887"),
        ],
    ),
    // A district said short before its town, the town starting like a name's suffix (庄, 港).
    (
        "奉贤庄行镇渔沥村2组5号",
        &[
            (District, "奉贤区"),
            (Town, "庄行镇"),
            (Community, "渔沥村"),
            (Group, "2"),
            (Number, "5"),
        ],
    ),
    (
        "江苏省苏州市昆山市花桥镇",
        &[
            (Province, "江苏省"),
            (City, "苏州市"),
            (District, "昆山市"),
            (Town, "花桥镇"),
        ],
    ),
    (
        "浙江省嘉兴市嘉善县姚庄镇",
        &[
            (Province, "浙江省"),
            (City, "嘉兴市"),
            (District, "嘉善县"),
            (Town, "姚庄镇"),
        ],
    ),
    (
        "松江区九亭镇沪亭北路100号",
        &[
            (District, "松江区"),
            (Town, "九亭镇"),
            (Road, "沪亭北路"),
            (Number, "100"),
        ],
    ),
    (
        "北京市朝阳区建国路88号",
        &[
            (Province, "北京市"),
            (District, "朝阳区"),
            (Road, "建国路"),
            (Number, "88"),
        ],
    ),
    (
        "嘉定区安亭镇墨玉南路888号",
        &[
            (District, "嘉定区"),
            (Town, "安亭镇"),
            (Road, "墨玉南路"),
            (Number, "888"),
        ],
    ),
];

#[test]
fn outside() {
    super::run_table("outside", CASES);
}

#[test]
fn outside_says_where() {
    let p = super::parser().parse("江苏省苏州市昆山市花桥镇");
    let o = p.outside.expect("outside");
    assert_eq!(o.name, "江苏省苏州市昆山市花桥镇");
    let p = super::parser().parse("松江区九亭镇沪亭北路100号");
    assert!(p.outside.expect("outside").name.starts_with("上海市松江区"));
    assert!(
        super::parser()
            .parse("青浦区华新镇华腾路1号")
            .outside
            .is_none()
    );
}
