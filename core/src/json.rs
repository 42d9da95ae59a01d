//! Reading JSON into the core's types, always through one deserializer type: the one
//! the ops use to name a wrong value by its path (`serde_path_to_error` over serde_json
//! on bytes). Each type's `Deserialize` is then compiled once rather than once per
//! reader (`&str`, `&[u8]`, with and without paths), which keeps the WASM module small.
//! The answers and errors are serde_json's `from_slice` / `from_str`, unchanged.

use serde::Deserialize;

/// `crate::json::from_slice`, through the core's one deserializer type.
pub fn from_slice<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> serde_json::Result<T> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = tracked(&mut de).map_err(serde_path_to_error::Error::into_inner)?;
    de.end()?;
    Ok(value)
}

/// `crate::json::from_str`, through the core's one deserializer type.
pub fn from_str<'a, T: Deserialize<'a>>(text: &'a str) -> serde_json::Result<T> {
    from_slice(text.as_bytes())
}

/// `T` from `de`, with the path of a value that does not fit in the error.
pub fn tracked<'a, T: Deserialize<'a>>(
    de: &mut serde_json::Deserializer<serde_json::de::SliceRead<'a>>,
) -> Result<T, serde_path_to_error::Error<serde_json::Error>> {
    serde_path_to_error::deserialize(de)
}
