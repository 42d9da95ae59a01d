//! Which files a report may make tmbridge read and upload. A report names its
//! attachments itself, so it must not be able to name just any file of the host:
//! files come only from allowed folders (the report's own folder tree and the folders
//! the user adds), after symbolic links are resolved; only regular files, never
//! tmbridge's own state (outbox, event store, configuration), never over a size limit.
//! A refusal carries a reason a person can act on; it never holds the file's content.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};
use tmbridge_core::rally::attachments::{RALLY_MAX_ATTACHMENT_BYTES, human_size};

/// What `tmbridge publish` tells a person whose file lies outside the allowed folders.
pub const HOW_TO_ALLOW_PUBLISH: &str = "to attach it, allow its folder with --attachment-dir DIR (or move the file under the report's folder)";

/// The rules a publish reads attachments by.
#[derive(Debug, Clone)]
pub struct AttachmentRules {
    /// Folders allowed besides each report's own folder tree.
    pub dirs: Vec<PathBuf>,
    /// Files never attached (their SQLite `-wal`, `-shm` and `-journal` siblings too).
    pub protected: Vec<PathBuf>,
    /// The largest file read.
    pub max_bytes: u64,
    /// How a person gets a refused file outside the allowed folders attached.
    pub how_to_allow: String,
    /// Paths as reports name them (a CI runner's `/builds/...`) and the local copy the
    /// host fetched for each; the copy is then checked like any other file.
    pub fetched: BTreeMap<String, PathBuf>,
}

impl Default for AttachmentRules {
    fn default() -> Self {
        AttachmentRules {
            dirs: Vec::new(),
            protected: Vec::new(),
            max_bytes: RALLY_MAX_ATTACHMENT_BYTES,
            how_to_allow: HOW_TO_ALLOW_PUBLISH.into(),
            fetched: BTreeMap::new(),
        }
    }
}

/// A folder attachments may come from.
#[derive(Debug, Clone)]
struct Root {
    /// Absolute, without `.` and `..`, symbolic links kept: for checks by name.
    named: PathBuf,
    /// Symbolic links resolved: for the check that counts.
    real: PathBuf,
    /// How messages name it.
    label: String,
}

/// The rules, with folders and protected files resolved.
#[derive(Debug, Clone)]
pub struct Policy {
    roots: Vec<Root>,
    fetched: BTreeMap<String, PathBuf>,
    /// Absolute paths of protected files, each as named and with its folder resolved.
    protected: Vec<PathBuf>,
    max_bytes: u64,
    how_to_allow: String,
}

/// A file that passed the checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Symbolic links resolved.
    pub path: PathBuf,
    pub size: u64,
    /// Device and inode: the file read must be the file checked.
    identity: Option<(u64, u64)>,
}

/// What an attachment path named in a report leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Found(Found),
    /// No such file in the allowed folders.
    Missing,
    /// The file may not be attached; why, for people.
    Refused(String),
}

impl Policy {
    /// Resolves the rules' folders; a folder that is not there is an error naming it.
    pub fn new(rules: &AttachmentRules) -> Result<Policy, String> {
        let mut policy = Policy {
            roots: Vec::new(),
            fetched: rules.fetched.clone(),
            protected: Vec::new(),
            max_bytes: rules.max_bytes,
            how_to_allow: rules.how_to_allow.clone(),
        };
        for dir in &rules.dirs {
            let label = format!("--attachment-dir {}", dir.display());
            let root = Root::new(dir, label)
                .map_err(|e| format!("--attachment-dir {}: {e}", dir.display()))?;
            policy.roots.push(root);
        }
        for file in &rules.protected {
            policy.protect(file);
        }
        Ok(policy)
    }

    /// The same policy with a report's folder allowed first (`None`: a report with no
    /// folder of its own, such as standard input).
    pub fn for_report(&self, folder: Option<&Path>) -> Policy {
        let mut policy = self.clone();
        if let Some(folder) = folder {
            let shown = if folder.as_os_str().is_empty() {
                Path::new(".")
            } else {
                folder
            };
            let label = format!("the report's folder {}", shown.display());
            // The report was just read from there, so the folder exists; if it cannot
            // be resolved, nothing is allowed from it.
            if let Ok(own) = Root::new(shown, label) {
                policy.roots.insert(0, own);
            }
        }
        policy
    }

