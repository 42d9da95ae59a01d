//! The requirement poll: the user's query for user stories, narrowed to what changed
//! since the last poll, `((user query) AND (LastUpdateDate > since))`.

use super::ast::{Condition, Expr, Operator, Value};
use super::{NormalizeOutput, Options, dates, normalize, print};
use crate::error::{Error, Result};
use jiff::Timestamp;

/// `expr` AND `(LastUpdateDate > since)`; just the date condition without `expr`.
pub fn updated_since(expr: Option<Expr>, since: Timestamp) -> Expr {
    let cond = Expr::Condition(Condition::new(
        "LastUpdateDate",
        Operator::Gt,
        vec![Value::bare(&dates::format_utc(since))],
    ));
    match expr {
        Some(e) => Expr::and(e, cond),
        None => cond,
    }
}

/// Normalises `user_query` (which may be empty) and adds `(LastUpdateDate > since)`.
/// `since` is any date tmbridge reads, usually the UTC time of the previous poll; a
/// value without a zone is in `options.time_zone`.
pub fn poll_query(user_query: &str, since: &str, options: &Options) -> Result<NormalizeOutput> {
    let zone_name = options.time_zone.as_deref().unwrap_or("UTC");
    let tz = dates::zone(zone_name).ok_or_else(|| {
        Error::new(
            "rally_query.unknown_time_zone",
            format!("'{zone_name}' is not an IANA time zone"),
        )
        .with_hint("name a zone such as UTC, Europe/Berlin or America/New_York")
    })?;
    let converted = dates::to_utc(since, &tz).ok_or_else(|| {
        Error::new(
            "rally_query.invalid_since",
            format!("'{since}' is not a time tmbridge can read"),
        )
        .with_hint("give the time of the previous poll, e.g. 2024-05-01T10:00:00Z")
    })?;
    let since_ts: Timestamp = converted
        .text
        .parse()
        .map_err(|e| Error::new("rally_query.invalid_since", format!("'{since}': {e}")))?;
    if user_query.trim().is_empty() {
        let expr = updated_since(None, since_ts);
        return Ok(NormalizeOutput {
            query: print(&expr),
            order: None,
            complete: true,
            changes: Vec::new(),
            warnings: Vec::new(),
            needs: Vec::new(),
        });
    }
    let mut out = normalize(user_query, options)?;
    let expr = super::parse(&out.query)?;
    out.query = print(&updated_since(Some(expr), since_ts));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_query_and_since() {
        let out = poll_query(
            "ScheduleState = Defined AND Tags.Name = \"sync\"",
            "2024-05-01T10:00:00.250Z",
            &Options::default(),
        )
        .unwrap();
        assert_eq!(
            out.query,
            "(((ScheduleState = Defined) AND (Tags.Name = \"sync\")) AND (LastUpdateDate > 2024-05-01T10:00:00.250Z))"
        );
    }

    #[test]
    fn empty_user_query_is_just_the_date() {
        let opts = Options {
            time_zone: Some("Europe/Berlin".into()),
            ..Options::default()
        };
        let out = poll_query("  ", "2024-05-01 12:00", &opts).unwrap();
        assert_eq!(out.query, "(LastUpdateDate > 2024-05-01T10:00:00Z)");
    }

    #[test]
    fn bad_since_and_bad_query_fail() {
        let err = poll_query("", "yesterday", &Options::default()).unwrap_err();
        assert_eq!(err.code, "rally_query.invalid_since");
        let err = poll_query("(Name =", "2024-05-01", &Options::default()).unwrap_err();
        assert_eq!(err.code, "rally_query.missing_value");
    }

    #[test]
    fn updated_since_builds_the_tree() {
        let ts: Timestamp = "2024-01-02T03:04:05Z".parse().unwrap();
        assert_eq!(
            print(&updated_since(None, ts)),
            "(LastUpdateDate > 2024-01-02T03:04:05Z)"
        );
    }
}
