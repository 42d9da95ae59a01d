//! Report arguments: files, glob patterns and `-` for stdin.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::PathBuf;

pub enum Input {
    Stdin,
    File(PathBuf),
}

impl Input {
    pub fn display(&self) -> &str {
        match self {
            Input::Stdin => "<stdin>",
            Input::File(p) => p.to_str().unwrap_or("<non-UTF-8 path>"),
        }
    }

    pub fn open(&self) -> io::Result<Box<dyn BufRead>> {
        Ok(match self {
            Input::Stdin => Box::new(BufReader::with_capacity(64 * 1024, io::stdin())),
            Input::File(p) => Box::new(BufReader::with_capacity(64 * 1024, File::open(p)?)),
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
                return Err(format!(
                    "`{shown}` is a folder; name the report files, or a pattern like '{shown}/*.xml'"
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
            .filter(|p| p.is_file())
            .collect();
        if matched.is_empty() {
            return Err(format!("no file matches `{shown}`"));
        }
        matched.sort();
        inputs.extend(matched.into_iter().map(Input::File));
    }
    Ok(inputs)
}
