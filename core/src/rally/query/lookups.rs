//! Releases and Iterations by name. Rally matches `Release.Name = "R1"` in every
//! project that has an R1, so tmbridge writes `Release.ObjectID = <id>` instead. The
//! ids come from the host; when one is missing, the output says what to fetch and
//! the host calls again (the core never waits on I/O).

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum LookupKind {
    Release,
    Iteration,
}

impl LookupKind {
    /// `Release` / `Iteration`: the field and the WSAPI type.
    pub fn field(self) -> &'static str {
        match self {
            LookupKind::Release => "Release",
            LookupKind::Iteration => "Iteration",
        }
    }
}

/// One known id: the Release (or Iteration) called `name` in `project`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "RallyLookup")
)]
pub struct Lookup {
    pub kind: LookupKind,
    /// Project name (or ref); `None` when the host did not say.
    pub project: Option<String>,
    pub name: String,
    pub object_id: u64,
}

/// What the host must fetch, e.g. `GET /release?query=(Name = "R1")` in `project`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "RallyLookupNeed")
)]
pub struct LookupNeed {
    pub kind: LookupKind,
    pub project: Option<String>,
    pub name: String,
}

/// The result of looking a name up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Id(u64),
    /// Same name in several projects, and no project to choose by.
    Ambiguous(Vec<(Option<String>, u64)>),
    Missing,
}

/// Finds `name` among `lookups`. With a project, entries of that project win and
/// entries without a project are accepted; without one, all entries count.
pub fn find(lookups: &[Lookup], kind: LookupKind, project: Option<&str>, name: &str) -> Found {
    let named: Vec<&Lookup> = lookups
        .iter()
        .filter(|l| l.kind == kind && l.name == name)
        .collect();
    let pick: Vec<&Lookup> = match project {
        Some(p) => {
            let same: Vec<&Lookup> = named
                .iter()
                .copied()
                .filter(|l| l.project.as_deref() == Some(p))
                .collect();
            if same.is_empty() {
                named.into_iter().filter(|l| l.project.is_none()).collect()
            } else {
                same
            }
        }
        None => named,
    };
    let mut ids: Vec<(Option<String>, u64)> = pick
        .iter()
        .map(|l| (l.project.clone(), l.object_id))
        .collect();
    ids.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    ids.dedup_by(|a, b| a.1 == b.1);
    match ids.as_slice() {
        [] => Found::Missing,
        [(_, id)] => Found::Id(*id),
        _ => Found::Ambiguous(ids),
    }
}

/// Reads lookups from JSON: tmbridge's own array of [`Lookup`], or what Rally returns
/// for `/release` and `/iteration` queries (a `QueryResult`, its `Results`, or an
/// array of several), using `_type`, `Name`, `ObjectID` and `Project._refObjectName`.
pub fn parse_lookups(bytes: &[u8]) -> Result<Vec<Lookup>> {
    let json: Json = crate::json::from_slice(bytes).map_err(|e| {
        Error::new("rally_query.invalid_lookups", format!("the lookups are not valid JSON: {e}"))
            .with_hint("pass a JSON array of {\"kind\", \"project\", \"name\", \"object_id\"} or the QueryResult Rally returned for /release or /iteration")
    })?;
    let mut out = Vec::new();
    collect(&json, &mut out, 0)?;
    Ok(out)
}

