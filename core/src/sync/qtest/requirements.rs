//! `qtest.requirements`: Rally user stories as qTest requirements, and the qTest test
//! cases linked to them.
//!
//! The stories go in one module at the project's root (`bridge.module`, made when
//! missing). A requirement is named `US12: <story name>`; that prefix is how a story
//! finds its requirement again, so every run looks before it creates and a lost
//! answer never makes a second one. The active Rally fields (`bridge.fields`) and a
//! link back to the story (`bridge.link_field`) are written as properties, by the
//! field ids `settings/requirements/fields` lists; a requirement is updated only
//! when its name or one of those values differs. Then the links of every
//! requirement of the module are read (`linked-artifacts`), and each linked test
//! case the host does not know yet is reported with the stories it is linked to
//! (in the order linked) and its `web_url`.

use super::api::{self, encode, id_of, name_of};
use super::link::{Call, Link, Outcome};
use super::session::{Action, Logic, QtestSession, QtestStart};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::matching::details::html_escape;
use crate::sync::details::Details;
use crate::sync::details::bridge::{
    ImportedRequirement, LinkedQtestCase, QtestRequirementsOutput, RequirementAction,
};
use crate::sync::details::rally::Requirement;
use crate::sync::kind::StartOptions;
use crate::sync::protocol::Method;
use crate::sync::report::{Entry, Ledger, RecordKind, Report};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// Ids per `linked-artifacts` request: short URLs, few requests.
const IDS_PER_REQUEST: usize = 50;
/// Requirements asked per page.
const PAGE_SIZE: u64 = 100;
/// Creates of one object whose answers were all lost before giving up.
const MAX_TRIES: u32 = 3;

/// What to import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct QtestRequirementsRequest {
    /// The stories, as `rally.requirements` reports them.
    pub stories: Vec<Requirement>,
    /// qTest test cases already handled: their links are not reported again.
    pub known_cases: Vec<u64>,
    /// The Rally site, for the link back to each story (`https://rally1.rallydev.com`).
    pub rally_url: Option<String>,
}

#[derive(Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "QtestRequirementsInput")
)]
#[serde(deny_unknown_fields)]
pub struct RequirementsStart {
    config: Config,
    #[serde(default)]
    request: QtestRequirementsRequest,
}

/// A story as its requirement should be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wanted {
    pub formatted_id: String,
    pub name: String,
    /// qTest field label → value.
    pub values: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequirementsInput {
    pub site: String,
    pub project_id: u64,
    pub module: String,
    pub stories: Vec<Wanted>,
    pub known_cases: Vec<u64>,
}

pub type ImportQtestRequirements = QtestSession<QtestRequirements>;

/// The story's page in Rally: `<site>/#/detail/userstory/<ObjectID>`.
fn story_url(rally_url: &str, reference: &str) -> Option<String> {
    let oid = reference.rsplit('/').next()?.trim_end_matches(".js");
    oid.parse::<u64>().ok()?;
    let site = rally_url.trim_end_matches('/');
    let site = site.split("/slm/").next().unwrap_or(site);
    Some(format!("{site}/#/detail/userstory/{oid}"))
}

/// The requirement name of a story, and back.
fn requirement_name(id: &str, name: &str) -> String {
    format!("{id}: {}", name.trim())
}

fn story_of(name: &str) -> Option<&str> {
    let (id, _) = name.split_once(':')?;
    let id = id.trim();
    (!id.is_empty() && !id.contains(' ')).then_some(id)
}

