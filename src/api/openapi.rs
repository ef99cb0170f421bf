//! The OpenAPI 3.0 document of the API, written out here (one place, checked by the tests and by
//! schemathesis against the live server), and a docs page that renders it with no assets from
//! elsewhere.
//!
//! Written by hand rather than derived (utoipa) so the library's types need no HTTP annotations;
//! `tests/api` checks that every route of the router is in the document and the other way round.

use std::sync::LazyLock;

mod governance;
mod steward;

use axum::http::Method;
use serde_json::{Value, json};

use crate::Level;
use crate::crs::Crs;
use crate::search::MatchLevel;

fn qp(name: &str, description: &str, required: bool, schema: Value) -> Value {
    json!({"name": name, "in": "query", "required": required, "description": description, "schema": schema})
}

fn pp(name: &str, description: &str, example: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": description,
        "schema": {"type": "string"}, "example": example})
}

fn crs_param() -> Value {
    qp(
        "crs",
        "Coordinate system of points in and out: wgs84 (default, = CGCS2000), gcj02 (Amap), bd09 (Baidu).",
        false,
        json!({"type": "string", "enum": Crs::ALL.map(Crs::as_str)}),
    )
}

fn r(schema: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{schema}")})
}

fn ok(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema}}})
}

fn geo_ok(description: &str, schema: Value) -> Value {
    json!({"description": description, "content": {"application/geo+json": {"schema": schema}}})
}

/// The error responses every operation may give.
fn responses(success: (&str, Value)) -> Value {
    let error = json!({"description": "An error: 400 bad parameter or JSON, 401 no or bad key, 403 wrong role, 404 no such entity, 405, 409, 413 body or batch too large, 414 query too long, 415 not JSON, 422 JSON of the wrong shape or a map box too large, 503 busy or too slow, 500 internal.",
        "content": {"application/json": {"schema": r("Error")}}});
    json!({ success.0: success.1, "default": error })
}

fn op(
    tag: &str,
    summary: &str,
    description: &str,
    role: &str,
    params: Vec<Value>,
    success: (&str, Value),
) -> Value {
    let security = match role {
        "none" => json!([]),
        // Lookups: anonymous when the server allows it, else any key.
        "hotline" => json!([{}, {"bearer": []}]),
        _ => json!([{"bearer": []}]),
    };
    json!({
        "tags": [tag],
        "summary": summary,
        "description": format!("{description}\n\nRole: {role}."),
        "parameters": params,
        "security": security,
        "responses": responses(success),
    })
}

fn nullable(t: &str) -> Value {
    json!({"type": t, "nullable": true})
}

