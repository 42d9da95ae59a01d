//! Answers for a dry run: a host that must not touch the target answers each request
//! with [`answer`], so the session goes through every request it would send against
//! an empty Rally that knows the test cases asked for (qTest's and TestRail's
//! requests get their own target's answers). Refs made up here are written
//! in parentheses (`/testcase/(TC12)`, `/testcaseresult/(new-3)`).

use crate::rally::query::{Expr, parse};
use crate::sync::protocol::{HttpRequest, HttpResponse, Method};
use serde_json::{Value, json};

/// A plausible answer to `request`, without any I/O. `counter` numbers made-up records.
pub fn answer(request: &HttpRequest, counter: &mut u64) -> HttpResponse {
    if let Some(qtest) = super::qtest::dry_run::answer(request, counter) {
        return qtest;
    }
    // TestRail's API sits in the query string: `index.php?/api/v2/<method>`.
    if request.url.contains("?/api/v2/") {
        return super::testrail::dry_run::answer(request, counter);
    }
    let (path, query) = request.url.split_once('?').unwrap_or((&request.url, ""));
    let path = match path.find("/slm/webservice/v2.0") {
        Some(at) => &path[at + "/slm/webservice/v2.0".len()..],
        None => path,
    };
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let ok = |v: Value| HttpResponse::answered(200, Vec::new(), v.to_string());
    let empty = || json!({"Errors": [], "Warnings": []});
    match (request.method, parts.as_slice()) {
        (_, ["security", "authorize"]) => ok(
            json!({"OperationResult": {"Errors": [], "Warnings": [], "SecurityToken": "(dry-run)"}}),
        ),
        (Method::Get, ["user"]) => {
            ok(json!({"User": {"DisplayName": "(dry run)", "_ref": "/user/(me)"}}))
        }
        (Method::Post, [kind, "create"]) => {
            *counter += 1;
            let n = *counter;
            let mut object = json!({"_ref": format!("/{kind}/(new-{n})"), "ObjectID": n});
            if matches!(*kind, "testcase" | "defect") {
                object["FormattedID"] = json!("(new)");
            }
            let mut result = empty();
            result["Object"] = object;
            ok(json!({ "CreateResult": result }))
        }
        (Method::Post, ["batch"]) => {
            // One made-up record per create entry, in entry order.
            let entries = request
                .body
                .as_deref()
                .and_then(|b| crate::json::from_str::<Value>(b).ok())
                .and_then(|v| v.get("Batch").and_then(Value::as_array).cloned())
                .unwrap_or_default();
            let results: Vec<Value> = entries
                .iter()
                .map(|e| {
                    let path = e
                        .pointer("/Entry/Path")
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    let kind = path
                        .trim_start_matches('/')
                        .split(['/', '?'])
                        .next()
                        .unwrap_or("");
                    *counter += 1;
                    let n = *counter;
                    json!({"_ref": format!("/{kind}/(new-{n})"), "ObjectID": n})
                })
                .collect();
            let mut result = empty();
            result["Results"] = Value::Array(results);
            ok(json!({ "BatchResult": result }))
        }
        (Method::Post, [.., "add"]) => {
            // A collection add answers with what it added, as Rally does.
            let added = request
                .body
                .as_deref()
                .and_then(|b| crate::json::from_str::<Value>(b).ok())
                .and_then(|v| v.get("CollectionItems").cloned())
                .unwrap_or_else(|| json!([]));
            let mut result = empty();
            result["Results"] = added;
            ok(json!({ "OperationResult": result }))
        }
        (Method::Post, _) => ok(json!({ "OperationResult": empty() })),
        (Method::Get, [kind, id]) if !id.is_empty() && id.chars().all(|c| c.is_ascii_digit()) => {
            ok(json!({ "Object": {"_ref": format!("/{kind}/{id}"), "Name": "(dry run)"} }))
        }
        (Method::Get, [kind, ..]) => {
            let mut results = Vec::new();
            if *kind == "testcase"
                && let Some(q) = param(query, "query")
                && let Ok(expr) = parse(&q)
            {
                for id in formatted_ids(&expr) {
                    results.push(json!({"_ref": format!("/testcase/({id})"), "FormattedID": id}));
                }
            }
            let mut page = empty();
            page["TotalResultCount"] = json!(results.len());
            page["StartIndex"] = json!(1);
            page["PageSize"] = json!(200);
            page["Results"] = Value::Array(results);
            ok(json!({ "QueryResult": page }))
        }
        _ => ok(json!({ "OperationResult": empty() })),
    }
}

fn formatted_ids(expr: &Expr) -> Vec<String> {
    expr.conditions()
        .into_iter()
        .filter(|c| c.field == "FormattedID")
        .filter_map(|c| c.values.first().map(|v| v.text.clone()))
        .collect()
}

fn param(query: &str, name: &str) -> Option<String> {
    query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| decode(v))
}

/// Percent-decoding; a bad escape is kept as written.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes.get(i), hex) {
            (Some(b'%'), Some(b)) => {
                out.push(b);
                i += 3;
            }
            (Some(b'+'), _) => {
                out.push(b' ');
                i += 1;
            }
            (Some(b), _) => {
                out.push(*b);
                i += 1;
            }
            (None, _) => break,
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, RefCache, RunContext};
    use crate::matching::testutil::case;
    use crate::model::Status;
    use crate::sync::protocol::{Session, Step};
    use crate::sync::rally::{Credentials, Publish, PublishInput, SessionOptions};
    use crate::sync::report::RecordKind;

    #[test]
    fn a_dry_run_walks_every_request_of_a_first_publish() {
        let config = Config::from_json(
            br#"{"rally": {"url": "https://rally1.rallydev.com", "workspace": "/workspace/1"}}"#,
        )
        .unwrap();
        let input = PublishInput {
            config,
            cases: vec![
                case("a", "TC1 x", Status::Passed),
                case("a", "TC2 y", Status::Failed),
            ],
            context: RunContext {
                now: "2024-05-01T10:00:00Z".into(),
                pipeline_id: Some("7".into()),
                sprint: Some("14".into()),
                ..RunContext::default()
            },
            cache: RefCache::default(),
        };
        let mut s = Publish::new(
            input,
            Credentials::ApiKey("k".into()),
            SessionOptions::default(),
        )
        .unwrap();
        let mut counter = 0;
        let mut sent = Vec::new();
        let report = loop {
            match s.next() {
                Step::Send(r) => {
                    let a = answer(&r, &mut counter);
                    sent.push(format!(
                        "{} {}",
                        r.method.as_str(),
                        r.url.split('?').next().unwrap()
                    ));
                    s.receive(r.id, a).unwrap();
                }
                Step::Done(r) => break r,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(report.error, None);
        let results: Vec<_> = report
            .created
            .iter()
            .filter(|e| e.kind == RecordKind::TestCaseResult)
            .collect();
        assert_eq!(results.len(), 2);
        let base = "https://rally1.rallydev.com/slm/webservice/v2.0";
        assert_eq!(sent.first().unwrap(), &format!("GET {base}/testcase"));
        assert!(sent.contains(&format!("POST {base}/testset/create")));
        // Both results in one batch (`rally.batch_size`, 25 by default).
        assert_eq!(
            sent.iter().filter(|s| s.ends_with("/batch")).count(),
            1,
            "{sent:?}"
        );
        assert!(!sent.iter().any(|s| s.ends_with("/testcaseresult/create")));
    }

    #[test]
    fn decoding_keeps_bad_escapes() {
        assert_eq!(decode("a%20b%2"), "a b%2");
        assert_eq!(decode("%E2%82%AC+x"), "€ x");
    }
}
