//! Tests of the format readers through the one reader: what each format's elements
//! become in the result model, and that bad input gives typed errors, never a panic.

use crate::junit::{Event, Reader, parse};
use crate::model::{Report, RootKind, Status, TestCase};

fn read(text: &str) -> Report {
    parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
}

fn cases(report: &Report) -> Vec<&TestCase> {
    report.cases()
}

fn by_name<'a>(report: &'a Report, name: &str) -> &'a TestCase {
    report
        .cases()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no case {name}"))
}

const NUNIT3: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<test-run id="2" testcasecount="5" result="Failed" total="5" passed="1" failed="2" warnings="1" inconclusive="1" skipped="0" start-time="2024-05-01 10:00:00Z" duration="0.5">
  <command-line><![CDATA[nunit3-console a.dll]]></command-line>
  <test-suite type="Assembly" id="0-1" name="a.dll" fullname="/ci/a.dll" total="5">
    <properties><property name="_PID" value="42" /></properties>
    <test-suite type="TestFixture" id="0-2" name="CalcTests" fullname="Shop.CalcTests" classname="Shop.CalcTests">
      <test-suite type="ParameterizedMethod" name="Adds" fullname="Shop.CalcTests.Adds">
        <test-case id="0-3" name="Adds(1,2)" fullname="Shop.CalcTests.Adds(1,2)" methodname="Adds" classname="Shop.CalcTests" result="Passed" duration="0.01" seed="7">
          <properties>
            <property name="Category" value="smoke" />
            <property name="Description" value="adds two numbers" />
          </properties>
          <output><![CDATA[adding]]></output>
          <attachments><attachment><filePath>/ci/shot.png</filePath><description>screen</description></attachment></attachments>
        </test-case>
        <test-case id="0-4" name="Adds(2,2)" fullname="Shop.CalcTests.Adds(2,2)" classname="Shop.CalcTests" result="Failed" duration="0.02">
          <failure>
            <message><![CDATA[Expected: 4 But was: 5]]></message>
            <stack-trace><![CDATA[at Shop.CalcTests.Adds() in CalcTests.cs:line 12]]></stack-trace>
          </failure>
          <assertions><assertion result="Failed"><message><![CDATA[not this one]]></message></assertion></assertions>
        </test-case>
      </test-suite>
      <test-case id="0-5" name="Throws" classname="Shop.CalcTests" result="Failed" label="Error">
        <failure><message><![CDATA[System.NullReferenceException]]></message></failure>
      </test-case>
      <test-case id="0-6" name="Maybe" classname="Shop.CalcTests" result="Inconclusive">
        <reason><message><![CDATA[no data]]></message></reason>
      </test-case>
      <test-case id="0-7" name="Warns" classname="Shop.CalcTests" result="Warning">
        <reason><message><![CDATA[slow]]></message></reason>
      </test-case>
    </test-suite>
  </test-suite>
</test-run>"#;

#[test]
fn nunit3_suites_results_labels_properties_and_attachments() {
    let report = read(NUNIT3);
    assert_eq!(report.root, RootKind::Nunit3);
    assert_eq!(report.declared.tests, Some(5));
    let adds = by_name(&report, "Adds(1,2)");
    assert_eq!(adds.suite, ["a.dll", "CalcTests", "Adds"]);
    assert_eq!(adds.full_name(), "Shop.CalcTests.Adds(1,2)");
    assert_eq!(adds.property("Category"), Some("smoke"));
    assert_eq!(adds.property("Description"), Some("adds two numbers"));
    assert_eq!(adds.attachments, ["/ci/shot.png"]);
    assert_eq!(
        adds.system_out.as_ref().map(|t| t.text.as_str()),
        Some("adding")
    );
    assert_eq!(adds.duration_us, Some(10_000));
    let failed = by_name(&report, "Adds(2,2)");
    assert_eq!(failed.status, Status::Failed);
    assert_eq!(failed.message.as_deref(), Some("Expected: 4 But was: 5"));
    let trace = failed.outcomes[0].details.as_ref().map(|t| t.text.as_str());
    assert_eq!(
        trace,
        Some("at Shop.CalcTests.Adds() in CalcTests.cs:line 12")
    );
    assert_eq!(by_name(&report, "Throws").status, Status::Error);
    let maybe = by_name(&report, "Maybe");
    assert_eq!(
        (maybe.status, maybe.message.as_deref()),
        (Status::Skipped, Some("no data"))
    );
    let warns = by_name(&report, "Warns");
    assert_eq!(
        (warns.status, warns.message.as_deref()),
        (Status::Passed, Some("slow"))
    );
    assert_eq!(
        (
            report.counts.tests,
            report.counts.passed,
            report.counts.failed
        ),
        (5, 2, 1)
    );
    assert_eq!((report.counts.errors, report.counts.skipped), (1, 1));
    assert_eq!(report.suite_count(), 3);
}

