//! Link a test case to a user story: create the Rally test case with the first user
//! story as its WorkProduct and a link back to the source test in its Description.
//! A test case with the same name on the same story is reused, never duplicated.

use super::driver::{Action, Logic, RallySession, SessionOptions};
use super::link::{Call, Credentials, Link, Outcome};
use super::lookup::{find, find_id, given_ref};
use super::session_end;
use super::wsapi::{self, Page, eq, ref_of, text_of};
use crate::autofill::short_ref;
use crate::error::{Error, Result};
use crate::matching::details::html_escape;
use crate::rally::payload::RallyConfig;
use crate::rally::query::{Condition, Expr, Operator, Value as QValue};
use crate::sync::details::Details;
use crate::sync::details::rally::LinkedTestCase;
use crate::sync::report::{Entry, Ledger, RecordKind, Report};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LinkRequest {
    /// The test case's Name.
    pub name: String,
    /// User stories (FormattedIDs like `US12`, or refs); the first one is linked.
    pub stories: Vec<String>,
    /// Where the source test lives (its page in the other tool, its file in git).
    pub source_url: Option<String>,
    pub source_label: Option<String>,
    /// More text for the Description.
    pub description: Option<String>,
    /// `Automated` unless given.
    pub method: Option<String>,
    /// Find the test case by `(Description contains "<source_url>")` instead of its
    /// name on the story, and show the URL as written, so that this query (anyone's)
    /// finds it: the identity of a test case made from another tool's test.
    pub match_source: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkInput {
    pub request: LinkRequest,
    pub workspace: Option<String>,
    pub project: Option<String>,
}

pub type LinkTestCase = RallySession<LinkCase>;

impl RallySession<LinkCase> {
    pub fn new(
        rally: &RallyConfig,
        request: LinkRequest,
        credentials: Credentials,
        options: SessionOptions,
    ) -> Result<LinkTestCase> {
        let base = wsapi::base_url(rally.url.as_deref())?;
        if request.name.trim().is_empty() {
            return Err(Error::new("rally.no_name", "the test case needs a name"));
        }
        let Some(first) = request.stories.first() else {
            return Err(
                Error::new("rally.no_story", "no user story to link the test case to")
                    .with_hint("give the FormattedID (US12) or ref of the story"),
            );
        };
        let story = given_ref(first);
        if story.is_none() && find_id(first, None).is_none() {
            return Err(Error::new(
                "rally.bad_id",
                format!("{first:?} is neither a user story FormattedID nor a ref"),
            ));
        }
        let logic = LinkCase {
            story,
            ..LinkCase::default()
        };
        let input = LinkInput {
            request,
            workspace: rally.workspace.as_deref().map(short_ref),
            project: rally.project.as_deref().map(short_ref),
        };
        let link = Link::new(base, credentials, options.retry, options.seed);
        Ok(RallySession::build(input, logic, link))
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Awaiting {
    #[default]
    Nothing,
    Story,
    Existing,
    Create,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LinkCase {
    awaiting: Awaiting,
    story: Option<String>,
    looked: bool,
    tries: u32,
    result: Option<LinkedTestCase>,
    ledger: Ledger,
    error: Option<Error>,
    retryable: bool,
}

/// A source URL as the Description shows it (see `LinkRequest::match_source`).
fn source_text(url: &str) -> String {
    url.replace('"', "%22")
        .replace('<', "%3C")
        .replace('>', "%3E")
}

impl LinkCase {
    fn description(input: &LinkInput) -> String {
        let r = &input.request;
        let mut parts = Vec::new();
        if let Some(url) = r.source_url.as_deref().filter(|_| r.match_source) {
            let label = html_escape(r.source_label.as_deref().unwrap_or("Source"));
            // Only what would break the markup is escaped: the text stays the URL.
            let text = source_text(url);
            parts.push(format!("{label}: <a href=\"{text}\">{text}</a>"));
        } else if let Some(url) = &r.source_url {
            let label = r.source_label.clone().unwrap_or_else(|| url.clone());
            parts.push(format!(
                "Automated test: <a href=\"{}\">{}</a>",
                html_escape(url),
                html_escape(&label)
            ));
        }
        if let Some(d) = &r.description {
            parts.push(html_escape(d));
        }
        parts.join("<br/>")
    }
}

impl Logic for LinkCase {
    type Input = LinkInput;

    fn advance(&mut self, input: &LinkInput) -> Action {
        if self.error.is_some() || self.result.is_some() {
            return Action::Finish;
        }
        let ws = input.workspace.as_deref();
        let Some(story) = self.story.clone() else {
            let first = input.request.stories.first().cloned().unwrap_or_default();
            let Some(call) = find_id(&first, ws) else {
                return Action::Finish;
            };
            self.awaiting = Awaiting::Story;
            return Action::Call(call);
        };
        let name = input.request.name.trim().to_string();
        if !self.looked {
            let expr = match input.request.source_url.as_deref() {
                Some(url) if input.request.match_source => Expr::Condition(Condition::new(
                    "Description",
                    Operator::Contains,
                    vec![QValue::quoted(&source_text(url))],
                )),
                _ => Expr::and(
                    eq("Name", QValue::quoted(&name)),
                    eq("WorkProduct", QValue::bare(&story)),
                ),
            };
            self.awaiting = Awaiting::Existing;
            return Action::Call(find(
                "testcase",
                &expr,
                "FormattedID,ObjectID,Name",
                ws,
                format!("look for test case {name:?}"),
            ));
        }
        if self.tries >= session_end::MAX_CREATE_TRIES {
            self.stop(session_end::create_answers_lost(), true);
            return Action::Finish;
        }
        let mut fields = Map::new();
        fields.insert("Name".into(), json!(name));
        fields.insert("WorkProduct".into(), json!(story));
        fields.insert(
            "Method".into(),
            json!(
                input
                    .request
                    .method
                    .clone()
                    .unwrap_or_else(|| "Automated".into())
            ),
        );
        let description = Self::description(input);
        if !description.is_empty() {
            fields.insert("Description".into(), json!(description));
        }
        for (k, v) in [("Project", &input.project), ("Workspace", &input.workspace)] {
            if let Some(v) = v {
                fields.insert(k.into(), json!(v));
            }
        }
        self.tries += 1;
        self.awaiting = Awaiting::Create;
        Action::Call(Call::post(
            "/testcase/create?fetch=FormattedID,ObjectID,Name".into(),
            json!({ "TestCase": Value::Object(fields) }).to_string(),
            format!("create test case {name:?}"),
        ))
    }

    fn on_outcome(&mut self, input: &LinkInput, outcome: Outcome) {
        let awaiting = std::mem::take(&mut self.awaiting);
        let v = match outcome {
            Outcome::Ok(v) => v,
            Outcome::GaveUp(e) => return self.stop(e, true),
            // The create may have happened: look again first.
            Outcome::Unknown(_) => {
                self.looked = false;
                return;
            }
            Outcome::Refused(e) => return self.stop(e, false),
        };
        let name = input.request.name.trim().to_string();
        match awaiting {
            Awaiting::Story => match Page::read(&v, "look up the user story")
                .map(|page| page.results.first().and_then(ref_of))
            {
                Err(e) => self.stop(e, true),
                Ok(Some(r)) => self.story = Some(r),
                Ok(None) => {
                    let id = input.request.stories.first().cloned().unwrap_or_default();
                    self.stop(
                        Error::new(
                            "rally.no_such_story",
                            format!("there is no user story {id} in the workspace"),
                        ),
                        false,
                    )
                }
            },
            Awaiting::Existing => {
                // Read as "not there", an unreadable answer would create a second one.
                let page = match Page::read(&v, "look for the test case") {
                    Ok(page) => page,
                    Err(e) => return self.stop(e, true),
                };
                self.looked = true;
                if let Some(tc) = page.results.first() {
                    let found = LinkedTestCase {
                        formatted_id: text_of(tc, "FormattedID"),
                        reference: ref_of(tc),
                        name: name.clone(),
                        work_product: self.story.clone(),
                        created: self.tries > 0,
                    };
                    let entry = Entry::new(
                        RecordKind::TestCase,
                        found.formatted_id.clone().unwrap_or(name),
                        if self.tries > 0 {
                            "created; the answer was lost, and a second look found it"
                        } else {
                            "a test case with this name is already linked to the story"
                        },
                    )
                    .with_ref(found.reference.clone());
                    if self.tries > 0 {
                        self.ledger.created.push(entry);
                    } else {
                        self.ledger.skipped.push(entry);
                    }
                    self.result = Some(found);
                }
            }
            Awaiting::Create => {
                // An answer without the new test case: it may be there; look first.
                let Some(object) = wsapi::created_object(&v).cloned() else {
                    self.looked = false;
                    return;
                };
                let made = LinkedTestCase {
                    formatted_id: text_of(&object, "FormattedID"),
                    reference: ref_of(&object),
                    name: name.clone(),
                    work_product: self.story.clone(),
                    created: true,
                };
                self.ledger.created.push(
                    Entry::new(
                        RecordKind::TestCase,
                        made.formatted_id.clone().unwrap_or(name),
                        "created and linked to the user story",
                    )
                    .with_ref(made.reference.clone()),
                );
                self.result = Some(made);
            }
            Awaiting::Nothing => {}
        }
    }

    fn restart(&mut self) {
        if self.awaiting == Awaiting::Create {
            self.looked = false;
        }
        self.awaiting = Awaiting::Nothing;
        self.error = None;
        self.retryable = false;
    }

    fn stop(&mut self, error: Error, retryable: bool) {
        session_end::stop_once(&mut self.error, &mut self.retryable, error, retryable);
    }

    fn finish(&mut self, input: &LinkInput, link: &Link) -> Report {
        let out = self.result.clone().unwrap_or(LinkedTestCase {
            formatted_id: None,
            reference: None,
            name: input.request.name.clone(),
            work_product: self.story.clone(),
            created: false,
        });
        session_end::report(
            self.ledger.clone(),
            link,
            self.error.clone(),
            self.retryable,
            Details::LinkTestCase(out),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::protocol::Method;
    use crate::sync::rally::testkit::{BASE, FakeRally, Fault, Run, drive};
    use std::collections::BTreeMap;

    fn config() -> RallyConfig {
        RallyConfig {
            url: Some(BASE.into()),
            project: Some("/project/2".into()),
            ..RallyConfig::default()
        }
    }

    fn request() -> LinkRequest {
        LinkRequest {
            name: "checkout pays by card".into(),
            stories: vec!["US1".into(), "US2".into()],
            source_url: Some("https://gitlab.example.com/shop/-/blob/main/PaymentTest.java".into()),
            source_label: Some("PaymentTest.paysByCard".into()),
            ..LinkRequest::default()
        }
    }

    fn run(r: &mut FakeRally) -> Report {
        let mut s = LinkTestCase::new(
            &config(),
            request(),
            Credentials::ApiKey("good-key".into()),
            SessionOptions::default(),
        )
        .unwrap();
        drive(&mut s, r, &BTreeMap::new(), &mut Run::default())
    }

    #[test]
    fn creates_the_case_on_the_first_story_once() {
        let mut r = FakeRally::new();
        let story = r.add(
            "hierarchicalrequirement",
            serde_json::json!({"FormattedID": "US1", "Name": "Pay"}),
        );
        r.fault(Method::Post, "/testcase/create", Fault::DropAfterApply);
        let report = run(&mut r);
        assert_eq!(report.error, None);
        let cases = r.all("testcase");
        assert_eq!(cases.len(), 1);
        assert_eq!(cases[0]["WorkProduct"], serde_json::json!(story));
        assert_eq!(cases[0]["Method"], "Automated");
        assert_eq!(cases[0]["Project"], "/project/2");
        assert!(cases[0]["Description"].as_str().unwrap().contains("href=\"https://gitlab.example.com/shop/-/blob/main/PaymentTest.java\">PaymentTest.paysByCard</a>"));
        let Details::LinkTestCase(out) = &report.details else {
            panic!()
        };
        assert_eq!(out.formatted_id.as_deref(), Some("TC1"));
        assert!(out.created);
        // Again: found, not created.
        let again = run(&mut r);
        assert_eq!(r.all("testcase").len(), 1);
        assert_eq!(again.skipped.len(), 1);
    }

    #[test]
    fn an_unreadable_look_after_a_lost_answer_stops_instead_of_creating_again() {
        let mut r = FakeRally::new();
        r.add(
            "hierarchicalrequirement",
            serde_json::json!({"FormattedID": "US1", "Name": "Pay"}),
        );
        r.fault(Method::Post, "/testcase/create", Fault::DropAfterApply);
        // The look before the create is answered; the one after the lost answer is not.
        r.fault(Method::Get, "/testcase", Fault::Pass);
        r.fault(
            Method::Get,
            "/testcase",
            Fault::Garbage(r#"{"QueryResult": {"TotalResultCount": "many", "Results": 7}}"#.into()),
        );
        let report = run(&mut r);
        assert_eq!(r.all("testcase").len(), 1);
        assert_eq!(
            report.error.map(|e| e.code).as_deref(),
            Some("rally.bad_answer")
        );
    }

    #[test]
    fn an_unknown_story_is_a_clear_error() {
        let mut r = FakeRally::new();
        let report = run(&mut r);
        assert_eq!(report.error.unwrap().code, "rally.no_such_story");
        assert!(r.all("testcase").is_empty());
    }
}
