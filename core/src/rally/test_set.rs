//! Sprint test sets: results of a sprint's automated runs go into one TestSet named
//! by a template (default `Sprint-{N}-Automated-Tests`).

use crate::config::{RefCache, RunContext, template};
use crate::error::Result;
use serde::{Deserialize, Serialize};

pub use crate::config::rally::DEFAULT_TEST_SET_TEMPLATE;

/// The test set of this run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TestSetPlan {
    pub name: String,
    /// The set's ref when the host already knows it.
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    /// The body that creates it, when it is not known yet.
    pub create: Option<TestSetCreate>,
}

/// `{"TestSet": {"Name": ..., "Project": ..., "Workspace": ...}}`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TestSetCreate {
    #[serde(rename = "TestSet")]
    pub test_set: TestSetFields,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TestSetFields {
    pub name: String,
    pub project: Option<String>,
    /// Left out when not configured: Rally then uses the default workspace of the
    /// key's user (`null` would name no workspace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
}

/// The name of the run's test set.
pub fn test_set_name(template_text: &str, ctx: &RunContext) -> Result<String> {
    template::render(template_text, &|n| ctx.lookup(n))
}

/// The test set plan for a name: known from the cache, or to be created.
pub fn test_set_plan(
    name: String,
    cache: &RefCache,
    project: Option<&str>,
    workspace: Option<&str>,
) -> TestSetPlan {
    match cache.rally_test_sets.get(&name) {
        Some(r) => TestSetPlan {
            reference: Some(r.clone()),
            create: None,
            name,
        },
        None => TestSetPlan {
            create: Some(TestSetCreate {
                test_set: TestSetFields {
                    name: name.clone(),
                    project: project.map(str::to_string),
                    workspace: workspace.map(str::to_string),
                },
            }),
            reference: None,
            name,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_name_uses_the_sprint_number() {
        let ctx = RunContext {
            now: "2024-05-01T10:00:00Z".into(),
            sprint: Some("14".into()),
            ..RunContext::default()
        };
        assert_eq!(
            test_set_name(DEFAULT_TEST_SET_TEMPLATE, &ctx).unwrap(),
            "Sprint-14-Automated-Tests"
        );
        let none = RunContext::default();
        let e = test_set_name(DEFAULT_TEST_SET_TEMPLATE, &none).unwrap_err();
        assert_eq!(e.code, "template.missing_value");
    }

    #[test]
    fn known_sets_are_reused_and_unknown_ones_created() {
        let mut cache = RefCache::default();
        cache
            .rally_test_sets
            .insert("Sprint-1-Automated-Tests".into(), "/testset/77".into());
        let known = test_set_plan("Sprint-1-Automated-Tests".into(), &cache, None, None);
        assert_eq!(known.reference.as_deref(), Some("/testset/77"));
        assert!(known.create.is_none());
        let new = test_set_plan(
            "Sprint-2-Automated-Tests".into(),
            &cache,
            Some("/project/5"),
            None,
        );
        assert_eq!(
            serde_json::to_string(&new.create).unwrap(),
            r#"{"TestSet":{"Name":"Sprint-2-Automated-Tests","Project":"/project/5"}}"#
        );
    }
}
