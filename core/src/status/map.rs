//! A status mapping table (source status → target status) with a default, in the
//! spirit of Allure TestOps' status mapping, and the check that proves it complete.

use super::{QTEST_STATUSES, RALLY_VERDICTS, SourceVocabulary, testrail_status_id};
use crate::error::{Error, Result, Warning};
use crate::model::Status;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A target status as configured: TOML and JSON may write TestRail ids as numbers.
pub use crate::scalar::Scalar as StatusValue;

/// A mapping table. In TOML:
///
/// ```toml
/// [testrail.statuses]
/// skipped = 2        # Blocked instead of the built-in Retest
/// default = 5        # anything left unmapped
/// ```
///
/// Entries start from the target's built-in table unless `builtin = false`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StatusMap {
    /// The vocabulary the keys are written in.
    #[serde(default)]
    pub source: SourceVocabulary,
    /// Start from the built-in table of the target (default true).
    #[serde(default = "yes")]
    pub builtin: bool,
    /// The value for a source status with no entry.
    #[serde(default)]
    pub default: Option<StatusValue>,
    /// Source status → target status.
    #[serde(flatten)]
    pub entries: BTreeMap<String, StatusValue>,
}

fn yes() -> bool {
    true
}

impl Default for StatusMap {
    fn default() -> Self {
        StatusMap {
            source: SourceVocabulary::Junit,
            builtin: true,
            default: None,
            entries: BTreeMap::new(),
        }
    }
}

/// The statuses a target accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "target", rename_all = "lowercase")]
pub enum TargetStatuses {
    /// Rally Verdict values: the built-in ones or the workspace's AllowedValues.
    Rally { allowed: Vec<String> },
    /// qTest automation statuses: PASS, FAIL, SKIP, plus the project's own.
    Qtest { allowed: Vec<String> },
    /// TestRail `status_id`: 1, 2, 4, 5 and custom ids from 6.
    Testrail,
}

impl TargetStatuses {
    pub fn rally_default() -> Self {
        TargetStatuses::Rally {
            allowed: RALLY_VERDICTS.iter().map(|s| s.to_string()).collect(),
        }
    }

