//! qTest Manager API v3 on the wire: the site URL, paths under `/api/v3`, and what
//! an answer means. Tokens are refused with OAuth2's `{"error", "error_description"}`
//! (as qTest's `/oauth/token` answers, recorded from real sites); other refusals carry
//! qTest's `Message` resource, `{"message": ...}` (qTest's swagger). A 404 that is not
//! JSON comes from something that is not qTest: a wrong site.

use crate::error::{Error, Result};
use crate::sync::protocol::HttpResponse;
use serde_json::Value;

/// Items asked per page: qTest's default page size for test runs and test logs.
pub const PAGE_SIZE: u64 = 100;

/// The site URL from `qtest.url`: `https://example.qtestnet.com`, with no path.
pub fn site(url: Option<&str>) -> Result<String> {
    let url = url
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .ok_or_else(|| {
            Error::new("config.missing_value", "`qtest.url` is not set")
                .with_hint("set it to your qTest Manager site, like https://example.qtestnet.com")
        })?;
    crate::config::urls::check_url(
        "qtest.url",
        url,
        "put the token in the environment variable named by qtest.token_env",
    )?;
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(Error::new(
            "config.invalid_value",
            format!("`qtest.url`: {url:?} is not an http(s) URL"),
        )
        .with_hint("like https://example.qtestnet.com"));
    }
    let url = url.trim_end_matches('/');
    // A URL copied from the browser or the API docs: keep the site only.
    let url = url.split("/api/").next().unwrap_or(url);
    let url = url.split("/p/").next().unwrap_or(url);
    Ok(url.to_string())
}

/// The project id from `qtest.project_id`.
pub fn project_id(value: Option<&str>) -> Result<u64> {
    let text = value.map(str::trim).unwrap_or_default();
    match text.parse::<u64>() {
        Ok(n) if n > 0 && n < (1 << 53) => Ok(n),
        _ if text.is_empty() => {
            Err(
                Error::new("config.missing_value", "`qtest.project_id` is not set").with_hint(
                    "the number in the project's URL: https://<site>/p/<project id>/portal/project",
                ),
            )
        }
        _ => Err(Error::new(
            "config.invalid_value",
            format!("`qtest.project_id`: {text:?} is not a qTest project id (a number)"),
        )),
    }
}

/// Percent-encodes a query value.
pub fn encode(text: &str) -> String {
    crate::sync::rally::wsapi::encode(text)
}

/// The start of a body on one line, for messages.
pub fn short(text: &str) -> String {
    crate::sync::rally::wsapi::short(text)
}

/// The `message` (or `error_description`) of an error body, else its start.
fn said(body: &str) -> String {
    let json: Option<Value> = crate::json::from_str(body).ok();
    json.as_ref()
        .and_then(|v| v.get("message").or_else(|| v.get("error_description")))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| short(body))
}

/// How to get a working token.
pub const TOKEN_HINT: &str = "make a token in qTest Manager (your name, top right > API & SDK) and put it in the environment variable named by qtest.token_env (TMBRIDGE_QTEST_TOKEN for the CLI)";

/// Reads an answer that is not a passing failure: the JSON of a 2xx, else an error
/// a person can act on.
pub fn read(response: &HttpResponse, what: &str, url: &str) -> Result<Value> {
    let status = response.status;
    let is_json = crate::json::from_str::<Value>(&response.body).is_ok();
    match status {
        200..=299 => {
            if response.body.trim().is_empty() {
                return Ok(Value::Null);
            }
            crate::json::from_str(&response.body).map_err(|_| {
                Error::new(
                    "qtest.not_api",
                    format!("{url} did not answer with JSON when asked to {what}: {}", short(&response.body)),
                )
                .with_hint("is qtest.url the qTest Manager site, like https://example.qtestnet.com? A proxy or login page may be answering")
            })
        }
        401 => {
            let text = said(&response.body);
            let expired = text.to_ascii_lowercase().contains("expired");
            Err(Error::new(
                if expired { "qtest.token_expired" } else { "qtest.unauthorized" },
                format!(
                    "qTest refused the token (HTTP 401{}) when asked to {what}: {text}",
                    if expired { ", expired" } else { "" }
                ),
            )
            .with_hint(TOKEN_HINT))
        }
        403 => Err(Error::new(
            "qtest.forbidden",
            format!("qTest answered 403 Forbidden when asked to {what}: {}", said(&response.body)),
        )
        .with_hint("the token's user needs a role in the project that may create test cases, runs and logs")),
        404 if !is_json => Err(Error::new(
            "qtest.wrong_site",
            format!("{url} is not a qTest Manager API (404 without a qTest answer) when asked to {what}"),
        )
        .with_hint("set qtest.url to the site, like https://example.qtestnet.com; tmbridge adds /api/v3")),
        404 => Err(Error::new(
            "qtest.not_found",
            format!("qTest found nothing when asked to {what}: {}", said(&response.body)),
        )),
        300..=399 => Err(Error::new(
            "qtest.redirect",
            format!(
                "{url} redirects to {} instead of answering",
                response.header("Location").unwrap_or("elsewhere")
            ),
        )
        .with_hint("use the https:// address of the qTest site in qtest.url")),
        _ => Err(Error::new(
            "qtest.refused",
            format!("qTest refused to {what} (HTTP {status}): {}", said(&response.body)),
        )),
    }
}

/// The items of a list answer: a JSON array, or qTest's list resource
/// (`{"page", "page_size", "total", "items"}`), with whether another page follows.
pub fn items(value: &Value, page: u64, what: &str) -> Result<(Vec<Value>, bool)> {
    if let Some(list) = value.as_array() {
        // Arrays say nothing of the total: an empty page ends the list.
        return Ok((list.clone(), !list.is_empty()));
    }
    let list = value.get("items").and_then(Value::as_array);
    let total = value.get("total").and_then(Value::as_u64);
    let size = value.get("page_size").and_then(Value::as_u64);
    match (list, total, size) {
        (Some(list), Some(total), Some(size)) if size > 0 => Ok((
            list.clone(),
            page.saturating_mul(size) < total && !list.is_empty(),
        )),
        _ => Err(Error::new(
            "qtest.bad_answer",
            format!(
                "qTest's answer when asked to {what} is not a list: {}",
                short(&value.to_string())
            ),
        )
        .with_hint("nothing was created from it; run the same command again")),
    }
}

/// The numeric `id` of an object.
pub fn id_of(value: &Value) -> Option<u64> {
    value.get("id").and_then(Value::as_u64)
}

pub fn name_of(value: &Value) -> Option<&str> {
    value.get("name").and_then(Value::as_str)
}
