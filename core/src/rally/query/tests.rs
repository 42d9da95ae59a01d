//! Tests across the query modules: the mistakes people really make with Rally
//! queries, the checks with a field list, lookups, and the invariants (printing
//! then parsing gives the same tree; normalising twice changes nothing).

use super::*;
use proptest::prelude::*;

const DEFECT: &str =
    include_str!("../../../../tests/fixtures/rally_query/defect-attributes-wsapi1.43-shape.json");
const STORY_V2: &str =
    include_str!("../../../../tests/fixtures/rally_query/story-attributes-v2.0-shape.json");
const LOOKUPS: &str =
    include_str!("../../../../tests/fixtures/rally_query/lookups-queryresult.json");

fn norm(text: &str) -> NormalizeOutput {
    normalize(text, &Options::default()).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn norm_with(text: &str, opts: &Options) -> NormalizeOutput {
    normalize(text, opts).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn in_zone(zone: &str) -> Options {
    Options {
        time_zone: Some(zone.into()),
        ..Options::default()
    }
}

fn with_fields(json: &str) -> Options {
    Options {
        fields: Some(FieldList::from_json_bytes(json.as_bytes()).unwrap()),
        ..Options::default()
    }
}

fn err(text: &str, opts: &Options) -> Error {
    match normalize(text, opts) {
        Ok(out) => panic!("{text} was accepted as {}", out.query),
        Err(e) => e,
    }
}

fn codes(diags: &[Diagnostic]) -> Vec<&str> {
    diags.iter().map(|d| d.code.as_str()).collect()
}

fn kinds(changes: &[Change]) -> Vec<ChangeKind> {
    changes.iter().map(|c| c.kind).collect()
}

#[test]
fn seed_example() {
    let out = norm("(Name contains US) AND (Creation Date >= 2013-Dec-31)");
    assert_eq!(
        out.query,
        "((Name contains US) AND (CreationDate >= 2013-12-31T00:00:00Z))"
    );
    assert!(out.complete);
    assert_eq!(
        kinds(&out.changes),
        vec![
            ChangeKind::Parenthesized,
            ChangeKind::FieldName,
            ChangeKind::Date
        ]
    );
    let field = &out.changes[1];
    assert_eq!(
        (field.before.as_str(), field.after.as_str()),
        ("Creation Date", "CreationDate")
    );
    assert_eq!(field.location.unwrap().column, 25);
    let date = &out.changes[2];
    assert_eq!(
        (date.before.as_str(), date.after.as_str()),
        ("2013-Dec-31", "2013-12-31T00:00:00Z")
    );
}

#[test]
fn more_than_two_terms_are_nested_two_by_two() {
    let out = norm("(A = 1) AND (B = 2) AND (C = 3) AND (D = 4)");
    assert_eq!(
        out.query,
        "((((A = 1) AND (B = 2)) AND (C = 3)) AND (D = 4))"
    );
    assert!(kinds(&out.changes).contains(&ChangeKind::Nested));
    let out = norm("((A = 1) OR (B = 2) OR (C = 3))");
    assert_eq!(out.query, "(((A = 1) OR (B = 2)) OR (C = 3))");
}

#[test]
fn missing_parentheses_and_spaces() {
    assert_eq!(norm("Name = \"x\"").query, "(Name = \"x\")");
    assert_eq!(norm("Name=\"x\"").query, "(Name = \"x\")");
    assert_eq!(
        norm("Name=\"x\"AND ObjectID>5 AND Blocked!=true").query,
        "(((Name = \"x\") AND (ObjectID > 5)) AND (Blocked != true))"
    );
    assert_eq!(norm("(Name contains US)").changes, vec![]);
}

#[test]
fn parentheses_inside_quoted_values() {
    let out = norm("(Name = \"Login (SSO) fails\") AND (Notes contains \"a) AND (b\")");
    assert_eq!(
        out.query,
        "((Name = \"Login (SSO) fails\") AND (Notes contains \"a) AND (b\"))"
    );
    let e = err("(Name = Login (SSO))", &Options::default());
    assert_eq!(e.code, "rally_query.unexpected_token");
    assert!(e.hint.unwrap().contains("double quotes"));
}

#[test]
fn values_of_several_words_are_quoted() {
    let out = norm("Name = My Story AND Owner.DisplayName = Ann Lee");
    assert_eq!(
        out.query,
        "((Name = \"My Story\") AND (Owner.DisplayName = \"Ann Lee\"))"
    );
    assert_eq!(
        kinds(&out.changes)
            .iter()
            .filter(|k| **k == ChangeKind::Quoted)
            .count(),
        2
    );
}

#[test]
fn an_and_inside_an_unquoted_value_is_explained() {
    let e = err("(Name contains rock AND roll)", &Options::default());
    assert_eq!(e.code, "rally_query.missing_operator");
    assert_eq!(e.location.unwrap().column, 25);
    assert!(
        e.hint.unwrap().contains("double quotes"),
        "hint names the fix"
    );
}

#[test]
fn display_names_and_case_without_a_list() {
    let out = norm("(Schedule State = Accepted) AND (plan estimate > 3) AND (ID = US12)");
    assert_eq!(
        out.query,
        "(((ScheduleState = Accepted) AND (PlanEstimate > 3)) AND (FormattedID = US12))"
    );
}

#[test]
fn sorted_by_tail_becomes_the_order() {
    let out = norm(
        "(Name contains US) AND (Creation Date >= 2013-Dec-31) Sorted by Creation Date Descending, Rank",
    );
    assert_eq!(
        out.query,
        "((Name contains US) AND (CreationDate >= 2013-12-31T00:00:00Z))"
    );
    assert_eq!(out.order.as_deref(), Some("CreationDate desc,Rank"));
    assert!(kinds(&out.changes).contains(&ChangeKind::SortRemoved));
    // Without parentheses the tail still ends the value.
    let out = norm("Name = Login Sorted by Name");
    assert_eq!(out.query, "(Name = Login)");
    assert_eq!(out.order.as_deref(), Some("Name"));
}

#[test]
fn local_dates_in_a_zone_with_dst() {
    let ny = in_zone("America/New_York");
    assert_eq!(
        norm_with("(CreationDate >= 12/31/2013)", &ny).query,
        "(CreationDate >= 2013-12-31T05:00:00Z)"
    );
    assert_eq!(
        norm_with("(CreationDate >= 2013-07-01 09:30)", &ny).query,
        "(CreationDate >= 2013-07-01T13:30:00Z)"
    );
    // A zone in the value wins over the host's zone.
    assert_eq!(
        norm_with("(CreationDate >= 2013-07-01T09:30:00Z)", &ny).query,
        "(CreationDate >= 2013-07-01T09:30:00Z)"
    );
    // today stays Rally's own.
    assert_eq!(
        norm_with("(Iteration.StartDate <= Today)", &ny).query,
        "(Iteration.StartDate <= today)"
    );
    let e = err("(CreationDate > 2013-01-01)", &in_zone("Nowhere/Land"));
    assert_eq!(e.code, "rally_query.unknown_time_zone");
}

#[test]
fn a_quoted_date_with_spaces_is_converted() {
    let out = norm("(AcceptedDate < \"Dec 31, 2013 5:00 PM\")");
    assert_eq!(out.query, "(AcceptedDate < 2013-12-31T17:00:00Z)");
}

#[test]
fn date_checks() {
    let out = norm("(CreationDate = 2013-12-31)");
    assert_eq!(codes(&out.warnings), vec!["rally_query.date_equality"]);
    let out = norm("(CreationDate > 01/02/2013)");
    assert_eq!(out.query, "(CreationDate > 2013-01-02T00:00:00Z)");
    assert_eq!(codes(&out.warnings), vec!["rally_query.ambiguous_date"]);
    let e = err("(CreationDate > last week)", &Options::default());
    assert_eq!(e.code, "rally_query.invalid_date");
    let e = err("(CreationDate contains 2013)", &Options::default());
    assert_eq!(e.code, "rally_query.operator_not_allowed");
    assert!(e.hint.unwrap().contains(">="));
    let e = err("(CreationDate < ClosedDate)", &Options::default());
    assert_eq!(e.code, "rally_query.field_comparison");
    let e = err(
        "(CreationDate < Release.ReleaseStartDate)",
        &Options::default(),
    );
    assert_eq!(e.code, "rally_query.field_comparison");
}

#[test]
fn between_and_in() {
    let out = norm(
        "(CreationDate between 2024-01-01 AND 2024-Feb-01) AND (ScheduleState in (Defined, \"In-Progress\"))",
    );
    assert_eq!(
        out.query,
        "((CreationDate between 2024-01-01T00:00:00Z and 2024-02-01T00:00:00Z) AND (ScheduleState in Defined,\"In-Progress\"))"
    );
    assert_eq!(norm("(ObjectID !in 1,2,3)").query, "(ObjectID !in 1,2,3)");
    let e = err("(CreationDate between 2024-01-01)", &Options::default());
    assert_eq!(e.code, "rally_query.missing_value");
    let e = err("(Description in a,b)", &Options::default());
    assert_eq!(e.code, "rally_query.operator_not_allowed");
    assert!(e.hint.unwrap().contains("contains"));
    // Dates in a list are converted one by one.
    assert_eq!(
        norm("(AcceptedDate in 2024-01-01,\"Jan 2, 2024\")").query,
        "(AcceptedDate in 2024-01-01T00:00:00Z,2024-01-02T00:00:00Z)"
    );
}

#[test]
fn operator_spellings() {
    let out = norm("(Name == x) AND (State <> Closed) AND (Notes CONTAINS y)");
    assert_eq!(
        out.query,
        "(((Name = x) AND (State != Closed)) AND (Notes contains y))"
    );
    let out = norm("(a = 1) and (b = 2)");
    assert_eq!(out.query, "((a = 1) AND (b = 2))");
    assert!(kinds(&out.changes).contains(&ChangeKind::Spelling));
    assert_eq!(norm("(Name = 'x y')").query, "(Name = \"x y\")");
    assert_eq!(
        norm("(Name = \u{201C}x y\u{201D})").query,
        "(Name = \"x y\")"
    );
}

#[test]
fn operators_of_other_languages_are_named() {
    for (text, word, advice) in [
        ("(Name like \"%x%\")", "like", "contains"),
        ("(Owner is null)", "is", "= null"),
        ("(Name not contains x)", "not", "!contains"),
        ("(Tags.Name containsall \"a,b\")", "containsall", "AND"),
        ("(PlanEstimate gte 3)", "gte", ">="),
    ] {
        let e = err(text, &Options::default());
        assert_eq!(e.code, "rally_query.unknown_operator", "{text}");
        assert!(e.message.contains(word), "{text}: {}", e.message);
        assert!(e.hint.unwrap().contains(advice), "{text}");
    }
}

#[test]
fn display_name_with_an_operator_word() {
    let opts = with_fields(DEFECT);
    assert_eq!(
        norm_with("(Found In Build = 5.1)", &opts).query,
        "(FoundInBuild = 5.1)"
    );
    assert_eq!(
        norm_with("(Found In Build in 5.1,5.2)", &opts).query,
        "(FoundInBuild in 5.1,5.2)"
    );
}

#[test]
fn mixed_and_or_groups_and_first_with_a_warning() {
    let out = norm("(A = 1) OR (B = 2) AND (C = 3)");
    assert_eq!(out.query, "((A = 1) OR ((B = 2) AND (C = 3)))");
    assert_eq!(codes(&out.warnings), vec!["rally_query.mixed_and_or"]);
    assert!(kinds(&out.changes).contains(&ChangeKind::Grouped));
}

#[test]
fn urls_become_refs() {
    let out = norm(
        "(Owner = https://rally1.rallydev.com/slm/webservice/v2.0/user/12345) AND (Project = \"https://rally1.rallydev.com/slm/webservice/1.43/project/77.js\")",
    );
    assert_eq!(
        out.query,
        "((Owner = /user/12345) AND (Project = /project/77))"
    );
    assert_eq!(
        kinds(&out.changes)
            .iter()
            .filter(|k| **k == ChangeKind::Ref)
            .count(),
        2
    );
}

#[test]
fn object_compared_with_a_name_is_warned() {
    let out = norm("(Owner = \"Ann Lee\")");
    assert_eq!(codes(&out.warnings), vec!["rally_query.object_needs_ref"]);
    assert!(
        out.warnings[0]
            .hint
            .as_deref()
            .unwrap()
            .contains("Owner.UserName")
    );
}

#[test]
fn field_list_checks() {
    let opts = with_fields(DEFECT);
    assert_eq!(
        norm_with(
            "(Code Area = Billing) AND (Toggle On Date > 2024-01-01)",
            &opts
        )
        .query,
        "((c_CodeArea = Billing) AND (c_ToggleOnDate > 2024-01-01T00:00:00Z))"
    );
    assert_eq!(
        norm_with("(CodeArea = Billing)", &opts).query,
        "(c_CodeArea = Billing)"
    );
    let e = err("(Severty = Major)", &opts);
    assert_eq!(e.code, "rally_query.unknown_field");
    assert_eq!(e.hint.as_deref(), Some("did you mean Severity?"));
    assert_eq!(e.location.unwrap().column, 2);
    let e = err("(Description = \"x\")", &opts);
    assert_eq!(e.code, "rally_query.operator_not_allowed");
    assert!(e.hint.unwrap().contains("contains"));
    let e = err("(Blocked = yes)", &opts);
    assert_eq!(e.code, "rally_query.invalid_boolean");
    let e = err("(Tags = x)", &opts);
    assert_eq!(e.code, "rally_query.operator_not_allowed");
    let out = norm_with("(Customer Votes > many)", &opts);
    assert_eq!(codes(&out.warnings), vec!["rally_query.not_a_number"]);
    let e = err("(Customer Votes > ObjectID)", &opts);
    assert_eq!(e.code, "rally_query.field_comparison");
}

#[test]
fn v2_attribute_pages_work_too() {
    let opts = with_fields(STORY_V2);
    let out = norm_with("(Kanban State = Done) AND (Go Live <= 2024-06-30)", &opts);
    assert_eq!(
        out.query,
        "((c_KanbanState = Done) AND (c_GoLive <= 2024-06-30T00:00:00Z))"
    );
}

#[test]
fn unknown_fields_without_a_list_pass_with_a_guess() {
    let out = norm("(Story Type = Spike)");
    assert_eq!(out.query, "(StoryType = Spike)");
    assert_eq!(codes(&out.warnings), vec!["rally_query.unverified_field"]);
    let out = norm("(c_Deadline > 2024-01-01)");
    assert_eq!(out.query, "(c_Deadline > 2024-01-01T00:00:00Z)");
    assert_eq!(codes(&out.warnings), vec!["rally_query.assumed_date_field"]);
}

#[test]
fn releases_and_iterations_by_name() {
    let lookups = parse_lookups(LOOKUPS.as_bytes()).unwrap();
    let opts = Options {
        lookups: lookups.clone(),
        project: Some("Payments".into()),
        ..Options::default()
    };
    let out = norm_with(
        "(Release = \"R1\") AND (Iteration.Name = \"Sprint 5\")",
        &opts,
    );
    assert_eq!(
        out.query,
        "((Release.ObjectID = 1001) AND (Iteration.ObjectID = 3003))"
    );
    assert!(out.complete);
    // The query's own project wins over the host's.
    let out = norm_with("(Project.Name = Mobile) AND (Release.Name = R1)", &opts);
    assert_eq!(
        out.query,
        "((Project.Name = Mobile) AND (Release.ObjectID = 2002))"
    );
    // Missing: compare by name for now, and say what to fetch.
    let out = norm_with("(Release = \"R9\")", &opts);
    assert_eq!(out.query, "(Release.Name = \"R9\")");
    assert!(!out.complete);
    assert_eq!(
        out.needs,
        vec![LookupNeed {
            kind: LookupKind::Release,
            project: Some("Payments".into()),
            name: "R9".into()
        }]
    );
    assert_eq!(codes(&out.warnings), vec!["rally_query.lookup_needed"]);
    // Same name in two projects and no project: refused with the choices.
    let ambiguous = Options {
        lookups,
        ..Options::default()
    };
    let e = err("(Release = R1)", &ambiguous);
    assert_eq!(e.code, "rally_query.ambiguous_lookup");
    assert!(e.hint.unwrap().contains("Mobile (2002)"));
    // Refs and null are left alone.
    assert_eq!(norm("(Release = null)").query, "(Release = null)");
    assert_eq!(
        norm("(Iteration = /iteration/5)").query,
        "(Iteration = /iteration/5)"
    );
}

#[test]
fn syntax_errors_have_codes_positions_and_hints() {
    let cases = [
        ("", "rally_query.empty", None),
        ("   ", "rally_query.empty", None),
        ("(Name = \"x)", "rally_query.unterminated_string", Some(9)),
        ("((Name = x)", "rally_query.unbalanced_parenthesis", Some(1)),
        (
            "(Name = x))",
            "rally_query.unbalanced_parenthesis",
            Some(11),
        ),
        ("(Name =)", "rally_query.missing_value", Some(7)),
        ("(Name x)", "rally_query.missing_operator", Some(2)),
        ("(= x)", "rally_query.missing_field", Some(2)),
        ("()", "rally_query.empty_group", Some(1)),
        ("(Name = x) AND", "rally_query.missing_condition", Some(12)),
        ("AND (Name = x)", "rally_query.missing_condition", Some(1)),
        (
            "(Name = x) (Name = y)",
            "rally_query.unexpected_token",
            Some(12),
        ),
        (
            "(Name = x y \"z\")",
            "rally_query.unexpected_token",
            Some(13),
        ),
        ("(Name = a = b)", "rally_query.unexpected_token", Some(11)),
        ("Sorted by Rank", "rally_query.missing_condition", Some(1)),
    ];
    for (text, code, column) in cases {
        let out = check(text, &Options::default());
        assert!(!out.valid, "{text}");
        let d = &out.diagnostics[0];
        assert_eq!(d.code, code, "{text}");
        assert_eq!(d.location.map(|l| l.column), column, "{text}");
        assert!(
            d.hint.is_some() || code == "rally_query.empty",
            "{text} has a hint"
        );
    }
}

#[test]
fn check_reports_without_failing() {
    let out = check(
        "(Name contains US) AND (Creation Date >= 2013-Dec-31)",
        &Options::default(),
    );
    assert!(out.valid);
    assert!(!out.unchanged);
    assert_eq!(
        out.canonical.as_deref(),
        Some("((Name contains US) AND (CreationDate >= 2013-12-31T00:00:00Z))")
    );
    let out = check(
        "((Name contains US) AND (CreationDate >= 2013-12-31T00:00:00Z))",
        &Options::default(),
    );
    assert!(out.valid && out.unchanged && out.changes.is_empty());
    let out = check(
        "(CreationDate contains 2013) AND (Blocked = maybe)",
        &Options::default(),
    );
    assert!(!out.valid);
    assert_eq!(out.canonical, None);
    assert_eq!(
        codes(&out.diagnostics),
        vec![
            "rally_query.operator_not_allowed",
            "rally_query.invalid_boolean"
        ]
    );
    let d = &out.diagnostics[1];
    assert_eq!(
        (d.location.unwrap().column, d.end.unwrap().column),
        (45, 50)
    );
}

#[test]
fn strict_parse_refuses_what_rally_refuses() {
    assert!(parse_strict("((A = 1) AND (B = 2))").is_ok());
    for text in [
        "A = 1",
        "(A = 1) AND (B = 2)",
        "((A = 1) AND (B = 2) AND (C = 3))",
        "(A == 1)",
        "(A = 1) Sorted by A",
    ] {
        let e = parse_strict(text).unwrap_err();
        assert_eq!(e.code, "rally_query.not_canonical", "{text}");
        assert!(e.hint.is_some());
    }
}

#[test]
fn output_json_shape_is_snake_case() {
    let out = norm("(Creation Date = 2013-12-31)");
    let json = serde_json::to_value(&out).unwrap();
    assert_eq!(json["changes"][0]["kind"], "field_name");
    assert_eq!(json["changes"][1]["kind"], "date");
    assert_eq!(json["warnings"][0]["code"], "rally_query.date_equality");
    assert_eq!(json["order"], serde_json::Value::Null);
    assert_eq!(json["warnings"][0]["severity"], "warning");
    let tree = parse("(A = 1) AND (B in x,y)").unwrap();
    let json = serde_json::to_value(&tree).unwrap();
    assert_eq!(json["type"], "and");
    assert_eq!(json["right"]["op"], "in");
    assert_eq!(json["right"]["values"][1]["kind"], "bare");
    let back: Expr = serde_json::from_value(json).unwrap();
    assert_eq!(back, tree);
}

#[test]
fn options_take_rally_metadata_as_json() {
    let defect: serde_json::Value = serde_json::from_str(DEFECT).unwrap();
    let opts_json = serde_json::json!({ "time_zone": "Europe/Berlin", "fields": defect });
    let opts: Options = serde_json::from_value(opts_json).unwrap();
    assert_eq!(
        norm_with("(Code Area = x) AND (Closed Date < 2024-01-01)", &opts).query,
        "((c_CodeArea = x) AND (ClosedDate < 2023-12-31T23:00:00Z))"
    );
    let empty: Options = serde_json::from_str("{}").unwrap();
    assert_eq!(empty, Options::default());
}

#[test]
fn very_deep_or_long_queries_are_refused_not_crashed() {
    let deep = format!("{}(A = 1){}", "(".repeat(10_000), ")".repeat(10_000));
    assert_eq!(
        check(&deep, &Options::default()).diagnostics[0].code,
        "rally_query.too_complex"
    );
    let long = vec!["(A = 1)"; 1_000].join(" AND ");
    assert_eq!(
        check(&long, &Options::default()).diagnostics[0].code,
        "rally_query.too_complex"
    );
    let fine = vec!["(A = 1)"; MAX_DEPTH].join(" OR ");
    assert!(check(&fine, &Options::default()).valid);
}

// ---- properties ----

fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Name".to_string()),
        Just("Release.Name".to_string()),
        Just("Owner.UserName".to_string()),
        Just("c_Kanban".to_string()),
        Just("Creation Date".to_string()),
        Just("Found In Build".to_string()),
        Just("Should it be closed?".to_string()),
        Just("add at 2! (H)".to_string()),
        Just("contains".to_string()),
        "[A-Za-z][A-Za-z0-9_]{0,8}",
    ]
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::null()),
        "[A-Za-z0-9/:._-]{1,12}"
            .prop_filter("not a keyword", |s| super::printer::is_bare_safe(s))
            .prop_map(|s| Value::bare(&s)),
        "[ -~]{0,16}".prop_map(|s| Value::quoted(&s)),
        Just(Value::quoted("a) AND (b \"c\" \\d")),
    ]
}

