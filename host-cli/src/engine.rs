//! Which build of the core does the work: the native library (default) or the
//! WebAssembly module run in wasmtime (`--engine wasm`). Both answer the same ops with
//! the same bytes; the commands call these functions and never care which runs.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use tmbridge_core::autofill::{self, FillOutput, Schema, Settings};
use tmbridge_core::config::{Config, RefCache, RunContext};
use tmbridge_core::junit::{self, Options};
use tmbridge_core::model::{Report, TestCase};
use tmbridge_core::qtest::{self, QtestPlan};
use tmbridge_core::rally::payload::{self as rally_payload, RallyPlan};
use tmbridge_core::rally::query::{self, CheckOutput, NormalizeOutput};
use tmbridge_core::testrail::{self, TestrailPlan};
use tmbridge_core::{Error, Result};
use tmbridge_wasmtime_runner::WasmCore;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EngineKind {
    /// The core compiled into this binary.
    Native,
    /// The core's WebAssembly build (raw ABI), run in wasmtime.
    Wasm,
}

/// Where the WebAssembly module is looked for when `--wasm` is not given.
pub const DEFAULT_WASM: &str = "pkg/raw/tmbridge_raw.wasm";

static WASM: OnceLock<WasmCore> = OnceLock::new();

/// Chooses the engine for this process; call once, before any command runs.
pub fn select(kind: EngineKind, wasm_path: Option<&Path>) -> anyhow::Result<()> {
    if kind == EngineKind::Native {
        return Ok(());
    }
    let path: PathBuf = wasm_path
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("TMBRIDGE_WASM").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_WASM));
    let bytes = std::fs::read(&path).map_err(|e| {
        anyhow::anyhow!(
            "cannot read the WebAssembly core {}: {e} (build it with scripts/test-bindings.sh, or pass --wasm PATH)",
            path.display()
        )
    })?;
    let core = WasmCore::new(&bytes)
        .map_err(|e| anyhow::anyhow!("cannot load {}: {e}", path.display()))?;
    let _ = WASM.set(core);
    Ok(())
}

/// True when the WebAssembly core does the work.
pub fn is_wasm() -> bool {
    WASM.get().is_some()
}

/// Runs an op in the WebAssembly core and reads its envelope.
fn via_wasm<T: DeserializeOwned>(
    core: &WasmCore,
    op: &str,
    input: &impl Serialize,
    document: Option<&[u8]>,
) -> Result<T> {
    let engine_error = |message: String| Error::new("engine.wasm", message);
    let input = serde_json::to_vec(input).map_err(|e| engine_error(e.to_string()))?;
    let bytes = match document {
        Some(doc) => core.call_with_document(op, &input, doc),
        None => core.call(op, &input),
    }
    .map_err(|e| engine_error(format!("the WebAssembly core failed to run `{op}`: {e}")))?;
    #[derive(serde::Deserialize)]
    struct Envelope<T> {
        ok: Option<T>,
        error: Option<Error>,
    }
    let envelope: Envelope<T> = serde_json::from_slice(&bytes)
        .map_err(|e| engine_error(format!("unreadable answer from `{op}`: {e}")))?;
    match (envelope.ok, envelope.error) {
        (_, Some(error)) => Err(error),
        (Some(ok), None) => Ok(ok),
        (None, None) => Err(engine_error(format!("`{op}` answered nothing"))),
    }
}

pub fn parse_report(xml: &[u8], options: &Options) -> Result<Report> {
    match WASM.get() {
        None => junit::parse_with(xml, options),
        Some(core) => via_wasm(
            core,
            "junit.parse",
            &json!({ "options": options }),
            Some(xml),
        ),
    }
}

pub fn query_check(text: &str, options: &query::Options) -> Result<CheckOutput> {
    match WASM.get() {
        None => Ok(query::check(text, options)),
        Some(core) => via_wasm(
            core,
            "rally_query.check",
            &json!({ "query": text, "options": options }),
            None,
        ),
    }
}

pub fn query_normalize(text: &str, options: &query::Options) -> Result<NormalizeOutput> {
    match WASM.get() {
        None => query::normalize(text, options),
        Some(core) => via_wasm(
            core,
            "rally_query.normalize",
            &json!({ "query": text, "options": options }),
            None,
        ),
    }
}

pub fn query_poll(text: &str, since: &str, options: &query::Options) -> Result<NormalizeOutput> {
    match WASM.get() {
        None => query::poll_query(text, since, options),
        Some(core) => via_wasm(
            core,
            "rally_query.poll",
            &json!({ "query": text, "since": since, "options": options }),
            None,
        ),
    }
}

fn map_input(
    target: &str,
    config: &Config,
    cases: &[TestCase],
    context: &RunContext,
    refs: &RefCache,
) -> serde_json::Value {
    json!({ "target": target, "config": config, "cases": cases, "context": context, "refs": refs })
}

pub fn map_rally(
    config: &Config,
    cases: &[TestCase],
    context: &RunContext,
    refs: &RefCache,
) -> Result<RallyPlan> {
    match WASM.get() {
        None => rally_payload::plan(config, cases, context, refs),
        Some(core) => via_wasm(
            core,
            "map",
            &map_input("rally", config, cases, context, refs),
            None,
        ),
    }
}

pub fn map_qtest(
    config: &Config,
    cases: &[TestCase],
    context: &RunContext,
    refs: &RefCache,
) -> Result<QtestPlan> {
    match WASM.get() {
        None => qtest::plan(config, cases, context, refs),
        Some(core) => via_wasm(
            core,
            "map",
            &map_input("qtest", config, cases, context, refs),
            None,
        ),
    }
}

pub fn map_testrail(
    config: &Config,
    cases: &[TestCase],
    context: &RunContext,
    refs: &RefCache,
) -> Result<TestrailPlan> {
    match WASM.get() {
        None => testrail::plan(config, cases, context, refs),
        Some(core) => via_wasm(
            core,
            "map",
            &map_input("testrail", config, cases, context, refs),
            None,
        ),
    }
}

pub fn autofill_schema(metadata: &[u8]) -> Result<Schema> {
    match WASM.get() {
        None => autofill::schema_from_metadata(metadata),
        Some(core) => via_wasm(core, "autofill.schema", &json!({}), Some(metadata)),
    }
}

pub fn autofill_fill(
    schema: &Schema,
    settings: &Settings,
    run: &autofill::RunContext,
) -> Result<FillOutput> {
    match WASM.get() {
        None => autofill::fill(schema, settings, run),
        Some(core) => via_wasm(
            core,
            "autofill.fill",
            &json!({ "schema": schema, "settings": settings, "run": run }),
            None,
        ),
    }
}
