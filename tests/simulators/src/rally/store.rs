//! The objects the Rally simulator holds, how they are created and changed, and the
//! ledger of everything created.

use super::types::{Inverse, Kind, TypeDef, allowed_values, max_length, type_def};
use base64::Engine;
use jiff::Timestamp;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// One stored object. References are kept as `/type/oid`.
#[derive(Debug, Clone)]
pub struct Obj {
    pub ty: &'static TypeDef,
    pub oid: u64,
    pub fields: BTreeMap<String, Value>,
}

impl Obj {
    pub fn reference(&self) -> String {
        format!("/{}/{}", self.ty.key, self.oid)
    }

    pub fn text(&self, field: &str) -> Option<&str> {
        self.fields.get(field).and_then(Value::as_str)
    }

    /// What Rally shows as `_refObjectName`.
    pub fn display_name(&self) -> String {
        for f in ["Name", "UserName", "FormattedID", "Build", "StringValue"] {
            if let Some(t) = self.text(f) {
                return t.to_string();
            }
        }
        String::new()
    }
}

/// Every record a client created, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerEntry {
    pub seq: u64,
    /// `TestCaseResult`
    pub type_name: String,
    pub object_id: u64,
    /// `/testcaseresult/123`
    pub reference: String,
    pub formatted_id: Option<String>,
    /// The attributes as stored right after the create (references as `/type/oid`).
    pub fields: BTreeMap<String, Value>,
}

/// Who may call: an API key or a user name and password, and what they may see.
#[derive(Debug, Clone)]
pub struct Account {
    pub user_oid: u64,
    pub api_key: String,
    pub username: String,
    pub password: String,
    /// Workspaces (oids) this user may use; the first is the default.
    pub workspaces: Vec<u64>,
    /// Projects (oids) this user may use; empty for every project of its workspaces.
    pub projects: Vec<u64>,
}

#[derive(Debug, Default)]
pub struct Store {
    next_oid: u64,
    pub objects: BTreeMap<u64, Obj>,
    counters: BTreeMap<&'static str, u64>,
    pub ledger: Vec<LedgerEntry>,
    pub deleted: Vec<String>,
    /// (owner ref, collection, member ref, "add" or "remove")
    pub collection_edits: Vec<(String, String, String, String)>,
    pub accounts: Vec<Account>,
    /// SecurityToken → user oid
    pub tokens: BTreeMap<String, u64>,
    pub strict_test_set_membership: bool,
}

/// `/testcase/12`, `testcase/12.js`, `https://host/slm/webservice/v2.0/TestCase/12`,
/// `{"_ref": ...}` → (type key, oid).
pub fn parse_ref(value: &Value) -> Option<(String, u64)> {
    let mut parts = ref_segments(value)?;
    let oid = parts.next()?.parse::<u64>().ok()?;
    let ty = parts.next()?.to_ascii_lowercase();
    type_def(&ty)?;
    Some((ty, oid))
}

/// The Object ID a ref ends with, read without copying it.
fn last_oid(value: &Value) -> Option<u64> {
    ref_segments(value)?.next()?.parse().ok()
}

/// The path segments of a ref (a string or `{"_ref": ...}`), last first, without a
/// trailing `/` or `.js`.
fn ref_segments(value: &Value) -> Option<std::str::RSplit<'_, char>> {
    let text = match value {
        Value::String(s) => s.as_str(),
        Value::Object(m) => m.get("_ref")?.as_str()?,
        _ => return None,
    };
    let text = text.trim().trim_end_matches('/');
    Some(text.strip_suffix(".js").unwrap_or(text).rsplit('/'))
}

