//! What the bridge keeps between passes, and the requests of its next steps.

use crate::config::bridge::BridgeConfig;
use crate::error::{Error, Result};
use crate::sync::details::Details;
use crate::sync::details::rally::Requirement;
use crate::sync::qtest::requirements::QtestRequirementsRequest;
use crate::sync::rally::{LinkRequest, RequirementsRequest};
use crate::sync::report::Report;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A qTest test case linked to an imported story, and its Rally test case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BridgedCase {
    pub name: String,
    pub pid: Option<String>,
    pub web_url: Option<String>,
    /// The stories it was linked to when it was found; the first one goes to Rally.
    pub stories: Vec<String>,
    /// The Rally test case's FormattedID, once it is made (or found).
    pub rally: Option<String>,
    /// Why Rally refused to make it (a story not in Rally...): it is not tried
    /// again; remove the entry from the state to try again.
    #[serde(default)]
    pub refused: Option<String>,
}

/// The bridge's saved state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BridgeState {
    /// `since` of the next poll: the newest LastUpdateDate that reached qTest.
    pub since: Option<String>,
    /// Stories read from Rally that qTest does not have yet.
    pub pending: Vec<Requirement>,
    /// The cursor once `pending` is in qTest.
    pub pending_since: Option<String>,
    /// qTest test case id → what became of it in Rally.
    pub cases: BTreeMap<u64, BridgedCase>,
}

