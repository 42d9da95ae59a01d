//! The session API: every sync a host can drive, started, driven, saved and resumed
//! the same way in every runtime.
//!
//! A host starts a session from a start request (`{"kind": "rally.publish",
//! "input": {...}, "options": {...}}`) and its secrets, then loops:
//!
//! ```text
//! let mut s = SessionHandle::start(request_json, &secrets)?;
//! loop {
//!     match s.next() {
//!         Step::Send(req)    => s.receive(req.id, http(&req))?,
//!         Step::Read(file)   => s.provide_file(file.id, read_allowed(&file.path))?,
//!         Step::Wait { ms }  => sleep(ms),
//!         Step::Save         => store(s.save()?),
//!         Step::Done(report) => break report,
//!     }
//! }
//! ```
//!
//! The session decides every request, retry and wait, and when its progress must be
//! stored (`Step::Save`: before anything that changes the target, and once the
//! answer is in). [`SessionHandle::resume`] goes on from saved progress in any
//! runtime with the same next steps. Secrets are handed to a session, never saved.
//!
//! Adding a kind: one [`Kind`] in its target's folder and one line in [`KINDS`].

mod handle;
mod registry;
mod replay;
mod work_key;

pub use crate::sync::kind::{Kind, SAVED_FORMAT, SAVED_VERSION, StartOptions};
pub use crate::sync::secrets::Secrets;
pub use handle::SessionHandle;
pub use registry::{KINDS, KindInfo, find, kind_list};
#[cfg(feature = "schema")]
pub use registry::{KindSchema, kind_input_schemas};
pub use replay::{Feed, ReplayInput, ReplayOutput, replay};
pub use work_key::work_key;

#[cfg(test)]
mod tests;
