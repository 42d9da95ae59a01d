//! The durable queue of received pipeline events, in SQLite. A webhook is answered
//! only after its event is committed here; the worker takes events from it and
//! records what happened. Events that were being worked on when the process died
//! are picked up again at start.

use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;

/// One stored event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub id: i64,
    pub project_id: i64,
    pub pipeline_id: i64,
    pub status: String,
    pub body: Vec<u8>,
    pub attempts: i64,
    pub state: String,
    pub last_error: Option<String>,
    pub report: Option<String>,
}

/// What `insert` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    New(i64),
    /// GitLab delivered the same pipeline status again.
    Duplicate(i64),
}

pub struct EventStore {
    conn: Connection,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at     INTEGER NOT NULL,
    project_id      INTEGER NOT NULL,
    pipeline_id     INTEGER NOT NULL,
    status          TEXT NOT NULL,
    body            BLOB NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    report          TEXT,
    UNIQUE (project_id, pipeline_id, status)
);
";

impl EventStore {
    pub fn open(path: &Path) -> rusqlite::Result<EventStore> {
        let conn = Connection::open(path)?;
        // WAL keeps the receiver and the worker from blocking each other; FULL sync
        // makes a committed event survive a power cut, which the 200 promises.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.execute_batch(SCHEMA)?;
        Ok(EventStore { conn })
    }

    /// Stores an event unless the same (project, pipeline, status) is there already.
    pub fn insert(
        &self,
        project_id: i64,
        pipeline_id: i64,
        status: &str,
        body: &[u8],
        now: i64,
    ) -> rusqlite::Result<Inserted> {
        let existing: Option<i64> = self
            .conn
            .query_row(
                "SELECT id FROM events WHERE project_id = ?1 AND pipeline_id = ?2 AND status = ?3",
                params![project_id, pipeline_id, status],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = existing {
            return Ok(Inserted::Duplicate(id));
        }
        self.conn.execute(
            "INSERT INTO events (received_at, project_id, pipeline_id, status, body) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![now, project_id, pipeline_id, status, body],
        )?;
        Ok(Inserted::New(self.conn.last_insert_rowid()))
    }

    /// Work left over from a process that died: back to the queue.
    pub fn requeue_interrupted(&self) -> rusqlite::Result<usize> {
        self.conn.execute(
            "UPDATE events SET state = 'pending' WHERE state = 'processing'",
            [],
        )
    }

    /// The oldest pending event that is due, marked as being processed.
    pub fn claim_due(&self, now: i64) -> rusqlite::Result<Option<StoredEvent>> {
        let event = self
            .conn
            .query_row(
                "SELECT id, project_id, pipeline_id, status, body, attempts, state, last_error, report
                 FROM events WHERE state = 'pending' AND next_attempt_at <= ?1
                 ORDER BY next_attempt_at, id LIMIT 1",
                params![now],
                row_to_event,
            )
            .optional()?;
        if let Some(e) = &event {
            self.conn.execute(
                "UPDATE events SET state = 'processing', attempts = attempts + 1 WHERE id = ?1",
                params![e.id],
            )?;
        }
        Ok(event.map(|mut e| {
            e.attempts += 1;
            e.state = "processing".into();
            e
        }))
    }

    pub fn finish(&self, id: i64, report: &str) -> rusqlite::Result<()> {
        self.conn.execute(
            "UPDATE events SET state = 'done', report = ?2, last_error = NULL WHERE id = ?1",
            params![id, report],
        )?;
        Ok(())
    }

    /// Tries again at `at` (unix seconds), or gives up (`state = failed`) when `at` is `None`.
    pub fn retry_or_fail(&self, id: i64, error: &str, at: Option<i64>) -> rusqlite::Result<()> {
        match at {
            Some(at) => self.conn.execute(
                "UPDATE events SET state = 'pending', last_error = ?2, next_attempt_at = ?3 WHERE id = ?1",
                params![id, error, at],
            )?,
            None => self.conn.execute(
                "UPDATE events SET state = 'failed', last_error = ?2 WHERE id = ?1",
                params![id, error],
            )?,
        };
        Ok(())
    }

    /// Every event, oldest first.
    #[cfg(test)]
    pub fn all(&self) -> rusqlite::Result<Vec<StoredEvent>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, project_id, pipeline_id, status, body, attempts, state, last_error, report
             FROM events ORDER BY id",
        )?;
        let rows = stmt.query_map([], row_to_event)?;
        rows.collect()
    }
}

fn row_to_event(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredEvent> {
    Ok(StoredEvent {
        id: r.get(0)?,
        project_id: r.get(1)?,
        pipeline_id: r.get(2)?,
        status: r.get(3)?,
        body: r.get(4)?,
        attempts: r.get(5)?,
        state: r.get(6)?,
        last_error: r.get(7)?,
        report: r.get(8)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_db(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "tmbridge-serve-store-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("events.sqlite")
    }

    #[test]
    fn events_are_queued_once_claimed_and_requeued_after_a_crash() {
        let path = temp_db("queue");
        let store = EventStore::open(&path).unwrap();
        assert_eq!(
            store.insert(1, 10, "success", b"{}", 100).unwrap(),
            Inserted::New(1)
        );
        assert_eq!(
            store.insert(1, 10, "success", b"{}", 101).unwrap(),
            Inserted::Duplicate(1)
        );
        assert_eq!(
            store.insert(1, 10, "failed", b"{}", 102).unwrap(),
            Inserted::New(2)
        );
        let first = store.claim_due(200).unwrap().unwrap();
        assert_eq!(
            (first.id, first.attempts, first.state.as_str()),
            (1, 1, "processing")
        );
        store.retry_or_fail(1, "Rally is down", Some(500)).unwrap();
        // Event 1 is not due before 500; event 2 is next.
        assert_eq!(store.claim_due(300).unwrap().unwrap().id, 2);
        assert!(store.claim_due(300).unwrap().is_none());
        // The process dies while working on event 2; a new one reopens the file.
        drop(store);
        let store = EventStore::open(&path).unwrap();
        assert_eq!(store.requeue_interrupted().unwrap(), 1);
        let again = store.claim_due(300).unwrap().unwrap();
        assert_eq!((again.id, again.attempts), (2, 2));
        store.finish(2, "{\"created\":3}").unwrap();
        let one = store.claim_due(600).unwrap().unwrap();
        assert_eq!(one.last_error.as_deref(), Some("Rally is down"));
        store.retry_or_fail(1, "still down", None).unwrap();
        let states: Vec<(i64, String)> = store
            .all()
            .unwrap()
            .into_iter()
            .map(|e| (e.id, e.state))
            .collect();
        assert_eq!(states, vec![(1, "failed".into()), (2, "done".into())]);
    }
}