    pub fn qtest_default() -> Self {
        TargetStatuses::Qtest {
            allowed: QTEST_STATUSES.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// The built-in table, keyed by the source vocabulary's names.
    fn builtin(&self, source: SourceVocabulary) -> Vec<(&'static str, &'static str)> {
        let junit: [(&str, &str); 5] = match self {
            TargetStatuses::Rally { .. } => [
                ("passed", "Pass"),
                ("flaky", "Pass"),
                ("failed", "Fail"),
                ("error", "Error"),
                ("skipped", "Inconclusive"),
            ],
            TargetStatuses::Qtest { .. } => [
                ("passed", "PASS"),
                ("flaky", "PASS"),
                ("failed", "FAIL"),
                ("error", "FAIL"),
                ("skipped", "SKIP"),
            ],
            // trcli's choice: skipped tests are to be run again.
            TargetStatuses::Testrail => [
                ("passed", "1"),
                ("flaky", "1"),
                ("failed", "5"),
                ("error", "5"),
                ("skipped", "4"),
            ],
        };
        match source {
            SourceVocabulary::Junit => junit.to_vec(),
            SourceVocabulary::Allure => {
                let get = |k: &str| junit.iter().find(|(s, _)| *s == k).map_or("", |(_, v)| *v);
                vec![
                    ("passed", get("passed")),
                    ("failed", get("failed")),
                    ("broken", get("error")),
                    ("skipped", get("skipped")),
                    ("unknown", get("skipped")),
                ]
            }
        }
    }

    /// Checks one target value; returns it in canonical form.
    fn accept(&self, value: &str) -> std::result::Result<String, String> {
        match self {
            TargetStatuses::Testrail => {
                testrail_status_id(value)
                    .map(|id| id.to_string())
                    .map_err(|e| match e.hint {
                        Some(h) => format!("{} ({h})", e.message),
                        None => e.message,
                    })
            }
            TargetStatuses::Rally { allowed } | TargetStatuses::Qtest { allowed } => {
                if allowed.iter().any(|a| a == value) || allowed.is_empty() {
                    Ok(value.to_string())
                } else {
                    Err(format!(
                        "{value:?} is not one of the allowed values: {}",
                        allowed.join(", ")
                    ))
                }
            }
        }
    }
}

/// A checked table: every JUnit status has a target value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedStatuses {
    /// JUnit status name → target value, for all five statuses.
    pub table: BTreeMap<String, String>,
    pub warnings: Vec<Warning>,
}

impl ResolvedStatuses {
    /// The target value for a status. Every status is present after [`StatusMap::resolve`].
    pub fn get(&self, status: Status) -> Option<&str> {
        self.table.get(status.as_str()).map(String::as_str)
    }
}

impl StatusMap {
    /// Checks the table against the target and returns it resolved. `key` is the
    /// configuration key of the table (e.g. `rally.statuses`), used in messages.
    ///
    /// Errors: keys that are not statuses of the source vocabulary, target values the
    /// target refuses, and source statuses with neither an entry nor a default.
    /// Warnings: toward qTest, PASS, FAIL or SKIP that no status maps to any more.
    pub fn resolve(&self, key: &str, target: &TargetStatuses) -> Result<ResolvedStatuses> {
        let vocab = self.source.values();
        for k in self.entries.keys() {
            if !vocab.contains(&k.as_str()) {
                return Err(Error::new(
                    "config.unknown_status",
                    format!(
                        "`{key}.{k}`: {k:?} is not a {} status",
                        self.source.as_str()
                    ),
                )
                .with_hint(format!(
                    "allowed keys: {}, default, source, builtin",
                    vocab.join(", ")
                )));
            }
        }
        let mut merged: BTreeMap<&str, (String, String)> = BTreeMap::new();
        if self.builtin {
            for (s, v) in target.builtin(self.source) {
                merged.insert(s, (v.to_string(), format!("built-in {key}.{s}")));
            }
        }
        for (s, v) in &self.entries {
            merged.insert(s.as_str(), (v.0.clone(), format!("`{key}.{s}`")));
        }
        let default = match &self.default {
            Some(d) => Some(target.accept(&d.0).map_err(|m| {
                Error::new("config.invalid_status", format!("`{key}.default`: {m}"))
            })?),
            None => None,
        };
        let mut by_source: BTreeMap<&str, String> = BTreeMap::new();
        let mut missing = Vec::new();
        for s in vocab {
            match merged.get(s) {
                Some((v, origin)) => {
                    let ok = target.accept(v).map_err(|m| {
                        Error::new("config.invalid_status", format!("{origin}: {m}"))
                            .with_hint(format!("set `{key}.{s}` to a value the target accepts"))
                    })?;
                    by_source.insert(s, ok);
                }
                None => match &default {
                    Some(d) => {
                        by_source.insert(s, d.clone());
                    }
                    None => missing.push(*s),
                },
            }
        }
        if !missing.is_empty() {
            return Err(Error::new(
                "config.unmapped_status",
                format!(
                    "`{key}`: no mapping and no default for {}",
                    missing.join(", ")
                ),
            )
            .with_hint(format!("add them, or set `{key}.default`")));
        }
        let mut table = BTreeMap::new();
        for status in Status::ALL {
            let name = self.source.name_of(status);
            if let Some(v) = by_source.get(name) {
                table.insert(status.as_str().to_string(), v.clone());
            }
        }
        let warnings = match target {
            TargetStatuses::Qtest { .. } => lost_qtest_statuses(key, &table),
            _ => Vec::new(),
        };
        Ok(ResolvedStatuses { table, warnings })
    }
}

/// PASS, FAIL and SKIP are qTest's own result values; a table that maps nothing to
/// one of them loses that outcome on the way.
fn lost_qtest_statuses(key: &str, table: &BTreeMap<String, String>) -> Vec<Warning> {
    let mut out = Vec::new();
    for (want, natural) in [("PASS", "passed"), ("FAIL", "failed"), ("SKIP", "skipped")] {
        if table.values().any(|v| v == want) {
            continue;
        }
        let instead = table.get(natural).map_or("?", String::as_str);
        out.push(Warning::new(
            "status.qtest_status_lost",
            format!(
                "`{key}`: no status maps to {want}, so {natural} tests reach qTest as {instead}"
            ),
            None,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(pairs: &[(&str, &str)]) -> BTreeMap<String, StatusValue> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), StatusValue(v.to_string())))
            .collect()
    }

    #[test]
    fn builtin_tables_are_complete_for_every_target() {
        for target in [
            TargetStatuses::rally_default(),
            TargetStatuses::qtest_default(),
            TargetStatuses::Testrail,
        ] {
            for source in [SourceVocabulary::Junit, SourceVocabulary::Allure] {
                let map = StatusMap {
                    source,
                    ..StatusMap::default()
                };
                let r = map.resolve("t.statuses", &target).unwrap();
                assert_eq!(r.table.len(), 5);
                assert!(r.warnings.is_empty(), "{:?}", r.warnings);
            }
        }
    }

    #[test]
    fn testrail_builtin_matches_trcli() {
        let r = StatusMap::default()
            .resolve("testrail.statuses", &TargetStatuses::Testrail)
            .unwrap();
        assert_eq!(r.get(Status::Passed), Some("1"));
        assert_eq!(r.get(Status::Failed), Some("5"));
        assert_eq!(r.get(Status::Error), Some("5"));
        assert_eq!(r.get(Status::Skipped), Some("4"));
    }

