//! Requirements, their fields and their links to test cases, as qTest Manager API v3
//! serves them.
//!
//! What this follows, and how sure it is:
//! - qTest's own swagger, as its generated client documents it (`RequirementApi`,
//!   `RequirementResource`, `ObjectlinkApi`, `LinkedArtifactContainer`,
//!   `LinkedArtifact`, `FieldApi`/`FieldResource`): **confirmed** for the paths and
//!   fields used here.
//!   - `POST /api/v3/projects/{pid}/requirements?parentId=` with `{name, properties:
//!     [{field_id, field_value}]}` creates one in a module; `PUT .../requirements/{id}`
//!     updates name and properties; `GET .../requirements/{id}` reads one;
//!     `GET .../requirements?parentId=&page=&size=` lists those directly under a
//!     module as a bare array, `page` from 1, 20 a page by default.
//!   - A requirement has `id`, `pid`, `name`, `order`, `created_date`,
//!     `last_modified_date`, `properties`, `web_url`, `parent_id`, `links`.
//!   - `GET .../settings/requirements/fields` lists the fields (`id`, `label`,
//!     `attribute_type`, `required`, `system_field`, `original_name`, ...).
//!   - `POST .../{objectType}/{objectId}/link?type=test-cases` with a JSON array of
//!     ids links them (answer: `[LinkedArtifactContainer]`);
//!     `GET .../linked-artifacts?type=requirements&ids=...` answers, per given object,
//!     `{id, pid, objects: [{id, pid, link_type, self}]}` (qTest 7.5+).
//! - **Unconfirmed**, the simulator's own choice: the `link_type` texts (`covers`,
//!   `is covered by`), that `ids` may come repeated or comma-separated (both are read),
//!   that linked objects are listed in the order they were linked, and that a
//!   property with an unknown `field_id` is ignored (as the auto-test-logs page says
//!   for test logs).

use super::requirement_store::Requirement;
use super::store::Store;
use crate::server::{HttpRequest, Reply};
use serde_json::{Value, json};

fn message(status: u16, text: &str) -> Reply {
    Reply::json(status, &json!({"message": text}))
}

fn requirement_json(base: &str, pid: u64, store: &Store, r: &Requirement) -> Value {
    let properties: Vec<Value> = r
        .properties
        .iter()
        .map(|(id, v)| {
            let name = store
                .reqs
                .fields
                .iter()
                .find(|f| f.id == *id)
                .map(|f| f.label.clone());
            json!({"field_id": id, "field_name": name, "field_value": v, "field_value_name": v})
        })
        .collect();
    json!({
        "links": [{"rel": "self", "href": format!("{base}/api/v3/projects/{pid}/requirements/{}", r.id)}],
        "id": r.id,
        "name": r.name,
        "order": r.id,
        "pid": r.pid,
        "parent_id": r.parent_id,
        "properties": properties,
        "web_url": format!("{base}/p/{pid}/portal/project#tab=requirements&object=5&id={}", r.id),
    })
}

/// The requirement routes; `None` for a path that is not one of them.
pub fn route(
    store: &mut Store,
    base: &str,
    pid: u64,
    req: &HttpRequest,
    tail: &[&str],
) -> Option<Reply> {
    let method = req.method.as_str();
    Some(match (method, tail) {
        ("GET", ["settings", "requirements", "fields"]) => {
            let list: Vec<Value> = store
                .reqs
                .fields
                .iter()
                .map(|f| {
                    json!({"id": f.id, "label": f.label, "original_name": f.label, "attribute_type": "StringText", "required": false, "system_field": f.system, "allowed_values": []})
                })
                .collect();
            Reply::json(200, &json!(list))
        }
        ("GET", ["requirements"]) => {
            let parent = num(req, "parentId");
            let list: Vec<Value> = store
                .reqs
                .items
                .iter()
                .filter(|r| parent.is_none_or(|p| r.parent_id == p))
                .map(|r| requirement_json(base, pid, store, r))
                .collect();
            let page = num(req, "page").unwrap_or(1).max(1) as usize;
            let size = num(req, "size")
                .map(|s| s as usize)
                .unwrap_or(20)
                .clamp(1, store.max_page_size);
            let slice: Vec<Value> = list
                .into_iter()
                .skip((page - 1) * size)
                .take(size)
                .collect();
            Reply::json(200, &json!(slice))
        }
        ("GET", ["requirements", id]) => match find(store, id) {
            Some(i) => Reply::json(
                200,
                &requirement_json(base, pid, store, &store.reqs.items[i]),
            ),
            None => message(404, &format!("Requirement {id} does not exist.")),
        },
        ("POST", ["requirements"]) => create(store, base, pid, req),
        ("PUT", ["requirements", id]) => update(store, base, pid, id, req),
        ("POST", ["requirements", id, "link"]) => link(store, pid, base, id, req),
        ("GET", ["linked-artifacts"]) => linked(store, base, pid, req),
        _ => return None,
    })
}

