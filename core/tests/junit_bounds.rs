//! What one test case can hold is bounded: a report with absurdly long values is read
//! with the values cut and a warning, or refused with a clear error, never held whole.

use tmbridge_core::junit;

#[test]
fn long_names_and_property_values_are_cut_with_a_warning() {
    let long = "ä".repeat(60 * 1024); // 120 KiB, under the 1 MiB tag limit
    let xml = format!(
        r#"<testsuite name="s"><testcase classname="{long}" name="{long}x"><properties><property name="p">{long}</property></properties></testcase></testsuite>"#
    );
    let report = junit::parse(xml.as_bytes()).expect("read");
    let case = &report.cases()[0];
    let bound = 64 * 1024;
    assert!(case.name.len() <= bound && case.name.len() > bound - 4);
    assert!(case.name.chars().all(|c| c == 'ä'));
    assert!(case.classname.as_deref().is_some_and(|c| c.len() <= bound));
    assert!(case.properties[0].value.len() <= bound);
    let cut: Vec<&str> = report
        .warnings
        .iter()
        .filter(|w| w.code == "junit.value_truncated")
        .map(|w| w.message.as_str())
        .collect();
    assert_eq!(cut.len(), 3, "{cut:?}");
    assert!(
        cut.iter()
            .any(|m| m.contains("name attribute of <testcase>"))
    );
    assert!(cut.iter().any(|m| m.contains("property `p`")));
}

#[test]
fn a_50_mb_name_is_refused_where_the_tag_crosses_its_limit() {
    let xml = format!(
        "<testsuite name=\"s\">\n<testcase name=\"{}\"/></testsuite>",
        "n".repeat(50 * 1024 * 1024)
    );
    let err = match junit::parse(xml.as_bytes()) {
        Ok(report) => panic!("read, with warnings {:?}", report.warnings),
        Err(err) => err,
    };
    assert_eq!(err.code, "junit.element_too_large");
    assert_eq!(err.location.map(|l| l.line), Some(2));
}
