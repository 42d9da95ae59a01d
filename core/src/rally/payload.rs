//! Rally payloads (in progress).
