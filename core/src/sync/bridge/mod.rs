//! The qTest ↔ Rally bridge: what a host keeps between the sessions it runs and
//! what it runs next. One pass is three steps, each a session of its own target:
//!
//! 1. `rally.requirements`: the stories changed since the cursor (or one story);
//!    they wait in `pending` until qTest has them;
//! 2. `qtest.requirements`: `pending` as requirements of one module; only then does
//!    the cursor move on. It reports the qTest test cases newly linked to them;
//! 3. `rally.link_case` for each such case, once: a Rally test case on the first
//!    story it is linked to, whose Description links to the qTest test case (and is
//!    how it is found again: `(Description contains "<web_url>")`).
//!
//! The host stores [`BridgeState`] after each step (atomically); a host killed at
//! any point repeats the step it was in, and each step looks before it creates.

pub mod state;

pub use state::{BridgeState, BridgedCase};
