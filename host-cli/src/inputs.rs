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

/// Expands the arguments in order. A pattern that matches nothing is an error (a
/// typo should not pass silently); a plain path that does not exist is kept so that
/// the read reports it next to the other files.
pub fn expand_inputs(args: &[String]) -> Result<Vec<Input>, String> {
    let mut inputs = Vec::new();
    for arg in args {
        if arg == "-" {
            inputs.push(Input::Stdin);
            continue;
        }
        let is_pattern = arg.contains(['*', '?', '[']) && !PathBuf::from(arg).exists();
        if !is_pattern {
            inputs.push(Input::File(PathBuf::from(arg)));
            continue;
        }
        let paths = glob::glob(arg).map_err(|e| format!("bad pattern `{arg}`: {e}"))?;
        let mut matched: Vec<PathBuf> = paths
            .filter_map(Result::ok)
            .filter(|p| p.is_file())
            .collect();
        if matched.is_empty() {
            return Err(format!("no file matches `{arg}`"));
        }
        matched.sort();
        inputs.extend(matched.into_iter().map(Input::File));
    }
    Ok(inputs)
}
