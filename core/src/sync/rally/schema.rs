//! Load a Rally type's form metadata (Defect by default) into the auto-fill schema.
//!
//! WSAPI v2.0 gives a TypeDefinition's `Attributes` as a collection stub
//! (`{"_ref": ".../Attributes", "Count": n}`) and each attribute's `AllowedValues`
//! the same way, so the session reads the type, pages through its attributes, then
//! pages through the allowed values of every attribute that has some. WSAPI 1.x
//! answers with both inlined; those are used as they come.

use super::driver::{Action, Logic, RallySession, SessionOptions};
use super::link::{Call, Credentials, Link, Outcome};
use super::session_end;
use super::wsapi::{self, Page, Query, eq};
use crate::autofill::{Schema, schema_from_metadata, short_ref};
use crate::error::{Error, Result};
use crate::rally::payload::RallyConfig;
use crate::rally::query::Value as QValue;
use crate::sync::details::Details;
use crate::sync::details::rally::SchemaOutput;
use crate::sync::report::{Ledger, Report};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Which type to load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SchemaRequest {
    /// The type's ElementName: `Defect`, `TestCase`, `HierarchicalRequirement`.
    pub type_name: String,
}

impl Default for SchemaRequest {
    fn default() -> Self {
        SchemaRequest {
            type_name: "Defect".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaInput {
    pub workspace: Option<String>,
    pub type_name: String,
}

pub type LoadSchema = RallySession<SchemaLogic>;

/// What a schema-driven client reads of each attribute.
const ATTRIBUTE_FETCH: &str = "ElementName,Name,AttributeType,SchemaType,Required,ReadOnly,Hidden,Custom,Constrained,MaxLength,AllowedValueType,AllowedValues";

/// Rally lists allowed values of references (Project, Owner, Iteration...) as every
/// object of that type; those are picked in Rally, not from a list, so they are
/// not loaded.
const VALUE_LIST_TYPES: [&str; 4] = ["STRING", "RATING", "STATE", "TEXT"];

impl RallySession<SchemaLogic> {
    pub fn new(
        rally: &RallyConfig,
        request: SchemaRequest,
        credentials: Credentials,
        options: SessionOptions,
    ) -> Result<LoadSchema> {
        let base = wsapi::base_url(rally.url.as_deref())?;
        let type_name = request.type_name.trim();
        if type_name.is_empty()
            || !type_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(Error::new(
                "rally.bad_type_name",
                format!("{:?} is not a Rally type name", request.type_name),
            )
            .with_hint("give the type's ElementName, such as Defect or TestCase"));
        }
        let input = SchemaInput {
            workspace: rally.workspace.as_deref().map(short_ref),
            type_name: type_name.to_string(),
        };
        let link = Link::new(base, credentials, options.retry, options.seed);
        Ok(RallySession::build(input, SchemaLogic::default(), link))
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Stage {
    #[default]
    Type,
    Attributes,
    AllowedValues,
    Done,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SchemaLogic {
    stage: Stage,
    /// `start` of the page asked for next.
    start: u64,
    /// The TypeDefinition as read, its Attributes removed.
    type_definition: Option<Map<String, Value>>,
    attributes_ref: Option<String>,
    attributes: Vec<Value>,
    /// The attribute whose allowed values are being read.
    attribute: usize,
    values: Vec<Value>,
    schema: Option<Schema>,
    error: Option<Error>,
    retryable: bool,
}

impl Logic for SchemaLogic {
    type Input = SchemaInput;

    fn advance(&mut self, input: &SchemaInput) -> Action {
        if self.error.is_some() {
            return Action::Finish;
        }
        let start = self.start.max(1);
        match self.stage {
            Stage::Type => {
                let q = Query::new(
                    "/typedefinition",
                    "ObjectID,ElementName,Name,DisplayName,TypePath,IDPrefix,Attributes",
                )
                .filter(&eq("ElementName", QValue::quoted(&input.type_name)))
                .scoped(input.workspace.as_deref(), None);
                Action::Call(Call::get(
                    q.to_path(),
                    format!("read the type definition of {}", input.type_name),
                ))
            }
            Stage::Attributes => {
                let path = self.attributes_ref.clone().unwrap_or_default();
                Action::Call(Call::get(
                    Query::new(path, ATTRIBUTE_FETCH).at(start).to_path(),
                    format!("list the attributes of {}", input.type_name),
                ))
            }
            Stage::AllowedValues => match self.next_value_list() {
                Some((path, name)) => Action::Call(Call::get(
                    Query::new(path, "StringValue,ValueIndex")
                        .at(start)
                        .to_path(),
                    format!("list the allowed values of {}.{name}", input.type_name),
                )),
                None => {
                    self.build_schema();
                    self.stage = Stage::Done;
                    Action::Finish
                }
            },
            Stage::Done => Action::Finish,
        }
    }

    fn on_outcome(&mut self, input: &SchemaInput, outcome: Outcome) {
        let value = match outcome {
            Outcome::Ok(v) => v,
            Outcome::GaveUp(e) => return self.stop(e, true),
            Outcome::Refused(e) | Outcome::Unknown(e) => return self.stop(e, false),
        };
        let what = match self.stage {
            Stage::Type => "read the type definition",
            Stage::Attributes => "list the attributes",
            _ => "list the allowed values",
        };
        let page = match Page::read(&value, what) {
            Ok(page) => page,
            Err(e) => return self.stop(e, true),
        };
        match self.stage {
            Stage::Type => self.read_type(input, page),
            Stage::Attributes => {
                self.attributes.extend(page.results.iter().cloned());
                if !self.next_page(&page) {
                    self.stage = Stage::AllowedValues;
                    self.attribute = 0;
                }
            }
            Stage::AllowedValues => {
                self.values.extend(page.results.iter().cloned());
                if !self.next_page(&page) {
                    let values = std::mem::take(&mut self.values);
                    if let Some(Value::Object(attr)) = self.attributes.get_mut(self.attribute) {
                        attr.insert("AllowedValues".into(), Value::Array(values));
                    }
                    self.attribute += 1;
                }
            }
            Stage::Done => {}
        }
    }

    fn restart(&mut self) {
        self.error = None;
        self.retryable = false;
    }

    fn stop(&mut self, error: Error, retryable: bool) {
        session_end::stop_once(&mut self.error, &mut self.retryable, error, retryable);
    }

    fn finish(&mut self, _input: &SchemaInput, link: &Link) -> Report {
        let details = Details::Schema(SchemaOutput {
            schema: self.schema.clone(),
        });
        session_end::report(
            Ledger::default(),
            link,
            self.error.clone(),
            self.retryable,
            details,
        )
    }

    fn progress(&self) -> (u64, u64) {
        (self.attribute as u64, self.attributes.len() as u64)
    }
}

impl SchemaLogic {
    fn read_type(&mut self, input: &SchemaInput, page: Page) {
        let Some(Value::Object(mut typedef)) = page.results.into_iter().next() else {
            return self.stop(
                Error::new(
                    "rally.no_such_type",
                    format!(
                        "the workspace has no type whose ElementName is {:?}",
                        input.type_name
                    ),
                )
                .with_hint("type names are Rally's ElementNames: Defect, TestCase, HierarchicalRequirement"),
                false,
            );
        };
        match typedef.remove("Attributes") {
            // WSAPI 1.x, or a server that inlines the collection.
            Some(Value::Array(attributes)) => {
                self.attributes = attributes;
                self.stage = Stage::AllowedValues;
            }
            Some(stub @ Value::Object(_)) => match wsapi::ref_of(&stub) {
                Some(r) => {
                    self.attributes_ref = Some(r);
                    self.stage = Stage::Attributes;
                }
                None => return self.stop(no_attributes(input), true),
            },
            _ => return self.stop(no_attributes(input), true),
        }
        self.type_definition = Some(typedef);
        self.start = 1;
    }

    /// Moves `start` on; false when that was the last page.
    fn next_page(&mut self, page: &Page) -> bool {
        match page.next_start() {
            Some(next) => {
                self.start = next;
                true
            }
            None => {
                self.start = 1;
                false
            }
        }
    }

    /// The next attribute with an AllowedValues stub to read (skipping those that
    /// have none, or that are inline already): its collection path and name.
    fn next_value_list(&mut self) -> Option<(String, String)> {
        while let Some(attr) = self.attributes.get(self.attribute) {
            if let Some(found) = value_list(attr) {
                return Some(found);
            }
            self.attribute += 1;
            self.start = 1;
        }
        None
    }

    fn build_schema(&mut self) {
        let mut typedef = self.type_definition.clone().unwrap_or_default();
        typedef.insert(
            "Attributes".into(),
            Value::Array(std::mem::take(&mut self.attributes)),
        );
        let document = serde_json::json!({ "TypeDefinition": typedef });
        match schema_from_metadata(document.to_string().as_bytes()) {
            Ok(schema) => self.schema = Some(schema),
            Err(e) => self.stop(e, false),
        }
    }
}

fn no_attributes(input: &SchemaInput) -> Error {
    Error::new(
        wsapi::BAD_ANSWER,
        format!(
            "Rally's type definition of {} has no Attributes collection",
            input.type_name
        ),
    )
    .with_hint("run the same command again; if it repeats, check that rally.url reaches Rally's WSAPI v2.0")
}

/// An attribute's AllowedValues collection, when it is a stub worth reading.
fn value_list(attr: &Value) -> Option<(String, String)> {
    let stub = attr.get("AllowedValues")?.as_object()?;
    let count = stub.get("Count").and_then(Value::as_u64);
    if count == Some(0) {
        return None;
    }
    let kind = attr
        .get("AttributeType")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_ascii_uppercase();
    if !VALUE_LIST_TYPES.contains(&kind.as_str()) {
        return None;
    }
    let path = stub.get("_ref").and_then(Value::as_str).map(short_ref)?;
    let name = attr
        .get("ElementName")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_string();
    Some((path, name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autofill::FieldKind;
    use crate::sync::protocol::Method;
    use crate::sync::rally::testkit::{FakeRally, Fault, Run, drive};
    use serde_json::json;
    use std::collections::BTreeMap;

    fn config() -> RallyConfig {
        RallyConfig {
            url: Some("https://rally.test".into()),
            workspace: Some("/workspace/1".into()),
            ..RallyConfig::default()
        }
    }

    /// A v2.0 Defect type: Attributes and AllowedValues paged separately.
    fn rally_v2() -> FakeRally {
        let mut r = FakeRally::new();
        r.max_page = 2;
        r.add_defect_type();
        r
    }

    fn load(r: &mut FakeRally) -> Report {
        let creds = Credentials::ApiKey("good-key".into());
        let mut s = LoadSchema::new(
            &config(),
            SchemaRequest::default(),
            creds,
            SessionOptions::default(),
        )
        .unwrap();
        drive(&mut s, r, &BTreeMap::new(), &mut Run::default())
    }

    fn schema(report: &Report) -> Schema {
        match &report.details {
            Details::Schema(SchemaOutput { schema: Some(s) }) => s.clone(),
            other => panic!("no schema: {other:?} {:?}", report.error),
        }
    }

    #[test]
    fn paged_attributes_and_allowed_values_make_the_schema() {
        let mut r = rally_v2();
        let report = load(&mut r);
        assert_eq!(report.error, None);
        let s = schema(&report);
        assert_eq!(s.type_name, "Defect");
        let names: Vec<&str> = s.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            ["Name", "Severity", "State", "Project", "Description"]
        );
        let severity = s.field("Severity").unwrap();
        assert_eq!(severity.kind, FieldKind::Rating);
        assert!(severity.required && severity.allowed_values_loaded);
        let values: Vec<&str> = severity
            .allowed_values
            .iter()
            .map(|v| v.value.as_str())
            .collect();
        assert_eq!(
            values,
            [
                "None",
                "Crash/Data Loss",
                "Major Problem",
                "Minor Problem",
                "Cosmetic"
            ]
        );
        assert_eq!(s.field("State").unwrap().allowed_values.len(), 4);
        // Text fields with an empty list are free text; references are picked in Rally.
        assert!(s.field("Name").unwrap().is_text_like());
        assert!(s.field("Project").unwrap().allowed_values.is_empty());
        // Pages of two: 3 pages of attributes, 3 + 2 pages of values, one type read.
        let gets = r.log.iter().filter(|(m, _)| *m == Method::Get).count();
        assert_eq!(gets, 1 + 3 + 3 + 2);
        assert!(
            !r.log
                .iter()
                .any(|(_, p)| p.contains("Project/AllowedValues"))
        );
    }

    #[test]
    fn inline_attributes_of_wsapi_1x_are_used_as_they_come() {
        let mut r = FakeRally::new();
        r.add(
            "typedefinition",
            json!({"ElementName": "Defect", "Attributes": [
                {"ElementName": "Name", "AttributeType": "STRING", "Required": true},
                {"ElementName": "Priority", "AttributeType": "RATING",
                 "AllowedValues": [{"StringValue": "High"}, {"StringValue": "Low"}]}
            ]}),
        );
        let report = load(&mut r);
        let s = schema(&report);
        assert_eq!(s.field("Priority").unwrap().allowed_values.len(), 2);
        assert_eq!(r.log.len(), 1);
    }

    #[test]
    fn an_unknown_type_and_a_bad_page_are_named() {
        let mut r = FakeRally::new();
        let report = load(&mut r);
        assert_eq!(
            report.error.map(|e| e.code),
            Some("rally.no_such_type".into())
        );
        let mut r = rally_v2();
        r.fault(
            Method::Get,
            "/typedefinition/",
            Fault::Garbage("{\"QueryResult\": {}}".into()),
        );
        let report = load(&mut r);
        let error = report.error.unwrap();
        assert_eq!(error.code, wsapi::BAD_ANSWER);
        assert!(error.message.contains("list the attributes"), "{error}");
        assert!(matches!(
            report.details,
            Details::Schema(SchemaOutput { schema: None })
        ));
    }

    #[test]
    fn a_busy_server_is_waited_for_and_the_schema_is_the_same() {
        let mut calm = rally_v2();
        let expected = schema(&load(&mut calm));
        let mut busy = rally_v2();
        busy.fault(
            Method::Get,
            "/attributedefinition/State",
            Fault::Status(429, Some(2)),
        );
        let creds = Credentials::ApiKey("good-key".into());
        let mut s = LoadSchema::new(
            &config(),
            SchemaRequest::default(),
            creds,
            SessionOptions::default(),
        )
        .unwrap();
        let mut run = Run::default();
        let report = drive(&mut s, &mut busy, &BTreeMap::new(), &mut run);
        assert_eq!(schema(&report), expected);
        assert!(run.waits.contains(&2000), "{:?}", run.waits);
    }

    #[test]
    fn a_type_name_is_checked_before_anything_is_sent() {
        let request = SchemaRequest {
            type_name: "Defect) OR (1".into(),
        };
        let creds = Credentials::ApiKey("k".into());
        let error = LoadSchema::new(&config(), request, creds, SessionOptions::default())
            .err()
            .unwrap();
        assert_eq!(error.code, "rally.bad_type_name");
    }
}