fn schemas() -> Value {
    let level_enum = json!(Level::ALL.map(Level::as_str));
    let match_level = json!(MatchLevel::ALL.map(MatchLevel::as_str));
    let mut m = serde_json::Map::new();
    m.insert("Error".into(), json!({"type": "object", "required": ["error"], "additionalProperties": false, "properties": {
            "error": {"type": "object", "required": ["code", "message"], "additionalProperties": false, "properties": {
                "code": {"type": "string", "example": "not_found"},
                "message": {"type": "string"}}}}}));
    m.insert("Candidate".into(), json!({"type": "object", "required": ["id", "address", "level", "score", "tie"], "properties": {
            "id": {"type": "string"}, "address": {"type": "string"},
            "level": {"type": "string", "enum": match_level}, "score": {"type": "number"}, "tie": {"type": "boolean"}}}));
    m.insert(
        "Correction".into(),
        json!({"type": "object", "required": ["from", "to", "why"], "properties": {
            "from": {"type": "string"}, "to": {"type": "string"},
            "why": {"type": "string", "enum": ["typo", "homophone", "old_name", "variant"]}}}),
    );
    m.insert("Match".into(), json!({"type": "object", "description": "A normalization result (the contract's fields).",
            "required": ["input", "id", "address", "level", "score", "town_code", "town", "community_code", "community", "building_id", "lon", "lat", "detail", "corrections", "candidates"],
            "properties": {
                "input": {"type": "string"}, "id": nullable("string"), "address": nullable("string"),
                "level": {"type": "string", "enum": match_level},
                "score": {"type": "number", "minimum": 0, "maximum": 1},
                "town_code": nullable("string"), "town": nullable("string"),
                "community_code": nullable("string"), "community": nullable("string"),
                "building_id": nullable("string"), "lon": nullable("number"), "lat": nullable("number"),
                "detail": nullable("string"),
                "corrections": {"type": "array", "items": r("Correction")},
                "candidates": {"type": "array", "items": r("Candidate")}}}));
    m.insert("NormalizeRequest".into(), json!({"type": "object", "required": ["addresses"], "additionalProperties": false, "properties": {
            "addresses": {"type": "array", "items": {"type": "string", "maxLength": 512}, "maxItems": 1000},
            "crs": {"type": "string", "enum": ["wgs84", "gcj02", "bd09", null], "nullable": true}}}));
    m.insert(
        "NormalizeResults".into(),
        json!({"type": "object", "required": ["results"], "properties": {
            "results": {"type": "array", "items": r("Match")}}}),
    );
    m.insert("Suggestions".into(), json!({"type": "object", "required": ["suggestions"], "properties": {
            "suggestions": {"type": "array", "items": {"type": "object", "required": ["id", "address"], "properties": {
                "id": {"type": "string"}, "address": {"type": "string"}}}}}}));
    m.insert("Component".into(), json!({"type": "object", "required": ["level", "text", "value", "start", "end", "confidence"], "properties": {
            "level": {"type": "string", "enum": level_enum}, "text": {"type": "string"}, "value": {"type": "string"},
            "start": {"type": "integer", "minimum": 0}, "end": {"type": "integer", "minimum": 0},
            "confidence": {"type": "number"}}}));
    m.insert("Parse".into(), json!({"type": "object", "required": ["input", "components", "near", "masked", "outside", "reason"], "properties": {
            "input": {"type": "string"},
            "components": {"type": "array", "items": r("Component")},
            "near": {"type": "object", "nullable": true},
            "masked": {"type": "array", "items": {"type": "object", "required": ["kind", "masked", "start", "end"], "properties": {
                "kind": {"type": "string", "enum": ["phone", "id_card"]}, "masked": {"type": "string"},
                "start": {"type": "integer"}, "end": {"type": "integer"}}}},
            "outside": {"type": "object", "nullable": true},
            "reason": nullable("string"),
            "inferred": {"type": "array", "items": {"type": "object"}},
            "ambiguous": {"type": "array", "items": {"type": "object"}}}}));
    m.insert("Comparison".into(), json!({"type": "object", "required": ["a", "b", "relation", "parted_at", "shared"], "properties": {
            "a": {"type": "string"}, "b": {"type": "string"},
            "relation": {"type": "string", "enum": ["same", "contains", "within", "different"]},
            "parted_at": {"type": "string", "enum": level_enum, "nullable": true},
            "shared": {"type": "array", "items": {"type": "string", "enum": level_enum}},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1, "nullable": true}}}));
    m.insert("AddressRef".into(), json!({"type": "object", "required": ["id", "address", "lon", "lat"], "properties": {
            "id": {"type": "string"}, "address": {"type": "string"}, "lon": nullable("number"), "lat": nullable("number")}}));
    m.insert("ReverseAnswer".into(), json!({"type": "object", "required": ["lon", "lat", "crs", "building_id", "inside", "distance_m", "addresses"], "properties": {
            "lon": {"type": "number"}, "lat": {"type": "number"},
            "crs": {"type": "string", "enum": ["wgs84", "gcj02", "bd09"]},
            "building_id": nullable("string"), "inside": {"type": "boolean"}, "distance_m": nullable("number"),
            "kind": {"type": "string"}, "floors": {"type": "integer"},
            "addresses": {"type": "array", "items": r("AddressRef")}}}));
    m.insert("BuildingProperties".into(), json!({"type": "object", "required": ["building_id", "kind", "floors", "addresses"], "properties": {
            "building_id": {"type": "string"}, "kind": {"type": "string"}, "floors": {"type": "integer"},
            "distance_m": {"type": "number"},
            "addresses": {"type": "array", "items": r("AddressRef")}}}));
    m.insert("Polygon".into(), json!({"type": "object", "required": ["type", "coordinates"], "properties": {
            "type": {"type": "string", "enum": ["Polygon"]},
            "coordinates": {"type": "array", "items": {"type": "array", "items": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 3}}}}}));
    m.insert("BuildingFeature".into(), json!({"type": "object", "required": ["type", "id", "geometry", "properties"], "properties": {
            "type": {"type": "string", "enum": ["Feature"]}, "id": {"type": "string"},
            "geometry": r("Polygon"), "properties": r("BuildingProperties")}}));
    m.insert("BuildingCollection".into(), json!({"type": "object", "required": ["type", "features", "matched", "truncated"], "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": r("BuildingFeature")},
            "matched": {"type": "integer", "description": "How many buildings matched before the limit."},
            "truncated": {"type": "boolean"}}}));
    m.insert(
        "Position".into(),
        json!({"type": "array", "items": {"type": "number", "minimum": -180, "maximum": 180}, "minItems": 2, "maxItems": 3}),
    );
    m.insert(
        "PolygonCoordinates".into(),
        json!({"type": "array", "minItems": 1, "items": {
        "type": "array", "minItems": 4, "items": r("Position")}}),
    );
    m.insert(
        "PolygonGeometry".into(),
        json!({"type": "object", "required": ["type", "coordinates"], "properties": {
        "type": {"type": "string", "enum": ["Polygon"]}, "coordinates": r("PolygonCoordinates")}}),
    );
    m.insert(
        "MultiPolygonGeometry".into(),
        json!({"type": "object", "required": ["type", "coordinates"], "properties": {
        "type": {"type": "string", "enum": ["MultiPolygon"]},
        "coordinates": {"type": "array", "minItems": 1, "items": r("PolygonCoordinates")}}}),
    );
    m.insert(
        "AreaFeature".into(),
        json!({"type": "object", "required": ["type", "geometry"], "properties": {
        "type": {"type": "string", "enum": ["Feature"]},
        "geometry": {"oneOf": [r("PolygonGeometry"), r("MultiPolygonGeometry")]}}}),
    );
    m.insert(
        "AreaFeatureCollection".into(),
        json!({"type": "object", "required": ["type", "features"], "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "features": {"type": "array", "minItems": 1, "items": r("AreaFeature")}}}),
    );
    m.insert("GeoJsonArea".into(), json!({
        "description": "A GeoJSON Polygon or MultiPolygon geometry, or a Feature or FeatureCollection of them (rings of at least 4 positions, in degrees; at most 2,000 vertices in all, else 413). The area must be a valid polygon (OGC simple features: no self-intersection, no overlapping parts), else 422.",
        "oneOf": [r("PolygonGeometry"), r("MultiPolygonGeometry"), r("AreaFeature"), r("AreaFeatureCollection")]}));
    m.insert("Address".into(), json!({"type": "object", "required": ["id", "address", "district", "kind", "status", "building_id", "lon", "lat", "crs", "tags", "links"], "properties": {
            "id": {"type": "string"}, "address": {"type": "string"}, "district": {"type": "string"},
            "town_code": nullable("string"), "town": nullable("string"),
            "community_code": nullable("string"), "community": nullable("string"),
            "road": nullable("string"), "lane": nullable("string"), "number": nullable("string"),
            "group": nullable("string"), "poi": nullable("string"), "building": nullable("string"),
            "kind": {"type": "string"}, "status": {"type": "string"},
            "building_id": nullable("string"), "lon": nullable("number"), "lat": nullable("number"),
            "crs": {"type": "string", "enum": ["wgs84", "gcj02", "bd09"]},
            "tags": {"type": "array", "items": {"type": "string"}},
            "links": {"type": "array", "items": {"type": "object", "required": ["building_id", "source", "method", "confidence"], "properties": {
                "building_id": {"type": "string"}, "source": {"type": "string"}, "method": {"type": "string"}, "confidence": {"type": "number"}}}}}}));
    m.insert(
        "Role".into(),
        json!({"type": "string", "enum": ["hotline", "gis", "steward", "admin"]}),
    );
    m.insert("CreateKey".into(), json!({"type": "object", "required": ["role"], "additionalProperties": false, "properties": {
            "role": r("Role"),
            "id": {"type": "string", "pattern": "^[A-Za-z0-9-]{1,64}$", "nullable": true, "description": "Default: ROLE-RANDOM."},
            "note": {"type": "string", "maxLength": 200, "nullable": true}}}));
    m.insert("CreatedKey".into(), json!({"type": "object", "required": ["id", "role", "key"], "properties": {
            "id": {"type": "string"}, "role": r("Role"), "note": nullable("string"),
            "key": {"type": "string", "description": "The key: shown once, stored only as a salted hash."}}}));
    m.insert("KeyList".into(), json!({"type": "object", "required": ["keys"], "properties": {
            "keys": {"type": "array", "items": {"type": "object", "required": ["id", "role", "source"], "properties": {
                "id": {"type": "string"}, "role": r("Role"),
                "source": {"type": "string", "enum": ["config", "data"]}, "note": {"type": "string"}}}}}}));
    m.insert("AuditEntries".into(), json!({"type": "object", "required": ["entries"], "properties": {
            "entries": {"type": "array", "items": {"type": "object", "required": ["id", "at", "actor", "action", "entity", "before", "after"], "properties": {
                "id": {"type": "integer"}, "at": {"type": "string"}, "actor": {"type": "string"},
                "action": {"type": "string"}, "entity": {"type": "string"},
                "before": {"nullable": true, "description": "The entity before, as JSON (an object; a tag list for tag.set)."},
                "after": {"nullable": true, "description": "The entity after, as JSON."}}}}}}));
    m.insert("MapView".into(), json!({"type": "object", "required": ["crs", "buildings", "roads", "truncated"], "properties": {
            "crs": {"type": "string", "enum": ["wgs84", "gcj02", "bd09"]},
            "buildings": {"type": "object", "required": ["type", "features"], "properties": {
                "type": {"type": "string", "enum": ["FeatureCollection"]},
                "features": {"type": "array", "items": {"type": "object", "required": ["type", "id", "geometry", "properties"], "properties": {
                    "type": {"type": "string", "enum": ["Feature"]}, "id": {"type": "string"}, "geometry": r("Polygon"),
                    "properties": {"type": "object", "required": ["building_id", "kind", "floors", "address", "address_count"], "properties": {
                        "building_id": {"type": "string"}, "kind": {"type": "string"}, "floors": {"type": "integer"},
                        "address": {"type": "string", "nullable": true, "description": "The building's first standard address (its label)."},
                        "address_count": {"type": "integer"}}}}}}}},
            "roads": {"type": "object", "required": ["type", "features"], "properties": {
                "type": {"type": "string", "enum": ["FeatureCollection"]},
                "features": {"type": "array", "items": {"type": "object", "required": ["type", "id", "geometry", "properties"], "properties": {
                    "type": {"type": "string", "enum": ["Feature"]}, "id": {"type": "string"},
                    "geometry": {"type": "object", "required": ["type", "coordinates"], "properties": {
                        "type": {"type": "string", "enum": ["LineString", "MultiLineString"]}, "coordinates": {"type": "array"}}},
                    "properties": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}}}}}},
            "truncated": {"type": "boolean", "description": "More than 5,000 buildings or roads were in the box; the first 5,000 of each are given."}}}));
    m.insert("BatchJob".into(), json!({"type": "object", "description": "A batch job. counts are final when status is done (zeros before).",
            "required": ["id", "status", "file_name", "column", "format", "rows_done", "rows_total", "counts", "created_at", "finished_at", "error", "result"],
            "additionalProperties": false, "properties": {
                "id": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
                "status": {"type": "string", "enum": ["queued", "running", "done", "failed"]},
                "file_name": {"type": "string"}, "column": {"type": "string", "description": "The address column's header."},
                "format": {"type": "string", "enum": ["csv", "xlsx"]},
                "rows_done": {"type": "integer", "minimum": 0},
                "rows_total": {"type": "integer", "minimum": 0, "nullable": true},
                "counts": {"type": "object", "required": ["ok", "partial", "not_found", "error"], "properties": {
                    "ok": {"type": "integer"}, "partial": {"type": "integer"}, "not_found": {"type": "integer"}, "error": {"type": "integer"}}},
                "created_at": {"type": "string", "format": "date-time"},
                "finished_at": {"type": "string", "format": "date-time", "nullable": true},
                "error": {"type": "object", "nullable": true, "required": ["code", "message"], "properties": {
                    "code": {"type": "string", "enum": ["bad_input", "interrupted", "internal"]}, "message": {"type": "string"}}},
                "result": {"type": "string", "nullable": true, "description": "Where to download the result, once done."}}}));
    m.insert("BatchInspection".into(), json!({"type": "object", "required": ["columns", "suggested_column", "encoding", "sheets", "preview"],
            "additionalProperties": false, "properties": {
                "columns": {"type": "array", "items": {"type": "string"}},
                "suggested_column": {"type": "string", "nullable": true, "description": "The first column named like 地址 or address."},
                "encoding": {"type": "string", "description": "utf-8, gb18030 (reads GBK and GB2312 too) or xlsx."},
                "sheets": {"type": "array", "items": {"type": "string"}, "description": "A workbook's sheets; empty for CSV/TSV."},
                "preview": {"type": "array", "maxItems": 5, "items": {"type": "array", "items": {"type": "string"}}}}}));
    m.insert("Coverage".into(), json!({"type": "object", "required": ["name", "whole_city", "divisions", "extent", "center"],
            "additionalProperties": false, "properties": {
                "name": {"type": "string", "description": "嘉定区, 嘉定区、青浦区, or 上海市 for the whole city."},
                "whole_city": {"type": "boolean"},
                "divisions": {"type": "array", "items": {"type": "object", "required": ["code", "name"], "properties": {
                    "code": {"type": "string", "description": "12-digit statistical code."}, "name": {"type": "string"}}}},
                "extent": {"type": "array", "nullable": true, "minItems": 4, "maxItems": 4, "items": {"type": "number"},
                    "description": "min lon, min lat, max lon, max lat of the buildings (WGS84); null with none."},
                "center": {"type": "array", "nullable": true, "minItems": 2, "maxItems": 2, "items": {"type": "number"},
                    "description": "Where a map should open: the middle of the building nearest the extent's middle."}}}));
    m.insert("Health".into(), json!({"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}}));
    m.insert("Ready".into(), json!({"type": "object", "required": ["status", "addresses", "buildings"], "properties": {
            "status": {"type": "string"}, "addresses": {"type": "integer"}, "buildings": {"type": "integer"},
            "indexed_buildings": {"type": "integer"}}}));
    Value::Object(m)
}

/// The syntax of a `bbox=` parameter: four plain decimal numbers.
pub const BBOX_PATTERN: &str = r"^ *-?[0-9]+(\.[0-9]+)? *(, *-?[0-9]+(\.[0-9]+)? *){3}$";

/// The OpenAPI document.
pub fn document() -> Value {
    let addr_q =
        |name: &str, d: &str| qp(name, d, true, json!({"type": "string", "maxLength": 512}));
    let lon = |req: bool| {
        qp(
            "lon",
            "Longitude (in crs).",
            req,
            json!({"type": "number", "minimum": -180, "maximum": 180}),
        )
    };
    let lat = |req: bool| {
        qp(
            "lat",
            "Latitude (in crs).",
            req,
            json!({"type": "number", "minimum": -90, "maximum": 90}),
        )
    };
    let limit = qp(
        "limit",
        "At most this many buildings (default 1000).",
        false,
        json!({"type": "integer", "minimum": 1, "maximum": 10000}),
    );
    let mut normalize_post = op(
        "lookup",
        "Normalize many addresses",
        "Up to 1,000 addresses in one request; results in input order.",
        "hotline",
        vec![],
        (
            "200",
            ok("One result per address, in order.", r("NormalizeResults")),
        ),
    );
    normalize_post["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": r("NormalizeRequest")}}});
    let mut within = op(
        "spatial",
        "Buildings within a polygon",
        "Buildings intersecting the GeoJSON polygons of the body (with contained=true: entirely inside), as a FeatureCollection.",
        "gis",
        vec![
            qp(
                "contained",
                "Only buildings entirely inside.",
                false,
                json!({"type": "boolean"}),
            ),
            limit.clone(),
            crs_param(),
        ],
        ("200", geo_ok("Buildings.", r("BuildingCollection"))),
    );
    within["requestBody"] =
        json!({"required": true, "content": {"application/json": {"schema": r("GeoJsonArea")}}});
    let mut create_key = op(
        "admin",
        "Create an API key",
        "A new key with a role. The key is returned once; only its salted hash is stored. Audited.",
        "admin",
        vec![],
        ("201", ok("The key.", r("CreatedKey"))),
    );
    create_key["requestBody"] =
        json!({"required": true, "content": {"application/json": {"schema": r("CreateKey")}}});
    let (batch_inspect, batch_create, batch_job, batch_remove, batch_result) = batch_operations();
    let text = |d: &str| json!({"description": d, "content": {"text/plain": {"schema": {"type": "string"}}}});
    let html = json!({"description": "The docs page.", "content": {"text/html": {"schema": {"type": "string"}}}});
    let mut doc = json!({
        "openapi": "3.0.3",
        "info": {
            "title": "dizhi",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Chinese address standardization and building footprints for the Shanghai districts a data directory covers (GET /v1/coverage). Errors are always {\"error\": {\"code\", \"message\"}}. Keys: Authorization: Bearer KEY; roles hotline (lookups), gis (lookups, spatial, export), steward (lookups, spatial, writes), admin (everything)."
        },
        "servers": [{"url": "/"}],
        "tags": [
            {"name": "lookup", "description": "Text lookups (role hotline and up)."},
            {"name": "spatial", "description": "Buildings and points (reverse, one building and the map view: hotline; queries and export: gis)."},
            {"name": "batch", "description": "Batch jobs: upload a CSV/TSV/XLSX, watch it, download the result (role hotline and up; a job is seen by the key that made it only)."},
            {"name": "admin", "description": "Keys and the audit log (role admin)."},
            {"name": "ops", "description": "Health, readiness, metrics, this document."}
        ],
        "paths": {
            "/healthz": {"get": op("ops", "Liveness", "The process is up.", "none", vec![], ("200", ok("Up.", r("Health"))))},
            "/readyz": {"get": op("ops", "Readiness", "The store answers and the indexes are loaded.", "none", vec![], ("200", ok("Ready.", r("Ready"))))},
            "/metrics": {"get": op("ops", "Prometheus metrics", "Request counts and latency histograms per route.", "none", vec![], ("200", text("Prometheus text format.")))},
            "/openapi.json": {"get": op("ops", "This document", "The OpenAPI 3.0 document.", "none", vec![], ("200", ok("The document.", json!({"type": "object"}))))},
            "/docs": {"get": op("ops", "Docs page", "A readable rendering of this document.", "none", vec![], ("200", html))},
            "/v1/normalize": {
                "get": op("lookup", "Normalize an address",
                    "Free text → the standard address, match level, calibrated score, codes, building and point.", "hotline",
                    vec![addr_q("q", "The address text."), crs_param()],
                    ("200", ok("The result.", r("Match")))),
                "post": normalize_post
            },
            "/v1/suggest": {"get": op("lookup", "Suggest completions",
                "Standard addresses completing a partially typed input.", "hotline",
                vec![addr_q("q", "What has been typed."), qp("limit", "How many (default 10).", false, json!({"type": "integer", "minimum": 1, "maximum": 50}))],
                ("200", ok("Completions.", r("Suggestions"))))},
            "/v1/coverage": {"get": op("lookup", "What the data covers",
                "The districts the data directory covers (an address elsewhere is `outside`), the box around its buildings and where a map should open.", "hotline",
                vec![], ("200", ok("The coverage.", r("Coverage"))))},
            "/v1/parse": {"get": op("lookup", "Parse an address",
                "Components with levels, values and character spans; phone and ID numbers masked.", "hotline",
                vec![addr_q("q", "The address text.")], ("200", ok("The parse.", r("Parse"))))},
            "/v1/compare": {"get": op("lookup", "Compare two addresses",
                "Same, contains, within or different, and the level where they part.", "hotline",
                vec![addr_q("a", "The first address."), addr_q("b", "The second address.")],
                ("200", ok("The comparison.", r("Comparison"))))},
            "/v1/reverse": {"get": op("spatial", "Reverse lookup",
                "The building containing the point, or the nearest within radius metres, with its addresses.", "hotline",
                vec![lon(true), lat(true), qp("radius", "Metres (default 50).", false, json!({"type": "number", "minimum": 0, "maximum": 5000})), crs_param()],
                ("200", ok("The answer (building_id null when nothing is near).", r("ReverseAnswer"))))},
            "/v1/addresses/{id}": {"get": op("lookup", "A standard address",
                "One standard address with its components, codes, building, point and links.", "hotline",
                vec![pp("id", "The standard address id.", "A00000001"), crs_param()], ("200", ok("The address.", r("Address"))))},
            "/v1/buildings/{id}": {"get": op("spatial", "A building",
                "One building as a GeoJSON Feature with its addresses.", "hotline",
                vec![pp("id", "The building id.", "B00000002"), crs_param()], ("200", geo_ok("The building.", r("BuildingFeature"))))},
            "/v1/map": {"get": op("spatial", "A map view",
                "The footprints (labelled with their first address and address count) and the road centre lines in a box of at most 0.05° a side (else 422 box_too_large), at most 5,000 of each: what the web page draws.", "hotline",
                vec![qp("bbox", "MINLON,MINLAT,MAXLON,MAXLAT (in crs), plain decimal numbers, at most 0.05° a side.", true,
                        json!({"type": "string", "pattern": BBOX_PATTERN})), crs_param()],
                ("200", ok("Buildings and roads.", r("MapView"))))},
            "/v1/buildings": {"get": op("spatial", "Buildings in a box",
                "Buildings intersecting the box, as a GeoJSON FeatureCollection.", "gis",
                vec![qp("bbox", "MINLON,MINLAT,MAXLON,MAXLAT (in crs), plain decimal numbers.", true,
                        json!({"type": "string", "pattern": BBOX_PATTERN})), limit.clone(), crs_param()],
                ("200", geo_ok("Buildings.", r("BuildingCollection"))))},
            "/v1/buildings/at": {"get": op("spatial", "The building at a point",
                "The building containing the point (none or one), as a GeoJSON FeatureCollection.", "gis",
                vec![lon(true), lat(true), crs_param()],
                ("200", geo_ok("Buildings.", r("BuildingCollection"))))},
            "/v1/buildings/near": {"get": op("spatial", "Buildings near a point",
                "Buildings within radius metres of the point, nearest first, as a GeoJSON FeatureCollection.", "gis",
                vec![lon(true), lat(true), qp("radius", "Metres.", true, json!({"type": "number", "minimum": 0, "maximum": 5000})), limit.clone(), crs_param()],
                ("200", geo_ok("Buildings.", r("BuildingCollection"))))},
            "/v1/buildings/within": {"post": within},
            "/v1/export/buildings": {"get": op("spatial", "Export buildings",
                "Every building with its first address, as GeoJSON or GeoPackage (QGIS opens both).", "gis",
                vec![qp("format", "geojson (default) or gpkg.", false, json!({"type": "string", "enum": ["geojson", "gpkg"]}))],
                ("200", json!({"description": "The file.", "content": {
                    "application/geo+json": {"schema": {"type": "object"}},
                    "application/geopackage+sqlite3": {"schema": {"type": "string", "format": "binary"}}}})))},
            "/v1/admin/keys": {
                "get": op("admin", "List API keys", "Every key's id, role and source; never secrets.", "admin", vec![], ("200", ok("Keys.", r("KeyList")))),
                "post": create_key
            },
            "/v1/admin/keys/{id}": {"delete": op("admin", "Revoke an API key",
                "Revokes a key created through the API (config keys are changed in the config). Audited.", "admin",
                vec![pp("id", "The key id.", "no-such-key")], ("204", json!({"description": "Revoked."})))},
            "/v1/admin/audit": {"get": op("admin", "The audit log",
                "The most recent writes, newest first.", "admin",
                vec![qp("limit", "How many (default 100).", false, json!({"type": "integer", "minimum": 1, "maximum": 1000}))],
                ("200", ok("Entries.", r("AuditEntries"))))},
            "/v1/batch/inspect": {"post": batch_inspect},
            "/v1/batch": {"post": batch_create},
            "/v1/batch/{id}": {"get": batch_job, "delete": batch_remove},
            "/v1/batch/{id}/result": {"get": batch_result}
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "An API key: dzk_ID_SECRET."}},
            "schemas": schemas()
        }
    });
    governance::add(&mut doc);
    steward::add(&mut doc);
    doc
}