impl QtestStart for RequirementsStart {
    type Logic = QtestRequirements;
    fn build(self, token: Option<String>, o: StartOptions) -> Result<ImportQtestRequirements> {
        let q = &self.config.qtest;
        let b = &self.config.bridge;
        b.validate()?;
        let site = api::site(q.url.as_deref())?;
        let project_id = api::project_id(q.project_id.as_ref().map(|s| s.0.as_str()))?;
        let mut stories = Vec::new();
        for s in &self.request.stories {
            let Some(id) = s.formatted_id.clone().filter(|i| !i.trim().is_empty()) else {
                return Err(Error::new(
                    "bridge.story_without_id",
                    format!("the story {} has no FormattedID", s.reference),
                ));
            };
            let mut values = BTreeMap::new();
            for (rally, label) in &b.fields {
                values.insert(
                    label.clone(),
                    s.fields.get(rally).cloned().unwrap_or_default(),
                );
            }
            if let Some(label) = &b.link_field {
                let url = self
                    .request
                    .rally_url
                    .as_deref()
                    .and_then(|u| story_url(u, &s.reference));
                let link = match url {
                    Some(u) => format!(
                        "Rally {id}: <a href=\"{}\">{}</a>",
                        html_escape(&u),
                        html_escape(&u)
                    ),
                    None => format!("Rally {id} ({})", html_escape(&s.reference)),
                };
                values.insert(label.clone(), link);
            }
            let wanted = Wanted {
                name: requirement_name(&id, s.name.as_deref().unwrap_or_default()),
                formatted_id: id,
                values,
            };
            // A story listed twice: its last state counts.
            stories.retain(|w: &Wanted| w.formatted_id != wanted.formatted_id);
            stories.push(wanted);
        }
        let input = RequirementsInput {
            site: site.clone(),
            project_id,
            module: b.module.trim().to_string(),
            stories,
            known_cases: self.request.known_cases,
        };
        let link = Link::new(site, token, o.retry, o.seed);
        Ok(QtestSession::build(
            input,
            QtestRequirements::default(),
            link,
        ))
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Stage {
    #[default]
    Module,
    CreateModule,
    Fields,
    List,
    Upsert,
    Links,
    CaseLinks,
    Cases,
    Done,
}

/// A requirement of the module, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Existing {
    id: u64,
    pid: Option<String>,
    name: String,
    /// field id → value
    values: BTreeMap<u64, String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct QtestRequirements {
    stage: Stage,
    module: Option<u64>,
    tries: u32,
    /// label → field id
    field_ids: BTreeMap<String, u64>,
    page: u64,
    /// FormattedID → requirement
    existing: BTreeMap<String, Existing>,
    next_story: usize,
    /// What the save sent for the current story would do; kept while its answer is
    /// lost, so a requirement found afterwards is reported as made, not unchanged.
    #[serde(default)]
    sent: Option<RequirementAction>,
    results: Vec<ImportedRequirement>,
    chunk: usize,
    /// New linked test cases, in the order found.
    case_ids: Vec<u64>,
    case_stories: BTreeMap<u64, Vec<String>>,
    cases: Vec<LinkedQtestCase>,
    ledger: Ledger,
    error: Option<Error>,
    retryable: bool,
}

impl QtestRequirements {
    fn project(input: &RequirementsInput) -> String {
        format!("/api/v3/projects/{}", input.project_id)
    }

    /// The properties a story's requirement should have.
    fn properties(&self, w: &Wanted) -> Vec<(u64, String)> {
        w.values
            .iter()
            .filter_map(|(label, v)| Some((*self.field_ids.get(label)?, v.clone())))
            .collect()
    }

    /// A made or changed requirement in the report's created/updated lists.
    fn record(&mut self, formatted_id: &str, action: RequirementAction) {
        let entry = |why: &str| Entry::new(RecordKind::Requirement, formatted_id.to_string(), why);
        match action {
            RequirementAction::Created => self.ledger.created.push(entry("created")),
            RequirementAction::Updated => self
                .ledger
                .updated
                .push(entry("updated: the story changed")),
            _ => {}
        }
    }

    fn requirement_ids(&self) -> Vec<u64> {
        let mut ids: Vec<u64> = self.existing.values().map(|e| e.id).collect();
        ids.sort_unstable();
        ids
    }

    fn story_of_requirement(&self, id: u64) -> Option<String> {
        self.existing
            .iter()
            .find(|(_, e)| e.id == id)
            .map(|(k, _)| k.clone())
    }

    fn upsert_call(&mut self, input: &RequirementsInput) -> Action {
        let p = Self::project(input);
        let module = self.module.unwrap_or_default();
        loop {
            let Some(w) = input.stories.get(self.next_story) else {
                self.stage = Stage::Links;
                self.chunk = 0;
                return self.advance(input);
            };
            let props = self.properties(w);
            let body = json!({
                "name": w.name,
                "properties": props.iter().map(|(id, v)| json!({"field_id": id, "field_value": v})).collect::<Vec<_>>(),
            });
            match self.existing.get(&w.formatted_id) {
                Some(e) => {
                    let same = e.name.trim() == w.name.trim()
                        && props
                            .iter()
                            .all(|(id, v)| e.values.get(id).map(String::as_str).unwrap_or("") == v);
                    if same {
                        let action = self.sent.take().unwrap_or(RequirementAction::Unchanged);
                        let (id, pid) = (e.id, e.pid.clone());
                        self.record(&w.formatted_id, action);
                        self.results.push(ImportedRequirement {
                            formatted_id: w.formatted_id.clone(),
                            id,
                            pid,
                            action,
                        });
                        self.next_story += 1;
                        self.tries = 0;
                        continue;
                    }
                    if self.tries >= MAX_TRIES {
                        self.stop(lost(&w.formatted_id), true);
                        return Action::Finish;
                    }
                    self.tries += 1;
                    self.sent.get_or_insert(RequirementAction::Updated);
                    return Action::Call(Call::send(
                        Method::Put,
                        format!("{p}/requirements/{}", e.id),
                        &body,
                        format!("update requirement {}", w.formatted_id),
                    ));
                }
                None => {
                    if self.tries >= MAX_TRIES {
                        self.stop(lost(&w.formatted_id), true);
                        return Action::Finish;
                    }
                    self.tries += 1;
                    self.sent = Some(RequirementAction::Created);
                    return Action::Call(Call::send(
                        Method::Post,
                        format!("{p}/requirements?parentId={module}"),
                        &body,
                        format!("create requirement {}", w.formatted_id),
                    ));
                }
            }
        }
    }

    fn read_existing(&mut self, v: &Value) -> Existing {
        let values = v
            .get("properties")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| {
                let id = p.get("field_id").and_then(Value::as_u64)?;
                let value = match p.get("field_value") {
                    Some(Value::String(s)) => s.clone(),
                    Some(Value::Null) | None => String::new(),
                    Some(other) => other.to_string(),
                };
                Some((id, value))
            })
            .collect();
        Existing {
            id: id_of(v).unwrap_or_default(),
            pid: v.get("pid").and_then(Value::as_str).map(str::to_string),
            name: name_of(v).unwrap_or_default().to_string(),
            values,
        }
    }

    fn on_ok(&mut self, input: &RequirementsInput, v: Value) {
        match self.stage {
            Stage::Module => {
                let list = v.as_array().cloned().unwrap_or_default();
                let found = list
                    .iter()
                    .find(|m| name_of(m).is_some_and(|n| n.trim() == input.module))
                    .and_then(id_of);
                match found {
                    Some(id) => {
                        self.module = Some(id);
                        self.stage = Stage::Fields;
                    }
                    None => self.stage = Stage::CreateModule,
                }
            }
            Stage::CreateModule => match id_of(&v) {
                Some(id) => {
                    self.ledger.created.push(Entry::new(
                        RecordKind::Module,
                        input.module.clone(),
                        "the module of the imported requirements",
                    ));
                    self.module = Some(id);
                    self.tries = 0;
                    self.stage = Stage::Fields;
                }
                None => self.stage = Stage::Module,
            },
            Stage::Fields => {
                let list = v.as_array().cloned().unwrap_or_default();
                for f in &list {
                    let label = f.get("label").and_then(Value::as_str);
                    if let (Some(label), Some(id)) = (label, id_of(f)) {
                        self.field_ids.entry(label.to_string()).or_insert(id);
                    }
                }
                let wanted: BTreeSet<&String> =
                    input.stories.iter().flat_map(|s| s.values.keys()).collect();
                if let Some(missing) = wanted
                    .into_iter()
                    .find(|l| !self.field_ids.contains_key(*l))
                {
                    return self.stop(
                        Error::new(
                            "bridge.no_such_field",
                            format!("qTest project {} has no requirement field {missing:?}", input.project_id),
                        )
                        .with_hint("add it in qTest (Field Settings > Requirement), or change bridge.fields / bridge.link_field"),
                        false,
                    );
                }
                self.stage = Stage::List;
                self.page = 1;
            }
            Stage::List => {
                let (items, more) = match api::items(&v, self.page, "list the requirements") {
                    Ok(x) => x,
                    Err(e) => return self.stop(e, true),
                };
                for item in &items {
                    let e = self.read_existing(item);
                    if let Some(story) = story_of(&e.name) {
                        self.existing.entry(story.to_string()).or_insert(e);
                    }
                }
                // A server may give fewer than asked: only an empty page ends the list.
                if more {
                    self.page += 1;
                } else {
                    self.stage = Stage::Upsert;
                }
            }
            Stage::Upsert => {
                let Some(w) = input.stories.get(self.next_story) else {
                    return;
                };
                let updated = self.existing.contains_key(&w.formatted_id);
                let e = self.read_existing(&v);
                if e.id == 0 {
                    // Not the requirement: look again before anything is sent twice.
                    return self.restart();
                }
                let action = self.sent.take().unwrap_or(if updated {
                    RequirementAction::Updated
                } else {
                    RequirementAction::Created
                });
                self.record(&w.formatted_id, action);
                self.results.push(ImportedRequirement {
                    formatted_id: w.formatted_id.clone(),
                    id: e.id,
                    pid: e.pid.clone(),
                    action,
                });
                self.existing.insert(w.formatted_id.clone(), e);
                self.next_story += 1;
                self.tries = 0;
            }
            Stage::Links | Stage::CaseLinks => {
                let Some(list) = v.as_array() else {
                    return self.stop(
                        Error::new(
                            "qtest.bad_answer",
                            "qTest's linked artifacts are not a list",
                        ),
                        true,
                    );
                };
                for container in list {
                    let Some(id) = id_of(container) else { continue };
                    let objects = container.get("objects").and_then(Value::as_array);
                    for o in objects.into_iter().flatten() {
                        let Some(oid) = id_of(o) else { continue };
                        if self.stage == Stage::Links {
                            if is_a(o, "test-cases", "TC-")
                                && !input.known_cases.contains(&oid)
                                && !self.case_ids.contains(&oid)
                            {
                                self.case_ids.push(oid);
                            }
                        } else if is_a(o, "requirements", "RQ-")
                            && let Some(story) = self.story_of_requirement(oid)
                        {
                            let stories = self.case_stories.entry(id).or_default();
                            if !stories.contains(&story) {
                                stories.push(story);
                            }
                        }
                    }
                }
                self.chunk += 1;
            }
            Stage::Cases => {
                let Some(&id) = self.case_ids.get(self.chunk) else {
                    return;
                };
                self.cases.push(LinkedQtestCase {
                    id,
                    pid: v.get("pid").and_then(Value::as_str).map(str::to_string),
                    name: name_of(&v).unwrap_or_default().to_string(),
                    web_url: v.get("web_url").and_then(Value::as_str).map(str::to_string),
                    stories: self.case_stories.get(&id).cloned().unwrap_or_default(),
                });
                self.chunk += 1;
            }
            Stage::Done => {}
        }
    }
}

/// A linked object of this type: by its `self` URL, else its PID's prefix.
fn is_a(o: &Value, path: &str, prefix: &str) -> bool {
    match o.get("self").and_then(Value::as_str) {
        Some(url) => url.contains(&format!("/{path}/")),
        None => o
            .get("pid")
            .and_then(Value::as_str)
            .is_some_and(|p| p.starts_with(prefix)),
    }
}

fn lost(id: &str) -> Error {
    Error::new(
        "qtest.answers_lost",
        format!("the answers to saving requirement {id} were lost {MAX_TRIES} times"),
    )
    .with_hint("run the same command again: it looks before it creates, so nothing is made twice")
}

fn ids_query(ids: &[u64]) -> String {
    encode(&ids.iter().map(u64::to_string).collect::<Vec<_>>().join(","))
}

impl Logic for QtestRequirements {
    type Input = RequirementsInput;

