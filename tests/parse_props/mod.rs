//! Properties over arbitrary input: no panic, spans inside the input, text equal to its slice,
//! components non-overlapping and in order; the segmenter loses and duplicates nothing.

use proptest::prelude::*;

use crate::parse_golden::parser;

fn check_invariants(input: &str) {
    let p = parser().parse(input);
    assert_eq!(p.input, input);
    let chars: Vec<char> = input.chars().collect();
    let mut last_end = 0;
    for c in &p.components {
        assert!(
            c.start <= c.end && c.end <= chars.len(),
            "span out of input: {c:?}"
        );
        assert!(
            c.start >= last_end,
            "overlap or disorder: {c:?} in {:?}",
            p.components
        );
        let slice: String = chars[c.start..c.end].iter().collect();
        assert_eq!(slice, c.text, "text is not the input slice");
        assert!((0.0..=1.0).contains(&c.confidence));
        last_end = c.end;
    }
    if p.components.is_empty() {
        assert!(p.reason.is_some(), "an empty parse must say why");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_string(s in ".{0,80}") {
        check_invariants(&s);
    }

    #[test]
    fn address_like(s in "[上海市青浦区华新镇腾路弄号栋幢楼层室单元村组东西南北中甲第之附与和段梯户门期区一二三十百零0-9 \\-#()（）附近对面电话A-Za-z\u{fffd}]{0,40}") {
        check_invariants(&s);
    }

    #[test]
    fn segments_concatenate_back(s in ".{0,60}") {
        let words = parser().segmenter().words(&s);
        prop_assert_eq!(words.concat(), s);
    }
}

#[test]
fn hostile_inputs() {
    for s in [
        "",
        "   ",
        "\t\n\r",
        "🏠🏢📮 华腾路🙂1288弄",
        "hello world 123 main street",
        "Qingpu 华腾路 road 88号 Шанхай",
        "((((华腾路1288弄",
        "华腾路]]]]88号))",
        "\u{0}\u{1}华腾路\u{7}88号\u{1b}[0m",
        "\u{fffd}\u{fffd}区",
        "----------",
        "号号号弄弄弄室室",
        "一二三四五六七八九十百千号",
        "99999999999999999999999999号",
        "110101199003077777",
        "华腾路第",
        "第",
        "东",
        "3-",
        "-3",
        "号之",
        "3号之",
        "路与",
        "东段",
        "5一",
        // regression: the connector skip consumed the first digit of an expanded numeral
        "0路与十栋",
    ] {
        check_invariants(s);
    }
}

#[test]
fn ten_megabyte_line() {
    let line = "上海市青浦区华新镇华腾路1288弄3号502室".repeat(200_000);
    assert!(line.len() >= 10_000_000);
    let started = std::time::Instant::now();
    check_invariants(&line);
    let p = parser().parse(&line);
    assert!(p.reason.as_deref().unwrap_or("").contains("longer than"));
    assert!(
        started.elapsed().as_secs() < 30,
        "took {:?}",
        started.elapsed()
    );
}