fn condition() -> impl Strategy<Value = Expr> {
    (field(), 0usize..12, prop::collection::vec(value(), 1..4)).prop_map(|(f, op, vals)| {
        let op = Operator::ALL[op];
        let values = if op.takes_list() {
            vals
        } else if op.takes_range() {
            let mut v = vals;
            while v.len() < 2 {
                v.push(Value::bare("1"));
            }
            v.truncate(2);
            v
        } else {
            vals.into_iter().take(1).collect()
        };
        Expr::Condition(Condition::new(&f, op, values))
    })
}

fn tree() -> impl Strategy<Value = Expr> {
    condition().prop_recursive(5, 32, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Expr::and(l, r)),
            (inner.clone(), inner).prop_map(|(l, r)| Expr::or(l, r)),
        ]
    })
}

/// Ways people write the same query: flat chains, missing parentheses, display
/// names, other date forms, lower-case keywords.
fn pasted() -> impl Strategy<Value = String> {
    let cond = prop_oneof![
        Just("Name contains US"),
        Just("(Name = \"Login (SSO)\")"),
        Just("Creation Date >= 2013-Dec-31"),
        Just("(AcceptedDate < 12/31/2013 5:00 PM)"),
        Just("ScheduleState in Defined, Completed"),
        Just("(LastUpdateDate between 2024-01-01 and 2024-Feb-01)"),
        Just("Owner = https://rally1.rallydev.com/slm/webservice/v2.0/user/1"),
        Just("Release = \"R1\""),
        Just("Iteration.StartDate <= today"),
        Just("Name = My Story"),
        Just("c_Due > 2024-03-31"),
        Just("Blocked = true"),
    ];
    let joiner = prop_oneof![Just(" AND "), Just(" OR "), Just(" and ")];
    (
        prop::collection::vec(cond, 1..5),
        prop::collection::vec(joiner, 4),
        prop::bool::ANY,
    )
        .prop_map(|(conds, joins, tail)| {
            let mut text = String::new();
            for (i, c) in conds.iter().enumerate() {
                if i > 0 {
                    text.push_str(joins[i - 1]);
                }
                text.push_str(c);
            }
            if tail {
                text.push_str(" Sorted by Creation Date");
            }
            text
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn printing_then_parsing_gives_the_same_tree(t in tree()) {
        let text = print(&t);
        let back = parse_lenient(&text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
        prop_assert_eq!(back.expr.without_spans(), t.without_spans());
        prop_assert!(back.changes.is_empty(), "canonical text needed repairs: {} {:?}", text, back.changes);
    }

    #[test]
    fn normalising_twice_changes_nothing(text in pasted(), zone in prop_oneof![Just("UTC"), Just("America/New_York"), Just("Asia/Kolkata")]) {
        let opts = in_zone(zone);
        let once = normalize(&text, &opts).unwrap_or_else(|e| panic!("{text}: {e}"));
        let twice = normalize(&once.query, &opts).unwrap_or_else(|e| panic!("{}: {e}", once.query));
        prop_assert_eq!(&twice.query, &once.query);
        prop_assert!(twice.changes.is_empty(), "second pass changed {:?}", twice.changes);
        prop_assert_eq!(twice.needs, once.needs);
    }

    #[test]
    fn any_text_gives_a_verdict_without_panicking(text in "\\PC{0,60}") {
        let out = check(&text, &Options::default());
        prop_assert_eq!(out.valid, out.canonical.is_some());
        for d in &out.diagnostics {
            if let Some(loc) = d.location {
                prop_assert!(loc.offset as usize <= text.len());
            }
        }
    }

    #[test]
    fn query_like_text_gives_a_verdict_without_panicking(parts in prop::collection::vec(prop_oneof![
        Just("("), Just(")"), Just("\""), Just("'"), Just(","), Just("="), Just("!="), Just("<"), Just(">="),
        Just("AND"), Just("or"), Just("contains"), Just("in"), Just("between"), Just("and"), Just("Sorted"), Just("by"),
        Just("Name"), Just("Creation Date"), Just("2013-Dec-31"), Just("null"), Just("today"), Just(" "), Just("\u{201C}"),
    ], 0..30)) {
        let text = parts.concat();
        let out = check(&text, &Options::default());
        if let Some(canonical) = &out.canonical {
            // Whatever was accepted reads back as itself.
            let again = check(canonical, &Options::default());
            prop_assert_eq!(again.canonical.as_ref(), Some(canonical));
        }
    }
}

#[test]
fn overlong_text_is_refused_up_front() {
    let long = format!("(Name = \"{}\")", "x".repeat(MAX_QUERY_BYTES));
    assert_eq!(
        check(&long, &Options::default()).diagnostics[0].code,
        "rally_query.too_long"
    );
}

#[test]
fn the_deepest_accepted_query_fits_a_small_stack() {
    // 1 MiB is the stack a wasm32 build gets. Unoptimised builds need about 512 KiB
    // here, optimised ones less than 64 KiB.
    let valid = std::thread::Builder::new()
        .stack_size(1024 * 1024)
        .spawn(|| {
            let n = MAX_DEPTH - 1;
            let deep = format!("{}(A = 1){}", "(".repeat(n), ")".repeat(n));
            check(&deep, &Options::default()).valid
        })
        .unwrap()
        .join()
        .unwrap();
    assert!(valid);
}

#[test]
fn control_and_text_direction_characters_are_refused_where_they_are() {
    let cases = [
        ("(Name = \"a\0b\")", 11),
        ("(Name contains \"x\u{202E}gnp.exe\")", 18),
        ("(Owner = \"me\u{2066}\") AND (State = Open)", 13),
        ("\u{200F}(Name = a)", 1),
        ("(Name = a)\u{061C}", 11),
        ("(Name = \"a\u{1b}[2Jb\")", 11),
    ];
    for (text, column) in cases {
        let e = err(text, &Options::default());
        assert_eq!(e.code, "rally_query.control_character", "{text:?}: {e}");
        assert_eq!(e.location.map(|l| l.column), Some(column), "{text:?}");
        assert!(e.message.contains("U+"), "{}", e.message);
        let checked = check(text, &Options::default());
        assert!(!checked.valid && checked.canonical.is_none(), "{text:?}");
        assert!(parse(text).is_err() && parse_strict(text).is_err());
    }
    // Tabs and line breaks are white space, not controls.
    assert_eq!(
        norm("(Name = a)\t\r\nAND (State = Open)").query,
        "((Name = a) AND (State = Open))"
    );
}