    fn advance(&mut self, input: &RequirementsInput) -> Action {
        if self.error.is_some() {
            return Action::Finish;
        }
        let p = Self::project(input);
        match self.stage {
            Stage::Module => Action::Call(Call::get(
                format!("{p}/modules"),
                format!("look for module {:?}", input.module),
            )),
            Stage::CreateModule => {
                if self.tries >= MAX_TRIES {
                    self.stop(lost(&input.module), true);
                    return Action::Finish;
                }
                self.tries += 1;
                Action::Call(Call::send(
                    Method::Post,
                    format!("{p}/modules"),
                    &json!({"name": input.module, "description": "User stories imported from Rally by tmbridge"}),
                    format!("create module {:?}", input.module),
                ))
            }
            Stage::Fields => Action::Call(Call::get(
                format!("{p}/settings/requirements/fields"),
                "read the requirement fields",
            )),
            Stage::List => Action::Call(Call::get(
                format!(
                    "{p}/requirements?parentId={}&page={}&size={PAGE_SIZE}",
                    self.module.unwrap_or_default(),
                    self.page.max(1)
                ),
                "list the imported requirements",
            )),
            Stage::Upsert => self.upsert_call(input),
            Stage::Links => {
                let ids = self.requirement_ids();
                match ids.chunks(IDS_PER_REQUEST).nth(self.chunk) {
                    Some(chunk) => Action::Call(Call::get(
                        format!(
                            "{p}/linked-artifacts?type=requirements&ids={}",
                            ids_query(chunk)
                        ),
                        "read the test cases linked to the requirements",
                    )),
                    None => {
                        self.stage = Stage::CaseLinks;
                        self.chunk = 0;
                        self.advance(input)
                    }
                }
            }
            Stage::CaseLinks => match self.case_ids.chunks(IDS_PER_REQUEST).nth(self.chunk) {
                Some(chunk) => Action::Call(Call::get(
                    format!(
                        "{p}/linked-artifacts?type=test-cases&ids={}",
                        ids_query(chunk)
                    ),
                    "read the requirements of the linked test cases",
                )),
                None => {
                    self.stage = Stage::Cases;
                    self.chunk = 0;
                    self.advance(input)
                }
            },
            Stage::Cases => match self.case_ids.get(self.chunk) {
                Some(id) => Action::Call(Call::get(
                    format!("{p}/test-cases/{id}"),
                    format!("read test case {id}"),
                )),
                None => {
                    self.stage = Stage::Done;
                    Action::Finish
                }
            },
            Stage::Done => Action::Finish,
        }
    }

