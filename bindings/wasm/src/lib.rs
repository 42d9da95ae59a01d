//! tmbridge for WebAssembly.
//!
//! wasm-bindgen exports for JavaScript (the npm package in `pkg/`); the friendly API
//! over them lives in `api.js`, shared with the Node addon. Hosts without JavaScript use
//! the raw ABI of `bindings/wasm-raw`. Only bytes pass to and from `tmbridge_core::ops`:
//! no logic lives here.

#[cfg(feature = "js")]
mod js;
#[cfg(feature = "js")]
mod js_session;
#[cfg(feature = "js")]
mod js_source;
