//! The WSAPI v2.0 endpoints: authentication, faults, then query / read / create /
//! update / delete / collection edits under `/slm/webservice/v2.0`.

use super::filter;
use super::render::{Fetch, Render, envelope};
use super::store::{Account, CreateError, Store, parse_ref};
use super::types::{Kind, TypeDef, type_def};
use super::{RequestLog, Shared};
use crate::faults::{FaultKind, lock};
use crate::server::{HttpRequest, Outcome, Reply};
use base64::Engine;
use jiff::Timestamp;
use serde_json::{Map, Value, json};

pub const PREFIX: &str = "/slm/webservice/v2.0";
/// Where Rally serves a workspace's whole schema (pyral's `getSchemaInfo`).
pub const SCHEMA_PREFIX: &str = "/slm/schema/v2.0";
const MAX_PAGESIZE: usize = 2000;
/// Entries one `POST /batch` may hold; more are refused as a whole, nothing applied.
pub const MAX_BATCH_ENTRIES: usize = 100;
const DEFAULT_PAGESIZE: usize = 20;

/// Entry point for every request.
pub fn handle(shared: &Shared, req: HttpRequest) -> Outcome {
    if req.path.starts_with("/__sim/") {
        return Outcome::Reply(super::control::handle(shared, &req));
    }
    let fault = shared.faults.take(&req);
    let (outcome, status) = match fault {
        Some(FaultKind::ServerError(code)) => {
            let reply = Reply::bytes(
                code,
                "text/html",
                format!("<html><body><h1>{code}</h1>The server is temporarily unable to service your request.</body></html>").into_bytes(),
            );
            (Outcome::Reply(reply), code)
        }
        Some(FaultKind::Throttle { retry_after_secs }) => {
            let reply = Reply::json(
                429,
                &envelope(
                    "OperationResult",
                    &["Too Many Requests".into()],
                    &[],
                    Map::new(),
                ),
            )
            .with_header("Retry-After", &retry_after_secs.to_string());
            (Outcome::Reply(reply), 429)
        }
        Some(FaultKind::Drop) => (Outcome::Drop, 0),
        Some(FaultKind::Slow(d)) => {
            let reply = route(shared, &req);
            let s = reply.status;
            (Outcome::Delayed(d, reply), s)
        }
        Some(FaultKind::DropAfterApply) => {
            let _ = route(shared, &req);
            (Outcome::Drop, 0)
        }
        Some(FaultKind::ErrorAfterApply(code)) => {
            let _ = route(shared, &req);
            (
                Outcome::Reply(Reply::bytes(
                    code,
                    "text/html",
                    b"<html>Bad Gateway</html>".to_vec(),
                )),
                code,
            )
        }
        None => {
            let reply = route(shared, &req);
            let s = reply.status;
            (Outcome::Reply(reply), s)
        }
    };
    lock(&shared.requests).push(RequestLog {
        method: req.method.clone(),
        path: req.path.clone(),
        query: req.query.clone(),
        status,
        fault: fault.clone(),
    });
    outcome
}

fn json_reply(status: u16, v: Value) -> Reply {
    Reply::json(status, &v)
}

fn errors(kind: &str, status: u16, errs: Vec<String>) -> Reply {
    json_reply(status, envelope(kind, &errs, &[], Map::new()))
}

enum Auth {
    ApiKey(Account),
    Basic(Account),
}

impl Auth {
    fn account(&self) -> &Account {
        match self {
            Auth::ApiKey(a) | Auth::Basic(a) => a,
        }
    }
}

fn authenticate(store: &Store, req: &HttpRequest) -> Option<Auth> {
    if let Some(key) = req.header("zsessionid") {
        return store
            .accounts
            .iter()
            .find(|a| a.api_key == key.trim())
            .cloned()
            .map(Auth::ApiKey);
    }
    let basic = req.header("authorization")?.trim().strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(basic.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, pass) = text.split_once(':')?;
    store
        .accounts
        .iter()
        .find(|a| a.username == user && a.password == pass)
        .cloned()
        .map(Auth::Basic)
}

