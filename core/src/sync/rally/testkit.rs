//! For tests: a small in-memory Rally that answers the sessions' requests (queries
//! evaluated with the core's own query parser, creates, collection adds, the
//! security token), with scripted faults, and a driver loop that can "crash" and
//! resume a session from its serialised progress.

use crate::autofill::{looks_like_ref, short_ref};
use crate::rally::query::{Expr, Operator, parse};
use crate::sync::protocol::{HttpRequest, HttpResponse, Method, ResponseKind, Session, Step};
use crate::sync::report::Report;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, VecDeque};

pub const BASE: &str = "https://rally.test/slm/webservice/v2.0";

/// What goes wrong with the next matching request.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this status (and Retry-After seconds), without acting.
    Status(u16, Option<u64>),
    /// Act on the request, then lose the answer (the connection drops).
    DropAfterApply,
    /// Act, then answer 500 (a gateway losing the backend's answer).
    FailAfterApply,
    /// No connection at all.
    Refuse,
    /// Answer 200 with this body, without acting (a proxy's page, a malformed answer).
    Garbage(String),
    /// Act, then answer 200 with this body instead of the real answer.
    GarbageAfterApply(String),
    /// Answer normally: lets the next rule for the same path meet a later request.
    Pass,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub method: Method,
    /// The path (after the base) starts with this.
    pub prefix: String,
    pub fault: Fault,
}

#[derive(Debug, Clone, Default)]
pub struct FakeRally {
    /// type (lowercase) → objects (fields as JSON).
    pub store: BTreeMap<String, Vec<Map<String, Value>>>,
    /// test set oid → test case refs.
    pub members: BTreeMap<u64, Vec<String>>,
    pub next_oid: u64,
    pub faults: VecDeque<Rule>,
    /// Largest page served, to force paging.
    pub max_page: u64,
    pub api_key: Option<String>,
    /// Basic auth: "user:password" and the token handed out.
    pub basic: Option<String>,
    pub token: Option<String>,
    /// Every request seen (method, path).
    pub log: Vec<(Method, String)>,
    pub creates: u64,
    /// Collections read by path (`/typedefinition/12/Attributes`) → their items.
    pub collections: BTreeMap<String, Vec<Value>>,
    /// `/batch` answers 404, as on a Rally that does not offer it.
    pub no_batch: bool,
    /// type → (text in the create's fields, the error Rally answers): creates refused.
    pub refuse: BTreeMap<String, Vec<(String, String)>>,
}

impl FakeRally {
    pub fn new() -> FakeRally {
        FakeRally {
            next_oid: 1000,
            max_page: 2000,
            api_key: Some("good-key".into()),
            ..FakeRally::default()
        }
    }

    pub fn add(&mut self, kind: &str, fields: Value) -> String {
        let oid = self.next_oid;
        self.next_oid += 1;
        let mut obj = fields.as_object().cloned().unwrap_or_default();
        let r = format!("/{kind}/{oid}");
        obj.insert("ObjectID".into(), json!(oid));
        obj.insert("_ref".into(), json!(format!("{BASE}{r}")));
        obj.insert("_type".into(), json!(kind));
        self.store.entry(kind.to_string()).or_default().push(obj);
        r
    }

    /// A collection stub as WSAPI v2.0 gives it, its items served at its path.
    pub fn collection(&mut self, path: &str, items: Vec<Value>) -> Value {
        let stub =
            json!({"_ref": format!("{BASE}{path}"), "_type": "Collection", "Count": items.len()});
        self.collections.insert(path.to_string(), items);
        stub
    }

