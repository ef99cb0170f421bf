//! Places along the roads and in the villages: residential compounds, shops, industrial parks,
//! schools and public buildings, village houses — their footprints and standard addresses.

use std::collections::HashSet;

use geo::Point;
use rand::seq::IndexedRandom;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::geometry::{Occupancy, OrientedRect, Outline, Shape, round7};
use super::layout::{Layout, dist};
use super::roads::Road;
use crate::{AddressKind, AdminRef, Building, BuildingKind, StandardAddress};

/// What a parcel along a road is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Use {
    Compound,
    /// A 里弄: rows of terraced houses off a lane, a door plate per house (dense town centres).
    Lane,
    Shops,
    Industrial,
    Public,
}

/// A parcel that may be built on: its ground, the road side it fronts and how early it develops.
struct Slot {
    road: usize,
    odd: bool,
    /// Distance along the road of the parcel's start (its gate).
    s: f64,
    rect: OrientedRect,
    usage: Use,
    priority: f64,
}

/// A village group (组): a cluster of houses near its village's centre.
#[derive(Clone)]
struct Cluster {
    community: usize,
    group: u32,
    rect: OrientedRect,
    rows: usize,
    cols: usize,
    house: (f64, f64),
    priority: f64,
}

/// What the generator made: addresses, buildings, and the buildings that have no address.
pub struct Places {
    pub addresses: Vec<StandardAddress>,
    pub buildings: Vec<Building>,
    /// Ids of buildings with no address (substations, refuse rooms).
    pub unaddressed: Vec<String>,
    /// For each address, the road it is on (index into the road list).
    pub address_road: Vec<Option<usize>>,
}

/// The share of addresses of each kind.
const SHARES: [(AddressKind, f64); 5] = [
    (AddressKind::Residential, 0.42),
    (AddressKind::Street, 0.20),
    (AddressKind::Industrial, 0.10),
    (AddressKind::Public, 0.03),
    (AddressKind::Village, 0.25),
];

/// The most 组 a village has.
const MAX_GROUPS: u32 = 30;

/// The door number at distance `s` along a road: odd numbers on one side, even on the other, one
/// pair every 8 m.
fn door_number(s: f64, odd: bool) -> u32 {
    let k = (s.max(0.0) / 8.0).floor() as u32;
    2 * k + if odd { 1 } else { 2 }
}

const NAME_CHARS: &str = "华崧盈青沪泾鹤朱金泽香花淀湖嘉松明珠光新秀安汇龙凤溪福泉胜振兴丰庆和平春晖文博雅盛泰康宁德顺昌隆瑞祥云霞翠竹梅兰桂荷柳枫峰湾海天高长永宏鑫锦绿悦怡馨";
const COMPOUND_SUFFIXES: &[&str] = &[
    "花园", "苑", "新村", "家园", "公寓", "名邸", "湾", "华庭", "雅苑", "佳园", "府", "小区", "城",
    "公馆", "景苑",
];
const LANE_SUFFIXES: &[&str] = &["里", "坊", "邨", "新邨", "别墅", "公寓"];
const INDUSTRIES: &[&str] = &[
    "实业",
    "机械",
    "电子",
    "科技",
    "物流",
    "包装",
    "塑料制品",
    "精密机械",
    "新材料",
    "食品",
    "服饰",
    "印务",
    "汽车配件",
    "医疗器械",
    "化工",
];
const PUBLIC_KINDS: &[(&str, BuildingKind, &str)] = &[
    ("小学", BuildingKind::School, "学校"),
    ("中学", BuildingKind::School, "学校"),
    ("幼儿园", BuildingKind::School, "学校"),
    ("社区卫生服务中心", BuildingKind::Public, "医疗机构"),
    ("社区文化活动中心", BuildingKind::Public, "重点单位"),
    ("派出所", BuildingKind::Public, "重点单位"),
];

struct Builder<'a> {
    layout: &'a Layout,
    roads: &'a [Road],
    rng: ChaCha8Rng,
    /// Where this district's address and building ids start.
    ids: super::IdBase,
    names: HashSet<String>,
    /// How many groups (clusters) each village has been given.
    groups: Vec<u32>,
    /// The next house number of each (village, group).
    next_house: std::collections::HashMap<(usize, u32), u32>,
    out: Places,
}

