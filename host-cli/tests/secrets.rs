//! Secrets and what the CLI tells people: credentials in URLs are refused and never
//! shown, the security token of basic auth reaches no output and no stored file, a
//! dry run shows the sign-in flow a real run uses, refused credentials and command
//! line mistakes exit 2, and no configuration file is ever echoed raw.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use tmbridge_simulators::rally::RallySim;

const BIN: &str = env!("CARGO_BIN_EXE_tmbridge");

/// The password every test hides somewhere; it must never come out.
const PASSWORD: &str = "Pa55word-never-shown";

const REPORT: &str = r#"<testsuite name="web">
  <testcase classname="web.Login" name="TC1 logs in" time="1.5"/>
  <testcase classname="web.Login" name="TC2 rejects a bad password" time="0.2">
    <failure message="expected 401">expected 401</failure>
  </testcase>
</testsuite>
"#;

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir(name: &str) -> Dir {
    let dir = std::env::temp_dir().join(format!("tmbridge-secrets-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    Dir(dir)
}

/// A Rally configuration for the simulator; `url` replaces its address.
fn config(dir: &Path, rally: &RallySim, url: Option<&str>) -> PathBuf {
    let s = rally.seeded();
    let url = url.map_or_else(|| rally.url(), str::to_string);
    let text = format!(
        "[rally]\nurl = \"{url}\"\napi_key_env = \"SECRETS_RALLY_KEY\"\nworkspace = \"{}\"\nproject = \"{}\"\n",
        s.workspace, s.project
    );
    let path = dir.join("tmbridge.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// `tmbridge ARGS` in `dir`, with no Rally secret from the caller's environment.
fn tmbridge(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir)
        .args(args)
        .env_remove("SECRETS_RALLY_KEY")
        .env_remove("RALLY_API_KEY")
        .env_remove("RALLY_USERNAME")
        .env_remove("RALLY_PASSWORD")
        .env("CI_PIPELINE_ID", "77")
        .stdin(Stdio::null());
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run tmbridge")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every byte of the files under `dir` (the outbox, its WAL, the serve store).
fn stored_bytes(dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                out.extend(bytes);
            }
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// `secret` is in none of stdout, stderr and the files under `dir`.
fn assert_hidden(secret: &str, out: &Output, dir: &Path, what: &str) {
    assert!(!contains(&out.stdout, secret), "{what}: stdout shows it");
    assert!(!contains(&out.stderr, secret), "{what}: stderr shows it");
    assert!(
        !contains(&stored_bytes(dir), secret),
        "{what}: a file keeps it"
    );
}

#[test]
fn credentials_in_a_configured_url_are_refused_and_never_shown() {
    let rally = RallySim::start();
    let host = rally.url().trim_start_matches("http://").to_string();
    for url in [
        format!("http://tester:{PASSWORD}@{host}"),
        format!("http://{PASSWORD}@{host}"),
        format!("http://{host}?key={PASSWORD}"),
    ] {
        let dir = temp_dir("url");
        // The configuration holds the password: it lives outside the folder checked.
        let config_dir = temp_dir("url-config");
        let config = config(&config_dir.0, &rally, Some(&url));
        std::fs::write(dir.0.join("junit.xml"), REPORT).unwrap();
        let config = config.to_str().unwrap();
        let commands: [&[&str]; 4] = [
            &[
                "publish",
                "--target",
                "rally",
                "--config",
                config,
                "--dry-run",
                "junit.xml",
            ],
            &[
                "publish",
                "--target",
                "rally",
                "--config",
                config,
                "--outbox",
                "o.sqlite3",
                "junit.xml",
            ],
            &["map", "--target", "rally", "--config", config, "junit.xml"],
            &[
                "serve",
                "--config",
                config,
                "--gitlab-url",
                "http://127.0.0.1:9",
                "--state",
                "s.sqlite",
            ],
        ];
        for args in commands {
            let out = run(tmbridge(&dir.0, args)
                .env("SECRETS_RALLY_KEY", rally.api_key())
                .env("TMBRIDGE_GITLAB_TOKEN", "hook")
                .env("GITLAB_API_TOKEN", "glpat"));
            assert_eq!(
                out.status.code(),
                Some(2),
                "{args:?}: {}",
                text(&out.stderr)
            );
            assert!(
                text(&out.stderr).contains("config.credentials_in_url"),
                "{args:?}: {}",
                text(&out.stderr)
            );
            assert_hidden(PASSWORD, &out, &dir.0, &format!("{args:?}"));
        }
        assert!(rally.ledger().is_empty());
    }
}

/// Every security token Rally handed out, from the simulator's request log.
fn tokens_sent(rally: &RallySim) -> Vec<String> {
    let mut tokens: Vec<String> = rally
        .requests()
        .into_iter()
        .flat_map(|r| r.query)
        .filter(|(k, _)| k == "key")
        .map(|(_, v)| v)
        .collect();
    tokens.sort();
    tokens.dedup();
    tokens
}

#[test]
fn basic_auth_secrets_reach_no_output_and_no_stored_file() {
    let rally = RallySim::start();
    rally.add_test_case("TC1", "Logs in", None);
    rally.add_test_case("TC2", "Rejects a bad password", None);
    let s = rally.seeded().clone();
    let dir = temp_dir("basic");
    let config = config(&dir.0, &rally, None);
    std::fs::write(dir.0.join("junit.xml"), REPORT).unwrap();
    let publish = |extra: &[&str]| {
        let mut args = vec!["publish", "--target", "rally", "--config"];
        args.push(config.to_str().unwrap());
        args.extend(["--outbox", "outbox.sqlite3", "--format", "json"]);
        args.extend(extra);
        run(tmbridge(&dir.0, &args)
            .env("RALLY_USERNAME", &s.username)
            .env("RALLY_PASSWORD", &s.password))
    };
    let basic = base64_pair(&s.username, &s.password);

    // A publish that works: results are created with the token on every write.
    let out = publish(&["junit.xml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(rally.created("TestCaseResult").len(), 2);
    // A publish whose writes lose their connection.
    std::fs::write(dir.0.join("again.xml"), REPORT.replace("web", "web2")).unwrap();
    rally.faults().add(
        tmbridge_simulators::FaultKind::Drop,
        tmbridge_simulators::Match::method("POST"),
        1000,
    );
    let failed = publish(&["--max-attempts", "2", "again.xml"]);
    assert_ne!(failed.status.code(), Some(0));
    let tokens = tokens_sent(&rally);
    assert!(
        !tokens.is_empty(),
        "basic auth sends the security token as key="
    );
    for (name, out) in [("publish", &out), ("failed publish", &failed)] {
        for secret in tokens.iter().chain([&s.password, &basic]) {
            assert_hidden(secret, out, &dir.0, name);
        }
    }
    // The journal still says what was sent, with the token masked.
    assert!(contains(&stored_bytes(&dir.0), "key=***"));
}

fn base64_pair(user: &str, password: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

#[test]
fn a_dry_run_with_user_and_password_shows_the_basic_auth_flow() {
    let rally = RallySim::start();
    let dir = temp_dir("dry-basic");
    let config = config(&dir.0, &rally, None);
    std::fs::write(dir.0.join("junit.xml"), REPORT).unwrap();
    let out = run(tmbridge(
        &dir.0,
        &[
            "publish",
            "--target",
            "rally",
            "--config",
            config.to_str().unwrap(),
            "--dry-run",
            "junit.xml",
        ],
    )
    .env("RALLY_USERNAME", "tester@example.com")
    .env("RALLY_PASSWORD", PASSWORD));
    let shown = text(&out.stdout);
    assert!(
        out.status.success() || out.status.code() == Some(1),
        "{}",
        text(&out.stderr)
    );
    assert!(shown.contains("/security/authorize"), "{shown}");
    assert!(shown.contains("Authorization: Basic ***"), "{shown}");
    assert!(!shown.contains("ZSESSIONID"), "{shown}");
    let creates: Vec<&str> = shown
        .lines()
        .filter(|l| l.starts_with("POST ") && (l.contains("/create") || l.contains("/batch")))
        .collect();
    assert!(!creates.is_empty(), "{shown}");
    assert!(creates.iter().all(|l| l.contains("key=***")), "{creates:?}");
    assert_hidden(PASSWORD, &out, &dir.0, "dry run");
    assert!(rally.requests().is_empty(), "a dry run sends nothing");

    // With an API key it is the ZSESSIONID header, and no security token.
    let out = run(tmbridge(
        &dir.0,
        &[
            "publish",
            "--target",
            "rally",
            "--config",
            config.to_str().unwrap(),
            "--dry-run",
            "junit.xml",
        ],
    )
    .env("SECRETS_RALLY_KEY", PASSWORD));
    let shown = text(&out.stdout);
    assert!(shown.contains("ZSESSIONID: ***"), "{shown}");
    assert!(!shown.contains("/security/authorize"), "{shown}");
    assert_hidden(PASSWORD, &out, &dir.0, "dry run with a key");
}

#[test]
fn a_refused_api_key_exits_2_with_a_clear_message() {
    let rally = RallySim::start();
    rally.add_test_case("TC1", "Logs in", None);
    let dir = temp_dir("wrong-key");
    let config = config(&dir.0, &rally, None);
    std::fs::write(dir.0.join("junit.xml"), REPORT).unwrap();
    let out = run(tmbridge(
        &dir.0,
        &[
            "publish",
            "--target",
            "rally",
            "--config",
            config.to_str().unwrap(),
            "--outbox",
            "o.sqlite3",
            "junit.xml",
        ],
    )
    .env("SECRETS_RALLY_KEY", "_not-the-key"));
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("refused the credentials"), "{stderr}");
    assert!(stderr.contains("rally.api_key_env"), "{stderr}");
    assert_hidden("_not-the-key", &out, &dir.0, "wrong key");
    assert!(rally.ledger().is_empty());

    // A good key in a workspace its user may not use: 403.
    let s = rally.seeded();
    let forbidden = dir.0.join("forbidden.toml");
    let elsewhere = std::fs::read_to_string(&config)
        .unwrap()
        .replace(&s.workspace, &s.other_workspace);
    std::fs::write(&forbidden, elsewhere).unwrap();
    let out = run(tmbridge(
        &dir.0,
        &[
            "publish",
            "--target",
            "rally",
            "--config",
            forbidden.to_str().unwrap(),
            "--outbox",
            "o.sqlite3",
            "junit.xml",
        ],
    )
    .env("SECRETS_RALLY_KEY", rally.api_key()));
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{stderr}\n{}",
        text(&out.stdout)
    );
    assert!(stderr.contains("refused the credentials"), "{stderr}");
    assert!(rally.ledger().is_empty());
}

#[test]
fn a_missing_file_and_a_pattern_matching_nothing_are_both_usage_errors() {
    let rally = RallySim::start();
    let dir = temp_dir("inputs");
    let config = config(&dir.0, &rally, None);
    let config = config.to_str().unwrap();
    std::fs::write(dir.0.join("junit.xml"), REPORT).unwrap();
    let commands: [&[&str]; 3] = [
        &["parse"],
        &["map", "--target", "rally", "--config", config],
        &[
            "publish",
            "--target",
            "rally",
            "--config",
            config,
            "--dry-run",
        ],
    ];
    for command in commands {
        for (wrong, says) in [
            ("missing.xml", "no such file"),
            ("reports/*.xml", "no file matches"),
            (".", "is a folder"),
        ] {
            let mut args = command.to_vec();
            args.extend(["junit.xml", wrong]);
            let out = run(&mut tmbridge(&dir.0, &args));
            let stderr = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
            assert!(
                stderr.contains(says) && stderr.contains(wrong),
                "{args:?}: {stderr}"
            );
        }
    }
}

#[test]
fn configuration_files_are_never_echoed_raw() {
    let rally = RallySim::start();
    let dir = temp_dir("binary");
    std::fs::write(dir.0.join("junit.xml"), REPORT).unwrap();
    let escape = "\x1b]0;owned\x07\x1b[2J";
    let files: [(&str, Vec<u8>); 4] = [
        (
            "binary.toml",
            b"\x7fELF\x02\x01\x01\x00\x00\x00\x1b[2J\x9b\xff".to_vec(),
        ),
        (
            "escapes.toml",
            format!("[rally]\nurl = {escape}\n").into_bytes(),
        ),
        (
            "key.toml",
            format!("[rally]\n\"{escape}\" = 1\n").into_bytes(),
        ),
        (
            "key.json",
            format!("{{\"rally\": {{\"{escape}\": 1}}}}").into_bytes(),
        ),
    ];
    for (name, bytes) in files {
        let path = dir.0.join(name);
        std::fs::write(&path, &bytes).unwrap();
        let path = path.to_str().unwrap();
        let commands: [&[&str]; 4] = [
            &[
                "publish",
                "--target",
                "rally",
                "--config",
                path,
                "--dry-run",
                "junit.xml",
            ],
            &["map", "--target", "rally", "--config", path, "junit.xml"],
            &[
                "serve",
                "--config",
                path,
                "--gitlab-url",
                "http://127.0.0.1:9",
            ],
            &[
                "autofill",
                "--schema",
                path,
                "--settings",
                path,
                "--run",
                path,
            ],
        ];
        for args in commands {
            let out = run(&mut tmbridge(&dir.0, args));
            let stderr = text(&out.stderr);
            assert_ne!(out.status.code(), Some(0), "{args:?}");
            assert!(!stderr.is_empty(), "{args:?}");
            let raw = stderr
                .chars()
                .find(|c| c.is_control() && *c != '\n' || *c == '\u{FFFD}');
            assert_eq!(raw, None, "{name} {args:?} echoed raw bytes: {stderr:?}");
            assert!(
                stderr.lines().all(|l| l.chars().count() <= 1000),
                "{stderr}"
            );
        }
    }
    drop(rally);
}

#[test]
fn a_query_with_control_characters_is_refused_at_its_position_and_not_echoed() {
    use std::io::Write;
    let dir = temp_dir("query");
    for action in ["check", "normalize"] {
        for (query, column) in [
            ("(Name = \"inv\u{202E}gnp.exe\")", 13),
            ("(Name = \"a\0b\")", 11),
            ("(Name = \"a\u{1b}[2Jb\")", 11),
        ] {
            // Standard input: a command line cannot carry NUL.
            let mut child = tmbridge(&dir.0, &["query", action, "-"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(query.as_bytes())
                .unwrap();
            let out = child.wait_with_output().unwrap();
            let shown = format!("{}{}", text(&out.stdout), text(&out.stderr));
            assert_eq!(out.status.code(), Some(1), "{action}: {shown}");
            assert!(shown.contains("rally_query.control_character"), "{shown}");
            assert!(shown.contains(&format!("column {column}:")), "{shown}");
            let raw = shown
                .chars()
                .find(|c| tmbridge_core::controls::is_forbidden(*c));
            assert_eq!(raw, None, "{action} echoed {shown:?}");
        }
    }
}
