//! Placing doors no register gives a point for: between their run neighbours that share a
//! footprint, by their number along the run, and a 幢 beside the other 幢 of its number. Each
//! pass returns door position → (footprint position, how), re-assembled by the caller.

use std::collections::{HashMap, HashSet};

use geo::Point;

use super::assemble::{Assembled, door_number};
use crate::spatial::FootprintIndex;

/// Doors with no footprint of their own whose run neighbours — the nearest lower and higher
/// numbered doors of the same road, 弄 and 组 — both lie in one footprint: they lie in it too
/// (a building with several 号 holds a run of them). Door position → (footprint position,
/// "siblings").
pub fn bracket(assembled: &[Assembled]) -> HashMap<usize, (usize, &'static str)> {
    let mut placed = HashMap::new();
    for run in door_runs(assembled) {
        for (i, &(_, d)) in run.iter().enumerate() {
            if assembled[d].building.is_some() {
                continue;
            }
            let below = run[..i]
                .iter()
                .rev()
                .find_map(|&(_, e)| assembled[e].building.map(|(b, _)| b));
            let above = run[i + 1..]
                .iter()
                .find_map(|&(_, e)| assembled[e].building.map(|(b, _)| b));
            if let (Some(x), Some(y)) = (below, above)
                && x == y
            {
                placed.insert(d, (x, "siblings"));
            }
        }
    }
    placed
}

/// The runs of numbered doors (no 幢 under the number): (place, village, 弄, 组) → (number,
/// door position), sorted by number.
fn door_runs(assembled: &[Assembled]) -> Vec<Vec<(u32, usize)>> {
    type Run<'k> = (&'k str, bool, &'k str, &'k str);
    let mut runs: HashMap<Run<'_>, Vec<(u32, usize)>> = HashMap::new();
    for (d, a) in assembled.iter().enumerate() {
        let k = &a.key;
        if !k.building.is_empty() {
            continue;
        }
        if let Some(n) = door_number(k) {
            runs.entry((
                k.place.as_str(),
                k.village,
                k.lane.as_str(),
                k.group.as_str(),
            ))
            .or_default()
            .push((n, d));
        }
    }
    let mut runs: Vec<_> = runs.into_values().collect();
    for run in &mut runs {
        run.sort_unstable();
    }
    runs
}

/// How far apart (metres) two doors of a run may stand to be interpolated between.
const INTERPOLATION_SPAN_M: f64 = 500.0;

/// How far (metres) from a door's estimated position a footprint may be and still be taken
/// for it, when the position itself falls in no footprint that may hold it (a yard, a gap
/// between two buildings of a row).
const ESTIMATE_REACH_M: f64 = 15.0;

/// How far (metres) from the points of the other 幢 under one number a free footprint may be
/// to be taken for a 幢 with no point (the buildings of one site).
const SITE_REACH_M: f64 = 60.0;

/// The footprints some door is linked to.
fn claimed(assembled: &[Assembled]) -> HashSet<usize> {
    assembled
        .iter()
        .filter_map(|a| a.building.map(|(b, _)| b))
        .collect()
}

/// The footprint that holds an estimated position, else the nearest within `reach` metres,
/// among those `allowed` says may hold the door.
fn footprint_near(
    footprints: &FootprintIndex,
    p: Point<f64>,
    reach: f64,
    allowed: impl Fn(usize) -> bool,
) -> Option<usize> {
    footprints
        .containing_index(p)
        .filter(|&b| allowed(b))
        .or_else(|| {
            footprints
                .indexes_within_distance(p, reach)
                .into_iter()
                .map(|(b, _)| b)
                .find(|&b| allowed(b))
        })
}

/// Doors still with no footprint after [`bracket`] (no register gives their point): their
/// position interpolated along their run, as a street's door numbers run along it — from the
/// points of the nearest linked doors on the same side of the street (same parity; else either
/// side), between a lower and a higher one, else beyond the two nearest on one side — and linked
/// to the footprint that position falls in when that footprint is one of those two doors' own or
/// no door's at all, else to the nearest footprint no door holds within [`ESTIMATE_REACH_M`]. A
/// position in another door's building, or far from any free footprint, links nothing. A door in
/// the gap between two rows goes with the row that, carried on from its two nearest doors,
/// reaches the door's number inside itself (when just one does).
/// Door position → (footprint position, "interpolated").
pub fn interpolate(
    assembled: &[Assembled],
    footprints: &FootprintIndex,
) -> HashMap<usize, (usize, &'static str)> {
    let claimed = claimed(assembled);
    let mut placed = HashMap::new();
    for run in door_runs(assembled) {
        for i in 0..run.len() {
            if assembled[run[i].1].building.is_some() {
                continue;
            }
            let found = [true, false].into_iter().find_map(|same_side| {
                let (p, own) = position_along_run(assembled, &run, i, same_side, From::Between)?;
                let free = |b: usize| !claimed.contains(&b);
                match footprints.containing_index(p) {
                    Some(b) if own.contains(&b) || free(b) => Some(b),
                    // In another door's building: that door's number says this is not it.
                    Some(_) => None,
                    // In a yard or a gap: a free footprint close by (never a neighbour's own
                    // by nearness alone, which is as often the wrong side of the gap).
                    None => footprint_near(footprints, p, ESTIMATE_REACH_M, free),
                }
            });
            // In the gap between two rows of a lane: the row that, carried on door by door,
            // reaches this number inside itself — when only one of the two does.
            let found = found.or_else(|| {
                let goes_on = |from| {
                    let (p, own) = position_along_run(assembled, &run, i, false, from)?;
                    (footprints.containing_index(p)? == own[0]).then_some(own[0])
                };
                match (goes_on(From::Below), goes_on(From::Above)) {
                    (Some(b), None) | (None, Some(b)) => Some(b),
                    (Some(b), Some(c)) if b == c => Some(b),
                    _ => None,
                }
            });
            if let Some(b) = found {
                placed.insert(run[i].1, (b, "interpolated"));
            }
        }
    }
    placed
}

