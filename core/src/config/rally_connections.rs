//! Several Rally connections, one active: `[rally.connections.NAME]` tables hold
//! what differs between them (URL, the variable of the API key, workspace, project)
//! and `rally.active` names the one every Rally session uses. The rest of `[rally]`
//! is shared.
//!
//! ```toml
//! [rally]
//! active = "prod"
//! [rally.connections.prod]
//! url = "https://rally1.rallydev.com"
//! api_key_env = "RALLY_PROD_KEY"
//! workspace = "/workspace/1"
//! project = "/project/2"
//! [rally.connections.sandbox]
//! url = "https://sandbox.rallydev.com"
//! api_key_env = "RALLY_SANDBOX_KEY"
//! ```
//!
//! A secret is never part of a connection: each names the environment variable
//! that holds its key, so that key goes only to that connection's URL.

use super::invalid;
use super::urls::check_url;
use crate::error::Result;
use serde::{Deserialize, Serialize};

/// One Rally connection: what it overrides in `[rally]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RallyConnection {
    pub url: Option<String>,
    /// The environment variable that holds this connection's API key.
    pub api_key_env: Option<String>,
    pub workspace: Option<String>,
    pub project: Option<String>,
}

impl RallyConnection {
    /// Checks one connection: URL without credentials, a key variable, refs.
    pub fn validate(&self, name: &str) -> Result<()> {
        let key = |field: &str| format!("rally.connections.{name}.{field}");
        if name.trim().is_empty() {
            return Err(invalid(
                "rally.connections",
                "a connection has an empty name",
            ));
        }
        if let Some(url) = &self.url {
            check_url(
                &key("url"),
                url,
                "put the API key in the environment variable named by this connection's api_key_env",
            )?;
        }
        if self
            .api_key_env
            .as_deref()
            .is_some_and(|v| v.trim().is_empty())
        {
            return Err(invalid(
                &key("api_key_env"),
                "name the environment variable that holds the API key",
            ));
        }
        for (field, value) in [("workspace", &self.workspace), ("project", &self.project)] {
            if let Some(v) = value
                && !v.contains('/')
            {
                return Err(invalid(
                    &key(field),
                    format!("{v:?} is not a ref; give it like /{field}/12345"),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn config(toml_json: &str) -> Config {
        Config::from_json(toml_json.as_bytes()).unwrap()
    }

    #[test]
    fn the_active_connection_overrides_its_fields() {
        let c = config(
            r#"{"rally": {"project": "/project/9", "active": "b", "connections": {
                "a": {"url": "https://a.example.com", "api_key_env": "KEY_A"},
                "b": {"url": "https://b.example.com", "api_key_env": "KEY_B", "workspace": "/workspace/2"}}}}"#,
        );
        c.validate(None).unwrap();
        let r = c.rally.resolved().unwrap();
        assert_eq!(r.url.as_deref(), Some("https://b.example.com"));
        assert_eq!(r.api_key_env, "KEY_B");
        assert_eq!(r.workspace.as_deref(), Some("/workspace/2"));
        assert_eq!(r.project.as_deref(), Some("/project/9"));
        assert_eq!(r.resolved().unwrap(), r);
        let a = c.rally.with_connection("a").unwrap();
        assert_eq!(a.api_key_env, "KEY_A");
        assert_eq!(c.rally.connection_names(), ["a", "b"]);
    }

    #[test]
    fn unknown_or_unnamed_active_connections_are_errors() {
        let c = config(r#"{"rally": {"active": "c", "connections": {"a": {}, "b": {}}}}"#);
        let e = c.validate(None).unwrap_err();
        assert_eq!(e.code, "config.unknown_connection");
        assert!(e.hint.unwrap().contains("a, b"));
        let c = config(r#"{"rally": {"connections": {"a": {}, "b": {}}}}"#);
        assert!(
            c.validate(None)
                .unwrap_err()
                .message
                .contains("rally.active")
        );
        let c =
            config(r#"{"rally": {"connections": {"a": {"url": "https://u:p@x.example.com"}}}}"#);
        assert_eq!(
            c.validate(None).unwrap_err().code,
            "config.credentials_in_url"
        );
    }

    #[test]
    fn without_connections_nothing_changes() {
        let c = Config::default();
        assert_eq!(c.rally.resolved().unwrap(), c.rally);
    }
}
