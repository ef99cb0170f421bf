//! The whole city from the generator (`synth --district 上海市`), small: every district of
//! Shanghai in one source directory, ids unique across them, no two districts building on the
//! same ground, and a data directory built from it that covers the whole city.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use dizhi::gis::geojson::geometry::{Rings, single_polygon};
use geo::{Area, BooleanOps, BoundingRect, Polygon};
use rstar::{AABB, RTree, RTreeObject};

/// The generated city and the parts it was made of, made once.
struct City {
    dir: tempfile::TempDir,
    parts: Vec<dizhi::synth::CityPart>,
}

const ADDRESSES: usize = 30_000;

static CITY: LazyLock<City> = LazyLock::new(|| {
    let dir = tempfile::tempdir().unwrap();
    let dicts = dizhi::Dictionaries::embedded().unwrap();
    let config = dizhi::synth::SynthConfig {
        addresses: ADDRESSES,
        seed: 7,
    };
    let parts =
        dizhi::synth::generate_city_to_dir(&dicts, config, &dir.path().join("city"), |_| {})
            .unwrap();
    City { dir, parts }
});

fn source() -> std::path::PathBuf {
    CITY.dir.path().join("city")
}

#[test]
fn every_district_gets_its_share_and_the_manifest_covers_the_city() {
    let dicts = dizhi::Dictionaries::embedded().unwrap();
    let city = dizhi::dictionaries::Coverage::whole_city(&dicts.admin);
    assert_eq!(CITY.parts.len(), 16);
    let names: HashSet<&str> = CITY.parts.iter().map(|p| p.district.as_str()).collect();
    for d in city.districts() {
        assert!(names.contains(d.name.as_str()), "{} generated", d.name);
    }
    assert_eq!(
        CITY.parts.iter().map(|p| p.addresses).sum::<usize>(),
        ADDRESSES
    );
    for p in &CITY.parts {
        assert!(p.addresses > 0 && p.buildings > 0, "{p:?}");
    }
    // Shared out by residents: 浦东 (the most) has more than 黄浦 (among the fewest).
    let of = |name: &str| CITY.parts.iter().find(|p| p.district == name).unwrap();
    assert!(of("浦东新区").addresses > 5 * of("黄浦区").addresses);

    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(source().join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["addresses"], ADDRESSES);
    let divisions: Vec<String> = manifest["divisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(divisions, city.codes());
}

#[test]
fn ids_are_unique_and_every_address_is_coded_in_its_own_district() {
    let dicts = dizhi::Dictionaries::embedded().unwrap();
    let buildings = footprints();
    let ids: HashSet<&str> = buildings.iter().map(|b| b.id.as_str()).collect();
    assert_eq!(ids.len(), buildings.len(), "building ids unique");

    let mut r = csv::Reader::from_path(source().join("addresses.csv")).unwrap();
    let mut seen = HashSet::new();
    let mut rows = 0;
    for rec in r.records() {
        let rec = rec.unwrap();
        rows += 1;
        assert!(
            seen.insert(rec[0].to_string()),
            "address id {} twice",
            &rec[0]
        );
        let district = dicts
            .admin
            .divisions()
            .find(|d| d.name == rec[2])
            .unwrap_or_else(|| panic!("district {}", &rec[2]));
        assert!(rec[1].starts_with(&rec[2]), "{:?}", rec);
        assert_eq!(&rec[3][..6], &district.code[..6], "{:?}", rec);
        assert_eq!(&rec[5][..9], &rec[3][..9], "{:?}", rec);
        if !rec[14].is_empty() {
            assert!(
                ids.contains(&rec[14]),
                "{:?} links a building that exists",
                rec
            );
        }
    }
    assert_eq!(rows, ADDRESSES);
}

#[test]
fn no_two_districts_build_on_the_same_ground() {
    // The 居/村委 areas of neighbouring districts meet and do not overlap, but for the written
    // coordinates' rounding (7 decimals, about 1 cm, along kilometres of border: under 1e-8
    // square degrees, about 100 m²; a district laid over another overlaps by km²) …
    let meeting = overlaps_across_districts(&areas(), 1e-8);
    assert!(
        meeting > 10,
        "neighbouring districts' areas meet ({meeting} pairs)"
    );
    // … and no footprint lies on another district's (1e-10: about 1 m²).
    overlaps_across_districts(&footprints(), 1e-10);
}

/// Panics on two shapes of different districts that overlap by `tolerance` square degrees or
/// more; gives how many such pairs lie close enough for their boxes to meet.
fn overlaps_across_districts(shapes: &[Shape], tolerance: f64) -> usize {
    let tree = RTree::bulk_load(
        shapes
            .iter()
            .enumerate()
            .map(|(i, b)| Boxed(i, b.envelope()))
            .collect(),
    );
    let mut close = 0;
    for (i, b) in shapes.iter().enumerate() {
        for Boxed(j, _) in tree.locate_in_envelope_intersecting(&b.envelope()) {
            let o = &shapes[*j];
            if *j <= i || o.district == b.district {
                continue;
            }
            close += 1;
            // In square degrees: 1e-10 is about one square metre.
            let overlap = b.polygon.intersection(&o.polygon).unsigned_area();
            assert!(
                overlap < tolerance,
                "{} ({}) and {} ({}) overlap by {overlap:e} square degrees",
                b.id,
                b.district,
                o.id,
                o.district
            );
        }
    }
    close
}

#[test]
fn the_city_builds_into_one_data_directory_covering_all_sixteen_districts() {
    let data = CITY.dir.path().join("data");
    dizhi::store::build(&source(), &data, &|_, _, _| {}).unwrap();
    let store = dizhi::store::Store::open(&data).unwrap();
    let dicts = dizhi::Dictionaries::embedded().unwrap();
    let coverage = store.coverage(&dicts.admin).unwrap();
    assert!(coverage.is_whole_city(), "{}", coverage.label());
    dizhi::setup::generation::build_paired_index(&store, &data).unwrap();
    let index = dizhi::search::AddressIndex::open(&data).unwrap();
    let matcher = dizhi::search::Matcher::new(index, &dicts).unwrap();
    // A door of the most central district and one of the farthest both normalize to themselves.
    let mut r = csv::Reader::from_path(source().join("addresses.csv")).unwrap();
    let mut doors: HashMap<String, String> = HashMap::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        if rec[13] == *"residential" && !rec[9].is_empty() && rec[12].is_empty() {
            doors
                .entry(rec[2].to_string())
                .or_insert(rec[1].to_string());
        }
    }
    for district in ["黄浦区", "崇明区", "嘉定区"] {
        let text = &doors[district];
        let m = matcher.normalize(text).unwrap();
        assert_eq!(m.address.as_deref(), Some(text.as_str()), "{text}: {m:?}");
    }
}