/// The WSAPI base URL the client sees: behind a TLS front (`X-Forwarded-Proto`) the
/// references must carry the scheme and host the client used, as Rally's do.
fn public_base(shared: &Shared, req: &HttpRequest) -> String {
    match (req.header("x-forwarded-proto"), req.header("host")) {
        (Some(proto), Some(host)) if matches!(proto.trim(), "http" | "https") => {
            let host = req.header("x-forwarded-host").unwrap_or(host);
            format!("{}://{}{PREFIX}", proto.trim(), host.trim())
        }
        _ => shared.base(),
    }
}

fn route(shared: &Shared, req: &HttpRequest) -> Reply {
    if let Some(rest) = req.path.strip_prefix(SCHEMA_PREFIX) {
        let store = lock(&shared.store);
        return match authenticate(&store, req) {
            Some(auth) => {
                super::schema::answer(&store, &public_base(shared, req), auth.account(), rest)
            }
            None => unauthorized(),
        };
    }
    let Some(rest) = req.path.strip_prefix(PREFIX) else {
        return errors(
            "OperationResult",
            404,
            vec![format!("Not Found: {}", req.path)],
        );
    };
    let segments: Vec<&str> = rest
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| s.strip_suffix(".js").unwrap_or(s))
        .collect();
    let mut store = lock(&shared.store);
    let Some(auth) = authenticate(&store, req) else {
        return unauthorized();
    };
    let base = public_base(shared, req);
    let method = req.method.to_ascii_uppercase();
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["security", "authorize"]) => {
            let token = format!(
                "sim-token-{}-{}",
                auth.account().user_oid,
                store.tokens.len() + 1
            );
            store.tokens.insert(token.clone(), auth.account().user_oid);
            let mut extra = Map::new();
            extra.insert("SecurityToken".into(), json!(token));
            json_reply(200, envelope("OperationResult", &[], &[], extra))
        }
        ("GET", [ty]) if ty.eq_ignore_ascii_case("user") && req.param("query").is_none() => {
            let user = auth.account().user_oid;
            read(&store, &base, req, user)
        }
        ("GET", [ty]) if ty.eq_ignore_ascii_case("subscription") => {
            match store.objects.values().find(|o| o.ty.key == "subscription") {
                Some(s) => read(&store, &base, req, s.oid),
                None => errors(
                    "OperationResult",
                    404,
                    vec!["Cannot find object to read".into()],
                ),
            }
        }
        ("GET", [ty]) if ty.eq_ignore_ascii_case("users") => match type_def("user") {
            Some(t) => query(&store, &base, req, auth.account(), t, None),
            None => errors("QueryResult", 404, vec!["Not Found: users".into()]),
        },
        ("GET", [ty]) => match type_def(ty) {
            Some(t) => query(&store, &base, req, auth.account(), t, None),
            None => errors(
                "QueryResult",
                404,
                vec![format!("Not Found: unknown type {ty}")],
            ),
        },
        ("GET", [ty, oid]) => match (type_def(ty), oid.parse::<u64>()) {
            (Some(t), Ok(oid)) if store.get(oid).is_some_and(|o| o.ty.key == t.key) => {
                if let Some(r) = forbidden_read(&store, auth.account(), oid) {
                    return r;
                }
                read(&store, &base, req, oid)
            }
            (Some(_), _) => errors(
                "OperationResult",
                200,
                vec!["Cannot find object to read".into()],
            ),
            (None, _) => errors(
                "OperationResult",
                404,
                vec![format!("Not Found: unknown type {ty}")],
            ),
        },
        ("GET", [ty, oid, collection]) => {
            let owner = type_def(ty)
                .zip(oid.parse::<u64>().ok())
                .and_then(|(t, oid)| store.get(oid).filter(|o| o.ty.key == t.key));
            match owner {
                Some(o) => match o.ty.field(collection) {
                    Some((name, Kind::Collection { member, .. })) => {
                        let members = store.collection(o, name);
                        let t = type_def(member).expect("schema names known types");
                        query(&store, &base, req, auth.account(), t, Some(members))
                    }
                    _ => errors(
                        "QueryResult",
                        404,
                        vec![format!(
                            "Not Found: {} has no collection {collection}",
                            o.ty.name
                        )],
                    ),
                },
                None => errors(
                    "QueryResult",
                    200,
                    vec!["Cannot find object to read".into()],
                ),
            }
        }
        ("POST" | "PUT" | "DELETE", _) => {
            let kind = match segments.as_slice() {
                [_, "create"] => "CreateResult",
                [b] if b.eq_ignore_ascii_case("batch") => "BatchResult",
                _ => "OperationResult",
            };
            if let Auth::Basic(a) = &auth {
                let key_ok = req
                    .param("key")
                    .and_then(|k| store.tokens.get(k))
                    .is_some_and(|u| *u == a.user_oid);
                if !key_ok {
                    return errors(
                        kind,
                        200,
                        vec!["Not authorized to perform action: Invalid key".into()],
                    );
                }
            }
            write(&mut store, &base, req, auth.account(), &method, &segments)
        }
        _ => errors(
            "OperationResult",
            405,
            vec![format!("{} is not supported on {}", req.method, req.path)],
        ),
    }
}

