//! Where the receiver puts a verified pipeline event before it answers 200: the
//! SQLite store (the default) or a message broker (`serve --queue`). The answer
//! promises the event is safe, so `accept` returns only once it is.

use super::store::{EventStore, Inserted};

/// A finished pipeline to be published.
pub struct NewEvent<'a> {
    pub project_id: u64,
    pub pipeline_id: u64,
    pub status: &'a str,
    /// The webhook's body as GitLab sent it.
    pub body: &'a [u8],
}

/// What became of an accepted event: its id in the answer (a number in SQLite, a
/// key with the broker).
pub enum Accepted {
    New(serde_json::Value),
    /// The same pipeline status was stored before (SQLite only: the broker keeps no
    /// index; a second delivery is published again and the target's look-before-create
    /// keeps it from adding anything).
    Duplicate(serde_json::Value),
}

pub trait EventSink: Send {
    /// Keeps the event durably, or says why it could not (answered 503: GitLab marks the delivery failed).
    fn accept(&mut self, event: &NewEvent<'_>, now: i64) -> Result<Accepted, String>;
}

impl EventSink for EventStore {
    fn accept(&mut self, event: &NewEvent<'_>, now: i64) -> Result<Accepted, String> {
        let inserted = self
            .insert(
                event.project_id as i64,
                event.pipeline_id as i64,
                event.status,
                event.body,
                now,
            )
            .map_err(|e| e.to_string())?;
        Ok(match inserted {
            Inserted::New(id) => Accepted::New(id.into()),
            Inserted::Duplicate(id) => Accepted::Duplicate(id.into()),
        })
    }
}

/// Opens one sink per request handler thread.
pub type SinkFactory = dyn Fn() -> anyhow::Result<Box<dyn EventSink>> + Send + Sync;
