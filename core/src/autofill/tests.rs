//! End-to-end tests of the auto-fill over the fixtures in `tests/fixtures/autofill`:
//! a Rally v2.0 Defect TypeDefinition, the form settings of a team that files
//! defects from qTest runs, and one failed qTest run.

use super::*;

const TYPEDEF: &[u8] = include_bytes!("../../../tests/fixtures/autofill/rally-defect-typedef.json");
const SETTINGS: &[u8] =
    include_bytes!("../../../tests/fixtures/autofill/defect-form-settings.json");
const RUN: &[u8] = include_bytes!("../../../tests/fixtures/autofill/failed-run.json");

fn schema() -> Schema {
    schema_from_metadata(TYPEDEF).unwrap()
}

fn settings() -> Settings {
    serde_json::from_slice(SETTINGS).unwrap()
}

fn run() -> RunContext {
    serde_json::from_slice(RUN).unwrap()
}

fn field<'a>(out: &'a FillOutput, name: &str) -> &'a FilledField {
    out.fields
        .iter()
        .find(|f| f.field == name)
        .unwrap_or_else(|| panic!("{name} not on the form"))
}

fn codes(out: &FillOutput) -> Vec<&str> {
    out.problems.iter().map(|p| p.code.as_str()).collect()
}

fn problem<'a>(out: &'a FillOutput, code: &str) -> &'a Problem {
    out.problems
        .iter()
        .find(|p| p.code == code)
        .unwrap_or_else(|| panic!("no {code} in {:?}", codes(out)))
}

fn attr<'a>(out: &'a FillOutput, name: &str) -> Option<&'a PayloadValue> {
    out.payload.get("Defect").and_then(|d| d.get(name))
}

fn text(value: Option<&PayloadValue>) -> &str {
    match value {
        Some(PayloadValue::Text(t)) => t,
        other => panic!("not text: {other:?}"),
    }
}

#[test]
fn fixture_form_is_ready_and_in_the_users_order() {
    let out = fill(&schema(), &settings(), &run()).unwrap();
    assert!(out.ready, "{:#?}", out.problems);
    assert_eq!(out.type_name, "Defect");
    let names: Vec<&str> = out.fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(
        names,
        [
            // settings.order first
            "Name",
            "Project",
            "Severity",
            "Priority",
            "Environment",
            "State",
            "ScheduleState",
            "FoundInBuild",
            "SubmittedBy",
            "Description",
            "Notes",
            "Requirement",
            "TestCase",
            "TestCaseResult",
            // then the rest in metadata order: writable, not hidden, not collections
            "Owner",
            "Iteration",
            "c_CodeArea",
            "c_Type",
            // then the field added by hand
            "c_QTestRun",
        ]
    );
    // Every field not filled says why.
    for f in &out.fields {
        assert!(!f.explanation.is_empty(), "{} has no explanation", f.field);
        assert_eq!(
            f.filled_by == FilledBy::None,
            f.value.is_empty(),
            "{}",
            f.field
        );
    }
    assert_eq!(
        field(&out, "Owner").explanation,
        "no rule or default fills it"
    );
}

#[test]
fn name_joins_test_case_and_failing_step_as_one_plain_line() {
    let out = fill(&schema(), &settings(), &run()).unwrap();
    let name = field(&out, "Name");
    assert_eq!(name.filled_by, FilledBy::Rule);
    assert_eq!(name.rule, Some(0));
    // The failing step's actual result is HTML in qTest with two paragraphs; the
    // rule takes its first line; quotes stay plain in a STRING field.
    assert_eq!(
        name.value,
        "Checkout rejects an expired card: Spinner for 30 s, then \"Something went wrong (500)\""
    );
    assert_eq!(text(attr(&out, "Name")), name.value);
}