fn unauthorized() -> Reply {
    errors(
        "OperationResult",
        401,
        vec!["Not authorized: give a valid API key in the ZSESSIONID header, or a user name and password".into()],
    )
}

/// 403 for an object outside what the account may use: the same rule as queries
/// (which leave such objects out) and creates.
fn forbidden_read(store: &Store, account: &Account, oid: u64) -> Option<Reply> {
    let obj = store.get(oid)?;
    if store.visible(account, obj) {
        return None;
    }
    let ws = match obj.ty.key {
        "workspace" => Some(obj.oid),
        _ => obj
            .fields
            .get("Workspace")
            .and_then(parse_ref)
            .map(|(_, w)| w),
    };
    let what = match ws {
        Some(w) if !account.workspaces.contains(&w) => format!("workspace /workspace/{w}"),
        _ => match obj.ty.key {
            "project" => format!("project {}", obj.reference()),
            _ => format!(
                "project {}",
                obj.fields
                    .get("Project")
                    .and_then(|p| store.deref(p))
                    .map(|p| p.reference())
                    .unwrap_or_default()
            ),
        },
    };
    Some(errors(
        "OperationResult",
        403,
        vec![format!("Not authorized to access {what}")],
    ))
}

fn read(store: &Store, base: &str, req: &HttpRequest, oid: u64) -> Reply {
    let Some(obj) = store.get(oid) else {
        return errors(
            "OperationResult",
            200,
            vec!["Cannot find object to read".into()],
        );
    };
    let render = Render { store, base };
    let fetch = Fetch::parse(req.param("fetch"), Fetch::All);
    let Value::Object(mut body) = render.object(obj, &fetch) else {
        return errors("OperationResult", 500, vec!["render failed".into()]);
    };
    body.insert("Errors".into(), json!([]));
    body.insert("Warnings".into(), json!([]));
    let mut outer = Map::new();
    outer.insert(obj.ty.name.to_string(), Value::Object(body));
    json_reply(200, Value::Object(outer))
}

/// The workspace and project a query runs in. `Err` is a 403.
fn scope(
    store: &Store,
    req: &HttpRequest,
    account: &Account,
) -> Result<(u64, Option<Vec<u64>>), Reply> {
    let deny = |what: String| {
        Err(errors(
            "QueryResult",
            403,
            vec![format!("Not authorized to access {what}")],
        ))
    };
    let ws = match req.param("workspace") {
        Some(w) => match parse_ref(&Value::from(w)) {
            Some((ty, oid)) if ty == "workspace" && store.get(oid).is_some() => {
                if !account.workspaces.contains(&oid) {
                    return deny(format!("workspace /workspace/{oid}"));
                }
                oid
            }
            _ => {
                return Err(errors(
                    "QueryResult",
                    200,
                    vec![format!("Could not read: invalid workspace reference {w}")],
                ));
            }
        },
        None => *account.workspaces.first().unwrap_or(&0),
    };
    let projects = match req.param("project") {
        None => None,
        Some(p) if p.eq_ignore_ascii_case("null") || p.is_empty() => None,
        Some(p) => match parse_ref(&Value::from(p)).and_then(|(ty, oid)| {
            store
                .get(oid)
                .filter(|o| ty == "project" && o.ty.key == "project")
        }) {
            Some(proj) => {
                if !store.may_use(account, proj) {
                    return deny(format!("project {}", proj.reference()));
                }
                let up = req.param("projectScopeUp").is_some_and(|v| v == "true");
                let down = req.param("projectScopeDown").is_none_or(|v| v != "false");
                Some(project_scope(store, proj.oid, up, down))
            }
            None => {
                return Err(errors(
                    "QueryResult",
                    200,
                    vec![format!("Could not read: invalid project reference {p}")],
                ));
            }
        },
    };
    Ok((ws, projects))
}

