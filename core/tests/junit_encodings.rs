//! Reports in ISO-8859-1, windows-1252 and UTF-16 (older Ant, .NET and Windows runners)
//! and files that hold several reports one after another (one per test binary).

use std::io::BufReader;
use tmbridge_core::junit::{self, Event};
use tmbridge_core::model::{Report, TestCase};

/// An Ant report with names, messages and output outside ASCII. `{ENC}` is the
/// declared encoding.
const ANT_REPORT: &str = r#"<?xml version="1.0" encoding="{ENC}"?>
<testsuite name="de.müller.StraßeTest" tests="3" failures="1" errors="0" skipped="0" time="0.412" timestamp="2009-03-02T11:24:53" hostname="büro-pc">
  <properties>
    <property name="user.name" value="Jürgen Groß"/>
    <property name="file.encoding" value="{ENC}"/>
  </properties>
  <testcase classname="de.müller.StraßeTest" name="testGrüße" time="0.011"/>
  <testcase classname="de.müller.StraßeTest" name="testCafé" time="0.201">
    <failure message="expected:&lt;Café&gt; but was:&lt;Cafe&gt;" type="junit.framework.ComparisonFailure">junit.framework.ComparisonFailure: expected:&lt;Café&gt; but was:&lt;Cafe&gt;
	at de.müller.StraßeTest.testCafé(StraßeTest.java:42)
</failure>
  </testcase>
  <testcase classname="de.müller.StraßeTest" name="testÄußerst" time="0.200"/>
  <system-out><![CDATA[Prüfe Straße … ok]]></system-out>
</testsuite>
"#;

/// A .NET report with characters only windows-1252 has among the 8-bit code pages.
const DOTNET_REPORT: &str = r#"<?xml version="1.0" encoding="{ENC}"?>
<testsuites>
  <testsuite name="Shop.Tests" tests="2" failures="1">
    <testcase classname="Shop.Tests.PriceTests" name="Formats “12,50 €”" time="0.003"/>
    <testcase classname="Shop.Tests.PriceTests" name="Rounds ‘half’ – up" time="0.004">
      <failure message="Expected “13 €” but found “12 €”">Assert.AreEqual failed. Expected:&lt;13 €&gt;. Actual:&lt;12 €&gt;.
   at Shop.Tests.PriceTests.Rounds() in PriceTests.cs:line 27</failure>
    </testcase>
  </testsuite>
</testsuites>
"#;

/// A report with a character outside the Basic Multilingual Plane (a UTF-16 surrogate pair).
const WINDOWS_REPORT: &str = "<?xml version=\"1.0\" encoding=\"{ENC}\"?>\r\n<testsuites>\r\n  <testsuite name=\"Ünïcode 𝄞\" tests=\"2\">\r\n    <testcase classname=\"Win.Tests\" name=\"clef 𝄞 and ß\" time=\"0.1\"/>\r\n    <testcase classname=\"Win.Tests\" name=\"fails\" time=\"0.2\"><error message=\"Zugriff verweigert (€)\"/></testcase>\r\n  </testsuite>\r\n</testsuites>\r\n";

fn with_encoding(template: &str, label: &str) -> String {
    template.replace("{ENC}", label)
}

/// ISO-8859-1 by hand: every character is one byte.
fn latin1(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).expect("a Latin-1 character"))
        .collect()
}

/// windows-1252 by hand: Latin-1 plus the characters it puts in 0x80-0x9F.
fn windows_1252(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '€' => 0x80,
            '…' => 0x85,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '–' => 0x96,
            c => u8::try_from(u32::from(c)).expect("a windows-1252 character"),
        })
        .collect()
}

fn utf16(text: &str, big_endian: bool, mark: bool) -> Vec<u8> {
    let units = (if mark { "\u{FEFF}" } else { "" })
        .encode_utf16()
        .chain(text.encode_utf16());
    units
        .flat_map(|u| {
            if big_endian {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            }
        })
        .collect()
}

