//! A session run by the WebAssembly core in wasmtime, driven by the same host loop
//! as the native one: the raw ABI's envelopes read back into steps.

use super::Driver;
use anyhow::{Result, anyhow};
use serde::de::DeserializeOwned;
use tmbridge_core::Error;
use tmbridge_core::sync::{HttpResponse, Step};
use tmbridge_wasmtime_runner::WasmSession;

pub struct WasmDriver {
    session: WasmSession,
    /// The units after the last answer (the loop reads them without a call into wasm).
    units: (u64, u64),
}

#[derive(serde::Deserialize)]
struct Units {
    done: u64,
    total: u64,
}

impl WasmDriver {
    /// A session whose start (or resume) the core accepted; its refusal otherwise.
    pub fn opened(mut session: WasmSession) -> std::result::Result<WasmDriver, Error> {
        let opened = session
            .opened()
            .map_err(|e| Error::new("engine.wasm", format!("the WebAssembly core failed: {e}")))?;
        read::<serde_json::Value>(&opened)?;
        Ok(WasmDriver {
            session,
            units: (0, 0),
        })
    }
}

/// The `ok` of an envelope, or its `error` as the core's typed error.
pub fn read<T: DeserializeOwned>(envelope: &[u8]) -> std::result::Result<T, Error> {
    #[derive(serde::Deserialize)]
    struct Envelope {
        ok: serde_json::Value,
        error: Option<Error>,
    }
    let unreadable = |e: serde_json::Error| {
        Error::new(
            "engine.wasm",
            format!("unreadable answer from the WebAssembly core: {e}"),
        )
    };
    let envelope: Envelope = serde_json::from_slice(envelope).map_err(unreadable)?;
    match envelope.error {
        Some(error) => Err(error),
        None => serde_json::from_value(envelope.ok).map_err(unreadable),
    }
}

fn wasm(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("the WebAssembly core failed: {e}")
}

impl Driver for WasmDriver {
    fn next(&mut self) -> Result<Step> {
        Ok(read(&self.session.next().map_err(wasm)?)?)
    }

    fn receive(&mut self, id: u64, response: HttpResponse) -> Result<()> {
        let json = serde_json::to_vec(&response)?;
        read::<()>(&self.session.receive(id, &json).map_err(wasm)?)?;
        let units: Units = read(&self.session.units().map_err(wasm)?)?;
        self.units = (units.done, units.total);
        Ok(())
    }

    fn provide_file(&mut self, id: u64, file: std::result::Result<Vec<u8>, String>) -> Result<()> {
        let given = match &file {
            Ok(bytes) => Ok(bytes.as_slice()),
            Err(reason) => Err(reason.as_str()),
        };
        Ok(read(&self.session.provide_file(id, given).map_err(wasm)?)?)
    }

    fn save_progress(&mut self) -> Result<String> {
        Ok(read(&self.session.save_progress().map_err(wasm)?)?)
    }

    fn units(&self) -> (u64, u64) {
        self.units
    }
}