impl Builder<'_> {
    fn unique_name(&mut self, make: impl Fn(&mut ChaCha8Rng) -> String) -> String {
        for _ in 0..50 {
            let name = make(&mut self.rng);
            if self.names.insert(name.clone()) {
                return name;
            }
        }
        // Fall back to a numbered name so generation always ends.
        let base = make(&mut self.rng);
        let name = format!("{base}{}", self.names.len());
        self.names.insert(name.clone());
        name
    }

    fn add_building(
        &mut self,
        outline: &Outline,
        kind: BuildingKind,
        floors: u16,
        tags: Vec<String>,
    ) -> String {
        let id = format!("B{:08}", self.ids.buildings + self.out.buildings.len() + 1);
        self.out.buildings.push(Building {
            id: id.clone(),
            footprint: outline.to_polygon(&self.layout.frame),
            kind,
            floors,
            tags,
        });
        id
    }

    /// An address at a local point; its 街镇 and 居/村委 are the ones whose area holds the point.
    fn add_address(&mut self, mut a: StandardAddress, at: (f64, f64), road: Option<usize>) {
        let (lon, lat) = self.layout.frame.to_lonlat(at.0, at.1);
        let (lon, lat) = (round7(lon), round7(lat));
        let c = self.layout.community_at(self.layout.frame.to_xy(lon, lat));
        let community = &self.layout.communities[c];
        let town = &self.layout.towns[community.town];
        a.id = format!("A{:08}", self.ids.addresses + self.out.addresses.len() + 1);
        a.district = self.layout.district.name.clone();
        a.town = AdminRef {
            code: town.code.clone(),
            name: town.name.clone(),
        };
        a.community = AdminRef {
            code: community.code.clone(),
            name: community.name.clone(),
        };
        a.point = Some(Point::new(lon, lat));
        self.out.addresses.push(a);
        self.out.address_road.push(road);
    }

    /// Door plates `number`, `number + 1`, … of a compound or 里弄 (`lane`: its gate's number on
    /// the road, its name) at `doors` of building `id`, at most `left` of them.
    fn lane_doors(
        &mut self,
        slot: &Slot,
        doors: Vec<(f64, f64)>,
        lane: (&str, &str),
        id: &str,
        number: &mut u32,
        left: usize,
    ) {
        for p in doors.into_iter().take(left) {
            let mut addr = self.road_address(slot, AddressKind::Residential);
            addr.lane = Some(lane.0.to_string());
            addr.number = Some(number.to_string());
            addr.poi = Some(lane.1.to_string());
            addr.building_id = Some(id.to_string());
            *number += 1;
            self.add_address(addr, p, Some(slot.road));
        }
    }

    fn road_address(&self, slot: &Slot, kind: AddressKind) -> StandardAddress {
        let mut a = StandardAddress::new("", kind);
        a.road = Some(self.roads[slot.road].name.clone());
        a
    }

    /// Builds a place on a claimed slot; returns how many addresses it made (at most `budget`).
    fn build_slot(&mut self, slot: &Slot, budget: usize) -> usize {
        let before = self.out.addresses.len();
        let gate = door_number(slot.s, slot.odd).to_string();
        match slot.usage {
            Use::Compound => {
                let name = self.unique_name(|rng| {
                    let a = *NAME_CHARS
                        .chars()
                        .collect::<Vec<_>>()
                        .choose(rng)
                        .unwrap_or(&'华');
                    let b = *NAME_CHARS
                        .chars()
                        .collect::<Vec<_>>()
                        .choose(rng)
                        .unwrap_or(&'庭');
                    format!("{a}{b}{}", COMPOUND_SUFFIXES.choose(rng).unwrap_or(&"苑"))
                });
                let tower = self.rng.random_bool(0.3);
                let (bw, bd, gap_a, gap_b) = if tower {
                    (28.0, 18.0, 14.0, 28.0)
                } else {
                    (60.0, 12.0, 10.0, 15.0)
                };
                let floors: u16 = if tower {
                    self.rng.random_range(18..=33)
                } else {
                    *[6u16, 6, 6, 11, 14, 18].choose(&mut self.rng).unwrap_or(&6)
                };
                if self.rng.random_bool(0.06) {
                    // A substation or refuse room by the gate: a building with no address.
                    let id = self.add_building(
                        &Outline {
                            rect: slot.rect.sub(1.0, 1.0, 8.0, 5.0),
                            shape: Shape::Rect,
                        },
                        BuildingKind::Public,
                        1,
                        vec![],
                    );
                    self.out.unaddressed.push(id);
                }
                let mut number = 1u32;
                let mut b = 10.0;
                'rows: while b + bd <= slot.rect.depth - 6.0 {
                    let mut a = 8.0;
                    while a + bw <= slot.rect.len - 6.0 {
                        if self.out.addresses.len() - before >= budget {
                            break 'rows;
                        }
                        let shape = if tower && self.rng.random_bool(0.3) {
                            Shape::L {
                                depth_bar: 10.0,
                                wing: 12.0,
                            }
                        } else {
                            Shape::Rect
                        };
                        let outline = Outline {
                            rect: slot.rect.sub(a, b, bw, bd),
                            shape,
                        };
                        let id =
                            self.add_building(&outline, BuildingKind::Residential, floors, vec![]);
                        let doors = if tower {
                            self.rng.random_range(1..=2)
                        } else {
                            self.rng.random_range(3..=5)
                        };
                        let left = budget - (self.out.addresses.len() - before);
                        let doors = outline.door_points(doors);
                        self.lane_doors(slot, doors, (&gate, &name), &id, &mut number, left);
                        a += bw + gap_a;
                    }
                    b += bd + gap_b;
                }
            }
            Use::Lane => {
                let name = self.unique_name(|rng| {
                    let chars: Vec<char> = NAME_CHARS.chars().collect();
                    let a = *chars.choose(rng).unwrap_or(&'福');
                    let b = *chars.choose(rng).unwrap_or(&'安');
                    format!("{a}{b}{}", LANE_SUFFIXES.choose(rng).unwrap_or(&"里"))
                });
                let floors: u16 = self.rng.random_range(2..=3);
                // Rows 11 m deep with a 4 m 支弄 between them, each row cut by cross alleys into
                // terraces of four to seven houses about 4 m wide (one bay): one building, a
                // door plate per house.
                let (row_depth, alley) = (11.0, 4.0);
                let mut number = 1u32;
                let mut b = 6.0;
                'lanes: while b + row_depth <= slot.rect.depth - 4.0 {
                    let mut a = 6.0;
                    while a + 12.0 <= slot.rect.len - 4.0 {
                        let len = (slot.rect.len - 4.0 - a).min(self.rng.random_range(16.0..30.0));
                        if self.out.addresses.len() - before >= budget {
                            break 'lanes;
                        }
                        let outline = Outline {
                            rect: slot.rect.sub(a, b, len, row_depth),
                            shape: Shape::Rect,
                        };
                        let id =
                            self.add_building(&outline, BuildingKind::Residential, floors, vec![]);
                        let houses = ((len / 4.0).floor() as usize).max(1);
                        let left = budget - (self.out.addresses.len() - before);
                        let doors = outline.door_points(houses);
                        self.lane_doors(slot, doors, (&gate, &name), &id, &mut number, left);
                        a += len + alley;
                    }
                    b += row_depth + alley;
                }
            }
            Use::Shops => {
                let rect = slot
                    .rect
                    .sub(1.0, 1.0, slot.rect.len - 2.0, slot.rect.depth - 2.0);
                let shape = if rect.len >= 24.0 && self.rng.random_bool(0.4) {
                    Shape::L {
                        depth_bar: rect.depth - 4.0,
                        wing: 8.0,
                    }
                } else {
                    Shape::Rect
                };
                let outline = Outline { rect, shape };
                let floors = self.rng.random_range(1..=4);
                let id = self.add_building(&outline, BuildingKind::Shop, floors, vec![]);
                let doors = ((rect.len / 10.0).floor() as usize).clamp(1, 4);
                for (i, p) in outline.door_points(doors).into_iter().enumerate() {
                    if i >= budget {
                        break;
                    }
                    let along = slot.s + 1.0 + rect.len * (i as f64 + 0.5) / doors as f64;
                    let mut addr = self.road_address(slot, AddressKind::Street);
                    addr.number = Some(door_number(along, slot.odd).to_string());
                    addr.building_id = Some(id.clone());
                    self.add_address(addr, p, Some(slot.road));
                }
            }
            Use::Industrial => {
                let name = self.unique_name(|rng| {
                    let chars: Vec<char> = NAME_CHARS.chars().collect();
                    let a = *chars.choose(rng).unwrap_or(&'华');
                    let b = *chars.choose(rng).unwrap_or(&'新');
                    format!(
                        "上海{a}{b}{}有限公司",
                        INDUSTRIES.choose(rng).unwrap_or(&"实业")
                    )
                });
                let bw = self
                    .rng
                    .random_range(50.0..110.0f64)
                    .min(slot.rect.len - 16.0);
                let bd = self
                    .rng
                    .random_range(30.0..60.0f64)
                    .min(slot.rect.depth - 16.0);
                let mut fac = 1u32;
                // A parcel cut short by the road's end may leave no room at all for a factory
                // (a footprint narrower than the files' centimetre would have no area).
                let mut b = if bw.abs() < 0.05 || bd.abs() < 0.05 {
                    f64::INFINITY
                } else {
                    8.0
                };
                'grid: while b + bd <= slot.rect.depth - 8.0 {
                    let mut a = 8.0;
                    while a + bw <= slot.rect.len - 8.0 {
                        if self.out.addresses.len() - before >= budget || fac > 6 {
                            break 'grid;
                        }
                        let shape = if self.rng.random_bool(0.25) {
                            Shape::L {
                                depth_bar: bd * 0.6,
                                wing: bw * 0.3,
                            }
                        } else {
                            Shape::Rect
                        };
                        let (kind, floors) = if fac == 1 && self.rng.random_bool(0.3) {
                            (BuildingKind::Office, self.rng.random_range(4..=10))
                        } else {
                            (BuildingKind::Factory, self.rng.random_range(1..=4))
                        };
                        let outline = Outline {
                            rect: slot.rect.sub(a, b, bw, bd),
                            shape,
                        };
                        let id = self.add_building(&outline, kind, floors, vec![]);
                        let mut addr = self.road_address(slot, AddressKind::Industrial);
                        addr.number = Some(gate.clone());
                        addr.building = Some(fac.to_string());
                        addr.poi = Some(name.clone());
                        addr.building_id = Some(id);
                        addr.tags = vec!["工业园区".to_string()];
                        let p = outline.door_points(1)[0];
                        self.add_address(addr, p, Some(slot.road));
                        fac += 1;
                        a += bw + 15.0;
                    }
                    b += bd + 15.0;
                }
            }
            Use::Public => {
                let &(what, kind, tag) = PUBLIC_KINDS
                    .choose(&mut self.rng)
                    .unwrap_or(&PUBLIC_KINDS[0]);
                let layout = self.layout;
                let name = self.unique_name(|rng| {
                    let chars: Vec<char> = NAME_CHARS.chars().collect();
                    let a = *chars.choose(rng).unwrap_or(&'华');
                    let b = *chars.choose(rng).unwrap_or(&'新');
                    format!("{}{a}{b}{what}", layout.district.name)
                });
                let bw = (slot.rect.len - 30.0).clamp(40.0, 90.0);
                let bd = (slot.rect.depth - 30.0).clamp(25.0, 45.0);
                let shape = if kind == BuildingKind::School {
                    Shape::U {
                        depth_bar: 12.0,
                        wing: 14.0,
                    }
                } else {
                    Shape::L {
                        depth_bar: 14.0,
                        wing: 16.0,
                    }
                };
                let outline = Outline {
                    rect: slot.rect.sub(15.0, 15.0, bw, bd),
                    shape,
                };
                let floors = self.rng.random_range(3..=6);
                let id = self.add_building(&outline, kind, floors, vec![tag.to_string()]);
                let mut addr = self.road_address(slot, AddressKind::Public);
                addr.number = Some(gate);
                addr.poi = Some(name);
                addr.building_id = Some(id);
                addr.tags = vec![tag.to_string()];
                let p = outline.door_points(1)[0];
                self.add_address(addr, p, Some(slot.road));
            }
        }
        self.out.addresses.len() - before
    }

    /// Builds a village group where the cluster lands, or a little off it when that ground is
    /// taken; its group number is the village's next.
    fn try_cluster(
        &mut self,
        cluster: &Cluster,
        occupancy: &mut Occupancy,
        budget: usize,
    ) -> usize {
        let mut cluster = cluster.clone();
        for attempt in 0..4 {
            if occupancy.try_claim(&cluster.rect) {
                // Real villages have a few dozen 组; past that, clusters join existing groups.
                self.groups[cluster.community] += 1;
                cluster.group = (self.groups[cluster.community] - 1) % MAX_GROUPS + 1;
                return self.build_cluster(&cluster, budget);
            }
            let step = 25.0 * (attempt + 1) as f64;
            let angle = attempt as f64 * 2.4;
            cluster.rect.origin.0 += step * angle.cos();
            cluster.rect.origin.1 += step * angle.sin();
        }
        0
    }

    fn build_cluster(&mut self, cluster: &Cluster, budget: usize) -> usize {
        let before = self.out.addresses.len();
        let floors = self.rng.random_range(2..=3);
        let key = (cluster.community, cluster.group);
        let mut number = self.next_house.get(&key).copied().unwrap_or(1);
        for r in 0..cluster.rows {
            for c in 0..cluster.cols {
                if self.out.addresses.len() - before >= budget {
                    return self.out.addresses.len() - before;
                }
                let a = 3.0 + c as f64 * (cluster.house.0 + 5.0);
                let b = 3.0 + r as f64 * (cluster.house.1 + 6.0);
                let shape = if self.rng.random_bool(0.15) {
                    Shape::L {
                        depth_bar: cluster.house.1 * 0.6,
                        wing: cluster.house.0 * 0.4,
                    }
                } else {
                    Shape::Rect
                };
                let outline = Outline {
                    rect: cluster.rect.sub(a, b, cluster.house.0, cluster.house.1),
                    shape,
                };
                let p = outline.door_points(1)[0];
                // A house across the village boundary belongs to the neighbour: leave it out.
                let (lon, lat) = self.layout.frame.to_lonlat(p.0, p.1);
                let at = self.layout.frame.to_xy(round7(lon), round7(lat));
                if self.layout.community_at(at) != cluster.community {
                    continue;
                }
                let id = self.add_building(&outline, BuildingKind::VillageHouse, floors, vec![]);
                let mut addr = StandardAddress::new("", AddressKind::Village);
                addr.group = Some(cluster.group.to_string());
                addr.number = Some(number.to_string());
                addr.building_id = Some(id);
                number += 1;
                self.next_house.insert(key, number);
                self.add_address(addr, p, None);
            }
        }
        self.out.addresses.len() - before
    }
}

