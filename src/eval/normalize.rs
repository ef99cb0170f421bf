//! `dizhi bench normalize`: accuracy, calibration, latency and throughput of the matcher on
//! noisy queries with known answers.

use std::fmt::Write;
use std::time::{Duration, Instant};

use super::noisy::{Expected, NoisyQuery};
use crate::search::{Match, MatchLevel, Matcher};

/// Whether an answer is right for its query.
pub fn is_right(q: &NoisyQuery, m: &Match) -> bool {
    match &q.expected {
        Expected::Address { id } => m.id.as_deref() == Some(id.as_str()),
        Expected::NotInLibrary => !m.level.is_address() && m.level != MatchLevel::Outside,
        Expected::Outside => m.level == MatchLevel::Outside,
    }
}

/// What a run measured.
#[derive(Debug, Clone)]
pub struct BenchReport {
    /// Queries run.
    pub queries: usize,
    /// Queries whose answer is in the library, and how many were answered with it first.
    pub in_library: (usize, usize),
    /// Not-in-library queries, and how many were answered at number or building level.
    pub not_in_library: (usize, usize),
    /// Outside queries, and how many were answered `outside`.
    pub outside: (usize, usize),
    /// Score bucket (lower bound) → (answers, right answers).
    pub buckets: Vec<(f64, usize, usize)>,
    /// Latency percentiles of one thread: p50, p90, p99, max.
    pub latency: [Duration; 4],
    /// Normalizations per second on one thread.
    pub single_thread_rate: f64,
    /// Normalizations per second over `threads` threads.
    pub parallel_rate: f64,
    /// Threads used for `parallel_rate`.
    pub threads: usize,
    /// Suggestion latency percentiles (top 10 for a typed prefix): p50, p99, max.
    pub suggest_latency: [Duration; 3],
    /// Wrong answers, for reading (query, answer).
    pub failures: Vec<(NoisyQuery, Match)>,
    /// Every query's time on one thread, slowest first (the report prints ten).
    pub slowest: Vec<(Duration, String)>,
}

const BUCKETS: [f64; 7] = [0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99];

/// Runs every query once on one thread (timing each), then all of them again over `threads`
/// threads for throughput. The index failing fails the run (it is not counted as a miss).
pub fn run(
    matcher: &Matcher,
    queries: &[NoisyQuery],
    threads: usize,
) -> crate::search::Result<BenchReport> {
    let mut times = Vec::with_capacity(queries.len());
    let mut answers = Vec::with_capacity(queries.len());
    let started = Instant::now();
    for q in queries {
        let t = Instant::now();
        let m = matcher.normalize(&q.text)?;
        times.push(t.elapsed());
        answers.push(m);
    }
    let single = queries.len() as f64 / started.elapsed().as_secs_f64();

    let threads = threads.max(1);
    let started = Instant::now();
    std::thread::scope(|s| {
        for chunk in queries.chunks(queries.len().div_ceil(threads).max(1)) {
            s.spawn(move || {
                for q in chunk {
                    // Every query was answered above: a failure here cannot be new.
                    let _ = std::hint::black_box(matcher.normalize(&q.text));
                }
            });
        }
    });
    let parallel = queries.len() as f64 / started.elapsed().as_secs_f64();

    // What an operator sees while typing: a prefix of each query.
    let mut suggest_times: Vec<Duration> = queries
        .iter()
        .take(2_000)
        .enumerate()
        .map(|(i, q)| {
            let prefix: String = q.text.chars().take(3 + i % 6).collect();
            let t = Instant::now();
            std::hint::black_box(matcher.suggest(&prefix, 10).ok());
            t.elapsed()
        })
        .collect();
    suggest_times.sort();
    let mut slowest: Vec<(Duration, String)> = times
        .iter()
        .zip(queries)
        .map(|(t, q)| (*t, q.text.clone()))
        .collect();
    slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
    times.sort();
    let pct = |p: f64| super::percentile(&times, p);
    let mut report = BenchReport {
        queries: queries.len(),
        in_library: (0, 0),
        not_in_library: (0, 0),
        outside: (0, 0),
        buckets: BUCKETS.iter().map(|&b| (b, 0, 0)).collect(),
        latency: [
            pct(0.5),
            pct(0.9),
            pct(0.99),
            times.last().copied().unwrap_or_default(),
        ],
        suggest_latency: [
            super::percentile(&suggest_times, 0.5),
            super::percentile(&suggest_times, 0.99),
            suggest_times.last().copied().unwrap_or_default(),
        ],
        single_thread_rate: single,
        parallel_rate: parallel,
        threads,
        failures: Vec::new(),
        slowest,
    };
    for (q, m) in queries.iter().zip(answers) {
        let right = is_right(q, &m);
        match q.expected {
            Expected::Address { .. } => {
                report.in_library.0 += 1;
                report.in_library.1 += right as usize;
            }
            Expected::NotInLibrary => {
                report.not_in_library.0 += 1;
                report.not_in_library.1 += m.level.is_address() as usize;
            }
            Expected::Outside => {
                report.outside.0 += 1;
                report.outside.1 += right as usize;
            }
        }
        if let Some(b) = report.buckets.iter_mut().rev().find(|b| m.score >= b.0) {
            b.1 += 1;
            b.2 += right as usize;
        }
        if !right {
            report.failures.push((q.clone(), m));
        }
    }
    Ok(report)
}

impl BenchReport {
    /// The report as text; its lines say what each number is.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let ratio = |(n, k): (usize, usize)| if n == 0 { 0.0 } else { k as f64 / n as f64 };
        let _ = writeln!(s, "queries: {}", self.queries);
        let _ = writeln!(
            s,
            "top-1 on in-library queries: {:.4} ({} of {})",
            ratio(self.in_library),
            self.in_library.1,
            self.in_library.0
        );
        let _ = writeln!(
            s,
            "not-in-library answered at number/building: {:.4} ({} of {})",
            ratio(self.not_in_library),
            self.not_in_library.1,
            self.not_in_library.0
        );
        let _ = writeln!(
            s,
            "outside answered outside: {:.4} ({} of {})",
            ratio(self.outside),
            self.outside.1,
            self.outside.0
        );
        let _ = writeln!(s, "score bucket → answers, observed precision:");
        for (i, (lo, n, k)) in self.buckets.iter().enumerate() {
            let hi = BUCKETS.get(i + 1).copied().unwrap_or(1.0);
            let _ = writeln!(
                s,
                "  [{lo:.2}, {hi:.2}{}  {n:>7}  {:.4}",
                if i + 1 == BUCKETS.len() { "]" } else { ")" },
                ratio((*n, *k))
            );
        }
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let _ = writeln!(
            s,
            "latency, one thread: p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            ms(self.latency[0]),
            ms(self.latency[1]),
            ms(self.latency[2]),
            ms(self.latency[3])
        );
        for (t, text) in self.slowest.iter().take(10) {
            let _ = writeln!(s, "  slow: {:.3} ms  {text}", ms(*t));
        }
        let _ = writeln!(
            s,
            "suggest (top 10 for a typed prefix): p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
            ms(self.suggest_latency[0]),
            ms(self.suggest_latency[1]),
            ms(self.suggest_latency[2])
        );
        let _ = writeln!(
            s,
            "throughput: {:.0}/s on one thread, {:.0}/s on {} threads",
            self.single_thread_rate, self.parallel_rate, self.threads
        );
        s
    }
}
