//! The one host loop of the CLI: it drives a core session of any kind and only
//! moves bytes. HTTP goes to a [`Transport`] (the network, or dry-run answers),
//! files come from a reader that applies the user's allowed folders, and progress
//! is stored when the session says `Save`. Every decision (requests, retries,
//! waits, save points) is the session's.

pub mod http;
pub mod mask;
mod transport;
pub mod wasm;

pub use transport::{DryRun, Gate, Network, Transport};

use anyhow::{Result, anyhow};
use std::time::{Duration, Instant};
use tmbridge_core::session::SessionHandle;
use tmbridge_core::sync::{HttpResponse, Report, Step};

/// A session as the loop drives it: the native core, or the WebAssembly one.
pub trait Driver {
    fn next(&mut self) -> Result<Step>;
    fn receive(&mut self, id: u64, response: HttpResponse) -> Result<()>;
    fn provide_file(&mut self, id: u64, file: std::result::Result<Vec<u8>, String>) -> Result<()>;
    /// The progress alone (the host stored the input when it started).
    fn save_progress(&mut self) -> Result<String>;

    fn units(&self) -> (u64, u64);
}

impl Driver for SessionHandle {
    fn next(&mut self) -> Result<Step> {
        Ok(SessionHandle::next(self))
    }

    fn receive(&mut self, id: u64, response: HttpResponse) -> Result<()> {
        SessionHandle::receive(self, id, response).map_err(|e| anyhow!("{e}"))
    }

    fn provide_file(&mut self, id: u64, file: std::result::Result<Vec<u8>, String>) -> Result<()> {
        SessionHandle::provide_file(self, id, file).map_err(|e| anyhow!("{e}"))
    }

    fn save_progress(&mut self) -> Result<String> {
        SessionHandle::save_progress(self).map_err(|e| anyhow!("{e}"))
    }

    fn units(&self) -> (u64, u64) {
        SessionHandle::units(self)
    }
}

/// What the loop does besides HTTP.
pub struct Hooks<'a> {
    /// Reads a file a session asks for, inside the folders the user allowed.
    pub read_file: &'a mut dyn FnMut(&str) -> std::result::Result<Vec<u8>, String>,
    /// Stores saved progress (a crash resumes from the last one, with the input the
    /// host stored when it started).
    pub store: &'a mut dyn FnMut(&str) -> Result<()>,
    /// Progress lines on stderr for long work.
    pub progress: bool,
    /// What the target is called in messages.
    pub target: &'a str,
}

/// Drives `session` to its end.
pub fn drive(
    session: &mut dyn Driver,
    transport: &mut dyn Transport,
    hooks: &mut Hooks<'_>,
) -> Result<Report> {
    let mut shown = Progress::new(hooks.progress, hooks.target);
    loop {
        match session.next()? {
            Step::Send(request) => {
                let response = transport.send(&request);
                session.receive(request.id, response)?;
                shown.update(session.units());
            }
            Step::Wait { ms } => {
                shown.waiting(ms);
                transport.wait(ms);
            }
            Step::Read(file) => {
                let bytes = (hooks.read_file)(&file.path);
                session.provide_file(file.id, bytes)?;
            }
            Step::Save => {
                let progress = session.save_progress()?;
                (hooks.store)(&progress)?;
            }
            Step::Done(report) => {
                shown.done();
                return Ok(report);
            }
        }
    }
}

/// No files: for sessions that never ask for one.
pub fn no_files(path: &str) -> std::result::Result<Vec<u8>, String> {
    Err(format!("{path}: this command reads no files"))
}

/// No store: for sessions whose work is safe to start again from the beginning.
pub fn no_store(_: &str) -> Result<()> {
    Ok(())
}

/// Progress on stderr: at most one line a second, and only for long work.
struct Progress<'a> {
    on: bool,
    target: &'a str,
    started: Instant,
    last: Option<Instant>,
    seen: (u64, u64),
}

impl<'a> Progress<'a> {
    fn new(on: bool, target: &'a str) -> Progress<'a> {
        Progress {
            on,
            target,
            started: Instant::now(),
            last: None,
            seen: (0, 0),
        }
    }

    fn update(&mut self, units: (u64, u64)) {
        if !self.on || units == self.seen || units.1 == 0 {
            return;
        }
        self.seen = units;
        let quiet = self.started.elapsed() < Duration::from_secs(2)
            || self
                .last
                .is_some_and(|t| t.elapsed() < Duration::from_secs(1));
        if quiet && units.0 < units.1 {
            return;
        }
        self.last = Some(Instant::now());
        eprintln!("tmbridge: {}/{} done", units.0, units.1);
    }

    fn waiting(&mut self, ms: u64) {
        if self.on && ms >= 1000 {
            eprintln!(
                "tmbridge: {} asked to wait; retrying in {:.1} s",
                self.target,
                ms as f64 / 1000.0
            );
        }
    }

    fn done(&self) {
        if self.on && self.last.is_some() {
            eprintln!(
                "tmbridge: done in {:.1} s",
                self.started.elapsed().as_secs_f64()
            );
        }
    }
}
