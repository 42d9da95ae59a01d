//! JUnit XML reader (in progress).