    fn protect(&mut self, file: &Path) {
        let mut names = vec![file.as_os_str().to_os_string()];
        for suffix in ["-wal", "-shm", "-journal"] {
            let mut name = file.as_os_str().to_os_string();
            name.push(suffix);
            names.push(name);
        }
        for name in names {
            let path = PathBuf::from(name);
            if let Some(p) = std::path::absolute(&path).ok().and_then(|p| lexical(&p)) {
                self.protected.push(p);
            }
            // The file itself may not exist yet (an outbox is created later): resolve
            // its folder and keep its name.
            if let (Some(parent), Some(name)) = (path.parent(), path.file_name()) {
                let parent = if parent.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    parent
                };
                if let Ok(real) = parent.canonicalize() {
                    self.protected.push(real.join(name));
                }
            }
        }
    }

    /// Finds the file a report names, without opening it.
    pub fn find(&self, attachment: &str) -> Lookup {
        let given = match self.fetched.get(attachment.trim()) {
            Some(copy) => copy.as_path(),
            None => Path::new(attachment),
        };
        if attachment.trim().is_empty() {
            return Lookup::Missing;
        }
        let candidates: Vec<PathBuf> = if given.is_absolute() {
            lexical(given)
                .filter(|p| self.roots.iter().any(|r| r.contains_by_name(p)))
                .into_iter()
                .collect()
        } else {
            self.roots
                .iter()
                .filter_map(|r| lexical(&r.named.join(given)).filter(|p| p.starts_with(&r.named)))
                .collect()
        };
        if candidates.is_empty() {
            return Lookup::Refused(self.outside(given));
        }
        for candidate in candidates {
            match candidate.canonicalize() {
                Ok(real) => return self.check(&real),
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Lookup::Refused(format!("refused: {}", io_reason(&e))),
            }
        }
        Lookup::Missing
    }

    fn outside(&self, given: &Path) -> String {
        let roots = if self.roots.is_empty() {
            "none: the report has no folder of its own".to_string()
        } else {
            self.roots
                .iter()
                .map(|r| r.label.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let climbs = !given.is_absolute() && given.components().any(|c| c == Component::ParentDir);
        let how = if climbs {
            "its `..` leads outside"
        } else {
            "it is outside"
        };
        format!(
            "refused: {how} the folders attachments may come from ({roots}); {}",
            self.how_to_allow
        )
    }

    /// The checks on a path with its symbolic links resolved.
    fn check(&self, real: &Path) -> Lookup {
        if !self.roots.iter().any(|r| real.starts_with(&r.real)) {
            return Lookup::Refused(format!(
                "refused: it is a symbolic link (or lies under one) that leads outside the folders attachments may come from; {}",
                self.how_to_allow
            ));
        }
        if self.is_protected_path(real) {
            return Lookup::Refused(PROTECTED.into());
        }
        // Not followed: `real` has no link left, and a special file must not be opened.
        let meta = match std::fs::symlink_metadata(real) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Lookup::Missing,
            Err(e) => return Lookup::Refused(format!("refused: {}", io_reason(&e))),
        };
        if !meta.file_type().is_file() {
            return Lookup::Refused(format!(
                "refused: it is {}, not a regular file",
                kind_of(&meta.file_type())
            ));
        }
        let identity = identity(&meta);
        if identity.is_some() && self.protected_identities().contains(&identity) {
            return Lookup::Refused(PROTECTED.into());
        }
        Lookup::Found(Found {
            path: real.to_path_buf(),
            size: meta.len(),
            identity,
        })
    }

    fn is_protected_path(&self, real: &Path) -> bool {
        self.protected.iter().any(|p| real.starts_with(p))
    }

    /// Device and inode of the protected files as they are now (a hard link to the
    /// outbox has another name but the same inode).
    fn protected_identities(&self) -> Vec<Option<(u64, u64)>> {
        self.protected
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| identity(&m))
            .filter(Option::is_some)
            .collect()
    }

    /// Reads a file [`Policy::find`] found: opened without following a link and without
    /// blocking, checked to be the same regular file, at most `max_bytes` read.
    pub fn read(&self, found: &Found) -> Result<Vec<u8>, String> {
        let file =
            open_no_follow(&found.path).map_err(|e| format!("refused: {}", io_reason(&e)))?;
        let meta = file
            .metadata()
            .map_err(|e| format!("refused: {}", io_reason(&e)))?;
        if !meta.file_type().is_file() {
            return Err(format!(
                "refused: it is {}, not a regular file",
                kind_of(&meta.file_type())
            ));
        }
        let now = identity(&meta);
        if now != found.identity {
            return Err(
                "refused: the file was replaced while the reports were read; run again".into(),
            );
        }
        if now.is_some() && self.protected_identities().contains(&now) {
            return Err(PROTECTED.into());
        }
        let mut bytes = Vec::new();
        file.take(self.max_bytes.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| format!("refused: {}", io_reason(&e)))?;
        if bytes.len() as u64 > self.max_bytes {
            return Err(format!(
                "refused: it is larger than {}, the limit for one attachment; link it from the result instead (rally.artifact_url)",
                human_size(self.max_bytes)
            ));
        }
        Ok(bytes)
    }
}

