//! `connect`, `requirements import`, `link` and `defect submit` against the Rally
//! simulator over real HTTP: each runs a core session through the CLI's one host loop.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tmbridge_simulators::rally::RallySim;

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir(name: &str) -> Dir {
    let dir = std::env::temp_dir().join(format!(
        "tmbridge-session-cmd-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Dir(dir)
}

fn config(dir: &Path, rally: &RallySim, project: &str) -> PathBuf {
    let text = format!(
        "[rally]\nurl = \"{}\"\napi_key_env = \"SESSION_RALLY_KEY\"\nworkspace = \"{}\"\nproject = \"{}\"\n",
        rally.url(),
        rally.seeded().workspace,
        project
    );
    let path = dir.join("tmbridge.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn tmbridge(key: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tmbridge"))
        .args(args)
        .env("SESSION_RALLY_KEY", key)
        .env_remove("RALLY_USERNAME")
        .env_remove("RALLY_PASSWORD")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn connect_says_what_works_and_what_is_wrong() {
    let rally = RallySim::start();
    let dir = temp_dir("connect");
    let good = config(&dir.0, &rally, &rally.seeded().project);
    let cfg = good.to_str().unwrap();
    let out = tmbridge(
        rally.api_key(),
        &["connect", "--target", "rally", "--config", cfg],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("OK: every check passed"),
        "{}",
        text(&out.stdout)
    );

    let bad = tmbridge(
        "not-the-key",
        &["connect", "--target", "rally", "--config", cfg],
    );
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad.stdout));
    let said = text(&bad.stdout);
    assert!(said.contains("error:"), "{said}");
    assert!(!said.contains("not-the-key") && !text(&bad.stderr).contains("not-the-key"));

    let restricted = config(&dir.0, &rally, "/project/99999999");
    let out = tmbridge(
        rally.api_key(),
        &[
            "connect",
            "--target",
            "rally",
            "--config",
            restricted.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json["report"]["error"]["code"], "rally.no_project_access",
        "{json}"
    );
}

#[test]
fn connect_dry_run_masks_the_key_and_sends_nothing() {
    let rally = RallySim::start();
    let dir = temp_dir("connect-dry");
    let cfg = config(&dir.0, &rally, &rally.seeded().project);
    let before = rally.requests().len();
    let out = tmbridge(
        "s3cret-key",
        &[
            "connect",
            "--target",
            "rally",
            "--config",
            cfg.to_str().unwrap(),
            "--dry-run",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        rally.requests().len(),
        before,
        "a dry run reached the server"
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let requests = json["requests"].as_array().unwrap();
    assert!(!requests.is_empty());
    assert!(!text(&out.stdout).contains("s3cret-key"));
}

#[test]
fn requirements_import_lists_stories_by_a_normalised_query() {
    let rally = RallySim::start();
    rally.add_user_story("US901", "Pay by card", None);
    rally.add_user_story("US902", "Refund", None);
    let dir = temp_dir("requirements");
    let cfg = config(&dir.0, &rally, &rally.seeded().project);
    let out = tmbridge(
        rally.api_key(),
        &[
            "requirements",
            "import",
            "--target",
            "rally",
            "--config",
            cfg.to_str().unwrap(),
            "--query",
            "Name contains \"Pay\"",
            "--format",
            "ndjson",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let stories: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids: Vec<&str> = stories
        .iter()
        .filter_map(|s| s["formatted_id"].as_str())
        .collect();
    assert!(ids.contains(&"US901"), "{ids:?}");
    assert!(!ids.contains(&"US902"), "{ids:?}");

    let refused = tmbridge(
        rally.api_key(),
        &[
            "requirements",
            "import",
            "--target",
            "rally",
            "--config",
            cfg.to_str().unwrap(),
            "--query",
            "(Name contains \"Pay\"",
        ],
    );
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stdout));
}

#[test]
fn requirements_watch_appends_each_change_once() {
    let rally = RallySim::start();
    rally.add_user_story("US911", "First", None);
    let dir = temp_dir("watch");
    let cfg = config(&dir.0, &rally, &rally.seeded().project);
    let state = dir.0.join("state.json");
    let out_file = dir.0.join("stories.ndjson");
    let watch = |polls: &str| {
        tmbridge(
            rally.api_key(),
            &[
                "requirements",
                "import",
                "--target",
                "rally",
                "--config",
                cfg.to_str().unwrap(),
                "--watch",
                "--interval",
                "1s",
                "--polls",
                polls,
                "--quiet",
                "--state",
                state.to_str().unwrap(),
                "--out",
                out_file.to_str().unwrap(),
            ],
        )
    };
    let first = watch("1");
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let lines = |p: &Path| {
        std::fs::read_to_string(p)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let after_first = lines(&out_file);
    assert!(
        after_first.iter().any(|l| l.contains("US911")),
        "{after_first:?}"
    );
    // A poll killed after writing but before storing its cursor left a partial line.
    let mut partial = std::fs::read(&out_file).unwrap();
    partial.extend_from_slice(b"{\"ref\": \"/hierarchicalrequirement/9");
    std::fs::write(&out_file, partial).unwrap();
    rally.add_user_story("US912", "Second", None);
    let second = watch("1");
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stderr));
    let all = lines(&out_file);
    assert_eq!(
        all.iter().filter(|l| l.contains("US911")).count(),
        1,
        "{all:?}"
    );
    assert_eq!(
        all.iter().filter(|l| l.contains("US912")).count(),
        1,
        "{all:?}"
    );
    for line in &all {
        serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| panic!("{line}: {e}"));
    }
}

#[test]
fn link_creates_the_test_case_once() {
    let rally = RallySim::start();
    rally.add_user_story("US921", "Checkout", None);
    rally.add_user_story("US922", "Other", None);
    let dir = temp_dir("link");
    let cfg = config(&dir.0, &rally, &rally.seeded().project);
    let link = || {
        tmbridge(
            rally.api_key(),
            &[
                "link",
                "--target",
                "rally",
                "--config",
                cfg.to_str().unwrap(),
                "--test-case",
                "Checkout pays by card",
                "--story",
                "US921",
                "--story",
                "US922",
                "--source-url",
                "https://qtest.example.com/p/1/77",
                "--format",
                "json",
            ],
        )
    };
    let first = link();
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}{}",
        text(&first.stdout),
        text(&first.stderr)
    );
    let again = link();
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stdout));
    let cases = rally.find("testcase", "Name", "Checkout pays by card");
    assert_eq!(cases.len(), 1, "{cases:?}");
    let case = rally.object(&cases[0]).unwrap();
    let story = rally.find("hierarchicalrequirement", "FormattedID", "US921");
    assert!(
        case["WorkProduct"]
            .as_str()
            .unwrap_or_default()
            .ends_with(&story[0]),
        "{case:?}"
    );
    assert!(
        case["Description"]
            .as_str()
            .unwrap_or_default()
            .contains("https://qtest.example.com/p/1/77")
    );
}

