//! The GitLab session kinds, as the session API starts and resumes them.

use super::reports::{GitlabReports, ReportsProgress, ReportsRequest};
use crate::error::Result;
use crate::sync::kind::{
    Driven, Kind, Saved, StartRequest, read_json, read_progress, write_input, write_progress,
    write_saved,
};
use crate::sync::secrets::Secrets;

pub const REPORTS: Kind = Kind {
    name: "gitlab.reports",
    summary: "find a pipeline's test reports: jobs, artifacts archives, attached files, or the test report",
    input: "GitlabReportsRequest",
    start,
    resume,
    resume_parts,
};

/// The input schema of each GitLab kind, for the generated binding types.
#[cfg(feature = "schema")]
pub fn input_schemas(g: &mut schemars::SchemaGenerator) -> Vec<(&'static str, schemars::Schema)> {
    vec![(REPORTS.name, g.subschema_for::<ReportsRequest>())]
}

/// The GitLab API token (`PRIVATE-TOKEN`), given as the secrets' `api_key`; a public
/// project needs none.
fn token(secrets: &Secrets) -> Option<String> {
    secrets
        .api_key
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

fn start(bytes: &[u8], secrets: &Secrets) -> Result<Box<dyn Driven>> {
    let request: StartRequest<ReportsRequest> =
        read_json(bytes, "session.invalid_start", "the start request")?;
    Ok(Box::new(GitlabReports::new(
        request.input,
        token(secrets),
        request.options.seed,
        request.options.retry,
    )?))
}

fn resume(bytes: &[u8], secrets: &Secrets) -> Result<Box<dyn Driven>> {
    let saved: Saved<ReportsRequest, ReportsProgress> =
        read_json(bytes, "session.invalid_saved", "the saved session")?;
    Ok(Box::new(GitlabReports::resume(
        saved.input,
        saved.progress,
        token(secrets),
    )?))
}

fn resume_parts(
    kind: &str,
    input: &[u8],
    progress: &[u8],
    secrets: &Secrets,
) -> Result<Box<dyn Driven>> {
    let input: ReportsRequest = read_json(input, "session.invalid_saved", "the saved input")?;
    let progress: ReportsProgress = read_progress(progress, kind)?;
    Ok(Box::new(GitlabReports::resume(
        input,
        progress,
        token(secrets),
    )?))
}

impl Driven for GitlabReports {
    fn save(&self, kind: &str) -> Result<String> {
        write_saved(kind, self.input(), self.progress())
    }

    fn save_progress(&self, kind: &str) -> Result<String> {
        write_progress(kind, self.progress())
    }

    fn input(&self) -> Result<String> {
        write_input(GitlabReports::input(self))
    }

    fn units(&self) -> (u64, u64) {
        GitlabReports::units(self)
    }

    fn is_finished(&self) -> bool {
        GitlabReports::is_finished(self)
    }
}
