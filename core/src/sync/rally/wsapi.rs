//! Rally WSAPI v2.0 on the wire: the base URL, query strings, the result envelopes
//! (`QueryResult`, `CreateResult`, `OperationResult`, `{"<Type>": {...}}`) with their
//! `Errors` and `Warnings`, and errors a person can act on.

use crate::autofill::short_ref;
use crate::error::{Error, Result};
use crate::rally::query::{Condition, Expr, Operator, Value as QValue, print};
use crate::sync::details::rally::AuthMode;
use crate::sync::protocol::HttpResponse;
use serde_json::Value;

pub const WSAPI_PATH: &str = "/slm/webservice/v2.0";

/// The WSAPI base from `rally.url`: `https://rally1.rallydev.com` gets
/// `/slm/webservice/v2.0`; a URL that already ends with it is kept.
pub fn base_url(url: Option<&str>) -> Result<String> {
    let url = url
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .ok_or_else(|| {
            Error::new("config.missing_value", "`rally.url` is not set")
                .with_hint("set it to https://rally1.rallydev.com (or your on-premises server)")
        })?;
    // Sessions can start without `Config::validate`: the check is repeated here.
    crate::config::urls::check_url(
        "rally.url",
        url,
        "put the API key in the environment variable named by rally.api_key_env, or the user name and password in RALLY_USERNAME and RALLY_PASSWORD",
    )?;
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(Error::new(
            "config.invalid_value",
            format!("`rally.url`: {url:?} is not an http(s) URL"),
        )
        .with_hint("like https://rally1.rallydev.com"));
    }
    let url = url.trim_end_matches('/');
    if url.ends_with(WSAPI_PATH) {
        return Ok(url.to_string());
    }
    if let Some(at) = url.find("/slm/webservice/") {
        return Err(Error::new(
            "config.invalid_value",
            format!("`rally.url`: {url:?} names a WSAPI version other than v2.0"),
        )
        .with_hint(format!("use {}{WSAPI_PATH}", &url[..at])));
    }
    Ok(format!("{url}{WSAPI_PATH}"))
}

/// Percent-encodes a query-string value (RFC 3986 unreserved characters stay).
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A query of one type or collection, one page.
#[derive(Debug, Clone)]
pub struct Query {
    /// `/testcase`, or a collection such as `/testset/12/TestCases`.
    pub path: String,
    pub query: Option<String>,
    pub fetch: String,
    pub order: Option<String>,
    pub start: u64,
    pub pagesize: u64,
    pub workspace: Option<String>,
    /// Project ref; objects of child projects too when `scope_down`.
    pub project: Option<String>,
    pub scope_down: bool,
}

pub const PAGE_SIZE: u64 = 200;

impl Query {
    pub fn new(path: impl Into<String>, fetch: &str) -> Query {
        Query {
            path: path.into(),
            query: None,
            fetch: fetch.to_string(),
            order: None,
            start: 1,
            pagesize: PAGE_SIZE,
            workspace: None,
            project: None,
            scope_down: true,
        }
    }

    pub fn filter(mut self, expr: &Expr) -> Query {
        self.query = Some(print(expr));
        self
    }

    pub fn scoped(mut self, workspace: Option<&str>, project: Option<&str>) -> Query {
        self.workspace = workspace.map(str::to_string);
        self.project = project.map(str::to_string);
        self
    }

    pub fn at(mut self, start: u64) -> Query {
        self.start = start;
        self
    }

    /// Path and query string, in the order the official toolkits write them.
    pub fn to_path(&self) -> String {
        let mut params: Vec<(&str, String)> = Vec::new();
        if let Some(q) = &self.query {
            params.push(("query", q.clone()));
        }
        params.push(("fetch", self.fetch.clone()));
        if let Some(o) = &self.order {
            params.push(("order", o.clone()));
        }
        params.push(("start", self.start.to_string()));
        params.push(("pagesize", self.pagesize.to_string()));
        if let Some(w) = &self.workspace {
            params.push(("workspace", w.clone()));
        }
        if let Some(p) = &self.project {
            params.push(("project", p.clone()));
            params.push(("projectScopeUp", "false".into()));
            params.push(("projectScopeDown", self.scope_down.to_string()));
        }
        let text: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        format!("{}?{}", self.path, text.join("&"))
    }
}

/// `(Field = value)`.
pub fn eq(field: &str, value: QValue) -> Expr {
    Expr::Condition(Condition::new(field, Operator::Eq, vec![value]))
}

