//! The qTest session kinds, as the session API starts and resumes them. The token
//! comes as the secrets' `api_key`.

use super::session::{Logic, Progress, QtestSession, QtestStart};
use crate::error::Result;
use crate::sync::kind::{
    Driven, Kind, Saved, StartRequest, read_json, read_progress, write_input, write_progress,
    write_saved,
};
use crate::sync::secrets::Secrets;

pub const CONNECT: Kind = Kind {
    name: "qtest.connect",
    summary: "check the qTest site, the token, the project and its automation settings",
    input: "{ config: Config }",
    start: start::<super::connect::ConnectStart>,
    resume: resume::<super::connect::Connect>,
    resume_parts: resume_parts::<super::connect::Connect>,
};

pub const PUBLISH: Kind = Kind {
    name: "qtest.publish",
    summary: "publish test results: modules, test cases, the job's test cycle, a suite per browser, test runs and one test log per execution",
    input: "{ config: Config, cases: TestCase[], context: RunContext, cache?: RefCache }",
    start: start::<super::publish::PublishInput>,
    resume: resume::<super::publish::PublishLogic>,
    resume_parts: resume_parts::<super::publish::PublishLogic>,
};

pub const REQUIREMENTS: Kind = Kind {
    name: "qtest.requirements",
    summary: "bring Rally user stories in as requirements of one module (created or updated only when changed) and report the test cases linked to them",
    input: "{ config: Config, request: QtestRequirementsRequest }",
    start: start::<super::requirements::RequirementsStart>,
    resume: resume::<super::requirements::QtestRequirements>,
    resume_parts: resume_parts::<super::requirements::QtestRequirements>,
};

pub const FAILED_RUN: Kind = Kind {
    name: "qtest.failed_run",
    summary: "read a failed test run, its test case, its latest test log and the log's files, for a defect",
    input: "{ config: Config, request: FailedRunRequest }",
    start: start::<super::failed_run::FailedRunStart>,
    resume: resume::<super::failed_run::FailedRun>,
    resume_parts: resume_parts::<super::failed_run::FailedRun>,
};

pub const LINK_DEFECT: Kind = Kind {
    name: "qtest.link_defect",
    summary: "link a Rally defect back to the qTest test run it was filed from (a comment on the run)",
    input: "{ config: Config, request: LinkDefectRequest }",
    start: start::<super::link_defect::LinkDefectStart>,
    resume: resume::<super::link_defect::LinkDefect>,
    resume_parts: resume_parts::<super::link_defect::LinkDefect>,
};

/// The input schema of each qTest kind, for the generated binding types.
#[cfg(feature = "schema")]
pub fn input_schemas(g: &mut schemars::SchemaGenerator) -> Vec<(&'static str, schemars::Schema)> {
    vec![
        (
            CONNECT.name,
            g.subschema_for::<super::connect::ConnectStart>(),
        ),
        (
            PUBLISH.name,
            g.subschema_for::<super::publish::PublishInput>(),
        ),
        (
            REQUIREMENTS.name,
            g.subschema_for::<super::requirements::RequirementsStart>(),
        ),
        (
            FAILED_RUN.name,
            g.subschema_for::<super::failed_run::FailedRunStart>(),
        ),
        (
            LINK_DEFECT.name,
            g.subschema_for::<super::link_defect::LinkDefectStart>(),
        ),
    ]
}

/// The token from the secrets: the `api_key`, trimmed.
fn token(secrets: &Secrets) -> Option<String> {
    secrets
        .api_key
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

fn start<S: QtestStart>(bytes: &[u8], secrets: &Secrets) -> Result<Box<dyn Driven>>
where
    S::Logic: 'static,
{
    let request: StartRequest<S> = read_json(bytes, "session.invalid_start", "the start request")?;
    Ok(Box::new(
        request.input.build(token(secrets), request.options)?,
    ))
}

fn resume<L: Logic + 'static>(bytes: &[u8], secrets: &Secrets) -> Result<Box<dyn Driven>> {
    let saved: Saved<L::Input, Progress<L>> =
        read_json(bytes, "session.invalid_saved", "the saved session")?;
    Ok(Box::new(QtestSession::resume(
        saved.input,
        saved.progress,
        token(secrets),
    )))
}

fn resume_parts<L: Logic + 'static>(
    kind: &str,
    input: &[u8],
    progress: &[u8],
    secrets: &Secrets,
) -> Result<Box<dyn Driven>> {
    let input: L::Input = read_json(input, "session.invalid_saved", "the saved input")?;
    let progress: Progress<L> = read_progress(progress, kind)?;
    Ok(Box::new(QtestSession::resume(
        input,
        progress,
        token(secrets),
    )))
}

impl<L: Logic> Driven for QtestSession<L> {
    fn save(&self, kind: &str) -> Result<String> {
        write_saved(kind, self.input(), self.progress())
    }

    fn save_progress(&self, kind: &str) -> Result<String> {
        write_progress(kind, self.progress())
    }

    fn input(&self) -> Result<String> {
        write_input(QtestSession::input(self))
    }

    fn units(&self) -> (u64, u64) {
        QtestSession::units(self)
    }

    fn is_finished(&self) -> bool {
        QtestSession::is_finished(self)
    }
}
