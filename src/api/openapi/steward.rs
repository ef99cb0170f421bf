//! The steward view's part of the OpenAPI document: who the caller is, the evidence of an
//! anomaly, the dashboard and its report file.

use serde_json::{Value, json};

use super::{nullable, ok, op, qp, r};

fn schemas() -> Vec<(&'static str, Value)> {
    let point = json!({"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2, "nullable": true,
        "description": "lon, lat"});
    let status = json!({"type": "string", "enum": crate::fuse::Status::ALL.map(crate::fuse::Status::as_str)});
    vec![
        (
            "Me",
            json!({"type": "object", "required": ["key_id", "role", "town"], "properties": {
            "key_id": {"type": "string"}, "role": nullable("string"),
            "town": {"type": "string", "nullable": true, "description": "The 街镇 the key answers for (the key entry's town), if any."}}}),
        ),
        (
            "Evidence",
            json!({"type": "object", "required": ["addresses", "records", "truncated", "buildings", "distances"], "properties": {
            "addresses": {"type": "array", "items": {"type": "object",
                "required": ["id", "address", "town", "status", "building_id", "point", "links"], "properties": {
                "id": {"type": "string"}, "address": {"type": "string"}, "town": {"type": "string"},
                "status": {"type": "string", "enum": crate::AddressStatus::ALL.map(crate::AddressStatus::as_str)},
                "building_id": nullable("string"), "point": point,
                "links": {"type": "array", "items": {"type": "object", "properties": {
                    "address_id": {"type": "string"}, "building_id": {"type": "string"}, "source": {"type": "string"},
                    "method": {"type": "string"}, "confidence": {"type": "number"}}}}}}},
            "records": {"type": "array", "description": "The anomaly's own record first (concerned), then every record fused to its addresses, by source and key (at most 50 per address).",
                "items": {"type": "object", "required": ["source", "record_key", "raw", "concerned", "point"], "properties": {
                "source": {"type": "string"}, "record_key": {"type": "string"}, "line": {"type": "integer", "nullable": true},
                "raw": {"type": "object", "nullable": true}, "concerned": {"type": "boolean"},
                "address_id": nullable("string"), "building_id": nullable("string"), "match_level": nullable("string"),
                "score": {"type": "number", "nullable": true}, "link_method": nullable("string"),
                "fields": {"type": "object"}, "point": point}}},
            "truncated": {"type": "boolean"},
            "buildings": {"type": "object", "description": "The footprints involved (GeoJSON FeatureCollection, WGS84)."},
            "distances": {"type": "array", "items": {"type": "object", "required": ["from", "to", "metres"], "properties": {
                "from": {"type": "string"}, "to": {"type": "string"}, "metres": {"type": "number"}}}}}}),
        ),
        (
            "AnomalyEvidence",
            json!({"allOf": [r("AnomalyDetail"), {"type": "object", "required": ["evidence"], "properties": {"evidence": r("Evidence")}}]}),
        ),
        (
            "Dashboard",
            json!({"type": "object", "required": ["town", "total", "groups", "trend"], "properties": {
            "town": nullable("string"), "total": {"type": "integer"},
            "groups": {"type": "array", "items": {"type": "object", "required": ["town", "rule", "severity", "source", "status", "count"], "properties": {
                "town": nullable("string"), "rule": {"type": "string"}, "severity": {"type": "string"},
                "source": nullable("string"), "status": status, "count": {"type": "integer"}}}},
            "trend": {"type": "array", "items": {"type": "object", "required": ["week", "raised", "confirmed", "rejected", "resolved"], "properties": {
                "week": {"type": "string", "description": "Its Monday (UTC), YYYY-MM-DD."}, "raised": {"type": "integer"},
                "confirmed": {"type": "integer"}, "rejected": {"type": "integer"}, "resolved": {"type": "integer"}}}}}}),
        ),
    ]
}

fn paths() -> Vec<(&'static str, Value)> {
    let town = qp(
        "town",
        "Only the anomalies assigned to this 街镇.",
        false,
        json!({"type": "string", "maxLength": 100}),
    );
    let weeks = qp(
        "weeks",
        "How many weeks of trend (default 8).",
        false,
        json!({"type": "integer", "minimum": 1, "maximum": 104}),
    );
    let me = op(
        "governance",
        "Who am I",
        "The caller's key id, role, and the 街镇 its key entry names (a steward's own queue).",
        "hotline",
        vec![],
        ("200", ok("The caller.", r("Me"))),
    );
    let mut me = me;
    me["security"] = json!([{"bearer": []}]);
    let evidence = op(
        "governance",
        "An anomaly with its evidence",
        "The anomaly (reviews, history) and its evidence side by side: the standard addresses it concerns with their provenance, every source record about them (register, record id, raw text, point), the footprints, and the distance between every two points.",
        "gis",
        vec![
            json!({"name": "id", "in": "path", "required": true, "description": "The anomaly id.",
            "schema": {"type": "integer", "format": "int64"}, "example": 1}),
        ],
        (
            "200",
            ok("The anomaly and its evidence.", r("AnomalyEvidence")),
        ),
    );
    let dashboard = op(
        "governance",
        "The anomaly dashboard",
        "Anomaly counts by 街镇 (assignee), rule, severity, source and status, and the weekly trend (raised, confirmed, rejected, resolved).",
        "gis",
        vec![town.clone(), weeks.clone()],
        ("200", ok("Counts and trend.", r("Dashboard"))),
    );
    let mut report = op(
        "governance",
        "The anomaly report file",
        "The dashboard as a file for the 街镇 report: one row per 街镇 and rule with the counts by status (CSV, UTF-8 with BOM); the XLSX adds a sheet with the weekly trend.",
        "gis",
        vec![
            qp(
                "format",
                "csv (default) or xlsx.",
                false,
                json!({"type": "string", "enum": ["csv", "xlsx"]}),
            ),
            town,
            weeks,
        ],
        ("200", json!({"description": "The file."})),
    );
    report["responses"]["200"] = json!({"description": "The file.", "content": {
        "text/csv": {"schema": {"type": "string"}},
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": {"type": "string", "format": "binary"}}}});
    vec![
        ("/v1/me", json!({"get": me})),
        ("/v1/anomalies/{id}/evidence", json!({"get": evidence})),
        ("/v1/anomalies/dashboard", json!({"get": dashboard})),
        ("/v1/anomalies/report", json!({"get": report})),
    ]
}

/// Adds the steward view's paths and schemas to the document.
pub(super) fn add(doc: &mut Value) {
    for (path, item) in paths() {
        doc["paths"][path] = item;
    }
    for (name, schema) in schemas() {
        doc["components"]["schemas"][name] = schema;
    }
}
