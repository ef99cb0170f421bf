//! Where a record and a footprint are: a record's point checked against the district and linked
//! to its address's building; a footprint matched to the reference footprints by shape.

use super::*;

impl RecordCheck<'_> {
    pub(super) fn check_extent(&self, out: &mut Checked, p: Point<f64>) -> bool {
        let Some(e) = self.r.extent else {
            return true;
        };
        let margin = self
            .rules
            .param(RuleId::CoordinatesOutsideDistrict, "margin_m", 2000.0);
        let (mlon, mlat) = degree_margins(p, margin);
        let inside = p.x() >= e.min().x - mlon
            && p.x() <= e.max().x + mlon
            && p.y() >= e.min().y - mlat
            && p.y() <= e.max().y + mlat;
        if !inside {
            self.push(
                out,
                RuleId::CoordinatesOutsideDistrict,
                "",
                None,
                format!("point {:.6},{:.6} outside the district", p.x(), p.y()),
                serde_json::json!({"lon": p.x(), "lat": p.y()}),
            );
        }
        inside
    }

    /// Links a matched record to a building and checks its point against it.
    pub(super) fn place_point(&self, out: &mut Checked, a: &Addr, point: Option<Point<f64>>) {
        let r = self.r;
        let own = a
            .building_id
            .as_ref()
            .and_then(|b| r.building_pos.get(b).copied());
        let town = Some(a.town.to_string());
        let Some(p) = point else {
            if let Some(b) = own {
                out.fused.building_id = r.footprints.building(b).map(|b| b.id.clone());
                out.fused.link_method = Some("road_number".into());
            }
            return;
        };
        if !self.check_extent(out, p) {
            if let Some(b) = own {
                out.fused.building_id = r.footprints.building(b).map(|b| b.id.clone());
                out.fused.link_method = Some("road_number".into());
            }
            return;
        }
        let Some(own_i) = own else {
            // No building to check against: the address point is the reference.
            if let Some(ap) = a.point {
                let d = metres_between(p, ap);
                let conv = gcj02_to_wgs84(p.x(), p.y());
                let dc = metres_between(Point::new(conv.0, conv.1), ap);
                if d > self
                    .rules
                    .param(RuleId::Gcj02ShiftSuspected, "min_offset_m", 100.0)
                    && dc < 25.0
                {
                    self.push(
                        out,
                        RuleId::Gcj02ShiftSuspected,
                        "point",
                        town,
                        format!("the point is {d:.0} m off its address; as GCJ-02 it is {dc:.0} m"),
                        serde_json::json!({"offset_m": d, "residual_m": dc}),
                    );
                }
            }
            return;
        };
        let Some(own_b) = r.footprints.building(own_i) else {
            return;
        };
        let link = |out: &mut Checked, method: &str| {
            out.fused.building_id = Some(own_b.id.clone());
            out.fused.link_method = Some(method.to_string());
        };
        let d = metres_to_polygon(p, &own_b.footprint);
        let tol = self
            .rules
            .param(RuleId::PointOutsideBuilding, "tolerance_m", 3.0);
        if d <= tol {
            link(out, "contains");
            return;
        }
        let conv = gcj02_to_wgs84(p.x(), p.y());
        let conv = Point::new(conv.0, conv.1);
        let dc = metres_to_polygon(conv, &own_b.footprint);
        let min_offset = self
            .rules
            .param(RuleId::Gcj02ShiftSuspected, "min_offset_m", 100.0);
        let residual = self
            .rules
            .param(RuleId::Gcj02ShiftSuspected, "max_residual_m", 5.0);
        if d >= min_offset && dc <= residual {
            self.push(
                out,
                RuleId::Gcj02ShiftSuspected,
                "point",
                town,
                format!("the point is {d:.0} m from its building; read as GCJ-02 it is inside"),
                serde_json::json!({"offset_m": d, "residual_m": dc, "wgs84": [conv.x(), conv.y()]}),
            );
            link(out, "contains_gcj02");
            return;
        }
        link(out, "road_number");
        let other = r.footprints.containing_index(p).filter(|&i| i != own_i);
        let disagree = other.map(|i| {
            let theirs = &r.building_addrs[i];
            !theirs.is_empty()
                && !theirs.iter().any(|&j| {
                    let b = &r.addrs[j as usize];
                    b.name == a.name
                        && b.lane == a.lane
                        && (b.number == a.number || !a.lane.is_empty())
                })
        });
        if disagree == Some(true) {
            let bid = other
                .and_then(|i| r.footprints.building(i))
                .map(|b| b.id.clone());
            self.push(
                out,
                RuleId::PointInDisagreeingBuilding,
                "",
                town,
                format!(
                    "the point is in building {} whose addresses are elsewhere",
                    bid.as_deref().unwrap_or("?")
                ),
                serde_json::json!({"building_id": bid, "offset_m": d}),
            );
        } else {
            self.push(
                out,
                RuleId::PointOutsideBuilding,
                "",
                town,
                format!("the point is {d:.0} m from its building {}", own_b.id),
                serde_json::json!({"building_id": own_b.id, "offset_m": d}),
            );
        }
    }

    /// A building footprint: matched to a reference footprint by shape, its floors compared.
    pub(super) fn building(
        &self,
        out: &mut Checked,
        fields: &BTreeMap<Field, String>,
        geometry: Option<&geo::Geometry<f64>>,
    ) {
        let r = self.r;
        let polygon: Option<Polygon<f64>> = match geometry {
            Some(geo::Geometry::Polygon(p)) => Some(p.clone()),
            Some(geo::Geometry::MultiPolygon(mp)) => mp.0.first().cloned(),
            _ => None,
        };
        let Some(polygon) = polygon else {
            return;
        };
        // A point inside the footprint (an L-shaped building's centroid is outside it).
        let (Some(c), Some(bbox)) = (polygon.interior_point(), polygon.bounding_rect()) else {
            return;
        };
        let same_box = |i: usize, bbox: Rect<f64>, tol: f64| {
            r.footprints
                .building(i)
                .and_then(|b| b.footprint.bounding_rect())
                .is_some_and(|o| {
                    (o.min().x - bbox.min().x).abs() < tol
                        && (o.min().y - bbox.min().y).abs() < tol
                        && (o.max().x - bbox.max().x).abs() < tol
                        && (o.max().y - bbox.max().y).abs() < tol
                })
        };
        let mut found = r
            .footprints
            .containing_index(c)
            .filter(|&i| same_box(i, bbox, 2e-6))
            .map(|i| (i, "same_footprint"));
        if found.is_none() {
            let conv = |p: geo::Coord<f64>| {
                let (x, y) = gcj02_to_wgs84(p.x, p.y);
                geo::Coord { x, y }
            };
            let converted = polygon.map_coords(conv);
            let cc = converted
                .interior_point()
                .map(|p| p.0)
                .unwrap_or_else(|| conv(c.0));
            let cbox = converted
                .bounding_rect()
                .unwrap_or_else(|| Rect::new(conv(bbox.min()), conv(bbox.max())));
            if let Some(i) = r
                .footprints
                .containing_index(Point(cc))
                .filter(|&i| same_box(i, cbox, 3e-6))
            {
                let d = metres_between(c, Point(cc));
                if d >= self
                    .rules
                    .param(RuleId::Gcj02ShiftSuspected, "min_offset_m", 100.0)
                {
                    self.push(
                        out,
                        RuleId::Gcj02ShiftSuspected,
                        "footprint",
                        self.building_town(i),
                        format!(
                            "the footprint is {d:.0} m off; read as GCJ-02 it is building {}",
                            r.footprints
                                .building(i)
                                .map(|b| b.id.as_str())
                                .unwrap_or("?")
                        ),
                        serde_json::json!({"offset_m": d}),
                    );
                }
                found = Some((i, "same_footprint_gcj02"));
            } else if let Some(i) = r.footprints.containing_index(c) {
                found = Some((i, "contains_centroid"));
            }
        }
        let Some((i, method)) = found else {
            return;
        };
        let Some(b) = r.footprints.building(i) else {
            return;
        };
        out.fused.building_id = Some(b.id.clone());
        out.fused.link_method = Some(method.into());
        out.fused.match_level = MatchLevel::Building;
        out.fused.score = 1.0;
        let town = self.building_town(i);
        if let Some(f) = fields.get(&Field::Floors)
            && let Ok(n) = f.parse::<u16>()
            && n != b.floors
        {
            self.push(
                out,
                RuleId::FloorsDisagree,
                "",
                town.clone(),
                format!("{n} floors here, {} in the reference", b.floors),
                serde_json::json!({"given": n, "reference": b.floors, "building_id": b.id}),
            );
        }
        if r.building_addrs[i].is_empty() {
            self.push(
                out,
                RuleId::BuildingWithoutAddress,
                "",
                town,
                format!("building {} has no address", b.id),
                serde_json::json!({"building_id": b.id}),
            );
        }
        out.fused.fields = fields
            .iter()
            .map(|(f, v)| (f.as_str().to_string(), v.clone()))
            .collect();
    }

    pub(super) fn building_town(&self, i: usize) -> Option<String> {
        if let Some(&j) = self.r.building_addrs[i].first() {
            return Some(self.r.addrs[j as usize].town.to_string());
        }
        // An unaddressed building: the 街镇 of the nearest addressed one.
        let b = self.r.footprints.building(i)?;
        let c = b.footprint.centroid()?;
        self.r
            .footprints
            .nearest_buildings(c, 8, 500.0)
            .iter()
            .find_map(|h| {
                let k = self.r.building_pos.get(&h.building.id)?;
                let &j = self.r.building_addrs[*k].first()?;
                Some(self.r.addrs[j as usize].town.to_string())
            })
    }
}