    /// A WSAPI v2.0 Defect type: its Attributes and each attribute's AllowedValues
    /// are collections of their own.
    pub fn add_defect_type(&mut self) {
        let mut attributes = Vec::new();
        for (name, kind, values) in [
            ("Name", "STRING", &[][..]),
            (
                "Severity",
                "RATING",
                &[
                    "None",
                    "Crash/Data Loss",
                    "Major Problem",
                    "Minor Problem",
                    "Cosmetic",
                ][..],
            ),
            (
                "State",
                "STATE",
                &["Submitted", "Open", "Fixed", "Closed"][..],
            ),
            ("Project", "OBJECT", &["every", "project"][..]),
            ("Description", "TEXT", &[][..]),
        ] {
            let items = values
                .iter()
                .enumerate()
                .map(|(i, v)| json!({"StringValue": v, "ValueIndex": i}))
                .collect();
            let stub =
                self.collection(&format!("/attributedefinition/{name}/AllowedValues"), items);
            attributes.push(json!({
                "ElementName": name,
                "Name": name,
                "AttributeType": kind,
                "Required": name == "Name" || name == "Severity",
                "AllowedValues": stub,
            }));
        }
        let td = self.add(
            "typedefinition",
            json!({"ElementName": "Defect", "Name": "Defect"}),
        );
        let stub = self.collection(&format!("{td}/Attributes"), attributes);
        if let Some(types) = self.store.get_mut("typedefinition")
            && let Some(last) = types.last_mut()
        {
            last.insert("Attributes".into(), stub);
        }
    }

    pub fn all(&self, kind: &str) -> Vec<&Map<String, Value>> {
        self.store
            .get(kind)
            .map(|v| v.iter().collect())
            .unwrap_or_default()
    }

    pub fn fault(&mut self, method: Method, prefix: &str, fault: Fault) {
        self.faults.push_back(Rule {
            method,
            prefix: prefix.into(),
            fault,
        });
    }