    fn on_outcome(&mut self, input: &RequirementsInput, outcome: Outcome) {
        match outcome {
            Outcome::Ok(v) => self.on_ok(input, v),
            Outcome::GaveUp(e) => self.stop(e, true),
            Outcome::Refused(e) => self.stop(e, false),
            // A save whose answer was lost: look again before sending it again.
            Outcome::Unknown(_) => self.restart(),
        }
    }

    fn restart(&mut self) {
        self.error = None;
        self.retryable = false;
        match self.stage {
            Stage::CreateModule => self.stage = Stage::Module,
            Stage::Upsert => {
                self.stage = Stage::List;
                self.page = 1;
                self.existing.clear();
            }
            _ => {}
        }
    }

    fn stop(&mut self, error: Error, retryable: bool) {
        if self.error.is_none() {
            self.error = Some(error);
            self.retryable = retryable;
        }
    }

    fn finish(&mut self, _input: &RequirementsInput, link: &Link) -> Report {
        let out = QtestRequirementsOutput {
            module_id: self.module,
            requirements: self.results.clone(),
            linked_cases: self.cases.clone(),
        };
        self.ledger.clone().into_report(
            self.error.clone(),
            self.retryable,
            link.stats(),
            Details::QtestRequirements(out),
        )
    }

    fn units(&self) -> (u64, u64) {
        (self.next_story as u64, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_story() {
        assert_eq!(requirement_name("US12", " Pay "), "US12: Pay");
        assert_eq!(story_of("US12: Pay: by card"), Some("US12"));
        assert_eq!(story_of("Pay by card"), None);
        assert_eq!(story_of("Some text: more"), None);
    }

    #[test]
    fn the_link_back_is_the_story_page() {
        assert_eq!(
            story_url(
                "https://rally1.rallydev.com/",
                "/hierarchicalrequirement/77"
            )
            .as_deref(),
            Some("https://rally1.rallydev.com/#/detail/userstory/77")
        );
        assert_eq!(
            story_url("https://r.example.com/slm/webservice/v2.0", "x"),
            None
        );
    }
}
