//! Reading an op's input: JSON errors with positions, and documents that may come
//! inside the JSON or beside it.

use super::document::Document;
use crate::error::{Error, Location};
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// Reads the whole of `json` as `T`; trailing data is an error. A value of the
/// wrong shape is named by its path in the input (`config.rally.workspace`), which
/// a binding's user recognises where a position in JSON the binding built is not.
pub fn from_json<T: DeserializeOwned>(op: &str, shape: &str, json: &[u8]) -> Result<T, Error> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let value: T = crate::json::tracked(&mut de).map_err(|e| {
        let mut path = e.path().to_string();
        if e.inner().to_string().starts_with("unknown field") {
            // The path ends with the unknown key, which the message names already.
            path = path
                .rsplit_once('.')
                .map_or(String::new(), |(parent, _)| parent.to_string());
        }
        let error = json_error(op, shape, json, e.inner());
        match path.as_str() {
            "." | "" => error,
            _ if !matches!(e.inner().classify(), serde_json::error::Category::Data) => error,
            _ => named(op, &path, error),
        }
    })?;
    de.end().map_err(|e| json_error(op, shape, json, &e))?;
    Ok(value)
}

/// The error of a value at `path`: configuration mistakes are configuration errors.
fn named(op: &str, path: &str, error: Error) -> Error {
    let detail = error
        .message
        .strip_prefix(&format!("the input of `{op}` is not valid: "))
        .unwrap_or(&error.message)
        .to_string();
    let located = |e: Error| match error.location {
        Some(at) => e.at(at),
        None => e,
    };
    if let Some(key) = path.strip_prefix("config.") {
        return located(
            Error::new("config.invalid_value", format!("`{key}`: {detail}")).with_hint(
                "see the configuration reference in the README for the keys and their types",
            ),
        );
    }
    let mut renamed = Error::new(
        &error.code,
        format!("the input of `{op}` is not valid: `{path}`: {detail}"),
    );
    renamed.hint = error.hint.clone();
    located(renamed)
}

/// An input the data format could read but the op could not use.
fn invalid_input(op: &str, shape: &str, message: String) -> Error {
    Error::new(
        "ops.invalid_input",
        format!("the input of `{op}` is not valid: {message}"),
    )
    .with_hint(format!("`{op}` takes {shape}"))
}

fn json_error(op: &str, shape: &str, json: &[u8], e: &serde_json::Error) -> Error {
    let text = e.to_string();
    // serde_json appends " at line L column C"; the position goes into `location`.
    let message = match text.rfind(" at line ") {
        Some(i) if e.line() > 0 => text.get(..i).unwrap_or(&text).to_string(),
        _ => text.clone(),
    };
    let error = match e.classify() {
        serde_json::error::Category::Data => invalid_input(op, shape, message),
        _ => Error::new(
            "ops.invalid_json",
            format!("the input of `{op}` is not valid JSON: {message}"),
        )
        .with_hint("pass the input as a JSON object (UTF-8)"),
    };
    if e.line() == 0 {
        return error;
    }
    error.at(Location::in_text(
        json,
        offset_of(json, e.line(), e.column()),
    ))
}

/// Byte offset of serde_json's 1-based line and byte column.
fn offset_of(json: &[u8], line: usize, column: usize) -> usize {
    let mut start = 0;
    let mut seen = 1;
    while seen < line {
        match json
            .get(start..)
            .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
        {
            Some(i) => start += i + 1,
            None => break,
        }
        seen += 1;
    }
    start
        .saturating_add(column.saturating_sub(1))
        .min(json.len())
}

/// The document of an op: from its field in the input, or given beside the JSON.
pub fn document<'a>(
    op: &str,
    field: &str,
    inline: &'a Option<Document>,
    beside: Option<&'a [u8]>,
) -> Result<&'a [u8], Error> {
    match (inline, beside) {
        (Some(doc), None) => Ok(doc.bytes()),
        (None, Some(bytes)) => Ok(bytes),
        (Some(_), Some(_)) => Err(Error::new(
            "ops.document_twice",
            format!("`{op}` got its `{field}` both inside the input and as a separate document"),
        )
        .with_hint(format!("leave `{field}` out of the input when passing the document separately"))),
        (None, None) => Err(Error::new(
            "ops.missing_document",
            format!("`{op}` needs `{field}`"),
        )
        .with_hint(format!(
            "give `{field}` as a string or {{\"base64\": \"...\"}}, or pass the bytes as the document"
        ))),
    }
}

/// For ops without a document: one given beside the JSON is a mistake, not ignored.
pub fn no_document(op: &str, beside: Option<&[u8]>) -> Result<(), Error> {
    match beside {
        None => Ok(()),
        Some(_) => Err(Error::new(
            "ops.unexpected_document",
            format!("`{op}` does not read a document, but one was given"),
        )),
    }
}

/// An input with no fields: `{}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Nothing {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_follows_lines_and_clamps() {
        let json = b"{\n  \"a\": x\n}";
        assert_eq!(offset_of(json, 2, 8), 9);
        assert_eq!(json[9], b'x');
        assert_eq!(offset_of(json, 9, 99), json.len());
    }

    #[test]
    fn syntax_errors_carry_a_position() {
        let e = from_json::<serde::de::IgnoredAny>("x", "{}", b"{\n  \"a\": x\n}").unwrap_err();
        assert_eq!(e.code, "ops.invalid_json");
        let loc = e.location.unwrap();
        assert_eq!((loc.line, loc.column), (2, 8));
        assert!(!e.message.contains(" at line "), "{}", e.message);
    }
}