#[test]
fn nunit2_full_names_categories_and_reasons() {
    let report = read(
        r#"<test-results name="a.dll" total="2" errors="0" failures="1" not-run="1" date="2012-06-18" time="20:56:59">
  <environment nunit-version="2.6.4" />
  <test-suite type="Assembly" name="a.dll" executed="True" result="Failure">
    <results>
      <test-suite type="TestFixture" name="CalcTests" executed="True" result="Failure">
        <categories><category name="unit" /></categories>
        <results>
          <test-case name="Shop.CalcTests.Adds(1,&quot;x.y&quot;)" description="adds" executed="True" result="Success" time="0.015" />
          <test-case name="Shop.CalcTests.Fails" executed="True" result="Failure" success="False">
            <categories><category name="slow" /></categories>
            <failure><message><![CDATA[boom]]></message><stack-trace><![CDATA[at Fails()]]></stack-trace></failure>
          </test-case>
          <test-case name="Shop.CalcTests.Later" executed="False" result="Ignored">
            <reason><message><![CDATA[not yet]]></message></reason>
          </test-case>
        </results>
      </test-suite>
    </results>
  </test-suite>
</test-results>"#,
    );
    assert_eq!(report.root, RootKind::Nunit2);
    assert_eq!(report.timestamp.as_deref(), Some("2012-06-18T20:56:59"));
    let adds = &cases(&report)[0];
    assert_eq!(adds.classname.as_deref(), Some("Shop.CalcTests"));
    assert_eq!(adds.name, "Adds(1,\"x.y\")");
    assert_eq!(adds.property("Description"), Some("adds"));
    let fails = by_name(&report, "Fails");
    assert_eq!(
        (fails.status, fails.property("Category")),
        (Status::Failed, Some("slow"))
    );
    let later = by_name(&report, "Later");
    assert_eq!(
        (later.status, later.message.as_deref()),
        (Status::Skipped, Some("not yet"))
    );
    assert_eq!(
        report.suites[0].suites[0].info.properties[1].value, "unit",
        "a fixture's categories are its properties"
    );
}

