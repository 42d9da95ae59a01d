//! Rally query language (in progress).
