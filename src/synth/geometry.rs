//! Planar geometry for laying out the district: a metric frame over it, an occupancy grid that
//! keeps parcels from overlapping, and building shapes.

use geo::{Coord, LineString, Polygon};

/// The bundled demo district's bounding box in WGS84 (lon, lat).
pub const DISTRICT_BOUNDS: (f64, f64, f64, f64) = (120.86, 30.94, 121.32, 31.29);

/// A local east/north metric frame with its origin at the south-west corner of the district.
///
/// One scale for the whole district: at 40 km the error against geodesic distance is well under
/// one percent, and the map to lon/lat is affine, so what does not overlap here does not overlap
/// in lon/lat either.
#[derive(Debug, Clone, Copy)]
pub struct Frame {
    lon0: f64,
    lat0: f64,
    m_per_deg_lon: f64,
    m_per_deg_lat: f64,
    bounds: (f64, f64, f64, f64),
}

impl Frame {
    /// The frame over the bundled demo district.
    #[cfg(test)]
    pub fn district() -> Self {
        Frame::new(DISTRICT_BOUNDS)
    }

    /// A frame over a bounding box (min lon, min lat, max lon, max lat).
    pub fn new(bounds: (f64, f64, f64, f64)) -> Self {
        let (lon0, lat0, _, lat1) = bounds;
        let mid = ((lat0 + lat1) / 2.0).to_radians();
        Frame {
            lon0,
            lat0,
            m_per_deg_lon: 111_320.0 * mid.cos(),
            m_per_deg_lat: 110_574.0,
            bounds,
        }
    }

    /// The frame's bounding box in lon/lat.
    pub fn bounds(&self) -> (f64, f64, f64, f64) {
        self.bounds
    }

    /// The frame's extent in metres (width, height).
    pub fn extent(&self) -> (f64, f64) {
        let (lon0, lat0, lon1, lat1) = self.bounds;
        (
            (lon1 - lon0) * self.m_per_deg_lon,
            (lat1 - lat0) * self.m_per_deg_lat,
        )
    }

    pub fn to_lonlat(self, x: f64, y: f64) -> (f64, f64) {
        (
            self.lon0 + x / self.m_per_deg_lon,
            self.lat0 + y / self.m_per_deg_lat,
        )
    }

    pub fn to_xy(self, lon: f64, lat: f64) -> (f64, f64) {
        (
            (lon - self.lon0) * self.m_per_deg_lon,
            (lat - self.lat0) * self.m_per_deg_lat,
        )
    }
}

/// Rounds a coordinate to 7 decimals (about 1 cm), the precision of every file we write.
pub fn round7(v: f64) -> f64 {
    (v * 1e7).round() / 1e7
}

/// A rectangle with its own axes: `origin + a·u + b·n` for `a` in `[0, len]`, `b` in `[0, depth]`.
#[derive(Debug, Clone, Copy)]
pub struct OrientedRect {
    pub origin: (f64, f64),
    pub u: (f64, f64),
    pub n: (f64, f64),
    pub len: f64,
    pub depth: f64,
}

impl OrientedRect {
    /// The world point at local `(a, b)`.
    pub fn at(&self, a: f64, b: f64) -> (f64, f64) {
        (
            self.origin.0 + a * self.u.0 + b * self.n.0,
            self.origin.1 + a * self.u.1 + b * self.n.1,
        )
    }

    /// A sub-rectangle in local coordinates.
    pub fn sub(&self, a: f64, b: f64, len: f64, depth: f64) -> OrientedRect {
        OrientedRect {
            origin: self.at(a, b),
            len,
            depth,
            ..*self
        }
    }

    fn local(&self, p: (f64, f64)) -> (f64, f64) {
        let (dx, dy) = (p.0 - self.origin.0, p.1 - self.origin.1);
        (dx * self.u.0 + dy * self.u.1, dx * self.n.0 + dy * self.n.1)
    }

    fn corners(&self) -> [(f64, f64); 4] {
        [
            self.at(0.0, 0.0),
            self.at(self.len, 0.0),
            self.at(self.len, self.depth),
            self.at(0.0, self.depth),
        ]
    }
}

/// A bitmap of claimed ground over the district, so that no two parcels (or a parcel and a road)
/// overlap.
pub struct Occupancy {
    cell: f64,
    nx: usize,
    ny: usize,
    bits: Vec<u64>,
}

impl Occupancy {
    pub fn new(frame: &Frame, cell: f64) -> Self {
        let (w, h) = frame.extent();
        let nx = (w / cell).ceil() as usize + 1;
        let ny = (h / cell).ceil() as usize + 1;
        Occupancy {
            cell,
            nx,
            ny,
            bits: vec![0; (nx * ny).div_ceil(64)],
        }
    }