#[test]
fn description_is_escaped_html_with_steps_and_the_run_link() {
    let out = fill(&schema(), &settings(), &run()).unwrap();
    let d = &field(&out, "Description").value;
    assert!(d.starts_with(
        "TC-318 Checkout rejects an expired card failed in build web-2024.05.14+3 on Staging."
    ));
    // qTest HTML was read as text, then escaped again for Rally
    assert!(d.contains("sees a clear error &amp; no order is created."));
    assert!(d.contains(
        "Preconditions:<br />- Shopper account qa-shopper-7 exists<br />- The cart holds one item"
    ));
    // steps with expected and actual results, indentation kept with &nbsp;
    assert!(d.contains(
        "3. Press Pay<br />&nbsp;&nbsp;&nbsp;Expected: &quot;Your card has expired&quot; is shown under the card number<br />&nbsp;&nbsp;&nbsp;Actual: Spinner for 30 s"
    ));
    // the second paragraph of the actual result lines up under the first
    assert!(d.contains(&format!(
        "(500)&quot;<br />{}No field error<br />",
        "&nbsp;".repeat(11)
    )));
    assert!(d.contains("Failed at step 3: Spinner"));
    assert!(
        !d.contains("<p>") && !d.contains("<b>"),
        "no source markup leaks through"
    );
    assert!(d.ends_with(
        "<br /><br />Test run: <a href=\"https://acme.qtestnet.com/p/4521/portal/project#tab=testexecution&amp;object=3&amp;id=88213\">TR-1042 Checkout with an expired card</a>"
    ));
    assert_eq!(text(attr(&out, "Description")), d);
}

#[test]
fn notes_join_non_empty_sources_with_the_separator() {
    let out = fill(&schema(), &settings(), &run()).unwrap();
    assert_eq!(
        field(&out, "Notes").value,
        "Reproduced twice on Chrome 124 &amp; Firefox 125.<br />Attachments: checkout-error.png, console.log<br />\
         Executed by dana.reyes<br />Build: <a href=\"https://ci.example.com/job/web/1893/\">https://ci.example.com/job/web/1893/</a>"
    );
    // Without a note and a tester, their lines and separators vanish.
    let mut ctx = run();
    ctx.test_log.note = None;
    ctx.test_run.tester = None;
    let out = fill(&schema(), &settings(), &ctx).unwrap();
    assert!(
        field(&out, "Notes")
            .value
            .starts_with("Attachments: checkout-error.png, console.log<br />Build: ")
    );
}

#[test]
fn dropdowns_and_references_go_through_value_maps_and_defaults() {
    let out = fill(&schema(), &settings(), &run()).unwrap();
    let sev = field(&out, "Severity");
    assert_eq!(
        (sev.value.as_str(), sev.filled_by),
        ("Major Problem", FilledBy::ValueMap)
    );
    assert!(
        sev.explanation
            .contains("\"Major\" mapped to \"Major Problem\"")
    );
    assert_eq!(field(&out, "Priority").value, "High Attention");
    assert_eq!(field(&out, "Environment").value, "Test");
    let by = field(&out, "SubmittedBy");
    assert_eq!(
        (by.value.as_str(), by.reference.as_deref()),
        ("Dana Reyes", Some("/user/52010440017"))
    );
    assert_eq!(text(attr(&out, "SubmittedBy")), "/user/52010440017");
    let project = field(&out, "Project");
    assert_eq!(project.filled_by, FilledBy::Default);
    assert_eq!(text(attr(&out, "Project")), "/project/51022340011");
    assert_eq!(field(&out, "State").value, "Submitted");
    assert_eq!(field(&out, "c_CodeArea").value, "Checkout");
}

#[test]
fn first_rule_with_a_value_wins() {
    let out = fill(&schema(), &settings(), &run()).unwrap();
    assert_eq!(field(&out, "FoundInBuild").rule, Some(3));
    let mut ctx = run();
    ctx.test_log.build = None;
    ctx.test_run.build = Some("web-2024.05.13+9".into());
    let out = fill(&schema(), &settings(), &ctx).unwrap();
    let f = field(&out, "FoundInBuild");
    assert_eq!((f.value.as_str(), f.rule), ("web-2024.05.13+9", Some(4)));
}

