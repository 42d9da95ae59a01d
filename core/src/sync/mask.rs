//! Requests as a dry run prints them and a journal stores them: the masking rules of
//! [`crate::mask`] applied to a request's headers and URL.

pub use crate::mask::*;

use super::protocol::HttpRequest;

/// The request as it may be shown or stored: secret headers and URL parts masked.
pub fn mask_request(req: &HttpRequest) -> HttpRequest {
    let mut out = req.clone();
    for (name, value) in &mut out.headers {
        if is_secret_header(name) {
            *value = match value.split_once(' ') {
                // Keep the scheme, so a reader sees which flow is used: "Basic ***".
                Some((scheme, _)) if name.eq_ignore_ascii_case("authorization") => {
                    format!("{scheme} {MASK}")
                }
                _ => MASK.to_string(),
            };
        }
    }
    out.url = mask_text(&req.url);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::protocol::Method;

    #[test]
    fn headers_and_the_security_token_are_masked() {
        let req = HttpRequest {
            id: 1,
            method: Method::Post,
            url: "https://r/slm/webservice/v2.0/testcaseresult/create?fetch=ObjectID&key=abc123"
                .into(),
            headers: vec![
                ("ZSESSIONID".into(), "_secretkey".into()),
                ("Authorization".into(), "Basic dXNlcjpwdw==".into()),
                ("Cookie".into(), "JSESSIONID=x".into()),
                ("PRIVATE-TOKEN".into(), "glpat-x".into()),
                ("Accept".into(), "application/json".into()),
            ],
            body: Some("{}".into()),
            body_base64: None,
        };
        let m = mask_request(&req);
        let text = format!("{m:?}");
        for secret in [
            "_secretkey",
            "dXNlcjpwdw==",
            "JSESSIONID=x",
            "abc123",
            "glpat-x",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert_eq!(m.header("Authorization"), Some("Basic ***"));
        assert_eq!(m.header("Accept"), Some("application/json"));
        assert!(m.url.ends_with("fetch=ObjectID&key=***"), "{}", m.url);
    }
}
