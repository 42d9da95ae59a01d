//! Report arguments: files, allure-results folders, glob patterns and `-` for stdin.

use crate::allure_results::is_allure_results;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::PathBuf;

pub enum Input {
    Stdin,
    File(PathBuf),
    /// A folder of Allure results (it holds `*-result.json` files).
    AllureResults(PathBuf),
}

impl Input {
    pub fn display(&self) -> &str {
        match self {
            Input::Stdin => "<stdin>",
            Input::File(p) | Input::AllureResults(p) => p.to_str().unwrap_or("<non-UTF-8 path>"),
        }
    }

    /// The report file's bytes; an allure-results folder is read with
    /// [`crate::allure_results::read_report`] instead.
    pub fn open(&self) -> io::Result<Box<dyn BufRead>> {
        Ok(match self {
            Input::Stdin => Box::new(BufReader::with_capacity(64 * 1024, io::stdin())),
            Input::File(p) => Box::new(BufReader::with_capacity(64 * 1024, File::open(p)?)),
            Input::AllureResults(_) => {
                return Err(io::Error::other("an allure-results folder is not one file"));
            }
        })
    }

    pub fn read_all(&self) -> io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        self.open()?.read_to_end(&mut bytes)?;
        Ok(bytes)
    }
}

/// Expands the arguments in order. A pattern that matches nothing and a named file
/// that does not exist are the same mistake on the command line (a typo must not pass
/// silently): both are errors, which every command reports as a usage error (exit 2).
pub fn expand_inputs(args: &[String]) -> Result<Vec<Input>, String> {
    let mut inputs = Vec::new();
    for arg in args {
        if arg == "-" {
            inputs.push(Input::Stdin);
            continue;
        }
        let shown = tmbridge_core::controls::printable(arg, 300);
        let path = PathBuf::from(arg);
        let is_pattern = arg.contains(['*', '?', '[']) && !path.exists();
        if !is_pattern {
            if path.is_dir() {
                if is_allure_results(&path) {
                    inputs.push(Input::AllureResults(path));
                    continue;
                }
                return Err(format!(
                    "`{shown}` is a folder without Allure results (no *-result.json file in it); name the report files, or a pattern like '{shown}/*.xml'"
                ));
            }
            if !path.exists() {
                return Err(format!("no such file `{shown}`"));
            }
            inputs.push(Input::File(path));
            continue;
        }
        let paths = glob::glob(arg).map_err(|e| format!("bad pattern `{shown}`: {e}"))?;
        let mut matched: Vec<PathBuf> = paths
            .filter_map(Result::ok)
            .filter(|p| p.is_file() || (p.is_dir() && is_allure_results(p)))
            .collect();
        if matched.is_empty() {
            return Err(format!("no file matches `{shown}`"));
        }
        matched.sort();
        inputs.extend(matched.into_iter().map(|p| {
            if p.is_dir() {
                Input::AllureResults(p)
            } else {
                Input::File(p)
            }
        }));
    }
    Ok(inputs)
}
