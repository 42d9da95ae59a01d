//! Invariants of the JUnit reader on generated input.

use proptest::prelude::*;
use std::io::BufReader;
use tmbridge_core::junit;
use tmbridge_core::model::Status;

/// A generated test case: name, status, time in milliseconds.
fn case_strategy() -> impl Strategy<Value = (String, Status, u32)> {
    (
        "[a-zA-Z0-9 _<>&\"'é]{0,12}",
        prop::sample::select(vec![
            Status::Passed,
            Status::Failed,
            Status::Error,
            Status::Skipped,
            Status::Flaky,
        ]),
        0u32..100_000,
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn render(suites: &[Vec<(String, Status, u32)>]) -> String {
    let mut xml = String::from("<?xml version=\"1.0\"?>\n<testsuites>");
    for (i, cases) in suites.iter().enumerate() {
        xml.push_str(&format!("<testsuite name=\"s{i}\">"));
        for (name, status, ms) in cases {
            let body = match status {
                Status::Passed => String::new(),
                Status::Failed => "<failure message=\"m\">trace</failure>".into(),
                Status::Error => "<error message=\"m\"/>".into(),
                Status::Skipped => "<skipped/>".into(),
                Status::Flaky => {
                    "<flakyFailure message=\"m\"><stackTrace>t</stackTrace></flakyFailure>".into()
                }
            };
            xml.push_str(&format!(
                "<testcase name=\"{}\" time=\"{}.{:03}\">{body}</testcase>",
                escape(name),
                ms / 1000,
                ms % 1000
            ));
        }
        xml.push_str("</testsuite>");
    }
    xml.push_str("</testsuites>");
    xml
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn generated_reports_read_back_exactly(
        suites in prop::collection::vec(prop::collection::vec(case_strategy(), 0..8), 0..5),
        chunk in 1usize..64,
    ) {
        let xml = render(&suites);
        let report = junit::parse(xml.as_bytes()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let expected: Vec<(String, Status, Option<u64>)> = suites
            .iter()
            .flatten()
            .map(|(n, s, ms)| (n.clone(), *s, Some(u64::from(*ms) * 1000)))
            .collect();
        let got: Vec<(String, Status, Option<u64>)> =
            report.cases().iter().map(|c| (c.name.clone(), c.status, c.duration_us)).collect();
        prop_assert_eq!(&got, &expected);

        let streamed: Vec<_> = junit::Reader::new(BufReader::with_capacity(chunk, xml.as_bytes()))
            .filter_map(|e| match e {
                Ok(junit::Event::Case(c)) => Some(Ok(*c)),
                Ok(_) => None,
                Err(e) => Some(Err(e)),
            })
            .collect::<Result<_, _>>()
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let whole: Vec<_> = report.cases().into_iter().cloned().collect();
        prop_assert_eq!(streamed, whole);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = junit::parse(&bytes);
    }

    #[test]
    fn damaged_reports_fail_with_a_position_or_read(
        suites in prop::collection::vec(prop::collection::vec(case_strategy(), 1..4), 1..3),
        cut in 0.0f64..1.0,
        flip in any::<u8>(),
    ) {
        let mut bytes = render(&suites).into_bytes();
        let at = ((bytes.len() as f64) * cut) as usize;
        if at < bytes.len() {
            bytes[at] = flip;
        }
        bytes.truncate(bytes.len() - at / 2);
        if let Err(err) = junit::parse(&bytes) {
            prop_assert!(err.location.is_some(), "{}", err);
            prop_assert!(err.code.starts_with("junit."));
        }
    }
}