/// Every parcel along every road, with its use decided by where it lies.
fn road_slots(
    layout: &Layout,
    roads: &[Road],
    occupancy: &Occupancy,
    rng: &mut ChaCha8Rng,
    lanes: f64,
) -> Vec<Slot> {
    let mut slots = Vec::new();
    for (ri, road) in roads.iter().enumerate() {
        let mut s0 = 0.0;
        for w in road.points.windows(2) {
            let (p, q) = (w[0], w[1]);
            let len = dist(p, q);
            if len < 1.0 {
                continue;
            }
            let u = ((q.0 - p.0) / len, (q.1 - p.1) / len);
            for odd in [true, false] {
                let n = if odd { (-u.1, u.0) } else { (u.1, -u.0) };
                let mut s = 20.0;
                while s < len - 20.0 {
                    let probe = (p.0 + u.0 * s + n.0 * 60.0, p.1 + u.1 * s + n.1 * 60.0);
                    let c = layout.community_at(probe);
                    let community = &layout.communities[c];
                    let town = &layout.towns[community.town];
                    let roll: f64 = rng.random();
                    // Villages keep their farmland free for their houses; towns build up, and in
                    // a dense city (lanes > 0) parks and estates have grown along the villages'
                    // roads too.
                    let usage = if !road.deep {
                        (roll < 0.8).then_some(Use::Shops)
                    } else if community.village && lanes == 0.0 {
                        match roll {
                            r if r < 0.30 => Some(Use::Industrial),
                            r if r < 0.55 => Some(Use::Shops),
                            r if r < 0.58 => Some(Use::Public),
                            r if r < 0.75 => Some(Use::Compound),
                            _ => None,
                        }
                    } else {
                        match roll {
                            // A dense city's former villages hold its industrial parks.
                            r if r < 0.15 && lanes > 0.0 && community.village => {
                                Some(Use::Industrial)
                            }
                            // Dense town centres build 里弄 where others build compounds.
                            r if r < 0.65 && lanes > 0.0 && rng.random_bool(lanes) => {
                                Some(Use::Lane)
                            }
                            r if r < 0.65 => Some(Use::Compound),
                            r if r < 0.93 => Some(Use::Shops),
                            r if r < 0.97 => Some(Use::Public),
                            _ => Some(Use::Industrial),
                        }
                    };
                    let (f, d) = match usage {
                        Some(Use::Compound | Use::Lane) => (
                            rng.random_range(120.0..260.0f64),
                            rng.random_range(100.0..220.0f64),
                        ),
                        Some(Use::Shops) => {
                            (rng.random_range(12.0..48.0), rng.random_range(10.0..16.0))
                        }
                        Some(Use::Industrial) => (
                            rng.random_range(110.0..220.0),
                            rng.random_range(90.0..200.0),
                        ),
                        Some(Use::Public) => (
                            rng.random_range(100.0..170.0),
                            rng.random_range(80.0..140.0),
                        ),
                        None => (rng.random_range(20.0..120.0), 0.0),
                    };
                    let f: f64 = f.min(len - 20.0 - s);
                    // Parcels stop short of the middle of the block, where the parallel road's
                    // parcels begin.
                    let d: f64 = d.min(layout.towns[road.town].spacing / 2.0 - 28.0);
                    if let Some(usage) = usage.filter(|_| f >= 12.0) {
                        let origin = (p.0 + u.0 * s + n.0 * 20.0, p.1 + u.1 * s + n.1 * 20.0);
                        let rect = OrientedRect {
                            origin,
                            u,
                            n,
                            len: f,
                            depth: d,
                        };
                        if !occupancy.is_free(&rect) {
                            // It would straddle a cross street: try a little further on.
                            s += 12.0;
                            continue;
                        }
                        let distance = dist(probe, town.center) / town.radius;
                        let priority = distance + rng.random_range(0.0..0.6);
                        slots.push(Slot {
                            road: ri,
                            odd,
                            s: s0 + s,
                            rect,
                            usage,
                            priority,
                        });
                    }
                    s += f + rng.random_range(3.0..7.0);
                }
            }
            s0 += len;
        }
    }
    slots
}