fn parse(bytes: &[u8]) -> Report {
    junit::parse(bytes).unwrap_or_else(|e| panic!("{e}"))
}

fn cases(report: &Report) -> Vec<TestCase> {
    report.cases().into_iter().cloned().collect()
}

/// Cases with their byte offsets set aside: a decoded report counts the bytes of its
/// UTF-8 text, and the declarations differ in length.
fn without_offsets(mut cases: Vec<TestCase>) -> Vec<TestCase> {
    for c in &mut cases {
        c.location.offset = 0;
    }
    cases
}

/// The cases read through a `BufRead` that hands out `chunk` bytes at a time.
fn streamed(bytes: &[u8], chunk: usize) -> Vec<TestCase> {
    junit::Reader::new(BufReader::with_capacity(chunk, bytes))
        .filter_map(|event| match event {
            Ok(Event::Case(case)) => Some(Ok(*case)),
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        })
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("chunks of {chunk}: {e}"))
}

/// The encoded report reads as the same test cases as its UTF-8 version, whole and in
/// chunks that split multi-byte characters and UTF-16 code units.
fn assert_reads_like_utf8(template: &str, label: &str, encoded: &[u8]) {
    let reference = parse(with_encoding(template, "UTF-8").as_bytes());
    let report = parse(encoded);
    assert!(report.warnings.is_empty(), "{label}: {:?}", report.warnings);
    assert_eq!(report.counts, reference.counts, "{label}");
    assert_eq!(
        without_offsets(cases(&report)),
        without_offsets(cases(&reference)),
        "{label}"
    );
    assert_eq!(report.suites[0].info, {
        let mut info = reference.suites[0].info.clone();
        for p in &mut info.properties {
            p.value = p.value.replace("UTF-8", label);
        }
        info.location = report.suites[0].info.location;
        info
    });
    // Offsets count the decoded UTF-8 text: the labels are the only difference.
    let labels_before = template[..template.find("<testcase").expect("a case")]
        .matches("{ENC}")
        .count() as i64;
    let shift = labels_before * (label.len() as i64 - "UTF-8".len() as i64);
    for (got, want) in cases(&report).iter().zip(cases(&reference).iter()) {
        assert_eq!(
            got.location.offset as i64,
            want.location.offset as i64 + shift
        );
    }
    let whole = cases(&report);
    for chunk in [1, 2, 3, 7, 4096] {
        assert_eq!(
            streamed(encoded, chunk),
            whole,
            "{label}, chunks of {chunk}"
        );
    }
}

#[test]
fn iso_8859_1_reads_like_utf8() {
    let text = with_encoding(ANT_REPORT, "ISO-8859-1").replace('…', "...");
    let template = ANT_REPORT.replace('…', "...");
    assert_reads_like_utf8(&template, "ISO-8859-1", &latin1(&text));
    let names: Vec<String> = cases(&parse(&latin1(&text)))
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["testGrüße", "testCafé", "testÄußerst"]);
}

#[test]
fn windows_1252_reads_like_utf8() {
    for template in [ANT_REPORT, DOTNET_REPORT] {
        let text = with_encoding(template, "windows-1252");
        assert_reads_like_utf8(template, "windows-1252", &windows_1252(&text));
    }
    let report = parse(&windows_1252(&with_encoding(DOTNET_REPORT, "Windows-1252")));
    let failed = &cases(&report)[1];
    assert_eq!(
        failed.message.as_deref(),
        Some("Expected “13 €” but found “12 €”")
    );
}

#[test]
fn utf16_with_a_byte_order_mark_reads_like_utf8() {
    for template in [ANT_REPORT, DOTNET_REPORT, WINDOWS_REPORT] {
        let text = with_encoding(template, "UTF-16");
        assert_reads_like_utf8(template, "UTF-16", &utf16(&text, false, true));
        assert_reads_like_utf8(template, "UTF-16", &utf16(&text, true, true));
    }
}