fn project_scope(store: &Store, root: u64, up: bool, down: bool) -> Vec<u64> {
    let parent_of = |oid: u64| {
        store
            .get(oid)
            .and_then(|o| o.fields.get("Parent"))
            .and_then(parse_ref)
            .map(|(_, p)| p)
    };
    let mut out = vec![root];
    if up {
        let mut cur = root;
        while let Some(p) = parent_of(cur) {
            if out.contains(&p) {
                break;
            }
            out.push(p);
            cur = p;
        }
    }
    if down {
        let mut frontier = vec![root];
        while let Some(p) = frontier.pop() {
            for o in store.objects.values().filter(|o| o.ty.key == "project") {
                if parent_of(o.oid) == Some(p) && !out.contains(&o.oid) {
                    out.push(o.oid);
                    frontier.push(o.oid);
                }
            }
        }
    }
    out
}

fn query(
    store: &Store,
    base: &str,
    req: &HttpRequest,
    account: &Account,
    ty: &'static TypeDef,
    within: Option<Vec<u64>>,
) -> Reply {
    let mut warnings = Vec::new();
    // A collection endpoint (`/testcase/1/Attachments`) without `fetch` gives whole
    // objects, as Rally does: pyral reads `Name`, `Content`, `FormattedID` straight off
    // collection items. A plain query without `fetch` gives reference stubs only.
    let default_fetch = if within.is_some() {
        Fetch::All
    } else {
        Fetch::RefOnly
    };
    let (ws, projects) = match scope(store, req, account) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let expr = match req.param("query").map(str::trim).filter(|q| !q.is_empty()) {
        None => None,
        Some(q) => match tmbridge_core::rally::query::parse_strict(q) {
            Ok(e) => {
                if let Err(msg) = filter::check_fields(ty, &e) {
                    return errors("QueryResult", 200, vec![msg]);
                }
                Some(e)
            }
            Err(e) => {
                return errors(
                    "QueryResult",
                    200,
                    vec![format!("Could not parse: {}", e.message)],
                );
            }
        },
    };
    let start = req
        .param("start")
        .and_then(|s| s.trim().parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let mut pagesize = req
        .param("pagesize")
        .and_then(|s| s.trim().parse::<usize>().ok())
        .unwrap_or(DEFAULT_PAGESIZE);
    if pagesize > MAX_PAGESIZE {
        warnings.push(format!(
            "The page size {pagesize} is over the maximum of {MAX_PAGESIZE}; {MAX_PAGESIZE} was used"
        ));
        pagesize = MAX_PAGESIZE;
    }
    pagesize = pagesize.max(1);
    let now = Timestamp::now();
    let ws_ref = format!("/workspace/{ws}");
    let candidates: Vec<u64> = match within {
        Some(list) => list,
        None => store
            .objects
            .values()
            .filter(|o| o.ty.key == ty.key)
            .map(|o| o.oid)
            .collect(),
    };
    let mut hits: Vec<u64> = candidates
        .into_iter()
        .filter_map(|oid| store.get(oid))
        .filter(|o| store.visible(account, o))
        .filter(|o| match o.ty.key {
            "workspace" | "subscription" | "user" | "userprofile" | "allowedattributevalue" => true,
            _ => o.fields.get("Workspace").and_then(Value::as_str) == Some(ws_ref.as_str()),
        })
        .filter(|o| match (&projects, o.ty.has_project()) {
            (Some(ps), true) => o
                .fields
                .get("Project")
                .and_then(parse_ref)
                .is_some_and(|(_, p)| ps.contains(&p)),
            _ => true,
        })
        .filter(|o| {
            expr.as_ref()
                .is_none_or(|e| filter::matches(store, o, e, now))
        })
        .map(|o| o.oid)
        .collect();
    filter::sort(store, &mut hits, req.param("order"));
    let total = hits.len();
    let render = Render { store, base };
    let fetch = Fetch::parse(req.param("fetch"), default_fetch);
    let results: Vec<Value> = hits
        .iter()
        .skip(start - 1)
        .take(pagesize)
        .filter_map(|oid| store.get(*oid))
        .map(|o| render.object(o, &fetch))
        .collect();
    let mut extra = Map::new();
    extra.insert("TotalResultCount".into(), json!(total));
    extra.insert("StartIndex".into(), json!(start));
    extra.insert("PageSize".into(), json!(pagesize));
    extra.insert("Results".into(), Value::Array(results));
    json_reply(200, envelope("QueryResult", &[], &warnings, extra))
}

/// The `{"TestCaseResult": {...}}` body; the type key is matched case-insensitively.
fn body_object(req: &HttpRequest, ty: &TypeDef, kind: &str) -> Result<Map<String, Value>, Reply> {
    let v: Value = serde_json::from_slice(&req.body).map_err(|e| {
        errors(
            kind,
            200,
            vec![format!(
                "Could not parse: the request body is not JSON: {e}"
            )],
        )
    })?;
    let Value::Object(outer) = v else {
        return Err(errors(
            kind,
            200,
            vec!["Could not parse: the body must be a JSON object".into()],
        ));
    };
    outer
        .into_iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(ty.name) || k.eq_ignore_ascii_case(ty.key))
        .and_then(|(_, v)| match v {
            Value::Object(m) => Some(m),
            _ => None,
        })
        .ok_or_else(|| {
            errors(
                kind,
                200,
                vec![format!(
                    "Could not read: the body must be {{\"{}\": {{...}}}}",
                    ty.name
                )],
            )
        })
}

