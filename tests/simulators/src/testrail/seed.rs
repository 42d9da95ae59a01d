//! The seeded instance: a single-suite and a multi-suite project the account may
//! use, one it may not, custom case and result fields, statuses with two custom
//! ones, configurations and templates. Field, status, config and template shapes
//! are the real samples in `contracts/testrail` with names filled in where the
//! live captures were redacted.

use super::store::{Account, Store, obj};
use serde_json::{Value, json};

const STATUSES: &str =
    include_str!("../../contracts/testrail/live-get-statuses-with-custom-statuses-redacted.json");
const TEMPLATES: &str = include_str!("../../contracts/testrail/live-get-templates-redacted.json");
const CONFIGS: &str = include_str!("../../contracts/testrail/get-configs.json");
const STEPS_FIELD: &str =
    include_str!("../../contracts/testrail/get-case-fields-item-type10-separated-steps.json");
const STEP_RESULTS_FIELD: &str =
    include_str!("../../contracts/testrail/get-result-fields-item-type11-step-results.json");

/// Ids and credentials of the seed.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub user: String,
    pub password: String,
    pub api_key: String,
    /// suite_mode 1: one suite (`single_suite`), cases go to `single_section`.
    pub single_project: u64,
    pub single_suite: u64,
    pub single_section: u64,
    /// suite_mode 3: `multi_suite` and `other_suite`.
    pub multi_project: u64,
    pub multi_suite: u64,
    pub other_suite: u64,
    pub multi_section: u64,
    /// A project the account may not use (403).
    pub restricted_project: u64,
    /// Config ids: Chrome, Firefox (group Browsers) and Windows 7 (Operating Systems).
    pub chrome: u64,
    pub firefox: u64,
    pub windows: u64,
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

fn field(id: u64, type_id: u64, name: &str, label: &str, context: Value, options: Value) -> Value {
    json!({
        "id": id, "is_active": true, "type_id": type_id, "name": name,
        "system_name": format!("custom_{name}"), "label": label, "description": null,
        "configs": [{"context": context, "options": options, "id": format!("cfg-{id}")}],
        "display_order": id, "include_all": true, "template_ids": []
    })
}