#[test]
fn xunit2_collections_traits_skips_and_failures() {
    let report = read(
        r#"<assemblies timestamp="06/07/2018 20:33:39">
  <assembly name="C:\ci\Shop.Tests.dll" test-framework="xUnit.net 2.4.1" run-date="2018-06-07" run-time="20:33:38" total="3" passed="1" failed="1" skipped="1" time="0.2" errors="1">
    <errors><error type="fixture-cleanup" name="Shop.Db"><failure exception-type="System.Exception"><message><![CDATA[cleanup failed]]></message></failure></error></errors>
    <collection name="Test collection for Shop.CartTests" total="3">
      <test name="Shop.CartTests.Adds" type="Shop.CartTests" method="Adds" time="0.01" result="Pass">
        <traits><trait name="Category" value="smoke" /><trait name="TestRail" value="C12" /></traits>
        <output><![CDATA[added one]]></output>
      </test>
      <test name="Shop.CartTests.Removes(count: 2)" type="Shop.CartTests" method="Removes" time="0.02" result="Fail" source-file="CartTests.cs" source-line="31">
        <failure exception-type="Xunit.Sdk.EqualException"><message><![CDATA[Assert.Equal() Failure]]></message><stack-trace><![CDATA[at Removes()]]></stack-trace></failure>
      </test>
      <test name="Custom display name" type="Shop.CartTests" method="Later" time="0" result="Skip"><reason><![CDATA[not built]]></reason></test>
    </collection>
  </assembly>
</assemblies>"#,
    );
    assert_eq!(report.root, RootKind::Xunit2);
    let adds = by_name(&report, "Adds");
    assert_eq!(
        adds.suite,
        ["Shop.Tests.dll", "Test collection for Shop.CartTests"]
    );
    assert_eq!(adds.full_name(), "Shop.CartTests.Adds");
    assert_eq!(adds.property("TestRail"), Some("C12"));
    assert_eq!(
        adds.system_out.as_ref().map(|t| t.text.as_str()),
        Some("added one")
    );
    let removes = by_name(&report, "Removes(count: 2)");
    assert_eq!(removes.status, Status::Failed);
    assert_eq!(
        removes.outcomes[0].kind_name.as_deref(),
        Some("Xunit.Sdk.EqualException")
    );
    assert_eq!(
        (removes.file.as_deref(), removes.line),
        (Some("CartTests.cs"), Some(31))
    );
    let later = by_name(&report, "Custom display name");
    assert_eq!(
        (later.status, later.message.as_deref()),
        (Status::Skipped, Some("not built"))
    );
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.code == "xunit.assembly_error" && w.message.contains("cleanup failed")),
        "{:?}",
        report.warnings
    );
}

fn trx(results_first: bool) -> String {
    let results = r#"<Results>
    <UnitTestResult executionId="e1" testId="t1" testName="Adds" computerName="ci" duration="00:00:00.0150000" startTime="2024-05-01T10:00:00" outcome="Passed">
      <Output><StdOut>hello</StdOut></Output>
      <ResultFiles><ResultFile path="shot.png" /></ResultFiles>
    </UnitTestResult>
    <UnitTestResult executionId="e2" testId="t2" testName="Rows" outcome="Failed">
      <InnerResults>
        <UnitTestResult executionId="e3" parentExecutionId="e2" testId="t2" testName="Rows (1)" outcome="Passed" />
        <UnitTestResult executionId="e4" parentExecutionId="e2" testId="t2" testName="Rows (2)" outcome="Failed">
          <Output><ErrorInfo><Message>row 2 broke</Message><StackTrace>at Rows()</StackTrace></ErrorInfo></Output>
        </UnitTestResult>
      </InnerResults>
    </UnitTestResult>
    <UnitTestResult executionId="e5" testId="t3" testName="Slow" outcome="Timeout" />
    <UnitTestResult executionId="e6" testId="t4" testName="Off" outcome="NotExecuted" />
  </Results>"#;
    let definitions = r#"<TestDefinitions>
    <UnitTest name="Adds" storage="/ci/shop.tests.dll" id="t1">
      <Description>adds numbers</Description>
      <TestCategory><TestCategoryItem TestCategory="smoke" /></TestCategory>
      <Properties><Property><Key>TestRail</Key><Value>C7</Value></Property></Properties>
      <TestMethod codeBase="/ci/shop.tests.dll" className="Shop.CalcTests, Shop.Tests, Version=1.0.0.0" name="Adds" />
    </UnitTest>
    <UnitTest name="Rows" id="t2"><TestMethod className="Shop.CalcTests" name="Rows" /></UnitTest>
    <UnitTest name="Slow" id="t3"><TestMethod className="Shop.CalcTests" name="Slow" /></UnitTest>
    <UnitTest name="Off" id="t4"><TestMethod className="Shop.CalcTests" name="Off" /></UnitTest>
  </TestDefinitions>"#;
    let (a, b) = if results_first {
        (results, definitions)
    } else {
        (definitions, results)
    };
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<TestRun id="r1" name="nightly" xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010">
  {a}
  {b}
  <ResultSummary outcome="Failed"><Counters total="5" passed="2" failed="1" timeout="1" notExecuted="1" /></ResultSummary>
</TestRun>"#
    )
}

