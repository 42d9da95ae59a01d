//! A job's artifacts archive (zip), read from its bytes: the members that match the
//! report globs, and the files those reports attach, found by the paths the reports
//! write (runner paths such as `/builds/group/project/shots/a.png` included).

use crate::error::{Error, Result, Warning};
use crate::junit;
use crate::sync::details::gitlab::ArchiveFile;
use base64::Engine;
use std::io::{Cursor, Read};

/// Members larger than this are not read (a report or a screenshot never is).
const MAX_MEMBER_BYTES: u64 = 64 * 1024 * 1024;

/// What one archive gave.
#[derive(Debug, Default)]
pub struct Found {
    pub reports: Vec<ArchiveFile>,
    pub attachments: Vec<ArchiveFile>,
    pub warnings: Vec<Warning>,
}

/// Where the runner kept the project: the prefix of absolute paths in reports.
#[derive(Debug, Clone, Default)]
pub struct RunnerPaths {
    /// `CI_PROJECT_DIR` as configured, e.g. `/builds/group/project`.
    pub project_dir: Option<String>,
    /// `group/project`: GitLab runners check out to `<builds_dir>/<path>`.
    pub project_path: Option<String>,
}

impl RunnerPaths {
    /// The archive member a path from a report points to, if it is in the project.
    fn member_of_absolute(&self, path: &str) -> Option<String> {
        let path = path.replace('\\', "/");
        if let Some(dir) = &self.project_dir {
            let dir = dir.trim_end_matches('/');
            if let Some(rest) = path.strip_prefix(&format!("{dir}/")) {
                return Some(rest.to_string());
            }
        }
        if let Some(project) = &self.project_path {
            let marker = format!("/{}/", project.trim_matches('/'));
            if let Some(at) = path.find(&marker) {
                return Some(path[at + marker.len()..].to_string());
            }
        }
        None
    }
}

/// Reads `bytes` as a zip archive of job `job_id`.
pub fn read(
    job_id: u64,
    bytes: &[u8],
    globs: &[glob::Pattern],
    runner: &RunnerPaths,
) -> Result<Found> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
        Error::new(
            "gitlab.bad_archive",
            format!("the artifacts archive of job {job_id} is not a readable zip file: {e}"),
        )
    })?;
    let names: Vec<String> = (0..zip.len())
        .filter_map(|i| {
            let m = zip.by_index(i).ok()?;
            m.is_file().then(|| m.name().to_string())
        })
        .collect();
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: false,
    };
    let mut found = Found::default();
    for name in &names {
        if !globs.iter().any(|g| g.matches_with(name, options)) {
            continue;
        }
        let Some(content) = member(&mut zip, name, job_id, &mut found.warnings) else {
            continue;
        };
        attachments_of(job_id, name, &content, &names, runner, &mut zip, &mut found);
        found.reports.push(file(job_id, name, name, None, &content));
    }
    Ok(found)
}

/// The files a report attaches that the archive holds.
fn attachments_of(
    job_id: u64,
    report: &str,
    content: &[u8],
    names: &[String],
    runner: &RunnerPaths,
    zip: &mut zip::ZipArchive<Cursor<&[u8]>>,
    found: &mut Found,
) {
    // An unreadable report is still published (and refused there, with its error).
    let Ok(parsed) = junit::parse(content) else {
        return;
    };
    let folder = report.rsplit_once('/').map(|(dir, _)| dir).unwrap_or("");
    for case in parsed.cases() {
        for path in &case.attachments {
            if found
                .attachments
                .iter()
                .any(|a| &a.named_as == path && a.report.as_deref() == Some(report))
            {
                continue;
            }
            let Some(member_name) = locate(path, folder, names, runner) else {
                continue;
            };
            if let Some(bytes) = member(zip, &member_name, job_id, &mut found.warnings) {
                found
                    .attachments
                    .push(file(job_id, &member_name, path, Some(report), &bytes));
            }
        }
    }
}

/// The member an attachment path names: a runner path inside the project, or a
/// path relative to the report's folder, then to the archive's root.
fn locate(path: &str, folder: &str, names: &[String], runner: &RunnerPaths) -> Option<String> {
    let path = path.trim();
    let absolute = path.starts_with('/') || path.as_bytes().get(1) == Some(&b':');
    let candidates: Vec<String> = if absolute {
        runner.member_of_absolute(path).into_iter().collect()
    } else {
        let relative = path.trim_start_matches("./");
        let mut list = Vec::new();
        if !folder.is_empty() {
            list.push(format!("{folder}/{relative}"));
        }
        list.push(relative.to_string());
        list
    };
    candidates
        .into_iter()
        .map(|c| normalise(&c))
        .find(|c| names.iter().any(|n| n == c))
}

/// `a/./b/../c` as `a/c`; a path that climbs out of the archive is dropped whole.
fn normalise(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return String::new();
                }
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

