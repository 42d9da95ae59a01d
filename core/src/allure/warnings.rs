//! Warnings kept up to a bound, so that a folder of a million broken files does not
//! make a million warnings.

use crate::error::{Location, Warning};

/// Warnings kept up to a bound; the rest are counted.
pub(crate) struct Warnings {
    pub kept: Vec<Warning>,
    pub dropped: u64,
    max: u64,
}

impl Warnings {
    pub fn new(max: u64) -> Warnings {
        Warnings {
            kept: Vec::new(),
            dropped: 0,
            max,
        }
    }

    pub fn push(&mut self, code: &str, message: String, location: Option<Location>) {
        if (self.kept.len() as u64) < self.max {
            self.kept.push(Warning::new(code, message, location));
        } else {
            self.dropped += 1;
        }
    }
}
