//! The governance part of the OpenAPI document: the anomaly queue, address tags, objections.

use serde_json::{Value, json};

use crate::fuse::{EntityKind, Severity, Status};

use super::{nullable, ok, op, pp, qp, r};

fn body(schema: &str) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": r(schema)}}})
}

fn anomaly_id() -> Value {
    json!({"name": "id", "in": "path", "required": true, "description": "The anomaly id.",
        "schema": {"type": "integer", "format": "int64"}, "example": 1})
}

fn schemas() -> Vec<(&'static str, Value)> {
    let status = json!({"type": "string", "enum": Status::ALL.map(Status::as_str)});
    let anomaly_props = json!({
        "id": {"type": "integer"}, "rule": {"type": "string"}, "kind": {"type": "string"},
        "severity": {"type": "string", "enum": Severity::ALL.map(Severity::as_str)}, "entity_kind": {"type": "string", "enum": EntityKind::ALL.map(EntityKind::as_str)},
        "entity_id": {"type": "string"}, "source": nullable("string"), "record_key": nullable("string"),
        "message": {"type": "string"}, "detail": {"type": "object"}, "status": status,
        "assignee": nullable("string"), "created_at": {"type": "string"}, "updated_at": nullable("string")});
    let required = [
        "id",
        "rule",
        "kind",
        "severity",
        "entity_kind",
        "entity_id",
        "message",
        "detail",
        "status",
        "assignee",
        "created_at",
    ];
    let detailed_required: Vec<&str> = required
        .iter()
        .chain(&["reviews", "history"])
        .copied()
        .collect();
    let mut detailed = anomaly_props.clone();
    detailed["reviews"] = json!({"type": "array", "description": "Decisions, comments and assignments, oldest first.",
        "items": {"type": "object", "required": ["reviewer", "decision", "at"], "properties": {
            "reviewer": {"type": "string"},
            "decision": {"type": "string", "enum": ["confirmed", "rejected", "resolved", "comment", "assigned", "reopened"]},
            "note": nullable("string"), "at": {"type": "string"}}}});
    detailed["history"] = json!({"type": "array", "description": "The audit log of this anomaly, oldest first.",
        "items": {"type": "object", "required": ["id", "at", "actor", "action", "before", "after"], "properties": {
            "id": {"type": "integer"}, "at": {"type": "string"}, "actor": {"type": "string"},
            "action": {"type": "string", "enum": ["anomaly.create", "anomaly.transition", "anomaly.comment", "anomaly.assign", "anomaly.reopen"]},
            "before": {"type": "object", "nullable": true}, "after": {"type": "object", "nullable": true}}}});
    vec![
        ("AnomalyStatus", status.clone()),
        (
            "Anomaly",
            json!({"type": "object", "required": required, "properties": anomaly_props}),
        ),
        (
            "AnomalyDetail",
            json!({"type": "object", "required": detailed_required, "properties": detailed}),
        ),
        (
            "AnomalyPage",
            json!({"type": "object", "required": ["anomalies", "next_after"], "properties": {
            "anomalies": {"type": "array", "items": r("Anomaly")},
            "next_after": {"type": "integer", "nullable": true, "description": "The after= of the next page; null on the last."}}}),
        ),
        (
            "AnomalySummary",
            json!({"type": "object", "required": ["total", "by_status", "by_rule"], "properties": {
            "total": {"type": "integer"},
            "by_status": {"type": "object", "additionalProperties": {"type": "integer"}},
            "by_rule": {"type": "array", "items": {"type": "object", "required": ["rule", "status", "count"], "properties": {
                "rule": {"type": "string"}, "status": {"type": "string"}, "count": {"type": "integer"}}}}}}),
        ),
        (
            "StatusChange",
            json!({"type": "object", "required": ["status"], "additionalProperties": false, "properties": {
            "status": {"type": "string", "enum": ["confirmed", "rejected", "resolved"], "description": "open → confirmed | rejected → resolved; any other move is 409."},
            "note": {"type": "string", "minLength": 1, "pattern": "\\S", "maxLength": 2000, "nullable": true}}}),
        ),
        (
            "Comment",
            json!({"type": "object", "required": ["text"], "additionalProperties": false, "properties": {
            "text": {"type": "string", "minLength": 1, "pattern": "\\S", "maxLength": 2000}}}),
        ),
        (
            "Assignee",
            json!({"type": "object", "required": ["assignee"], "additionalProperties": false, "properties": {
            "assignee": {"type": "string", "minLength": 1, "pattern": "\\S", "maxLength": 100, "description": "The responsible 街镇."}}}),
        ),
        (
            "TagVocabulary",
            json!({"type": "object", "required": ["tags"], "properties": {
            "tags": {"type": "array", "items": {"type": "object", "required": ["tag", "addresses"], "properties": {
                "tag": {"type": "string"}, "addresses": {"type": "integer"}}}}}}),
        ),
        (
            "TaggedAddresses",
            json!({"type": "object", "required": ["tag", "addresses"], "properties": {
            "tag": {"type": "string"},
            "addresses": {"type": "array", "items": {"type": "object", "required": ["id", "address"], "properties": {
                "id": {"type": "string"}, "address": nullable("string")}}}}}),
        ),
        (
            "Tags",
            json!({"type": "object", "required": ["tags"], "additionalProperties": false, "properties": {
            "tags": {"type": "array", "maxItems": 50, "items": {"type": "string", "minLength": 1, "pattern": "\\S", "maxLength": 50}}}}),
        ),
        (
            "AddressTags",
            json!({"type": "object", "required": ["address_id", "tags"], "properties": {
            "address_id": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}}}),
        ),
        (
            "Objection",
            json!({"type": "object", "required": ["address_id", "note"], "additionalProperties": false, "properties": {
            "address_id": {"type": "string", "description": "A standard address id (404 if unknown)."},
            "note": {"type": "string", "minLength": 1, "pattern": "\\S", "maxLength": 2000, "description": "What is wrong. Phone and ID-card numbers are masked before it is stored."}}}),
        ),
    ]
}

