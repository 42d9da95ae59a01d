//! Real result files of NUnit 2 and 3, xUnit.net and TRX writers (see
//! tests/formats/samples/SOURCES.md) are read with the counts the files declare
//! themselves: NUnit's `total/passed/failed/...` attributes, xUnit's per-assembly
//! `total/passed/failed/skipped`, TRX's `ResultSummary/Counters`.

use quick_xml::events::Event as Xml;
use std::collections::BTreeMap;
use std::path::PathBuf;
use tmbridge_core::junit::parse;
use tmbridge_core::model::Counts;

fn samples() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/formats/samples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("samples folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml" || e == "trx"))
        .collect();
    files.sort();
    files
}

/// The root element's local name and, summed over every element named `counted`, its
/// numeric attributes.
fn declared(bytes: &[u8], counted: &[&str]) -> (String, BTreeMap<String, u64>) {
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let mut root = String::new();
    let mut sums = BTreeMap::new();
    let mut buf = Vec::new();
    let mut seen_root = false;
    loop {
        match reader
            .read_event_into(&mut buf)
            .expect("well-formed sample")
        {
            Xml::Start(e) | Xml::Empty(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if root.is_empty() {
                    root = name.clone();
                }
                let is_root = !seen_root;
                seen_root = true;
                let counted_here =
                    counted.contains(&name.as_str()) || (is_root && counted.contains(&"<root>"));
                if counted_here {
                    for attr in e.attributes().flatten() {
                        let key =
                            String::from_utf8_lossy(attr.key.local_name().as_ref()).into_owned();
                        if let Ok(v) = String::from_utf8_lossy(&attr.value).trim().parse::<u64>() {
                            *sums.entry(key).or_insert(0) += v;
                        }
                    }
                }
            }
            Xml::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    (root, sums)
}

/// What the file says its counts are, in tmbridge's statuses (see the mapping tables
/// in the format readers).
fn expected(bytes: &[u8]) -> Counts {
    let (root, _) = declared(bytes, &[]);
    let (_, d) = match root.as_str() {
        "test-run" | "test-results" | "test-suite" => declared(bytes, &["<root>"]),
        "assemblies" => declared(bytes, &["assembly"]),
        "assembly" => declared(bytes, &["<root>"]),
        "TestRun" => declared(bytes, &["Counters"]),
        other => panic!("not a sample format: {other}"),
    };
    let n = |k: &str| d.get(k).copied().unwrap_or(0);
    let mut c = Counts::default();
    match root.as_str() {
        "test-run" | "test-suite" => {
            c.tests = n("total");
            c.passed = n("passed") + n("warnings");
            c.failed = n("failed");
            c.skipped = n("skipped") + n("inconclusive");
            // NUnit 3 counts errors (label Error, Invalid, Cancelled) among `failed`.
        }
        "test-results" => {
            c.tests = n("total") + n("not-run");
            c.errors = n("errors") + n("invalid");
            c.failed = n("failures");
            c.skipped = n("not-run") - n("invalid") + n("inconclusive");
            c.passed = c.tests - c.errors - c.failed - c.skipped;
        }
        "assemblies" | "assembly" => {
            c.tests = n("total");
            c.passed = n("passed");
            c.failed = n("failed");
            c.skipped = n("skipped");
        }
        _ => {
            c.tests = n("total");
            c.passed = n("passed") + n("passedButRunAborted") + n("warning") + n("completed");
            c.failed = n("failed") + n("timeout");
            c.errors = n("error") + n("aborted") + n("disconnected") + n("notRunnable");
            // vstest leaves `notExecuted` at 0 for skipped tests: what is not counted
            // elsewhere did not run.
            c.skipped = c.tests - c.passed - c.failed - c.errors;
        }
    }
    c
}

#[test]
fn counts_equal_what_each_sample_declares() {
    let files = samples();
    assert!(files.len() >= 10, "the samples are missing");
    let mut mismatches = Vec::new();
    for path in files {
        let bytes = std::fs::read(&path).expect("read sample");
        let report = parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut want = expected(&bytes);
        let got = report.counts;
        // NUnit 3 puts errors among its failures.
        let nunit3 = matches!(report.root, tmbridge_core::model::RootKind::Nunit3);
        if nunit3 {
            want.failed -= got.errors.min(want.failed);
            want.errors = got.errors;
        }
        if got != want {
            mismatches.push(format!(
                "{}: read {got:?}, declared {want:?}",
                path.display()
            ));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// Streaming in 7-byte chunks yields the cases a whole-file parse gives, for the
/// samples and the other formats' fuzz seeds (what the fuzz target checks, here on
/// every run).
#[test]
fn streaming_in_small_chunks_agrees_with_whole_parsing() {
    let seeds = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/junit_reader");
    let mut files = samples();
    files.extend(
        std::fs::read_dir(&seeds)
            .expect("seeds")
            .map(|e| e.expect("entry").path())
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("formats-"))
            }),
    );
    assert!(files.len() > 20);
    for path in files {
        let bytes = std::fs::read(&path).expect("read");
        let whole = parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut streamed = Vec::new();
        let reader = std::io::BufReader::with_capacity(7, &bytes[..]);
        for event in tmbridge_core::junit::Reader::new(reader) {
            if let tmbridge_core::junit::Event::Case(case) =
                event.unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            {
                streamed.push(*case);
            }
        }
        let cases: Vec<_> = whole.cases().into_iter().cloned().collect();
        assert_eq!(cases, streamed, "{}", path.display());
    }
}