    fn get(&self, i: usize, j: usize) -> bool {
        let k = j * self.nx + i;
        self.bits[k / 64] & (1 << (k % 64)) != 0
    }

    fn set(&mut self, i: usize, j: usize) {
        let k = j * self.nx + i;
        self.bits[k / 64] |= 1 << (k % 64);
    }

    /// The cells that may touch `rect`: every cell whose centre lies within half a cell diagonal
    /// of it. A superset of the cells the rectangle covers, so two claims that overlap always
    /// share a cell. `None` when the rectangle leaves the district.
    fn cells(&self, rect: &OrientedRect) -> Option<Vec<(usize, usize)>> {
        let margin = self.cell * std::f64::consts::FRAC_1_SQRT_2;
        let corners = rect.corners();
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for (x, y) in corners {
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x);
            y1 = y1.max(y);
        }
        if x0 < 0.0 || y0 < 0.0 {
            return None;
        }
        let i0 = ((x0 - margin) / self.cell).floor().max(0.0) as usize;
        let j0 = ((y0 - margin) / self.cell).floor().max(0.0) as usize;
        let i1 = ((x1 + margin) / self.cell).ceil() as usize;
        let j1 = ((y1 + margin) / self.cell).ceil() as usize;
        if i1 >= self.nx || j1 >= self.ny {
            return None;
        }
        let mut out = Vec::new();
        for j in j0..=j1 {
            for i in i0..=i1 {
                let c = ((i as f64 + 0.5) * self.cell, (j as f64 + 0.5) * self.cell);
                let (a, b) = rect.local(c);
                if a >= -margin
                    && a <= rect.len + margin
                    && b >= -margin
                    && b <= rect.depth + margin
                {
                    out.push((i, j));
                }
            }
        }
        Some(out)
    }

    /// Claims the ground under `rect` if none of it is claimed yet.
    pub fn try_claim(&mut self, rect: &OrientedRect) -> bool {
        let Some(cells) = self.cells(rect) else {
            return false;
        };
        if cells.iter().any(|&(i, j)| self.get(i, j)) {
            return false;
        }
        for (i, j) in cells {
            self.set(i, j);
        }
        true
    }

    /// Whether none of the ground under `rect` is claimed (and it lies in the district).
    pub fn is_free(&self, rect: &OrientedRect) -> bool {
        self.cells(rect)
            .is_some_and(|cells| cells.iter().all(|&(i, j)| !self.get(i, j)))
    }

    /// Claims every cell whose centre is a point `taken` says is not to be built on (a
    /// neighbouring district's ground). `settled` may answer for a whole block of cells at
    /// once (given its corners, min and max): `Some(taken)` when every point of it is alike.
    pub fn claim_where(
        &mut self,
        settled: impl Fn((f64, f64), (f64, f64)) -> Option<bool>,
        taken: impl Fn((f64, f64)) -> bool,
    ) {
        const BLOCK: usize = 64;
        let cell = self.cell;
        let centre = move |i: usize, j: usize| ((i as f64 + 0.5) * cell, (j as f64 + 0.5) * cell);
        for bj in (0..self.ny).step_by(BLOCK) {
            for bi in (0..self.nx).step_by(BLOCK) {
                let (i1, j1) = ((bi + BLOCK).min(self.nx), (bj + BLOCK).min(self.ny));
                let (lo, hi) = (centre(bi, bj), centre(i1 - 1, j1 - 1));
                let all = settled(lo, hi);
                if all == Some(false) {
                    continue;
                }
                for j in bj..j1 {
                    for i in bi..i1 {
                        if all == Some(true) || taken(centre(i, j)) {
                            self.set(i, j);
                        }
                    }
                }
            }
        }
    }

    /// Claims the ground under `rect` whatever is there (roads cross each other).
    pub fn claim(&mut self, rect: &OrientedRect) {
        if let Some(cells) = self.cells(rect) {
            for (i, j) in cells {
                self.set(i, j);
            }
        }
    }
}

/// The outline of a building in its parcel's local coordinates, and where its doors are.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    /// A plain rectangle `len × depth`.
    Rect,
    /// An L: a full-length bar `depth_bar` deep, and a wing `wing` long at the start.
    L { depth_bar: f64, wing: f64 },
    /// A U: a full-length bar `depth_bar` deep and two wings `wing` long at both ends.
    U { depth_bar: f64, wing: f64 },
}

/// A building outline: shape within a rectangle.
#[derive(Debug, Clone, Copy)]
pub struct Outline {
    pub rect: OrientedRect,
    pub shape: Shape,
}

