//! The store's schema as an ordered list of migrations.
//!
//! `PRAGMA user_version` holds how many migrations a database has had. Opening a store applies the
//! missing ones in order, each in its own transaction; a store from a newer dizhi (a version we
//! don't know) is refused rather than guessed at. Migrations are only ever appended: once released,
//! a migration's SQL never changes.

use rusqlite::Connection;

use super::{Error, Result};

/// The migrations, in order; migration `i` takes a store from version `i` to `i + 1`.
///
/// # Examples
/// ```
/// assert_eq!(dizhi::store::SCHEMA_VERSION as usize, dizhi::store::MIGRATIONS.len());
/// assert!(dizhi::store::MIGRATIONS[0].contains("CREATE TABLE addresses"));
/// ```
pub const MIGRATIONS: &[&str] = &[
    // 1: the fused address–building data and its sources.
    r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE buildings (
    id        TEXT PRIMARY KEY,
    kind      TEXT NOT NULL,
    floors    INTEGER NOT NULL,
    -- WKB polygon, WGS84 lon/lat.
    footprint BLOB NOT NULL,
    -- The footprint's bounding box, so box queries and the R-tree need not decode WKB.
    min_lon   REAL NOT NULL,
    min_lat   REAL NOT NULL,
    max_lon   REAL NOT NULL,
    max_lat   REAL NOT NULL,
    tags      TEXT NOT NULL DEFAULT '[]'
);

CREATE TABLE addresses (
    id             TEXT PRIMARY KEY,
    -- The canonical full text, as the source wrote it.
    address        TEXT NOT NULL,
    district       TEXT NOT NULL,
    town_code      TEXT,
    town           TEXT,
    community_code TEXT,
    community      TEXT,
    road           TEXT,
    lane           TEXT,
    number         TEXT,
    -- `group` is an SQL keyword.
    grp            TEXT,
    poi            TEXT,
    building       TEXT,
    kind           TEXT NOT NULL,
    building_id    TEXT REFERENCES buildings(id) ON DELETE SET NULL,
    lon            REAL,
    lat            REAL,
    tags           TEXT NOT NULL DEFAULT '[]',
    status         TEXT NOT NULL DEFAULT 'current'
);
CREATE INDEX addresses_building_id ON addresses(building_id);
CREATE INDEX addresses_road ON addresses(road);
CREATE INDEX addresses_town_code ON addresses(town_code);

CREATE TABLE roads (
    id        TEXT PRIMARY KEY,
    name      TEXT NOT NULL,
    town_code TEXT,
    -- WKB linestring (or multilinestring), WGS84 lon/lat.
    geometry  BLOB
);
CREATE INDEX roads_name ON roads(name);

-- 居/村委 areas.
CREATE TABLE areas (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    level       TEXT NOT NULL,
    parent_code TEXT,
    -- WKB polygon (or multipolygon), WGS84 lon/lat.
    geometry    BLOB
);

CREATE TABLE sources (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    -- csv | geojson | truth
    kind         TEXT NOT NULL,
    path         TEXT,
    imported_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    record_count INTEGER NOT NULL DEFAULT 0
);

-- Every raw record of every source, kept as it came (its columns as a JSON object) so fusion can
-- always go back to what a source said.
CREATE TABLE source_records (
    id         INTEGER PRIMARY KEY,
    source_id  INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    record_key TEXT NOT NULL,
    line       INTEGER,
    raw        TEXT NOT NULL,
    -- WKB, for records that came with a geometry.
    geometry   BLOB,
    UNIQUE (source_id, record_key)
);

CREATE TABLE links (
    address_id  TEXT NOT NULL REFERENCES addresses(id) ON DELETE CASCADE,
    building_id TEXT NOT NULL REFERENCES buildings(id) ON DELETE CASCADE,
    source      TEXT NOT NULL,
    method      TEXT NOT NULL,
    confidence  REAL NOT NULL,
    PRIMARY KEY (address_id, building_id, source)
);
CREATE INDEX links_building_id ON links(building_id);
"#,
    // 2: data governance — quality anomalies, their review, the audit log and the tag vocabulary.
    r#"
CREATE TABLE anomalies (
    id          INTEGER PRIMARY KEY,
    rule        TEXT NOT NULL,
    severity    TEXT NOT NULL DEFAULT 'warning',
    -- address | building | source_record | link
    entity_kind TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    message     TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '{}',
    status      TEXT NOT NULL DEFAULT 'open',
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX anomalies_entity ON anomalies(entity_kind, entity_id);
CREATE INDEX anomalies_status ON anomalies(status);

CREATE TABLE reviews (
    id         INTEGER PRIMARY KEY,
    anomaly_id INTEGER NOT NULL REFERENCES anomalies(id) ON DELETE CASCADE,
    reviewer   TEXT NOT NULL,
    decision   TEXT NOT NULL,
    note       TEXT,
    at         TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
);
CREATE INDEX reviews_anomaly_id ON reviews(anomaly_id);

CREATE TABLE audit_log (
    id     INTEGER PRIMARY KEY,
    at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    before TEXT,
    after  TEXT
);
CREATE INDEX audit_log_entity ON audit_log(entity);

-- The vocabulary of address tags (地址标签); addresses carry theirs as a JSON array.
CREATE TABLE tags (
    name        TEXT PRIMARY KEY,
    category    TEXT,
    description TEXT
);
"#,
    // 3: fusion and governance — how each source is read, what each source record fused to, and
    // the review workflow's columns (the source record an anomaly concerns, its assignee).
    r#"
ALTER TABLE sources ADD COLUMN role TEXT;
ALTER TABLE sources ADD COLUMN mapping TEXT;

-- One row per source record after fusion: the standard address and building it stands for, how
-- they were found, and the fields as this source gives them (normalized) — per-field provenance.
CREATE TABLE fused_records (
    source      TEXT NOT NULL,
    record_key  TEXT NOT NULL,
    address_id  TEXT,
    building_id TEXT,
    match_level TEXT NOT NULL,
    score       REAL NOT NULL,
    link_method TEXT,
    fields      TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (source, record_key)
);
CREATE INDEX fused_records_address ON fused_records(address_id);
CREATE INDEX fused_records_building ON fused_records(building_id);

ALTER TABLE anomalies ADD COLUMN kind TEXT NOT NULL DEFAULT '';
ALTER TABLE anomalies ADD COLUMN source TEXT;
ALTER TABLE anomalies ADD COLUMN record_key TEXT;
ALTER TABLE anomalies ADD COLUMN assignee TEXT;
ALTER TABLE anomalies ADD COLUMN updated_at TEXT;
-- Re-running the rules never duplicates an anomaly (nor resets its review).
CREATE UNIQUE INDEX anomalies_identity ON anomalies(rule, kind, entity_kind, entity_id);
CREATE INDEX anomalies_source_record ON anomalies(source, record_key);
CREATE INDEX anomalies_assignee ON anomalies(assignee);
"#,
    // 4: the steward's dashboard, kept by triggers in the same transaction as every anomaly and
    // review write: anomaly counts by 街镇 (assignee), rule, severity, source and status, and by day
    // the anomalies raised and the decisions taken (under the assignee of the moment). The
    // dashboard reads a few hundred rows however many anomalies there are (140k: 300 ms → 1 ms).
    r#"
CREATE TABLE anomaly_counts (
    assignee TEXT,
    rule     TEXT NOT NULL,
    severity TEXT NOT NULL,
    source   TEXT,
    status   TEXT NOT NULL,
    n        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX anomaly_counts_key ON anomaly_counts(assignee, rule, severity, source, status);
INSERT INTO anomaly_counts (assignee, rule, severity, source, status, n)
    SELECT assignee, rule, severity, source, status, count(*) FROM anomalies GROUP BY 1, 2, 3, 4, 5;

-- event: raised | confirmed | rejected | resolved.
CREATE TABLE anomaly_days (
    day      TEXT NOT NULL,
    assignee TEXT,
    event    TEXT NOT NULL,
    n        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX anomaly_days_key ON anomaly_days(day, assignee, event);
INSERT INTO anomaly_days (day, assignee, event, n)
    SELECT substr(created_at, 1, 10), assignee, 'raised', count(*) FROM anomalies GROUP BY 1, 2;
INSERT INTO anomaly_days (day, assignee, event, n)
    SELECT substr(r.at, 1, 10), a.assignee, r.decision, count(*) FROM reviews r
    JOIN anomalies a ON a.id = r.anomaly_id
    WHERE r.decision IN ('confirmed', 'rejected', 'resolved') GROUP BY 1, 2, 3;

CREATE TRIGGER anomalies_counted_insert AFTER INSERT ON anomalies BEGIN
    INSERT INTO anomaly_counts (assignee, rule, severity, source, status)
        SELECT NEW.assignee, NEW.rule, NEW.severity, NEW.source, NEW.status
        WHERE NOT EXISTS (SELECT 1 FROM anomaly_counts WHERE assignee IS NEW.assignee AND rule = NEW.rule AND severity = NEW.severity
        AND source IS NEW.source AND status = NEW.status);
    UPDATE anomaly_counts SET n = n + 1 WHERE assignee IS NEW.assignee AND rule = NEW.rule AND severity = NEW.severity
        AND source IS NEW.source AND status = NEW.status;
    INSERT INTO anomaly_days (day, assignee, event) SELECT substr(NEW.created_at, 1, 10), NEW.assignee, 'raised'
        WHERE NOT EXISTS (SELECT 1 FROM anomaly_days WHERE day = substr(NEW.created_at, 1, 10) AND assignee IS NEW.assignee AND event = 'raised');
    UPDATE anomaly_days SET n = n + 1 WHERE day = substr(NEW.created_at, 1, 10) AND assignee IS NEW.assignee AND event = 'raised';
END;
CREATE TRIGGER anomalies_counted_update
AFTER UPDATE OF assignee, rule, severity, source, status ON anomalies BEGIN
    UPDATE anomaly_counts SET n = n - 1 WHERE assignee IS OLD.assignee AND rule = OLD.rule AND severity = OLD.severity
        AND source IS OLD.source AND status = OLD.status;
    INSERT INTO anomaly_counts (assignee, rule, severity, source, status)
        SELECT NEW.assignee, NEW.rule, NEW.severity, NEW.source, NEW.status
        WHERE NOT EXISTS (SELECT 1 FROM anomaly_counts WHERE assignee IS NEW.assignee AND rule = NEW.rule AND severity = NEW.severity
        AND source IS NEW.source AND status = NEW.status);
    UPDATE anomaly_counts SET n = n + 1 WHERE assignee IS NEW.assignee AND rule = NEW.rule AND severity = NEW.severity
        AND source IS NEW.source AND status = NEW.status;
END;
CREATE TRIGGER anomalies_counted_delete AFTER DELETE ON anomalies BEGIN
    UPDATE anomaly_counts SET n = n - 1 WHERE assignee IS OLD.assignee AND rule = OLD.rule AND severity = OLD.severity
        AND source IS OLD.source AND status = OLD.status;
END;
CREATE TRIGGER reviews_counted_insert AFTER INSERT ON reviews
WHEN NEW.decision IN ('confirmed', 'rejected', 'resolved') BEGIN
    INSERT INTO anomaly_days (day, assignee, event) SELECT substr(NEW.at, 1, 10), (SELECT assignee FROM anomalies WHERE id = NEW.anomaly_id), NEW.decision
        WHERE NOT EXISTS (SELECT 1 FROM anomaly_days WHERE day = substr(NEW.at, 1, 10) AND assignee IS (SELECT assignee FROM anomalies WHERE id = NEW.anomaly_id) AND event = NEW.decision);
    UPDATE anomaly_days SET n = n + 1 WHERE day = substr(NEW.at, 1, 10) AND assignee IS (SELECT assignee FROM anomalies WHERE id = NEW.anomaly_id) AND event = NEW.decision;
END;
"#,
    // 5: standard addresses built from registers — what stands behind each one: its door key (so
    // a later delivery keeps its id), the registers and records that name it, how sure the build
    // is, and which register gave which field.
    r#"
CREATE TABLE address_evidence (
    address_id TEXT PRIMARY KEY,
    door_key   TEXT NOT NULL,
    -- confirmed (two or more registers) | single_source | proposed (work orders only)
    support    TEXT NOT NULL,
    registers  TEXT NOT NULL,
    records    INTEGER NOT NULL,
    confidence REAL NOT NULL,
    fields     TEXT NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX address_evidence_door_key ON address_evidence(door_key);
"#,
    // 6: a building's addresses as answers list them, read from the index alone: a reverse lookup
    // at 10M addresses made one table lookup per address (3.1 per building) after the index's.
    // It serves every lookup by building the old index served.
    r#"
DROP INDEX addresses_building_id;
CREATE INDEX addresses_building_lines ON addresses(
    building_id, id, district, town, community, grp, road, lane, number, building, lon, lat
);
"#,
];

/// The schema version this dizhi writes: the number of [`MIGRATIONS`].
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// The schema version of an open database (`PRAGMA user_version`).
pub(crate) fn version(conn: &Connection) -> Result<u32> {
    Ok(conn.pragma_query_value(None, "user_version", |row| row.get(0))?)
}

/// Applies the migrations `conn` has not had yet, each in its own transaction.
pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    let found = version(conn)?;
    if found > SCHEMA_VERSION {
        return Err(Error::NewerSchema {
            found,
            known: SCHEMA_VERSION,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql).map_err(|source| Error::Migration {
            to: i as u32 + 1,
            source,
        })?;
        tx.pragma_update(None, "user_version", i as u32 + 1)?;
        tx.commit()?;
    }
    Ok(())
}
