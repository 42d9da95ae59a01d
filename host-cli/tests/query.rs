//! `tmbridge query`: the built binary, run as a user would.

use std::io::Write;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_tmbridge");

fn fixture(name: &str) -> String {
    format!(
        "{}/../tests/fixtures/rally_query/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("run tmbridge")
}

fn run_stdin(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run tmbridge");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

#[test]
fn normalize_prints_the_seed_example_alone_on_stdout() {
    let o = run(&[
        "query",
        "normalize",
        "(Name contains US) AND (Creation Date >= 2013-Dec-31)",
        "--tz",
        "UTC",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "((Name contains US) AND (CreationDate >= 2013-12-31T00:00:00Z))\n"
    );
    // The account of the changes goes to stderr, in words.
    let err = stderr(&o);
    assert!(err.contains("Creation Date  ->  CreationDate"), "{err}");
    assert!(
        err.contains("2013-Dec-31  ->  2013-12-31T00:00:00Z"),
        "{err}"
    );
}

#[test]
fn check_says_ok_fixable_or_refused() {
    let o = run(&["query", "check", "((Name contains US) AND (ObjectID > 5))"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).starts_with("ok: Rally accepts this query as written"));

    let o = run(&["query", "check", "Name = x AND B = 2 AND C = 3"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.starts_with("fixable:"), "{out}");
    assert!(
        out.contains("  (((Name = x) AND (B = 2)) AND (C = 3))\n"),
        "{out}"
    );
    assert!(
        out.contains("Rally takes exactly two operands per AND"),
        "{out}"
    );

    let o = run(&[
        "query",
        "check",
        "(Name = x) AND (CreationDate contains 2013)",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.starts_with("refused: Rally would not accept this query (1 problem)"),
        "{out}"
    );
    assert!(out.contains("error: line 1, column 17: Rally does not accept 'contains' on CreationDate [rally_query.operator_not_allowed]"), "{out}");
    // The spot is underlined under the query.
    assert!(out.contains("    (Name = x) AND (CreationDate contains 2013)\n                    ^^^^^^^^^^^^^^^^^^^^^^^^^^\n"), "{out}");
}

#[test]
fn check_json_is_the_core_output() {
    let o = run(&["query", "check", "(Name = \"x)", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    assert_eq!(v["valid"], false);
    assert_eq!(v["canonical"], serde_json::Value::Null);
    assert_eq!(
        v["diagnostics"][0]["code"],
        "rally_query.unterminated_string"
    );
    assert_eq!(v["diagnostics"][0]["location"]["column"], 9);
    assert!(
        v["diagnostics"][0]["hint"]
            .as_str()
            .unwrap()
            .contains("closing quote")
    );
}

#[test]
fn fields_file_in_rally_shape_maps_display_and_custom_names() {
    let fields = fixture("defect-attributes-wsapi1.43-shape.json");
    let o = run(&[
        "query",
        "normalize",
        "Code Area = Billing AND Toggle On Date >= 2024-07-01 Sorted by Creation Date Descending",
        "--fields",
        &fields,
        "--tz",
        "Europe/Berlin",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let v = json(&o);
    // Berlin is UTC+2 in July.
    assert_eq!(
        v["query"],
        "((c_CodeArea = Billing) AND (c_ToggleOnDate >= 2024-06-30T22:00:00Z))"
    );
    assert_eq!(v["order"], "CreationDate desc");
    assert_eq!(v["complete"], true);

    let o = run(&["query", "check", "(Severty = Major)", "--fields", &fields]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("hint: did you mean Severity?"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn lookups_turn_names_into_object_ids() {
    let lookups = fixture("lookups-queryresult.json");
    let o = run(&[
        "query",
        "normalize",
        "Release = \"R1\" AND Iteration.Name = \"Sprint 5\"",
        "--lookups",
        &lookups,
        "--project",
        "Payments",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "((Release.ObjectID = 1001) AND (Iteration.ObjectID = 3003))\n"
    );

    // Without the project the name is ambiguous: refused, with the choices.
    let o = run(&[
        "query",
        "normalize",
        "(Release = R1)",
        "--lookups",
        &lookups,
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("[rally_query.ambiguous_lookup]"), "{err}");
    assert!(err.contains("Payments (1001), Mobile (2002)"), "{err}");
}

#[test]
fn missing_lookups_say_what_to_fetch() {
    let o = run(&[
        "query",
        "normalize",
        "(Release = \"R9\")",
        "--project",
        "Payments",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    assert_eq!(v["query"], "(Release.Name = \"R9\")");
    assert_eq!(v["complete"], false);
    assert_eq!(
        v["needs"],
        serde_json::json!([{"kind": "release", "project": "Payments", "name": "R9"}])
    );
    let o = run(&["query", "normalize", "(Release = \"R9\")"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("release \"R9\": GET /release?query=(Name = \"R9\")"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn refusals_are_explained_with_every_error() {
    let o = run(&[
        "query",
        "normalize",
        "(Blocked = maybe) AND (Name contains rock and roll)",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), "");
    let err = stderr(&o);
    assert!(
        err.starts_with("Rally would refuse this query, and tmbridge cannot repair it:"),
        "{err}"
    );
    assert!(err.contains("[rally_query.missing_operator]"), "{err}");
    assert!(
        err.contains("put that whole value in double quotes"),
        "{err}"
    );
}

#[test]
fn normalize_json_error_shape() {
    let o = run(&["query", "normalize", "(Name =)", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    assert_eq!(v["error"]["code"], "rally_query.missing_value");
    assert_eq!(v["error"]["location"]["line"], 1);
}

#[test]
fn query_from_stdin() {
    let o = run_stdin(
        &["query", "normalize", "-"],
        "Name=\"a (b)\" and ObjectID>5\n",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "((Name = \"a (b)\") AND (ObjectID > 5))\n");
}

#[test]
fn poll_adds_the_last_update_date() {
    let o = run(&[
        "query",
        "poll",
        "ScheduleState = Defined",
        "--since",
        "2024-05-01T10:00:00Z",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "((ScheduleState = Defined) AND (LastUpdateDate > 2024-05-01T10:00:00Z))\n"
    );
}

#[test]
fn bad_command_lines_and_files_exit_2() {
    let o = run(&["query", "normalize", "(A = 1)", "--tz", "Mars/Base"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("'Mars/Base' is not an IANA time zone"));

    let dir = std::env::temp_dir().join(format!("tmbridge-query-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("fields.json");
    std::fs::write(&bad, "{\"QueryResult\": {\"Results\": []}}").unwrap();
    let o = run(&[
        "query",
        "check",
        "(A = 1)",
        "--fields",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("[rally_query.invalid_fields]"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(&dir).ok();

    let o = run(&["query", "poll", "x = 1", "--since", "never"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("[rally_query.invalid_since]"));
}

#[test]
fn help_has_a_description_and_examples() {
    let o = run(&["query", "--help"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.contains("Check and normalise Rally"), "{out}");
    assert!(out.contains("Examples:\n  tmbridge query check"), "{out}");
    let o = run(&["query", "normalize", "--help"]);
    let out = stdout(&o);
    assert!(
        out.contains("--lookups <FILE>")
            && out.contains("--fields <FILE>")
            && out.contains("--tz <ZONE>"),
        "{out}"
    );
}