#[test]
fn trx_results_join_their_definitions_in_either_order() {
    let first = read(&trx(true));
    let second = read(&trx(false));
    for report in [&first, &second] {
        assert_eq!(report.root, RootKind::Trx);
        let adds = by_name(report, "Adds");
        assert_eq!(adds.full_name(), "Shop.CalcTests.Adds");
        assert_eq!(adds.suite, ["nightly"]);
        assert_eq!(adds.duration_us, Some(15_000));
        assert_eq!(adds.attachments, ["shot.png"]);
        assert_eq!(adds.property("Category"), Some("smoke"));
        assert_eq!(adds.property("TestRail"), Some("C7"));
        assert_eq!(adds.property("Description"), Some("adds numbers"));
        assert_eq!(
            adds.system_out.as_ref().map(|t| t.text.as_str()),
            Some("hello")
        );
        let names: Vec<(&str, Status)> = report
            .cases()
            .iter()
            .map(|c| (c.name.as_str(), c.status))
            .collect();
        assert_eq!(
            names,
            [
                ("Adds", Status::Passed),
                ("Rows (1)", Status::Passed),
                ("Rows (2)", Status::Failed),
                ("Slow", Status::Failed),
                ("Off", Status::Skipped)
            ]
        );
        assert_eq!(
            by_name(report, "Rows (2)").message.as_deref(),
            Some("row 2 broke")
        );
    }
}

#[test]
fn trx_definitions_first_stream_each_result_as_it_ends() {
    // With the definitions read, a result is yielded before the file ends.
    let text = trx(false);
    let cut = text.find("<UnitTestResult executionId=\"e5\"").unwrap_or(0);
    let mut seen = Vec::new();
    for event in Reader::new(&text.as_bytes()[..cut]) {
        match event {
            Ok(Event::Case(c)) => seen.push(c.name.clone()),
            Ok(_) => {}
            Err(e) => {
                assert_eq!(e.code, "junit.truncated");
                break;
            }
        }
    }
    assert_eq!(seen, ["Adds", "Rows (1)", "Rows (2)"]);
}

#[test]
fn trx_without_definitions_still_yields_its_results() {
    let report = read(
        r#"<TestRun name="r"><Results><UnitTestResult testId="x" testName="Alone" outcome="Aborted" /></Results></TestRun>"#,
    );
    assert_eq!(by_name(&report, "Alone").status, Status::Error);
    let codes: Vec<&str> = report.warnings.iter().map(|w| w.code.as_str()).collect();
    assert!(codes.contains(&"trx.no_definitions"), "{codes:?}");
}