const PROTECTED: &str = "refused: it is tmbridge's own state (the outbox, the event store or the configuration file), which is never attached";

impl Root {
    fn new(dir: &Path, label: String) -> Result<Root, String> {
        let real = dir.canonicalize().map_err(|e| io_reason(&e))?;
        if !real.is_dir() {
            return Err("not a folder".into());
        }
        let named = std::path::absolute(dir)
            .ok()
            .and_then(|p| lexical(&p))
            .unwrap_or_else(|| real.clone());
        Ok(Root { named, real, label })
    }

    /// Whether an absolute path (without `..`) lies in this folder by name, through
    /// the folder as given or as resolved.
    fn contains_by_name(&self, path: &Path) -> bool {
        path.starts_with(&self.named) || path.starts_with(&self.real)
    }
}

/// The path with `.` dropped and `..` applied to the names before it; `None` when a
/// `..` goes above the start.
fn lexical(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() || out.as_os_str().is_empty() {
                    return None;
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    Some(out)
}

/// An I/O error without the path (the caller names the attachment).
fn io_reason(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        io::ErrorKind::NotFound => "not found".into(),
        _ => e.to_string(),
    }
}

fn kind_of(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_block_device() || t.is_char_device() {
            return "a device";
        }
    }
    if t.is_dir() {
        "a folder"
    } else if t.is_symlink() {
        "a symbolic link"
    } else {
        "a special file"
    }
}

#[cfg(unix)]
fn identity(meta: &std::fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn identity(_meta: &std::fs::Metadata) -> Option<(u64, u64)> {
    None
}

#[cfg(unix)]
fn open_no_follow(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
        .open(path)
}

#[cfg(not(unix))]
fn open_no_follow(path: &Path) -> io::Result<File> {
    File::open(path)
}

/// The attachments of a publish: each path a report names → what it leads to.
#[derive(Debug, Clone)]
pub struct Attachments {
    policy: Policy,
    lookups: BTreeMap<String, Lookup>,
}

impl Attachments {
    pub fn new(policy: Policy) -> Attachments {
        Attachments {
            policy,
            lookups: BTreeMap::new(),
        }
    }

    /// Looks up a path a report named, with that report's policy. The size the plan
    /// gets: a found file's; a refused file is given 0 so that it is planned as an
    /// upload whose read fails with the refusal, which the report then lists with the
    /// reason (a missing one is linked as not found, as before).
    pub fn add(&mut self, path: &str, policy: &Policy) -> Option<u64> {
        let lookup = policy.find(path);
        let size = match &lookup {
            Lookup::Found(f) => Some(f.size),
            Lookup::Refused(_) => Some(0),
            Lookup::Missing => None,
        };
        self.lookups.insert(path.to_string(), lookup);
        size
    }

    /// The bytes of an attachment, or why not.
    pub fn read(&self, path: &str) -> Result<Vec<u8>, String> {
        match self.lookups.get(path) {
            Some(Lookup::Found(found)) => self.policy.read(found),
            Some(Lookup::Refused(why)) => Err(why.clone()),
            Some(Lookup::Missing) | None => {
                Err("not found in the folders attachments may come from".into())
            }
        }
    }
}

#[cfg(test)]
mod tests;