fn num(req: &HttpRequest, name: &str) -> Option<u64> {
    req.param(name).and_then(|v| v.trim().parse().ok())
}

fn find(store: &Store, id: &str) -> Option<usize> {
    store.reqs.items.iter().position(|r| r.id.to_string() == id)
}

/// The name and the (field id, value) properties a body sets.
type Sent = (Option<String>, Option<Vec<(u64, String)>>);

/// Name and properties of a body; properties of unknown fields are left out.
fn read(store: &Store, req: &HttpRequest) -> Result<Sent, Reply> {
    let v: Value = serde_json::from_slice(&req.body)
        .map_err(|e| message(400, &format!("Invalid JSON: {e}")))?;
    let name = v.get("name").and_then(Value::as_str).map(str::to_string);
    let properties = v.get("properties").and_then(Value::as_array).map(|list| {
        list.iter()
            .filter_map(|p| {
                let id = p.get("field_id").and_then(Value::as_u64)?;
                store.reqs.fields.iter().any(|f| f.id == id).then_some(())?;
                let value = match p.get("field_value") {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Null) | None => String::new(),
                    Some(other) => other.to_string(),
                };
                Some((id, value))
            })
            .collect()
    });
    Ok((name, properties))
}

fn create(store: &mut Store, base: &str, pid: u64, req: &HttpRequest) -> Reply {
    let (name, properties) = match read(store, req) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let parent = num(req, "parentId").unwrap_or(0);
    if parent != 0 && !store.modules.iter().any(|m| m.id == parent) {
        return message(404, &format!("Module {parent} does not exist."));
    }
    let Some(name) = name.filter(|n| !n.trim().is_empty()) else {
        return message(400, "Requirement name is required.");
    };
    let id = store.next_id();
    let r = Requirement {
        id,
        pid: format!("RQ-{}", store.reqs.items.len() + 1),
        name: name.clone(),
        parent_id: parent,
        properties: properties.unwrap_or_default(),
        updates: 0,
    };
    store.record("requirement", id, &r.pid, &name, parent);
    let out = requirement_json(base, pid, store, &r);
    store.reqs.items.push(r);
    Reply::json(200, &out)
}

fn update(store: &mut Store, base: &str, pid: u64, id: &str, req: &HttpRequest) -> Reply {
    let (name, properties) = match read(store, req) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(i) = find(store, id) else {
        return message(404, &format!("Requirement {id} does not exist."));
    };
    let r = &mut store.reqs.items[i];
    if let Some(name) = name.filter(|n| !n.trim().is_empty()) {
        r.name = name;
    }
    // Properties not sent keep their values, as qTest's update does.
    for (fid, value) in properties.unwrap_or_default() {
        match r.properties.iter_mut().find(|(f, _)| *f == fid) {
            Some(p) => p.1 = value,
            None => r.properties.push((fid, value)),
        }
    }
    r.updates += 1;
    let r = r.clone();
    store.record("requirement-update", r.id, &r.pid, &r.name, r.parent_id);
    Reply::json(200, &requirement_json(base, pid, store, &r))
}

fn link(store: &mut Store, pid: u64, base: &str, id: &str, req: &HttpRequest) -> Reply {
    if req.param("type") != Some("test-cases") {
        return message(400, "Only type=test-cases is served by this simulator.");
    }
    let Some(i) = find(store, id) else {
        return message(404, &format!("Requirement {id} does not exist."));
    };
    let Ok(ids) = serde_json::from_slice::<Vec<u64>>(&req.body) else {
        return message(400, "The body must be a JSON array of test case ids.");
    };
    let rid = store.reqs.items[i].id;
    for case in ids {
        if !store.cases.iter().any(|c| c.id == case) {
            return message(404, &format!("Test Case {case} does not exist."));
        }
        if !store.reqs.links.contains(&(rid, case)) {
            store.reqs.links.push((rid, case));
            store.record("link", case, "", "", rid);
        }
    }
    Reply::json(
        200,
        &json!([container(store, base, pid, "requirements", rid)]),
    )
}