fn collect(json: &Json, out: &mut Vec<Lookup>, depth: usize) -> Result<()> {
    if depth > 6 {
        return Ok(());
    }
    match json {
        Json::Array(items) => items.iter().try_for_each(|i| collect(i, out, depth + 1)),
        Json::Object(obj) => {
            if let Some(inner) = obj.get("QueryResult") {
                return collect(inner, out, depth + 1);
            }
            if let Some(results) = obj.get("Results") {
                return collect(results, out, depth + 1);
            }
            if obj.contains_key("kind") {
                let lookup: Lookup = serde_json::from_value(json.clone()).map_err(|e| {
                    Error::new("rally_query.invalid_lookups", format!("a lookup entry is malformed: {e}"))
                        .with_hint("each entry needs kind (release or iteration), name and object_id; project may be null")
                })?;
                out.push(lookup);
                return Ok(());
            }
            let kind = match obj
                .get("_type")
                .and_then(Json::as_str)
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                Some("release") => LookupKind::Release,
                Some("iteration") => LookupKind::Iteration,
                _ => return Ok(()),
            };
            let name = obj.get("Name").and_then(Json::as_str);
            let id = obj.get("ObjectID").and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            });
            let (Some(name), Some(object_id)) = (name, id) else {
                return Err(Error::new(
                    "rally_query.invalid_lookups",
                    format!("a {} in the lookups lacks Name or ObjectID", kind.field()),
                )
                .with_hint("query Rally with fetch=Name,ObjectID,Project"));
            };
            let project = obj
                .get("Project")
                .and_then(|p| p.get("_refObjectName").or_else(|| p.get("Name")))
                .and_then(Json::as_str)
                .map(str::to_string);
            out.push(Lookup {
                kind,
                project,
                name: name.to_string(),
                object_id,
            });
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RALLY: &str =
        include_str!("../../../../tests/fixtures/rally_query/lookups-queryresult.json");
    const OURS: &str = include_str!("../../../../tests/fixtures/rally_query/lookups.json");

    #[test]
    fn reads_rally_query_results_and_the_own_form() {
        let rally = parse_lookups(RALLY.as_bytes()).unwrap();
        assert_eq!(rally.len(), 3);
        assert_eq!(
            rally[0],
            Lookup {
                kind: LookupKind::Release,
                project: Some("Payments".into()),
                name: "R1".into(),
                object_id: 1001
            }
        );
        let ours = parse_lookups(OURS.as_bytes()).unwrap();
        assert_eq!(ours.len(), 2);
        assert_eq!(ours[1].kind, LookupKind::Iteration);
    }

    #[test]
    fn same_name_in_two_projects_needs_the_project() {
        let all = parse_lookups(RALLY.as_bytes()).unwrap();
        assert_eq!(
            find(&all, LookupKind::Release, Some("Mobile"), "R1"),
            Found::Id(2002)
        );
        assert_eq!(
            find(&all, LookupKind::Release, Some("Payments"), "R1"),
            Found::Id(1001)
        );
        assert!(
            matches!(find(&all, LookupKind::Release, None, "R1"), Found::Ambiguous(ids) if ids.len() == 2)
        );
        assert_eq!(
            find(&all, LookupKind::Release, Some("Web"), "R1"),
            Found::Missing
        );
        assert_eq!(
            find(&all, LookupKind::Iteration, None, "Sprint 5"),
            Found::Id(3003)
        );
        assert_eq!(
            find(&all, LookupKind::Iteration, None, "R1"),
            Found::Missing
        );
    }

    #[test]
    fn entries_without_project_serve_any_project() {
        let all = vec![Lookup {
            kind: LookupKind::Release,
            project: None,
            name: "R2".into(),
            object_id: 7,
        }];
        assert_eq!(
            find(&all, LookupKind::Release, Some("Web"), "R2"),
            Found::Id(7)
        );
    }

    #[test]
    fn malformed_lookups_are_errors() {
        assert_eq!(
            parse_lookups(b"[").unwrap_err().code,
            "rally_query.invalid_lookups"
        );
        assert_eq!(
            parse_lookups(br#"[{"kind": "sprint", "name": "x", "object_id": 1}]"#)
                .unwrap_err()
                .code,
            "rally_query.invalid_lookups"
        );
        assert_eq!(
            parse_lookups(br#"{"Results": [{"_type": "Release", "Name": "R1"}]}"#)
                .unwrap_err()
                .code,
            "rally_query.invalid_lookups"
        );
    }
}