fn write(
    store: &mut Store,
    base: &str,
    req: &HttpRequest,
    account: &Account,
    method: &str,
    segments: &[&str],
) -> Reply {
    let fetch = Fetch::parse(req.param("fetch"), Fetch::All);
    match (method, segments) {
        ("POST", [b]) if b.eq_ignore_ascii_case("batch") => batch(store, base, req, account),
        ("POST" | "PUT", [ty, create]) if create.eq_ignore_ascii_case("create") => {
            let Some(t) = type_def(ty) else {
                return errors(
                    "CreateResult",
                    404,
                    vec![format!("Not Found: unknown type {ty}")],
                );
            };
            let body = match body_object(req, t, "CreateResult") {
                Ok(b) => b,
                Err(r) => return r,
            };
            match store.create(t, &body, account) {
                Ok(oid) => {
                    let render = Render { store, base };
                    let obj = render.object(store.get(oid).expect("just created"), &fetch);
                    let mut extra = Map::new();
                    extra.insert("Object".into(), obj);
                    json_reply(200, envelope("CreateResult", &[], &[], extra))
                }
                Err(CreateError::Invalid(errs)) => errors("CreateResult", 200, errs),
                Err(CreateError::Forbidden(msg)) => errors("CreateResult", 403, vec![msg]),
            }
        }
        ("POST" | "PUT", [ty, oid]) => {
            let Some((t, oid)) = type_def(ty).zip(oid.parse::<u64>().ok()) else {
                return errors(
                    "OperationResult",
                    404,
                    vec![format!("Not Found: {}", req.path)],
                );
            };
            if store.get(oid).is_none_or(|o| o.ty.key != t.key) {
                return errors(
                    "OperationResult",
                    200,
                    vec!["Cannot find object to update".into()],
                );
            }
            if let Some(r) = forbidden_read(store, account, oid) {
                return r;
            }
            let body = match body_object(req, t, "OperationResult") {
                Ok(b) => b,
                Err(r) => return r,
            };
            match store.update(oid, &body, account) {
                Ok(()) => {
                    let render = Render { store, base };
                    let obj = render.object(store.get(oid).expect("exists"), &fetch);
                    let mut extra = Map::new();
                    extra.insert("Object".into(), obj);
                    json_reply(200, envelope("OperationResult", &[], &[], extra))
                }
                Err(CreateError::Invalid(errs)) => errors("OperationResult", 200, errs),
                Err(CreateError::Forbidden(msg)) => errors("OperationResult", 403, vec![msg]),
            }
        }
        ("POST", [ty, oid, collection, action])
            if action.eq_ignore_ascii_case("add") || action.eq_ignore_ascii_case("remove") =>
        {
            let Some((t, oid)) = type_def(ty).zip(oid.parse::<u64>().ok()) else {
                return errors(
                    "OperationResult",
                    404,
                    vec![format!("Not Found: {}", req.path)],
                );
            };
            if store.get(oid).is_none_or(|o| o.ty.key != t.key) {
                return errors(
                    "OperationResult",
                    200,
                    vec!["Cannot find object to update".into()],
                );
            }
            if let Some(r) = forbidden_read(store, account, oid) {
                return r;
            }
            let items = serde_json::from_slice::<Value>(&req.body)
                .ok()
                .and_then(|v| v.get("CollectionItems").and_then(Value::as_array).cloned());
            let Some(items) = items else {
                return errors(
                    "OperationResult",
                    200,
                    vec![
                        "Could not read: the body must be {\"CollectionItems\": [{\"_ref\": ...}]}"
                            .into(),
                    ],
                );
            };
            let add = action.eq_ignore_ascii_case("add");
            match store.edit_collection(oid, collection, &items, add) {
                Ok(members) => {
                    let render = Render { store, base };
                    let results: Vec<Value> = members
                        .iter()
                        .filter_map(|m| store.get(*m))
                        .map(|m| render.object(m, &fetch))
                        .collect();
                    let mut extra = Map::new();
                    if add {
                        extra.insert("Results".into(), Value::Array(results));
                    }
                    json_reply(200, envelope("OperationResult", &[], &[], extra))
                }
                Err(CreateError::Invalid(errs)) => errors("OperationResult", 200, errs),
                Err(CreateError::Forbidden(msg)) => errors("OperationResult", 403, vec![msg]),
            }
        }
        ("DELETE", [ty, oid]) => {
            let found = type_def(ty)
                .zip(oid.parse::<u64>().ok())
                .filter(|(t, oid)| store.get(*oid).is_some_and(|o| o.ty.key == t.key));
            match found {
                Some((_, oid)) => {
                    if let Some(r) = forbidden_read(store, account, oid) {
                        return r;
                    }
                    store.delete(oid);
                    json_reply(200, envelope("OperationResult", &[], &[], Map::new()))
                }
                None => errors(
                    "OperationResult",
                    200,
                    vec!["Cannot find object to delete".into()],
                ),
            }
        }
        _ => errors(
            "OperationResult",
            405,
            vec![format!("{} is not supported on {}", req.method, req.path)],
        ),
    }
}