/// `{id, pid, objects}` of one requirement or test case.
fn container(store: &Store, base: &str, pid: u64, kind: &str, id: u64) -> Value {
    let objects: Vec<Value> = if kind == "requirements" {
        store
            .reqs
            .links
            .iter()
            .filter(|(r, _)| *r == id)
            .filter_map(|(_, c)| store.cases.iter().find(|x| x.id == *c))
            .map(|c| json!({"id": c.id, "pid": c.pid, "link_type": "is covered by", "self": format!("{base}/api/v3/projects/{pid}/test-cases/{}", c.id)}))
            .collect()
    } else {
        store
            .reqs
            .links
            .iter()
            .filter(|(_, c)| *c == id)
            .filter_map(|(r, _)| store.reqs.items.iter().find(|x| x.id == *r))
            .map(|r| json!({"id": r.id, "pid": r.pid, "link_type": "covers", "self": format!("{base}/api/v3/projects/{pid}/requirements/{}", r.id)}))
            .collect()
    };
    let own_pid = if kind == "requirements" {
        store
            .reqs
            .items
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.pid.clone())
    } else {
        store
            .cases
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.pid.clone())
    };
    json!({"id": id, "pid": own_pid, "objects": objects})
}

fn linked(store: &Store, base: &str, pid: u64, req: &HttpRequest) -> Reply {
    let kind = req.param("type").unwrap_or_default();
    if kind != "requirements" && kind != "test-cases" {
        return message(400, &format!("Unsupported type: {kind}"));
    }
    let mut ids = Vec::new();
    for (k, v) in &req.query {
        if k == "ids" {
            for part in v.split(',') {
                match part.trim().parse::<u64>() {
                    Ok(id) => ids.push(id),
                    Err(_) => return message(400, &format!("Invalid id: {part}")),
                }
            }
        }
    }
    let list: Vec<Value> = ids
        .into_iter()
        .filter(|id| {
            if kind == "requirements" {
                store.reqs.items.iter().any(|r| r.id == *id)
            } else {
                store.cases.iter().any(|c| c.id == *id)
            }
        })
        .map(|id| container(store, base, pid, kind, id))
        .collect();
    Reply::json(200, &json!(list))
}

/// What a test sets up and checks.
impl super::QtestSim {
    /// A custom requirement field (its id); the id of the one with this label if there.
    pub fn add_requirement_field(&self, label: &str) -> u64 {
        crate::faults::lock(&self.shared.store)
            .reqs
            .add_field(label)
    }

    /// Every requirement.
    pub fn requirements(&self) -> Vec<Requirement> {
        crate::faults::lock(&self.shared.store).reqs.items.clone()
    }

    /// A requirement's value of the field with this label.
    pub fn requirement_value(&self, id: u64, label: &str) -> Option<String> {
        let s = crate::faults::lock(&self.shared.store);
        let r = s.reqs.items.iter().find(|r| r.id == id)?;
        s.reqs.value(r, label)
    }

    /// A test case made by hand in Test Design, at the root (its id).
    pub fn add_case(&self, name: &str) -> u64 {
        let mut s = crate::faults::lock(&self.shared.store);
        let id = s.next_id();
        let version_id = s.next_id();
        let pid = format!("TC-{}", s.cases.len() + 1);
        s.cases.push(super::store::TestCase {
            id,
            pid,
            name: name.into(),
            parent_id: 0,
            description: String::new(),
            steps: Vec::new(),
            properties: Vec::new(),
            version: (0, 1),
            version_id,
        });
        id
    }

    /// Links a test case to a requirement, as a person does in qTest.
    pub fn link_requirement(&self, requirement_id: u64, case_id: u64) {
        let mut s = crate::faults::lock(&self.shared.store);
        if !s.reqs.links.contains(&(requirement_id, case_id)) {
            s.reqs.links.push((requirement_id, case_id));
        }
    }

    /// The `web_url` qTest gives a test case.
    pub fn case_web_url(&self, case_id: u64) -> String {
        let pid = self.project_id();
        format!(
            "{}/p/{pid}/portal/project#tab=testdesign&object=1&id={case_id}",
            self.url()
        )
    }
}
