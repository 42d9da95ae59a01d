//! Exclusive locks that the operating system drops when their process ends, however
//! it ends (kill -9 included). Ownership of a publish run or of a `serve` state file
//! is decided by these locks alone, never by a process id: ids are reused (in a
//! container every restart is PID 1 again) and would keep a dead owner "alive".
//!
//! A lock is held on an open file (`flock` on Unix, `LockFileEx` on Windows), so two
//! handles in the same process exclude each other too. The file is never inherited
//! by child processes (std opens files close-on-exec).

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::path::{Path, PathBuf};

/// A held lock; dropping it lets go.
#[derive(Debug)]
pub struct FileLock {
    file: File,
    path: PathBuf,
}

impl FileLock {
    /// Takes the lock on `path` (created if missing) without waiting. `Ok(None)`
    /// when a live process (or another handle of this one) holds it.
    pub fn try_acquire(path: &Path) -> io::Result<Option<FileLock>> {
        loop {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => return Ok(None),
                Err(TryLockError::Error(e)) => return Err(e),
            }
            // The previous holder may have removed the file between our open and our
            // lock: then we hold a lock nobody else can see, and open the name again.
            if still_named(&file, path)? {
                return Ok(Some(FileLock {
                    file,
                    path: path.to_path_buf(),
                }));
            }
        }
    }

    /// Lets go and removes the file, so finished work leaves no lock file behind.
    pub fn release_and_remove(self) {
        // Removed while still held: whoever opens the name next creates a new file,
        // and whoever opened the old one finds it unnamed after locking it.
        #[cfg(unix)]
        let _ = std::fs::remove_file(&self.path);
        drop(self.file);
    }
}

/// Whether `path` still names the file we hold open.
#[cfg(unix)]
fn still_named(file: &File, path: &Path) -> io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let held = file.metadata()?;
    match std::fs::metadata(path) {
        Ok(named) => Ok(named.dev() == held.dev() && named.ino() == held.ino()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Lock files are not removed where an open file cannot be (see `release_and_remove`).
#[cfg(not(unix))]
fn still_named(_file: &File, _path: &Path) -> io::Result<bool> {
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_path(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tmbridge-lock-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("x.lock")
    }

    #[test]
    fn one_holder_at_a_time_and_free_once_dropped_or_removed() {
        let path = temp_path("holders");
        let first = FileLock::try_acquire(&path).unwrap().expect("free");
        assert!(FileLock::try_acquire(&path).unwrap().is_none(), "held");
        drop(first);
        let second = FileLock::try_acquire(&path)
            .unwrap()
            .expect("free after drop");
        // Someone opened the file while it was held; the holder then removes it.
        let stale = File::open(&path).unwrap();
        second.release_and_remove();
        assert!(!path.exists(), "the lock file is removed");
        stale.try_lock().unwrap();
        // The old, unnamed file being locked does not block the name.
        let third = FileLock::try_acquire(&path)
            .unwrap()
            .expect("free after removal");
        assert!(path.exists());
        drop(third);
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }
}