/// `POST /batch`: `{"Batch": [{"Entry": {"Path", "Method", "Body"}}, ...]}`. Each
/// entry goes through the same code as the request it names (a create, an update, a
/// delete, a collection edit), in order. The answer's `Results` holds one element
/// per entry: the object the entry's own answer holds (`CreateResult.Object`), or
/// `{"Errors": [...]}` for an entry that failed, whose messages (prefixed with the
/// entry's index) are also in the answer's `Errors`. Entries are not a transaction:
/// those before and after a failed one are applied. More than
/// [`MAX_BATCH_ENTRIES`] entries, or a body that is not a batch, is refused whole.
fn batch(store: &mut Store, base: &str, req: &HttpRequest, account: &Account) -> Reply {
    let body: Value = match serde_json::from_slice(&req.body) {
        Ok(v) => v,
        Err(e) => {
            return errors(
                "BatchResult",
                200,
                vec![format!(
                    "Could not parse: the request body is not JSON: {e}"
                )],
            );
        }
    };
    let Some(entries) = body.get("Batch").and_then(Value::as_array) else {
        return errors(
            "BatchResult",
            200,
            vec![
                "Could not read: the body must be {\"Batch\": [{\"Entry\": {\"Path\": ..., \"Method\": ..., \"Body\": ...}}]}"
                    .into(),
            ],
        );
    };
    if entries.len() > MAX_BATCH_ENTRIES {
        return errors(
            "BatchResult",
            200,
            vec![format!(
                "Could not process batch: it has {} entries; at most {MAX_BATCH_ENTRIES} are allowed",
                entries.len()
            )],
        );
    }
    let mut results = Vec::with_capacity(entries.len());
    let mut all_errors = Vec::new();
    let mut all_warnings = Vec::new();
    for (n, item) in entries.iter().enumerate() {
        let (object, errs, warnings) = batch_entry(store, base, req, account, item);
        all_warnings.extend(warnings);
        match object {
            Some(o) if errs.is_empty() => results.push(o),
            _ => {
                let errs = if errs.is_empty() {
                    vec!["Could not process the entry".to_string()]
                } else {
                    errs
                };
                all_errors.extend(errs.iter().map(|e| format!("Entry {n}: {e}")));
                results.push(json!({ "Errors": errs }));
            }
        }
    }
    let mut extra = Map::new();
    extra.insert("Results".into(), Value::Array(results));
    json_reply(
        200,
        envelope("BatchResult", &all_errors, &all_warnings, extra),
    )
}