#[test]
fn utf16_without_a_mark_is_recognised_by_its_bytes() {
    let text = with_encoding(WINDOWS_REPORT, "UTF-16");
    assert_reads_like_utf8(WINDOWS_REPORT, "UTF-16", &utf16(&text, false, false));
    assert_reads_like_utf8(WINDOWS_REPORT, "UTF-16", &utf16(&text, true, false));
}

#[test]
fn a_utf16_label_on_utf8_bytes_is_read_as_utf8_with_a_warning() {
    // .NET's XmlWriter over a StringWriter declares utf-16; the string is saved as UTF-8.
    let text = with_encoding(DOTNET_REPORT, "utf-16");
    let report = parse(text.as_bytes());
    let reference = parse(with_encoding(DOTNET_REPORT, "utf-16").as_bytes());
    assert_eq!(cases(&report), cases(&reference));
    assert_eq!(report.counts.tests, 2);
    let codes: Vec<&str> = report.warnings.iter().map(|w| w.code.as_str()).collect();
    assert_eq!(codes, ["junit.declared_encoding_ignored"]);
    assert!(report.warnings[0].message.contains("utf-16"));
}

#[test]
fn an_unknown_encoding_is_refused_with_its_position() {
    let text = with_encoding(ANT_REPORT, "x-mac-klingon");
    let err = junit::parse(text.as_bytes()).expect_err("refused");
    assert_eq!(err.code, "junit.unsupported_encoding");
    let loc = err.location.expect("location");
    assert_eq!((loc.line, loc.column, loc.offset), (1, 31, 30));
    assert!(err.message.contains("x-mac-klingon"), "{err}");
    assert!(err.hint.is_some());
}

#[test]
fn bytes_invalid_in_the_encoding_are_refused_where_they_are() {
    // A lone high surrogate in the name of the second case.
    let text = with_encoding(WINDOWS_REPORT, "UTF-16");
    let mut bytes = utf16(&text, false, true);
    let at = text.find("fails").expect("name") + 1;
    let unit = 2 + 2 * text[..at].encode_utf16().count();
    bytes[unit..unit + 2].copy_from_slice(&0xD800u16.to_le_bytes());
    for chunk in [3, 4096] {
        let err = junit::Reader::new(BufReader::with_capacity(chunk, &bytes[..]))
            .find_map(Result::err)
            .expect("an error");
        assert_eq!(err.code, "junit.invalid_encoding", "{err}");
        assert!(err.message.contains("(0x00 0xD8 0x69 0x00)"), "{err}");
        let loc = err.location.expect("location");
        assert_eq!(loc.line, 5, "{err}");
        // The column of the bad character, counted in characters as in the original.
        let line = text.lines().nth(4).expect("line 5");
        let column = line[..line.find("fails").expect("name") + 1]
            .chars()
            .count()
            + 1;
        assert_eq!(loc.column as usize, column, "{err}");
    }
}

