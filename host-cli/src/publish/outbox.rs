//! The durable outbox: an embedded SQLite file that holds every publish run (its
//! input, its progress, the journal of its requests) until Rally confirmed the work.
//! A process killed at any point resumes from here, and the session looks before
//! it creates anything that was in flight, so nothing is lost or sent twice.
//!
//! Schema (version 1):
//! - `runs`: one row per unit of work (a set of reports for a target). `key` is a
//!   hash of what is published (target, configuration, tests, run values but not
//!   the clock), `input` the session input as first stored (its clock included, so
//!   dates stay the same on resume), `progress` the session's progress saved
//!   before every create and after its answer, `status` pending / done / failed.
//! - `requests`: the journal, one row per create or update handed to the network:
//!   `sent` before it goes out, then `confirmed`, `refused` or `lost` (masked URL).
//! - `refs`: FormattedID and test set refs learned, reused by later runs.

use anyhow::{Context, Result, bail};
use rusqlite::{Connection, params};
use std::path::Path;
use tmbridge_core::config::RefCache;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    key         TEXT NOT NULL UNIQUE,
    target      TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
    input       TEXT NOT NULL,
    progress    TEXT,
    report      TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    owner       TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS requests (
    run_id      INTEGER NOT NULL REFERENCES runs(id),
    attempt     INTEGER NOT NULL,
    request_id  INTEGER NOT NULL,
    method      TEXT NOT NULL,
    url         TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('sent', 'confirmed', 'refused', 'lost')),
    http_status INTEGER,
    sent_at     TEXT NOT NULL,
    answered_at TEXT,
    PRIMARY KEY (run_id, attempt, request_id)
);
CREATE TABLE IF NOT EXISTS refs (
    target TEXT NOT NULL,
    kind   TEXT NOT NULL,
    name   TEXT NOT NULL,
    ref    TEXT NOT NULL,
    PRIMARY KEY (target, kind, name)
);
PRAGMA user_version = 1;
";

pub struct Outbox {
    conn: Connection,
    owner: String,
}

/// A run as found or stored.
pub struct RunRow {
    pub id: i64,
    pub input: String,
    pub progress: Option<String>,
    /// Times a process started on it before (0 for a new run).
    pub attempts: i64,
}

