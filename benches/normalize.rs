//! Normalization latency on a seeded synthetic district: generated, built into a store and a
//! tantivy index on disk, then normalized with seeded noisy queries.
//!
//! Run: `cargo bench --bench normalize`. Scale with `DIZHI_BENCH_ADDRESSES` (default 100,000;
//! the 1M numbers in the README come from `dizhi bench normalize` on a 1M data directory).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dizhi::Dictionaries;
use dizhi::eval::noisy::noisy_queries;
use dizhi::search::{AddressIndex, Matcher, build_index};
use dizhi::store::Store;
use dizhi::synth::{SynthConfig, generate_to_dir};

fn normalize(c: &mut Criterion) {
    let addresses = std::env::var("DIZHI_BENCH_ADDRESSES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dicts = Dictionaries::embedded().expect("dictionaries");
    let dir = tempfile::tempdir().expect("temp dir");
    let source = dir.path().join("source");
    let data = dir.path().join("data");
    generate_to_dir(&dicts, SynthConfig { addresses, seed: 1 }, &source).expect("synth");
    dizhi::store::build(&source, &data, &|_, _, _| {}).expect("build");
    let store = Store::open(&data).expect("store");
    build_index(&store, &AddressIndex::dir(&data)).expect("index");
    let matcher = Matcher::new(AddressIndex::open(&data).expect("open"), &dicts).expect("matcher");
    let queries = noisy_queries(&store, &dicts, 2_000, 7).expect("queries");

    let mut group = c.benchmark_group(format!("normalize/{addresses}"));
    group.throughput(Throughput::Elements(queries.len() as u64));
    group.bench_function("noisy queries, one thread", |b| {
        b.iter(|| {
            for q in &queries {
                black_box(
                    matcher
                        .normalize(black_box(&q.text))
                        .expect("the index answers"),
                );
            }
        })
    });
    group.finish();
    c.bench_function("suggest/prefix", |b| {
        b.iter(|| black_box(matcher.suggest(black_box("淀山湖大道4"), 10)))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = normalize
}
criterion_main!(benches);
