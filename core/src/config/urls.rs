//! Configured URLs carry no credentials. A `user:password@` or a `?key=` in a URL
//! ends up in every log line, dry run, error message and stored run that shows the
//! URL, so tmbridge refuses it and says where the secret goes instead.

use super::Config;
use crate::error::{Error, Result};
use crate::mask::credentials_in_url;

/// The error code of a URL that holds a user name, password or secret parameter.
pub const CREDENTIALS_IN_URL: &str = "config.credentials_in_url";

/// Checks every URL of the configuration (server addresses and link templates).
pub fn check(config: &Config) -> Result<()> {
    let rally_secret = format!(
        "put the API key in the environment variable named by rally.api_key_env ({}), or the user name and password in RALLY_USERNAME and RALLY_PASSWORD",
        config.rally.api_key_env
    );
    let qtest_secret = format!(
        "put the token in the environment variable named by qtest.token_env ({})",
        config.qtest.token_env
    );
    let testrail_secret = format!(
        "put the user in the environment variable named by testrail.user_env ({}) and the API key in the one named by testrail.api_key_env ({})",
        config.testrail.user_env, config.testrail.api_key_env
    );
    let links = "a link written into a result is readable by everyone who can read the result: link to a page that asks for its own sign-in";
    let urls = [
        (
            "rally.url",
            config.rally.url.as_deref(),
            rally_secret.as_str(),
        ),
        (
            "rally.artifact_url",
            config.rally.artifact_url.as_deref(),
            links,
        ),
        (
            "qtest.url",
            config.qtest.url.as_deref(),
            qtest_secret.as_str(),
        ),
        (
            "testrail.url",
            config.testrail.url.as_deref(),
            testrail_secret.as_str(),
        ),
    ];
    for (key, url, hint) in urls {
        if let Some(url) = url {
            check_url(key, url, hint)?;
        }
    }
    Ok(())
}

/// Refuses a URL that holds credentials. `hint` says where they belong instead. The
/// message names what was found, never its value.
pub fn check_url(key: &str, url: &str, hint: &str) -> Result<()> {
    match credentials_in_url(url) {
        None => Ok(()),
        Some(found) => Err(Error::new(
            CREDENTIALS_IN_URL,
            format!(
                "`{key}` holds {found}; tmbridge takes no credentials in URLs, because URLs are shown in dry runs, messages and stored runs"
            ),
        )
        .with_hint(format!("remove it from `{key}` and {hint}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> Config {
        Config::from_json(json.as_bytes()).unwrap()
    }

    #[test]
    fn credentials_in_any_configured_url_are_refused_without_being_echoed() {
        let cases = [
            (
                r#"{"rally": {"url": "https://me:Pa55word@rally1.rallydev.com"}}"#,
                "rally.url",
                "RALLY_PASSWORD",
            ),
            (
                r#"{"rally": {"url": "https://apikeyonly@rally.example.com"}}"#,
                "rally.url",
                "rally.api_key_env",
            ),
            (
                r#"{"rally": {"url": "https://rally1.rallydev.com?key=Pa55word"}}"#,
                "rally.url",
                "RALLY_USERNAME",
            ),
            (
                r#"{"rally": {"artifact_url": "{job_url}/file/{path}?private_token=Pa55word"}}"#,
                "rally.artifact_url",
                "sign-in",
            ),
            (
                r#"{"qtest": {"url": "https://u:Pa55word@acme.qtestnet.com"}}"#,
                "qtest.url",
                "qtest.token_env",
            ),
            (
                r#"{"testrail": {"url": "https://acme.testrail.io/?api_key=Pa55word"}}"#,
                "testrail.url",
                "testrail.api_key_env",
            ),
        ];
        for (json, key, hint) in cases {
            let e = config(json).validate(None).unwrap_err();
            assert_eq!(e.code, CREDENTIALS_IN_URL, "{json}");
            let shown = e.to_string();
            assert!(shown.contains(key) && shown.contains(hint), "{shown}");
            assert!(!shown.contains("Pa55word"), "{shown}");
        }
    }

    #[test]
    fn plain_urls_pass() {
        let c = config(
            r#"{"rally": {"url": "https://rally1.rallydev.com", "artifact_url": "{job_url}/artifacts/file/{path}?inline=false"},
                "qtest": {"url": "https://acme.qtestnet.com"}, "testrail": {"url": "https://acme.testrail.io/"}}"#,
        );
        assert!(c.validate(None).is_ok());
    }
}
