//! The status table against the instance's statuses (`get_statuses`): custom
//! statuses may be named by their system name (`custom_status2`) or label
//! (`Flaky`), and every id the table uses must exist there.

use crate::config::Config;
use crate::error::{Error, Result};
pub use crate::status::testrail_placeholder as placeholder;
use crate::status::{StatusMap, StatusValue, testrail_status_id};
use crate::sync::details::testrail::StatusInfo;

fn known_list(known: &[StatusInfo]) -> String {
    known
        .iter()
        .map(|s| format!("{} {} ({})", s.id, s.name, s.label))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The table with names of the instance's statuses replaced by their ids.
pub fn with_ids(map: &StatusMap, known: &[StatusInfo]) -> Result<StatusMap> {
    let mut out = map.clone();
    let entries = out
        .entries
        .iter_mut()
        .map(|(k, v)| (k.clone(), v))
        .chain(out.default.iter_mut().map(|v| ("default".to_string(), v)));
    for (key, value) in entries {
        if testrail_status_id(&value.0).is_ok() {
            continue;
        }
        let wanted = value.0.trim();
        match known
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(wanted) || s.label.eq_ignore_ascii_case(wanted))
        {
            Some(s) => *value = StatusValue(s.id.to_string()),
            None => {
                return Err(Error::new(
                    "testrail.unknown_status",
                    format!("`testrail.statuses.{key}`: TestRail has no status {wanted:?}"),
                )
                .with_hint(format!("use one of: {}", known_list(known))));
            }
        }
    }
    Ok(out)
}

/// Checks the table of a configuration against the instance's statuses.
pub fn check_table(config: &Config, known: &[StatusInfo]) -> Result<()> {
    let map = with_ids(&config.testrail.statuses, known)?;
    let resolved = map.resolve(
        "testrail.statuses",
        &crate::status::TargetStatuses::Testrail,
    )?;
    for (status, id) in &resolved.table {
        let id: u64 = id.parse().unwrap_or(0);
        if !known.iter().any(|s| s.id == id) {
            return Err(Error::new(
                "testrail.unknown_status",
                format!("`testrail.statuses`: {status} tests would get status {id}, which this TestRail does not have"),
            )
            .with_hint(format!("use one of: {}", known_list(known))));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Vec<StatusInfo> {
        [
            (1, "passed", "Passed"),
            (5, "failed", "Failed"),
            (4, "retest", "Retest"),
            (7, "custom_status2", "Flaky"),
        ]
        .iter()
        .map(|(id, n, l)| StatusInfo {
            id: *id,
            name: n.to_string(),
            label: l.to_string(),
        })
        .collect()
    }

    fn config(statuses: &str) -> Config {
        Config::from_json(format!(r#"{{"testrail": {{"statuses": {statuses}}}}}"#).as_bytes())
            .unwrap()
    }

    #[test]
    fn custom_statuses_by_name_or_label() {
        let c = config(r#"{"flaky": "Flaky", "default": "custom_status2"}"#);
        let map = with_ids(&c.testrail.statuses, &known()).unwrap();
        assert_eq!(map.entries["flaky"].0, "7");
        assert_eq!(map.default.as_ref().unwrap().0, "7");
        assert!(check_table(&c, &known()).is_ok());
        let e = check_table(&config(r#"{"flaky": "Wobbly"}"#), &known()).unwrap_err();
        assert_eq!(e.code, "testrail.unknown_status");
        assert!(
            e.message.contains("testrail.statuses.flaky"),
            "{}",
            e.message
        );
        assert!(e.hint.unwrap().contains("7 custom_status2 (Flaky)"));
    }

    #[test]
    fn ids_the_instance_lacks_are_named() {
        let e = check_table(&config(r#"{"skipped": 2}"#), &known()).unwrap_err();
        assert!(
            e.message.contains("skipped tests would get status 2"),
            "{}",
            e.message
        );
        assert_eq!(
            placeholder(&config(r#"{"flaky": "Flaky"}"#).testrail.statuses).entries["flaky"].0,
            "1"
        );
    }
}