#[test]
fn a_compound_name_found_in_several_districts_answers_in_the_district_named() {
    let data = CITY.dir.path().join("data-names");
    dizhi::store::build(&source(), &data, &|_, _, _| {}).unwrap();
    let store = dizhi::store::Store::open(&data).unwrap();
    dizhi::setup::generation::build_paired_index(&store, &data).unwrap();
    let dicts = dizhi::Dictionaries::embedded().unwrap();
    let matcher =
        dizhi::search::Matcher::new(dizhi::search::AddressIndex::open(&data).unwrap(), &dicts)
            .unwrap();
    // (compound, door) → the districts holding it, from the generator's own rows.
    let mut r = csv::Reader::from_path(source().join("addresses.csv")).unwrap();
    let mut districts: HashMap<(String, String), HashSet<String>> = HashMap::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        let (poi, number) = (&rec[11], &rec[9]);
        if rec[13] == *"residential" && !poi.is_empty() && !number.is_empty() && rec[12].is_empty()
        {
            districts
                .entry((poi.to_string(), number.to_string()))
                .or_default()
                .insert(rec[2].to_string());
        }
    }
    let mut shared: Vec<_> = districts.into_iter().filter(|(_, d)| d.len() > 1).collect();
    shared.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(
        !shared.is_empty(),
        "the generated city repeats no compound and door across districts"
    );
    let mut asked = 0;
    for ((poi, number), in_districts) in shared.iter().take(20) {
        let mut in_districts: Vec<&String> = in_districts.iter().collect();
        in_districts.sort();
        for district in in_districts {
            let text = format!("{district}{poi}{number}号");
            let m = matcher.normalize(&text).unwrap();
            asked += 1;
            assert!(
                m.address
                    .as_deref()
                    .is_some_and(|a| a.starts_with(district.as_str())),
                "{text}: answered {:?} ({:?}, {})",
                m.address,
                m.level,
                m.score
            );
        }
    }
    assert!(asked >= 2);
}

/// A footprint or a 居/村委 area as the test reads it back.
struct Shape {
    id: String,
    district: String,
    polygon: Polygon<f64>,
}

impl Shape {
    fn envelope(&self) -> AABB<[f64; 2]> {
        let r = self.polygon.bounding_rect().unwrap();
        AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y])
    }
}

struct Boxed(usize, AABB<[f64; 2]>);

impl RTreeObject for Boxed {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.1
    }
}

/// Every addressed footprint of the generated city, with the district its addresses name.
fn footprints() -> Vec<Shape> {
    let mut district_of: HashMap<String, String> = HashMap::new();
    let mut r = csv::Reader::from_path(source().join("addresses.csv")).unwrap();
    for rec in r.records() {
        let rec = rec.unwrap();
        if !rec[14].is_empty() {
            district_of.insert(rec[14].to_string(), rec[2].to_string());
        }
    }
    // Footprints without an address (sheds, garages) are left out.
    polygons("buildings.geojson", "id", |id| district_of.get(id).cloned())
}

/// Every 居/村委 area of the generated city, with its district's code.
fn areas() -> Vec<Shape> {
    polygons("areas.geojson", "code", |code| Some(code[..6].to_string()))
}

/// The polygons of a GeoJSON file of the source, named by `key`, in the district `district`
/// says (none: left out).
fn polygons(file: &str, key: &str, district: impl Fn(&str) -> Option<String>) -> Vec<Shape> {
    let text = std::fs::read_to_string(source().join(file)).unwrap();
    let fc: geojson::FeatureCollection = text.parse().unwrap();
    fc.features
        .into_iter()
        .filter_map(|f| {
            let id = f.property(key)?.as_str()?.to_string();
            // Every polygon written is a valid one (a closed ring, no self-intersection).
            let polygon = single_polygon(f.geometry.as_ref()?, Rings::MustClose)
                .unwrap_or_else(|e| panic!("{file} {id}: {e}"));
            Some(Shape {
                district: district(&id)?,
                id,
                polygon,
            })
        })
        .collect()
}