impl Outbox {
    pub fn open(path: &Path) -> Result<Outbox> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let conn = Connection::open(path)
            .with_context(|| format!("cannot open the outbox {}", path.display()))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(SCHEMA)
            .with_context(|| format!("{} is not a tmbridge outbox", path.display()))?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        Ok(Outbox {
            conn,
            owner: format!("{}:{nanos}", std::process::id()),
        })
    }

    /// The run with this key, taken over by this process; a new one when there is none.
    pub fn claim(&self, key: &str, target: &str, input: &str) -> Result<RunRow> {
        let now = now();
        self.conn.execute(
            "INSERT OR IGNORE INTO runs (key, target, status, input, created_at, updated_at)
             VALUES (?1, ?2, 'pending', ?3, ?4, ?4)",
            params![key, target, input, now],
        )?;
        let (id, owner): (i64, Option<String>) = self.conn.query_row(
            "SELECT id, owner FROM runs WHERE key = ?1",
            params![key],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        if let Some(other) = owner.filter(|o| *o != self.owner)
            && owner_alive(&other)
        {
            bail!(
                "run {id} is being published by another tmbridge process ({other}); wait for it to end"
            );
        }
        self.conn.execute(
            "UPDATE runs SET owner = ?1, updated_at = ?2 WHERE id = ?3",
            params![self.owner, now, id],
        )?;
        let row = self.conn.query_row(
            "SELECT id, input, progress, attempts FROM runs WHERE id = ?1",
            params![id],
            |r| {
                Ok(RunRow {
                    id: r.get(0)?,
                    input: r.get(1)?,
                    progress: r.get(2)?,
                    attempts: r.get(3)?,
                })
            },
        )?;
        self.conn.execute(
            "UPDATE runs SET attempts = attempts + 1, status = 'pending' WHERE id = ?1",
            params![id],
        )?;
        Ok(row)
    }

    pub fn save_progress(&self, run: i64, progress: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE runs SET progress = ?1, updated_at = ?2 WHERE id = ?3",
            params![progress, now(), run],
        )?;
        Ok(())
    }

    pub fn journal_sent(
        &self,
        run: i64,
        attempt: i64,
        request: u64,
        method: &str,
        url: &str,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO requests (run_id, attempt, request_id, method, url, state, sent_at)
             VALUES (?1, ?2, ?3, ?4, ?5, 'sent', ?6)",
            params![run, attempt, request as i64, method, url, now()],
        )?;
        Ok(())
    }

    pub fn journal_answer(
        &self,
        run: i64,
        attempt: i64,
        request: u64,
        state: &str,
        status: u16,
    ) -> Result<()> {
        self.conn.execute(
            "UPDATE requests SET state = ?1, http_status = ?2, answered_at = ?3
             WHERE run_id = ?4 AND attempt = ?5 AND request_id = ?6",
            params![
                state,
                (status > 0).then_some(status),
                now(),
                run,
                attempt,
                request as i64
            ],
        )?;
        Ok(())
    }

    /// Ends the run: done (everything confirmed or refused for good) or still
    /// pending (to resume later); the owner lets go either way.
    pub fn finish(&self, run: i64, status: &str, report: &str, progress: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE runs SET status = ?1, report = ?2, progress = ?3, owner = NULL, updated_at = ?4 WHERE id = ?5",
            params![status, report, progress, now(), run],
        )?;
        Ok(())
    }

    pub fn refs(&self, target: &str) -> Result<RefCache> {
        let mut cache = RefCache::default();
        let mut stmt = self
            .conn
            .prepare("SELECT kind, name, ref FROM refs WHERE target = ?1 ORDER BY kind, name")?;
        let rows = stmt.query_map(params![target], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        for row in rows {
            let (kind, name, reference) = row?;
            match kind.as_str() {
                "test_case" => cache.rally_test_cases.insert(name, reference),
                "test_set" => cache.rally_test_sets.insert(name, reference),
                _ => None,
            };
        }
        Ok(cache)
    }

    pub fn store_refs(&self, target: &str, cache: &RefCache) -> Result<()> {
        let tx = self.conn.unchecked_transaction()?;
        for (kind, map) in [
            ("test_case", &cache.rally_test_cases),
            ("test_set", &cache.rally_test_sets),
        ] {
            for (name, reference) in map {
                tx.execute(
                    "INSERT OR REPLACE INTO refs (target, kind, name, ref) VALUES (?1, ?2, ?3, ?4)",
                    params![target, kind, name, reference],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Status of the run with this key, if any.
    #[cfg(test)]
    pub fn status_of(&self, key: &str) -> Result<Option<String>> {
        use rusqlite::OptionalExtension;
        Ok(self
            .conn
            .query_row(
                "SELECT status FROM runs WHERE key = ?1",
                params![key],
                |r| r.get(0),
            )
            .optional()?)
    }
}

/// Whether the process that owns a run still runs (Linux: its /proc entry).
fn owner_alive(owner: &str) -> bool {
    let pid = owner.split(':').next().unwrap_or("");
    let proc_root = Path::new("/proc");
    if !proc_root.is_dir() {
        return false;
    }
    !pid.is_empty() && proc_root.join(pid).exists()
}

fn now() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    tmbridge_core::config::context::timestamp_from_unix_millis(
        i64::try_from(ms).unwrap_or(i64::MAX),
    )
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_claimed_once_and_resumed() {
        let dir = std::env::temp_dir().join(format!("tmbridge-outbox-{}", std::process::id()));
        let path = dir.join("outbox.db");
        let _ = std::fs::remove_file(&path);
        let a = Outbox::open(&path).unwrap();
        let run = a.claim("k1", "rally", "{\"x\":1}").unwrap();
        assert_eq!((run.attempts, run.progress.as_deref()), (0, None));
        a.save_progress(run.id, "{\"step\":3}").unwrap();
        a.journal_sent(run.id, 0, 7, "POST", "https://r/x?key=***")
            .unwrap();
        // Another live owner (this test process, another token) is turned away.
        let b = Outbox::open(&path).unwrap();
        assert!(b.claim("k1", "rally", "{}").is_err());
        // After the first lets go, the second resumes with the stored input and progress.
        a.finish(run.id, "pending", "{}", "{\"step\":4}").unwrap();
        let again = b.claim("k1", "rally", "{\"x\":2}").unwrap();
        assert_eq!(again.id, run.id);
        assert_eq!(again.input, "{\"x\":1}");
        assert_eq!(again.progress.as_deref(), Some("{\"step\":4}"));
        assert_eq!(again.attempts, 1);
        let mut cache = RefCache::default();
        cache
            .rally_test_cases
            .insert("TC1".into(), "/testcase/1".into());
        b.store_refs("rally", &cache).unwrap();
        assert_eq!(b.refs("rally").unwrap(), cache);
        assert_eq!(b.status_of("k1").unwrap().as_deref(), Some("pending"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