#[test]
fn refs_of_test_case_story_and_result_and_extra_stories_reported() {
    let out = fill(&schema(), &settings(), &run()).unwrap();
    assert_eq!(text(attr(&out, "TestCase")), "/testcase/66120987");
    assert_eq!(
        text(attr(&out, "Requirement")),
        "/hierarchicalrequirement/60011223"
    );
    assert_eq!(
        text(attr(&out, "TestCaseResult")),
        "/testcaseresult/771203344"
    );
    assert_eq!(field(&out, "Requirement").filled_by, FilledBy::Automatic);
    let extra = problem(&out, "autofill.extra_requirements");
    assert_eq!(extra.severity, Severity::Warning);
    assert!(
        extra
            .message
            .contains("US2240 \"Show payment errors inline\"")
    );
    assert!(!extra.message.contains("left out: US2231"));
}

#[test]
fn mapping_round_trip_problems_of_the_fixture() {
    let out = fill(&schema(), &settings(), &run()).unwrap();
    let not_reversible = problem(&out, "autofill.mapping_not_reversible");
    assert_eq!(not_reversible.field.as_deref(), Some("Severity"));
    assert!(not_reversible.message.contains("\"Average\" and \"Minor\""));
    assert!(
        problem(&out, "autofill.mapping_source_unmapped")
            .message
            .contains("\"Undecided\"")
    );
    let env = out
        .problems
        .iter()
        .find(|p| {
            p.code == "autofill.mapping_target_unmapped"
                && p.field.as_deref() == Some("Environment")
        })
        .unwrap();
    assert!(env.message.contains("\"Demo\""));
}

#[test]
fn a_mapped_value_rally_does_not_allow_is_an_error() {
    let mut s = settings();
    let map = s
        .value_maps
        .iter_mut()
        .find(|m| m.name == "qtest-severity")
        .unwrap();
    map.pairs[1].target = "Major".into(); // Rally says "Major Problem"
    let out = fill(&schema(), &s, &run()).unwrap();
    assert!(!out.ready);
    let p = problem(&out, "autofill.mapping_target_not_allowed");
    assert_eq!(p.severity, Severity::Error);
    // at fill time the same value is refused and the field stays empty
    let refused = problem(&out, "autofill.value_not_allowed");
    assert_eq!(refused.field.as_deref(), Some("Severity"));
    assert_eq!(field(&out, "Severity").value, "");
    assert!(attr(&out, "Severity").is_none());
}

#[test]
fn a_value_missing_from_the_map_falls_back_to_the_default() {
    let mut ctx = run();
    ctx.test_run.properties[0].value = "Blocker".into();
    let out = fill(&schema(), &settings(), &ctx).unwrap();
    let sev = field(&out, "Severity");
    assert_eq!(
        (sev.value.as_str(), sev.filled_by),
        ("Minor Problem", FilledBy::Default)
    );
    assert!(
        sev.explanation.contains("\"Blocker\""),
        "{}",
        sev.explanation
    );
    assert!(
        problem(&out, "autofill.unmapped_value")
            .message
            .contains("\"Blocker\"")
    );
    assert!(out.ready, "a warning only");
}

#[test]
fn sources_fill_only_text_fields() {
    let mut s = settings();
    s.rules.push(Rule {
        field: "Iteration".into(),
        template: Some("{test_run.properties.Execution Type}".into()),
        ..Rule::default()
    });
    let out = fill(&schema(), &s, &run()).unwrap();
    let p = problem(&out, "autofill.rule_needs_map");
    assert_eq!(p.field.as_deref(), Some("Iteration"));
    assert_eq!(field(&out, "Iteration").value, "");
}

#[test]
fn required_fields_left_empty_are_errors_that_say_why() {
    let mut s = settings();
    s.defaults.remove("Project");
    s.rules.retain(|r| r.field != "Environment");
    let out = fill(&schema(), &s, &run()).unwrap();
    assert!(!out.ready);
    let empty: Vec<&str> = out
        .problems
        .iter()
        .filter(|p| p.code == "autofill.required_empty")
        .filter_map(|p| p.field.as_deref())
        .collect();
    assert_eq!(empty, ["Project", "Environment"]);
    assert!(
        problem(&out, "autofill.required_empty")
            .hint
            .as_deref()
            .unwrap()
            .contains("default for Project")
    );
}