/// A failed run whose links point at this Rally's story, test case and result, and
/// the form settings this Rally needs.
struct DefectInputs {
    run: PathBuf,
    settings: PathBuf,
    story: String,
    case: String,
    result: String,
}

fn defect_inputs(rally: &RallySim, dir: &Path) -> DefectInputs {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/autofill");
    let story = rally.add_user_story("US931", "Pay by card at checkout", None);
    let case = rally.add_test_case("TC931", "Checkout rejects an expired card", Some(&story));
    let result = rally.insert(
        "testcaseresult",
        serde_json::json!({"TestCase": case, "Verdict": "Fail", "Build": "1893", "Date": "2024-05-01T10:00:00.000Z"}),
    );
    let run = dir.join("failed-run.json");
    let run_json = std::fs::read_to_string(fixtures.join("failed-run.json"))
        .unwrap()
        .replace("/hierarchicalrequirement/60011223", &story)
        .replace("/testcase/66120987", &case)
        .replace("/testcaseresult/771203344", &result);
    std::fs::write(&run, run_json).unwrap();
    let settings = dir.join("form.json");
    let form = serde_json::json!({
        "hidden": ["SubmittedBy", "Owner", "Workspace", "Iteration", "Release"],
        "allowed_values": {"Project": [{"value": "Web Team", "reference": rally.seeded().project}]},
        "rules": [{"field": "Name", "template": "{test_case.name}"}],
        "defaults": {"Project": rally.seeded().project, "Environment": "Test", "State": "Submitted", "ScheduleState": "Defined"}
    });
    std::fs::write(&settings, form.to_string()).unwrap();
    DefectInputs {
        run,
        settings,
        story,
        case,
        result,
    }
}

