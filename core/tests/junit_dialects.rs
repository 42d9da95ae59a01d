//! What each JUnit dialect means, one feature per test, on small hand-written reports.

use tmbridge_core::junit::{self, Event, Options};
use tmbridge_core::model::{Property, RerunKind, RootKind, Status, TestCase};

fn cases(xml: &str) -> Vec<TestCase> {
    let report = junit::parse(xml.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    report.cases().into_iter().cloned().collect()
}

fn one(xml: &str) -> TestCase {
    let mut all = cases(xml);
    assert_eq!(all.len(), 1, "expected one case");
    all.remove(0)
}

#[test]
fn nested_suites_keep_their_path_at_any_depth() {
    let xml = r#"<testsuites name="all">
      <testsuite name="a"><testsuite name="b"><testsuite name="c">
        <testcase classname="x.Y" name="deep"/>
      </testsuite></testsuite>
      <testcase name="in-a"/></testsuite>
    </testsuites>"#;
    let report = junit::parse(xml.as_bytes()).expect("parse");
    let paths: Vec<Vec<String>> = report.cases().iter().map(|c| c.suite.clone()).collect();
    assert_eq!(paths, vec![vec!["a", "b", "c"], vec!["a"]]);
    assert_eq!(report.suite_count(), 3);
    assert_eq!(
        report.suites[0].counts.tests, 2,
        "a suite counts the cases below it"
    );
}

#[test]
fn bare_testsuite_and_testrun_roots() {
    let bare = junit::parse(br#"<testsuite name="s" tests="1"><testcase name="t"/></testsuite>"#)
        .expect("bare");
    assert_eq!(bare.root, RootKind::Testsuite);
    assert_eq!(bare.cases()[0].suite, vec!["s"]);
    let run = junit::parse(
        br#"<testrun name="r" tests="1"><testsuite name="s"><testcase name="t"/></testsuite></testrun>"#,
    )
    .expect("testrun");
    assert_eq!(run.root, RootKind::Testrun);
    assert_eq!(run.counts.tests, 1);
}

#[test]
fn cases_directly_under_the_root_get_a_suite_named_after_the_root() {
    let all = cases(r#"<testsuites name="jest tests"><testcase name="t"/></testsuites>"#);
    assert_eq!(all[0].suite, vec!["jest tests"]);
}

#[test]
fn result_children_with_and_without_message_type_and_text() {
    let c = one(
        r#"<testsuite><testcase name="t"><failure message="expected 1" type="AssertionError">at line 3</failure></testcase></testsuite>"#,
    );
    assert_eq!(c.status, Status::Failed);
    assert_eq!(c.message.as_deref(), Some("expected 1"));
    assert_eq!(c.outcomes[0].kind_name.as_deref(), Some("AssertionError"));
    assert_eq!(
        c.outcomes[0].details.as_ref().map(|d| d.text.as_str()),
        Some("at line 3")
    );

    let bare = one(r#"<testsuite><testcase name="t"><error/></testcase></testsuite>"#);
    assert_eq!((bare.status, bare.message), (Status::Error, None));

    let text_only = one(
        "<testsuite><testcase name=\"t\"><skipped>\n  not on CI\n</skipped></testcase></testsuite>",
    );
    assert_eq!(text_only.status, Status::Skipped);
    assert_eq!(
        text_only.message.as_deref(),
        Some("not on CI"),
        "first line of the body"
    );
}

#[test]
fn several_results_are_all_kept_and_the_most_severe_wins() {
    let c = one(r#"<testsuite><testcase name="t">
        <skipped message="s"/><failure message="f1"/><error message="e"/><failure message="f2"/>
    </testcase></testsuite>"#);
    assert_eq!(c.outcomes.len(), 4);
    assert_eq!(c.status, Status::Error);
    assert_eq!(c.message.as_deref(), Some("e"));
}

#[test]
fn flaky_when_the_final_run_passed_and_every_rerun_is_kept() {
    let c = one(r#"<testsuite><testcase name="t" time="0.5">
        <flakyFailure message="first" type="java.lang.AssertionError" time="0.2">
          <stackTrace>trace 1</stackTrace><system-out>out 1</system-out>
        </flakyFailure>
        <flakyError message="second"><stackTrace>trace 2</stackTrace></flakyError>
    </testcase></testsuite>"#);
    assert_eq!(c.status, Status::Flaky);
    assert_eq!(c.reruns.len(), 2);
    assert_eq!(c.reruns[0].kind, RerunKind::FlakyFailure);
    assert_eq!(c.reruns[0].duration_us, Some(200_000));
    assert_eq!(
        c.reruns[0].details.as_ref().map(|d| d.text.as_str()),
        Some("trace 1")
    );
    assert_eq!(
        c.reruns[0].system_out.as_ref().map(|d| d.text.as_str()),
        Some("out 1")
    );
    assert_eq!(
        c.message.as_deref(),
        Some("second"),
        "the last failed run explains the flake"
    );
}

#[test]
fn reruns_that_never_passed_stay_failed() {
    let c = one(r#"<testsuite><testcase name="t">
        <failure message="final"/><rerunFailure message="again"/><rerunError message="and again"/>
    </testcase></testsuite>"#);
    assert_eq!(c.status, Status::Failed);
    assert_eq!(c.reruns.len(), 2);
    assert_eq!(c.message.as_deref(), Some("final"));
}

#[test]
fn status_and_result_attributes() {
    let all = cases(
        r#"<testsuite>
        <testcase name="a" status="disabled"/>
        <testcase name="b" status="notrun" result="suppressed"/>
        <testcase name="c" status="run" result="skipped"/>
        <testcase name="d" status="run" result="completed"/>
        <testcase name="e" status="failed"/>
        <testcase name="f" status="errored"/>
        <testcase name="g" status="disabled"><failure message="x"/></testcase>
        <testcase name="h" status="untested"/>
        <testcase name="i" status="PASSED"/>
    </testsuite>"#,
    );
    let statuses: Vec<Status> = all.iter().map(|c| c.status).collect();
    use Status::*;
    assert_eq!(
        statuses,
        vec![
            Skipped, Skipped, Skipped, Passed, Failed, Error, Failed, Skipped, Passed
        ]
    );
}

#[test]
fn time_forms_become_integer_microseconds() {
    let all = cases(
        r#"<testsuite>
        <testcase name="a" time="1.5"/><testcase name="b" time="1,234.5"/>
        <testcase name="c" time=""/><testcase name="d"/><testcase name="e" time="-1"/>
        <testcase name="f" time="1e-05"/>
    </testsuite>"#,
    );
    let got: Vec<Option<u64>> = all.iter().map(|c| c.duration_us).collect();
    assert_eq!(
        got,
        vec![
            Some(1_500_000),
            Some(1_234_500_000),
            None,
            None,
            None,
            Some(10)
        ]
    );
    assert_eq!(
        all[4].time_text.as_deref(),
        Some("-1"),
        "the original text is kept"
    );
    let report =
        junit::parse(br#"<testsuite><testcase name="e" time="-1"/></testsuite>"#).expect("parse");
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.code == "junit.negative_time")
    );
}

#[test]
fn timestamps_are_kept_as_written() {
    let xml = r#"<testsuite name="s" timestamp="2024-03-01T10:00:00"><testcase name="a" timestamp="2024-03-01T10:00:01+02:00"/></testsuite>"#;
    let report = junit::parse(xml.as_bytes()).expect("parse");
    assert_eq!(
        report.suites[0].info.timestamp.as_deref(),
        Some("2024-03-01T10:00:00")
    );
    assert_eq!(
        report.cases()[0].timestamp.as_deref(),
        Some("2024-03-01T10:00:01+02:00")
    );
}

#[test]
fn properties_with_value_or_text_repeated_in_document_order() {
    let xml = r#"<testsuite name="s">
      <properties><property name="browser" value="chrome"/><property name="tag">smoke</property></properties>
      <testcase name="t">
        <properties>
          <property name="test_id" value="C12"/>
          <property name="tag" value="a"/><property name="tag" value="b"/>
          <property name="testrail_result_comment"><![CDATA[multi
line]]></property>
          <property name="attachment" value="shots/fail.png"/>
        </properties>
      </testcase>
    </testsuite>"#;
    let report = junit::parse(xml.as_bytes()).expect("parse");
    let suite_props = &report.suites[0].info.properties;
    assert_eq!(
        suite_props[1],
        Property {
            name: "tag".into(),
            value: "smoke".into()
        }
    );
    let c = &report.cases()[0];
    let names: Vec<&str> = c.properties.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "test_id",
            "tag",
            "tag",
            "testrail_result_comment",
            "attachment"
        ]
    );
    assert_eq!(c.property("tag"), Some("a"));
    assert_eq!(c.properties[3].value, "multi\nline");
    assert_eq!(c.attachments, vec!["shots/fail.png"]);
}

#[test]
fn markers_in_system_out_and_err() {
    let c = one(r#"<testsuite><testcase name="t">
      <system-out>step 1
[[PROPERTY|build=42]]
[[ATTACHMENT|/tmp/screen.png]]
</system-out>
      <system-err>[[ATTACHMENT|logs/err.txt]]</system-err>
    </testcase></testsuite>"#);
    assert_eq!(c.property("build"), Some("42"));
    assert_eq!(c.attachments, vec!["/tmp/screen.png", "logs/err.txt"]);
}

#[test]
fn captured_output_is_bounded_and_flagged() {
    let xml = format!(
        "<testsuite><system-out>{}</system-out><testcase name=\"t\"><system-out>{}</system-out></testcase></testsuite>",
        "s".repeat(50),
        "é".repeat(100)
    );
    let opts = Options {
        max_captured_bytes: 21,
        ..Options::default()
    };
    let report = junit::parse_with(xml.as_bytes(), &opts).expect("parse");
    let out = report.cases()[0].system_out.clone().expect("out");
    assert_eq!(out.text, "é".repeat(10), "cut on a character boundary");
    assert!(out.truncated);
    assert_eq!(out.original_bytes, 200);
    let suite_out = report.suites[0].system_out.clone().expect("suite out");
    assert_eq!((suite_out.text.len(), suite_out.original_bytes), (21, 50));
}

#[test]
fn encoding_details_bom_xml11_cdata_entities_and_char_refs() {
    let xml = "\u{feff}<?xml version=\"1.1\" encoding=\"UTF-8\"?>\n<testsuite name=\"a &amp; b\">\
        <testcase name=\"&lt;&gt;&quot;&apos;&#233;&#x1F600;\"><failure><![CDATA[<raw> & ]]]]><![CDATA[>]]></failure></testcase></testsuite>";
    let report = junit::parse(xml.as_bytes()).expect("parse");
    assert_eq!(report.suites[0].info.name, "a & b");
    let c = &report.cases()[0];
    assert_eq!(c.name, "<>\"'é😀");
    assert_eq!(
        c.outcomes[0].details.as_ref().map(|d| d.text.as_str()),
        Some("<raw> & ]]>")
    );
}

#[test]
fn declared_counts_that_disagree_are_reported_both_ways() {
    let xml = r#"<testsuite name="s" tests="5" failures="2"><testcase name="a"><failure/></testcase></testsuite>"#;
    let report = junit::parse(xml.as_bytes()).expect("parse");
    assert_eq!(report.declared.tests, Some(5));
    assert_eq!(report.counts.tests, 1);
    let messages: Vec<&str> = report
        .warnings
        .iter()
        .filter(|w| w.code == "junit.count_mismatch")
        .map(|w| w.message.as_str())
        .collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(messages[0].contains("tests=\"5\"") && messages[0].contains("holds 1"));
}

#[test]
fn the_stream_announces_suites_before_their_cases_with_early_properties() {
    let xml = r#"<testsuites><testsuite name="s">
        <properties><property name="os" value="linux"/></properties>
        <testcase name="a"/>
        <properties><property name="late" value="1"/></properties>
        <system-out>suite log</system-out>
    </testsuite></testsuites>"#;
    let events: Vec<Event> = junit::Reader::new(xml.as_bytes())
        .collect::<Result<_, _>>()
        .expect("events");
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| match e {
            Event::ReportStart(_) => "report_start",
            Event::SuiteStart(_) => "suite_start",
            Event::Case(_) => "case",
            Event::SuiteEnd(_) => "suite_end",
            Event::ReportEnd(_) => "report_end",
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            "report_start",
            "suite_start",
            "case",
            "suite_end",
            "report_end"
        ]
    );
    let Event::SuiteStart(info) = &events[1] else {
        panic!("suite start")
    };
    assert_eq!(info.properties[0].name, "os");
    let Event::SuiteEnd(end) = &events[3] else {
        panic!("suite end")
    };
    assert_eq!(end.late_properties[0].name, "late");
    assert_eq!(
        end.system_out.as_ref().map(|t| t.text.as_str()),
        Some("suite log")
    );
}

#[test]
fn unknown_elements_and_namespaces_are_tolerated() {
    let c = one(
        r#"<ns:testsuite xmlns:ns="urn:x"><ns:testcase name="t"><extra><failure/></extra><ns:skipped/></ns:testcase></ns:testsuite>"#,
    );
    assert_eq!(
        c.status,
        Status::Skipped,
        "a failure inside an unknown element is not the case's"
    );
}

#[test]
fn the_event_stream_serialises_with_a_tag() {
    let events: Vec<Event> = junit::Reader::new(
        &br#"<testsuite name="s"><testcase name="t" time="1"/></testsuite>"#[..],
    )
    .collect::<Result<_, _>>()
    .expect("events");
    let json = serde_json::to_string(&events[2]).expect("json");
    assert!(
        json.starts_with(r#"{"event":"case","suite":["s"],"classname":null,"name":"t""#),
        "{json}"
    );
    assert!(json.contains(r#""duration_us":1000000"#));
}

#[test]
fn file_and_line_in_the_forms_reporters_use() {
    let all = cases(
        r#"<testsuite>
        <testcase name="a" file="tests/a.py" line="12"/>
        <testcase name="b" filepath="test/b_test.rb" lineno="7"/>
    </testsuite>"#,
    );
    assert_eq!(
        (all[0].file.as_deref(), all[0].line),
        (Some("tests/a.py"), Some(12))
    );
    assert_eq!(
        (all[1].file.as_deref(), all[1].line),
        (Some("test/b_test.rb"), Some(7))
    );
}
