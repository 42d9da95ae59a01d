//! Submit a defect from the auto-fill output: link it to the test case, the user
//! story and the test run (FormattedIDs are looked up), create it, and return its
//! FormattedID, summary (Name) and State. After a lost answer, look before
//! creating again. A defect filed from a qTest run also finds the Rally test case
//! made from the run's qTest test case (`case_link`) and gets the run's files
//! (`files`).

mod case_link;
mod files;

use super::driver::{Action, Logic, RallySession, SessionOptions};
use super::link::{Call, Credentials, Link, Outcome};
use super::lookup::{find, find_id, given_ref};
use super::session_end;
use super::wsapi::{self, Page, eq, ref_of, text_of};
use crate::autofill::{Payload, PayloadValue, short_ref};
use crate::error::{Error, Result};
use crate::rally::payload::RallyConfig;
use crate::rally::query::{Expr, Value as QValue};
use crate::sync::details::Details;
use crate::sync::details::rally::{DefectAttachment, DefectOutput};
use crate::sync::report::{Entry, Ledger, RecordKind, Report};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DefectRequest {
    /// `FillOutput::payload`: `{"Defect": {...}}`.
    pub payload: Payload,
    /// Links the payload may lack: FormattedIDs (`TC3`, `US12`) or refs.
    pub test_case: Option<String>,
    pub requirement: Option<String>,
    /// The TestCaseResult ref of the run.
    pub test_case_result: Option<String>,
    /// A qTest test case's web address: the Rally test case whose Description holds
    /// it is linked, with its user story (WorkProduct), unless given above.
    pub test_case_link: Option<String>,
    /// Files to attach to the defect once it is there.
    pub attachments: Vec<DefectAttachment>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefectInput {
    pub request: DefectRequest,
    pub type_name: String,
    pub workspace: Option<String>,
}

pub type SubmitDefect = RallySession<Defect>;

/// Link fields of a defect and the request field that fills each.
const LINKS: [&str; 3] = ["TestCase", "Requirement", "TestCaseResult"];

impl RallySession<Defect> {
    pub fn new(
        rally: &RallyConfig,
        request: DefectRequest,
        credentials: Credentials,
        options: SessionOptions,
    ) -> Result<SubmitDefect> {
        let base = wsapi::base_url(rally.url.as_deref())?;
        let (type_name, fields) = match request.payload.iter().next() {
            Some((t, f)) if request.payload.len() == 1 => (t.clone(), f),
            _ => {
                return Err(Error::new(
                    "rally.bad_payload",
                    "the payload must hold one type, like {\"Defect\": {...}}",
                ));
            }
        };
        let name = fields.get("Name");
        if !matches!(name, Some(PayloadValue::Text(n)) if !n.trim().is_empty()) {
            return Err(
                Error::new("rally.no_name", "the defect has no Name (summary)")
                    .with_hint("fill the Name field of the form"),
            );
        }
        let mut links = Vec::new();
        for (field, value) in LINKS.iter().zip([
            &request.test_case,
            &request.requirement,
            &request.test_case_result,
        ]) {
            if fields.contains_key(*field) {
                continue;
            }
            if let Some(v) = value {
                if given_ref(v).is_none() && find_id(v, None).is_none() {
                    return Err(Error::new(
                        "rally.bad_id",
                        format!("{field}: {v:?} is neither a FormattedID nor a ref"),
                    ));
                }
                links.push(Pending {
                    field: field.to_string(),
                    value: v.clone(),
                    reference: given_ref(v),
                });
            }
        }
        let input = DefectInput {
            request,
            type_name,
            workspace: rally.workspace.as_deref().map(short_ref),
        };
        let logic = Defect {
            links,
            uploads: files::plan(&input.request.attachments),
            check_uploads: true,
            ..Defect::default()
        };
        let link = Link::new(base, credentials, options.retry, options.seed);
        Ok(RallySession::build(input, logic, link))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Pending {
    field: String,
    value: String,
    reference: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Awaiting {
    #[default]
    Nothing,
    Link,
    Existing,
    Create,
    FindCase,
    AttachList,
    AttachContent,
    AttachCreate,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Defect {
    awaiting: Awaiting,
    links: Vec<Pending>,
    /// A create was sent whose outcome is unknown: look first.
    must_look: bool,
    tries: u32,
    result: Option<DefectOutput>,
    ledger: Ledger,
    error: Option<Error>,
    retryable: bool,
    /// The test case behind `test_case_link` was looked for.
    case_searched: bool,
    uploads: Vec<files::Upload>,
    /// List the defect's attachments before uploading (it may have some already).
    #[serde(default = "yes")]
    check_uploads: bool,
}

fn yes() -> bool {
    true
}

impl Defect {
    fn body(&self, input: &DefectInput) -> serde_json::Value {
        let mut payload = input.request.payload.clone();
        if let Some(fields) = payload.get_mut(&input.type_name) {
            for l in &self.links {
                if let Some(r) = &l.reference {
                    fields.insert(l.field.clone(), PayloadValue::Text(r.clone()));
                }
            }
        }
        serde_json::to_value(payload).unwrap_or_default()
    }

    fn name(input: &DefectInput) -> String {
        match input
            .request
            .payload
            .get(&input.type_name)
            .and_then(|f| f.get("Name"))
        {
            Some(PayloadValue::Text(n)) => n.clone(),
            _ => String::new(),
        }
    }

    fn output(object: &serde_json::Value) -> DefectOutput {
        DefectOutput {
            formatted_id: text_of(object, "FormattedID"),
            reference: ref_of(object),
            name: text_of(object, "Name"),
            state: text_of(object, "State"),
            test_case: None,
            requirement: None,
            attachments: Vec::new(),
        }
    }

    /// The ref a link field of the defect holds: from the payload, else looked up.
    fn linked(&self, field: &str, input: &DefectInput) -> Option<String> {
        if let Some(PayloadValue::Text(r)) = input
            .request
            .payload
            .get(&input.type_name)
            .and_then(|f| f.get(field))
        {
            return Some(r.clone());
        }
        self.links
            .iter()
            .find(|l| l.field == field)
            .and_then(|l| l.reference.clone())
    }
}

impl Logic for Defect {
    type Input = DefectInput;

    fn advance(&mut self, input: &DefectInput) -> Action {
        if self.error.is_some() {
            return Action::Finish;
        }
        if self.result.is_some() {
            return self.next_upload(input).unwrap_or(Action::Finish);
        }
        if let Some(call) = self.find_case(input) {
            return Action::Call(call);
        }
        let ws = input.workspace.as_deref();
        if let Some(l) = self.links.iter().find(|l| l.reference.is_none())
            && let Some(call) = find_id(&l.value, ws)
        {
            self.awaiting = Awaiting::Link;
            return Action::Call(call);
        }
        let kind = input.type_name.to_ascii_lowercase();
        let body = self.body(input);
        if self.must_look {
            let mut expr = eq("Name", QValue::quoted(&Self::name(input)));
            for field in ["TestCaseResult", "TestCase", "Requirement"] {
                if let Some(r) = body[&input.type_name][field].as_str() {
                    expr = Expr::and(expr, eq(field, QValue::bare(r)));
                    break;
                }
            }
            self.awaiting = Awaiting::Existing;
            return Action::Call(find(
                &kind,
                &expr,
                "FormattedID,ObjectID,Name,State",
                ws,
                "look for the defect".into(),
            ));
        }
        if self.tries >= session_end::MAX_CREATE_TRIES {
            self.stop(session_end::create_answers_lost(), true);
            return Action::Finish;
        }
        self.tries += 1;
        self.awaiting = Awaiting::Create;
        Action::Call(Call::post(
            format!("/{kind}/create?fetch=FormattedID,ObjectID,Name,State"),
            body.to_string(),
            format!("create the {}", input.type_name),
        ))
    }

    fn on_outcome(&mut self, input: &DefectInput, outcome: Outcome) {
        let awaiting = std::mem::take(&mut self.awaiting);
        let v = match outcome {
            Outcome::Ok(v) => v,
            Outcome::GaveUp(e) => return self.stop(e, true),
            Outcome::Unknown(_) if files::is_upload(awaiting) => {
                return self.upload_unknown(awaiting);
            }
            Outcome::Unknown(_) => {
                self.must_look = true;
                return;
            }
            Outcome::Refused(e) if files::is_upload(awaiting) => {
                return self.upload_refused(awaiting, e);
            }
            Outcome::Refused(e) => return self.stop(e, false),
        };
        match awaiting {
            Awaiting::FindCase => self.on_case(input, &v),
            Awaiting::AttachList | Awaiting::AttachContent | Awaiting::AttachCreate => {
                self.on_upload(input, awaiting, &v)
            }
            Awaiting::Link => {
                let Some(pos) = self.links.iter().position(|l| l.reference.is_none()) else {
                    return;
                };
                let page = match Page::read(&v, "look up the record to link") {
                    Ok(page) => page,
                    Err(e) => return self.stop(e, true),
                };
                match page.results.first().and_then(ref_of) {
                    Some(r) => {
                        if let Some(l) = self.links.get_mut(pos) {
                            l.reference = Some(r);
                        }
                    }
                    None => {
                        let l = self.links.remove(pos);
                        self.ledger.warn(crate::error::Warning::new(
                            "rally.link_not_found",
                            format!(
                                "{} {} was not found: the defect is not linked to it",
                                l.field, l.value
                            ),
                            None,
                        ));
                    }
                }
            }
            Awaiting::Existing => {
                // Read as "not there", an unreadable answer would create a second one.
                let page = match Page::read(&v, "look for the defect") {
                    Ok(page) => page,
                    Err(e) => return self.stop(e, true),
                };
                self.must_look = false;
                if let Some(d) = page.results.first() {
                    let out = Self::output(d);
                    self.ledger.created.push(
                        Entry::new(
                            RecordKind::Defect,
                            out.formatted_id.clone().unwrap_or_default(),
                            "created; the answer was lost, and a second look found it",
                        )
                        .with_ref(out.reference.clone()),
                    );
                    self.result = Some(out);
                }
            }
            Awaiting::Create => {
                // An answer without the new defect: it may be there; look first.
                let Some(object) = wsapi::created_object(&v).cloned() else {
                    self.must_look = true;
                    return;
                };
                let mut out = Self::output(&object);
                out.name = out.name.or_else(|| Some(Self::name(input)));
                self.ledger.created.push(
                    Entry::new(
                        RecordKind::Defect,
                        out.formatted_id.clone().unwrap_or_default(),
                        "created",
                    )
                    .with_ref(out.reference.clone()),
                );
                self.result = Some(out);
            }
            Awaiting::Nothing => {}
        }
    }

    fn restart(&mut self) {
        if self.awaiting == Awaiting::Create {
            self.must_look = true;
        }
        if self.awaiting == Awaiting::AttachCreate {
            self.check_uploads = true;
        }
        self.awaiting = Awaiting::Nothing;
        self.error = None;
        self.retryable = false;
    }

    fn stop(&mut self, error: Error, retryable: bool) {
        session_end::stop_once(&mut self.error, &mut self.retryable, error, retryable);
    }

    fn finish(&mut self, input: &DefectInput, link: &Link) -> Report {
        let mut out = self.result.clone().unwrap_or(DefectOutput {
            formatted_id: None,
            reference: None,
            name: None,
            state: None,
            test_case: None,
            requirement: None,
            attachments: Vec::new(),
        });
        out.test_case = self.linked("TestCase", input);
        out.requirement = self.linked("Requirement", input);
        out.attachments = self.attached();
        session_end::report(
            self.ledger.clone(),
            link,
            self.error.clone(),
            self.retryable,
            Details::Defect(out),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::protocol::Method;
    use crate::sync::rally::testkit::{BASE, FakeRally, Fault, Run, drive};
    use std::collections::BTreeMap;

    fn request() -> DefectRequest {
        let mut fields = BTreeMap::new();
        fields.insert(
            "Name".to_string(),
            PayloadValue::Text("Checkout fails with 502".into()),
        );
        fields.insert(
            "Description".to_string(),
            PayloadValue::Text("Test run: <a href=\"https://ci/1\">TR-1</a>".into()),
        );
        DefectRequest {
            payload: BTreeMap::from([("Defect".to_string(), fields)]),
            test_case: Some("TC1".into()),
            requirement: Some("/hierarchicalrequirement/77".into()),
            test_case_result: None,
            ..DefectRequest::default()
        }
    }

    fn submit(r: &mut FakeRally, req: DefectRequest) -> Report {
        let config = RallyConfig {
            url: Some(BASE.into()),
            ..RallyConfig::default()
        };
        let mut s = SubmitDefect::new(
            &config,
            req,
            Credentials::ApiKey("good-key".into()),
            SessionOptions::default(),
        )
        .unwrap();
        drive(&mut s, r, &BTreeMap::new(), &mut Run::default())
    }

    #[test]
    fn submits_linked_and_returns_id_summary_and_state() {
        let mut r = FakeRally::new();
        let tc = r.add(
            "testcase",
            serde_json::json!({"FormattedID": "TC1", "Name": "pays"}),
        );
        let report = submit(&mut r, request());
        assert_eq!(report.error, None);
        let Details::Defect(d) = &report.details else {
            panic!()
        };
        assert_eq!(d.formatted_id.as_deref(), Some("DE1"));
        assert_eq!(d.name.as_deref(), Some("Checkout fails with 502"));
        assert_eq!(d.state.as_deref(), Some("Submitted"));
        let defects = r.all("defect");
        assert_eq!(defects[0]["TestCase"], serde_json::json!(tc));
        assert_eq!(defects[0]["Requirement"], "/hierarchicalrequirement/77");
    }

    #[test]
    fn a_lost_answer_does_not_make_a_second_defect() {
        let mut r = FakeRally::new();
        r.add(
            "testcase",
            serde_json::json!({"FormattedID": "TC1", "Name": "pays"}),
        );
        r.fault(Method::Post, "/defect/create", Fault::FailAfterApply);
        let report = submit(&mut r, request());
        assert_eq!(report.error, None);
        assert_eq!(r.all("defect").len(), 1);
        let Details::Defect(d) = &report.details else {
            panic!()
        };
        assert_eq!(d.formatted_id.as_deref(), Some("DE1"));
    }

    #[test]
    fn an_unreadable_look_after_a_lost_answer_stops_instead_of_creating_again() {
        let mut r = FakeRally::new();
        r.add(
            "testcase",
            serde_json::json!({"FormattedID": "TC1", "Name": "pays"}),
        );
        r.fault(Method::Post, "/defect/create", Fault::FailAfterApply);
        r.fault(
            Method::Get,
            "/defect",
            Fault::Garbage(r#"{"QueryResult": {"TotalResultCount": "many", "Results": 7}}"#.into()),
        );
        let report = submit(&mut r, request());
        assert_eq!(r.all("defect").len(), 1);
        assert_eq!(
            report.error.map(|e| e.code).as_deref(),
            Some("rally.bad_answer")
        );
    }

    #[test]
    fn a_payload_without_a_name_is_refused_before_sending() {
        let mut req = request();
        if let Some(f) = req.payload.get_mut("Defect") {
            f.remove("Name");
        }
        let config = RallyConfig {
            url: Some(BASE.into()),
            ..RallyConfig::default()
        };
        let e = SubmitDefect::new(
            &config,
            req,
            Credentials::ApiKey("k".into()),
            SessionOptions::default(),
        )
        .unwrap_err();
        assert_eq!(e.code, "rally.no_name");
    }
}
