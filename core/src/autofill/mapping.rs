//! Value maps between the source system and Rally, and the check that they are
//! symmetric: every mapped value exists in the target field's allowed values, and
//! every value can make the round trip (source → Rally → source).

use super::problem::{Problem, near_match, quoted};
use super::schema::{FieldDef, Schema};
use super::settings::{Settings, ValueMap, effective_fields};

/// How a source value was found in a map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lookup<'a> {
    Exact(&'a str),
    /// Matched ignoring case and spaces: the value as written in the map.
    Loose {
        written: &'a str,
        target: &'a str,
    },
    Missing,
}

pub(crate) fn lookup<'a>(map: &'a ValueMap, source: &str) -> Lookup<'a> {
    if let Some(p) = map.pairs.iter().find(|p| p.source == source) {
        return Lookup::Exact(&p.target);
    }
    match near_match(source, map.pairs.iter().map(|p| p.source.as_str())) {
        Some(written) => match map.pairs.iter().find(|p| p.source == written) {
            Some(p) => Lookup::Loose {
                written,
                target: &p.target,
            },
            None => Lookup::Missing,
        },
        None => Lookup::Missing,
    }
}

/// Check every value map used by a rule against the field the rule fills.
pub fn check_mappings(schema: &Schema, settings: &Settings) -> Vec<Problem> {
    let mut problems = Vec::new();
    let fields = effective_fields(schema, settings, &mut Vec::new());
    let mut checked: Vec<(&str, &str)> = Vec::new();
    for rule in &settings.rules {
        let Some(map_name) = rule.map.as_deref() else {
            continue;
        };
        if checked.contains(&(map_name, rule.field.as_str())) {
            continue;
        }
        checked.push((map_name, rule.field.as_str()));
        let Some(map) = settings.value_maps.iter().find(|m| m.name == map_name) else {
            problems.push(
                Problem::error(
                    "autofill.unknown_map",
                    Some(&rule.field),
                    format!(
                        "the rule for {} uses the value map {}, which the settings do not define",
                        rule.field,
                        quoted(map_name)
                    ),
                )
                .with_hint(format!(
                    "add a value map named {} to value_maps",
                    quoted(map_name)
                )),
            );
            continue;
        };
        let Some(field) = fields.iter().find(|f| f.name == rule.field) else {
            continue; // the rule check reports the unknown field
        };
        check_map(map, field, &mut problems);
    }
    for map in &settings.value_maps {
        if !settings
            .rules
            .iter()
            .any(|r| r.map.as_deref() == Some(map.name.as_str()))
        {
            problems.push(Problem::info(
                "autofill.unused_map",
                None,
                format!(
                    "the value map {} is not used by any rule",
                    quoted(&map.name)
                ),
            ));
        }
    }
    problems
}

