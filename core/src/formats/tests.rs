//! Tests of the format readers through the one Reader.
