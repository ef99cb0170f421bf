//! Footprint queries on a synthetic 青浦: exact point-in-footprint (one thread and every core),
//! k nearest within 100 m, and box queries.
//!
//! Scale with `DIZHI_BENCH_ADDRESSES` (default 150,000 addresses ≈ 110k footprints; 1,500,000
//! gives ≈ 1.1M footprints, the size the issue measures at).

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dizhi::spatial::FootprintIndex;
use geo::{Point, Rect, coord};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

const BATCH: usize = 100_000;

fn setup() -> (FootprintIndex, Vec<Point<f64>>, Vec<Point<f64>>) {
    let addresses = std::env::var("DIZHI_BENCH_ADDRESSES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(150_000);
    let dicts = dizhi::Dictionaries::embedded().expect("embedded dictionaries");
    let t = Instant::now();
    let district = dizhi::synth::generate(&dicts, dizhi::synth::SynthConfig { addresses, seed: 1 })
        .expect("the district has room");
    eprintln!(
        "generated {addresses} addresses in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    // Address points (every one inside a footprint) in random order, so the cache is not helped
    // by the generator's spatial order.
    let mut inside: Vec<Point<f64>> = district.addresses.iter().filter_map(|a| a.point).collect();
    for i in (1..inside.len()).rev() {
        inside.swap(i, rng.random_range(0..=i));
    }
    inside.truncate(BATCH);
    let (x0, y0, x1, y1) = dizhi::synth::DISTRICT_BOUNDS;
    let anywhere: Vec<Point<f64>> = (0..BATCH)
        .map(|_| Point::new(rng.random_range(x0..x1), rng.random_range(y0..y1)))
        .collect();
    let t = Instant::now();
    let index = FootprintIndex::new(district.buildings);
    eprintln!(
        "R-tree of {} footprints bulk-loaded in {:.3} s; {:.0} heap bytes per footprint (estimate)",
        index.len(),
        t.elapsed().as_secs_f64(),
        index.heap_bytes() as f64 / index.len() as f64
    );
    (index, inside, anywhere)
}

fn bench(c: &mut Criterion) {
    let (index, inside, anywhere) = setup();
    let mut g = c.benchmark_group(format!("footprints_{}", index.len()));
    g.throughput(Throughput::Elements(BATCH as u64));
    g.sample_size(20);
    g.bench_function("point_in_footprint/address_points/1_thread", |b| {
        b.iter(|| {
            inside
                .iter()
                .filter(|p| index.containing_index(**p).is_some())
                .count()
        })
    });
    g.bench_function("point_in_footprint/address_points/all_cores", |b| {
        b.iter(|| {
            inside
                .par_iter()
                .filter(|p| index.containing_index(**p).is_some())
                .count()
        })
    });
    g.bench_function("point_in_footprint/uniform_points/1_thread", |b| {
        b.iter(|| {
            anywhere
                .iter()
                .filter(|p| index.containing_index(**p).is_some())
                .count()
        })
    });
    g.throughput(Throughput::Elements(10_000));
    g.bench_function("nearest_5_within_100m/1_thread", |b| {
        b.iter(|| {
            inside[..10_000]
                .iter()
                .map(|p| index.nearest_buildings(*p, 5, 100.0).len())
                .sum::<usize>()
        })
    });
    g.bench_function("box_200m/1_thread", |b| {
        b.iter(|| {
            inside[..10_000]
                .iter()
                .map(|p| {
                    let r = Rect::new(
                        coord! { x: p.x() - 0.001, y: p.y() - 0.0009 },
                        coord! { x: p.x() + 0.001, y: p.y() + 0.0009 },
                    );
                    black_box(index.buildings_in_box(r)).len()
                })
                .sum::<usize>()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