/// The batch job operations: inspect, create, get, delete, result.
fn batch_operations() -> (Value, Value, Value, Value, Value) {
    let file = json!({"type": "string", "format": "binary",
        "description": "A CSV or TSV (UTF-8 or GBK/GB18030) or an XLSX/XLSB workbook, at most 64 MiB by default ([jobs] max_upload_bytes)."});
    let sheet = json!({"type": "string", "description": "A workbook's sheet (default: the first); 422 with a CSV/TSV file."});
    let form = |properties: Value| {
        json!({"required": true, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file"], "additionalProperties": false, "properties": properties}}}})
    };
    let id = json!({"name": "id", "in": "path", "required": true, "description": "The job id.",
        "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"}, "example": "00000000000000000000000000000000"});
    let mut inspect = op(
        "batch",
        "Inspect an upload",
        "The file's columns, the suggested address column, its encoding, a workbook's sheets and its first rows, so the address column can be picked before a job starts. Nothing is kept.",
        "hotline",
        vec![],
        ("200", ok("What the file holds.", r("BatchInspection"))),
    );
    inspect["requestBody"] = form(json!({"file": file, "sheet": sheet}));
    // The refusals of an upload, each listed, in the error shape.
    let refusals = |op: &mut Value, codes: &[(&str, &str)]| {
        for (code, why) in codes {
            op["responses"][*code] = json!({"description": why,
                "content": {"application/json": {"schema": r("Error")}}});
        }
    };
    let upload_refusals = [
        (
            "413",
            "Over the upload size, or a sheet spanning more cells than are read.",
        ),
        ("415", "Not multipart/form-data."),
        (
            "422",
            "No file, an unreadable or empty one, an unknown field, or a sheet named for a CSV/TSV file.",
        ),
        ("503", "Batch jobs are off."),
    ];
    refusals(&mut inspect, &upload_refusals);
    let mut create = op(
        "batch",
        "Start a batch job",
        "Normalizes the address column of every row; the result has every input column, then the dizhi_ columns, one row per input row, in order. 413 over the upload size or row limit, 422 for an unreadable file or an unknown column, 503 when the queue is full.",
        "hotline",
        vec![],
        (
            "202",
            json!({"description": "The job, queued.",
            "headers": {"Location": {"description": "The job's URL.", "schema": {"type": "string"}}},
            "content": {"application/json": {"schema": r("BatchJob")}}}),
        ),
    );
    create["requestBody"] = form(json!({
        "file": file,
        "column": {"type": "string", "description": "The address column: a header, or a 1-based index. Default: the first header containing 地址 or address (422 when none does)."},
        "sheet": sheet,
        "format": {"type": "string", "enum": ["csv", "xlsx"], "description": "The result's format (default csv)."}}));
    refusals(&mut create, &upload_refusals);
    refusals(
        &mut create,
        &[
            (
                "413",
                "Over the upload size or the row limit, or a sheet spanning more cells than are read.",
            ),
            (
                "422",
                "No file, an unreadable or empty one, an unknown field or column, or a sheet named for a CSV/TSV file.",
            ),
            (
                "503",
                "Batch jobs are off, or the queue is full: try again later.",
            ),
        ],
    );
    let job = op(
        "batch",
        "A batch job",
        "Its status and progress (rows_done of rows_total).",
        "hotline",
        vec![id.clone()],
        ("200", ok("The job.", r("BatchJob"))),
    );
    let remove = op(
        "batch",
        "Remove a batch job",
        "Cancels the job if it runs, and removes it and its files.",
        "hotline",
        vec![id.clone()],
        ("204", json!({"description": "Removed."})),
    );
    let result = op(
        "batch",
        "A batch job's result",
        "The result file, as an attachment named after the upload (NAME-dizhi.csv or .xlsx). 409 while the job is not done.",
        "hotline",
        vec![id],
        (
            "200",
            json!({"description": "The file.", "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": {"type": "string", "format": "binary"}}}}),
        ),
    );
    (inspect, create, job, remove, result)
}

/// The document as JSON text, made once.
pub fn document_json() -> &'static str {
    static DOC: LazyLock<String> = LazyLock::new(|| document().to_string());
    &DOC
}

/// Every (method, path) of the document.
///
/// # Examples
/// ```
/// let ops = dizhi::api::openapi::operations();
/// assert!(ops.iter().any(|(m, p)| m == "GET" && p == "/v1/normalize"));
/// assert!(ops.iter().any(|(m, p)| m == "POST" && p == "/v1/normalize"));
/// ```
pub fn operations() -> Vec<(Method, String)> {
    let doc = document();
    let mut out = Vec::new();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            for method in item.as_object().into_iter().flat_map(|o| o.keys()) {
                if let Ok(m) = Method::from_bytes(method.to_ascii_uppercase().as_bytes()) {
                    out.push((m, path.clone()));
                }
            }
        }
    }
    out
}

/// The docs page: fetches /openapi.json and lists every operation with its parameters, role and
/// responses, and a form to try the GET ones. No CDN, no external assets.
pub const DOCS_HTML: &str = include_str!("docs.html");