const ROBOT7: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<robot generator="Robot 7.1.1" generated="2024-05-01T10:00:00.000000" rpa="false" schemaversion="5">
<suite id="s1" name="Shop" source="/ci/shop">
<suite id="s1-s1" name="Refunds" source="/ci/shop/refunds.robot">
<test id="s1-s1-t1" name="Refunds A Payment" line="5">
<kw name="Open Ledger">
<kw name="Log" owner="BuiltIn"><msg time="2024-05-01T10:00:00.1" level="INFO">opening</msg><arg>opening</arg><status status="PASS" start="2024-05-01T10:00:00.1" elapsed="0.001"/></kw>
<arg>main</arg>
<status status="PASS" start="2024-05-01T10:00:00.1" elapsed="0.002"/>
</kw>
<for flavor="IN"><iter><var name="${x}">a</var><kw name="No Operation" owner="BuiltIn"><status status="PASS" start="2024-05-01T10:00:00.1" elapsed="0"/></kw><status status="PASS" start="2024-05-01T10:00:00.1" elapsed="0"/></iter><var>${x}</var><value>a</value><status status="PASS" start="2024-05-01T10:00:00.1" elapsed="0.001"/></for>
<doc>Refunds the last payment.</doc>
<tag>C301</tag>
<status status="PASS" start="2024-05-01T10:00:00.1" elapsed="0.004"/>
</test>
<test id="s1-s1-t2" name="Later" line="9">
<kw name="Skip" owner="BuiltIn"><msg time="2024-05-01T10:00:00.2" level="SKIP">not yet</msg><arg>not yet</arg><status status="SKIP" start="2024-05-01T10:00:00.2" elapsed="0">not yet</status></kw>
<status status="SKIP" start="2024-05-01T10:00:00.2" elapsed="0.001">not yet</status>
</test>
<kw name="Fail" owner="BuiltIn" type="TEARDOWN"><msg time="2024-05-01T10:00:00.3" level="FAIL">ledger locked</msg><arg>ledger locked</arg><status status="FAIL" start="2024-05-01T10:00:00.3" elapsed="0">ledger locked</status></kw>
<meta name="Owner">payments</meta>
<status status="FAIL" start="2024-05-01T10:00:00.0" elapsed="0.3">Suite teardown failed:
ledger locked</status>
</suite>
<status status="FAIL" start="2024-05-01T10:00:00.0" elapsed="0.3"/>
</suite>
<statistics/>
<errors/>
</robot>"#;

#[test]
fn robot_keywords_become_steps_and_a_failed_suite_teardown_fails_its_tests() {
    let report = read(ROBOT7);
    assert_eq!(report.root, RootKind::Robot);
    let refund = by_name(&report, "Refunds A Payment");
    assert_eq!(refund.suite, ["Shop", "Refunds"]);
    assert_eq!(refund.classname.as_deref(), Some("Shop.Refunds"));
    assert_eq!(
        refund.status,
        Status::Failed,
        "Robot fails it for the teardown"
    );
    assert_eq!(
        refund.message.as_deref(),
        Some("Parent suite teardown failed:\nledger locked")
    );
    assert_eq!(refund.property("tag"), Some("C301"));
    assert_eq!(
        refund.property("documentation"),
        Some("Refunds the last payment.")
    );
    assert_eq!(refund.duration_us, Some(4000));
    let steps: Vec<(Option<&str>, &str, u32)> = refund
        .steps
        .iter()
        .map(|s| (s.keyword.as_deref(), s.name.as_str(), s.depth))
        .collect();
    assert_eq!(
        steps,
        [
            (None, "Open Ledger    main", 0),
            (None, "Log    opening", 1),
            (Some("FOR"), "IN", 0),
            (Some("ITERATION"), "", 1),
            (None, "No Operation", 2),
        ]
    );
    assert!(
        refund
            .system_out
            .as_ref()
            .is_some_and(|t| t.text.contains("[INFO] opening"))
    );
    // Robot keeps a skipped test skipped when the suite teardown fails.
    let later = by_name(&report, "Later");
    assert_eq!(later.status, Status::Skipped);
    assert_eq!(later.steps[0].message.as_deref(), Some("not yet"));
    assert_eq!(
        (
            report.counts.failed,
            report.counts.skipped,
            report.counts.passed
        ),
        (1, 1, 0),
        "the counts follow the changed statuses"
    );
    assert_eq!(report.suites[0].suites[0].counts.failed, 1);
}

