//! The envelope every op answers with: `{"ok": <output>, "error": null}` or
//! `{"ok": null, "error": {...}}`.

use crate::error::Error;
use serde::Serialize;

/// `{"ok": ..., "error": ...}`: exactly one of the two is not null.
#[derive(Serialize)]
pub(crate) struct Envelope<'a, T: Serialize> {
    pub ok: Option<&'a T>,
    pub error: Option<&'a Error>,
}

/// The envelope of a value, as JSON bytes.
pub fn ok_envelope<T: Serialize>(value: &T) -> Vec<u8> {
    match serde_json::to_vec(&Envelope {
        ok: Some(value),
        error: None,
    }) {
        Ok(bytes) => bytes,
        Err(e) => error_envelope(&Error::new(
            "ops.internal",
            format!("could not write the output as JSON: {e}"),
        )),
    }
}

/// The envelope of an error, as JSON bytes.
pub fn error_envelope(error: &Error) -> Vec<u8> {
    let envelope: Envelope<'_, ()> = Envelope {
        ok: None,
        error: Some(error),
    };
    // An Error holds only strings and integers: writing it cannot fail.
    serde_json::to_vec(&envelope).unwrap_or_default()
}