/// Two googletest binaries whose XML output went to one file.
fn gtest_output(binary: &str, suite: &str, tests: &[(&str, Option<&str>)]) -> String {
    let failures = tests.iter().filter(|(_, f)| f.is_some()).count();
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites tests=\"{}\" failures=\"{failures}\" disabled=\"0\" errors=\"0\" time=\"0.004\" timestamp=\"2024-05-01T10:00:00.000\" name=\"AllTests\">\n  <testsuite name=\"{suite}\" tests=\"{}\" failures=\"{failures}\" disabled=\"0\" skipped=\"0\" errors=\"0\" time=\"0.003\" timestamp=\"2024-05-01T10:00:00.000\">\n",
        tests.len(),
        tests.len()
    );
    for (name, failure) in tests {
        match failure {
            None => xml.push_str(&format!(
                "    <testcase name=\"{name}\" file=\"{binary}.cc\" line=\"7\" status=\"run\" result=\"completed\" time=\"0.001\" timestamp=\"2024-05-01T10:00:00.000\" classname=\"{suite}\" />\n"
            )),
            Some(msg) => xml.push_str(&format!(
                "    <testcase name=\"{name}\" file=\"{binary}.cc\" line=\"12\" status=\"run\" result=\"completed\" time=\"0.001\" timestamp=\"2024-05-01T10:00:00.000\" classname=\"{suite}\">\n      <failure message=\"{binary}.cc:14&#x0A;{msg}\" type=\"\"><![CDATA[{binary}.cc:14\n{msg}\n]]></failure>\n    </testcase>\n"
            )),
        }
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

#[test]
fn concatenated_reports_are_read_into_one_report_with_a_warning() {
    let first = gtest_output(
        "math_test",
        "MathTest",
        &[
            ("Adds", None),
            ("Divides", Some("Expected equality of these values:")),
        ],
    );
    let second = gtest_output(
        "string_test",
        "StringTest",
        &[("Splits", None), ("Joins", None), ("Trims", None)],
    );
    let file = format!("{first}{second}");
    let report = parse(file.as_bytes());

    let (a, b) = (parse(first.as_bytes()), parse(second.as_bytes()));
    let mut expected = cases(&a);
    expected.extend(cases(&b).into_iter().map(|mut c| {
        c.location.offset += first.len() as u64;
        c.location.line += first.lines().count() as u64;
        c
    }));
    assert_eq!(cases(&report), expected);
    assert_eq!(report.counts.tests, 5);
    assert_eq!(report.counts.failed, 1);
    assert_eq!(report.suites.len(), 2);
    assert_eq!(report.name.as_deref(), Some("AllTests"));

    // One warning, where the second document's root starts; the declared counts of
    // each document agree with its own cases.
    let codes: Vec<&str> = report.warnings.iter().map(|w| w.code.as_str()).collect();
    assert_eq!(codes, ["junit.concatenated_documents"]);
    let at = report.warnings[0].location.expect("location");
    assert_eq!(at.line, first.lines().count() as u64 + 2);

    for chunk in [7, 4096] {
        assert_eq!(
            streamed(file.as_bytes(), chunk),
            expected,
            "chunks of {chunk}"
        );
    }
    // The stream stays one report: one start, one end.
    let events: Vec<Event> = junit::Reader::new(file.as_bytes())
        .collect::<Result<_, _>>()
        .expect("events");
    let starts = events
        .iter()
        .filter(|e| matches!(e, Event::ReportStart(_)))
        .count();
    let ends = events
        .iter()
        .filter(|e| matches!(e, Event::ReportEnd(_)))
        .count();
    assert_eq!((starts, ends), (1, 1));
    assert!(matches!(events.last(), Some(Event::ReportEnd(_))));
}

#[test]
fn concatenated_reports_keep_their_own_encoding_rules() {
    // `cat` of two UTF-16 files keeps the second byte order mark, and of bare suites
    // without declarations: both are read.
    let doc = with_encoding(WINDOWS_REPORT, "UTF-16");
    let twice = [utf16(&doc, false, true), utf16(&doc, false, true)].concat();
    let report = parse(&twice);
    assert_eq!(report.counts.tests, 4);
    assert_eq!(streamed(&twice, 3), cases(&report));
    let bare =
        "<testsuite name=\"a\"><testcase name=\"x\"/></testsuite>\n\u{FEFF}<testsuite name=\"b\"/>";
    assert_eq!(parse(bare.as_bytes()).suites.len(), 2);

    // One file cannot switch encodings between its documents.
    let mixed = [
        with_encoding(DOTNET_REPORT, "UTF-8").into_bytes(),
        windows_1252(&with_encoding(DOTNET_REPORT, "windows-1252")),
    ]
    .concat();
    let err = junit::parse(&mixed).expect_err("refused");
    assert_eq!(err.code, "junit.unsupported_encoding", "{err}");
    assert_eq!(err.location.map(|l| l.line), Some(11), "{err}");
}
