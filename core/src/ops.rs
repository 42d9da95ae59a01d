//! One JSON entry point for every capability (in progress).
