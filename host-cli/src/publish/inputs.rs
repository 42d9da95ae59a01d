//! What a publish starts from: the tests of the reports, the files they attach,
//! the clock, and the key that recognises the same work when it comes again.

use super::attachments::{Attachments, Policy};
use anyhow::{Result, anyhow};
use std::path::Path;
use tmbridge_core::config::ArtifactInfo;
use tmbridge_core::junit;
use tmbridge_core::model::TestCase;
use tmbridge_core::sync::rally::PublishInput;

pub struct Loaded {
    pub cases: Vec<TestCase>,
    pub artifacts: Vec<ArtifactInfo>,
    /// What each attachment path the reports name leads to, under the policy.
    pub files: Attachments,
}

/// Parses the reports and looks up the files their tests attach, each under the
/// policy with its report's folder allowed.
pub fn load(reports: &[(String, Vec<u8>)], policy: &Policy) -> Result<Loaded> {
    let mut out = Loaded {
        cases: Vec::new(),
        artifacts: Vec::new(),
        files: Attachments::new(policy.clone()),
    };
    for (name, bytes) in reports {
        let report = junit::parse(bytes).map_err(|e| anyhow!("{name}: {e}"))?;
        for w in &report.warnings {
            eprintln!("warning: {name}: {} [{}]", w.message, w.code);
        }
        let report_policy = policy.for_report(report_folder(name));
        for case in report.cases() {
            for path in &case.attachments {
                if out.artifacts.iter().any(|a| &a.path == path) {
                    continue;
                }
                let size = out.files.add(path, &report_policy);
                out.artifacts.push(ArtifactInfo {
                    path: path.clone(),
                    size,
                    content_type: None,
                    url: None,
                });
            }
            out.cases.push(case.clone());
        }
    }
    Ok(out)
}

/// The folder of a report read from a file; a report from standard input has none.
fn report_folder(name: &str) -> Option<&Path> {
    let path = Path::new(name);
    if path.is_file() { path.parent() } else { None }
}

/// The clock as RFC 3339.
pub fn clock() -> Result<String> {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| anyhow!("the clock is before 1970: {e}"))?
        .as_millis();
    tmbridge_core::config::context::timestamp_from_unix_millis(
        i64::try_from(ms).unwrap_or(i64::MAX),
    )
    .map_err(|e| anyhow!("{e}"))
}

pub fn clock_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    (nanos as u64) ^ u64::from(std::process::id()).rotate_left(32)
}

/// Recognises the same work: target, configuration, tests and run values, but not
/// the clock nor the ref cache (they change between two tries of the same work).
pub fn run_key(target: &str, input: &PublishInput) -> Result<String> {
    let mut stable = input.clone();
    stable.context.now = String::new();
    stable.cache = Default::default();
    let text = format!("{target}\n{}", serde_json::to_string(&stable)?);
    Ok(format!(
        "{target}-{:016x}{:016x}",
        fnv1a(text.as_bytes(), 0xcbf2_9ce4_8422_2325),
        fnv1a(text.as_bytes(), 0x6c62_272e_07bb_0142)
    ))
}

fn fnv1a(bytes: &[u8], offset: u64) -> u64 {
    bytes.iter().fold(offset, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tmbridge_core::config::{Config, RunContext};

    #[test]
    fn the_key_ignores_the_clock_and_the_cache_only() {
        let input = |now: &str, pipeline: &str| PublishInput {
            config: Config::default(),
            cases: Vec::new(),
            context: RunContext {
                now: now.into(),
                pipeline_id: Some(pipeline.into()),
                ..RunContext::default()
            },
            cache: Default::default(),
        };
        let a = run_key("rally", &input("2024-05-01T10:00:00Z", "1")).unwrap();
        let mut later = input("2024-05-02T10:00:00Z", "1");
        later
            .cache
            .rally_test_cases
            .insert("TC1".into(), "/testcase/1".into());
        assert_eq!(a, run_key("rally", &later).unwrap());
        assert_ne!(
            a,
            run_key("rally", &input("2024-05-01T10:00:00Z", "2")).unwrap()
        );
        assert_ne!(
            a,
            run_key("qtest", &input("2024-05-01T10:00:00Z", "1")).unwrap()
        );
    }
}
