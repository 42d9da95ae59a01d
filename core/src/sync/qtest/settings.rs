//! The project's automation settings: whether automation integration is on, and
//! which Test Run status each automation value (`PASS`, `FAIL`, `SKIP`, ...) becomes.
//! A log whose status has no mapping is refused by qTest as a whole, so a session
//! checks the values it will send before it sends anything.
//!
//! Where qTest serves these settings is not in its public API documents; the path
//! and shape used here (`GET /api/v3/projects/{id}/settings/automation` answering
//! `{"enabled", "mappings": [{"value", "status": {"id", "name"}}]}`) are this
//! project's assumption, kept in this one file.

use crate::error::Error;
use crate::sync::details::qtest::QtestStatusMapping;
use serde_json::Value;

/// The values every publish needs: passed, failed and skipped results.
pub const REQUIRED: [&str; 3] = ["PASS", "FAIL", "SKIP"];

pub fn path(project_id: u64) -> String {
    format!("/api/v3/projects/{project_id}/settings/automation")
}

pub struct Settings {
    pub enabled: bool,
    pub mappings: Vec<QtestStatusMapping>,
}

pub fn read(value: &Value) -> Option<Settings> {
    let enabled = value.get("enabled")?.as_bool()?;
    let mappings = value
        .get("mappings")?
        .as_array()?
        .iter()
        .filter_map(|m| {
            Some(QtestStatusMapping {
                value: m.get("value")?.as_str()?.to_string(),
                run_status: m
                    .get("status")
                    .and_then(|s| s.get("name"))
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
            })
        })
        .collect();
    Some(Settings { enabled, mappings })
}

const SWITCH_ON: &str = "in qTest Manager open the project's Automation Settings (gear icon > Automation Settings), switch on Activate Automation Integration and save";

/// Why a publish cannot go on with these settings, if it cannot.
pub fn check(settings: &Settings, project_id: u64, used: &[String]) -> Option<Error> {
    if !settings.enabled {
        return Some(
            Error::new(
                "qtest.automation_off",
                format!("automation integration is switched off in qTest project {project_id}: qTest would refuse every test log"),
            )
            .with_hint(SWITCH_ON),
        );
    }
    let mut wanted: Vec<&str> = REQUIRED.to_vec();
    for v in used {
        if !wanted.iter().any(|w| w.eq_ignore_ascii_case(v)) {
            wanted.push(v);
        }
    }
    let missing: Vec<&str> = wanted
        .into_iter()
        .filter(|w| {
            !settings
                .mappings
                .iter()
                .any(|m| m.value.eq_ignore_ascii_case(w))
        })
        .collect();
    (!missing.is_empty()).then(|| {
        Error::new(
            "qtest.unmapped_status",
            format!(
                "qTest project {project_id} maps no Test Run status to {}: qTest would refuse those logs",
                missing.join(", ")
            ),
        )
        .with_hint(format!(
            "in the project's Automation Settings (gear icon > Automation Settings > status mapping), map {} to Test Run statuses; nothing was sent",
            missing.join(", ")
        ))
    })
}

/// "could not read the automation settings".
pub fn unreadable(body: &Value) -> Error {
    Error::new(
        "qtest.bad_answer",
        format!(
            "the project's automation settings could not be read: {}",
            super::api::short(&body.to_string())
        ),
    )
    .with_hint(SWITCH_ON)
}