#[test]
fn robot_6_times_give_durations() {
    let report = read(
        r#"<robot generator="Robot 6.1.1" generated="20240501 10:00:00.000" rpa="false" schemaversion="4">
<suite id="s1" name="S"><test id="s1-t1" name="T">
<kw name="Fail" library="BuiltIn"><arg>no</arg><msg timestamp="20240501 10:00:00.010" level="FAIL">no</msg><status status="FAIL" starttime="20240501 10:00:00.005" endtime="20240501 10:00:00.015"/></kw>
<status status="FAIL" starttime="20240501 10:00:00.000" endtime="20240501 10:00:01.250">no</status>
</test><status status="FAIL" starttime="20240501 10:00:00.000" endtime="20240501 10:00:01.250"/></suite></robot>"#,
    );
    let t = by_name(&report, "T");
    assert_eq!((t.status, t.duration_us), (Status::Failed, Some(1_250_000)));
    assert_eq!(
        t.steps[0].message.as_deref(),
        Some("no"),
        "RF 6 keeps it in the FAIL message"
    );
    assert_eq!(t.steps[0].duration_us, Some(10_000));
}

#[test]
fn cucumber_jvm_backgrounds_hooks_outlines_and_embeddings() {
    let report = read(
        r#"[{"uri": "features/pay.feature", "id": "pay", "keyword": "Feature", "name": "Pay", "line": 1,
  "tags": [{"name": "@shop", "line": 1}],
  "elements": [
    {"type": "background", "keyword": "Background", "name": "", "line": 3,
     "steps": [{"keyword": "Given ", "name": "a basket", "line": 4, "result": {"status": "passed", "duration": 2000000}}]},
    {"type": "scenario", "keyword": "Scenario Outline", "id": "pay;totals;;2", "name": "Totals", "line": 12,
     "tags": [{"name": "@C9", "line": 6}],
     "before": [{"result": {"status": "passed", "duration": 1000}, "match": {"location": "Hooks.before()"}}],
     "steps": [{"keyword": "Then ", "name": "it costs 3", "line": 8,
                "result": {"status": "failed", "duration": 3000000, "error_message": "expected 3\n\tat Steps.java:10"},
                "embeddings": [{"mime_type": "image/png", "data": "iVBORw0KGgo=", "name": "screen"}]}],
     "after": [{"result": {"status": "failed", "duration": 5000, "error_message": "cleanup"}, "match": {"location": "Hooks.after()"}}]},
    {"type": "background", "keyword": "Background", "name": "", "line": 3,
     "steps": [{"keyword": "Given ", "name": "a basket", "line": 4, "result": {"status": "passed", "duration": 1000}}]},
    {"type": "scenario", "keyword": "Scenario Outline", "id": "pay;totals;;3", "name": "Totals", "line": 13,
     "steps": [{"keyword": "Then ", "name": "it costs 4", "line": 8, "result": {"status": "undefined"}}]}
  ]}]"#,
    );
    assert_eq!(report.root, RootKind::Cucumber);
    let all = cases(&report);
    assert_eq!(
        all.len(),
        2,
        "each example row is a case; backgrounds are not"
    );
    let first = all[0];
    assert_eq!(first.suite, ["Pay"]);
    assert_eq!(first.full_name(), "Pay.Totals");
    assert_eq!(
        (first.file.as_deref(), first.line),
        (Some("features/pay.feature"), Some(12))
    );
    assert_eq!(first.status, Status::Failed);
    assert_eq!(first.message.as_deref(), Some("expected 3"));
    let details = first.outcomes[0].details.as_ref().map(|d| d.text.as_str());
    assert_eq!(details, Some("expected 3\n\tat Steps.java:10"));
    assert_eq!(first.property("tag"), Some("C9"));
    assert_eq!(
        first.property("embedding"),
        Some("screen; image/png; 9 bytes")
    );
    let steps: Vec<(Option<&str>, &str, Status)> = first
        .steps
        .iter()
        .map(|s| (s.keyword.as_deref(), s.name.as_str(), s.status))
        .collect();
    assert_eq!(
        steps,
        [
            (Some("Given "), "a basket", Status::Passed),
            (Some("Then "), "it costs 3", Status::Failed),
            (Some("After"), "", Status::Failed),
        ]
    );
    assert_eq!(first.duration_us, Some(2000 + 1 + 3000 + 5));
    let second = all[1];
    assert_eq!(
        second.status,
        Status::Failed,
        "an undefined step fails the scenario"
    );
    assert_eq!(
        second.message.as_deref(),
        Some("undefined step: it costs 4")
    );
    assert_eq!(second.steps.len(), 2, "the second background belongs to it");
}