/// The village groups (组) that may be built: clusters of houses on a lattice over every village's
/// area, the ones nearest the village centre first.
fn village_clusters(layout: &Layout, rng: &mut ChaCha8Rng) -> Vec<Cluster> {
    let mut clusters = Vec::new();
    let (w, h) = layout.frame.extent();
    let step = 130.0;
    let (nx, ny) = ((w / step) as usize, (h / step) as usize);
    for j in 0..ny {
        for i in 0..nx {
            let center = (
                (i as f64 + 0.5) * step + rng.random_range(-30.0..30.0),
                (j as f64 + 0.5) * step + rng.random_range(-30.0..30.0),
            );
            let community = layout.community_at(center);
            let c = &layout.communities[community];
            if !c.village {
                continue;
            }
            let theta: f64 = rng.random_range(0.0..std::f64::consts::PI);
            let u = (theta.cos(), theta.sin());
            let house = (rng.random_range(10.0..14.0), rng.random_range(8.0..12.0));
            let rows = rng.random_range(2..=4);
            let cols = rng.random_range(4..=8);
            let len = 6.0 + cols as f64 * (house.0 + 5.0);
            let depth = 6.0 + rows as f64 * (house.1 + 6.0);
            let origin = (
                center.0 - u.0 * len / 2.0 + u.1 * depth / 2.0,
                center.1 - u.1 * len / 2.0 - u.0 * depth / 2.0,
            );
            let spread = layout.towns[c.town].radius;
            clusters.push(Cluster {
                community,
                group: 0,
                rect: OrientedRect {
                    origin,
                    u,
                    n: (-u.1, u.0),
                    len,
                    depth,
                },
                rows,
                cols,
                house,
                priority: dist(center, c.seed) / spread + rng.random_range(0.0..0.5),
            });
        }
    }
    clusters
}

