//! What `map`, `publish` and `serve` start a run from: the configuration file, and
//! the run values taken from GitLab CI's variables and `--var KEY=VALUE`.

use crate::config_text::{shown, shown_path, text_of, toml_error};
use std::path::Path;
use tmbridge_core::config::{Config, RunContext};

/// Reads a configuration file: TOML, or JSON when its name ends in `.json`.
/// The error names the file.
pub fn load_config(path: &Path) -> Result<Config, String> {
    let mut config = load_config_raw(path)?;
    // The active Rally connection; a bad one is reported by `validate`.
    if let Ok(rally) = config.rally.resolved() {
        config.rally = rally;
    }
    Ok(config)
}

/// The configuration as written, every Rally connection as configured.
pub fn load_config_raw(path: &Path) -> Result<Config, String> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", shown_path(path)))?;
    // Errors never echo the file: it may be binary, or hold terminal escapes.
    let text = text_of(path, &bytes)?;
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        return Config::from_json(text.as_bytes())
            .map_err(|e| format!("{}: {}", shown_path(path), shown(&e.to_string())));
    }
    toml::from_str::<Config>(text).map_err(|e| toml_error(path, text, &e))
}

/// The run context at `now`: GitLab CI's `CI_*` variables (empty ones count as
/// unset), then each `--var KEY=VALUE` on top — a known key overrides a run value,
/// any other key becomes a `{var.NAME}` value.
pub fn from_ci_and_vars(now: String, vars: &[String]) -> Result<RunContext, String> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let mut ctx = RunContext {
        now,
        pipeline_id: env("CI_PIPELINE_ID"),
        pipeline_url: env("CI_PIPELINE_URL"),
        job_id: env("CI_JOB_ID"),
        job_name: env("CI_JOB_NAME"),
        job_url: env("CI_JOB_URL"),
        ref_name: env("CI_COMMIT_REF_NAME"),
        sha: env("CI_COMMIT_SHA"),
        project_url: env("CI_PROJECT_URL"),
        ..RunContext::default()
    };
    for var in vars {
        let Some((key, value)) = var.split_once('=') else {
            return Err(format!("--var {var:?}: write it as KEY=VALUE"));
        };
        let v = Some(value.to_string());
        match key.trim() {
            "pipeline_id" => ctx.pipeline_id = v,
            "pipeline_url" => ctx.pipeline_url = v,
            "job_id" => ctx.job_id = v,
            "job_name" => ctx.job_name = v,
            "job_url" => ctx.job_url = v,
            "ref" => ctx.ref_name = v,
            "sha" => ctx.sha = v,
            "project_url" => ctx.project_url = v,
            "report_url" => ctx.report_url = v,
            "sprint" | "N" => ctx.sprint = v,
            "" => return Err(format!("--var {var:?}: the key is empty")),
            other => {
                ctx.vars.insert(other.to_string(), value.to_string());
            }
        }
    }
    Ok(ctx)
}

#[cfg(test)]
mod tests {
    use super::from_ci_and_vars;

    fn vars(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn known_keys_override_run_values_and_others_become_vars() {
        let ctx = from_ci_and_vars(
            "2024-05-01T10:00:00Z".into(),
            &vars(&["sprint=14", "ref=main", " team =a=b", "job_id="]),
        )
        .unwrap();
        assert_eq!(ctx.now, "2024-05-01T10:00:00Z");
        assert_eq!(ctx.sprint.as_deref(), Some("14"));
        assert_eq!(ctx.ref_name.as_deref(), Some("main"));
        // The value keeps everything after the first '=', the key is trimmed.
        assert_eq!(ctx.vars.get("team").map(String::as_str), Some("a=b"));
        // An explicit empty value still overrides CI_JOB_ID.
        assert_eq!(ctx.job_id.as_deref(), Some(""));
    }

    #[test]
    fn a_var_without_equals_or_key_is_refused() {
        let err = from_ci_and_vars(String::new(), &vars(&["sprint"])).unwrap_err();
        assert_eq!(err, "--var \"sprint\": write it as KEY=VALUE");
        let err = from_ci_and_vars(String::new(), &vars(&[" =1"])).unwrap_err();
        assert_eq!(err, "--var \" =1\": the key is empty");
    }
}
