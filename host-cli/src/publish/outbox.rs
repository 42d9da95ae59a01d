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
//!
//! Who publishes a run is decided by an exclusive lock on a file next to the
//! database (`<outbox>.locks/run-<hash of key>.lock`), which the operating system
//! drops when the process dies. The `owner` column only names the last claimant in
//! messages: a process id says nothing about liveness once it is reused.

use crate::file_lock::FileLock;
use anyhow::{Context, Result};
use rusqlite::{Connection, params};
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
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
    path: PathBuf,
    /// What the `owner` column says while this process holds a run.
    owner: String,
    /// The runs this handle holds, by id.
    held: RefCell<HashMap<i64, FileLock>>,
}

/// Another live process (or another handle of this one) is publishing the run.
#[derive(Debug)]
pub struct RunBusy {
    pub run: i64,
    pub outbox: PathBuf,
    /// The `owner` column as the holder wrote it.
    pub owner: Option<String>,
}

impl std::fmt::Display for RunBusy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "outbox.run_busy: run {} of the outbox {} is being published by another running tmbridge process",
            self.run,
            self.outbox.display()
        )?;
        if let Some(owner) = &self.owner {
            write!(f, " ({owner})")?;
        }
        f.write_str(
            "; wait for it to end, or stop it: a stopped run resumes from the outbox with the next publish of the same reports",
        )
    }
}

impl std::error::Error for RunBusy {}

/// A run as found or stored.
#[derive(Debug)]
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
        Ok(Outbox {
            conn,
            path: path.to_path_buf(),
            owner: format!("pid {}", std::process::id()),
            held: RefCell::default(),
        })
    }

    /// The run with this key, taken over by this handle; a new one when there is none.
    /// Fails with [`RunBusy`] while a live process holds it. A holder that died,
    /// however, never blocks: its lock went with it.
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
        if !self.held.borrow().contains_key(&id) {
            let lock_path = self.lock_path(key);
            if let Some(dir) = lock_path.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
            let lock = FileLock::try_acquire(&lock_path)
                .with_context(|| format!("cannot lock {}", lock_path.display()))?;
            let Some(lock) = lock else {
                return Err(RunBusy {
                    run: id,
                    outbox: self.path.clone(),
                    owner,
                }
                .into());
            };
            self.held.borrow_mut().insert(id, lock);
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
        if let Some(lock) = self.held.borrow_mut().remove(&run) {
            lock.release_and_remove();
        }
        Ok(())
    }

    /// The lock file of the run with this key: named by a hash, as keys are free text.
    fn lock_path(&self, key: &str) -> PathBuf {
        let mut dir = self.path.file_name().unwrap_or_default().to_os_string();
        dir.push(".locks");
        let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        self.path
            .with_file_name(dir)
            .join(format!("run-{hash:016x}.lock"))
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
        let busy = b.claim("k1", "rally", "{}").unwrap_err();
        let busy = busy.downcast_ref::<RunBusy>().expect("a RunBusy error");
        assert_eq!((busy.run, busy.outbox.as_path()), (run.id, path.as_path()));
        let message = busy.to_string();
        for part in [
            format!("run {}", run.id),
            path.display().to_string(),
            format!("pid {}", std::process::id()),
            "wait for it to end".to_string(),
        ] {
            assert!(message.contains(&part), "{part:?} missing in {message}");
        }
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

    #[test]
    fn a_claimant_that_died_never_blocks_even_when_its_pid_is_alive_again() {
        let dir = std::env::temp_dir().join(format!("tmbridge-outbox-dead-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("outbox.db");
        let first = Outbox::open(&path).unwrap();
        let run = first.claim("k2", "rally", "{}").unwrap();
        // The claimant dies without finishing: its handle and lock are gone...
        drop(first);
        // ...while the owner it wrote names a live process: this very one (a restarted
        // container is PID 1 again), or PID 1 itself.
        for pid in [std::process::id(), 1] {
            let raw = Connection::open(&path).unwrap();
            raw.execute(
                "UPDATE runs SET owner = ?1 WHERE id = ?2",
                params![format!("{pid}:1"), run.id],
            )
            .unwrap();
            let next = Outbox::open(&path).unwrap();
            let again = next.claim("k2", "rally", "{}").unwrap();
            assert_eq!(again.id, run.id);
            // This one dies unfinished as well, for the next round.
        }
        let last = Outbox::open(&path).unwrap();
        let row = last.claim("k2", "rally", "{}").unwrap();
        assert_eq!(row.attempts, 3, "every start counts");
        last.finish(row.id, "done", "{}", "{}").unwrap();
        assert_eq!(
            std::fs::read_dir(dir.join("outbox.db.locks"))
                .unwrap()
                .count(),
            0,
            "a finished run leaves no lock file"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
