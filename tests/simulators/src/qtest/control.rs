//! Switches for manual runs, under `/__sim/` (no auth): `POST /__sim/faults?kind=...`
//! as for the Rally simulator, `DELETE /__sim/faults`, `GET /__sim/ledger` (cases,
//! cycles, suites, runs and logs clients created), `POST /__sim/automation?enabled=false`,
//! `POST /__sim/unmap?value=SKIP`.

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
        ("POST", "/__sim/automation") => {
            let on = req.param("enabled") != Some("false");
            lock(&shared.store).automation_enabled = on;
            Reply::json(200, &json!({"enabled": on}))
        }
        ("POST", "/__sim/unmap") => {
            let value = req.param("value").unwrap_or_default().to_string();
            lock(&shared.store)
                .mappings
                .retain(|m| !m.value.eq_ignore_ascii_case(&value));
            Reply::json(200, &json!({"unmapped": value}))
        }
        ("GET", "/__sim/ledger") => {
            let store = lock(&shared.store);
            let entries: Vec<_> = store
                .ledger
                .iter()
                .map(|e| {
                    json!({"seq": e.seq, "kind": e.kind, "id": e.id, "pid": e.pid, "name": e.name, "parent_id": e.parent_id})
                })
                .collect();
            Reply::json(200, &json!(entries))
        }
        _ => Reply::json(404, &json!({"error": "unknown control endpoint"})),
    }
}