/// Joins conditions with OR as a balanced tree, so that long lists stay shallow.
pub fn any_of(mut items: Vec<Expr>) -> Option<Expr> {
    while items.len() > 1 {
        let mut next = Vec::with_capacity(items.len().div_ceil(2));
        let mut it = items.into_iter();
        while let Some(a) = it.next() {
            match it.next() {
                Some(b) => next.push(Expr::or(a, b)),
                None => next.push(a),
            }
        }
        items = next;
    }
    items.pop()
}

/// One page of a `QueryResult`.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub total: u64,
    pub start: u64,
    pub results: Vec<Value>,
}

impl Page {
    /// Reads a `QueryResult`. An answer without a `Results` list and a numeric
    /// `TotalResultCount`, or with more results than it counts, is refused: read as
    /// "nothing found" it would make a session create what is already there.
    pub fn read(inner: &Value, what: &str) -> Result<Page> {
        let results = inner.get("Results").and_then(Value::as_array);
        let total = inner.get("TotalResultCount").and_then(Value::as_u64);
        let start = match inner.get("StartIndex") {
            None => Some(1),
            Some(v) => v.as_u64().filter(|s| *s >= 1),
        };
        match (results, total, start) {
            (Some(results), Some(total), Some(start)) if results.len() as u64 <= total => {
                Ok(Page {
                    total,
                    start,
                    results: results.clone(),
                })
            }
            _ => Err(Error::new(
                BAD_ANSWER,
                format!(
                    "Rally's answer when asked to {what} is not a query result that can be read: {}",
                    short(&inner.to_string())
                ),
            )
            .with_hint(
                "nothing was created from it; run the same command again. If it repeats, make sure rally.url reaches Rally itself, not a proxy or login page that rewrites answers",
            )),
        }
    }

    /// The `start` of the next page, when there is one.
    pub fn next_start(&self) -> Option<u64> {
        let next = self.start.saturating_add(self.results.len() as u64);
        (!self.results.is_empty() && next <= self.total).then_some(next)
    }
}

/// The code of an answer that is well-formed JSON but not the result asked for.
pub const BAD_ANSWER: &str = "rally.bad_answer";

/// The code of Rally's "Concurrency conflict": another change raced this one.
pub const CONFLICT: &str = "rally.conflict";

/// The short ref (`/testcase/123`) of an object or a reference.
pub fn ref_of(object: &Value) -> Option<String> {
    let r = object.get("_ref").and_then(Value::as_str)?;
    Some(short_ref(r))
}

/// A text attribute of an object; references give their `_ref`.
pub fn text_of(object: &Value, field: &str) -> Option<String> {
    match object.get(field)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        v @ Value::Object(_) => ref_of(v),
        _ => None,
    }
}

/// What an answer amounts to.
pub enum Envelope {
    Ok {
        inner: Value,
        warnings: Vec<String>,
    },
    /// The security token expired (basic auth): get a new one and try again.
    InvalidKey(Error),
    Refused(Error),
}

