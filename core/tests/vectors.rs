//! Conformance vectors: every `tests/vectors/*.json` is `{description, op, input,
//! expected}` (or `input_text`, a string passed as is, for input that is not JSON).
//! The core's output for the raw input text must equal the expected value's text
//! byte for byte once whitespace outside strings is removed. The Python, Node,
//! WASM (Node, Chromium) and wasmtime runners check the same files the same way.
//!
//! `UPDATE_VECTORS=1 cargo test -p tmbridge-core --test vectors` writes the outputs
//! into `expected` (only this runner may); review the diff before committing.

#[path = "support/vector_text.rs"]
mod vector_text;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use tmbridge_core::ops;
use vector_text::{minify, pretty, raw_value};

const KEYS: [&str; 5] = ["description", "op", "input", "input_text", "expected"];

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")
}

struct Vector {
    path: PathBuf,
    text: String,
    op: String,
    input: Vec<u8>,
}

fn load(path: PathBuf) -> Vector {
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let value: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let object = value.as_object().expect("a vector is a JSON object");
    for key in object.keys() {
        assert!(
            KEYS.contains(&key.as_str()),
            "{}: unknown key {key}",
            path.display()
        );
    }
    let op = object["op"].as_str().expect("op is a string").to_string();
    let input = match (raw_value(&text, "input"), object.get("input_text")) {
        (Some((start, end)), None) => text.as_bytes()[start..end].to_vec(),
        (None, Some(serde_json::Value::String(raw))) => raw.as_bytes().to_vec(),
        _ => panic!(
            "{}: give exactly one of input and input_text",
            path.display()
        ),
    };
    Vector {
        path,
        text,
        op,
        input,
    }
}

fn all_vectors() -> Vec<Vector> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(vectors_dir())
        .expect("tests/vectors exists")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths.into_iter().map(load).collect()
}

/// Where two texts first differ, with some context, for a readable failure.
fn first_difference(actual: &str, expected: &str) -> String {
    let at = actual
        .bytes()
        .zip(expected.bytes())
        .position(|(a, b)| a != b)
        .unwrap_or(actual.len().min(expected.len()));
    let from = at.saturating_sub(60);
    let cut = |s: &str| {
        s.get(from..(at + 60).min(s.len()))
            .unwrap_or("")
            .to_string()
    };
    format!(
        "at byte {at}:\n  actual:   …{}\n  expected: …{}",
        cut(actual),
        cut(expected)
    )
}

fn rewrite(vector: &Vector, output: &str) {
    let body = pretty(output, 1);
    let text = match raw_value(&vector.text, "expected") {
        Some((start, end)) => format!("{}{}{}", &vector.text[..start], body, &vector.text[end..]),
        None => {
            let close = vector.text.rfind('}').expect("a vector ends with }");
            let head = vector.text[..close].trim_end();
            format!("{head},\n  \"expected\": {body}\n}}\n")
        }
    };
    std::fs::write(&vector.path, text).expect("write the vector");
}

#[test]
fn every_vector_gives_its_expected_bytes() {
    let update = std::env::var("UPDATE_VECTORS").is_ok_and(|v| v == "1");
    let vectors = all_vectors();
    assert!(
        !vectors.is_empty(),
        "no vectors in {}",
        vectors_dir().display()
    );
    let mut failures = Vec::new();
    for vector in &vectors {
        let output = String::from_utf8(ops::call(&vector.op, &vector.input)).expect("UTF-8 output");
        let expected = raw_value(&vector.text, "expected").map(|(s, e)| minify(&vector.text[s..e]));
        if expected.as_deref() == Some(output.as_str()) {
            continue;
        }
        if update {
            rewrite(vector, &output);
            eprintln!("updated {}", vector.path.display());
            continue;
        }
        let name = vector
            .path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy();
        failures.push(match expected {
            None => format!("{name}: no `expected` (run with UPDATE_VECTORS=1)"),
            Some(expected) => format!("{name}: {}", first_difference(&output, &expected)),
        });
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors differ:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
}

#[test]
fn every_op_has_vectors_and_error_cases_exist() {
    let vectors = all_vectors();
    let covered: BTreeSet<&str> = vectors.iter().map(|v| v.op.as_str()).collect();
    let missing: Vec<String> = ops::list_ops()
        .into_iter()
        .map(|s| s.name)
        .filter(|n| !covered.contains(n.as_str()))
        .collect();
    assert!(missing.is_empty(), "ops without a vector: {missing:?}");
    let errors: BTreeSet<String> = vectors
        .iter()
        .filter_map(|v| raw_value(&v.text, "expected").map(|(s, e)| minify(&v.text[s..e])))
        .filter(|e| e.starts_with("{\"ok\":null,\"error\":{"))
        .filter_map(|e| {
            e.split("\"code\":\"")
                .nth(1)
                .map(|c| c.split('"').next().unwrap_or("").to_string())
        })
        .collect();
    for code in [
        "ops.unknown_op",
        "ops.invalid_json",
        "ops.invalid_input",
        "junit.malformed_xml",
    ] {
        assert!(
            errors.contains(code),
            "no error vector for {code}; have {errors:?}"
        );
    }
}

#[test]
fn vector_text_helpers_keep_order_and_strings() {
    let text = "{\n  \"op\": \"x\",\n  \"expected\": {\"b\": [1, {}], \"a\": \"s p\\\"}\"}\n}";
    let (s, e) = raw_value(text, "expected").unwrap();
    let compact = minify(&text[s..e]);
    assert_eq!(compact, "{\"b\":[1,{}],\"a\":\"s p\\\"}\"}");
    assert_eq!(
        pretty(&compact, 0),
        "{\n  \"b\": [\n    1,\n    {}\n  ],\n  \"a\": \"s p\\\"}\"\n}"
    );
    assert_eq!(minify(&pretty(&compact, 3)), compact);
    assert_eq!(
        raw_value(text, "op").map(|(s, e)| &text[s..e]),
        Some("\"x\"")
    );
    assert_eq!(raw_value(text, "nope"), None);
}