    #[test]
    fn overrides_and_names_are_canonicalised() {
        let map = StatusMap {
            entries: entries(&[("skipped", "blocked")]),
            ..StatusMap::default()
        };
        let r = map
            .resolve("testrail.statuses", &TargetStatuses::Testrail)
            .unwrap();
        assert_eq!(r.get(Status::Skipped), Some("2"));
    }

    #[test]
    fn completeness_check_names_each_gap() {
        let map = StatusMap {
            builtin: false,
            entries: entries(&[("passed", "Pass"), ("failed", "Fail")]),
            ..StatusMap::default()
        };
        let e = map
            .resolve("rally.statuses", &TargetStatuses::rally_default())
            .unwrap_err();
        assert_eq!(e.code, "config.unmapped_status");
        assert!(e.message.contains("error, skipped, flaky"), "{}", e.message);
        // A default closes the gaps.
        let map = StatusMap {
            default: Some(StatusValue("Inconclusive".into())),
            ..map
        };
        let r = map
            .resolve("rally.statuses", &TargetStatuses::rally_default())
            .unwrap();
        assert_eq!(r.get(Status::Flaky), Some("Inconclusive"));
    }

    #[test]
    fn allure_source_maps_broken_to_error() {
        let map = StatusMap {
            source: SourceVocabulary::Allure,
            builtin: false,
            default: Some(StatusValue("5".into())),
            entries: entries(&[("passed", "1"), ("broken", "2")]),
        };
        let r = map
            .resolve("testrail.statuses", &TargetStatuses::Testrail)
            .unwrap();
        assert_eq!(r.get(Status::Error), Some("2"));
        assert_eq!(r.get(Status::Flaky), Some("1"));
        assert_eq!(r.get(Status::Skipped), Some("5"));
        // JUnit-only names are not Allure statuses.
        let bad = StatusMap {
            entries: entries(&[("error", "5")]),
            ..map
        };
        let e = bad
            .resolve("testrail.statuses", &TargetStatuses::Testrail)
            .unwrap_err();
        assert_eq!(e.code, "config.unknown_status");
        assert!(e.hint.unwrap().contains("broken"));
    }

    #[test]
    fn refused_values_name_the_key() {
        let map = StatusMap {
            entries: entries(&[("skipped", "3")]),
            ..StatusMap::default()
        };
        let e = map
            .resolve("testrail.statuses", &TargetStatuses::Testrail)
            .unwrap_err();
        assert!(
            e.message.contains("`testrail.statuses.skipped`"),
            "{}",
            e.message
        );
        assert!(e.message.contains("Untested"));
        let map = StatusMap {
            entries: entries(&[("failed", "Broken")]),
            ..StatusMap::default()
        };
        let e = map
            .resolve("rally.statuses", &TargetStatuses::rally_default())
            .unwrap_err();
        assert!(
            e.message
                .contains("Pass, Fail, Error, Blocked, Inconclusive")
        );
        // A workspace's own verdicts are accepted once the host lists them.
        let ws = TargetStatuses::Rally {
            allowed: vec![
                "Pass".into(),
                "Fail".into(),
                "Broken".into(),
                "Error".into(),
                "Inconclusive".into(),
            ],
        };
        assert!(map.resolve("rally.statuses", &ws).is_ok());
        // A built-in value the workspace lacks is reported with the key to set.
        let ws = TargetStatuses::Rally {
            allowed: vec!["Pass".into(), "Fail".into(), "Error".into()],
        };
        let e = StatusMap::default()
            .resolve("rally.statuses", &ws)
            .unwrap_err();
        assert!(
            e.message.contains("built-in rally.statuses.skipped"),
            "{}",
            e.message
        );
    }

    #[test]
    fn warns_when_qtest_outcomes_are_lost() {
        let map = StatusMap {
            entries: entries(&[("skipped", "PASS")]),
            ..StatusMap::default()
        };
        let r = map
            .resolve("qtest.statuses", &TargetStatuses::qtest_default())
            .unwrap();
        assert_eq!(r.warnings.len(), 1);
        assert_eq!(r.warnings[0].code, "status.qtest_status_lost");
        assert!(r.warnings[0].message.contains("SKIP"));
        assert!(r.warnings[0].message.contains("as PASS"));
    }

    #[test]
    fn toml_and_json_shapes() {
        let m: StatusMap = crate::json::from_str(r#"{"skipped": 2, "default": "5"}"#).unwrap();
        assert_eq!(m.entries["skipped"], StatusValue("2".into()));
        assert_eq!(m.default, Some(StatusValue("5".into())));
        assert!(m.builtin);
        let back = serde_json::to_string(&m).unwrap();
        assert_eq!(
            back,
            r#"{"source":"junit","builtin":true,"default":"5","skipped":"2"}"#
        );
    }
}
