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

/// What `requeue_interrupted` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Requeued {
    pub requeued: usize,
    pub failed: usize,
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
        // First: every statement after it, these pragmas included, waits for a
        // concurrent writer instead of failing at once.
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // WAL keeps the receiver and the worker from blocking each other; FULL sync
        // makes a committed event survive a power cut, which the 200 promises.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(SCHEMA)?;
        Ok(EventStore { conn })
    }

    /// Stores an event unless the same (project, pipeline, status) is there already.
    /// One statement decides, so deliveries of the same event racing each other (GitLab
    /// retrying while the first is still being answered) all find one row.
    pub fn insert(
        &self,
        project_id: i64,
        pipeline_id: i64,
        status: &str,
        body: &[u8],
        now: i64,
    ) -> rusqlite::Result<Inserted> {
        if let Some(id) = self.find(project_id, pipeline_id, status)? {
            return Ok(Inserted::Duplicate(id));
        }
        // Decides alone when another delivery of the event got in since the look.
        let new: Option<i64> = self
            .conn
            .query_row(
                "INSERT INTO events (received_at, project_id, pipeline_id, status, body)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (project_id, pipeline_id, status) DO NOTHING
                 RETURNING id",
                params![now, project_id, pipeline_id, status, body],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = new {
            return Ok(Inserted::New(id));
        }
        // Events are never deleted: the row that won is there to be read.
        let id = self.find(project_id, pipeline_id, status)?;
        id.map(Inserted::Duplicate)
            .ok_or(rusqlite::Error::QueryReturnedNoRows)
    }

    fn find(
        &self,
        project_id: i64,
        pipeline_id: i64,
        status: &str,
    ) -> rusqlite::Result<Option<i64>> {
        self.conn
            .query_row(
                "SELECT id FROM events WHERE project_id = ?1 AND pipeline_id = ?2 AND status = ?3",
                params![project_id, pipeline_id, status],
                |r| r.get(0),
            )
            .optional()
    }

    /// Events a process was working on when it died go back to the queue, due at once.
    /// The interrupted try counts: an event that used up `max_attempts` (one that
    /// kills the process each time, say) fails instead of looping forever. Call it
    /// only while holding the state file's lock, so no live process is working on them.
    pub fn requeue_interrupted(&self, max_attempts: i64) -> rusqlite::Result<Requeued> {
        let tx = self.conn.unchecked_transaction()?;
        let failed = tx.execute(
            "UPDATE events SET state = 'failed',
                 last_error = 'the process stopped while publishing it, ' || attempts || ' time(s); no attempt left (--max-attempts)'
             WHERE state = 'processing' AND attempts >= ?1",
            params![max_attempts],
        )?;
        let requeued = tx.execute(
            "UPDATE events SET state = 'pending', next_attempt_at = 0 WHERE state = 'processing'",
            [],
        )?;
        tx.commit()?;
        Ok(Requeued { requeued, failed })
    }

    /// A stop was asked for while an event was still being published: it goes back to
    /// the queue, and the try it was in does not count (the event did not fail). The
    /// publish itself resumes from its outbox checkpoint.
    pub fn release(&self, id: i64) -> rusqlite::Result<bool> {
        let changed = self.conn.execute(
            "UPDATE events SET state = 'pending', next_attempt_at = 0, attempts = max(attempts - 1, 0)
             WHERE id = ?1 AND state = 'processing'",
            params![id],
        )?;
        Ok(changed > 0)
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
        assert_eq!(
            store.requeue_interrupted(3).unwrap(),
            Requeued {
                requeued: 1,
                failed: 0
            }
        );
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

    #[test]
    fn interrupted_tries_count_against_max_attempts_and_a_stop_gives_its_try_back() {
        let path = temp_db("interrupted");
        let store = EventStore::open(&path).unwrap();
        store.insert(1, 10, "success", b"{}", 100).unwrap();
        store.insert(1, 11, "success", b"{}", 100).unwrap();
        // Event 1 was tried twice before; the third try is interrupted by a kill.
        store.claim_due(200).unwrap().unwrap();
        store.retry_or_fail(1, "Rally is down", Some(0)).unwrap();
        store.claim_due(200).unwrap().unwrap();
        store.retry_or_fail(1, "Rally is down", Some(0)).unwrap();
        assert_eq!(store.claim_due(200).unwrap().unwrap().attempts, 3);
        // Event 2 is in its first try when a stop is asked for.
        let second = store.claim_due(200).unwrap().unwrap();
        assert_eq!((second.id, second.attempts), (2, 1));
        assert!(store.release(2).unwrap());
        assert!(!store.release(2).unwrap(), "only an event in progress");
        drop(store);
        let store = EventStore::open(&path).unwrap();
        let with_three = store.requeue_interrupted(3).unwrap();
        assert_eq!(
            with_three,
            Requeued {
                requeued: 0,
                failed: 1
            }
        );
        let events = store.all().unwrap();
        assert_eq!(events[0].state, "failed");
        assert!(
            events[0]
                .last_error
                .as_deref()
                .unwrap()
                .contains("--max-attempts"),
            "{:?}",
            events[0].last_error
        );
        // The released event is due at once, its interrupted try not counted.
        let again = store.claim_due(0).unwrap().unwrap();
        assert_eq!((again.id, again.attempts), (2, 1));
        // A kill now: with attempts left it is retried.
        drop(store);
        let store = EventStore::open(&path).unwrap();
        assert_eq!(
            store.requeue_interrupted(3).unwrap(),
            Requeued {
                requeued: 1,
                failed: 0
            }
        );
        assert_eq!(store.claim_due(0).unwrap().unwrap().attempts, 2);
    }

    #[test]
    fn racing_deliveries_of_one_event_all_succeed_and_store_it_once() {
        let path = temp_db("race");
        EventStore::open(&path).unwrap();
        let start = std::sync::Arc::new(std::sync::Barrier::new(8));
        let workers: Vec<_> = (0..8)
            .map(|_| {
                let (path, start) = (path.clone(), start.clone());
                std::thread::spawn(move || {
                    let store = EventStore::open(&path).unwrap();
                    start.wait();
                    (0..25)
                        .map(|_| store.insert(5, 50, "success", b"{}", 1))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let answers: Vec<_> = workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect();
        let failed: Vec<_> = answers.iter().filter(|a| a.is_err()).collect();
        assert!(
            failed.is_empty(),
            "{} failed: {:?}",
            failed.len(),
            failed[0]
        );
        let new = answers
            .iter()
            .filter(|a| matches!(a, Ok(Inserted::New(_))))
            .count();
        assert_eq!(new, 1);
        let ids: std::collections::BTreeSet<i64> = answers
            .into_iter()
            .map(|a| match a.unwrap() {
                Inserted::New(id) | Inserted::Duplicate(id) => id,
            })
            .collect();
        assert_eq!(ids.len(), 1, "every delivery names the same event");
        assert_eq!(EventStore::open(&path).unwrap().all().unwrap().len(), 1);
    }
}