#[test]
fn behave_json_uses_seconds_its_own_status_and_its_background_once() {
    let report = read(
        r#"[{"keyword": "Feature", "location": "features/pay.feature:1", "name": "Pay", "status": "failed", "tags": ["shop"],
  "elements": [
    {"type": "background", "keyword": "Background", "location": "features/pay.feature:3", "name": "", "steps": [{"keyword": "Given", "name": "a basket", "location": "features/pay.feature:4", "step_type": "given"}]},
    {"type": "scenario", "keyword": "Scenario", "location": "features/pay.feature:6", "name": "Card", "status": "failed", "tags": ["C5"],
     "steps": [{"keyword": "Given", "name": "a basket", "result": {"status": "passed", "duration": 1.5e-05}},
               {"keyword": "When", "name": "I pay by crypto", "result": {"status": "undefined", "duration": 0}},
               {"keyword": "Then", "name": "it is paid"}]}
  ]}]"#,
    );
    let card = by_name(&report, "Card");
    assert_eq!(
        (card.file.as_deref(), card.line),
        (Some("features/pay.feature"), Some(6))
    );
    assert_eq!(card.status, Status::Failed);
    assert_eq!(card.property("tag"), Some("C5"));
    assert_eq!(
        card.steps.len(),
        3,
        "behave repeats the background's steps itself"
    );
    assert_eq!(card.steps[0].duration_us, Some(15));
    assert_eq!(
        card.steps[2].status,
        Status::Skipped,
        "not run after the undefined step"
    );
}

#[test]
fn cucumber_errors_are_typed_and_placed() {
    for (text, code, line, column) in [
        ("[{\"elements\": [", "cucumber.invalid_json", 1, 15),
        (
            "\n  [{\"elements\": 3}]",
            "cucumber.unexpected_shape",
            2,
            17,
        ),
        ("  {\"meta\": {}}", "cucumber.not_cucumber_json", 1, 3),
        ("\u{feff}[1]", "cucumber.unexpected_shape", 1, 3),
    ] {
        let err = parse(text.as_bytes()).expect_err(text);
        let at = err.location.expect("a position");
        assert_eq!(
            (err.code.as_str(), at.line, at.column),
            (code, line, column),
            "{text}: {err}"
        );
        assert!(err.hint.is_some());
    }
    assert_eq!(read("[]").counts.tests, 0);
}