#[test]
fn a_default_that_is_not_allowed_is_refused_with_a_hint() {
    let mut s = settings();
    s.defaults.insert("State".into(), "submitted".into());
    let out = fill(&schema(), &s, &run()).unwrap();
    let p = problem(&out, "autofill.value_not_allowed");
    assert_eq!(p.hint.as_deref(), Some("Rally writes it \"Submitted\""));
    assert!(
        out.problems
            .iter()
            .any(|p| p.code == "autofill.required_empty" && p.field.as_deref() == Some("State"))
    );
}

#[test]
fn long_text_is_cut_with_a_marker_and_reported() {
    let mut ctx = run();
    ctx.test_case.name = Some("Checkout ".repeat(40)); // 360 characters
    let out = fill(&schema(), &settings(), &ctx).unwrap();
    let name = field(&out, "Name");
    assert!(name.truncated);
    // 243 characters fit before the 13-character marker; the space they end with is dropped
    assert_eq!(name.value.chars().count(), 255);
    assert!(name.value.ends_with("Checkout… [truncated]"));
    let p = problem(&out, "autofill.truncated");
    assert_eq!(p.field.as_deref(), Some("Name"));
    assert!(p.message.contains("256"));
    assert!(out.ready, "truncation is a warning");
    // the added field has a max length of 32 from the settings
    ctx.test_run.pid = Some("TR-".repeat(20));
    let out = fill(&schema(), &settings(), &ctx).unwrap();
    assert_eq!(field(&out, "c_QTestRun").value.chars().count(), 32);
}

#[test]
fn description_cut_keeps_the_run_link() {
    let mut s = settings();
    s.truncation_marker = Some(" [cut]".into());
    let mut schema = schema();
    let d = schema
        .fields
        .iter_mut()
        .find(|f| f.name == "Description")
        .unwrap();
    d.max_length = Some(400);
    let out = fill(&schema, &s, &run()).unwrap();
    let v = &field(&out, "Description").value;
    assert!(v.chars().count() <= 400, "{}", v.chars().count());
    assert!(v.contains(" [cut]<br /><br />Test run: <a href="), "{v}");
    assert!(
        problem(&out, "autofill.truncated")
            .message
            .contains("run link is kept")
    );
}

#[test]
fn link_already_in_the_template_is_not_repeated() {
    let mut s = settings();
    s.rules[1].template = Some("See {test_run.link}".into());
    let out = fill(&schema(), &s, &run()).unwrap();
    let v = &field(&out, "Description").value;
    assert_eq!(v.matches("href=").count(), 1, "{v}");
    assert!(
        !field(&out, "Description")
            .explanation
            .contains("link to the test run added")
    );
}

#[test]
fn no_run_link_is_reported() {
    let mut ctx = run();
    ctx.test_run.link = None;
    let out = fill(&schema(), &settings(), &ctx).unwrap();
    assert!(!field(&out, "Description").value.contains("Test run:"));
    assert_eq!(
        problem(&out, "autofill.no_run_link").severity,
        Severity::Warning
    );
}

#[test]
fn hidden_fields_stay_out_of_the_form_but_links_still_go_to_rally() {
    let mut s = settings();
    s = edit_form(
        &schema(),
        &s,
        &FormEdit::Hide {
            field: "Description".into(),
        },
    )
    .unwrap()
    .settings;
    s = edit_form(
        &schema(),
        &s,
        &FormEdit::Hide {
            field: "Requirement".into(),
        },
    )
    .unwrap()
    .settings;
    let out = fill(&schema(), &s, &run()).unwrap();
    assert!(
        !out.fields
            .iter()
            .any(|f| f.field == "Description" || f.field == "Requirement")
    );
    assert!(text(attr(&out, "Description")).starts_with("Test run: <a href="));
    assert_eq!(
        text(attr(&out, "Requirement")),
        "/hierarchicalrequirement/60011223"
    );
    assert!(
        out.problems
            .iter()
            .any(|p| p.code == "autofill.rule_for_hidden_field"
                && p.field.as_deref() == Some("Description"))
    );
}

