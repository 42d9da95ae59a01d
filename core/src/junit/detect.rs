//! Recognising report formats that are neither JUnit nor one of the other formats
//! tmbridge reads, so the error can say what the file is.

/// A root element that tmbridge reads as JUnit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JunitRoot {
    Testsuites,
    Testsuite,
    Testrun,
}

pub fn junit_root(local_name: &str) -> Option<JunitRoot> {
    match local_name {
        "testsuites" => Some(JunitRoot::Testsuites),
        "testsuite" => Some(JunitRoot::Testsuite),
        "testrun" => Some(JunitRoot::Testrun),
        _ => None,
    }
}

/// What a non-JUnit root element most likely is, and how to get JUnit out of that tool.
pub fn foreign_format(local_name: &str, namespaces: &[String]) -> (&'static str, &'static str) {
    let ns_has = |needle: &str| namespaces.iter().any(|n| n.contains(needle));
    match local_name {
        // NUnit, xUnit.net, TRX and Robot Framework roots are read (see `formats`);
        // an Allure 1 file shares NUnit's `<test-suite>` root name, not its namespace.
        "test-suite" if ns_has("allure") => (
            "an Allure 1 result file",
            "point tmbridge at the JUnit XML your test runner writes, not the Allure results",
        ),
        "Site" => (
            "a CTest Test.xml",
            "run ctest --output-junit report.xml (CMake 3.21+) to get a JUnit report",
        ),
        "Result" => (
            "an Android CTS test_result.xml",
            "convert it with the CTS result tools, or use the JUnit output of your runner",
        ),
        "checkstyle" => (
            "a Checkstyle report",
            "this is a lint report, not test results",
        ),
        "coverage" | "report" => (
            "a coverage report",
            "this is coverage data, not test results",
        ),
        "testResults" => (
            "a JMeter result file",
            "JMeter results are not unit test results",
        ),
        "suites" | "suite" => (
            "an XML file with a non-JUnit <suites>/<suite> root",
            "make your runner write JUnit XML: a <testsuites> or <testsuite> root",
        ),
        _ => (
            "an XML file with an unknown root element",
            "a JUnit report has a <testsuites>, <testsuite> or <testrun> root",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_common_formats() {
        assert!(foreign_format("Site", &[]).0.contains("CTest"));
        let ns = vec!["urn:model.allure.qatools.yandex.ru".to_string()];
        assert!(foreign_format("test-suite", &ns).0.contains("Allure 1"));
        assert!(foreign_format("whatever", &[]).0.contains("unknown"));
        assert_eq!(junit_root("testrun"), Some(JunitRoot::Testrun));
        assert_eq!(junit_root("TestRun"), None);
    }
}
