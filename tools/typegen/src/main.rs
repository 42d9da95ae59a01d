//! `cargo run -p tmbridge-typegen` rewrites the generated binding files;
//! `-- --check` only says which are out of date (exit 1).

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let check = std::env::args().any(|a| a == "--check");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut stale = Vec::new();
    for file in tmbridge_typegen::generate() {
        let path = root.join(file.path);
        if std::fs::read_to_string(&path).ok().as_deref() == Some(file.text.as_str()) {
            continue;
        }
        if check {
            stale.push(file.path);
        } else if let Err(e) = std::fs::write(&path, &file.text) {
            eprintln!("could not write {}: {e}", file.path);
            return ExitCode::FAILURE;
        } else {
            println!("wrote {}", file.path);
        }
    }
    if stale.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "out of date: {}; run `cargo run -p tmbridge-typegen`",
            stale.join(", ")
        );
        ExitCode::FAILURE
    }
}
