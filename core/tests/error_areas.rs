//! Every error code the core raises has an area that the bindings' error classes
//! cover (`tmbridge_core::error_areas`), so no error falls back to the base class
//! unnoticed.

use std::path::Path;

fn sources(dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir)
        .expect("core/src is readable")
        .flatten()
    {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(std::fs::read_to_string(&path).unwrap_or_default());
        }
    }
}

/// Codes written as the first argument of `Error::new(...)`.
fn raised_codes(text: &str) -> Vec<String> {
    let mut codes = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("Error::new(") {
        rest = &rest[at + "Error::new(".len()..];
        let trimmed = rest.trim_start();
        if let Some(literal) = trimmed.strip_prefix('"')
            && let Some(end) = literal.find('"')
        {
            codes.push(literal[..end].to_string());
        }
    }
    codes
}

#[test]
fn every_raised_area_has_an_error_class() {
    let mut texts = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut texts,
    );
    let mut missing = std::collections::BTreeSet::new();
    let mut seen = 0;
    for text in &texts {
        // Test modules make up codes of their own.
        let library = text.split("#[cfg(test)]").next().unwrap_or_default();
        for code in raised_codes(library) {
            seen += 1;
            if code.contains('.') && tmbridge_core::error_areas::class_for(&code).is_none() {
                missing.insert(code);
            }
        }
    }
    assert!(seen > 100, "found only {seen} codes: the scan is broken");
    assert!(
        missing.is_empty(),
        "codes whose area has no error class in error_areas.rs: {missing:?}"
    );
}