impl BridgeState {
    /// The Rally request of the next poll: the configured stories changed since the
    /// cursor, or one story (`US12`) whatever its date.
    pub fn rally_request(
        &self,
        config: &BridgeConfig,
        story: Option<&str>,
    ) -> Result<RequirementsRequest> {
        let mut request = RequirementsRequest {
            projects: config.projects.clone(),
            query: config.query.clone(),
            fields: config.fields.keys().cloned().collect(),
            since: self.since.clone(),
            time_zone: config.time_zone.clone(),
        };
        if let Some(id) = story {
            let id = id.trim();
            if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(Error::new(
                    "bridge.bad_story",
                    format!("{id:?} is not a user story FormattedID"),
                )
                .with_hint("give it like US12"));
            }
            request.query = Some(format!("(FormattedID = \"{id}\")"));
            request.since = None;
        }
        Ok(request)
    }

    /// Takes the stories of a finished `rally.requirements` report. With `story`,
    /// the cursor stays where it was: one story says nothing about the others.
    pub fn take_rally(&mut self, report: &Report, story: bool) -> usize {
        let Details::Requirements(out) = &report.details else {
            return 0;
        };
        if report.error.is_some() {
            return 0;
        }
        for r in &out.requirements {
            self.pending.retain(|p| p.reference != r.reference);
            self.pending.push(r.clone());
        }
        if !story {
            self.pending_since = out.next_since.clone().or(self.pending_since.take());
        }
        out.requirements.len()
    }

    /// The qTest request: the pending stories, and the cases already handled.
    pub fn qtest_request(&self, rally_url: Option<&str>) -> QtestRequirementsRequest {
        QtestRequirementsRequest {
            stories: self.pending.clone(),
            known_cases: self.cases.keys().copied().collect(),
            rally_url: rally_url.map(str::to_string),
        }
    }

    /// Takes a finished `qtest.requirements` report: the pending stories are in qTest
    /// and the cursor moves on; newly linked test cases wait for their Rally test case.
    pub fn take_qtest(&mut self, report: &Report) {
        let Details::QtestRequirements(out) = &report.details else {
            return;
        };
        if report.error.is_some() {
            return;
        }
        self.pending.clear();
        if let Some(since) = self.pending_since.take() {
            self.since = Some(since);
        }
        for c in &out.linked_cases {
            if c.stories.is_empty() || self.cases.contains_key(&c.id) {
                continue;
            }
            self.cases.insert(
                c.id,
                BridgedCase {
                    name: c.name.clone(),
                    pid: c.pid.clone(),
                    web_url: c.web_url.clone(),
                    stories: c.stories.clone(),
                    rally: None,
                    refused: None,
                },
            );
        }
    }

    /// The next qTest test case without a Rally test case, and the request that makes
    /// it: on the first story, found again by the qTest page in its Description.
    pub fn next_link(&self, config: &BridgeConfig) -> Option<(u64, LinkRequest)> {
        let (id, case) = self
            .cases
            .iter()
            .find(|(_, c)| c.rally.is_none() && c.refused.is_none())?;
        let label = match &case.pid {
            Some(pid) => format!("qTest test case {pid}"),
            None => format!("qTest test case {id}"),
        };
        Some((
            *id,
            LinkRequest {
                name: case.name.clone(),
                stories: case.stories.iter().take(1).cloned().collect(),
                source_url: case.web_url.clone(),
                source_label: Some(label),
                description: None,
                method: Some(config.test_case_method.clone()),
                match_source: case.web_url.is_some(),
            },
        ))
    }

    /// Takes a finished `rally.link_case` report for qTest test case `case`: the Rally
    /// test case, or nothing. A refusal that will not pass (not a lost connection or
    /// a busy server) is kept, so that one case does not hold up the others.
    pub fn take_link(&mut self, case: u64, report: &Report) -> Option<String> {
        let Details::LinkTestCase(out) = &report.details else {
            return None;
        };
        if let Some(e) = &report.error {
            if !report.retryable
                && let Some(c) = self.cases.get_mut(&case)
            {
                c.refused = Some(e.to_string());
            }
            return None;
        }
        let id = out.formatted_id.clone().or_else(|| out.reference.clone())?;
        if let Some(c) = self.cases.get_mut(&case) {
            c.rally = Some(id.clone());
        }
        Some(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::details::bridge::{LinkedQtestCase, QtestRequirementsOutput};
    use crate::sync::details::rally::{LinkedTestCase, RequirementsOutput};
    use crate::sync::report::Ledger;

    fn story(id: &str, date: &str) -> Requirement {
        Requirement {
            reference: format!("/hierarchicalrequirement/{}", &id[2..]),
            formatted_id: Some(id.into()),
            name: Some(format!("story {id}")),
            project: None,
            last_update_date: Some(date.into()),
            fields: BTreeMap::new(),
        }
    }

    fn report(details: Details, error: Option<Error>) -> Report {
        Ledger::default().into_report(error, false, Default::default(), details)
    }

    #[test]
    fn the_cursor_moves_only_when_qtest_has_the_stories() {
        let mut s = BridgeState::default();
        let rally = report(
            Details::Requirements(RequirementsOutput {
                requirements: vec![story("US1", "2024-01-01T00:00:00.000Z")],
                query: None,
                next_since: Some("2024-01-01T00:00:00.000Z".into()),
            }),
            None,
        );
        assert_eq!(s.take_rally(&rally, false), 1);
        assert_eq!(s.since, None);
        assert_eq!(s.qtest_request(None).stories.len(), 1);
        // A failed qTest pass keeps everything for the next one.
        let failed = report(
            Details::QtestRequirements(QtestRequirementsOutput::default()),
            Some(Error::new("qtest.gave_up", "x")),
        );
        s.take_qtest(&failed);
        assert_eq!(s.pending.len(), 1);
        let ok = report(
            Details::QtestRequirements(QtestRequirementsOutput {
                module_id: Some(1),
                requirements: vec![],
                linked_cases: vec![LinkedQtestCase {
                    id: 7,
                    pid: Some("TC-1".into()),
                    name: "Pays".into(),
                    web_url: Some(
                        "https://q.example.com/p/1/portal/project#tab=testdesign&object=1&id=7"
                            .into(),
                    ),
                    stories: vec!["US2".into(), "US1".into()],
                }],
            }),
            None,
        );
        s.take_qtest(&ok);
        assert!(s.pending.is_empty());
        assert_eq!(s.since.as_deref(), Some("2024-01-01T00:00:00.000Z"));
        let (case, link) = s.next_link(&BridgeConfig::default()).unwrap();
        assert_eq!(
            (case, link.stories.as_slice()),
            (7, ["US2".to_string()].as_slice())
        );
        assert!(link.match_source);
        assert_eq!(link.method.as_deref(), Some("Manual"));
        let made = report(
            Details::LinkTestCase(LinkedTestCase {
                formatted_id: Some("TC9".into()),
                reference: None,
                name: "Pays".into(),
                work_product: None,
                created: true,
            }),
            None,
        );
        let refused = report(
            Details::LinkTestCase(LinkedTestCase {
                formatted_id: None,
                reference: None,
                name: "Pays".into(),
                work_product: None,
                created: false,
            }),
            Some(Error::new("rally.gave_up", "busy")),
        );
        // Retryable: tried again.
        let mut busy = refused.clone();
        busy.retryable = true;
        assert_eq!(s.take_link(7, &busy), None);
        assert!(s.next_link(&BridgeConfig::default()).is_some());
        assert_eq!(s.take_link(7, &made).as_deref(), Some("TC9"));
        assert!(s.next_link(&BridgeConfig::default()).is_none());
        assert_eq!(s.qtest_request(None).known_cases, [7]);
        // A case Rally refuses is kept with the reason and not tried again.
        s.cases.insert(
            8,
            BridgedCase {
                name: "Refunds".into(),
                pid: None,
                web_url: None,
                stories: vec!["US404".into()],
                rally: None,
                refused: None,
            },
        );
        assert_eq!(s.next_link(&BridgeConfig::default()).map(|l| l.0), Some(8));
        assert_eq!(s.take_link(8, &refused), None);
        assert!(s.cases[&8].refused.is_some());
        assert!(s.next_link(&BridgeConfig::default()).is_none());
    }

    #[test]
    fn one_story_leaves_the_cursor() {
        let s = BridgeState {
            since: Some("2024-01-01T00:00:00Z".into()),
            ..BridgeState::default()
        };
        let r = s
            .rally_request(&BridgeConfig::default(), Some("US12"))
            .unwrap();
        assert_eq!(r.query.as_deref(), Some("(FormattedID = \"US12\")"));
        assert_eq!(r.since, None);
        assert!(
            s.rally_request(&BridgeConfig::default(), Some("US 12)"))
                .is_err()
        );
    }
}
