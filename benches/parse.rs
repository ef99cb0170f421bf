//! Parse throughput on realistic 青浦-style addresses generated here from a fixed seed.
//!
//! Run: `cargo bench --bench parse`. Criterion reports time per batch and elements/s, where an
//! element is one address.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dizhi::{Dictionaries, Parser};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

const TOWNS: [&str; 11] = [
    "夏阳街道",
    "盈浦街道",
    "香花桥街道",
    "朱家角镇",
    "练塘镇",
    "金泽镇",
    "赵巷镇",
    "徐泾镇",
    "华新镇",
    "重固镇",
    "白鹤镇",
];
const ROADS: [&str; 12] = [
    "华腾路",
    "沪青平公路",
    "崧泽大道",
    "公园路",
    "城中北路",
    "盈港路",
    "外青松公路",
    "漕盈路",
    "青湖路",
    "明珠路",
    "诸光路",
    "淀山湖大道",
];
const VILLAGES: [&str; 4] = ["东厍村", "王仙村", "新木桥村", "陈桥村"];
const COMPOUNDS: [&str; 4] = ["东方花园", "大发融悦", "淮海新村", "绿地香湖湾"];
const CN_DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];

/// One address in one of the styles people write: compound, street door, village, spoken.
fn address(rng: &mut ChaCha8Rng) -> String {
    let town = TOWNS[rng.random_range(0..TOWNS.len())];
    let road = ROADS[rng.random_range(0..ROADS.len())];
    let prefix = match rng.random_range(0..4) {
        0 => format!("上海市青浦区{town}"),
        1 => format!("青浦区{town}"),
        2 => town.to_string(),
        _ => String::new(),
    };
    match rng.random_range(0..6) {
        0 => format!(
            "{prefix}{road}{}弄{}号{}室",
            rng.random_range(1..2000),
            rng.random_range(1..40),
            rng.random_range(101..1802)
        ),
        1 => format!("{prefix}{road}{}号", rng.random_range(1..5000)),
        2 => format!(
            "{prefix}{}{}组{}号",
            VILLAGES[rng.random_range(0..VILLAGES.len())],
            rng.random_range(1..15),
            rng.random_range(1..80)
        ),
        3 => format!(
            "{prefix}{}{}-{}",
            COMPOUNDS[rng.random_range(0..COMPOUNDS.len())],
            rng.random_range(1..30),
            rng.random_range(101..1802)
        ),
        4 => {
            let lane: String = (0..4).map(|_| CN_DIGITS[rng.random_range(0..10)]).collect();
            format!(
                "我住在青浦那个{road}{lane}弄{}号楼附近",
                rng.random_range(1..30)
            )
        }
        _ => format!(
            "{prefix}{road}{}弄{}幢{}单元{}",
            rng.random_range(1..2000),
            rng.random_range(1..40),
            rng.random_range(1..6),
            rng.random_range(101..1802)
        ),
    }
}

fn bench_parse(c: &mut Criterion) {
    let dicts = Dictionaries::embedded().expect("dictionaries");
    let parser = Parser::new(&dicts);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let addresses: Vec<String> = (0..10_000).map(|_| address(&mut rng)).collect();
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Elements(addresses.len() as u64));
    group.sample_size(20);
    group.bench_function("10k qingpu addresses", |b| {
        b.iter(|| {
            for a in &addresses {
                black_box(parser.parse(black_box(a)));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench_parse);
criterion_main!(benches);
