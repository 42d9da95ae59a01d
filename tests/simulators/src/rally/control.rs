//! Switches for manual runs of the standalone binary, under `/__sim/` (no auth):
//! `POST /__sim/faults?kind=server_error&status=503&count=3` (kinds: server_error,
//! throttle with `retry_after`, slow with `ms`, drop, drop_after_apply,
//! error_after_apply; optional `method` and `path` to match), `DELETE /__sim/faults`,
//! `GET /__sim/ledger`.

use super::Shared;
use crate::faults::{FaultKind, Match, lock};
use crate::server::{HttpRequest, Reply};
use serde_json::json;
use std::time::Duration;

pub(crate) fn handle(shared: &Shared, req: &HttpRequest) -> Reply {
    let num = |name: &str, default: u64| {
        req.param(name)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(default)
    };
    match (req.method.as_str(), req.path.as_str()) {
        ("POST", "/__sim/faults") => {
            let kind = match req.param("kind").unwrap_or("server_error") {
                "server_error" => FaultKind::ServerError(num("status", 503) as u16),
                "throttle" => FaultKind::Throttle {
                    retry_after_secs: num("retry_after", 1),
                },
                "slow" => FaultKind::Slow(Duration::from_millis(num("ms", 2000))),
                "drop" => FaultKind::Drop,
                "drop_after_apply" => FaultKind::DropAfterApply,
                "error_after_apply" => FaultKind::ErrorAfterApply(num("status", 502) as u16),
                other => {
                    return Reply::json(
                        400,
                        &json!({"error": format!("unknown fault kind {other:?}")}),
                    );
                }
            };
            let matches = Match {
                method: req.param("method").map(str::to_string),
                path_contains: req.param("path").map(str::to_string),
            };
            shared.faults.add(kind, matches, num("count", 1) as u32);
            Reply::json(200, &json!({"armed": shared.faults.armed().len()}))
        }
        ("DELETE", "/__sim/faults") => {
            shared.faults.clear();
            Reply::json(200, &json!({"armed": 0}))
        }
        ("GET", "/__sim/ledger") => {
            let store = lock(&shared.store);
            let entries: Vec<_> = store
                .ledger
                .iter()
                .map(|e| {
                    json!({
                        "seq": e.seq,
                        "type": e.type_name,
                        "ref": e.reference,
                        "formatted_id": e.formatted_id,
                        "fields": e.fields,
                    })
                })
                .collect();
            Reply::json(200, &json!(entries))
        }
        _ => Reply::json(404, &json!({"error": "unknown control endpoint"})),
    }
}
