//! Every row of `tests/junit-errors/README.md`: bad input gets exactly the error the
//! table promises, never a panic and never an empty report.

use std::path::PathBuf;
use tmbridge_core::junit;

fn errors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/junit-errors")
}

struct Row {
    file: String,
    code: String,
    line: u64,
    column: u64,
}

fn table() -> Vec<Row> {
    let text = std::fs::read_to_string(errors_dir().join("README.md")).expect("error table");
    text.lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| file"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            Row {
                file: cells[1].to_string(),
                code: cells[2].to_string(),
                line: cells[3].parse().expect("line"),
                column: cells[4].parse().expect("column"),
            }
        })
        .collect()
}

fn input(file: &str) -> Vec<u8> {
    match file {
        "generated:huge-attribute" => {
            format!("<testsuite name=\"{}\"/>", "x".repeat(2 * 1024 * 1024)).into_bytes()
        }
        _ => std::fs::read(errors_dir().join(file)).expect("fixture"),
    }
}

#[test]
fn every_row_of_the_error_table_holds() {
    let rows = table();
    assert!(rows.len() >= 18, "the table lost rows: {}", rows.len());
    for row in rows {
        let err = match junit::parse(&input(&row.file)) {
            Ok(report) => panic!(
                "{}: read as a report of {} tests",
                row.file, report.counts.tests
            ),
            Err(err) => err,
        };
        let loc = err
            .location
            .unwrap_or_else(|| panic!("{}: no location", row.file));
        assert_eq!(
            (err.code.as_str(), loc.line, loc.column),
            (row.code.as_str(), row.line, row.column),
            "{}: {err}",
            row.file
        );
        assert!(
            err.hint.is_some(),
            "{}: every reader error says how to fix it",
            row.file
        );
    }
}

#[test]
fn streaming_yields_the_cases_before_the_fault() {
    let bytes = input("truncated.xml");
    let mut names = Vec::new();
    let mut failure = None;
    for event in junit::Reader::new(&bytes[..]) {
        match event {
            Ok(junit::Event::Case(case)) => names.push(case.name),
            Ok(_) => {}
            Err(err) => failure = Some(err),
        }
    }
    assert_eq!(names, vec!["a"]);
    assert_eq!(failure.map(|e| e.code), Some("junit.truncated".to_string()));
}

#[test]
fn foreign_formats_are_named() {
    let err = junit::parse(&input("allure1.xml")).expect_err("allure1.xml");
    assert!(err.message.contains("Allure 1"), "{}", err.message);
}

/// Robot Framework and NUnit 3 files were refused with a hint before; they are read now.
#[test]
fn robot_and_nunit_files_are_read() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/formats");
    use tmbridge_core::model::RootKind;
    for (file, root) in [
        ("robot-output-minimal.xml", RootKind::Robot),
        ("nunit3-minimal.xml", RootKind::Nunit3),
    ] {
        let bytes = std::fs::read(dir.join(file)).expect(file);
        let report = junit::parse(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!((report.root, report.counts.tests), (root, 0), "{file}");
    }
}

#[test]
fn no_entity_is_ever_expanded() {
    for file in ["xxe.xml", "entity-bomb.xml"] {
        let err = junit::parse(&input(file)).expect_err(file);
        assert!(
            err.message.contains("never expands"),
            "{file}: {}",
            err.message
        );
    }
}
