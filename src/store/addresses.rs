//! The `addresses` table: standard addresses and the full text their source wrote.

use geo::Point;
use rusqlite::types::Type;
use rusqlite::{OptionalExtension, Row, Transaction, params};

use super::{Error, Result, Store, tags_from_json, tags_json};
use crate::address::TextParts;
use crate::{AddressKind, AddressStatus, AdminRef, StandardAddress};

const ADDRESS_COLUMNS: &str = "id, address, district, town_code, town, community_code, community, \
     road, lane, number, grp, poi, building, kind, building_id, lon, lat, tags, status";

impl Store {
    /// Inserts standard addresses in one transaction, their text being
    /// [`StandardAddress::canonical_text`]. Returns how many were written.
    pub fn insert_addresses(&mut self, addresses: &[StandardAddress]) -> Result<usize> {
        let tx = self.conn.transaction()?;
        let texts: Vec<String> = addresses.iter().map(|a| a.canonical_text()).collect();
        let n = write_addresses(&tx, addresses.iter().zip(texts.iter().map(String::as_str)))?;
        tx.commit()?;
        Ok(n)
    }

    /// The standard address with this id.
    pub fn address(&self, id: &str) -> Result<Option<StandardAddress>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {ADDRESS_COLUMNS} FROM addresses WHERE id = ?1"
        ))?;
        let mut rows = stmt.query([id])?;
        match rows.next()? {
            Some(row) => Ok(Some(address_from_row(row)?)),
            None => Ok(None),
        }
    }

    /// The stored full text of an address (as its source wrote it).
    pub fn address_text(&self, id: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT address FROM addresses WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Calls `f` with every address and its stored text, in id order, streaming (memory stays
    /// flat however many there are). Returns how many were visited.
    ///
    /// # Examples
    /// ```
    /// use dizhi::{AddressKind, StandardAddress};
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut store = dizhi::store::Store::open(dir.path()).unwrap();
    /// store.insert_addresses(&[StandardAddress::new("A2", AddressKind::Street),
    ///                          StandardAddress::new("A1", AddressKind::Village)]).unwrap();
    /// let mut ids = vec![];
    /// let n = store.for_each_address(|a, _text| ids.push(a.id)).unwrap();
    /// assert_eq!((n, ids), (2, vec!["A1".to_string(), "A2".to_string()]));
    /// ```
    pub fn for_each_address(&self, mut f: impl FnMut(StandardAddress, String)) -> Result<u64> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {ADDRESS_COLUMNS} FROM addresses ORDER BY id"
        ))?;
        let mut rows = stmt.query([])?;
        let mut n = 0;
        while let Some(row) = rows.next()? {
            let text: String = row.get(1)?;
            f(address_from_row(row)?, text);
            n += 1;
        }
        Ok(n)
    }

    /// The addresses linked to a building (by their `building_id`), in id order.
    ///
    /// Sorted here, not by SQL: a cached statement with `ORDER BY` over the building index needs
    /// a sorter, and SQLite compiles such a statement again at every reuse — that recompiling
    /// was half the time of a reverse lookup.
    pub fn addresses_of_building(&self, building_id: &str) -> Result<Vec<StandardAddress>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {ADDRESS_COLUMNS} FROM addresses WHERE building_id = ?1"
        ))?;
        let mut rows = stmt.query([building_id])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(address_from_row(row)?);
        }
        // Byte order, as SQLite's BINARY collation orders TEXT.
        out.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    /// The addresses of a building as an answer lists them — id, canonical text, point — in id
    /// order, read without building each [`StandardAddress`] (a reverse lookup's store read:
    /// two strings per address instead of fifteen).
    ///
    /// # Examples
    /// ```
    /// use dizhi::store::Store;
    /// use dizhi::{AddressKind, AdminRef, Building, BuildingKind, StandardAddress};
    /// use geo::polygon;
    /// let dir = tempfile::tempdir().unwrap();
    /// let mut store = Store::open(dir.path()).unwrap();
    /// let footprint = polygon![(x: 121.0, y: 31.0), (x: 121.001, y: 31.0), (x: 121.001, y: 31.001)];
    /// store.insert_buildings(&[Building { id: "B1".into(), footprint, kind: BuildingKind::VillageHouse, floors: 2, tags: vec![] }]).unwrap();
    /// let mut road = StandardAddress::new("A2", AddressKind::Residential);
    /// road.district = "青浦区".into();
    /// road.town = AdminRef { code: "310118107000".into(), name: "华新镇".into() };
    /// road.road = Some("华腾路".into());
    /// road.lane = Some("1288".into());
    /// road.number = Some("3".into());
    /// road.building_id = Some("B1".into());
    /// road.point = Some(geo::Point::new(121.0008, 31.0002));
    /// let mut village = StandardAddress::new("A1", AddressKind::Village);
    /// village.district = "青浦区".into();
    /// village.community = AdminRef { code: "310118107201".into(), name: "东厍村村委会".into() };
    /// village.group = Some("5".into());
    /// village.number = Some("12".into());
    /// village.building_id = Some("B1".into());
    /// store.insert_addresses(&[road, village]).unwrap();
    /// let lines = store.address_lines_of_building("B1").unwrap();
    /// let whole = store.addresses_of_building("B1").unwrap();
    /// assert_eq!(lines.len(), 2);
    /// for (line, a) in lines.iter().zip(&whole) {
    ///     assert_eq!((&line.id, &line.text, line.point), (&a.id, &a.canonical_text(), a.point));
    /// }
    /// assert_eq!(lines[0].text, "青浦区东厍村5组12号");
    /// assert_eq!(lines[1].text, "青浦区华新镇华腾路1288弄3号");
    /// ```
    pub fn address_lines_of_building(&self, building_id: &str) -> Result<Vec<AddressLine>> {
        let mut stmt = self.conn.prepare_cached(ADDRESS_LINES_SQL)?;
        let mut rows = stmt.query([building_id])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let text = |i: usize| -> Result<Option<&str>> {
                row.get_ref(i)?.as_str_or_null().map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(i, Type::Text, Box::new(e)).into()
                })
            };
            let parts = TextParts {
                district: text(1)?.unwrap_or_default(),
                town: text(2)?.unwrap_or_default(),
                community: text(3)?.unwrap_or_default(),
                group: text(4)?,
                road: text(5)?,
                lane: text(6)?,
                number: text(7)?,
                building: text(8)?,
            };
            let lon: Option<f64> = row.get(9)?;
            let lat: Option<f64> = row.get(10)?;
            out.push(AddressLine {
                id: row.get(0)?,
                text: parts.canonical_text(),
                point: lon.zip(lat).map(|(x, y)| Point::new(x, y)),
            });
        }
        // Byte order, as SQLite's BINARY collation orders TEXT.
        out.sort_unstable_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }
}