#[test]
fn defect_submit_refuses_an_unready_form_and_files_a_ready_one() {
    let rally = RallySim::start();
    let dir = temp_dir("defect");
    let cfg = config(&dir.0, &rally, &rally.seeded().project);
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/autofill");
    let schema = fixtures.join("rally-defect-typedef.json");
    let DefectInputs {
        run,
        settings,
        story,
        case,
        result,
    } = defect_inputs(&rally, &dir.0);
    let submit = |settings: Option<&Path>| {
        let mut args = vec![
            "defect",
            "submit",
            "--target",
            "rally",
            "--config",
            cfg.to_str().unwrap(),
            "--schema",
            schema.to_str().unwrap(),
            "--run",
            run.to_str().unwrap(),
        ];
        if let Some(s) = settings {
            args.extend(["--settings", s.to_str().unwrap()]);
        }
        tmbridge(rally.api_key(), &args)
    };
    let before = rally.created("Defect").len();
    let refused = submit(None);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stdout).contains("nothing was sent"),
        "{}",
        text(&refused.stdout)
    );
    assert_eq!(rally.created("Defect").len(), before);

    let filed = submit(Some(&settings));
    let said = text(&filed.stdout);
    assert_eq!(
        filed.status.code(),
        Some(0),
        "{said}{}",
        text(&filed.stderr)
    );
    assert!(said.contains("filed "), "{said}");
    assert!(said.contains("/#/detail/defect/"), "{said}");
    let created = rally.created("Defect");
    assert_eq!(created.len(), before + 1);
    let defects = rally.find("defect", "Name", "Checkout rejects an expired card");
    assert_eq!(defects.len(), 1, "{defects:?}");
    let defect = rally.object(&defects[0]).unwrap();
    for (field, linked) in [
        ("Requirement", &story),
        ("TestCase", &case),
        ("TestCaseResult", &result),
    ] {
        assert!(
            defect[field]
                .as_str()
                .unwrap_or_default()
                .ends_with(linked.as_str()),
            "{field}: {defect:?}"
        );
    }
}

#[test]
fn defect_schema_loads_the_form_that_defect_submit_then_files() {
    let rally = RallySim::start();
    let dir = temp_dir("defect-schema");
    let cfg = config(&dir.0, &rally, &rally.seeded().project);
    let cfg = cfg.to_str().unwrap();
    let saved = dir.0.join("forms").join("defect-schema.json");
    let args = [
        "defect",
        "schema",
        "--target",
        "rally",
        "--config",
        cfg,
        "--out",
        saved.to_str().unwrap(),
    ];
    let out = tmbridge(rally.api_key(), &args);
    let said = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{said}{}", text(&out.stderr));
    assert!(said.contains("Defect ("), "{said}");
    let schema: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&saved).unwrap()).unwrap();
    assert_eq!(schema["type_name"], "Defect");
    let fields = schema["fields"].as_array().unwrap();
    let field = |name: &str| fields.iter().find(|f| f["name"] == name).cloned();
    assert_eq!(field("Name").unwrap()["required"], true, "{schema}");
    for name in ["State", "Severity", "Project", "TestCase", "Description"] {
        assert!(field(name).is_some(), "{name} missing: {schema}");
    }
    // Drop-downs come with their values, read from their own AllowedValues collections.
    let severity = field("Severity").unwrap();
    assert_eq!(severity["allowed_values_loaded"], true, "{severity}");
    let values: Vec<&str> = severity["allowed_values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["value"].as_str().unwrap())
        .collect();
    assert!(values.contains(&"Crash/Data Loss"), "{values:?}");
    let paged = rally
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/AllowedValues"))
        .count();
    assert!(paged >= 4, "AllowedValues read {paged} times");
    // Read requests only: the schema session changes nothing.
    assert!(rally.ledger().is_empty(), "{:?}", rally.ledger());

    // The saved schema is what `defect submit` takes.
    let inputs = defect_inputs(&rally, &dir.0);
    let filed = tmbridge(
        rally.api_key(),
        &[
            "defect",
            "submit",
            "--target",
            "rally",
            "--config",
            cfg,
            "--schema",
            saved.to_str().unwrap(),
            "--settings",
            inputs.settings.to_str().unwrap(),
            "--run",
            inputs.run.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    let said = text(&filed.stdout);
    assert_eq!(
        filed.status.code(),
        Some(0),
        "{said}{}",
        text(&filed.stderr)
    );
    let outcome: serde_json::Value = serde_json::from_str(&said).unwrap();
    let reference = outcome["report"]["details"]["ref"]
        .as_str()
        .unwrap()
        .to_string();
    let defect = rally.object(&reference).unwrap();
    assert_eq!(defect["Name"], "Checkout rejects an expired card");
    assert!(defect["TestCase"].as_str().unwrap().ends_with(&inputs.case));

    // Dry run: the requests are printed, nothing is sent, no file is written.
    let again = dir.0.join("dry.json");
    let dry = tmbridge(
        "unused",
        &[
            "defect",
            "schema",
            "--target",
            "rally",
            "--config",
            cfg,
            "--dry-run",
            "--out",
            again.to_str().unwrap(),
        ],
    );
    assert!(
        text(&dry.stdout).contains("/typedefinition?query="),
        "{}",
        text(&dry.stdout)
    );
    assert!(!again.exists());
}
