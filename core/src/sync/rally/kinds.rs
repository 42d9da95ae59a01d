//! The Rally session kinds, as the session API starts and resumes them.

use super::connect::Connect;
use super::defect::Defect;
use super::driver::{Logic, Progress, RallySession, SessionOptions};
use super::link::Credentials;
use super::link_case::LinkCase;
use super::requirements::Requirements;
use super::schema::{SchemaLogic, SchemaRequest};
use super::{DefectRequest, LinkRequest, Publish, PublishInput, RequirementsRequest};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::sync::kind::{
    Driven, Kind, Saved, StartRequest, read_json, read_progress, write_input, write_progress,
    write_saved,
};
use crate::sync::secrets::Secrets;
use serde::Deserialize;
use serde::de::DeserializeOwned;

pub const CONNECT: Kind = Kind {
    name: "rally.connect",
    summary: "check the URL, the credentials, the workspace and the project",
    input: "{ config: Config }",
    start: start::<ConnectStart>,
    resume: resume::<Connect>,
    resume_parts: resume_parts::<Connect>,
};

pub const SCHEMA: Kind = Kind {
    name: "rally.schema",
    summary: "load a type's form metadata (Defect by default), attributes and allowed values paged",
    input: "{ config: Config, request?: SchemaRequest }",
    start: start::<SchemaStart>,
    resume: resume::<SchemaLogic>,
    resume_parts: resume_parts::<SchemaLogic>,
};

pub const PUBLISH: Kind = Kind {
    name: "rally.publish",
    summary: "publish test results: TestCaseResults, attachments, the sprint's test set",
    input: "{ config: Config, cases: TestCase[], context: RunContext, cache?: RefCache }",
    start: start::<PublishInput>,
    resume: resume::<super::PublishLogic>,
    resume_parts: resume_parts::<super::PublishLogic>,
};

pub const REQUIREMENTS: Kind = Kind {
    name: "rally.requirements",
    summary: "import user stories by query, or the changes since a saved cursor",
    input: "{ config: Config, request: RequirementsRequest }",
    start: start::<RequirementsStart>,
    resume: resume::<Requirements>,
    resume_parts: resume_parts::<Requirements>,
};

pub const LINK_CASE: Kind = Kind {
    name: "rally.link_case",
    summary: "create a test case once and link it to its first user story",
    input: "{ config: Config, request: LinkRequest }",
    start: start::<LinkStart>,
    resume: resume::<LinkCase>,
    resume_parts: resume_parts::<LinkCase>,
};

pub const DEFECT: Kind = Kind {
    name: "rally.defect",
    summary: "submit an auto-filled defect and link it",
    input: "{ config: Config, request: DefectRequest }",
    start: start::<DefectStart>,
    resume: resume::<Defect>,
    resume_parts: resume_parts::<Defect>,
};

/// The input schema of each Rally kind, for the generated binding types.
#[cfg(feature = "schema")]
pub fn input_schemas(g: &mut schemars::SchemaGenerator) -> Vec<(&'static str, schemars::Schema)> {
    vec![
        (CONNECT.name, g.subschema_for::<ConnectStart>()),
        (SCHEMA.name, g.subschema_for::<SchemaStart>()),
        (PUBLISH.name, g.subschema_for::<PublishInput>()),
        (REQUIREMENTS.name, g.subschema_for::<RequirementsStart>()),
        (LINK_CASE.name, g.subschema_for::<LinkStart>()),
        (DEFECT.name, g.subschema_for::<DefectStart>()),
    ]
}

/// A kind's start input: builds the session.
trait RallyStart: DeserializeOwned {
    type Logic: Logic;
    fn build(
        self,
        credentials: Credentials,
        options: SessionOptions,
    ) -> Result<RallySession<Self::Logic>>;
}

#[derive(Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "RallyConnectInput")
)]
#[serde(deny_unknown_fields)]
struct ConnectStart {
    config: Config,
}

impl RallyStart for ConnectStart {
    type Logic = Connect;
    fn build(self, c: Credentials, o: SessionOptions) -> Result<RallySession<Connect>> {
        RallySession::<Connect>::new(&self.config.rally.resolved()?, c, o)
    }
}

impl RallyStart for PublishInput {
    type Logic = super::PublishLogic;
    fn build(mut self, c: Credentials, o: SessionOptions) -> Result<Publish> {
        // The active connection, as every Rally kind uses it.
        self.config.rally = self.config.rally.resolved()?;
        Publish::new(self, c, o)
    }
}