pub fn format_date(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// What Rally takes in a date attribute: an ISO 8601 date-time WITH a time zone
/// (`Z` or an offset), or a bare date (midnight UTC). A date-time without a zone is
/// refused: Rally cannot know which instant it means.
pub fn parse_date(text: &str) -> Option<Timestamp> {
    let t = text.trim();
    if let Ok(ts) = t.parse::<Timestamp>() {
        return Some(ts);
    }
    // Only a bare `YYYY-MM-DD`: jiff's date parser would also take the date part of
    // a zone-less date-time, which is exactly what must be refused.
    if t.len() == 10
        && let Ok(d) = t.parse::<jiff::civil::Date>()
    {
        return d
            .to_zoned(jiff::tz::TimeZone::UTC)
            .ok()
            .map(|z| z.timestamp());
    }
    None
}

fn uuid(oid: u64) -> String {
    format!("00000000-0000-4000-8000-{oid:012}")
}

impl Store {
    pub fn new() -> Store {
        Store {
            next_oid: 10_000,
            // Rally refuses a result whose test case is not in its test set.
            strict_test_set_membership: true,
            ..Store::default()
        }
    }

    pub fn get(&self, oid: u64) -> Option<&Obj> {
        self.objects.get(&oid)
    }

    /// The object a stored or sent reference points at.
    pub fn deref(&self, value: &Value) -> Option<&Obj> {
        let (ty, oid) = parse_ref(value)?;
        self.objects.get(&oid).filter(|o| o.ty.key == ty)
    }

    /// Adds an object as it is (seeding: no validation, no ledger).
    pub fn insert(&mut self, key: &str, fields: BTreeMap<String, Value>) -> u64 {
        let ty = type_def(key).unwrap_or_else(|| panic!("unknown Rally type {key}"));
        self.next_oid += 1;
        let oid = self.next_oid;
        let now = format_date(Timestamp::now());
        let mut obj = Obj { ty, oid, fields };
        obj.fields.insert("ObjectID".into(), Value::from(oid));
        obj.fields
            .insert("ObjectUUID".into(), Value::from(uuid(oid)));
        obj.fields
            .entry("CreationDate".into())
            .or_insert_with(|| Value::from(now.clone()));
        obj.fields.insert("LastUpdateDate".into(), Value::from(now));
        obj.fields.insert("VersionId".into(), Value::from("1"));
        if let Some(prefix) = ty.prefix {
            let counter = self.counters.entry(prefix).or_insert(0);
            match obj.text("FormattedID").map(str::to_string) {
                Some(fid) => {
                    // Keep generated ids clear of the ones given by hand.
                    if let Some(n) = fid.strip_prefix(prefix).and_then(|n| n.parse::<u64>().ok()) {
                        *counter = (*counter).max(n);
                    }
                }
                None => {
                    *counter += 1;
                    obj.fields.insert(
                        "FormattedID".into(),
                        Value::from(format!("{prefix}{counter}")),
                    );
                }
            }
        }
        self.objects.insert(oid, obj);
        oid
    }

    /// Whether the account may use this workspace / project.
    pub fn may_use(&self, account: &Account, obj: &Obj) -> bool {
        match obj.ty.key {
            "workspace" => account.workspaces.contains(&obj.oid),
            "project" => {
                let ws_ok = obj
                    .fields
                    .get("Workspace")
                    .and_then(parse_ref)
                    .is_some_and(|(_, w)| account.workspaces.contains(&w));
                ws_ok && (account.projects.is_empty() || account.projects.contains(&obj.oid))
            }
            _ => true,
        }
    }

    /// The one scoping rule for query, read and write: an object is visible when the
    /// account may use its workspace and, for objects in a project (and projects
    /// themselves), that project. Global objects (subscription, users, schema) are.
    pub fn visible(&self, account: &Account, obj: &Obj) -> bool {
        match obj.ty.key {
            "workspace" | "project" => self.may_use(account, obj),
            "subscription" | "user" | "userprofile" => true,
            _ => {
                let ws_ok = obj
                    .fields
                    .get("Workspace")
                    .and_then(parse_ref)
                    .is_none_or(|(_, w)| account.workspaces.contains(&w));
                let project_ok = obj
                    .fields
                    .get("Project")
                    .and_then(|p| self.deref(p))
                    .is_none_or(|p| self.may_use(account, p));
                ws_ok && project_ok
            }
        }
    }

    /// Whether a stored collection of `owner` holds the object `member` names: what
    /// `collection(..).contains(..)` answers, without listing the whole collection
    /// (a test set of 10 000 cases is checked for each result created in it).
    fn holds(&self, owner: &Obj, field: &str, member: &Value) -> bool {
        let Some((_, oid)) = parse_ref(member).filter(|(_, oid)| self.objects.contains_key(oid))
        else {
            return false;
        };
        match owner.ty.field(field) {
            // Object IDs are unique across types: the ref's last segment is enough.
            Some((
                name,
                Kind::Collection {
                    inverse: Inverse::Stored,
                    ..
                },
            )) => owner
                .fields
                .get(name)
                .and_then(Value::as_array)
                .is_some_and(|a| a.iter().any(|v| last_oid(v) == Some(oid))),
            _ => self.collection(owner, field).contains(&oid),
        }
    }

    /// Members of a collection attribute of an object.
    pub fn collection(&self, owner: &Obj, field: &str) -> Vec<u64> {
        let Some((name, Kind::Collection { member, inverse })) = owner.ty.field(field) else {
            return Vec::new();
        };
        let own_ref = owner.reference();
        match inverse {
            Inverse::Stored => owner
                .fields
                .get(name)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(parse_ref)
                        .filter(|(_, oid)| self.objects.contains_key(oid))
                        .map(|(_, oid)| oid)
                        .collect()
                })
                .unwrap_or_default(),
            Inverse::Field(back) => self
                .objects
                .values()
                .filter(|o| o.ty.key == member)
                .filter(|o| o.fields.get(back).and_then(Value::as_str) == Some(own_ref.as_str()))
                .map(|o| o.oid)
                .collect(),
            Inverse::InCollection(coll) => self
                .objects
                .values()
                .filter(|o| o.ty.key == member)
                .filter(|o| {
                    o.fields
                        .get(coll)
                        .and_then(Value::as_array)
                        .is_some_and(|a| a.iter().any(|v| v.as_str() == Some(own_ref.as_str())))
                })
                .map(|o| o.oid)
                .collect(),
        }
    }

    /// Checks and converts the attributes a client sent. Returns the errors Rally
    /// would list.
    fn convert(
        &self,
        ty: &'static TypeDef,
        body: &Map<String, Value>,
    ) -> Result<BTreeMap<String, Value>, Vec<String>> {
        let mut out = BTreeMap::new();
        let mut errors = Vec::new();
        for (name, value) in body {
            if name.starts_with('_') {
                continue;
            }
            let Some((field, kind)) = ty.field(name) else {
                errors.push(format!(
                    "Could not read: Cannot set value for non-existent attribute {name} on {}",
                    ty.name
                ));
                continue;
            };
            if matches!(
                field,
                "ObjectID"
                    | "ObjectUUID"
                    | "CreationDate"
                    | "LastUpdateDate"
                    | "VersionId"
                    | "FormattedID"
            ) {
                continue;
            }
            if value.is_null() {
                if ty.required.contains(&field) {
                    errors.push(format!(
                        "Validation error: {}.{field} should not be null",
                        ty.name
                    ));
                } else {
                    out.insert(field.to_string(), Value::Null);
                }
                continue;
            }
            match convert_value(self, ty, field, kind, value) {
                Ok(v) => {
                    out.insert(field.to_string(), v);
                }
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }

    /// Creates an object as a client asked. `account` supplies the default workspace
    /// and project. Returns the oid, or Rally's errors. 403 problems come back as
    /// `Err(Forbidden)`.
    pub fn create(
        &mut self,
        ty: &'static TypeDef,
        body: &Map<String, Value>,
        account: &Account,
    ) -> Result<u64, CreateError> {
        if !ty.creatable {
            return Err(CreateError::Invalid(vec![format!(
                "Cannot create an object of type {}",
                ty.name
            )]));
        }
        let mut fields = self.convert(ty, body).map_err(CreateError::Invalid)?;
        fields.retain(|_, v| !v.is_null());
        self.fill_scope(ty, &mut fields, account)?;
        let missing: Vec<String> = ty
            .required
            .iter()
            .filter(|r| !fields.contains_key(**r))
            .map(|r| format!("Validation error: {}.{r} should not be null", ty.name))
            .collect();
        if !missing.is_empty() {
            return Err(CreateError::Invalid(missing));
        }
        self.validate(ty, &fields)?;
        let oid = self.insert(ty.key, fields);
        self.after_create(oid);
        let obj = &self.objects[&oid];
        self.ledger.push(LedgerEntry {
            seq: self.ledger.len() as u64 + 1,
            type_name: ty.name.to_string(),
            object_id: oid,
            reference: obj.reference(),
            formatted_id: obj.text("FormattedID").map(str::to_string),
            fields: obj.fields.clone(),
        });
        Ok(oid)
    }

    /// Workspace and project default to the account's; naming one it may not use is
    /// a 403.
    fn fill_scope(
        &self,
        ty: &'static TypeDef,
        fields: &mut BTreeMap<String, Value>,
        account: &Account,
    ) -> Result<(), CreateError> {
        let ws = match fields.get("Workspace").and_then(|v| self.deref(v)) {
            Some(w) => {
                if !self.may_use(account, w) {
                    return Err(CreateError::Forbidden(format!(
                        "Not authorized to access workspace {}",
                        w.reference()
                    )));
                }
                w.oid
            }
            None => *account.workspaces.first().unwrap_or(&0),
        };
        fields.insert("Workspace".into(), Value::from(format!("/workspace/{ws}")));
        if ty.has_project() {
            match fields.get("Project").and_then(|v| self.deref(v)) {
                Some(p) => {
                    if !self.may_use(account, p) {
                        return Err(CreateError::Forbidden(format!(
                            "Not authorized to access project {}",
                            p.reference()
                        )));
                    }
                }
                None => {
                    let default = self.objects.values().find(|o| {
                        o.ty.key == "project"
                            && o.fields.get("Workspace").and_then(Value::as_str)
                                == Some(format!("/workspace/{ws}").as_str())
                            && self.may_use(account, o)
                    });
                    if let Some(p) = default {
                        fields.insert("Project".into(), Value::from(p.reference()));
                    }
                }
            }
        }
        Ok(())
    }

    fn validate(&self, ty: &TypeDef, fields: &BTreeMap<String, Value>) -> Result<(), CreateError> {
        let invalid = |m: String| Err(CreateError::Invalid(vec![m]));
        match ty.key {
            "testcaseresult" => {
                if self.strict_test_set_membership
                    && let (Some(set), Some(tc)) = (fields.get("TestSet"), fields.get("TestCase"))
                    && let Some(set) = self.deref(set)
                    && !self.holds(set, "TestCases", tc)
                {
                    return invalid(format!(
                        "Validation error: TestCaseResult.TestCase {} is not in TestSet {}",
                        tc.as_str().unwrap_or(""),
                        set.reference()
                    ));
                }
            }
            "attachment" => {
                let content = fields.get("Content").and_then(|v| self.deref(v));
                let size = fields.get("Size").and_then(Value::as_u64);
                if let (Some(c), Some(size)) = (content, size) {
                    let actual = c
                        .text("Content")
                        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                        .map(|b| b.len() as u64);
                    if actual != Some(size) {
                        return invalid(format!(
                            "Validation error: Attachment.Size {size} does not match the {} bytes of its AttachmentContent",
                            actual.unwrap_or(0)
                        ));
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// What Rally derives from a new object.
    fn after_create(&mut self, oid: u64) {
        let Some(obj) = self.objects.get(&oid) else {
            return;
        };
        if obj.ty.key != "testcaseresult" {
            return;
        }
        let (Some(tc), date) = (
            obj.fields.get("TestCase").and_then(parse_ref),
            obj.fields.get("Date").cloned(),
        ) else {
            return;
        };
        let verdict = obj.fields.get("Verdict").cloned();
        let build = obj.fields.get("Build").cloned();
        if let Some(case) = self.objects.get_mut(&tc.1) {
            let newer = match (
                case.fields.get("LastRun").and_then(Value::as_str),
                date.as_ref().and_then(Value::as_str),
            ) {
                (Some(last), Some(d)) => parse_date(d) >= parse_date(last),
                _ => true,
            };
            if newer {
                for (k, v) in [
                    ("LastVerdict", verdict),
                    ("LastBuild", build),
                    ("LastRun", date),
                ] {
                    if let Some(v) = v {
                        case.fields.insert(k.into(), v);
                    }
                }
            }
        }
    }

    /// Changes attributes of an object.
    pub fn update(
        &mut self,
        oid: u64,
        body: &Map<String, Value>,
        account: &Account,
    ) -> Result<(), CreateError> {
        let Some(ty) = self.objects.get(&oid).map(|o| o.ty) else {
            return Err(CreateError::Invalid(vec![
                "Cannot find object to update".into(),
            ]));
        };
        let fields = self.convert(ty, body).map_err(CreateError::Invalid)?;
        // An update is checked like a create: the object as it would be afterwards.
        let mut merged = self.objects[&oid].fields.clone();
        for (k, v) in fields {
            if v.is_null() {
                merged.remove(&k);
            } else {
                merged.insert(k, v);
            }
        }
        if let Some(p) = merged.get("Project").and_then(|p| self.deref(p))
            && !self.may_use(account, p)
        {
            return Err(CreateError::Forbidden(format!(
                "Not authorized to access project {}",
                p.reference()
            )));
        }
        self.validate(ty, &merged)?;
        let obj = self.objects.get_mut(&oid).expect("checked above");
        obj.fields = merged;
        let version = obj
            .text("VersionId")
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(1);
        obj.fields
            .insert("VersionId".into(), Value::from((version + 1).to_string()));
        obj.fields.insert(
            "LastUpdateDate".into(),
            Value::from(format_date(Timestamp::now())),
        );
        Ok(())
    }

    /// Adds or removes members of a stored collection; returns the members' oids.
    pub fn edit_collection(
        &mut self,
        owner: u64,
        field: &str,
        items: &[Value],
        add: bool,
    ) -> Result<Vec<u64>, CreateError> {
        let Some(o) = self.objects.get(&owner) else {
            return Err(CreateError::Invalid(vec![
                "Cannot find object to update".into(),
            ]));
        };
        let Some((name, Kind::Collection { member, inverse })) = o.ty.field(field) else {
            return Err(CreateError::Invalid(vec![format!(
                "{} has no collection {field}",
                o.ty.name
            )]));
        };
        if inverse != Inverse::Stored {
            return Err(CreateError::Invalid(vec![format!(
                "{}.{name} cannot be edited here; set the reference on the {member} instead",
                o.ty.name
            )]));
        }
        let owner_ref = o.reference();
        let mut refs = Vec::new();
        for item in items {
            match self.deref(item).filter(|m| m.ty.key == member) {
                Some(m) => refs.push(m.reference()),
                None => {
                    return Err(CreateError::Invalid(vec![format!(
                        "Could not read: invalid reference {item} for {}.{name}",
                        o.ty.name
                    )]));
                }
            }
        }
        let obj = self.objects.get_mut(&owner).expect("checked above");
        let list = obj
            .fields
            .entry(name.to_string())
            .or_insert_with(|| Value::Array(Vec::new()));
        if !list.is_array() {
            *list = Value::Array(Vec::new());
        }
        let arr = list.as_array_mut().expect("made an array above");
        for r in &refs {
            let present = arr.iter().any(|v| v.as_str() == Some(r.as_str()));
            if add && !present {
                arr.push(Value::from(r.clone()));
            }
            if !add {
                arr.retain(|v| v.as_str() != Some(r.as_str()));
            }
            self.collection_edits.push((
                owner_ref.clone(),
                name.to_string(),
                r.clone(),
                if add { "add" } else { "remove" }.into(),
            ));
        }
        Ok(refs
            .iter()
            .filter_map(|r| parse_ref(&Value::from(r.clone())))
            .map(|(_, o)| o)
            .collect())
    }

    pub fn delete(&mut self, oid: u64) -> bool {
        match self.objects.remove(&oid) {
            Some(o) => {
                self.deleted.push(o.reference());
                true
            }
            None => false,
        }
    }
}

/// Why a write was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateError {
    /// Errors listed in the envelope (HTTP 200).
    Invalid(Vec<String>),
    /// No access to the workspace or project (HTTP 403).
    Forbidden(String),
}

fn convert_value(
    store: &Store,
    ty: &TypeDef,
    field: &str,
    kind: Kind,
    value: &Value,
) -> Result<Value, String> {
    let bad = |what: &str| {
        format!(
            "Could not convert: {value} is not a valid {what} for {}.{field}",
            ty.name
        )
    };
    match kind {
        Kind::Text => {
            let s = match value {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return Err(bad("text")),
            };
            if ty.key == "attachmentcontent"
                && field == "Content"
                && base64::engine::general_purpose::STANDARD.decode(&s).is_err()
            {
                return Err(bad("base64 text"));
            }
            if let Some(allowed) = allowed_values(ty.key, field)
                && !allowed.contains(&s.as_str())
            {
                return Err(format!(
                    "Could not convert: {:?} is not a valid value for {}.{field}; allowed: {}",
                    s,
                    ty.name,
                    allowed.join(", ")
                ));
            }
            if let Some(max) = max_length(ty.key, field, kind)
                && s.chars().count() > max
            {
                return Err(format!(
                    "Validation error: {}.{field} length is greater than the maximum length of {max}",
                    ty.name
                ));
            }
            Ok(Value::from(s))
        }
        Kind::Int => value
            .as_u64()
            .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
            .map(Value::from)
            .ok_or_else(|| bad("whole number")),
        Kind::Decimal => value
            .as_f64()
            .or_else(|| value.as_str().and_then(|s| s.trim().parse().ok()))
            .filter(|f| f.is_finite())
            .map(Value::from)
            .ok_or_else(|| bad("number")),
        Kind::Bool => value
            .as_bool()
            .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
            .map(Value::from)
            .ok_or_else(|| bad("boolean")),
        Kind::Date => value
            .as_str()
            .and_then(parse_date)
            .map(|t| Value::from(format_date(t)))
            .ok_or_else(|| {
                format!(
                    "Could not convert: Cannot parse date {value} for {}.{field}: give an ISO 8601 date-time with a time zone (2024-05-01T10:00:00Z or 2024-05-01T12:00:00+02:00) or a date (2024-05-01)",
                    ty.name
                )
            }),
        Kind::Ref(targets) => {
            let obj = store
                .deref(value)
                .filter(|o| targets.contains(&o.ty.key))
                .ok_or_else(|| {
                    format!(
                        "Could not read: Could not find the object referenced by {value} for {}.{field}",
                        ty.name
                    )
                })?;
            Ok(Value::from(obj.reference()))
        }
        Kind::Collection { member, inverse } => {
            if inverse != Inverse::Stored {
                return Err(format!(
                    "Could not set {}.{field}: set the reference on each {member} instead",
                    ty.name
                ));
            }
            let items = value.as_array().ok_or_else(|| bad("list of references"))?;
            let mut refs = Vec::new();
            for item in items {
                let obj = store
                    .deref(item)
                    .filter(|o| o.ty.key == member)
                    .ok_or_else(|| bad("list of references"))?;
                refs.push(Value::from(obj.reference()));
            }
            Ok(Value::Array(refs))
        }
    }
}
