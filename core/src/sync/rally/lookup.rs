//! Shared by the single-record sessions (link a test case, submit a defect): find
//! one record by a query, create one record, and turn FormattedIDs into refs.

use super::link::Call;
use super::wsapi::{Query, eq};
use crate::autofill::looks_like_ref;
use crate::rally::query::{Expr, Value as QValue};

/// The WSAPI type of a FormattedID prefix: `US12` → user story, `TC3` → test case.
pub fn type_of_id(id: &str) -> Option<&'static str> {
    let prefix: String = id.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
    match prefix.to_ascii_uppercase().as_str() {
        "US" | "S" => Some("hierarchicalrequirement"),
        "TC" => Some("testcase"),
        "DE" => Some("defect"),
        "TS" => Some("testset"),
        _ => None,
    }
}

/// A ref as given, or `None` when it is a FormattedID to look up.
pub fn given_ref(text: &str) -> Option<String> {
    looks_like_ref(text).then(|| crate::autofill::short_ref(text))
}

/// A workspace-wide query for one record.
pub fn find(kind: &str, expr: &Expr, fetch: &str, workspace: Option<&str>, what: String) -> Call {
    let q = Query::new(format!("/{kind}"), fetch)
        .filter(expr)
        .scoped(workspace, None);
    Call::get(format!("{}&project=null", q.to_path()), what)
}

/// The look-up of a FormattedID.
pub fn find_id(id: &str, workspace: Option<&str>) -> Option<Call> {
    let kind = type_of_id(id)?;
    Some(find(
        kind,
        &eq("FormattedID", QValue::quoted(id)),
        "FormattedID,ObjectID,Name",
        workspace,
        format!("look up {id}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_name_their_type() {
        assert_eq!(type_of_id("US12"), Some("hierarchicalrequirement"));
        assert_eq!(type_of_id("tc3"), Some("testcase"));
        assert_eq!(type_of_id("F4"), None);
        assert_eq!(
            given_ref("/hierarchicalrequirement/5").as_deref(),
            Some("/hierarchicalrequirement/5")
        );
        assert_eq!(given_ref("US5"), None);
        assert!(find_id("X1", None).is_none());
    }
}