#[test]
fn the_content_decides_the_format_not_a_name() {
    // The same reader, whatever the bytes: each root goes to its reader.
    let roots = [
        ("<test-run/>", RootKind::Nunit3),
        ("<test-results/>", RootKind::Nunit2),
        ("<assemblies/>", RootKind::Xunit2),
        ("<assembly name=\"a.dll\"/>", RootKind::Xunit2),
        ("<TestRun/>", RootKind::Trx),
        ("<robot/>", RootKind::Robot),
        ("  [ ]", RootKind::Cucumber),
        ("<testsuites/>", RootKind::Testsuites),
    ];
    for (text, root) in roots {
        assert_eq!(read(text).root, root, "{text}");
    }
    let allure = parse(br#"<ns2:test-suite xmlns:ns2="urn:model.allure.qatools.yandex.ru"/>"#);
    assert_eq!(
        allure.map_err(|e| e.code).err().as_deref(),
        Some("junit.not_junit")
    );
}

#[test]
fn a_non_junit_document_cannot_be_followed_by_another_root() {
    let err = parse(b"<robot></robot><testsuite/>").expect_err("two roots");
    assert_eq!(err.code, "junit.malformed_xml");
}

#[test]
fn every_prefix_of_every_format_is_read_or_refused_without_a_panic() {
    let trx = trx(true);
    let cucumber = r#"[{"uri":"a.feature","name":"A","elements":[{"type":"scenario","name":"s","steps":[{"keyword":"Given ","name":"x","result":{"status":"passed","duration":1},"embeddings":[{"data":"aGk=","mime_type":"text/plain"}]}]}]}]"#;
    for text in [NUNIT3, ROBOT7, trx.as_str(), cucumber] {
        let bytes = text.as_bytes();
        for end in 0..bytes.len() {
            let prefix = &bytes[..end];
            if let Err(err) = parse(prefix) {
                assert!(!err.code.is_empty());
                assert!(
                    err.location.is_some() || err.code == "junit.io",
                    "{}",
                    err.code
                );
            }
        }
    }
}

#[test]
fn json_is_recognised_after_blanks_longer_than_the_input_buffer() {
    // Streaming through a 5-byte buffer must read what a whole parse reads.
    let text = "\u{feff}\n\n        \n   [{\"name\": \"F\", \"elements\": [{\"type\": \"scenario\", \"name\": \"S\", \"steps\": []}]}]";
    let whole = parse(text.as_bytes()).map(|r| r.counts.tests);
    let mut streamed = 0;
    for event in Reader::new(std::io::BufReader::with_capacity(5, text.as_bytes())) {
        if let Event::Case(_) = event.unwrap_or_else(|e| panic!("{e}")) {
            streamed += 1;
        }
    }
    assert_eq!(whole, Ok(1));
    assert_eq!(streamed, 1);
    // Positions still count from the file's start.
    let err = parse(b"\n\n  [1]").expect_err("not features");
    assert_eq!(err.location.map(|l| (l.line, l.column)), Some((3, 4)));
}

#[test]
fn the_reader_stays_send_for_the_bindings() {
    // The Python and Node bindings keep a reader inside objects that must be Send.
    fn assert_send<T: Send>() {}
    assert_send::<Reader<Box<dyn std::io::BufRead + Send>>>();
}

#[test]
fn cucumber_step_hooks_null_lists_and_behave_message_lines() {
    let report = read(
        r#"[{"uri": "a.feature", "name": "A", "tags": null, "elements": [
  {"type": "scenario", "name": "hooked", "tags": null, "steps": [
    {"keyword": "Given ", "name": "x", "result": {"status": "passed", "duration": 1000},
     "after": [{"result": {"status": "failed", "error_message": "AfterStep broke"}}], "embeddings": null}]},
  {"type": "scenario", "name": "lines", "steps": [
    {"keyword": "Then ", "name": "y", "result": {"status": "failed", "error_message": ["Assertion Failed: no", "line two"]}}]}
]}]"#,
    );
    let hooked = by_name(&report, "hooked");
    assert_eq!(
        hooked.status,
        Status::Failed,
        "a failing AfterStep hook fails it"
    );
    assert_eq!(hooked.message.as_deref(), Some("AfterStep broke"));
    assert_eq!(hooked.steps[1].keyword.as_deref(), Some("AfterStep"));
    let lines = by_name(&report, "lines");
    assert_eq!(lines.message.as_deref(), Some("Assertion Failed: no"));
}

#[test]
fn robot_only_a_suites_own_teardown_fails_its_tests() {
    // A user keyword's [Teardown] failing inside the suite setup is not a suite teardown.
    let report = read(
        r#"<robot generator="Robot 7.1.1" schemaversion="5"><suite id="s1" name="S">
<kw name="Prepare" type="SETUP"><kw name="Fail" owner="BuiltIn" type="TEARDOWN"><status status="FAIL" start="2024-05-01T10:00:00" elapsed="0">inner</status></kw><status status="PASS" start="2024-05-01T10:00:00" elapsed="0"/></kw>
<test id="s1-t1" name="T"><status status="PASS" start="2024-05-01T10:00:00" elapsed="0"/></test>
<status status="PASS" start="2024-05-01T10:00:00" elapsed="0"/></suite></robot>"#,
    );
    assert_eq!(by_name(&report, "T").status, Status::Passed);
}