#[test]
fn hiding_a_required_field_is_an_error() {
    let s = edit_form(
        &schema(),
        &settings(),
        &FormEdit::Hide {
            field: "State".into(),
        },
    )
    .unwrap()
    .settings;
    let out = fill(&schema(), &s, &run()).unwrap();
    assert!(!out.ready);
    assert_eq!(
        problem(&out, "autofill.required_hidden").field.as_deref(),
        Some("State")
    );
    assert!(attr(&out, "State").is_none());
}

#[test]
fn reloaded_allowed_values_are_used_for_mapping_and_checks() {
    // Owner's values were only a stub in the metadata: a mapping to it cannot be checked
    let mut s = settings();
    s.rules.push(Rule {
        field: "Owner".into(),
        template: Some("{test_run.tester}".into()),
        map: Some("users".into()),
        ..Rule::default()
    });
    let out = fill(&schema(), &s, &run()).unwrap();
    assert!(codes(&out).contains(&"autofill.allowed_values_not_loaded"));
    assert_eq!(
        problem(&out, "autofill.ref_unknown").field.as_deref(),
        Some("Owner")
    );
    // the host fetched them
    let values = parse_allowed_values(
        br#"{"QueryResult": {"Results": [
            {"StringValue": "Dana Reyes", "_ref": "https://rally1.rallydev.com/slm/webservice/v2.0/user/52010440017"},
            {"StringValue": "Marco Ili\u0107", "_ref": "https://rally1.rallydev.com/slm/webservice/v2.0/user/52010440023"}]}}"#,
    )
    .unwrap();
    let edited = edit_form(
        &schema(),
        &s,
        &FormEdit::ReloadAllowedValues {
            field: "Owner".into(),
            values,
        },
    )
    .unwrap();
    assert!(
        edited
            .note
            .starts_with("Owner: 2 allowed values; added: \"Dana Reyes\"")
    );
    let out = fill(&schema(), &edited.settings, &run()).unwrap();
    assert_eq!(text(attr(&out, "Owner")), "/user/52010440017");
    // now the mapping is checked: two users of the map are not Owners
    let unknown: Vec<&Problem> = out
        .problems
        .iter()
        .filter(|p| {
            p.code == "autofill.mapping_target_not_allowed" && p.field.as_deref() == Some("Owner")
        })
        .collect();
    assert_eq!(unknown.len(), 2);
}

#[test]
fn a_template_error_is_reported_with_its_position() {
    let mut s = settings();
    s.rules[0].template = Some("{test_case.name} at {failing_step.actaul}".into());
    let out = fill(&schema(), &s, &run()).unwrap();
    let p = problem(&out, "autofill.unknown_source");
    assert_eq!(p.field.as_deref(), Some("Name"));
    assert!(p.message.contains("line 1, column 22"), "{}", p.message);
    assert_eq!(
        p.hint.as_deref(),
        Some("did you mean `failing_step.actual`?")
    );
    // Name has no other rule and no default
    assert!(!out.ready);
}

#[test]
fn bad_rules_are_reported() {
    let mut s = settings();
    s.rules.push(Rule {
        field: "Severty".into(),
        template: Some("x".into()),
        ..Rule::default()
    });
    s.rules.push(Rule {
        field: "FormattedID".into(),
        template: Some("x".into()),
        ..Rule::default()
    });
    s.rules.push(Rule {
        field: "Notes".into(),
        ..Rule::default()
    });
    let out = fill(&schema(), &s, &run()).unwrap();
    assert_eq!(
        problem(&out, "autofill.unknown_field").field.as_deref(),
        Some("Severty")
    );
    assert_eq!(
        problem(&out, "autofill.read_only_field").field.as_deref(),
        Some("FormattedID")
    );
    assert!(
        problem(&out, "autofill.bad_rule")
            .message
            .contains("neither a template nor sources")
    );
}

