//! The one rule for secrets in what a host shows or stores: every request printed by a
//! dry run, every error message, every journal line. Hosts call these functions
//! instead of keeping their own lists, so a secret masked in one runtime is masked in
//! all of them.
//!
//! Masked: the user name and password of a URL (`https://***@host`), query
//! parameters that carry secrets (`key=`, `api_key=`, `token=`, `private_token=`,
//! `zsessionid=`, `password=` and the like), and headers that carry credentials
//! (`ZSESSIONID`, `Authorization` keeps its scheme: `Basic ***`; see
//! `sync::mask::mask_request`).

/// What a secret is replaced with.
pub const MASK: &str = "***";

/// Query parameters whose value is a secret, compared without case.
const SECRET_PARAMS: [&str; 19] = [
    "key",
    "apikey",
    "api_key",
    "token",
    "access_token",
    "private_token",
    "job_token",
    "auth_token",
    "zsessionid",
    "sessionid",
    "jsessionid",
    "password",
    "passwd",
    "pwd",
    "secret",
    "client_secret",
    "signature",
    "x-amz-signature",
    "x-amz-credential",
];

/// Headers whose value is a secret, compared without case.
const SECRET_HEADERS: [&str; 8] = [
    "zsessionid",
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "private-token",
    "job-token",
    "x-gitlab-token",
];

/// True when a query parameter of this name carries a secret.
pub fn is_secret_param(name: &str) -> bool {
    let lower = name.trim().to_ascii_lowercase();
    SECRET_PARAMS.contains(&lower.as_str())
        || lower.ends_with("_token")
        || lower.ends_with("_secret")
        || lower.ends_with("password")
}

/// True when a header of this name carries a secret.
pub fn is_secret_header(name: &str) -> bool {
    SECRET_HEADERS.contains(&name.trim().to_ascii_lowercase().as_str())
}

/// A URL as it may be shown: `https://user:pw@host/p?a=1&key=abc` becomes
/// `https://***@host/p?a=1&key=***`.
pub fn mask_url(url: &str) -> String {
    mask_text(url)
}

/// Free text (an error message, a JSON document) with every URL credential and
/// secret query parameter in it masked. Text without secrets comes back unchanged.
pub fn mask_text(text: &str) -> String {
    mask_params(&mask_userinfo(text))
}

/// Where the part of a URL or parameter value ends in running text.
fn ends_value(c: char) -> bool {
    c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`' | '\\' | ')' | ']' | '}')
}

/// `scheme://user:pw@host` → `scheme://***@host`, wherever it is in `text`.
fn mask_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let authority_end = after
            .find(|c: char| ends_value(c) || matches!(c, '/' | '?' | '#'))
            .unwrap_or(after.len());
        let authority = &after[..authority_end];
        match authority.rfind('@') {
            Some(userinfo_end) => {
                out.push_str(MASK);
                out.push_str(&authority[userinfo_end..]);
            }
            None => out.push_str(authority),
        }
        rest = &after[authority_end..];
    }
    out.push_str(rest);
    out
}

/// `?a=1&key=abc` → `?a=1&key=***`, wherever it is in `text` (`&amp;` too).
fn mask_params(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        out.push(c);
        if c != '?' && c != '&' && c != ';' {
            continue;
        }
        let after = &text[i + c.len_utf8()..];
        let name_len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
            .unwrap_or(after.len());
        let name = &after[..name_len];
        if !after[name_len..].starts_with('=') || !is_secret_param(name) {
            continue;
        }
        let value = &after[name_len + 1..];
        let value_len = value
            .find(|c: char| ends_value(c) || matches!(c, '&' | '#' | ';'))
            .unwrap_or(value.len());
        out.push_str(name);
        out.push('=');
        if value_len > 0 {
            out.push_str(MASK);
        }
        let skip_to = i + c.len_utf8() + name_len + 1 + value_len;
        while chars.peek().is_some_and(|(j, _)| *j < skip_to) {
            chars.next();
        }
    }
    out
}

/// Whether a URL (or a URL template) names credentials: a user name or password, or
/// a secret query parameter. Gives what it found, for the message, never the value.
pub fn credentials_in_url(url: &str) -> Option<String> {
    if mask_userinfo(url) != url {
        return Some("a user name or password (user:password@)".to_string());
    }
    let masked = mask_params(url);
    if masked != url {
        let name = secret_param_names(url)
            .into_iter()
            .next()
            .unwrap_or_default();
        return Some(format!("the secret query parameter `{name}=`"));
    }
    None
}

fn secret_param_names(url: &str) -> Vec<String> {
    let Some((_, query)) = url.split_once('?') else {
        return Vec::new();
    };
    query
        .split(['&', '#'])
        .filter_map(|p| p.split_once('='))
        .map(|(name, _)| name.trim_start_matches("amp;"))
        .filter(|name| is_secret_param(name))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_credentials_wherever_they_are() {
        let cases = [
            (
                "https://me:pa55@rally.example.com/slm",
                "https://***@rally.example.com/slm",
            ),
            (
                "could not reach http://u@h:8080/x?query=(a)&api_key=s3cr3t&b=2: refused",
                "could not reach http://***@h:8080/x?query=(a)&api_key=***&b=2: refused",
            ),
            (
                r#"{"url":"https://h/p?private_token=glpat-1","n":1}"#,
                r#"{"url":"https://h/p?private_token=***","n":1}"#,
            ),
            (
                "<a href=\"https://h/?x=1&amp;token=t\">",
                "<a href=\"https://h/?x=1&amp;token=***\">",
            ),
            (
                "GET https://h/a?ZSESSIONID=z#frag",
                "GET https://h/a?ZSESSIONID=***#frag",
            ),
        ];
        for (text, want) in cases {
            assert_eq!(mask_text(text), want);
        }
    }

    #[test]
    fn text_without_secrets_is_unchanged() {
        for text in [
            "https://rally1.rallydev.com/slm/webservice/v2.0/testcase?query=(FormattedID%20=%20TC1)&fetch=true",
            "a@b.c wrote: keys=1, monkey=2 & key",
            "mailto:someone@example.com",
            "?key=",
            "naïve €€ text :// @",
        ] {
            assert_eq!(mask_text(text), text);
        }
    }

    #[test]
    fn credentials_in_urls_are_found_without_echoing_them() {
        let found = credentials_in_url("https://me:pw@rally1.rallydev.com").unwrap();
        assert!(!found.contains("pw"), "{found}");
        let found = credentials_in_url("https://h/x?a=1&apikey=zz").unwrap();
        assert!(found.contains("apikey") && !found.contains("zz"), "{found}");
        assert_eq!(credentials_in_url("https://rally1.rallydev.com"), None);
        assert_eq!(
            credentials_in_url("{job_url}/artifacts/file/{path}?inline=false"),
            None
        );
    }
}