pub fn seed(store: &mut Store) -> Seeded {
    let user = "ci@example.com".to_string();
    let password = "sim-password".to_string();
    let api_key = "sim-api-key-4f6d1b".to_string();
    store.accounts.push(Account {
        id: 1,
        email: user.clone(),
        password: password.clone(),
        api_key: api_key.clone(),
        project_ids: vec![1, 2],
        revoked: false,
    });
    let project = |name: &str, mode: u64| {
        obj(json!({
            "name": name, "announcement": null, "show_announcement": false,
            "is_completed": false, "completed_on": null, "suite_mode": mode,
            "url": ""
        }))
    };
    let single_project = store.insert("projects", 1, project("Web", 1));
    let multi_project = store.insert("projects", 1, project("Platform", 3));
    let restricted_project = store.insert("projects", 1, project("Payroll", 1));
    let suite = |project_id: u64, name: &str, master: bool| {
        obj(json!({
            "name": name, "description": null, "project_id": project_id,
            "is_master": master, "is_baseline": false, "is_completed": false,
            "completed_on": null, "url": ""
        }))
    };
    let single_suite = store.insert("suites", 1, suite(single_project, "Master", true));
    let multi_suite = store.insert("suites", 1, suite(multi_project, "API", false));
    let other_suite = store.insert("suites", 1, suite(multi_project, "UI", false));
    store.insert("suites", 1, suite(restricted_project, "Master", true));
    let section = |suite_id: u64, name: &str| {
        obj(json!({
            "suite_id": suite_id, "name": name, "description": null,
            "parent_id": null, "display_order": 1, "depth": 0
        }))
    };
    let single_section = store.insert("sections", 1, section(single_suite, "Automated"));
    let multi_section = store.insert("sections", 1, section(multi_suite, "Automated"));
    store.insert("sections", 1, section(other_suite, "Manual"));

    let global = json!({"is_global": true, "project_ids": null});
    store.case_fields = vec![
        field(
            1,
            1,
            "automation_id",
            "Automation ID",
            global.clone(),
            json!({"is_required": false, "default_value": ""}),
        ),
        field(
            2,
            3,
            "preconds",
            "Preconditions",
            global.clone(),
            json!({"is_required": false, "default_value": "", "format": "markdown", "rows": "5"}),
        ),
        parse(STEPS_FIELD),
        field(
            5,
            6,
            "level",
            "Level",
            json!({"is_global": false, "project_ids": [1, 2]}),
            json!({"is_required": false, "items": "1, Low\n2, Medium\n3, High", "default_value": "1"}),
        ),
        field(
            6,
            12,
            "platforms",
            "Platforms",
            json!({"is_global": false, "project_ids": [2]}),
            json!({"is_required": false, "items": "1, Linux\n2, Windows\n3, macOS"}),
        ),
    ];
    store.result_fields = vec![
        parse(STEP_RESULTS_FIELD),
        field(
            10,
            1,
            "environment",
            "Environment",
            global.clone(),
            json!({"is_required": false, "default_value": ""}),
        ),
        field(
            11,
            4,
            "build_url",
            "Build URL",
            global,
            json!({"is_required": false}),
        ),
    ];
    let labels = [
        (1, "passed", "Passed"),
        (2, "blocked", "Blocked"),
        (3, "untested", "Untested"),
        (4, "retest", "Retest"),
        (5, "failed", "Failed"),
        (7, "custom_status2", "Flaky"),
        (8, "custom_status3", "Known issue"),
    ];
    store.statuses = match parse(STATUSES) {
        Value::Array(items) => items
            .into_iter()
            .map(|mut s| {
                let id = s["id"].as_u64().unwrap_or(0);
                if let Some((_, name, label)) = labels.iter().find(|(i, _, _)| *i == id) {
                    s["name"] = json!(name);
                    s["label"] = json!(label);
                    s["i18n_custom_id"] = Value::Null;
                }
                s
            })
            .collect(),
        _ => Vec::new(),
    };
    let template_names = [
        (1, "Test Case (Text)"),
        (2, "Test Case (Steps)"),
        (3, "Exploratory Session"),
        (5, "Automated"),
        (6, "Behaviour Driven Development"),
    ];
    store.templates = match parse(TEMPLATES) {
        Value::Array(items) => items
            .into_iter()
            .map(|mut t| {
                let id = t["id"].as_u64().unwrap_or(0);
                if let Some((_, name)) = template_names.iter().find(|(i, _)| *i == id) {
                    t["name"] = json!(name);
                }
                t
            })
            .collect(),
        _ => Vec::new(),
    };
    store.case_types = vec![
        json!({"id": 1, "name": "Acceptance", "is_default": false}),
        json!({"id": 3, "name": "Automated", "is_default": false}),
        json!({"id": 7, "name": "Other", "is_default": true}),
    ];
    store.priorities = vec![
        json!({"id": 1, "name": "1 - Low", "short_name": "1 - Low", "is_default": false, "priority": 1}),
        json!({"id": 2, "name": "2 - Medium", "short_name": "2 - Med", "is_default": true, "priority": 2}),
        json!({"id": 3, "name": "3 - High", "short_name": "3 - High", "is_default": false, "priority": 3}),
    ];
    for project_id in [single_project, multi_project] {
        let groups = match parse(CONFIGS) {
            Value::Array(items) => items
                .into_iter()
                .map(|mut g| {
                    g["project_id"] = json!(project_id);
                    g
                })
                .collect(),
            _ => Vec::new(),
        };
        store.configs.insert(project_id, groups);
    }
    Seeded {
        user,
        password,
        api_key,
        single_project,
        single_suite,
        single_section,
        multi_project,
        multi_suite,
        other_suite,
        multi_section,
        restricted_project,
        chrome: 1,
        firefox: 2,
        windows: 4,
    }
}