fn member(
    zip: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
    job_id: u64,
    warnings: &mut Vec<Warning>,
) -> Option<Vec<u8>> {
    let mut warn = |why: String| {
        warnings.push(Warning::new(
            "gitlab.member_skipped",
            format!("job {job_id}: {name}: {why}"),
            None,
        ))
    };
    let entry = match zip.by_name(name) {
        Ok(entry) => entry,
        Err(e) => {
            warn(format!("cannot be read: {e}"));
            return None;
        }
    };
    if entry.size() > MAX_MEMBER_BYTES {
        warn(format!(
            "{} bytes, more than the {MAX_MEMBER_BYTES} read",
            entry.size()
        ));
        return None;
    }
    let mut bytes = Vec::new();
    // The declared size may lie: read one byte past the limit to notice.
    match entry.take(MAX_MEMBER_BYTES + 1).read_to_end(&mut bytes) {
        Ok(_) if bytes.len() as u64 <= MAX_MEMBER_BYTES => Some(bytes),
        Ok(_) => {
            warn(format!("more than the {MAX_MEMBER_BYTES} bytes read"));
            None
        }
        Err(e) => {
            warn(format!("cannot be unpacked: {e}"));
            None
        }
    }
}

fn file(
    job_id: u64,
    member: &str,
    named_as: &str,
    report: Option<&str>,
    bytes: &[u8],
) -> ArchiveFile {
    ArchiveFile {
        job_id,
        member: member.to_string(),
        named_as: named_as.to_string(),
        report: report.map(str::to_string),
        content_base64: base64::engine::general_purpose::STANDARD.encode(bytes),
        size: bytes.len() as u64,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;

    /// A zip archive of these members (deflated), as a runner uploads it.
    pub fn archive(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        {
            let mut zip = zip::ZipWriter::new(&mut out);
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            for (name, bytes) in members {
                zip.start_file(*name, options).unwrap();
                zip.write_all(bytes).unwrap();
            }
            zip.finish().unwrap();
        }
        out.into_inner()
    }

    fn globs(list: &[&str]) -> Vec<glob::Pattern> {
        list.iter()
            .map(|g| glob::Pattern::new(g).unwrap())
            .collect()
    }

    const REPORT: &str = r#"<testsuite name="s"><testcase classname="c" name="t">
<failure message="no"/>
<system-out>[[ATTACHMENT|/builds/shop/web/build/shots/t.png]]
[[ATTACHMENT|logs/t.log]]
[[ATTACHMENT|/etc/passwd]]
[[ATTACHMENT|../../outside.txt]]</system-out></testcase></testsuite>"#;

    #[test]
    fn reports_match_the_globs_and_their_attachments_are_found_by_runner_paths() {
        let bytes = archive(&[
            ("build/test-results/test/TEST-a.xml", REPORT.as_bytes()),
            ("build/test-results/test/logs/t.log", b"log"),
            ("build/shots/t.png", b"\x89PNG"),
            ("build/other.xml", b"<x/>"),
            ("outside.txt", b"no"),
        ]);
        let runner = RunnerPaths {
            project_dir: None,
            project_path: Some("shop/web".into()),
        };
        let found = read(7, &bytes, &globs(&["build/test-results/**/*.xml"]), &runner).unwrap();
        let reports: Vec<&str> = found.reports.iter().map(|r| r.member.as_str()).collect();
        assert_eq!(reports, ["build/test-results/test/TEST-a.xml"]);
        let mut attached: Vec<(&str, &str)> = found
            .attachments
            .iter()
            .map(|a| (a.named_as.as_str(), a.member.as_str()))
            .collect();
        attached.sort();
        assert_eq!(
            attached,
            [
                ("/builds/shop/web/build/shots/t.png", "build/shots/t.png"),
                ("logs/t.log", "build/test-results/test/logs/t.log"),
            ]
        );
        let png = &found
            .attachments
            .iter()
            .find(|a| a.member == "build/shots/t.png")
            .unwrap();
        assert_eq!(
            base64::engine::general_purpose::STANDARD
                .decode(&png.content_base64)
                .unwrap(),
            b"\x89PNG"
        );
    }

    #[test]
    fn a_configured_project_dir_maps_runner_paths() {
        let runner = RunnerPaths {
            project_dir: Some("/srv/ci/checkout/".into()),
            project_path: None,
        };
        assert_eq!(
            runner
                .member_of_absolute("/srv/ci/checkout/shots/a.png")
                .as_deref(),
            Some("shots/a.png")
        );
        assert_eq!(runner.member_of_absolute("/etc/passwd"), None);
        assert_eq!(normalise("a/./b/../c"), "a/c");
        assert_eq!(normalise("../x"), "");
    }

    #[test]
    fn a_broken_archive_is_a_typed_error() {
        let e = read(
            3,
            b"PK\x03\x04 not really",
            &globs(&["*.xml"]),
            &RunnerPaths::default(),
        )
        .unwrap_err();
        assert_eq!(e.code, "gitlab.bad_archive");
        assert!(e.message.contains("job 3"));
    }
}
