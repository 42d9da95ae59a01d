//! Runs every conformance vector through the raw .wasm in wasmtime and compares the
//! bytes with `expected`, exactly like `core/tests/vectors.rs` does natively. The
//! session transcripts (`session.replay` vectors) are also driven as live sessions
//! through the ABI's `session_*` functions, step by step.
//!
//! Usage: wasmtime-vectors <tmbridge_raw.wasm> [tests/vectors]
//! Exit status 0 when every vector matches, 1 otherwise.

mod transcript;
#[path = "../../../../../core/tests/support/vector_text.rs"]
#[allow(dead_code)]
mod vector_text;

use std::path::PathBuf;
use std::process::ExitCode;
use tmbridge_wasmtime_runner::WasmCore;
use vector_text::{minify, raw_value};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(wasm_path) = args.next() else {
        eprintln!("usage: wasmtime-vectors <tmbridge_raw.wasm> [vectors dir]");
        return ExitCode::from(2);
    };
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "tests/vectors".to_string()));
    match run(&wasm_path, &dir) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("wasmtime-vectors: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(wasm_path: &str, dir: &PathBuf) -> Result<bool, String> {
    let wasm = std::fs::read(wasm_path).map_err(|e| format!("{wasm_path}: {e}"))?;
    let core = WasmCore::new(&wasm).map_err(|e| e.to_string())?;
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    let (mut passed, mut failed) = (0, 0);
    let (mut driven, mut drive_failed) = (0, 0);
    for path in &paths {
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?;
        let op = field_string(&text, "op").ok_or_else(|| format!("{name}: no op"))?;
        let input = match raw_value(&text, "input") {
            Some((s, e)) => text.as_bytes()[s..e].to_vec(),
            None => field_string(&text, "input_text")
                .ok_or_else(|| format!("{name}: no input"))?
                .into_bytes(),
        };
        let expected = raw_value(&text, "expected")
            .map(|(s, e)| minify(&text[s..e]))
            .ok_or_else(|| format!("{name}: no expected"))?;
        let output = core.call(&op, &input).map_err(|e| format!("{name}: {e}"))?;
        if output == expected.as_bytes() {
            passed += 1;
        } else {
            failed += 1;
            eprintln!("MISMATCH {name}");
        }
        if op == "session.replay" {
            let input = String::from_utf8_lossy(&input);
            match transcript::check(&core, &input, &expected) {
                Ok(Some(_)) => driven += 1,
                Ok(None) => {}
                Err(why) => {
                    drive_failed += 1;
                    eprintln!("LIVE SESSION DIFFERS {name}: {why}");
                }
            }
        }
    }
    println!(
        "wasmtime: {passed} of {} vectors byte-identical, {failed} differ",
        paths.len()
    );
    println!(
        "wasmtime: {driven} transcripts driven live through the session ABI, {drive_failed} differ"
    );
    if let Err(why) = transcript::check_handles(&core) {
        eprintln!("SESSION HANDLES: {why}");
        drive_failed += 1;
    }
    Ok(failed == 0 && passed > 0 && drive_failed == 0 && driven > 0)
}

/// A top-level string value, decoded (JSON escapes included).
fn field_string(text: &str, key: &str) -> Option<String> {
    let (s, e) = raw_value(text, key)?;
    decode_json_string(&text[s..e])
}

fn decode_json_string(raw: &str) -> Option<String> {
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut chars = inner.chars();
    let mut pending_high: Option<u32> = None;
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let unit = match chars.next()? {
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => {
                let hex: String = chars.by_ref().take(4).collect();
                let code = u32::from_str_radix(&hex, 16).ok()?;
                if (0xD800..0xDC00).contains(&code) {
                    pending_high = Some(code);
                    continue;
                }
                let code = match pending_high.take() {
                    Some(high) => 0x10000 + ((high - 0xD800) << 10) + (code - 0xDC00),
                    None => code,
                };
                char::from_u32(code)?
            }
            _ => return None,
        };
        out.push(unit);
    }
    Some(out)
}