/// [`Store::address_lines_of_building`]'s query: every column it reads is in the index
/// `addresses_building_lines` (schema migration 6), so SQLite answers from the index alone.
const ADDRESS_LINES_SQL: &str = "SELECT id, district, town, community, grp, road, lane, number, \
     building, lon, lat FROM addresses WHERE building_id = ?1";

/// An address as answers list it: see [`Store::address_lines_of_building`].
#[derive(Debug, Clone, PartialEq)]
pub struct AddressLine {
    pub id: String,
    /// [`StandardAddress::canonical_text`].
    pub text: String,
    /// WGS84 lon/lat.
    pub point: Option<Point<f64>>,
}

fn none_if_empty(s: &str) -> Option<&str> {
    if s.is_empty() { None } else { Some(s) }
}

pub(crate) fn write_addresses<'a>(
    tx: &Transaction<'_>,
    rows: impl IntoIterator<Item = (&'a StandardAddress, &'a str)>,
) -> Result<usize> {
    let mut stmt = tx.prepare_cached(&format!(
        "INSERT INTO addresses ({ADDRESS_COLUMNS}) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)"
    ))?;
    let mut n = 0;
    for (a, text) in rows {
        stmt.execute(params![
            a.id,
            text,
            a.district,
            none_if_empty(&a.town.code),
            none_if_empty(&a.town.name),
            none_if_empty(&a.community.code),
            none_if_empty(&a.community.name),
            a.road,
            a.lane,
            a.number,
            a.group,
            a.poi,
            a.building,
            a.kind.as_str(),
            a.building_id,
            a.point.map(|p| p.x()),
            a.point.map(|p| p.y()),
            tags_json(&a.tags),
            a.status.as_str(),
        ])?;
        n += 1;
    }
    Ok(n)
}

fn address_from_row(row: &Row<'_>) -> Result<StandardAddress> {
    let kind: String = row.get(13)?;
    let status: String = row.get(18)?;
    let lon: Option<f64> = row.get(15)?;
    let lat: Option<f64> = row.get(16)?;
    let tags: String = row.get(17)?;
    Ok(StandardAddress {
        id: row.get(0)?,
        district: row.get(2)?,
        town: AdminRef {
            code: row.get::<_, Option<String>>(3)?.unwrap_or_default(),
            name: row.get::<_, Option<String>>(4)?.unwrap_or_default(),
        },
        community: AdminRef {
            code: row.get::<_, Option<String>>(5)?.unwrap_or_default(),
            name: row.get::<_, Option<String>>(6)?.unwrap_or_default(),
        },
        road: row.get(7)?,
        lane: row.get(8)?,
        number: row.get(9)?,
        group: row.get(10)?,
        poi: row.get(11)?,
        building: row.get(12)?,
        kind: kind.parse::<AddressKind>().map_err(Error::Corrupt)?,
        building_id: row.get(14)?,
        point: lon.zip(lat).map(|(x, y)| Point::new(x, y)),
        tags: tags_from_json(&tags)?,
        status: status.parse::<AddressStatus>().map_err(Error::Corrupt)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A column added to the query and not to the index would bring back one table lookup per
    /// address: SQLite must still call the index covering.
    #[test]
    fn a_buildings_address_lines_are_read_from_the_index_alone() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let plan: Vec<String> = store
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {ADDRESS_LINES_SQL}"))
            .unwrap()
            .query_map(["B1"], |row| row.get::<_, String>(3))
            .unwrap()
            .collect::<std::result::Result<_, _>>()
            .unwrap();
        assert_eq!(
            plan,
            ["SEARCH addresses USING COVERING INDEX addresses_building_lines (building_id=?)"]
        );
    }
}
