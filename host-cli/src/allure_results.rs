//! allure-results folders: recognised by their `*-result.json` files, read without
//! leaving the folder (no sub-folders, no symbolic links), handed to the core's
//! `allure.read`. Attachments stay on disk: the report names them by file name, and
//! the folder is where publish looks them up.

use std::io;
use std::path::Path;
use tmbridge_core::junit::Options;
use tmbridge_core::model::Report;
use tmbridge_core::ops::Document;

/// Largest file of the folder read; results and containers are a few kilobytes.
const MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// Whether a folder holds Allure results: at least one `*-result.json` file.
pub fn is_allure_results(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .filter_map(Result::ok)
            .any(|e| is_read_by_core(&e.file_name().to_string_lossy()) == Some(true))
    })
}

/// `Some(true)` for a test result, `Some(false)` for the other files the core reads,
/// `None` for attachments and anything else.
fn is_read_by_core(name: &str) -> Option<bool> {
    if name.ends_with("-result.json") {
        Some(true)
    } else if name.ends_with("-container.json")
        || name.ends_with("-globals.json")
        || matches!(
            name,
            "environment.properties" | "executor.json" | "categories.json"
        )
    {
        Some(false)
    } else {
        None
    }
}

#[derive(serde::Serialize)]
struct NamedFile {
    name: String,
    text: Document,
}

/// The files of the folder the core reads, by name; a file that cannot be read, or
/// is not a regular file of this folder, is left out with a warning.
fn read_folder(dir: &Path) -> io::Result<Vec<NamedFile>> {
    let mut files = Vec::new();
    let shown = dir.display();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if is_read_by_core(&name).is_none() {
            continue;
        }
        // The entry's own type: a symbolic link is not followed out of the folder.
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if !is_file {
            eprintln!("warning: {shown}: {name} is not a regular file; it was not read");
            continue;
        }
        match read_bounded(&entry.path()) {
            Ok(bytes) => files.push(NamedFile {
                name,
                text: Document(bytes),
            }),
            Err(e) => eprintln!("warning: {shown}: {name} was not read: {e}"),
        }
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

fn read_bounded(path: &Path) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(io::Error::other(format!(
            "it is larger than {MAX_FILE_BYTES} bytes"
        )));
    }
    Ok(bytes)
}

/// The folder's report (the `allure.read` op), in the selected engine.
pub fn read_report(dir: &Path, options: &Options) -> tmbridge_core::Result<Report> {
    let files = read_folder(dir).map_err(|e| {
        tmbridge_core::Error::new("io.read_failed", format!("cannot read the folder: {e}"))
    })?;
    crate::engine::call(
        "allure.read",
        &serde_json::json!({ "files": files, "options": options }),
        None,
    )
}
