//! Dry-run answers for qTest Manager API v3: an empty project whose automation
//! settings map PASS, FAIL and SKIP, where every create gets a made-up id.

use crate::sync::protocol::{HttpRequest, HttpResponse, Method};
use serde_json::{Value, json};

/// The answer to a request under `/api/v3/`, or `None` for other requests.
pub fn answer(request: &HttpRequest, counter: &mut u64) -> Option<HttpResponse> {
    let at = request.url.find("/api/v3/")?;
    let path = request.url[at..].split('?').next().unwrap_or_default();
    let ok = |v: Value| Some(HttpResponse::answered(200, Vec::new(), v.to_string()));
    if request.method != Method::Get {
        *counter += 1;
        let name = request
            .body
            .as_deref()
            .and_then(|b| crate::json::from_str::<Value>(b).ok())
            .and_then(|v| v.get("name").cloned())
            .unwrap_or(Value::Null);
        return ok(json!({"id": *counter, "name": name}));
    }
    if path.ends_with("/settings/automation") {
        let mappings: Vec<Value> = super::settings::REQUIRED
            .iter()
            .map(|v| json!({"value": v, "status": {"id": 0, "name": "(dry run)"}}))
            .collect();
        return ok(json!({"enabled": true, "mappings": mappings}));
    }
    if path.ends_with("/test-runs") || path.ends_with("/test-logs") {
        return ok(json!({"links": [], "page": 1, "page_size": 100, "total": 0, "items": []}));
    }
    let last = path.rsplit('/').next().unwrap_or_default();
    if last.chars().all(|c| c.is_ascii_digit()) {
        return ok(json!({"id": last.parse::<u64>().unwrap_or(0), "name": "(dry run)"}));
    }
    ok(json!([]))
}