/// 幢 with no footprint whose number has other 幢 linked (the buildings of one site: 5号1幢,
/// 5号2幢): the free footprint (no door's) nearest the others' points, within
/// [`SITE_REACH_M`] of them. Door position → (footprint position, "site").
pub fn place_on_site(
    assembled: &[Assembled],
    footprints: &FootprintIndex,
) -> HashMap<usize, (usize, &'static str)> {
    type Number<'k> = (&'k str, bool, &'k str, &'k str, &'k str);
    let mut sites: HashMap<Number<'_>, Vec<usize>> = HashMap::new();
    for (d, a) in assembled.iter().enumerate() {
        let k = &a.key;
        if !k.building.is_empty() {
            sites
                .entry((&k.place, k.village, &k.lane, &k.group, &k.number))
                .or_default()
                .push(d);
        }
    }
    let claimed = claimed(assembled);
    let mut placed: HashMap<usize, (usize, &'static str)> = HashMap::new();
    let mut taken = HashSet::new();
    let mut sites: Vec<Vec<usize>> = sites.into_values().collect();
    sites.sort_unstable();
    for site in sites {
        let known: Vec<Point<f64>> = site
            .iter()
            .filter(|&&d| assembled[d].building.is_some())
            .filter_map(|&d| assembled[d].point)
            .map(|(x, y)| Point::new(x, y))
            .collect();
        if known.is_empty() {
            continue;
        }
        let n = known.len() as f64;
        let centre = Point::new(
            known.iter().map(|p| p.x()).sum::<f64>() / n,
            known.iter().map(|p| p.y()).sum::<f64>() / n,
        );
        for &d in &site {
            if assembled[d].building.is_some() {
                continue;
            }
            let near_site = |b: usize| {
                let fp = &footprints.buildings()[b].footprint;
                known
                    .iter()
                    .any(|&p| crate::spatial::distance::metres_to_polygon(p, fp) <= SITE_REACH_M)
            };
            let free = footprints
                .indexes_within_distance(centre, SITE_REACH_M * 2.0)
                .into_iter()
                .map(|(b, _)| b)
                .find(|&b| !claimed.contains(&b) && !taken.contains(&b) && near_site(b));
            if let Some(b) = free {
                taken.insert(b);
                placed.insert(d, (b, "site"));
            }
        }
    }
    placed
}

/// Which linked doors of a run a door's position is estimated from.
#[derive(Clone, Copy, PartialEq)]
enum From {
    /// The nearest lower and higher (else the two nearest on the one side there is).
    Between,
    /// The two nearest lower: beyond them, as the row they stand in goes on.
    Below,
    /// The two nearest higher.
    Above,
}

/// Where door `run[i]` stands by its number, from two linked doors of its run with points (see
/// [`interpolate`]), with those two doors' footprints, the nearer (by number) first.
fn position_along_run(
    assembled: &[Assembled],
    run: &[(u32, usize)],
    i: usize,
    same_side: bool,
    from: From,
) -> Option<(Point<f64>, [usize; 2])> {
    let n = run[i].0;
    let known = |&&(m, e): &&(u32, usize)| {
        m != n
            && (!same_side || m % 2 == n % 2)
            && assembled[e].building.is_some()
            && assembled[e].point.is_some()
    };
    let mut lower = run[..i].iter().rev().filter(known);
    let mut higher = run[i + 1..].iter().filter(known);
    // (nearer, further): the position is a + (b - a) * (n - na) / (nb - na).
    let ((na, a), (nb, b)) = match from {
        From::Between => match (lower.next(), higher.next()) {
            (Some(&l), Some(&h)) => (l, h),
            (Some(&l), None) => (l, *lower.next()?),
            (None, Some(&h)) => (h, *higher.next()?),
            (None, None) => return None,
        },
        From::Below => (*lower.next()?, *lower.next()?),
        From::Above => (*higher.next()?, *higher.next()?),
    };
    if na == nb {
        return None;
    }
    let (pa, pb) = (assembled[a].point?, assembled[b].point?);
    let (pa, pb) = (Point::new(pa.0, pa.1), Point::new(pb.0, pb.1));
    if crate::spatial::distance::metres_between(pa, pb) > INTERPOLATION_SPAN_M {
        return None;
    }
    let f = (f64::from(n) - f64::from(na)) / (f64::from(nb) - f64::from(na));
    let p = Point::new(
        pa.x() + (pb.x() - pa.x()) * f,
        pa.y() + (pb.y() - pa.y()) * f,
    );
    let own = [assembled[a].building?.0, assembled[b].building?.0];
    Some((p, own))
}
