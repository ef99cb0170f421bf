//! `dizhi bench reverse`: latency and throughput of reverse lookups (the building at a point,
//! or the nearest within a radius, with its addresses from the store), as `GET /v1/reverse`
//! answers them.

use std::fmt::Write;
use std::time::{Duration, Instant};

use geo::Centroid;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::spatial::answer::reverse_answer;
use crate::spatial::{Crs, FootprintIndex};
use crate::store::{self, Store};

/// What a run measured.
#[derive(Debug, Clone)]
pub struct ReverseReport {
    /// Points looked up, and how many found a building (inside or within the radius).
    pub points: usize,
    pub found: usize,
    /// Addresses returned over all lookups (the store rows read).
    pub addresses: usize,
    /// Footprints in the index.
    pub footprints: usize,
    /// Latency percentiles on one thread: p50, p90, p99, max.
    pub latency: [Duration; 4],
    /// The same over the lookups that found a building (they read the store): p50, p99.
    pub found_latency: [Duration; 2],
    /// p50 and p99 of the lookups that found no building: a district with more of its area
    /// built on has more of the first kind, so compare sizes kind by kind.
    pub empty_latency: [Duration; 2],
    /// Lookups per second on one thread, and over `threads` threads (a store connection each).
    pub single_thread_rate: f64,
    pub parallel_rate: f64,
    pub threads: usize,
}

/// Seeded points as callers send them: half near a building (its centroid moved up to 40 m
/// either way: a door, a car park, a click beside the roof), half anywhere in the index's
/// extent (fields, water, another district's edge).
pub fn points(index: &FootprintIndex, n: usize, seed: u64) -> Vec<(f64, f64)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let Some([x0, y0, x1, y1]) = index.extent() else {
        return Vec::new();
    };
    // About 40 m in degrees at Shanghai's latitude.
    let (dx, dy) = (40.0 / 95_000.0, 40.0 / 111_000.0);
    (0..n)
        .map(|i| {
            let near = index
                .building(rng.random_range(0..index.len()))
                .and_then(|b| b.footprint.centroid());
            match near {
                Some(c) if i % 2 == 0 => (
                    c.x() + rng.random_range(-dx..dx),
                    c.y() + rng.random_range(-dy..dy),
                ),
                _ => (rng.random_range(x0..x1), rng.random_range(y0..y1)),
            }
        })
        .collect()
}

/// Looks every point up once on one thread (timing each), then all again over `threads`
/// threads, each with its own store connection from `open`.
pub fn run(
    index: &FootprintIndex,
    open: impl Fn() -> store::Result<Store> + Sync,
    points: &[(f64, f64)],
    radius_m: f64,
    threads: usize,
) -> store::Result<ReverseReport> {
    let store = open()?;
    let mut times = Vec::with_capacity(points.len());
    let mut found_times = Vec::new();
    let mut empty_times = Vec::new();
    let mut found = 0;
    let mut addresses = 0;
    let started = Instant::now();
    for &(lon, lat) in points {
        let t = Instant::now();
        let a = reverse_answer(index, &store, lon, lat, Crs::Wgs84, radius_m)?;
        let took = t.elapsed();
        times.push(took);
        if a.building_id.is_some() {
            found += 1;
            found_times.push(took);
        } else {
            empty_times.push(took);
        }
        addresses += a.addresses.len();
    }
    let single = points.len() as f64 / started.elapsed().as_secs_f64();

    let threads = threads.max(1);
    let started = Instant::now();
    std::thread::scope(|s| -> store::Result<()> {
        let handles: Vec<_> = points
            .chunks(points.len().div_ceil(threads).max(1))
            .map(|chunk| {
                let open = &open;
                s.spawn(move || -> store::Result<()> {
                    let store = open()?;
                    for &(lon, lat) in chunk {
                        std::hint::black_box(reverse_answer(
                            index,
                            &store,
                            lon,
                            lat,
                            Crs::Wgs84,
                            radius_m,
                        )?);
                    }
                    Ok(())
                })
            })
            .collect();
        for h in handles {
            h.join().expect("a lookup thread")?;
        }
        Ok(())
    })?;
    let parallel = points.len() as f64 / started.elapsed().as_secs_f64();

    times.sort();
    found_times.sort();
    empty_times.sort();
    let pct = |p: f64| super::percentile(&times, p);
    Ok(ReverseReport {
        points: points.len(),
        found,
        addresses,
        footprints: index.len(),
        latency: [
            pct(0.5),
            pct(0.9),
            pct(0.99),
            times.last().copied().unwrap_or_default(),
        ],
        found_latency: [
            super::percentile(&found_times, 0.5),
            super::percentile(&found_times, 0.99),
        ],
        empty_latency: [
            super::percentile(&empty_times, 0.5),
            super::percentile(&empty_times, 0.99),
        ],
        single_thread_rate: single,
        parallel_rate: parallel,
        threads,
    })
}

impl ReverseReport {
    /// The report as the CLI prints it.
    pub fn to_text(&self) -> String {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} points over {} footprints: {} found a building, {:.2} addresses each",
            self.points,
            self.footprints,
            self.found,
            self.addresses as f64 / self.found.max(1) as f64
        );
        let [p50, p90, p99, max] = self.latency;
        let _ = writeln!(
            s,
            "latency (1 thread): p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            ms(p50),
            ms(p90),
            ms(p99),
            ms(max)
        );
        let _ = writeln!(
            s,
            "latency of those that found a building: p50 {:.3} ms, p99 {:.3} ms",
            ms(self.found_latency[0]),
            ms(self.found_latency[1])
        );
        let _ = writeln!(
            s,
            "latency of those that found none: p50 {:.3} ms, p99 {:.3} ms",
            ms(self.empty_latency[0]),
            ms(self.empty_latency[1])
        );
        let _ = writeln!(
            s,
            "throughput: {:.0}/s on 1 thread, {:.0}/s on {} threads",
            self.single_thread_rate, self.parallel_rate, self.threads
        );
        s
    }
}
