//! Prometheus metrics in the text exposition format: request counts by status class and latency
//! histograms per route, lock-free on the request path.
//!
//! The routes are registered once, from the OpenAPI document, so recording a request is a hash
//! lookup and a few atomic adds. Written by hand rather than with the `metrics` or `prometheus`
//! crates: a dozen counters do not need a registry, and the dependency tree stays small.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
pub const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Default)]
struct RouteStats {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_ns: AtomicU64,
    /// By status class: 1xx … 5xx.
    status: [AtomicU64; 5],
}

impl RouteStats {
    fn record(&self, status: u16, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_ns
            .fetch_add(elapsed.as_nanos() as u64, Ordering::Relaxed);
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.status[class].fetch_add(1, Ordering::Relaxed);
    }
}

/// The server's metrics.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// let m = dizhi::api::metrics::Metrics::new([("GET", "/v1/normalize")]);
/// m.record("GET", Some("/v1/normalize"), 200, Duration::from_micros(300));
/// let text = m.render();
/// assert!(text.contains(r#"dizhi_http_request_duration_seconds_bucket{method="GET",route="/v1/normalize",le="0.0005"} 1"#));
/// assert!(text.contains(r#"dizhi_http_requests_total{method="GET",route="/v1/normalize",status="2xx"} 1"#));
/// ```
pub struct Metrics {
    routes: HashMap<Box<str>, Vec<(Box<str>, RouteStats)>>,
    unmatched: RouteStats,
    in_flight: AtomicI64,
}

impl Metrics {
    /// Metrics for these (method, route template) pairs; other requests count as `unmatched`.
    pub fn new<'a>(routes: impl IntoIterator<Item = (&'a str, &'a str)>) -> Metrics {
        let mut map: HashMap<Box<str>, Vec<(Box<str>, RouteStats)>> = HashMap::new();
        for (method, route) in routes {
            let methods = map.entry(route.into()).or_default();
            if !methods.iter().any(|(m, _)| &**m == method) {
                methods.push((method.to_ascii_uppercase().into(), RouteStats::default()));
            }
        }
        Metrics {
            routes: map,
            unmatched: RouteStats::default(),
            in_flight: AtomicI64::new(0),
        }
    }

    /// Records one finished request.
    pub fn record(&self, method: &str, route: Option<&str>, status: u16, elapsed: Duration) {
        let stats = route
            .and_then(|r| self.routes.get(r))
            .and_then(|ms| ms.iter().find(|(m, _)| &**m == method))
            .map_or(&self.unmatched, |(_, s)| s);
        stats.record(status, elapsed);
    }

    /// A request started (+1) or finished (-1).
    pub fn in_flight(&self, delta: i64) {
        self.in_flight.fetch_add(delta, Ordering::Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut rows: Vec<(&str, &str, &RouteStats)> = self
            .routes
            .iter()
            .flat_map(|(r, ms)| ms.iter().map(move |(m, s)| (&**m, &**r, s)))
            .collect();
        rows.sort_by(|a, b| (a.1, a.0).cmp(&(b.1, b.0)));
        rows.push(("OTHER", "unmatched", &self.unmatched));
        let mut out = String::with_capacity(64 * 1024);
        out.push_str("# HELP dizhi_http_requests_total HTTP requests by route and status class.\n");
        out.push_str("# TYPE dizhi_http_requests_total counter\n");
        for (m, r, s) in &rows {
            for (i, c) in s.status.iter().enumerate() {
                let n = c.load(Ordering::Relaxed);
                if n > 0 {
                    let _ = writeln!(
                        out,
                        "dizhi_http_requests_total{{method=\"{m}\",route=\"{r}\",status=\"{}xx\"}} {n}",
                        i + 1
                    );
                }
            }
        }
        out.push_str("# HELP dizhi_http_request_duration_seconds HTTP request latency by route.\n");
        out.push_str("# TYPE dizhi_http_request_duration_seconds histogram\n");
        for (m, r, s) in &rows {
            let mut cumulative = 0;
            for (i, b) in BUCKETS.iter().enumerate() {
                cumulative += s.buckets[i].load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "dizhi_http_request_duration_seconds_bucket{{method=\"{m}\",route=\"{r}\",le=\"{b}\"}} {cumulative}"
                );
            }
            let count = s.count.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "dizhi_http_request_duration_seconds_bucket{{method=\"{m}\",route=\"{r}\",le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "dizhi_http_request_duration_seconds_sum{{method=\"{m}\",route=\"{r}\"}} {}",
                s.sum_ns.load(Ordering::Relaxed) as f64 / 1e9
            );
            let _ = writeln!(
                out,
                "dizhi_http_request_duration_seconds_count{{method=\"{m}\",route=\"{r}\"}} {count}"
            );
        }
        out.push_str("# HELP dizhi_http_requests_in_flight Requests being served.\n");
        out.push_str("# TYPE dizhi_http_requests_in_flight gauge\n");
        let _ = writeln!(
            out,
            "dizhi_http_requests_in_flight {}",
            self.in_flight.load(Ordering::Relaxed)
        );
        if let Some(rss) = resident_bytes() {
            out.push_str("# HELP process_resident_memory_bytes Resident memory size in bytes.\n");
            out.push_str("# TYPE process_resident_memory_bytes gauge\n");
            let _ = writeln!(out, "process_resident_memory_bytes {rss}");
        }
        out
    }
}

/// Resident memory of this process (Linux: /proc/self/statm), in bytes.
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}
