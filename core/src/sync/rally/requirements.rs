//! Import requirements: the user stories of the selected projects, all of them or
//! those a (normalised) query selects, with only the fields asked for; then
//! incremental polls that add `(LastUpdateDate > since)`.

use super::driver::{Action, Logic, RallySession, SessionOptions};
use super::link::{Call, Credentials, Link, Outcome};
use super::wsapi::{self, Page, Query, ref_of, text_of};
use crate::autofill::short_ref;
use crate::config::context::{format_millis, parse_timestamp};
use crate::error::{Error, Result};
use crate::rally::payload::RallyConfig;
use crate::rally::query::{self, Options};
use crate::sync::details::Details;
use crate::sync::details::rally::{Requirement, RequirementsOutput};
use crate::sync::report::{Ledger, Report};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What to import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RequirementsRequest {
    /// Project refs; the configured project (or the whole workspace) when empty.
    pub projects: Vec<String>,
    /// A Rally query as people write it; normalised before it is sent.
    pub query: Option<String>,
    /// The active fields to fetch, besides FormattedID, Name, Project, LastUpdateDate.
    pub fields: Vec<String>,
    /// Only stories changed after this time (the previous poll's `next_since`).
    pub since: Option<String>,
    /// IANA zone of dates in `query` and `since` written without one.
    pub time_zone: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequirementsInput {
    pub workspace: Option<String>,
    /// `None` stands for the whole workspace.
    pub projects: Vec<Option<String>>,
    pub query: Option<String>,
    pub order: Option<String>,
    pub fetch: String,
    pub fields: Vec<String>,
    pub since: Option<String>,
}

pub type ImportRequirements = RallySession<Requirements>;

const BASE_FIELDS: [&str; 5] = [
    "ObjectID",
    "FormattedID",
    "Name",
    "Project",
    "LastUpdateDate",
];

impl RallySession<Requirements> {
    /// Normalises the query (a query Rally would refuse fails here, with the reason).
    pub fn new(
        rally: &RallyConfig,
        request: RequirementsRequest,
        credentials: Credentials,
        options: SessionOptions,
    ) -> Result<ImportRequirements> {
        let base = wsapi::base_url(rally.url.as_deref())?;
        let qopts = Options {
            time_zone: request.time_zone.clone(),
            project: rally.project.clone(),
            ..Options::default()
        };
        let user_query = request.query.clone().unwrap_or_default();
        let (text, order) = match (&request.since, user_query.trim().is_empty()) {
            (Some(since), _) => {
                let out = query::poll_query(&user_query, since, &qopts)?;
                (Some(out.query), out.order)
            }
            (None, true) => (None, None),
            (None, false) => {
                let out = query::normalize(&user_query, &qopts)?;
                (Some(out.query), out.order)
            }
        };
        let mut fields: Vec<String> = BASE_FIELDS.iter().map(|s| s.to_string()).collect();
        for f in &request.fields {
            let f = f.trim();
            if f.is_empty() || f.contains([',', '?', '&']) {
                return Err(
                    Error::new("rally.bad_field", format!("{f:?} is not a field name"))
                        .with_hint("give Rally field names such as ScheduleState or c_Team"),
                );
            }
            if !fields.iter().any(|x| x == f) {
                fields.push(f.to_string());
            }
        }
        let projects: Vec<Option<String>> = if request.projects.is_empty() {
            vec![rally.project.as_deref().map(short_ref)]
        } else {
            request
                .projects
                .iter()
                .map(|p| Some(short_ref(p)))
                .collect()
        };
        let input = RequirementsInput {
            workspace: rally.workspace.as_deref().map(short_ref),
            projects,
            query: text,
            order,
            fetch: fields.join(","),
            fields: request.fields.clone(),
            since: request.since.clone(),
        };
        let link = Link::new(base, credentials, options.retry, options.seed);
        Ok(RallySession::build(input, Requirements::default(), link))
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Requirements {
    project: u64,
    start: u64,
    awaiting: bool,
    done: bool,
    found: Vec<Requirement>,
    error: Option<Error>,
    retryable: bool,
}

impl Logic for Requirements {
    type Input = RequirementsInput;

    fn advance(&mut self, input: &RequirementsInput) -> Action {
        if self.error.is_some() || self.done {
            return Action::Finish;
        }
        let Some(project) = input.projects.get(self.project as usize) else {
            return Action::Finish;
        };
        let mut q = Query::new("/hierarchicalrequirement", &input.fetch)
            .scoped(input.workspace.as_deref(), project.as_deref())
            .at(self.start.max(1));
        q.query = input.query.clone();
        q.order = Some(input.order.clone().unwrap_or_else(|| "ObjectID".into()));
        q.scope_down = false;
        self.awaiting = true;
        Action::Call(Call::get(
            q.to_path(),
            format!(
                "list the user stories of {}",
                project.as_deref().unwrap_or("the workspace")
            ),
        ))
    }

    fn on_outcome(&mut self, input: &RequirementsInput, outcome: Outcome) {
        self.awaiting = false;
        let v = match outcome {
            Outcome::Ok(v) => v,
            Outcome::GaveUp(e) => return self.stop(e, true),
            Outcome::Refused(e) | Outcome::Unknown(e) => return self.stop(e, false),
        };
        let page = match Page::read(&v, "list the user stories") {
            Ok(page) => page,
            Err(e) => return self.stop(e, true),
        };
        for story in &page.results {
            let Some(reference) = ref_of(story) else {
                continue;
            };
            if self.found.iter().any(|r| r.reference == reference) {
                continue;
            }
            let fields: BTreeMap<String, String> = input
                .fields
                .iter()
                .map(|f| (f.clone(), field_text(story, f)))
                .collect();
            self.found.push(Requirement {
                reference,
                formatted_id: text_of(story, "FormattedID"),
                name: text_of(story, "Name"),
                project: text_of(story, "Project").map(|p| short_ref(&p)),
                last_update_date: text_of(story, "LastUpdateDate"),
                fields,
            });
        }
        match page.next_start() {
            Some(next) => self.start = next,
            None => {
                self.project += 1;
                self.start = 1;
                if self.project as usize >= input.projects.len() {
                    self.done = true;
                }
            }
        }
    }

    fn restart(&mut self) {
        self.awaiting = false;
        self.error = None;
        self.retryable = false;
        self.done = false;
    }

    fn stop(&mut self, error: Error, retryable: bool) {
        if self.error.is_none() {
            self.error = Some(error);
            self.retryable = retryable;
        }
    }

    fn finish(&mut self, input: &RequirementsInput, link: &Link) -> Report {
        let mut ledger = Ledger::default();
        for w in link.warnings() {
            ledger.warn(w.clone());
        }
        let latest = self
            .found
            .iter()
            .filter_map(|r| r.last_update_date.as_deref().and_then(parse_timestamp))
            .max()
            .map(format_millis);
        let output = RequirementsOutput {
            requirements: self.found.clone(),
            query: input.query.clone(),
            next_since: latest.or_else(|| input.since.clone()),
        };
        ledger.into_report(
            self.error.clone(),
            self.retryable,
            link.stats(),
            Details::Requirements(output),
        )
    }

    fn progress(&self) -> (u64, u64) {
        (self.found.len() as u64, 0)
    }
}

/// A field as text: strings as they are, references by name (or ref), null empty.
fn field_text(object: &serde_json::Value, field: &str) -> String {
    match object.get(field) {
        Some(serde_json::Value::Object(o)) => o
            .get("_refObjectName")
            .and_then(|n| n.as_str())
            .map(str::to_string)
            .or_else(|| text_of(object, field))
            .unwrap_or_default(),
        Some(serde_json::Value::Null) | None => String::new(),
        Some(_) => text_of(object, field).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::rally::testkit::{BASE, FakeRally, Run, drive};
    use serde_json::json;

    fn config() -> RallyConfig {
        RallyConfig {
            url: Some(BASE.into()),
            workspace: Some("/workspace/1".into()),
            project: Some("/project/2".into()),
            ..RallyConfig::default()
        }
    }

    fn rally() -> FakeRally {
        let mut r = FakeRally::new();
        r.max_page = 2;
        for (i, (state, date)) in [
            ("Defined", "2024-04-01T00:00:00.000Z"),
            ("In-Progress", "2024-05-02T08:00:00.000Z"),
            ("Defined", "2024-05-03T09:30:00.000Z"),
        ]
        .iter()
        .enumerate()
        {
            r.add(
                "hierarchicalrequirement",
                json!({"FormattedID": format!("US{}", i + 1), "Name": format!("story {i}"), "ScheduleState": state, "LastUpdateDate": date, "Project": "/project/2"}),
            );
        }
        r
    }

    fn import(request: RequirementsRequest, r: &mut FakeRally) -> Report {
        let mut s = ImportRequirements::new(
            &config(),
            request,
            Credentials::ApiKey("good-key".into()),
            SessionOptions::default(),
        )
        .unwrap();
        drive(&mut s, r, &BTreeMap::new(), &mut Run::default())
    }

    fn stories(report: &Report) -> (Vec<String>, Option<String>) {
        let Details::Requirements(out) = &report.details else {
            panic!()
        };
        let ids = out
            .requirements
            .iter()
            .filter_map(|r| r.formatted_id.clone())
            .collect();
        (ids, out.next_since.clone())
    }

    #[test]
    fn imports_all_stories_page_by_page_with_the_asked_fields() {
        let mut r = rally();
        let report = import(
            RequirementsRequest {
                fields: vec!["ScheduleState".into()],
                ..Default::default()
            },
            &mut r,
        );
        assert_eq!(report.error, None);
        let (ids, since) = stories(&report);
        assert_eq!(ids, ["US1", "US2", "US3"]);
        assert_eq!(since.as_deref(), Some("2024-05-03T09:30:00.000Z"));
        let Details::Requirements(out) = &report.details else {
            panic!()
        };
        assert_eq!(
            out.requirements[1]
                .fields
                .get("ScheduleState")
                .map(String::as_str),
            Some("In-Progress")
        );
        assert_eq!(out.requirements[0].project.as_deref(), Some("/project/2"));
        assert_eq!(report.stats.requests, 2);
    }

    #[test]
    fn a_query_is_normalised_and_polls_add_the_date() {
        let mut r = rally();
        let report = import(
            RequirementsRequest {
                query: Some("Schedule State = Defined".into()),
                ..Default::default()
            },
            &mut r,
        );
        let Details::Requirements(out) = &report.details else {
            panic!()
        };
        assert_eq!(out.query.as_deref(), Some("(ScheduleState = Defined)"));
        assert_eq!(stories(&report).0, ["US1", "US3"]);
        let report = import(
            RequirementsRequest {
                query: Some("ScheduleState = Defined".into()),
                since: Some("2024-05-01T00:00:00Z".into()),
                ..Default::default()
            },
            &mut r,
        );
        assert_eq!(
            stories(&report),
            (
                vec!["US3".to_string()],
                Some("2024-05-03T09:30:00.000Z".into())
            )
        );
        // Nothing new: the next poll starts from the same time.
        let report = import(
            RequirementsRequest {
                since: Some("2024-06-01T00:00:00Z".into()),
                ..Default::default()
            },
            &mut r,
        );
        assert_eq!(
            stories(&report),
            (vec![], Some("2024-06-01T00:00:00Z".into()))
        );
    }

    #[test]
    fn bad_queries_fail_before_any_request() {
        let e = ImportRequirements::new(
            &config(),
            RequirementsRequest {
                query: Some("(Name =".into()),
                ..Default::default()
            },
            Credentials::ApiKey("k".into()),
            SessionOptions::default(),
        )
        .unwrap_err();
        assert!(e.code.starts_with("rally_query."), "{}", e.code);
    }
}
