//! What publishing to qTest needs beyond the shared outbox flow: its session kind
//! and its token, read from the environment and never printed.

use super::UsageError;
use anyhow::Result;
use tmbridge_core::config::Config;
use tmbridge_core::session::Secrets;

/// The session kind publish drives for qTest.
pub const KIND: &str = "qtest.publish";

/// Read when the variable `qtest.token_env` names is not set.
pub const TOKEN_ENV: &str = "TMBRIDGE_QTEST_TOKEN";

/// The bearer token: from the variable `qtest.token_env` names, else [`TOKEN_ENV`].
pub fn token_from_env(config: &Config) -> Result<String> {
    let env = |name: &str| {
        std::env::var(name)
            .ok()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let named = &config.qtest.token_env;
    env(named).or_else(|| env(TOKEN_ENV)).ok_or_else(|| {
        UsageError(format!(
            "no qTest token: set {TOKEN_ENV} (or the variable qtest.token_env names, {named}) to a qTest API token (qTest Manager: your name, top right > API & SDK)"
        ))
        .into()
    })
}

/// The session API's secrets: the token as `api_key`.
pub fn secrets_from_env(config: &Config) -> Result<Secrets> {
    Ok(Secrets {
        api_key: Some(token_from_env(config)?),
        ..Secrets::default()
    })
}

/// A dry run shows the bearer header with a placeholder, never the token.
pub fn dry_run_secrets() -> Secrets {
    Secrets {
        api_key: Some("(dry-run)".into()),
        ..Secrets::default()
    }
}
