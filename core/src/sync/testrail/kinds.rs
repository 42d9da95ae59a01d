//! The TestRail session kinds, as the session API starts and resumes them.

use super::connect::{Connect, ConnectInput};
use super::driver::{Logic, Progress, TestrailSession};
use super::link::Credentials;
use super::publish::{PublishInput, PublishLogic};
use crate::error::{Error, Result};
use crate::sync::kind::StartOptions;
use crate::sync::kind::{Driven, Kind, Saved, StartRequest, read_json, read_progress};
use crate::sync::secrets::Secrets;
use serde::de::DeserializeOwned;

pub const CONNECT: Kind = Kind {
    name: "testrail.connect",
    summary: "check the URL, the credentials, the project, the suite, the section, the statuses and fields",
    input: "{ config: Config }",
    start: start::<ConnectInput>,
    resume: resume::<Connect>,
    resume_parts: resume_parts::<Connect>,
};

pub const PUBLISH: Kind = Kind {
    name: "testrail.publish",
    summary: "export cases (created or updated), a run or plan entry, results in batches and their attachments",
    input: "{ config: Config, cases: TestCase[], context: RunContext, cache?: RefCache }",
    start: start::<PublishInput>,
    resume: resume::<PublishLogic>,
    resume_parts: resume_parts::<PublishLogic>,
};

/// The input schema of each TestRail kind, for the generated binding types.
#[cfg(feature = "schema")]
pub fn input_schemas(g: &mut schemars::SchemaGenerator) -> Vec<(&'static str, schemars::Schema)> {
    vec![
        (CONNECT.name, g.subschema_for::<ConnectInput>()),
        (PUBLISH.name, g.subschema_for::<PublishInput>()),
    ]
}

/// A kind's start input: builds the session.
trait TestrailStart: DeserializeOwned {
    type Logic: Logic<Input = Self> + 'static;
    fn build(self, c: Credentials, o: StartOptions) -> Result<TestrailSession<Self::Logic>>;
}

impl TestrailStart for ConnectInput {
    type Logic = Connect;
    fn build(self, c: Credentials, o: StartOptions) -> Result<TestrailSession<Connect>> {
        TestrailSession::<Connect>::new(self, c, o.seed, o.retry)
    }
}

impl TestrailStart for PublishInput {
    type Logic = PublishLogic;
    fn build(self, c: Credentials, o: StartOptions) -> Result<TestrailSession<PublishLogic>> {
        TestrailSession::<PublishLogic>::new(self, c, o.seed, o.retry)
    }
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// TestRail's credentials from the host's secrets: the user name, and the API key
/// (or, failing that, the password).
pub fn credentials(secrets: &Secrets) -> Result<Credentials> {
    let secret = given(&secrets.api_key).or_else(|| given(&secrets.password));
    match (given(&secrets.username), secret) {
        (Some(user), Some(secret)) => Ok(Credentials {
            user: user.to_string(),
            secret: secret.to_string(),
        }),
        _ => Err(Error::new("session.no_credentials", "no TestRail credentials were given")
            .with_hint("pass {\"username\": <the user's email>, \"api_key\": ...} (or \"password\" instead of the API key)")),
    }
}

fn start<S: TestrailStart>(bytes: &[u8], secrets: &Secrets) -> Result<Box<dyn Driven>> {
    let request: StartRequest<S> = read_json(bytes, "session.invalid_start", "the start request")?;
    Ok(Box::new(
        request
            .input
            .build(credentials(secrets)?, request.options)?,
    ))
}

fn resume<L: Logic + 'static>(bytes: &[u8], secrets: &Secrets) -> Result<Box<dyn Driven>> {
    let saved: Saved<L::Input, Progress<L>> =
        read_json(bytes, "session.invalid_saved", "the saved session")?;
    Ok(Box::new(TestrailSession::resume(
        saved.input,
        saved.progress,
        credentials(secrets)?,
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
    Ok(Box::new(TestrailSession::resume(
        input,
        progress,
        credentials(secrets)?,
    )))
}
