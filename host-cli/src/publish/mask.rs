//! Secrets never reach output: API keys, basic auth, cookies and the security token
//! (`key=` in URLs) are masked wherever a request is shown or stored.

use tmbridge_core::sync::HttpRequest;

const SECRET_HEADERS: [&str; 3] = ["zsessionid", "authorization", "cookie"];
pub const MASK: &str = "***";

/// The request as it may be shown: secret headers and the `key` parameter masked.
pub fn masked(req: &HttpRequest) -> HttpRequest {
    let mut out = req.clone();
    for (name, value) in &mut out.headers {
        if SECRET_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            *value = match value.split_once(' ') {
                // Keep the scheme: "Basic ***".
                Some((scheme, _)) if name.eq_ignore_ascii_case("authorization") => {
                    format!("{scheme} {MASK}")
                }
                _ => MASK.to_string(),
            };
        }
    }
    out.url = masked_url(&req.url);
    out
}

/// `...?a=1&key=SECRET` → `...?a=1&key=***`.
pub fn masked_url(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_string();
    };
    let params: Vec<String> = query
        .split('&')
        .map(|p| match p.split_once('=') {
            Some((k, _)) if k.eq_ignore_ascii_case("key") => format!("{k}={MASK}"),
            _ => p.to_string(),
        })
        .collect();
    format!("{base}?{}", params.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tmbridge_core::sync::Method;

    #[test]
    fn secrets_are_masked() {
        let req = HttpRequest {
            id: 1,
            method: Method::Post,
            url: "https://r/slm/webservice/v2.0/testcaseresult/create?fetch=ObjectID&key=abc123"
                .into(),
            headers: vec![
                ("ZSESSIONID".into(), "_secretkey".into()),
                ("Authorization".into(), "Basic dXNlcjpwdw==".into()),
                ("Cookie".into(), "JSESSIONID=x".into()),
                ("Accept".into(), "application/json".into()),
            ],
            body: Some("{}".into()),
        };
        let m = masked(&req);
        let text = format!("{m:?}");
        for secret in ["_secretkey", "dXNlcjpwdw==", "JSESSIONID=x", "abc123"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert_eq!(m.header("Authorization"), Some("Basic ***"));
        assert_eq!(m.header("Accept"), Some("application/json"));
        assert!(m.url.ends_with("fetch=ObjectID&key=***"));
    }
}