#[derive(Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "RallyRequirementsInput")
)]
#[serde(deny_unknown_fields)]
struct RequirementsStart {
    config: Config,
    #[serde(default)]
    request: RequirementsRequest,
}

impl RallyStart for RequirementsStart {
    type Logic = Requirements;
    fn build(self, c: Credentials, o: SessionOptions) -> Result<RallySession<Requirements>> {
        RallySession::<Requirements>::new(&self.config.rally.resolved()?, self.request, c, o)
    }
}

#[derive(Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "RallyLinkCaseInput")
)]
#[serde(deny_unknown_fields)]
struct LinkStart {
    config: Config,
    request: LinkRequest,
}

impl RallyStart for LinkStart {
    type Logic = LinkCase;
    fn build(self, c: Credentials, o: SessionOptions) -> Result<RallySession<LinkCase>> {
        RallySession::<LinkCase>::new(&self.config.rally.resolved()?, self.request, c, o)
    }
}

#[derive(Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "RallyDefectInput")
)]
#[serde(deny_unknown_fields)]
struct DefectStart {
    config: Config,
    request: DefectRequest,
}

impl RallyStart for DefectStart {
    type Logic = Defect;
    fn build(self, c: Credentials, o: SessionOptions) -> Result<RallySession<Defect>> {
        RallySession::<Defect>::new(&self.config.rally.resolved()?, self.request, c, o)
    }
}

#[derive(Deserialize)]
#[cfg_attr(
    feature = "schema",
    derive(schemars::JsonSchema),
    schemars(rename = "RallySchemaInput")
)]
#[serde(deny_unknown_fields)]
struct SchemaStart {
    config: Config,
    #[serde(default)]
    request: SchemaRequest,
}

impl RallyStart for SchemaStart {
    type Logic = SchemaLogic;
    fn build(self, c: Credentials, o: SessionOptions) -> Result<RallySession<SchemaLogic>> {
        RallySession::<SchemaLogic>::new(&self.config.rally.resolved()?, self.request, c, o)
    }
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Rally's credentials from the host's secrets: the API key first, else user name
/// and password.
pub fn credentials(secrets: &Secrets) -> Result<Credentials> {
    if let Some(key) = given(&secrets.api_key) {
        return Ok(Credentials::ApiKey(key.to_string()));
    }
    match (given(&secrets.username), given(&secrets.password)) {
        (Some(username), Some(password)) => Ok(Credentials::Basic {
            username: username.to_string(),
            password: password.to_string(),
        }),
        _ => Err(
            Error::new("session.no_credentials", "no Rally credentials were given").with_hint(
                "pass {\"api_key\": ...} (a Rally API key) or {\"username\": ..., \"password\": ...}",
            ),
        ),
    }
}

fn start<S: RallyStart>(bytes: &[u8], secrets: &Secrets) -> Result<Box<dyn Driven>>
where
    S::Logic: 'static,
{
    let request: StartRequest<S> = read_json(bytes, "session.invalid_start", "the start request")?;
    let options = SessionOptions {
        seed: request.options.seed,
        retry: request.options.retry,
    };
    let session = request.input.build(credentials(secrets)?, options)?;
    Ok(Box::new(session))
}

fn resume<L: Logic + 'static>(bytes: &[u8], secrets: &Secrets) -> Result<Box<dyn Driven>> {
    let saved: Saved<L::Input, Progress<L>> =
        read_json(bytes, "session.invalid_saved", "the saved session")?;
    Ok(Box::new(RallySession::resume(
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
    Ok(Box::new(RallySession::resume(
        input,
        progress,
        credentials(secrets)?,
    )))
}

impl<L: Logic> Driven for RallySession<L> {
    fn save(&self, kind: &str) -> Result<String> {
        write_saved(kind, self.input(), self.progress())
    }

    fn save_progress(&self, kind: &str) -> Result<String> {
        write_progress(kind, self.progress())
    }

    fn input(&self) -> Result<String> {
        write_input(RallySession::input(self))
    }

    fn units(&self) -> (u64, u64) {
        RallySession::units(self)
    }

    fn is_finished(&self) -> bool {
        RallySession::is_finished(self)
    }

    fn change_is_looked_up(&self) -> bool {
        RallySession::change_is_looked_up(self)
    }
}