/// Builds places until there are exactly `target` addresses, or the district is full; gives
/// them with how many it had no room for. `lanes` is the share of a dense town centre's
/// residential parcels that are 里弄 (0 outside a dense city).
pub fn build_places(
    layout: &Layout,
    roads: &[Road],
    occupancy: &mut Occupancy,
    target: usize,
    seed: u64,
    ids: &super::IdBase,
    lanes: f64,
) -> (Places, usize) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x91ace5_u64);
    let mut slots = road_slots(layout, roads, occupancy, &mut rng, lanes);
    slots.sort_by(|a, b| a.priority.total_cmp(&b.priority));
    let mut clusters = village_clusters(layout, &mut rng);
    clusters.sort_by(|a, b| a.priority.total_cmp(&b.priority));

    let mut builder = Builder {
        layout,
        roads,
        rng,
        ids: *ids,
        names: HashSet::new(),
        groups: vec![0; layout.communities.len()],
        next_house: std::collections::HashMap::new(),
        out: Places {
            addresses: Vec::with_capacity(target),
            buildings: Vec::new(),
            unaddressed: Vec::new(),
            address_road: Vec::with_capacity(target),
        },
    };
    // Each kind's share, in whole addresses; what a kind cannot place passes to the next.
    let mut carry = 0usize;
    let mut assigned = 0usize;
    // A dense city's compounds and lanes would cover every corner two parcels compete for:
    // there the parks and public sites claim their ground first.
    let order = if lanes > 0.0 {
        [2, 3, 0, 1, 4]
    } else {
        [0, 1, 2, 3, 4]
    };
    for (i, &(kind, share)) in order.iter().map(|&k| &SHARES[k]).enumerate() {
        let quota = if i + 1 == SHARES.len() {
            target - assigned
        } else {
            (target as f64 * share).round() as usize
        };
        assigned += quota;
        let want = quota + carry;
        let mut made = 0usize;
        if kind == AddressKind::Village {
            for cluster in &clusters {
                if made >= want {
                    break;
                }
                made += builder.try_cluster(cluster, occupancy, want - made);
            }
        } else {
            let usage = match kind {
                AddressKind::Residential => Use::Compound,
                AddressKind::Street => Use::Shops,
                AddressKind::Industrial => Use::Industrial,
                _ => Use::Public,
            };
            let counts =
                |s: &Slot| s.usage == usage || (usage, s.usage) == (Use::Compound, Use::Lane);
            for slot in slots.iter().filter(|s| counts(s)) {
                if made >= want {
                    break;
                }
                if occupancy.try_claim(&slot.rect) {
                    made += builder.build_slot(slot, want - made);
                }
            }
        }
        carry = want - made;
    }
    if carry > 0 {
        // The last kinds could not place their share: every free parcel and village lattice
        // place takes the rest.
        for slot in &slots {
            if carry == 0 {
                break;
            }
            if occupancy.try_claim(&slot.rect) {
                carry -= builder.build_slot(slot, carry);
            }
        }
        for cluster in &clusters {
            if carry == 0 {
                break;
            }
            carry -= builder.try_cluster(cluster, occupancy, carry);
        }
    }
    (builder.out, carry)
}
