//! Defect-form auto-fill (in progress).
