//! What a session signs in with: given by the host at start and again on resume,
//! never saved, never printed.

use crate::error::{Error, Result};
use serde::Deserialize;

/// The secrets of one session. Which ones a kind needs is the kind's business
/// (Rally: an API key, or a user name and password).
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "SessionSecrets")
)]
pub struct Secrets {
    pub api_key: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = |v: &Option<String>| if v.is_some() { "***" } else { "none" };
        write!(
            f,
            "Secrets {{ api_key: {}, username: {}, password: {} }}",
            shown(&self.api_key),
            self.username.as_deref().unwrap_or("none"),
            shown(&self.password)
        )
    }
}

impl Secrets {
    /// Reads `{"api_key": ...}` or `{"username": ..., "password": ...}`; an empty
    /// input means no secrets.
    pub fn from_json(bytes: &[u8]) -> Result<Secrets> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Secrets::default());
        }
        // serde's message could quote the secret's text: say only what is wrong.
        crate::json::from_slice(bytes).map_err(|e| {
            Error::new(
                "session.bad_secrets",
                format!(
                    "the secrets are not {{\"api_key\": ...}} or {{\"username\": ..., \"password\": ...}} (line {}, column {})",
                    e.line(),
                    e.column()
                ),
            )
        })
    }
}