impl Outline {
    /// The local ring (a, b), counter-clockwise when `n` is to the left of `u`.
    fn local_ring(&self) -> Vec<(f64, f64)> {
        let (l, d) = (self.rect.len, self.rect.depth);
        match self.shape {
            Shape::Rect => vec![(0.0, 0.0), (l, 0.0), (l, d), (0.0, d)],
            Shape::L { depth_bar, wing } => vec![
                (0.0, 0.0),
                (l, 0.0),
                (l, depth_bar),
                (wing, depth_bar),
                (wing, d),
                (0.0, d),
            ],
            Shape::U { depth_bar, wing } => vec![
                (0.0, 0.0),
                (l, 0.0),
                (l, d),
                (l - wing, d),
                (l - wing, depth_bar),
                (wing, depth_bar),
                (wing, d),
                (0.0, d),
            ],
        }
    }

    /// The depth of the bar that runs the full length (where the doors are).
    pub fn bar_depth(&self) -> f64 {
        match self.shape {
            Shape::Rect => self.rect.depth,
            Shape::L { depth_bar, .. } | Shape::U { depth_bar, .. } => depth_bar,
        }
    }

    /// `k` points spread along the full-length bar, all strictly inside the outline.
    pub fn door_points(&self, k: usize) -> Vec<(f64, f64)> {
        (0..k)
            .map(|i| {
                let a = self.rect.len * (i as f64 + 0.5) / k as f64;
                self.rect.at(a, self.bar_depth() / 2.0)
            })
            .collect()
    }

    /// The outline as a lon/lat polygon, exterior ring counter-clockwise, rounded to 7 decimals.
    pub fn to_polygon(self, frame: &Frame) -> Polygon<f64> {
        let mut coords: Vec<Coord<f64>> = self
            .local_ring()
            .into_iter()
            .map(|(a, b)| {
                let (x, y) = self.rect.at(a, b);
                let (lon, lat) = frame.to_lonlat(x, y);
                Coord {
                    x: round7(lon),
                    y: round7(lat),
                }
            })
            .collect();
        if signed_area(&coords) < 0.0 {
            coords.reverse();
        }
        coords.push(coords[0]);
        Polygon::new(LineString::new(coords), vec![])
    }
}

fn signed_area(ring: &[Coord<f64>]) -> f64 {
    let n = ring.len();
    (0..n)
        .map(|i| {
            let (p, q) = (ring[i], ring[(i + 1) % n]);
            p.x * q.y - q.x * p.y
        })
        .sum::<f64>()
        / 2.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Contains, Point, Validation};

    fn rect_at(x: f64, y: f64, angle: f64, len: f64, depth: f64) -> OrientedRect {
        let u = (angle.cos(), angle.sin());
        OrientedRect {
            origin: (x, y),
            u,
            n: (-u.1, u.0),
            len,
            depth,
        }
    }

    #[test]
    fn overlapping_claims_are_refused_and_touching_ones_too() {
        let frame = Frame::district();
        let mut occ = Occupancy::new(&frame, 5.0);
        assert!(occ.try_claim(&rect_at(1000.0, 1000.0, 0.3, 50.0, 20.0)));
        assert!(!occ.try_claim(&rect_at(1040.0, 1010.0, 1.1, 50.0, 20.0)));
        assert!(occ.try_claim(&rect_at(2000.0, 1000.0, 1.1, 50.0, 20.0)));
    }

    #[test]
    fn claims_leaving_the_district_are_refused() {
        let frame = Frame::district();
        let mut occ = Occupancy::new(&frame, 5.0);
        assert!(!occ.try_claim(&rect_at(-5.0, 10.0, 0.0, 50.0, 20.0)));
    }

    #[test]
    fn shapes_are_valid_and_hold_their_doors() {
        let frame = Frame::district();
        for (i, shape) in [
            Shape::Rect,
            Shape::L {
                depth_bar: 12.0,
                wing: 14.0,
            },
            Shape::U {
                depth_bar: 12.0,
                wing: 14.0,
            },
        ]
        .into_iter()
        .enumerate()
        {
            for flip in [1.0, -1.0] {
                let mut rect = rect_at(5000.0, 5000.0, 0.4 * i as f64, 60.0, 30.0);
                rect.n = (rect.n.0 * flip, rect.n.1 * flip);
                let outline = Outline { rect, shape };
                let poly = outline.to_polygon(&frame);
                assert!(poly.is_valid(), "{shape:?}");
                for (x, y) in outline.door_points(3) {
                    let (lon, lat) = frame.to_lonlat(x, y);
                    assert!(poly.contains(&Point::new(lon, lat)));
                }
            }
        }
    }
}