#[test]
fn empty_settings_and_empty_run_explain_everything() {
    let out = fill(&schema(), &Settings::default(), &RunContext::default()).unwrap();
    assert!(!out.ready);
    for required in ["Name", "Project", "Environment", "ScheduleState", "State"] {
        assert!(
            out.problems.iter().any(
                |p| p.code == "autofill.required_empty" && p.field.as_deref() == Some(required)
            ),
            "{required}"
        );
    }
    assert!(out.fields.iter().all(|f| f.filled_by == FilledBy::None));
    assert_eq!(out.payload.get("Defect").map(|d| d.len()), Some(0));
}

#[test]
fn output_is_deterministic_and_float_free() {
    let a = serde_json::to_string(&fill(&schema(), &settings(), &run()).unwrap()).unwrap();
    let b = serde_json::to_string(&fill(&schema(), &settings(), &run()).unwrap()).unwrap();
    assert_eq!(a, b);
    fn no_floats(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::Number(n) => n.is_i64() || n.is_u64(),
            serde_json::Value::Array(items) => items.iter().all(no_floats),
            serde_json::Value::Object(map) => map.values().all(no_floats),
            _ => true,
        }
    }
    assert!(no_floats(&serde_json::from_str(&a).unwrap()));
    // the output reads back
    let back: FillOutput = serde_json::from_str(&a).unwrap();
    assert_eq!(serde_json::to_string(&back).unwrap(), a);
}

#[test]
fn sources_join_with_a_custom_separator() {
    let json = serde_json::json!({
        "defaults": {"State": "Open"},
        "rules": [{"field": "Name", "sources": ["test_case.pid", "test_case.name"], "separator": " - "}]
    });
    let s: Settings = serde_json::from_value(json).unwrap();
    let out = fill(&schema(), &s, &run()).unwrap();
    assert_eq!(
        field(&out, "Name").value,
        "TC-318 - Checkout rejects an expired card"
    );
    assert_eq!(field(&out, "State").value, "Open");
}

#[test]
fn without_a_rule_description_holds_just_the_link() {
    let out = fill(&schema(), &Settings::default(), &run()).unwrap();
    let d = field(&out, "Description");
    assert_eq!(d.filled_by, FilledBy::Automatic);
    assert!(d.value.starts_with("Test run: <a href="), "{}", d.value);
    assert!(
        d.explanation.starts_with("the link to the test run"),
        "{}",
        d.explanation
    );
}

#[test]
fn control_and_text_direction_characters_are_removed_with_a_warning() {
    let mut ctx = run();
    ctx.test_case.name = Some("Checkout\u{202E}gnp.exe\0 rejects".into());
    ctx.test_run.pid = Some("TR\u{2066}-1042\u{1b}".into());
    ctx.test_run.environment = Some("Staging\u{200F}".into());
    ctx.test_run.link = Some("https://qtest.example.com/run/1\u{202D}".into());
    let out = fill(&schema(), &settings(), &ctx).unwrap();
    for f in &out.fields {
        let found = crate::controls::find_forbidden(&f.value);
        assert_eq!(found, None, "{}: {:?}", f.field, f.value);
    }
    let payload = serde_json::to_string(&out.payload).unwrap();
    assert!(
        !payload.contains("\\u0000") && !payload.contains('\u{202E}'),
        "{payload}"
    );
    assert!(
        !payload.contains('\u{202D}') && !payload.contains('\u{2066}'),
        "{payload}"
    );
    assert!(
        field(&out, "Name")
            .value
            .starts_with("Checkoutgnp.exe rejects: ")
    );
    // The environment still maps once its invisible mark is gone.
    assert_eq!(field(&out, "Environment").filled_by, FilledBy::ValueMap);
    let warned: Vec<&str> = out
        .problems
        .iter()
        .filter(|p| p.code == "autofill.control_character")
        .filter_map(|p| p.field.as_deref())
        .collect();
    for name in ["Name", "c_QTestRun", "Environment", "Description"] {
        assert!(warned.contains(&name), "{name} not in {warned:?}");
    }
    assert_eq!(
        problem(&out, "autofill.control_character").severity,
        Severity::Warning
    );
}
