//! allure-results folders on the command line: `parse`, `map` and `publish` take one
//! wherever they take a report file; only the folder's own files are read, and its
//! attachments are uploaded from it under the attachment policy.

use base64::Engine;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_tmbridge");

/// A work folder for one test, removed when dropped.
struct Work(PathBuf);

impl Work {
    fn new(name: &str) -> Work {
        let root =
            std::env::temp_dir().join(format!("tmbridge-allure-cli-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("allure-results")).unwrap();
        Work(root)
    }

    fn results(&self) -> PathBuf {
        self.0.join("allure-results")
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.results().join(name), text).unwrap();
    }

    /// What allure-pytest writes for a small run: a test that passed on its second
    /// attempt, a failed one with a step and an attachment, one broken by its fixture.
    fn sample(&self) {
        self.write(
            "a1-result.json",
            &result(
                "a1",
                "h-login",
                "test_login",
                "failed",
                100,
                r#""links":[{"type":"tms","name":"C77","url":"https://tm.example/cases/view/77"}]"#,
            ),
        );
        self.write(
            "a2-result.json",
            &result(
                "a2",
                "h-login",
                "test_login",
                "passed",
                200,
                r#""links":[{"type":"tms","name":"C77","url":"https://tm.example/cases/view/77"}]"#,
            ),
        );
        self.write(
            "b1-result.json",
            &result(
                "b1",
                "h-total",
                "test_total TC12",
                "failed",
                300,
                r#""links":[{"type":"issue","name":"SHOP-7","url":"https://tracker.example/SHOP-7"}],
                   "steps":[{"name":"check the total","status":"failed","statusDetails":{"message":"41 != 42"},
                             "attachments":[{"name":"total","source":"b1-attachment.txt","type":"text/plain"}]}]"#,
            ),
        );
        self.write("b1-attachment.txt", "total=41");
        self.write(
            "c1-result.json",
            &result("c1", "h-db", "test_orders", "skipped", 400, r#""links":[]"#),
        );
        self.write(
            "k1-container.json",
            r#"{"uuid":"k1","children":["c1"],"befores":[{"name":"database","status":"broken","statusDetails":{"message":"RuntimeError: no database"}}]}"#,
        );
        self.write("environment.properties", "Browser=Chrome\n");
    }
}

impl Drop for Work {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn result(uuid: &str, history: &str, name: &str, status: &str, start: u64, extra: &str) -> String {
    format!(
        r#"{{"uuid":"{uuid}","historyId":"{history}","name":"{name}","fullName":"tests.test_shop#{name}","status":"{status}",
            "statusDetails":{{"message":"{name} {status}"}},"start":{start},"stop":{},
            "labels":[{{"name":"parentSuite","value":"tests"}},{{"name":"suite","value":"test_shop"}},{{"name":"package","value":"tests.test_shop"}}],
            {extra}}}"#,
        start + 50
    )
}

fn run(args: &[&str], cwd: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .output()
        .expect("run tmbridge")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ndjson(out: &Output) -> Vec<Value> {
    assert_eq!(out.status.code(), Some(0), "{}", text(out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn parse_reads_a_folder_as_one_report() {
    let work = Work::new("parse");
    work.sample();
    let cases = ndjson(&run(
        &["parse", "--format", "ndjson", "allure-results"],
        &work.0,
    ));
    let status = |name: &str| {
        cases
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("{name}: {cases:?}"))["status"]
            .clone()
    };
    assert_eq!(cases.len(), 3, "the two attempts are one test: {cases:?}");
    assert_eq!(status("test_login"), "flaky");
    assert_eq!(status("test_total TC12"), "failed");
    assert_eq!(status("test_orders"), "error", "its fixture broke");
    assert!(cases.iter().all(|c| c["report"] == "allure-results"));
    let total = cases
        .iter()
        .find(|c| c["name"] == "test_total TC12")
        .unwrap();
    assert_eq!(
        total["attachments"],
        serde_json::json!(["b1-attachment.txt"])
    );
    assert_eq!(total["suite"], serde_json::json!(["tests", "test_shop"]));

    let summary = run(&["parse", "allure-results/"], &work.0);
    assert_eq!(summary.status.code(), Some(0), "{}", text(&summary));
    let row = String::from_utf8_lossy(&summary.stdout)
        .lines()
        .nth(1)
        .unwrap()
        .to_string();
    let columns: Vec<&str> = row.split_whitespace().collect();
    // file, suites, tests, passed, failed, errors, skipped, flaky
    assert_eq!(&columns[1..8], ["2", "3", "0", "1", "1", "0", "1"], "{row}");

    let json = run(&["parse", "--format", "json", "allure-results"], &work.0);
    let reports: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(reports[0]["report"]["root"], "allure");
}

#[test]
fn a_bad_file_is_a_warning_and_the_rest_is_read() {
    let work = Work::new("bad-file");
    work.sample();
    work.write("z9-result.json", "{\"uuid\": \"z9\", \"name\": ");
    let out = run(&["parse", "--format", "ndjson", "allure-results"], &work.0);
    assert_eq!(ndjson(&out).len(), 3);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("z9-result.json") && stderr.contains("allure.invalid_json"),
        "{stderr}"
    );
}

#[test]
fn a_folder_without_results_is_a_usage_error() {
    let work = Work::new("empty");
    work.write("environment.properties", "a=b\n");
    let out = run(&["parse", "allure-results"], &work.0);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("*-result.json"), "{}", text(&out));
}

#[cfg(unix)]
#[test]
fn only_the_folders_own_files_are_read() {
    let work = Work::new("links");
    work.sample();
    // A result outside the folder, linked in, and one in a sub-folder: neither is read.
    std::fs::write(
        work.0.join("outside-result.json"),
        result("o1", "h-o", "test_outside", "passed", 1, r#""links":[]"#),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        work.0.join("outside-result.json"),
        work.results().join("o1-result.json"),
    )
    .unwrap();
    std::fs::create_dir(work.results().join("sub")).unwrap();
    std::fs::write(
        work.results().join("sub/s1-result.json"),
        result("s1", "h-s", "test_sub", "passed", 1, r#""links":[]"#),
    )
    .unwrap();
    let out = run(&["parse", "--format", "ndjson", "allure-results"], &work.0);
    let names: Vec<String> = ndjson(&out)
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    assert!(
        !names.iter().any(|n| n == "test_outside" || n == "test_sub"),
        "{names:?}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("o1-result.json is not a regular file"),
        "{}",
        text(&out)
    );
}

#[test]
fn map_takes_case_ids_from_tms_links_and_defects_from_issue_links() {
    let work = Work::new("map");
    work.sample();
    let config = work.0.join("testrail.toml");
    std::fs::write(
        &config,
        "[testrail]\nurl = \"https://tr.example/\"\nproject_id = 3\nsuite_id = 12\nsection_id = 240\nrun_id = 881\n",
    )
    .unwrap();
    let out = run(
        &[
            "map",
            "--target",
            "testrail",
            "--config",
            "testrail.toml",
            "--format",
            "json",
            "--now",
            "2024-05-01T10:00:00Z",
            "allure-results",
        ],
        &work.0,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = plan["add_results_for_cases"]["results"].as_array().unwrap();
    let login = results
        .iter()
        .find(|r| r["case_id"] == 77)
        .unwrap_or_else(|| panic!("{plan}"));
    assert_eq!(login["status_id"], 1, "flaky reads as passed: {login}");
    let review: Vec<String> = plan["review"]
        .as_array()
        .map(|r| {
            r.iter()
                .map(|i| i["test"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        !review.iter().any(|t| t.ends_with("test_login")),
        "{review:?}"
    );
}

#[test]
fn publish_uploads_attachments_from_the_folder_and_nothing_outside_it() {
    let work = Work::new("publish");
    work.sample();
    std::fs::write(work.0.join("secret.txt"), "SECRET-not-for-upload").unwrap();
    work.write(
        "d1-result.json",
        &result(
            "d1",
            "h-escape",
            "test_escape TC13",
            "failed",
            500,
            r#""links":[],"attachments":[{"name":"x","source":"../secret.txt"}]"#,
        ),
    );
    let config = work.0.join("rally.toml");
    std::fs::write(
        &config,
        "[rally]\nurl = \"https://rally.invalid\"\napi_key_env = \"ALLURE_CLI_TEST_KEY\"\nworkspace = \"/workspace/1\"\nproject = \"/project/2\"\n",
    )
    .unwrap();
    let out = run(
        &[
            "publish",
            "--target",
            "rally",
            "--dry-run",
            "--quiet",
            "--format",
            "json",
            "--var",
            "pipeline_id=77",
            "--now",
            "2024-05-01T10:00:00Z",
            "--config",
            "rally.toml",
            "--outbox",
            "outbox.sqlite3",
            "allure-results",
        ],
        &work.0,
    );
    let all = text(&out);
    assert!(!all.contains("SECRET-not-for-upload"), "{all}");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {all}"));
    let uploads: Vec<Vec<u8>> = json["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["body"].as_str())
        .filter_map(|b| serde_json::from_str::<Value>(b).ok())
        .filter_map(|b| {
            b["AttachmentContent"]["Content"]
                .as_str()
                .map(|c| base64::engine::general_purpose::STANDARD.decode(c).unwrap())
        })
        .collect();
    assert_eq!(uploads, vec![b"total=41".to_vec()], "{all}");
    let refused = json["report"]["failed"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["why"].as_str())
        .any(|why| why.starts_with("../secret.txt: ") && why.contains("refused"));
    assert!(refused, "{all}");
}
