//! `tmbridge autofill` run as a program over the fixtures in `tests/fixtures/autofill`.

use std::path::PathBuf;
use std::process::{Command, Output};

fn fixture(name: &str) -> String {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "..",
        "tests",
        "fixtures",
        "autofill",
        name,
    ]
    .iter()
    .collect();
    path.to_string_lossy().into_owned()
}

fn tmbridge(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tmbridge"))
        .arg("autofill")
        .args(args)
        .output()
        .expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A file in the temp dir, removed when dropped.
struct Temp(PathBuf);

impl Temp {
    fn new(name: &str, content: &str) -> Temp {
        let path =
            std::env::temp_dir().join(format!("tmbridge-autofill-{}-{name}", std::process::id()));
        std::fs::write(&path, content).unwrap();
        Temp(path)
    }
    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn fixture_args() -> Vec<String> {
    vec![
        "--schema".into(),
        fixture("rally-defect-typedef.json"),
        "--settings".into(),
        fixture("defect-form-settings.json"),
        "--run".into(),
        fixture("failed-run.json"),
    ]
}

#[test]
fn text_output_shows_form_problems_and_payload() {
    let args = fixture_args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = tmbridge(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("Defect form: 19 fields, ready to submit\n"),
        "{out}"
    );
    // each field, then why it holds its value
    assert!(out.contains("  Severity         Major Problem\n"));
    assert!(out.contains("<- value map: \"Major\" mapped to \"Major Problem\""));
    assert!(out.contains("  Owner            (empty)\n                   <- not filled: no rule or default fills it\n"));
    assert!(out.contains("  Project *        Checkout Team (/project/51022340011)\n"));
    assert!(out.contains("warning  Requirement: the test case is linked to 2 user stories"));
    assert!(out.contains("[autofill.mapping_not_reversible]"));
    // the payload is the last part, as JSON
    let at = out
        .find("Payload (POST /slm/webservice/v2.0/defect/create):\n")
        .expect("payload heading");
    let json = &out[at..];
    let json = &json[json.find('\n').unwrap() + 1..];
    let payload: serde_json::Value = serde_json::from_str(json).unwrap();
    let defect = &payload["Defect"];
    assert_eq!(defect["Requirement"], "/hierarchicalrequirement/60011223");
    assert_eq!(defect["TestCase"], "/testcase/66120987");
    assert_eq!(defect["Severity"], "Major Problem");
    assert!(
        defect["Description"]
            .as_str()
            .unwrap()
            .contains("Test run: <a href=\"https://acme.qtestnet.com/")
    );
}

#[test]
fn json_output_for_scripts() {
    let mut args = fixture_args();
    args.extend(["--format".to_string(), "json".to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = tmbridge(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["ready"], true);
    assert_eq!(v["type_name"], "Defect");
    assert_eq!(v["fields"][0]["field"], "Name");
    assert_eq!(v["fields"][0]["filled_by"], "rule");
    assert_eq!(v["fields"][0]["rule"], 0);
    assert_eq!(v["payload"]["Defect"]["SubmittedBy"], "/user/52010440017");
    let codes: Vec<&str> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"autofill.extra_requirements"));
}

#[test]
fn toml_settings_and_a_form_with_errors_exit_1() {
    // No default for Project, State or ScheduleState: required fields stay empty.
    let settings = Temp::new(
        "settings.toml",
        r#"
hidden = ["Notes"]

[[rules]]
field = "Name"
sources = ["test_case.pid", "test_case.name"]
separator = " - "
"#,
    );
    let o = tmbridge(&[
        "--schema",
        &fixture("rally-defect-typedef.json"),
        "--settings",
        settings.path(),
        "--run",
        &fixture("failed-run.json"),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("NOT ready"), "{out}");
    let name = out
        .lines()
        .find(|l| l.starts_with("  Name *"))
        .expect("a Name line");
    assert!(
        name.ends_with(" TC-318 - Checkout rejects an expired card"),
        "{name}"
    );
    assert!(
        out.contains("error    Project: Project is required but empty"),
        "{out}"
    );
    assert!(out.contains("hint: add a rule or a default for Project in the settings"));
    assert!(!out.contains("  Notes "), "Notes is hidden");
}

#[test]
fn invalid_settings_are_a_usage_error() {
    let settings = Temp::new("typo.json", r#"{"hiden": ["Notes"]}"#);
    let o = tmbridge(&[
        "--schema",
        &fixture("rally-defect-typedef.json"),
        "--settings",
        settings.path(),
        "--run",
        &fixture("failed-run.json"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown field `hiden`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_schema_that_is_not_rally_metadata_is_an_input_error() {
    let schema = Temp::new(
        "schema.json",
        r#"{"QueryResult": {"Errors": ["Not authorized to perform action: Invalid key"], "Results": []}}"#,
    );
    let o = tmbridge(&[
        "--schema",
        schema.path(),
        "--run",
        &fixture("failed-run.json"),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("Rally answered with errors: Not authorized"),
        "{err}"
    );
    assert!(err.contains("[autofill.metadata_errors]"));
}

#[test]
fn missing_files_and_arguments() {
    let o = tmbridge(&[
        "--schema",
        "/nonexistent/typedef.json",
        "--run",
        &fixture("failed-run.json"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot read /nonexistent/typedef.json"));
    let o = tmbridge(&["--run", &fixture("failed-run.json")]);
    assert_eq!(o.status.code(), Some(2), "clap refuses a missing --schema");
}

#[test]
fn help_has_an_example_and_sources_are_listed() {
    let o = tmbridge(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    let help = stdout(&o);
    assert!(help.contains("Examples:"));
    assert!(help.contains(
        "tmbridge autofill --schema defect-typedef.json --settings form.json --run failed-run.json"
    ));
    let o = tmbridge(&["--list-sources"]);
    assert_eq!(o.status.code(), Some(0));
    let list = stdout(&o);
    assert!(
        list.lines().any(|l| l.starts_with("failing_step.actual ")),
        "{list}"
    );
    assert!(list.contains("test_run.properties.NAME"));
    let o = tmbridge(&["--list-sources", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        v.as_array()
            .unwrap()
            .iter()
            .any(|s| s["path"] == "test_log.step_logs" && s["kind"] == "list")
    );
}
