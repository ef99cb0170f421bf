//! The `buildings` and `links` tables: footprints, and which addresses are in which building.

use std::collections::HashMap;

use geo::BoundingRect;
use rusqlite::{Row, Transaction, params};
use serde::{Deserialize, Serialize};

use super::{Error, Result, Store, polygon_from_wkb, tags_from_json, tags_json};
use crate::gis::Footprint;
use crate::{Building, BuildingKind};

/// A link between a standard address and a building, with how it was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    /// The address.
    pub address_id: String,
    /// The building.
    pub building_id: String,
    /// Who says so: a source name, or the file it came from (`addresses.csv`).
    pub source: String,
    /// How: `given` (the source said so), `contains` (the point is in the footprint), …
    pub method: String,
    /// How sure, in [0, 1].
    pub confidence: f64,
}

impl Store {
    /// Inserts buildings in one transaction. Returns how many were written.
    ///
    /// # Examples
    /// ```
    /// use dizhi::{Building, BuildingKind};
    /// use geo::polygon;
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut store = dizhi::store::Store::open(dir.path()).unwrap();
    /// let b = Building {
    ///     id: "B1".into(),
    ///     footprint: polygon![(x: 121.0, y: 31.0), (x: 121.001, y: 31.0), (x: 121.001, y: 31.001)],
    ///     kind: BuildingKind::Shop,
    ///     floors: 2,
    ///     tags: vec![],
    /// };
    /// store.insert_buildings(&[b.clone()]).unwrap();
    /// assert_eq!(store.building("B1").unwrap(), Some(b.clone()));
    /// assert_eq!(store.buildings().unwrap(), vec![b]);
    /// ```
    pub fn insert_buildings(&mut self, buildings: &[Building]) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let n = write_buildings(&tx, buildings)?;
        tx.commit()?;
        Ok(n)
    }

    /// Inserts address–building links in one transaction.
    ///
    /// # Examples
    /// ```
    /// use dizhi::store::{Link, Store};
    /// use dizhi::{AddressKind, Building, BuildingKind, StandardAddress};
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut store = Store::open(dir.path()).unwrap();
    /// use geo::{line_string, polygon};
    /// let footprint = polygon![(x: 121.0, y: 31.0), (x: 121.001, y: 31.0), (x: 121.001, y: 31.001)];
    /// store.insert_buildings(&[Building { id: "B1".into(), footprint, kind: BuildingKind::Office, floors: 5, tags: vec![] }]).unwrap();
    /// let mut a = StandardAddress::new("A1", AddressKind::Industrial);
    /// a.building_id = Some("B1".into());
    /// store.insert_addresses(&[a]).unwrap();
    /// let link = Link { address_id: "A1".into(), building_id: "B1".into(), source: "mps".into(), method: "contains".into(), confidence: 0.9 };
    /// store.insert_links(&[link.clone()]).unwrap();
    /// assert_eq!(store.links_of_address("A1").unwrap(), vec![link]);
    /// assert_eq!(store.addresses_of_building("B1").unwrap()[0].id, "A1");
    /// // A link to a building that does not exist is refused (foreign keys are on).
    /// let bad = Link { address_id: "A1".into(), building_id: "B9".into(), source: "mps".into(), method: "given".into(), confidence: 1.0 };
    /// assert!(store.insert_links(&[bad]).is_err());
    /// ```
    pub fn insert_links(&mut self, links: &[Link]) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let n = write_links(&tx, links)?;
        tx.commit()?;
        Ok(n)
    }

    /// The building with this id.
    pub fn building(&self, id: &str) -> Result<Option<Building>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, kind, floors, footprint, tags FROM buildings WHERE id = ?1",
        )?;
        let mut rows = stmt.query([id])?;
        match rows.next()? {
            Some(row) => Ok(Some(building_from_row(row)?)),
            None => Ok(None),
        }
    }

    /// Every building, in id order — what the spatial layer bulk-loads its R-tree from.
    pub fn buildings(&self) -> Result<Vec<Building>> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM buildings", [], |r| r.get(0))?;
        let mut out = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
        let mut stmt = self
            .conn
            .prepare("SELECT id, kind, floors, footprint, tags FROM buildings ORDER BY id")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            out.push(building_from_row(row)?);
        }
        Ok(out)
    }

    /// The links of an address.
    pub fn links_of_address(&self, address_id: &str) -> Result<Vec<Link>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT address_id, building_id, source, method, confidence FROM links \
             WHERE address_id = ?1 ORDER BY building_id, source",
        )?;
        let rows = stmt.query_map([address_id], |r| {
            Ok(Link {
                address_id: r.get(0)?,
                building_id: r.get(1)?,
                source: r.get(2)?,
                method: r.get(3)?,
                confidence: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every building as a GIS [`Footprint`] with its first standard address (by id) and its
    /// address count — what `dizhi export buildings` writes. One pass over the addresses.
    ///
    /// # Examples
    /// ```
    /// use dizhi::{AddressKind, Building, BuildingKind, StandardAddress};
    /// use geo::polygon;
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut store = dizhi::store::Store::open(dir.path()).unwrap();
    /// let footprint = polygon![(x: 121.0, y: 31.0), (x: 121.001, y: 31.0), (x: 121.001, y: 31.001)];
    /// store.insert_buildings(&[Building { id: "B1".into(), footprint, kind: BuildingKind::Shop, floors: 2, tags: vec![] }]).unwrap();
    /// let mut a = StandardAddress::new("A1", AddressKind::Street);
    /// a.building_id = Some("B1".into());
    /// store.insert_addresses(&[a]).unwrap();
    /// let f = &store.footprints().unwrap()[0];
    /// assert_eq!((f.id.as_str(), f.address_count), ("B1", Some(1)));
    /// ```
    pub fn footprints(&self) -> Result<Vec<Footprint>> {
        let mut first: HashMap<String, (String, usize)> = HashMap::new();
        self.for_each_address(|a, _text| {
            if let Some(b) = a.building_id.clone() {
                first
                    .entry(b)
                    .and_modify(|e| e.1 += 1)
                    .or_insert_with(|| (a.canonical_text(), 1));
            }
        })?;
        Ok(self
            .buildings()?
            .iter()
            .map(|b| match first.get(&b.id) {
                Some((text, n)) => Footprint::from_building(b, Some(text), *n),
                None => Footprint::from_building(b, None, 0),
            })
            .collect())
    }
}

pub(crate) fn write_buildings(tx: &Transaction<'_>, buildings: &[Building]) -> Result<usize> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO buildings (id, kind, floors, footprint, min_lon, min_lat, max_lon, max_lat, tags) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    let mut wkb = Vec::new();
    for b in buildings {
        wkb.clear();
        wkb::writer::write_polygon(&mut wkb, &b.footprint, &Default::default())
            .map_err(Error::wkb)?;
        // An empty footprint has no box; store a degenerate one rather than fail the load.
        let (min, max) = b
            .footprint
            .bounding_rect()
            .map(|r| (r.min(), r.max()))
            .unwrap_or_default();
        stmt.execute(params![
            b.id,
            b.kind.as_str(),
            b.floors,
            wkb,
            min.x,
            min.y,
            max.x,
            max.y,
            tags_json(&b.tags),
        ])?;
    }
    Ok(buildings.len())
}

fn building_from_row(row: &Row<'_>) -> Result<Building> {
    let kind: String = row.get(1)?;
    let footprint = row.get_ref(3)?.as_blob().map_err(rusqlite::Error::from)?;
    let tags: String = row.get(4)?;
    Ok(Building {
        id: row.get(0)?,
        footprint: polygon_from_wkb(footprint)?,
        kind: kind.parse::<BuildingKind>().map_err(Error::Corrupt)?,
        floors: row.get(2)?,
        tags: tags_from_json(&tags)?,
    })
}

pub(crate) fn write_links(tx: &Transaction<'_>, links: &[Link]) -> Result<usize> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO links (address_id, building_id, source, method, confidence) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for l in links {
        stmt.execute(params![
            l.address_id,
            l.building_id,
            l.source,
            l.method,
            l.confidence
        ])?;
    }
    Ok(links.len())
}
