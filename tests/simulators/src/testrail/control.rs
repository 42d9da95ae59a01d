//! Switches for manual runs of the standalone binary, under `/__sim/` (no auth):
//! `POST /__sim/faults?kind=...` as the Rally simulator takes them (`path` matches
//! the API method too, e.g. `path=add_results_for_cases`), `DELETE /__sim/faults`,
//! `GET /__sim/ledger`, `POST /__sim/legacy?on=1` (bare-array bulk answers),
//! `POST /__sim/page_cap?size=2`, `POST /__sim/revoke` (the credentials stop
//! working: 401) and `POST /__sim/deny` (the account loses its projects: 403).

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
                .map(|e| json!({"seq": e.seq, "action": e.action, "id": e.id, "fields": e.fields}))
                .collect();
            Reply::json(200, &json!(entries))
        }
        ("POST", "/__sim/legacy") => {
            lock(&shared.store).legacy_bare_arrays = num("on", 1) == 1;
            Reply::json(200, &json!({"legacy": num("on", 1) == 1}))
        }
        ("POST", "/__sim/page_cap") => {
            lock(&shared.store).page_cap = num("size", 250).max(1) as usize;
            Reply::json(200, &json!({"page_cap": num("size", 250).max(1)}))
        }
        ("POST", "/__sim/revoke") => {
            for a in &mut lock(&shared.store).accounts {
                a.revoked = true;
            }
            Reply::json(200, &json!({"revoked": true}))
        }
        ("POST", "/__sim/deny") => {
            for a in &mut lock(&shared.store).accounts {
                a.project_ids.clear();
            }
            Reply::json(200, &json!({"denied": true}))
        }
        _ => Reply::json(404, &json!({"error": "unknown control endpoint"})),
    }
}
