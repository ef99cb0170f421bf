//! Exact point-in-footprint lookups/s on a district, for `benches/compare_spatial.sh`.
//!
//! `cargo run --release --example spatial_lookups -- FOOTPRINTS POINTS.csv [--tile N] [--write DIR]`
//!
//! FOOTPRINTS is a GeoJSON/GeoPackage/Shapefile of footprints; POINTS.csv has `lon,lat`
//! columns. `--tile N` lays N copies of the district side by side, 0.5° apart (the generator's
//! 青浦 holds at most ~775k footprints; two copies of a 700k-address district make ~1.07M).
//! `--write DIR` writes exactly the footprints and points measured as `DIR/footprints.csv`
//! (`id,wkt`) and `DIR/points.csv` (`lon,lat`) for shapely and PostGIS. Prints one JSON object:
//! R-tree build time, heap bytes per footprint, hits, lookups/s on one thread and every core.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use dizhi::spatial::FootprintIndex;
use geo::Point;
use rayon::prelude::*;

/// Counts live heap bytes, to measure what the index costs per footprint.
struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (footprints, points_csv) = match args.as_slice() {
        [f, p, ..] => (f.clone(), p.clone()),
        _ => return Err("usage: spatial_lookups FOOTPRINTS POINTS.csv [--data DIR]".into()),
    };
    let opt = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
    };
    let tiles: usize = opt("--tile").map(|t| t.parse()).transpose()?.unwrap_or(1);
    let write = opt("--write");

    let t = Instant::now();
    let (one, problems) = dizhi::gis::read_footprints(footprints.as_ref())?.into_buildings();
    if !problems.is_empty() {
        eprintln!(
            "{} footprints not loaded, e.g. {:?}",
            problems.len(),
            problems[0]
        );
    }
    let mut buildings = Vec::with_capacity(one.len() * tiles);
    for tile in 0..tiles {
        let dx = 0.5 * tile as f64;
        buildings.extend(one.iter().map(|b| {
            let mut b = b.clone();
            if tile > 0 {
                b.id = format!("{}~{tile}", b.id);
                b.footprint = geo::MapCoords::map_coords(
                    &b.footprint,
                    |c| geo::coord! { x: c.x + dx, y: c.y },
                );
            }
            b
        }));
    }
    drop(one);
    buildings.shrink_to_fit();
    let read_s = t.elapsed().as_secs_f64();
    let before_tree = LIVE.load(Ordering::Relaxed);
    let t = Instant::now();
    let index = FootprintIndex::new(buildings);
    let build_s = t.elapsed().as_secs_f64();
    let live = LIVE.load(Ordering::Relaxed);
    let n = index.len();

    let mut points = Vec::new();
    let mut r = csv::Reader::from_path(&points_csv)?;
    let h = r.headers()?.clone();
    let lon = h.iter().position(|c| c == "lon").ok_or("no lon column")?;
    let lat = h.iter().position(|c| c == "lat").ok_or("no lat column")?;
    for rec in r.records() {
        let rec = rec?;
        if let (Ok(x), Ok(y)) = (rec[lon].parse::<f64>(), rec[lat].parse::<f64>()) {
            points.push(Point::new(x, y));
        }
    }
    let base = points.len();
    for tile in 1..tiles {
        let dx = 0.5 * tile as f64;
        for i in 0..base {
            points.push(Point::new(points[i].x() + dx, points[i].y()));
        }
    }
    // Random order: queries do not arrive in the generator's spatial order.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    for i in (1..points.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        points.swap(i, (state % (i as u64 + 1)) as usize);
    }
    if let Some(dir) = write {
        write_csvs(dir.as_ref(), index.buildings(), &points)?;
    }

    // Best of three passes each, so a stray scheduler hiccup does not decide the number.
    let mut single = f64::MAX;
    let mut hits = 0;
    for _ in 0..3 {
        let t = Instant::now();
        hits = points
            .iter()
            .filter(|p| index.containing_index(**p).is_some())
            .count();
        single = single.min(t.elapsed().as_secs_f64());
    }
    let mut parallel = f64::MAX;
    let mut par_hits = 0;
    for _ in 0..3 {
        let t = Instant::now();
        par_hits = points
            .par_iter()
            .filter(|p| index.containing_index(**p).is_some())
            .count();
        parallel = parallel.min(t.elapsed().as_secs_f64());
    }
    assert_eq!(hits, par_hits);
    // The batch call: the same points, visited in Z-order on every core.
    let mut batch = f64::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        let found = index.containing_buildings(&points);
        batch = batch.min(t.elapsed().as_secs_f64());
        assert_eq!(found.iter().filter(|b| b.is_some()).count(), hits);
    }
    println!(
        "{}",
        serde_json::json!({
            "engine": "dizhi",
            "footprints": n,
            "points": points.len(),
            "hits": hits,
            "read_s": read_s,
            "rtree_build_s": build_s,
            "heap_bytes_per_footprint_total": live as f64 / n as f64,
            "heap_bytes_per_footprint_tree": (live - before_tree) as f64 / n as f64,
            "threads": rayon::current_num_threads(),
            "lookups_per_s_1_thread": points.len() as f64 / single,
            "lookups_per_s_all_threads": points.len() as f64 / parallel,
            "lookups_per_s_batch_zorder_all_threads": points.len() as f64 / batch,
        })
    );
    Ok(())
}

/// The measured footprints as `id,wkt` and points as `lon,lat`, coordinates in Rust's shortest
/// round-trip form so every engine reads exactly the same numbers.
fn write_csvs(
    dir: &std::path::Path,
    buildings: &[dizhi::Building],
    points: &[Point<f64>],
) -> Result<(), Box<dyn std::error::Error>> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let mut w = std::io::BufWriter::new(std::fs::File::create(dir.join("footprints.csv"))?);
    writeln!(w, "id,wkt")?;
    for b in buildings {
        write!(w, "{},\"POLYGON(", b.id)?;
        let rings = std::iter::once(b.footprint.exterior()).chain(b.footprint.interiors());
        for (i, ring) in rings.enumerate() {
            if i > 0 {
                write!(w, ",")?;
            }
            write!(w, "(")?;
            for (j, c) in ring.0.iter().enumerate() {
                let sep = if j > 0 { "," } else { "" };
                write!(w, "{sep}{:?} {:?}", c.x, c.y)?;
            }
            write!(w, ")")?;
        }
        writeln!(w, ")\"")?;
    }
    w.flush()?;
    let mut w = std::io::BufWriter::new(std::fs::File::create(dir.join("points.csv"))?);
    writeln!(w, "lon,lat")?;
    for p in points {
        writeln!(w, "{:?},{:?}", p.x(), p.y())?;
    }
    w.flush()?;
    Ok(())
}