/// One entry of a batch: (the object its answer holds, its errors, its warnings).
fn batch_entry(
    store: &mut Store,
    base: &str,
    outer: &HttpRequest,
    account: &Account,
    item: &Value,
) -> (Option<Value>, Vec<String>, Vec<String>) {
    let refuse = |why: String| (None, vec![why], Vec::new());
    let Some(entry) = item.get("Entry").filter(|e| e.is_object()) else {
        return refuse("Could not read: an element of Batch is not {\"Entry\": {...}}".into());
    };
    let Some(target) = entry.get("Path").and_then(Value::as_str) else {
        return refuse("Could not read: the entry has no Path".into());
    };
    let method = entry
        .get("Method")
        .and_then(Value::as_str)
        .unwrap_or("GET")
        .to_ascii_uppercase();
    // A path after the WSAPI base, or a whole URL.
    let target = match target.find(PREFIX) {
        Some(at) => &target[at + PREFIX.len()..],
        None => target,
    };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let path = crate::url::decode_component(path, false);
    let segments: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| s.strip_suffix(".js").unwrap_or(s))
        .collect();
    if !matches!(method.as_str(), "POST" | "PUT" | "DELETE")
        || segments
            .first()
            .is_some_and(|s| s.eq_ignore_ascii_case("batch"))
    {
        return refuse(format!(
            "{method} {path} cannot be part of a batch here: only creates, updates and deletes"
        ));
    }
    let body = match entry.get("Body") {
        Some(b) if !b.is_null() => serde_json::to_vec(b).unwrap_or_default(),
        _ => Vec::new(),
    };
    let sub = HttpRequest {
        method: method.clone(),
        path: format!("{PREFIX}{path}"),
        target: format!("{PREFIX}{target}"),
        query: crate::url::split_query(query),
        headers: outer.headers.clone(),
        body,
    };
    let reply = write(store, base, &sub, account, &method, &segments);
    let answer: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
    let inner = answer
        .as_object()
        .and_then(|o| o.values().find(|v| v.is_object()))
        .cloned()
        .unwrap_or(Value::Null);
    let strings = |key: &str| -> Vec<String> {
        inner
            .get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut errs = strings("Errors");
    if !(200..300).contains(&reply.status) && errs.is_empty() {
        errs.push(format!("HTTP {}", reply.status));
    }
    let object = inner
        .get("Object")
        .cloned()
        .or_else(|| (errs.is_empty()).then(|| json!({})));
    (object, errs, strings("Warnings"))
}
