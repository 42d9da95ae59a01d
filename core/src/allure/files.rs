//! The files of an `allure-results` folder, read one by one: a file that cannot be
//! read is a warning naming it (and where in it), never the end of the report.

use super::categories::{self, Category};
use super::json::{Container, Executor, Globals, TestResult};
use super::properties::read_properties;
use super::warnings::Warnings;
use crate::error::Location;
use crate::model::Property;
use serde::de::DeserializeOwned;

/// One file of the folder, as the host read it. `name` is its name inside the
/// folder (`<uuid>-result.json`); attachments are never needed here.
#[derive(Debug, Clone, Copy)]
pub struct InputFile<'a> {
    pub name: &'a str,
    pub bytes: &'a [u8],
}

/// What each kind of file says.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    /// Each result with the name of its file, in file-name order.
    pub results: Vec<(String, TestResult)>,
    pub containers: Vec<(String, Container)>,
    pub environment: Vec<Property>,
    pub executor: Option<Executor>,
    pub categories: Vec<Category>,
}

/// Longest global error message shown in a warning.
const MAX_GLOBAL_MESSAGE: usize = 500;

/// The kind of a file, from its name (the name inside the folder, without folders).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Result,
    Container,
    Globals,
    Environment,
    Executor,
    Categories,
    /// Attachments and anything else: not read.
    Other,
}

pub(crate) fn kind_of(name: &str) -> Kind {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    if base.ends_with("-result.json") {
        Kind::Result
    } else if base.ends_with("-container.json") {
        Kind::Container
    } else if base.ends_with("-globals.json") {
        Kind::Globals
    } else if base == "environment.properties" {
        Kind::Environment
    } else if base == "executor.json" {
        Kind::Executor
    } else if base == "categories.json" {
        Kind::Categories
    } else {
        Kind::Other
    }
}

/// Reads every file the folder listing gave, in name order (the same files in any
/// order read the same).
pub(crate) fn load(files: &[InputFile], warnings: &mut Warnings) -> Loaded {
    let mut sorted: Vec<&InputFile> = files.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(b.name).then_with(|| a.bytes.cmp(b.bytes)));
    let mut loaded = Loaded::default();
    for (i, file) in sorted.iter().enumerate() {
        if i > 0 && sorted[i - 1].name == file.name {
            warnings.push(
                "allure.duplicate_file",
                format!("{}: given twice; the first copy is read", file.name),
                None,
            );
            continue;
        }
        match kind_of(file.name) {
            Kind::Result => {
                if let Some(r) = parse_json::<TestResult>(file, "test result", warnings) {
                    loaded.results.push((file.name.to_string(), r));
                }
            }
            Kind::Container => {
                if let Some(c) = parse_json::<Container>(file, "container", warnings) {
                    loaded.containers.push((file.name.to_string(), c));
                }
            }
            Kind::Environment => match std::str::from_utf8(strip_bom(file.bytes)) {
                Ok(text) => loaded.environment = read_properties(text),
                // Java wrote .properties files in ISO 8859-1: each byte is one character.
                Err(_) => {
                    let text: String = file.bytes.iter().map(|&b| char::from(b)).collect();
                    loaded.environment = read_properties(&text);
                }
            },
            Kind::Executor => loaded.executor = parse_json(file, "executor", warnings),
            // Errors outside any test (a failed `beforeAll`): said, as they change
            // why tests were skipped.
            Kind::Globals => {
                let globals: Option<Globals> = parse_json(file, "globals", warnings);
                for error in globals.map(|g| g.errors).unwrap_or_default() {
                    let message = error.message.as_deref().unwrap_or("").trim();
                    let cut = crate::junit::floor_char_boundary(message, MAX_GLOBAL_MESSAGE);
                    warnings.push(
                        "allure.global_error",
                        format!(
                            "{}: the run reported an error outside any test: {}",
                            file.name,
                            if message.is_empty() {
                                "(no message)"
                            } else {
                                &message[..cut]
                            }
                        ),
                        None,
                    );
                }
            }
            Kind::Categories => {
                let list: Option<Vec<serde_json::Value>> = parse_json(file, "categories", warnings);
                if let Some(list) = list {
                    loaded.categories = categories::read(file.name, list, warnings);
                }
            }
            Kind::Other => {}
        }
    }
    loaded
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(bytes)
}

/// One JSON file; a file that is not JSON of the expected shape is a warning.
fn parse_json<T: DeserializeOwned>(
    file: &InputFile,
    what: &str,
    warnings: &mut Warnings,
) -> Option<T> {
    let text = strip_bom(file.bytes);
    let skipped = file.bytes.len() - text.len();
    // serde reads a struct from an array too; every Allure file but the categories
    // is one object.
    let want = if what == "categories" { b'[' } else { b'{' };
    if let Some(i) = text.iter().position(|b| !b.is_ascii_whitespace())
        && text[i] != want
        && matches!(
            text[i],
            b'{' | b'[' | b'"' | b't' | b'f' | b'n' | b'-' | b'0'..=b'9'
        )
    {
        let location = Location::in_text(file.bytes, i + skipped);
        warnings.push(
            "allure.unexpected_shape",
            format!(
                "{}: the {what} file was left out: it holds a JSON {} where an Allure 2 file holds {}, line {}, column {}",
                file.name,
                match text[i] {
                    b'[' => "array",
                    b'{' => "object",
                    _ => "value",
                },
                if want == b'[' { "an array" } else { "an object" },
                location.line,
                location.column
            ),
            Some(location),
        );
        return None;
    }
    match crate::json::from_slice::<T>(text) {
        Ok(value) => Some(value),
        Err(e) => {
            let location = Location::from_line_column(text, e.line(), e.column());
            let location = Location::in_text(file.bytes, location.offset as usize + skipped);
            let (code, how) = if e.is_data() {
                (
                    "allure.unexpected_shape",
                    "it is JSON but not shaped like an Allure 2 file",
                )
            } else if e.is_eof() {
                (
                    "allure.invalid_json",
                    "it ends early (was the test run stopped while writing it?)",
                )
            } else {
                ("allure.invalid_json", "it is not valid JSON")
            };
            let message = e.to_string();
            let message = match message.rfind(" at line ") {
                Some(i) => &message[..i],
                None => &message,
            };
            warnings.push(
                code,
                format!(
                    "{}: the {what} file was left out: {how} ({message}), line {}, column {}",
                    file.name, location.line, location.column
                ),
                Some(location),
            );
            None
        }
    }
}