fn paths() -> Vec<(&'static str, Value)> {
    let filter = |name: &str, d: &str| qp(name, d, false, json!({"type": "string"}));
    let list = op(
        "governance",
        "The anomaly queue",
        "Anomalies by id, one page at a time (keyset: pass the answer's next_after as after=).",
        "gis",
        vec![
            qp("status", "Only this status.", false, r("AnomalyStatus")),
            filter("rule", "Only this rule (unknown_road, objection, …)."),
            filter(
                "kind",
                "Only this sub-kind of a rule (typo, town, …; empty for none).",
            ),
            filter("assignee", "Only this assignee (街镇)."),
            filter("source", "Only about records of this source."),
            qp(
                "severity",
                "Only this severity.",
                false,
                json!({"type": "string", "enum": Severity::ALL.map(Severity::as_str)}),
            ),
            filter(
                "address_id",
                "Only about this standard address, directly or through a source record fused to it.",
            ),
            filter(
                "town",
                "Only about standard addresses in this 街镇 (name or 12-digit code).",
            ),
            qp(
                "after",
                "Only ids greater than this.",
                false,
                json!({"type": "integer", "format": "int64"}),
            ),
            qp(
                "limit",
                "How many (default 50).",
                false,
                json!({"type": "integer", "minimum": 1, "maximum": 500}),
            ),
        ],
        ("200", ok("A page.", r("AnomalyPage"))),
    );
    let summary = op(
        "governance",
        "Anomaly counts",
        "Counts per status, and per rule and status.",
        "gis",
        vec![],
        ("200", ok("Counts.", r("AnomalySummary"))),
    );
    let one = op(
        "governance",
        "An anomaly",
        "One anomaly with its reviews (decisions, comments, assignments) and its history of changes (the audit log).",
        "gis",
        vec![anomaly_id()],
        ("200", ok("The anomaly.", r("AnomalyDetail"))),
    );
    let write = |summary: &str, d: &str, code: &str, schema: &str| {
        let mut o = op(
            "governance",
            summary,
            &format!(
                "{d} Audited (who, when, before, after) in the same transaction as the change."
            ),
            "steward",
            vec![anomaly_id()],
            (
                code,
                ok("The anomaly after the change.", r("AnomalyDetail")),
            ),
        );
        o["requestBody"] = body(schema);
        o
    };
    let status = write(
        "Review an anomaly",
        "open → confirmed | rejected, confirmed | rejected → resolved, with an optional note. Any other move is 409 and changes nothing.",
        "200",
        "StatusChange",
    );
    let comment = write("Comment on an anomaly", "Adds a comment.", "201", "Comment");
    let assign = write(
        "Reassign an anomaly",
        "Gives the anomaly to another 街镇.",
        "200",
        "Assignee",
    );
    let vocabulary = op(
        "governance",
        "Address tags",
        "The tag vocabulary (地址标签), with how many addresses carry each tag.",
        "hotline",
        vec![],
        ("200", ok("Tags.", r("TagVocabulary"))),
    );
    let tagged = op(
        "governance",
        "Addresses with a tag",
        "The standard addresses carrying a tag, by id.",
        "hotline",
        vec![
            pp("tag", "The tag.", "学校"),
            qp(
                "limit",
                "How many (default 100).",
                false,
                json!({"type": "integer", "minimum": 1, "maximum": 1000}),
            ),
        ],
        ("200", ok("Addresses.", r("TaggedAddresses"))),
    );
    let mut set_tags = op(
        "governance",
        "Set an address's tags",
        "The address's tags become exactly these (trimmed, sorted, without repeats); new tags join the vocabulary. Audited (before, after) in the same transaction.",
        "steward",
        vec![pp("id", "The standard address id.", "A00000001")],
        ("200", ok("The tags after.", r("AddressTags"))),
    );
    set_tags["requestBody"] = body("Tags");
    let mut objection = op(
        "governance",
        "File an objection",
        "Says a standard address is wrong, with a note: it becomes an anomaly of rule objection, assigned to the address's 街镇 (201). A later objection to the same address goes to its objection anomaly (200): as a comment while it is open or confirmed; a rejected or resolved one is re-opened, back in the open queue. A write that cannot get the database within 4 s is 503 busy and not applied. A key is required even where lookups are anonymous. Phone and ID-card numbers in the note are masked before it is stored. Audited.",
        "hotline",
        vec![],
        ("201", ok("The anomaly it became.", r("AnomalyDetail"))),
    );
    objection["security"] = json!([{"bearer": []}]);
    objection["responses"]["200"] = ok(
        "The address's existing objection, with the note added (re-opened if it was rejected or resolved).",
        r("AnomalyDetail"),
    );
    objection["requestBody"] = body("Objection");
    vec![
        ("/v1/anomalies", json!({"get": list})),
        ("/v1/anomalies/summary", json!({"get": summary})),
        ("/v1/anomalies/{id}", json!({"get": one})),
        ("/v1/anomalies/{id}/status", json!({"post": status})),
        ("/v1/anomalies/{id}/comments", json!({"post": comment})),
        ("/v1/anomalies/{id}/assignee", json!({"put": assign})),
        ("/v1/tags", json!({"get": vocabulary})),
        ("/v1/tags/{tag}/addresses", json!({"get": tagged})),
        ("/v1/addresses/{id}/tags", json!({"put": set_tags})),
        ("/v1/objections", json!({"post": objection})),
    ]
}

/// Adds the governance tag, paths and schemas to the document.
pub(super) fn add(doc: &mut Value) {
    if let Some(tags) = doc["tags"].as_array_mut() {
        tags.push(json!({"name": "governance",
            "description": "The anomaly queue (reads gis and up: it holds 12345 work-order text and objection notes; writes steward), address tags (reads hotline and up, writes steward) and objections (any key). Every write is audited."}));
    }
    for (path, item) in paths() {
        doc["paths"][path] = item;
    }
    for (name, schema) in schemas() {
        doc["components"]["schemas"][name] = schema;
    }
}