    pub fn handle(&mut self, req: &HttpRequest) -> HttpResponse {
        let Some(rest) = req.url.strip_prefix(BASE) else {
            return HttpResponse::answered(404, vec![], "<html>not here</html>");
        };
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let params: BTreeMap<String, String> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.to_string(), decode(v)))
            .collect();
        self.log.push((req.method, path.to_string()));
        let fault = self
            .faults
            .iter()
            .position(|r| r.method == req.method && path.starts_with(&r.prefix))
            .and_then(|i| self.faults.remove(i));
        if let Some(Rule { fault, .. }) = &fault {
            match fault {
                Fault::Status(s, after) => {
                    let headers = after
                        .map(|a| vec![("Retry-After".to_string(), a.to_string())])
                        .unwrap_or_default();
                    return HttpResponse::answered(*s, headers, "busy");
                }
                Fault::Refuse => {
                    return HttpResponse::failed(ResponseKind::ConnectFailed, "connection refused");
                }
                Fault::Garbage(body) => return HttpResponse::answered(200, vec![], body.clone()),
                _ => {}
            }
        }
        let answer = self.serve(req, path, &params);
        match fault.map(|r| r.fault) {
            Some(Fault::DropAfterApply) => {
                HttpResponse::failed(ResponseKind::Dropped, "connection reset")
            }
            Some(Fault::FailAfterApply) => HttpResponse::answered(500, vec![], "gateway error"),
            Some(Fault::GarbageAfterApply(body)) => HttpResponse::answered(200, vec![], body),
            _ => answer,
        }
    }

    fn authorized(&self, req: &HttpRequest) -> bool {
        if let (Some(k), Some(h)) = (&self.api_key, req.header("ZSESSIONID")) {
            return k == h;
        }
        if let (Some(b), Some(h)) = (&self.basic, req.header("Authorization")) {
            use base64::Engine;
            let enc = base64::engine::general_purpose::STANDARD.encode(b);
            return h == format!("Basic {enc}");
        }
        false
    }

    fn serve(
        &mut self,
        req: &HttpRequest,
        path: &str,
        params: &BTreeMap<String, String>,
    ) -> HttpResponse {
        if !self.authorized(req) {
            return HttpResponse::answered(401, vec![], "<html>Unauthorized</html>");
        }
        let ok = |v: Value| HttpResponse::answered(200, vec![], v.to_string());
        if path == "/security/authorize" {
            let token = format!("tok{}", self.next_oid);
            self.next_oid += 1;
            self.token = Some(token.clone());
            return HttpResponse::answered(
                200,
                vec![(
                    "Set-Cookie".into(),
                    "JSESSIONID=abc; Path=/; HttpOnly".into(),
                )],
                json!({"OperationResult": {"Errors": [], "Warnings": [], "SecurityToken": token}})
                    .to_string(),
            );
        }
        if req.method == Method::Post && self.basic.is_some() && self.api_key.is_none() {
            let key_ok = params
                .get("key")
                .is_some_and(|k| Some(k) == self.token.as_ref())
                && req
                    .header("Cookie")
                    .is_some_and(|c| c.contains("JSESSIONID=abc"));
            if !key_ok {
                return ok(
                    json!({"OperationResult": {"Errors": ["Not authorized to perform action: Invalid key"], "Warnings": []}}),
                );
            }
        }
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match (req.method, parts.as_slice()) {
            (Method::Get, ["user"]) => ok(
                json!({"User": {"UserName": "ci@example.com", "DisplayName": "CI Bot", "_ref": format!("{BASE}/user/1")}}),
            ),
            (Method::Get, [kind, oid]) if oid.chars().all(|c| c.is_ascii_digit()) => {
                let r = format!("{BASE}/{kind}/{oid}");
                match self
                    .all(kind)
                    .into_iter()
                    .find(|o| o.get("_ref") == Some(&json!(r)))
                {
                    Some(o) => {
                        let name = title(kind);
                        ok(json!({ name: self.render(o) }))
                    }
                    None => ok(
                        json!({"OperationResult": {"Errors": ["Cannot find object to read"], "Warnings": []}}),
                    ),
                }
            }
            (Method::Get, [kind]) => {
                let expr = params
                    .get("query")
                    .map(|q| parse(q).expect("the session sent a bad query"));
                let rows: Vec<Value> = self
                    .all(kind)
                    .into_iter()
                    .filter(|o| expr.as_ref().is_none_or(|e| self.eval(e, o)))
                    .map(|o| self.render(o))
                    .collect();
                ok(self.page(rows, params))
            }
            (Method::Get, ["testset", oid, "TestCases"]) => {
                let oid: u64 = oid.parse().unwrap_or(0);
                let rows: Vec<Value> = self
                    .members
                    .get(&oid)
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .map(|r| json!({"_ref": format!("{BASE}{r}")}))
                    .collect();
                ok(self.page(rows, params))
            }
            (Method::Get, [_, _, _]) if self.collections.contains_key(path) => {
                let rows = self.collections.get(path).cloned().unwrap_or_default();
                ok(self.page(rows, params))
            }
            (Method::Delete, [kind, oid]) => {
                let r = json!(format!("{BASE}/{kind}/{oid}"));
                let list = self.store.entry(kind.to_string()).or_default();
                let before = list.len();
                list.retain(|o| o.get("_ref") != Some(&r));
                if list.len() == before {
                    return ok(
                        json!({"OperationResult": {"Errors": ["Cannot find object to delete"], "Warnings": []}}),
                    );
                }
                ok(json!({"OperationResult": {"Errors": [], "Warnings": []}}))
            }
            (Method::Post, ["testset", oid, "TestCases", "add"]) => {
                let oid: u64 = oid.parse().unwrap_or(0);
                let body: Value = serde_json::from_str(req.body.as_deref().unwrap_or("")).unwrap();
                let list = self.members.entry(oid).or_default();
                for item in body["CollectionItems"].as_array().unwrap() {
                    let r = short_ref(item["_ref"].as_str().unwrap());
                    if !list.contains(&r) {
                        list.push(r);
                    }
                }
                ok(json!({"OperationResult": {"Errors": [], "Warnings": [], "Results": []}}))
            }
            (Method::Post, ["batch"]) if !self.no_batch => {
                let body: Value = serde_json::from_str(req.body.as_deref().unwrap_or("")).unwrap();
                let mut results = Vec::new();
                let mut errors = Vec::new();
                for item in body["Batch"].as_array().cloned().unwrap_or_default() {
                    let entry = &item["Entry"];
                    let path = entry["Path"].as_str().unwrap_or("");
                    let path = path.split('?').next().unwrap_or("");
                    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
                    let answer = match (entry["Method"].as_str(), parts.as_slice()) {
                        (Some("POST"), [kind, "create"]) => self.create(kind, &entry["Body"]),
                        _ => Err(vec![format!("Cannot perform {path} in a batch")]),
                    };
                    match answer {
                        Ok(o) => results.push(o),
                        Err(e) => {
                            results.push(json!({ "Errors": e.clone() }));
                            errors.extend(e);
                        }
                    }
                }
                ok(json!({"BatchResult": {"Errors": errors, "Warnings": [], "Results": results}}))
            }
            (Method::Post, [kind, "create"]) => match self.create(
                kind,
                &serde_json::from_str(req.body.as_deref().unwrap_or("")).unwrap(),
            ) {
                Ok(o) => ok(json!({"CreateResult": {"Errors": [], "Warnings": [], "Object": o}})),
                Err(e) => ok(json!({"CreateResult": {"Errors": e, "Warnings": []}})),
            },
            _ => HttpResponse::answered(404, vec![], "no such endpoint"),
        }
    }

    /// A create of `{"<Type>": {...}}`: the rendered object, or Rally's errors.
    fn create(&mut self, kind: &str, body: &Value) -> Result<Value, Vec<String>> {
        let fields = body[title(kind)].clone();
        if fields.is_null() {
            return Err(vec![format!(
                "Cannot parse object: no {} in body",
                title(kind)
            )]);
        }
        if let Some(why) = self.refuse.get(kind).and_then(|rules| {
            rules
                .iter()
                .find(|(needle, _)| fields.to_string().contains(needle.as_str()))
                .map(|(_, why)| why.clone())
        }) {
            return Err(vec![why]);
        }
        if kind == "testcaseresult" && fields.get("TestSet").is_some_and(|s| !s.is_null()) {
            let set = fields["TestSet"].as_str().unwrap_or("");
            let oid: u64 = set.rsplit('/').next().unwrap_or("0").parse().unwrap_or(0);
            let tc = fields["TestCase"].as_str().unwrap_or("");
            if !self
                .members
                .get(&oid)
                .is_some_and(|m| m.iter().any(|x| x == tc))
            {
                return Err(vec![
                    "Could not create: Test Case is not part of the Test Set".into(),
                ]);
            }
        }
        self.creates += 1;
        let mut fields = fields;
        if kind == "testcase" || kind == "defect" {
            let prefix = if kind == "testcase" { "TC" } else { "DE" };
            let n = self.all(kind).len() + 1;
            fields["FormattedID"] = json!(format!("{prefix}{n}"));
            if kind == "defect" && fields.get("State").is_none() {
                fields["State"] = json!("Submitted");
            }
        }
        let r = self.add(kind, fields);
        let o = self
            .all(kind)
            .into_iter()
            .find(|o| o["_ref"] == json!(format!("{BASE}{r}")))
            .cloned()
            .unwrap();
        Ok(self.render(&o))
    }

    fn page(&self, rows: Vec<Value>, params: &BTreeMap<String, String>) -> Value {
        let start: u64 = params
            .get("start")
            .and_then(|s| s.parse().ok())
            .unwrap_or(1)
            .max(1);
        let size: u64 = params
            .get("pagesize")
            .and_then(|s| s.parse().ok())
            .unwrap_or(200)
            .min(self.max_page);
        let total = rows.len() as u64;
        let results: Vec<Value> = rows
            .into_iter()
            .skip((start - 1) as usize)
            .take(size as usize)
            .collect();
        json!({"QueryResult": {"Errors": [], "Warnings": [], "TotalResultCount": total, "StartIndex": start, "PageSize": size, "Results": results}})
    }

    /// Refs as Rally renders them: objects with a full `_ref`.
    fn render(&self, o: &Map<String, Value>) -> Value {
        let mut out = Map::new();
        for (k, v) in o {
            match v {
                Value::String(s)
                    if !k.starts_with('_') && looks_like_ref(s) && s.starts_with('/') =>
                {
                    out.insert(k.clone(), json!({"_ref": format!("{BASE}{s}")}));
                }
                _ => {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
        Value::Object(out)
    }

    fn field(&self, o: &Map<String, Value>, path: &str) -> Option<String> {
        let (head, rest) = match path.split_once('.') {
            Some((h, r)) => (h, Some(r)),
            None => (path, None),
        };
        let v = o.get(head)?;
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => return None,
        };
        match rest {
            None => Some(if looks_like_ref(&text) {
                short_ref(&text)
            } else {
                text
            }),
            Some(r) => {
                let kind = short_ref(&text)
                    .trim_start_matches('/')
                    .split('/')
                    .next()?
                    .to_string();
                let full = format!("{BASE}{}", short_ref(&text));
                let target = self
                    .all(&kind)
                    .into_iter()
                    .find(|x| x.get("_ref") == Some(&json!(full)))?;
                self.field(target, r)
            }
        }
    }

    fn eval(&self, e: &Expr, o: &Map<String, Value>) -> bool {
        match e {
            Expr::And { left, right } => self.eval(left, o) && self.eval(right, o),
            Expr::Or { left, right } => self.eval(left, o) || self.eval(right, o),
            Expr::Condition(c) => {
                let have = self.field(o, &c.field);
                let want = c.values.first().map(|v| v.text.clone()).unwrap_or_default();
                let want = if looks_like_ref(&want) {
                    short_ref(&want)
                } else {
                    want
                };
                match (c.op, have) {
                    (Operator::Eq, Some(h)) => h == want,
                    (Operator::Eq, None) => want == "null",
                    (Operator::Le, Some(h)) => h.as_str() <= want.as_str(),
                    (Operator::Ge, Some(h)) => h.as_str() >= want.as_str(),
                    (Operator::Gt, Some(h)) => h.as_str() > want.as_str(),
                    (Operator::Contains, Some(h)) => {
                        h.to_lowercase().contains(&want.to_lowercase())
                    }
                    _ => false,
                }
            }
        }
    }
}

fn title(kind: &str) -> String {
    match kind {
        "testcaseresult" => "TestCaseResult".into(),
        "testcase" => "TestCase".into(),
        "testset" => "TestSet".into(),
        "attachmentcontent" => "AttachmentContent".into(),
        "attachment" => "Attachment".into(),
        "hierarchicalrequirement" => "HierarchicalRequirement".into(),
        "defect" => "Defect".into(),
        "iteration" => "Iteration".into(),
        "workspace" => "Workspace".into(),
        "project" => "Project".into(),
        other => other.to_string(),
    }
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// What a driven session went through.
#[derive(Debug, Default)]
pub struct Run {
    pub waits: Vec<u64>,
    pub requests: Vec<HttpRequest>,
    pub reads: Vec<String>,
}

/// Drives a session against the fake to the end.
pub fn drive<S: Session>(
    s: &mut S,
    rally: &mut FakeRally,
    files: &BTreeMap<String, Vec<u8>>,
    run: &mut Run,
) -> Report {
    for _ in 0..10_000 {
        match s.next() {
            Step::Send(req) => {
                let resp = rally.handle(&req);
                run.requests.push(req.clone());
                s.receive(req.id, resp).unwrap();
            }
            Step::Wait { ms } => run.waits.push(ms),
            Step::Save => {}
            Step::Read(f) => {
                run.reads.push(f.path.clone());
                let file = files
                    .get(&f.path)
                    .cloned()
                    .ok_or_else(|| "no such file".to_string());
                s.provide_file(f.id, file).unwrap();
            }
            Step::Done(r) => return r,
        }
    }
    panic!("the session did not finish");
}