/// Reads an answered response: HTTP status, JSON, the envelope's `Errors`.
/// `keep_errors` (a `/batch` answer, whose `Errors` belong to its entries): `Errors`
/// other than an expired security token stay in the inner object, `Ok`.
pub fn envelope(
    response: &HttpResponse,
    what: &str,
    url: &str,
    auth: AuthMode,
    keep_errors: bool,
) -> Envelope {
    let status = response.status;
    let text = short(&response.body);
    let refused = |code: &str, message: String, hint: &str| {
        Envelope::Refused(Error::new(code, message).with_hint(hint))
    };
    match status {
        200..=299 => {}
        401 => {
            return match auth {
                AuthMode::ApiKey => refused(
                    "rally.unauthorized",
                    format!("Rally refused the API key (HTTP 401) when asked to {what}"),
                    "check the key in the environment variable named by rally.api_key_env; keys are made at https://rally1.rallydev.com/login (API Keys) and stop working when revoked",
                ),
                AuthMode::Basic => refused(
                    "rally.unauthorized",
                    format!(
                        "Rally refused the user name or password (HTTP 401) when asked to {what}"
                    ),
                    "check the user name and password; SaaS Rally may require an API key instead",
                ),
            };
        }
        403 => {
            return refused(
                "rally.forbidden",
                format!(
                    "Rally answered 403 Forbidden when asked to {what}: the user may not do this"
                ),
                "a read-only API key cannot create; check the user's permissions on the workspace and project",
            );
        }
        404 => {
            return refused(
                "rally.not_found",
                format!("{url} answered 404 Not Found when asked to {what}"),
                "is rally.url right? It is like https://rally1.rallydev.com; tmbridge adds /slm/webservice/v2.0",
            );
        }
        300..=399 => {
            let to = response
                .header("Location")
                .unwrap_or("elsewhere")
                .to_string();
            return refused(
                "rally.redirect",
                format!("{url} redirects to {to} instead of answering"),
                "use the https:// address of the Rally server in rally.url",
            );
        }
        _ => {
            return Envelope::Refused(Error::new(
                "rally.http_error",
                format!("Rally answered HTTP {status} when asked to {what}: {text}"),
            ));
        }
    }
    let json: Value = match crate::json::from_str(&response.body) {
        Ok(v) => v,
        Err(_) => {
            return refused(
                "rally.not_wsapi",
                format!("{url} did not answer with JSON when asked to {what}: {text}"),
                "is rally.url the Rally server? tmbridge adds /slm/webservice/v2.0 to it",
            );
        }
    };
    let inner = json.as_object().and_then(|o| {
        o.iter()
            .find(|(k, v)| !k.starts_with('_') && v.is_object())
            .map(|(_, v)| v.clone())
    });
    let Some(inner) = inner else {
        return refused(
            "rally.not_wsapi",
            format!("{url} answered JSON that is not a WSAPI result when asked to {what}: {text}"),
            "is rally.url the Rally server?",
        );
    };
    let strings = |key: &str| -> Vec<String> {
        inner
            .get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|e| e.as_str().map_or_else(|| e.to_string(), str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let errors = strings("Errors");
    if !errors.is_empty() {
        let joined = errors.join("; ");
        let lower = joined.to_ascii_lowercase();
        if lower.contains("invalid key") {
            return Envelope::InvalidKey(
                Error::new(
                    "rally.invalid_key",
                    format!("Rally refused the security token when asked to {what}: {joined}"),
                )
                .with_hint("the HTTP session ended; keep its cookies between requests"),
            );
        }
        if keep_errors {
            return Envelope::Ok {
                warnings: strings("Warnings"),
                inner,
            };
        }
        let code = if lower.contains("concurrency conflict") {
            CONFLICT
        } else if lower.contains("not authorized") || lower.contains("permission") {
            "rally.forbidden"
        } else if lower.contains("could not parse") {
            "rally.bad_query"
        } else if lower.contains("cannot find object") || lower.contains("could not read") {
            "rally.not_found"
        } else {
            "rally.refused"
        };
        return Envelope::Refused(Error::new(
            code,
            format!("Rally refused to {what}: {joined}"),
        ));
    }
    Envelope::Ok {
        warnings: strings("Warnings"),
        inner,
    }
}

/// The object inside a `CreateResult`.
pub fn created_object(inner: &Value) -> Option<&Value> {
    inner.get("Object").filter(|o| o.is_object())
}

/// The start of a body, on one line, for messages.
pub(crate) fn short(text: &str) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= 200 {
        return line;
    }
    let mut cut: String = line.chars().take(200).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rally::query::Value as QValue;

    #[test]
    fn base_url_adds_the_wsapi_path_once() {
        assert_eq!(
            base_url(Some("https://rally1.rallydev.com/")).unwrap(),
            "https://rally1.rallydev.com/slm/webservice/v2.0"
        );
        assert_eq!(
            base_url(Some("http://127.0.0.1:9/slm/webservice/v2.0")).unwrap(),
            "http://127.0.0.1:9/slm/webservice/v2.0"
        );
        assert_eq!(
            base_url(Some("https://r/slm/webservice/1.43"))
                .unwrap_err()
                .hint
                .as_deref(),
            Some("use https://r/slm/webservice/v2.0")
        );
        assert_eq!(base_url(None).unwrap_err().code, "config.missing_value");
        assert_eq!(
            base_url(Some("rally1.rallydev.com")).unwrap_err().code,
            "config.invalid_value"
        );
    }

    #[test]
    fn query_strings_are_encoded_and_ordered() {
        let q = Query::new("/testcase", "FormattedID,ObjectID")
            .filter(&eq("FormattedID", QValue::quoted("TC1")))
            .scoped(Some("/workspace/1"), Some("/project/2"));
        assert_eq!(
            q.to_path(),
            "/testcase?query=%28FormattedID%20%3D%20%22TC1%22%29&fetch=FormattedID%2CObjectID&start=1&pagesize=200&workspace=%2Fworkspace%2F1&project=%2Fproject%2F2&projectScopeUp=false&projectScopeDown=true"
        );
    }

    #[test]
    fn or_trees_stay_shallow() {
        let items: Vec<Expr> = (0..25)
            .map(|i| eq("FormattedID", QValue::bare(&format!("TC{i}"))))
            .collect();
        let tree = any_of(items).unwrap();
        assert_eq!(tree.conditions().len(), 25);
        assert!(tree.depth() <= 6, "{}", tree.depth());
        assert!(any_of(Vec::new()).is_none());
    }

    #[test]
    fn pages_know_what_comes_next() {
        let v: Value = crate::json::from_str(
            r#"{"TotalResultCount": 5, "StartIndex": 1, "PageSize": 2, "Results": [{}, {}]}"#,
        )
        .unwrap();
        assert_eq!(Page::read(&v, "x").unwrap().next_start(), Some(3));
        let last: Value =
            crate::json::from_str(r#"{"TotalResultCount": 5, "StartIndex": 5, "Results": [{}]}"#)
                .unwrap();
        assert_eq!(Page::read(&last, "x").unwrap().next_start(), None);
    }

    #[test]
    fn a_query_result_that_cannot_be_read_is_refused_not_empty() {
        for inner in [
            r#"{"TotalResultCount": "many", "Results": 7}"#,
            r#"{"Errors": [], "Warnings": []}"#,
            r#"{"TotalResultCount": 1}"#,
            r#"{"Results": []}"#,
            r#"{"TotalResultCount": 0, "StartIndex": 1, "Results": [{}]}"#,
            r#"{"TotalResultCount": 1, "StartIndex": "one", "Results": [{}]}"#,
        ] {
            let v: Value = crate::json::from_str(inner).unwrap();
            let e = Page::read(&v, "look").unwrap_err();
            assert_eq!(e.code, BAD_ANSWER, "{inner}");
            assert!(e.message.contains("look"), "{}", e.message);
        }
        let empty: Value =
            crate::json::from_str(r#"{"TotalResultCount": 0, "StartIndex": 1, "Results": []}"#)
                .unwrap();
        assert!(Page::read(&empty, "look").unwrap().results.is_empty());
    }

    fn answer(status: u16, body: &str) -> HttpResponse {
        HttpResponse::answered(status, Vec::new(), body)
    }

    #[test]
    fn envelopes_give_clear_answers() {
        let ok = envelope(
            &answer(
                200,
                r#"{"QueryResult": {"Errors": [], "Warnings": ["API status is Deprecated"], "Results": []}}"#,
            ),
            "x",
            "u",
            AuthMode::ApiKey,
            false,
        );
        assert!(matches!(ok, Envelope::Ok { ref warnings, .. } if warnings.len() == 1));
        let code = |e: Envelope| match e {
            Envelope::Refused(e) | Envelope::InvalidKey(e) => e.code,
            Envelope::Ok { .. } => "ok".into(),
        };
        assert_eq!(
            code(envelope(
                &answer(401, "<html>"),
                "x",
                "u",
                AuthMode::ApiKey,
                false
            )),
            "rally.unauthorized"
        );
        assert_eq!(
            code(envelope(
                &answer(404, "nope"),
                "x",
                "u",
                AuthMode::ApiKey,
                false
            )),
            "rally.not_found"
        );
        assert_eq!(
            code(envelope(
                &answer(200, "<html>login</html>"),
                "x",
                "u",
                AuthMode::ApiKey,
                false
            )),
            "rally.not_wsapi"
        );
        assert_eq!(
            code(envelope(
                &answer(
                    200,
                    r#"{"QueryResult": {"Errors": ["Could not parse: bad"]}}"#
                ),
                "x",
                "u",
                AuthMode::ApiKey,
                false
            )),
            "rally.bad_query"
        );
        assert_eq!(
            code(envelope(
                &answer(
                    200,
                    r#"{"CreateResult": {"Errors": ["Not authorized to perform action: Invalid key"]}}"#
                ),
                "x",
                "u",
                AuthMode::Basic,
                false
            )),
            "rally.invalid_key"
        );
        assert_eq!(
            code(envelope(
                &answer(
                    200,
                    r#"{"OperationResult": {"Errors": ["Concurrency conflict: [Object has been modified since being read for update in this context]"]}}"#
                ),
                "x",
                "u",
                AuthMode::ApiKey,
                false
            )),
            CONFLICT
        );
    }
}
