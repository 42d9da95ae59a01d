//! The attachment policy, class by class.

use super::*;

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp(name: &str) -> Dir {
    let dir = std::env::temp_dir().join(format!(
        "tmbridge-attachments-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("report/sub")).unwrap();
    std::fs::create_dir_all(dir.join("elsewhere")).unwrap();
    Dir(dir)
}

fn report_policy(dir: &Path, rules: AttachmentRules) -> Policy {
    Policy::new(&rules)
        .unwrap()
        .for_report(Some(&dir.join("report")))
}

fn refused(lookup: Lookup) -> String {
    match lookup {
        Lookup::Refused(why) => why,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn files_of_the_report_folder_tree_are_found_and_read() {
    let dir = temp("inside");
    std::fs::write(dir.0.join("report/shot.png"), b"PNG").unwrap();
    std::fs::write(dir.0.join("report/sub/log.txt"), b"LOG").unwrap();
    let policy = report_policy(&dir.0, AttachmentRules::default());
    for (name, bytes) in [
        ("shot.png", b"PNG"),
        ("sub/log.txt", b"LOG"),
        ("sub/../shot.png", b"PNG"),
    ] {
        let Lookup::Found(found) = policy.find(name) else {
            panic!("{name} not found");
        };
        assert_eq!(policy.read(&found).unwrap(), bytes);
    }
    let absolute = dir.0.join("report/sub/log.txt");
    assert!(matches!(
        policy.find(absolute.to_str().unwrap()),
        Lookup::Found(_)
    ));
    assert_eq!(policy.find("nothing.png"), Lookup::Missing);
}

#[test]
fn paths_leading_outside_are_refused_with_the_way_to_allow_them() {
    let dir = temp("outside");
    std::fs::write(dir.0.join("elsewhere/secret.txt"), b"SECRET").unwrap();
    let policy = report_policy(&dir.0, AttachmentRules::default());
    let absolute = dir.0.join("elsewhere/secret.txt");
    let why = refused(policy.find(absolute.to_str().unwrap()));
    assert!(why.contains("--attachment-dir"), "{why}");
    assert!(why.contains("the report's folder"), "{why}");
    let why = refused(policy.find("../elsewhere/secret.txt"));
    assert!(why.contains("`..`"), "{why}");
    // Missing or not, a file outside is refused the same way: nothing is told
    // about what exists there.
    let missing = dir.0.join("elsewhere/none.txt");
    assert_eq!(
        policy.find(missing.to_str().unwrap()),
        policy.find(absolute.to_str().unwrap())
    );
    // Allowed explicitly, it is found.
    let rules = AttachmentRules {
        dirs: vec![dir.0.join("elsewhere")],
        ..AttachmentRules::default()
    };
    let policy = report_policy(&dir.0, rules);
    assert!(matches!(
        policy.find(absolute.to_str().unwrap()),
        Lookup::Found(_)
    ));
    assert!(matches!(policy.find("secret.txt"), Lookup::Found(_)));
}

#[test]
fn a_missing_allowed_folder_is_an_error_naming_it() {
    let dir = temp("nofolder");
    let rules = AttachmentRules {
        dirs: vec![dir.0.join("absent")],
        ..AttachmentRules::default()
    };
    let e = Policy::new(&rules).unwrap_err();
    assert!(
        e.contains("--attachment-dir") && e.contains("absent"),
        "{e}"
    );
}

#[test]
fn a_report_without_a_folder_allows_only_the_given_folders() {
    let policy = Policy::new(&AttachmentRules::default())
        .unwrap()
        .for_report(None);
    let why = refused(policy.find("Cargo.toml"));
    assert!(why.contains("no folder of its own"), "{why}");
}

#[cfg(unix)]
#[test]
fn symbolic_links_leading_outside_are_refused() {
    let dir = temp("links");
    std::fs::write(dir.0.join("elsewhere/secret.txt"), b"SECRET").unwrap();
    std::os::unix::fs::symlink(
        dir.0.join("elsewhere/secret.txt"),
        dir.0.join("report/shot.png"),
    )
    .unwrap();
    std::os::unix::fs::symlink(dir.0.join("elsewhere"), dir.0.join("report/linked")).unwrap();
    let policy = report_policy(&dir.0, AttachmentRules::default());
    for name in ["shot.png", "linked/secret.txt"] {
        let why = refused(policy.find(name));
        assert!(why.contains("symbolic link"), "{why}");
    }
}

#[cfg(unix)]
#[test]
fn special_files_are_refused_without_being_opened() {
    let dir = temp("special");
    let fifo = dir.0.join("report/pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let policy = report_policy(&dir.0, AttachmentRules::default());
    let why = refused(policy.find("pipe"));
    assert!(why.contains("FIFO"), "{why}");
    let why = refused(policy.find("sub"));
    assert!(why.contains("folder"), "{why}");
    // Even if a checked file is swapped for a FIFO, the read does not block.
    std::fs::write(dir.0.join("report/swap"), b"x").unwrap();
    let Lookup::Found(found) = policy.find("swap") else {
        panic!("not found");
    };
    std::fs::remove_file(dir.0.join("report/swap")).unwrap();
    std::fs::rename(&fifo, dir.0.join("report/swap")).unwrap();
    let why = policy.read(&found).unwrap_err();
    assert!(why.starts_with("refused"), "{why}");
}

#[cfg(unix)]
#[test]
fn a_file_swapped_for_a_link_after_the_check_is_not_followed() {
    let dir = temp("swap-link");
    std::fs::write(dir.0.join("elsewhere/secret.txt"), b"SECRET").unwrap();
    std::fs::write(dir.0.join("report/shot.png"), b"PNG").unwrap();
    let policy = report_policy(&dir.0, AttachmentRules::default());
    let Lookup::Found(found) = policy.find("shot.png") else {
        panic!("not found");
    };
    std::fs::remove_file(dir.0.join("report/shot.png")).unwrap();
    std::os::unix::fs::symlink(
        dir.0.join("elsewhere/secret.txt"),
        dir.0.join("report/shot.png"),
    )
    .unwrap();
    let why = policy.read(&found).unwrap_err();
    assert!(!why.contains("SECRET"), "{why}");
}

#[test]
fn protected_files_and_their_siblings_are_refused_under_any_name() {
    let dir = temp("protected");
    let outbox = dir.0.join("report/outbox.sqlite3");
    std::fs::write(&outbox, b"SQLite format 3").unwrap();
    std::fs::write(dir.0.join("report/outbox.sqlite3-wal"), b"WAL").unwrap();
    let config = dir.0.join("report/tmbridge.toml");
    std::fs::write(&config, b"api_key = 1").unwrap();
    let rules = AttachmentRules {
        protected: vec![outbox.clone(), config.clone()],
        ..AttachmentRules::default()
    };
    let policy = report_policy(&dir.0, rules);
    for name in [
        "outbox.sqlite3",
        "outbox.sqlite3-wal",
        "tmbridge.toml",
        "sub/../tmbridge.toml",
    ] {
        let why = refused(policy.find(name));
        assert!(why.contains("own state"), "{name}: {why}");
    }
    #[cfg(unix)]
    {
        std::fs::hard_link(&outbox, dir.0.join("report/sub/copy.png")).unwrap();
        let why = refused(policy.find("sub/copy.png"));
        assert!(why.contains("own state"), "{why}");
    }
}

#[test]
fn a_file_over_the_limit_is_refused_even_if_it_grew_after_the_check() {
    let dir = temp("limit");
    let path = dir.0.join("report/grows.log");
    std::fs::write(&path, b"0123456789").unwrap();
    let rules = AttachmentRules {
        max_bytes: 16,
        ..AttachmentRules::default()
    };
    let policy = report_policy(&dir.0, rules);
    let Lookup::Found(found) = policy.find("grows.log") else {
        panic!("not found");
    };
    assert_eq!(found.size, 10);
    assert_eq!(policy.read(&found).unwrap(), b"0123456789");
    std::fs::write(&path, b"0123456789abcdefXYZ").unwrap();
    let why = policy.read(&found).unwrap_err();
    assert!(why.contains("16 B") && why.contains("limit"), "{why}");
}

#[test]
fn refused_files_are_planned_so_that_their_read_reports_the_reason() {
    let dir = temp("plan");
    std::fs::write(dir.0.join("report/shot.png"), b"PNG").unwrap();
    let policy = report_policy(&dir.0, AttachmentRules::default());
    let mut files = Attachments::new(policy.clone());
    assert_eq!(files.add("shot.png", &policy), Some(3));
    assert_eq!(files.add("missing.png", &policy), None);
    assert_eq!(files.add("../x.png", &policy), Some(0));
    assert_eq!(files.read("shot.png").unwrap(), b"PNG");
    assert!(files.read("../x.png").unwrap_err().contains("refused"));
}
