//! Several Rally connections, one active: `tmbridge connect` checks each with its own
//! key, and every other command uses the active one, with only its key.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tmbridge_simulators::rally::RallySim;

fn write_config(dir: &Path, rally: &RallySim, active: &str) -> PathBuf {
    let text = format!(
        r#"[rally]
active = "{active}"

[rally.connections.prod]
url = "{url}"
api_key_env = "CONN_PROD_KEY"
workspace = "{ws}"
project = "{project}"

[rally.connections.sandbox]
url = "{url}"
api_key_env = "CONN_SANDBOX_KEY"
workspace = "{ws}"
"#,
        url = rally.url(),
        ws = rally.seeded().workspace,
        project = rally.seeded().project,
    );
    let path = dir.join(format!("tmbridge-{active}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

fn tmbridge(args: &[&str], config: &Path, rally: &RallySim) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tmbridge"))
        .args(args)
        .arg("--config")
        .arg(config)
        .env("CONN_PROD_KEY", rally.api_key())
        .env("CONN_SANDBOX_KEY", "_not-a-key")
        .env_remove("RALLY_API_KEY")
        .env_remove("RALLY_USERNAME")
        .env_remove("RALLY_PASSWORD")
        .output()
        .unwrap()
}

#[test]
fn connect_checks_each_connection_and_commands_use_the_active_one() {
    let rally = RallySim::start();
    rally.add_user_story("US1", "Story 1", None);
    let dir = std::env::temp_dir().join(format!("tmbridge-connections-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let prod = write_config(&dir, &rally, "prod");

    let out = tmbridge(
        &["connect", "--target", "rally", "--format", "json"],
        &prod,
        &rally,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The sandbox key is refused: a credentials problem.
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(!stdout.contains(rally.api_key()) && !stdout.contains("_not-a-key"));
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let list = v["connections"].as_array().unwrap();
    let names: Vec<&str> = list
        .iter()
        .map(|c| c["connection"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["prod", "sandbox"]);
    assert_eq!(list[0]["active"], true);
    assert_eq!(
        list[0]["report"]["error"],
        serde_json::Value::Null,
        "{stdout}"
    );
    assert_eq!(list[0]["report"]["details"]["ok"], true, "{stdout}");
    assert_eq!(list[1]["active"], false);
    assert!(
        list[1]["report"]["error"]["code"]
            .as_str()
            .unwrap()
            .starts_with("rally.")
    );

    let table = tmbridge(&["connect", "--target", "rally"], &prod, &rally);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("connection prod (active)") && text.contains("connection sandbox"),
        "{text}"
    );

    // Other commands use the active connection and its key.
    let args = [
        "requirements",
        "import",
        "--target",
        "rally",
        "--format",
        "ndjson",
    ];
    let out = tmbridge(&args, &prod, &rally);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"US1\""));
    let sandbox = write_config(&dir, &rally, "sandbox");
    let out = tmbridge(&args, &sandbox, &rally);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // An active connection that is not there is named, with the ones that are.
    let missing = write_config(&dir, &rally, "staging");
    let out = tmbridge(&args, &missing, &rally);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("staging") && stderr.contains("prod, sandbox"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