fn check_map(map: &ValueMap, field: &FieldDef, problems: &mut Vec<Problem>) {
    let name = field.name.as_str();
    let map_name = quoted(&map.name);
    let allowed: Vec<&str> = field
        .allowed_values
        .iter()
        .map(|a| a.value.as_str())
        .collect();
    let checkable = field.allowed_values_loaded && !allowed.is_empty();
    if !field.allowed_values_loaded {
        problems.push(
            Problem::warning(
                "autofill.allowed_values_not_loaded",
                Some(name),
                format!("the value map {map_name} cannot be checked: the allowed values of {name} are not loaded"),
            )
            .with_hint(format!("reload the allowed values of {name}")),
        );
    }
    // source → Rally: each pair's target must exist in Rally
    for (i, pair) in map.pairs.iter().enumerate() {
        if checkable && !allowed.contains(&pair.target.as_str()) {
            let mut p = Problem::error(
                "autofill.mapping_target_not_allowed",
                Some(name),
                format!(
                    "the value map {map_name} maps {} to {}, which is not an allowed value of {name}",
                    quoted(&pair.source),
                    quoted(&pair.target)
                ),
            );
            if let Some(near) = near_match(&pair.target, allowed.iter().copied()) {
                p = p.with_hint(format!("Rally writes it {}", quoted(near)));
            }
            problems.push(p);
        }
        if !map.source_values.is_empty() && !map.source_values.contains(&pair.source) {
            problems.push(Problem::warning(
                "autofill.mapping_source_unknown",
                Some(name),
                format!(
                    "the value map {map_name} maps {}, which is not one of its source values",
                    quoted(&pair.source)
                ),
            ));
        }
        if let Some(other) = map.pairs[..i]
            .iter()
            .find(|p| p.source == pair.source && p.target != pair.target)
        {
            problems.push(Problem::error(
                "autofill.mapping_conflict",
                Some(name),
                format!(
                    "the value map {map_name} maps {} to both {} and {}",
                    quoted(&pair.source),
                    quoted(&other.target),
                    quoted(&pair.target)
                ),
            ));
        }
    }
    // source values without a pair cannot go to Rally
    for value in &map.source_values {
        if !map.pairs.iter().any(|p| &p.source == value) {
            problems.push(Problem::warning(
                "autofill.mapping_source_unmapped",
                Some(name),
                format!(
                    "the source value {} has no pair in the value map {map_name}",
                    quoted(value)
                ),
            ));
        }
    }
    // Rally → source: a target reached from several sources cannot come back
    let mut seen: Vec<&str> = Vec::new();
    for pair in &map.pairs {
        if seen.contains(&pair.target.as_str()) {
            continue;
        }
        seen.push(&pair.target);
        let mut sources: Vec<&str> = map
            .pairs
            .iter()
            .filter(|p| p.target == pair.target)
            .map(|p| p.source.as_str())
            .collect();
        sources.dedup();
        if sources.len() > 1 {
            problems.push(Problem::warning(
                "autofill.mapping_not_reversible",
                Some(name),
                format!(
                    "{} in {name} comes from {}: coming back, the value map {map_name} cannot tell which",
                    quoted(&pair.target),
                    sources.iter().map(|s| quoted(s)).collect::<Vec<_>>().join(" and ")
                ),
            ));
        }
    }
    // Rally values no pair reaches cannot come back to the source (a long list,
    // e.g. every user of a workspace, is cut after 20 names)
    if checkable {
        let unreached: Vec<String> = allowed
            .iter()
            .filter(|v| !v.is_empty() && !map.pairs.iter().any(|p| p.target == **v))
            .map(|v| quoted(v))
            .collect();
        if !unreached.is_empty() {
            const SHOWN: usize = 20;
            let more = unreached.len().saturating_sub(SHOWN);
            let listed = unreached
                .iter()
                .take(SHOWN)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            problems.push(Problem::info(
                "autofill.mapping_target_unmapped",
                Some(name),
                format!(
                    "{} allowed value(s) of {name} have no pair in the value map {map_name}, so they cannot come back: {listed}{}",
                    unreached.len(),
                    if more > 0 { format!(" and {more} more") } else { String::new() }
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autofill::schema::schema_from_metadata;
    use crate::autofill::settings::{Rule, ValuePair};

    fn schema() -> Schema {
        let attrs = serde_json::json!([
            {"ElementName": "Severity", "AttributeType": "RATING", "AllowedValues": [
                {"StringValue": ""}, {"StringValue": "Crash/Data Loss"}, {"StringValue": "Major Problem"},
                {"StringValue": "Minor Problem"}, {"StringValue": "Cosmetic"}]},
            {"ElementName": "Owner", "AttributeType": "OBJECT", "AllowedValues": {"_ref": "x", "Count": 9}}
        ]);
        schema_from_metadata(attrs.to_string().as_bytes()).unwrap()
    }

    fn pair(s: &str, t: &str) -> ValuePair {
        ValuePair {
            source: s.into(),
            target: t.into(),
        }
    }

    fn settings(pairs: Vec<ValuePair>, source_values: &[&str], field: &str) -> Settings {
        Settings {
            rules: vec![Rule {
                field: field.into(),
                template: Some("{test_run.properties.Severity}".into()),
                map: Some("severity".into()),
                ..Rule::default()
            }],
            value_maps: vec![ValueMap {
                name: "severity".into(),
                pairs,
                source_values: source_values.iter().map(|s| s.to_string()).collect(),
            }],
            ..Settings::default()
        }
    }

    fn codes(problems: &[Problem]) -> Vec<&str> {
        problems.iter().map(|p| p.code.as_str()).collect()
    }

    #[test]
    fn a_symmetric_map_has_no_problems() {
        let s = settings(
            vec![
                pair("Fatal", "Crash/Data Loss"),
                pair("Major", "Major Problem"),
                pair("Minor", "Minor Problem"),
                pair("Cosmetic", "Cosmetic"),
            ],
            &["Fatal", "Major", "Minor", "Cosmetic"],
            "Severity",
        );
        assert_eq!(check_mappings(&schema(), &s), vec![]);
    }

    #[test]
    fn reports_every_value_that_cannot_make_the_round_trip() {
        let s = settings(
            vec![
                pair("Fatal", "Crash/Data Loss"),
                pair("Major", "Major Problem"),
                pair("Average", "Major Problem"),
                pair("Minor", "minor problem"),
                pair("Trivial", "Cosmetic"),
                pair("Fatal", "Major Problem"),
            ],
            &["Fatal", "Major", "Average", "Minor", "Cosmetic"],
            "Severity",
        );
        let problems = check_mappings(&schema(), &s);
        assert_eq!(
            codes(&problems),
            [
                "autofill.mapping_target_not_allowed", // minor problem
                "autofill.mapping_source_unknown",     // Trivial
                "autofill.mapping_conflict",           // Fatal twice
                "autofill.mapping_source_unmapped",    // Cosmetic
                "autofill.mapping_not_reversible",     // Major Problem <- Major, Average, Fatal
                "autofill.mapping_target_unmapped",    // Minor Problem
            ]
        );
        assert_eq!(
            problems[0].hint.as_deref(),
            Some("Rally writes it \"Minor Problem\"")
        );
        assert!(
            problems[4]
                .message
                .contains("\"Major\" and \"Average\" and \"Fatal\""),
            "{}",
            problems[4].message
        );
        assert!(problems[5].message.contains("\"Minor Problem\""));
        assert!(
            !problems[5].message.contains("\"\","),
            "the empty value is not reported"
        );
    }

    #[test]
    fn a_long_list_of_unreached_values_is_cut() {
        let users: Vec<serde_json::Value> = (0..30)
            .map(|i| serde_json::json!({"StringValue": format!("user{i}")}))
            .collect();
        let attrs = serde_json::json!([{"ElementName": "SubmittedBy", "AttributeType": "OBJECT", "AllowedValues": users}]);
        let schema = schema_from_metadata(attrs.to_string().as_bytes()).unwrap();
        let s = settings(vec![pair("u0", "user0")], &[], "SubmittedBy");
        let problems = check_mappings(&schema, &s);
        assert_eq!(codes(&problems), ["autofill.mapping_target_unmapped"]);
        assert!(problems[0].message.starts_with("29 allowed value(s)"));
        assert!(
            problems[0].message.ends_with("\"user20\" and 9 more"),
            "{}",
            problems[0].message
        );
    }

    #[test]
    fn unloaded_values_and_unknown_maps() {
        let s = settings(vec![pair("alice", "Alice")], &[], "Owner");
        assert_eq!(
            codes(&check_mappings(&schema(), &s)),
            ["autofill.allowed_values_not_loaded"]
        );
        let mut s = settings(vec![], &[], "Severity");
        s.rules[0].map = Some("nope".into());
        assert_eq!(
            codes(&check_mappings(&schema(), &s)),
            ["autofill.unknown_map", "autofill.unused_map"]
        );
    }

    #[test]
    fn lookup_exact_then_loose() {
        let map = ValueMap {
            name: "m".into(),
            pairs: vec![pair("Major", "Major Problem")],
            source_values: vec![],
        };
        assert_eq!(lookup(&map, "Major"), Lookup::Exact("Major Problem"));
        assert_eq!(
            lookup(&map, " major "),
            Lookup::Loose {
                written: "Major",
                target: "Major Problem"
            }
        );
        assert_eq!(lookup(&map, "Minor"), Lookup::Missing);
    }
}
