//! The GitLab address `serve` sends its API token to: checked once at the start
//! (http(s), no credentials, no query, https unless on loopback). The requests
//! themselves are the core's `gitlab.reports` session, which sends the token to
//! this address only.

use std::net::IpAddr;
use tmbridge_core::sync::mask::{credentials_in_url, mask_url};
use ureq::http::Uri;

/// Scheme, host and port, compared to decide where the token may go.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    fn of(url: &str) -> Option<Origin> {
        let uri: Uri = url.parse().ok()?;
        let scheme = uri.scheme_str()?.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            _ => return None,
        };
        Some(Origin {
            host: uri.host()?.to_ascii_lowercase(),
            port: uri.port_u16().unwrap_or(default_port),
            scheme,
        })
    }

    fn is_loopback(&self) -> bool {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }
}

/// Checks the GitLab address the user gave: an http(s) URL without credentials or
/// query, https unless it is a loopback address (plain http would carry the token in
/// clear text). Returns it without a trailing `/`.
pub fn check_base_url(url: &str) -> Result<String, String> {
    let url = url.trim().trim_end_matches('/');
    let shown = tmbridge_core::controls::printable(&mask_url(url), 200);
    if let Some(found) = credentials_in_url(url) {
        return Err(format!(
            "--gitlab-url holds {found}; give the address only (https://gitlab.example.com) and the API token in the variable named by --gitlab-token-env"
        ));
    }
    let origin = Origin::of(url).ok_or_else(|| {
        format!("--gitlab-url {shown:?} is not an http(s) address like https://gitlab.example.com")
    })?;
    if url.contains(['?', '#']) {
        return Err(format!(
            "--gitlab-url {shown:?} has a query or fragment; give the address only, like https://gitlab.example.com"
        ));
    }
    if origin.scheme == "http" && !origin.is_loopback() {
        return Err(format!(
            "--gitlab-url {shown:?} uses plain http, which would send the GitLab API token in clear text; use https:// (http is accepted only for loopback addresses)"
        ));
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_safe_gitlab_address_is_accepted() {
        for ok in [
            "https://gitlab.example.com/",
            "https://gitlab.example.com:8443/sub",
            "http://127.0.0.1:8080",
            "http://localhost",
            "http://[::1]:9000",
        ] {
            assert!(check_base_url(ok).is_ok(), "{ok}: {:?}", check_base_url(ok));
        }
        for (bad, why) in [
            ("http://gitlab.example.com", "clear text"),
            (
                "https://me:Pa55word@gitlab.example.com",
                "user name or password",
            ),
            (
                "https://gitlab.example.com/?private_token=Pa55word",
                "private_token",
            ),
            ("gitlab.example.com", "not an http(s) address"),
            ("ftp://gitlab.example.com", "not an http(s) address"),
            ("https://gitlab.example.com/#x", "query or fragment"),
        ] {
            let e = check_base_url(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
            assert!(!e.contains("Pa55word"), "{e}");
        }
        assert_eq!(
            check_base_url("https://gitlab.example.com/").unwrap(),
            "https://gitlab.example.com"
        );
    }
}
