//! tmbridge for WebAssembly.
//!
//! Two faces of one crate, chosen by features:
//! - `js` (default): wasm-bindgen exports for JavaScript (the npm package in `pkg/`);
//!   the friendly API over them lives in `api.js`, shared with the Node addon.
//! - `raw`: `alloc`, `dealloc`, `call` and `call_with_document` on JSON bytes, with no
//!   imports at all, for wasmtime and other non-JS hosts. Build it with
//!   `--no-default-features --features raw`.
//!
//! Both only pass bytes to and from `tmbridge_core::ops`: no logic lives here.

#[cfg(feature = "js")]
mod js;
#[cfg(feature = "js")]
mod js_session;
#[cfg(feature = "js")]
mod js_source;
// Pointers are 32-bit only on wasm32: the raw ABI exists only there.
#[cfg(all(feature = "raw", target_arch = "wasm32"))]
pub mod raw;
