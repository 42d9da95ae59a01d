//! Runs the raw tmbridge WebAssembly module (built from `bindings/wasm-raw`)
//! inside wasmtime, through its JSON ABI:
//! `alloc`, `dealloc`, `call`, `call_with_document`, `abi_version` and the
//! `session_*` functions.
//!
//! [`run_op`] is the one-shot form; [`WasmCore`] compiles the module once and runs many
//! ops (a fresh instance per call, so no state leaks between calls). The output is the
//! core's envelope, byte for byte what `tmbridge_core::ops::call` returns natively.
//!
//! [`WasmSession`] is a live session in its own instance: `next`, `receive`,
//! `provide_file` and `save` answer with the envelopes of
//! `tmbridge_core::ops::SessionEnvelopes`, byte for byte as natively:
//!
//! ```text
//! let mut s = core.start_session(request_json, secrets_json)?;
//! s.opened()?;                        // {"ok":{"kind":...}} or why it could not start
//! loop { match step_of(s.next()?) {  // {"ok":{"step":"send",...},"error":null}
//!     send => s.receive(id, response_json)?,
//!     read => s.provide_file(id, Ok(bytes))?,
//!     wait => sleep, save => store(ok string of s.save()?), done => break,
//! } }
//! ```

use std::hash::{Hash, Hasher};
use std::path::Path;
use wasmtime::{Engine, Instance, Memory, Module, Result, Store, TypedFunc, bail, format_err};

/// The ABI version this runner speaks (2: ops and sessions).
pub const ABI_VERSION: u32 = 2;

/// Runs one op on a module given as bytes.
pub fn run_op(wasm: &[u8], op: &str, input: &[u8]) -> Result<Vec<u8>> {
    WasmCore::new(wasm)?.call(op, input)
}

/// A compiled module, ready to run ops.
pub struct WasmCore {
    engine: Engine,
    module: Module,
}

impl WasmCore {
    /// Compiles the module and checks that it speaks this ABI and imports nothing.
    pub fn new(wasm: &[u8]) -> Result<WasmCore> {
        let engine = Engine::default();
        let module = Module::new(&engine, wasm)?;
        WasmCore::checked(engine, module)
    }

    /// Like [`WasmCore::new`], keeping the compiled code in `cache_dir` (keyed by a hash
    /// of the module): compiling takes seconds (tens of seconds in a debug build of
    /// wasmtime), loading the cached code milliseconds. The cache must be private to
    /// this user: compiled code is trusted when it is loaded. A stale or foreign entry
    /// is compiled again and replaced.
    pub fn new_cached(wasm: &[u8], cache_dir: &Path) -> Result<WasmCore> {
        let engine = Engine::default();
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        wasm.hash(&mut hasher);
        let path = cache_dir.join(format!(
            "tmbridge-{:016x}-{}.cwasm",
            hasher.finish(),
            wasm.len()
        ));
        if path.is_file() {
            // SAFETY: the file was written by `Module::serialize` below into a cache the
            // caller keeps private; wasmtime checks that it matches this engine.
            if let Ok(module) = unsafe { Module::deserialize_file(&engine, &path) } {
                return WasmCore::checked(engine, module);
            }
        }
        let module = Module::new(&engine, wasm)?;
        let core = WasmCore::checked(engine, module)?;
        // A cache that cannot be written only costs time.
        if std::fs::create_dir_all(cache_dir).is_ok()
            && let Ok(bytes) = core.module.serialize()
        {
            let partial = path.with_extension("partial");
            if std::fs::write(&partial, bytes).is_ok() {
                let _ = std::fs::rename(&partial, &path);
            }
        }
        Ok(core)
    }

    fn checked(engine: Engine, module: Module) -> Result<WasmCore> {
        if let Some(import) = module.imports().next() {
            bail!(
                "the module imports {}::{}: use the raw module (crate tmbridge-wasm-raw, pkg/raw/tmbridge_raw.wasm), not the wasm-bindgen one",
                import.module(),
                import.name()
            );
        }
        let core = WasmCore { engine, module };
        let mut live = core.instance()?;
        let version = live
            .instance
            .get_typed_func::<(), u32>(&mut live.store, "abi_version")?
            .call(&mut live.store, ())?;
        if version != ABI_VERSION {
            bail!("the module speaks ABI {version}, this runner speaks {ABI_VERSION}");
        }
        Ok(core)
    }

    /// Runs `op` on JSON input; returns the envelope.
    pub fn call(&self, op: &str, input: &[u8]) -> Result<Vec<u8>> {
        self.instance()?.call(op, input, None)
    }

    /// Runs `op` with its document given beside the JSON input.
    pub fn call_with_document(&self, op: &str, input: &[u8], document: &[u8]) -> Result<Vec<u8>> {
        self.instance()?.call(op, input, Some(document))
    }

    /// Starts a session from a start request (`{"kind", "input", "options"}`) and the
    /// secrets (`{"api_key": ...}`), both JSON, in an instance of its own. A refused
    /// start is still a session: [`WasmSession::opened`] says why.
    pub fn start_session(&self, request_json: &[u8], secrets_json: &[u8]) -> Result<WasmSession> {
        WasmSession::open(
            self.instance()?,
            "session_start",
            request_json,
            secrets_json,
        )
    }

    /// Goes on from saved progress (what [`WasmSession::save`] gave, in any runtime).
    pub fn resume_session(&self, saved_json: &[u8], secrets_json: &[u8]) -> Result<WasmSession> {
        WasmSession::open(self.instance()?, "session_resume", saved_json, secrets_json)
    }

    /// Goes on from an input and progress stored apart (what [`WasmSession::input`]
    /// and [`WasmSession::save_progress`] gave, in any runtime).
    pub fn resume_session_parts(
        &self,
        kind: &str,
        input_json: &[u8],
        progress_json: &[u8],
        secrets_json: &[u8],
    ) -> Result<WasmSession> {
        let mut live = self.instance()?;
        let bufs = [
            live.put(kind.as_bytes())?,
            live.put(input_json)?,
            live.put(progress_json)?,
            live.put(secrets_json)?,
        ];
        type Open = TypedFunc<(u32, u32, u32, u32, u32, u32, u32, u32), u32>;
        let open: Open = live
            .instance
            .get_typed_func(&mut live.store, "session_resume_parts")?;
        let handle = open.call(
            &mut live.store,
            (
                bufs[0].0, bufs[0].1, bufs[1].0, bufs[1].1, bufs[2].0, bufs[2].1, bufs[3].0,
                bufs[3].1,
            ),
        )?;
        for buf in bufs {
            live.free(buf)?;
        }
        Ok(WasmSession { live, handle })
    }

    fn instance(&self) -> Result<Live> {
        let mut store = Store::new(&self.engine, ());
        let instance = Instance::new(&mut store, &self.module, &[])?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| format_err!("the module exports no memory"))?;
        Ok(Live {
            store,
            instance,
            memory,
        })
    }
}

/// A live session of the core inside its own instance of the module. Every method
/// answers with the core's envelope bytes; `Err` only when wasmtime itself fails.
pub struct WasmSession {
    live: Live,
    handle: u32,
}

impl WasmSession {
    fn open(mut live: Live, function: &str, first: &[u8], secrets: &[u8]) -> Result<WasmSession> {
        let first_buf = live.put(first)?;
        let secrets_buf = live.put(secrets)?;
        let open: TypedFunc<(u32, u32, u32, u32), u32> =
            live.instance.get_typed_func(&mut live.store, function)?;
        let handle = open.call(
            &mut live.store,
            (first_buf.0, first_buf.1, secrets_buf.0, secrets_buf.1),
        )?;
        live.free(first_buf)?;
        live.free(secrets_buf)?;
        Ok(WasmSession { live, handle })
    }

    /// `{"ok":{"kind":...},"error":null}`, or why the session could not start.
    pub fn opened(&mut self) -> Result<Vec<u8>> {
        self.on_handle("session_opened")
    }

    /// The next step: `{"ok":{"step":...},"error":null}`.
    #[allow(clippy::should_implement_trait)] // `next` as in every session of the core
    pub fn next(&mut self) -> Result<Vec<u8>> {
        self.on_handle("session_next")
    }

    /// The answer to request `id`, as `HttpResponse` JSON.
    pub fn receive(&mut self, id: u64, response_json: &[u8]) -> Result<Vec<u8>> {
        let buf = self.live.put(response_json)?;
        let receive: TypedFunc<(u32, u64, u32, u32), u64> = self
            .live
            .instance
            .get_typed_func(&mut self.live.store, "session_receive")?;
        let packed = receive.call(&mut self.live.store, (self.handle, id, buf.0, buf.1))?;
        self.live.free(buf)?;
        self.live.take(packed)
    }

    /// The bytes of the file `id` asked for, or why it could not be read.
    pub fn provide_file(
        &mut self,
        id: u64,
        file: std::result::Result<&[u8], &str>,
    ) -> Result<Vec<u8>> {
        let (bytes, is_error) = match file {
            Ok(bytes) => (bytes, 0),
            Err(reason) => (reason.as_bytes(), 1),
        };
        let buf = self.live.put(bytes)?;
        let provide: TypedFunc<(u32, u64, u32, u32, u32), u64> = self
            .live
            .instance
            .get_typed_func(&mut self.live.store, "session_provide_file")?;
        let packed = provide.call(
            &mut self.live.store,
            (self.handle, id, buf.0, buf.1, is_error),
        )?;
        self.live.free(buf)?;
        self.live.take(packed)
    }

    /// The saved progress, as a JSON string inside the envelope.
    pub fn save(&mut self) -> Result<Vec<u8>> {
        self.on_handle("session_save")
    }

    /// The progress alone, as a JSON string inside the envelope.
    pub fn save_progress(&mut self) -> Result<Vec<u8>> {
        self.on_handle("session_save_progress")
    }

    /// `{"done", "total"}` units of work, inside the envelope.
    pub fn units(&mut self) -> Result<Vec<u8>> {
        self.on_handle("session_units")
    }

    /// The session's input as it keeps it, as a JSON string inside the envelope.
    pub fn input(&mut self) -> Result<Vec<u8>> {
        self.on_handle("session_input")
    }

    /// Ends the session inside the module; later calls answer with the error
    /// `session.unknown_handle`. Dropping a `WasmSession` frees everything anyway.
    pub fn free(&mut self) -> Result<()> {
        let free: TypedFunc<u32, ()> = self
            .live
            .instance
            .get_typed_func(&mut self.live.store, "session_free")?;
        free.call(&mut self.live.store, self.handle)
    }

    fn on_handle(&mut self, function: &str) -> Result<Vec<u8>> {
        let f: TypedFunc<u32, u64> = self
            .live
            .instance
            .get_typed_func(&mut self.live.store, function)?;
        let packed = f.call(&mut self.live.store, self.handle)?;
        self.live.take(packed)
    }
}

/// One instance of the module with its memory.
struct Live {
    store: Store<()>,
    instance: Instance,
    memory: Memory,
}

impl Live {
    fn put(&mut self, bytes: &[u8]) -> Result<(u32, u32)> {
        let len = u32::try_from(bytes.len()).map_err(|_| format_err!("input larger than 4 GiB"))?;
        let alloc: TypedFunc<u32, u32> = self.instance.get_typed_func(&mut self.store, "alloc")?;
        let ptr = alloc.call(&mut self.store, len)?;
        self.memory.write(&mut self.store, ptr as usize, bytes)?;
        Ok((ptr, len))
    }

    fn free(&mut self, (ptr, len): (u32, u32)) -> Result<()> {
        let dealloc: TypedFunc<(u32, u32), ()> =
            self.instance.get_typed_func(&mut self.store, "dealloc")?;
        dealloc.call(&mut self.store, (ptr, len))
    }

    fn call(&mut self, op: &str, input: &[u8], document: Option<&[u8]>) -> Result<Vec<u8>> {
        let op_buf = self.put(op.as_bytes())?;
        let input_buf = self.put(input)?;
        let packed = match document {
            None => {
                let call: TypedFunc<(u32, u32, u32, u32), u64> =
                    self.instance.get_typed_func(&mut self.store, "call")?;
                call.call(
                    &mut self.store,
                    (op_buf.0, op_buf.1, input_buf.0, input_buf.1),
                )?
            }
            Some(document) => {
                let doc_buf = self.put(document)?;
                let call: TypedFunc<(u32, u32, u32, u32, u32, u32), u64> = self
                    .instance
                    .get_typed_func(&mut self.store, "call_with_document")?;
                let packed = call.call(
                    &mut self.store,
                    (
                        op_buf.0,
                        op_buf.1,
                        input_buf.0,
                        input_buf.1,
                        doc_buf.0,
                        doc_buf.1,
                    ),
                )?;
                self.free(doc_buf)?;
                packed
            }
        };
        self.free(op_buf)?;
        self.free(input_buf)?;
        self.take(packed)
    }

    /// Reads the envelope at a packed `(ptr << 32) | len` and frees it.
    fn take(&mut self, packed: u64) -> Result<Vec<u8>> {
        let out = ((packed >> 32) as u32, packed as u32);
        let mut bytes = vec![0u8; out.1 as usize];
        self.memory.read(&self.store, out.0 as usize, &mut bytes)?;
        self.free(out)?;
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(module (memory (export "memory") 1) (func (export "abi_version") (result i32) i32.const N))`
    fn module(abi: u8) -> Vec<u8> {
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        m.extend([1, 5, 1, 0x60, 0, 1, 0x7f]); // type: [] -> [i32]
        m.extend([3, 2, 1, 0]); // one function of type 0
        m.extend([5, 3, 1, 0, 1]); // one memory, at least one page
        m.extend([7, 0x18, 2, 11]);
        m.extend(b"abi_version");
        m.extend([0, 0, 6]);
        m.extend(b"memory");
        m.extend([2, 0]);
        m.extend([10, 6, 1, 4, 0, 0x41, abi, 0x0b]); // i32.const abi
        m
    }

    #[test]
    fn checks_the_abi_version() {
        assert!(WasmCore::new(&module(2)).is_ok());
        // ABI 1 had no sessions.
        let err = WasmCore::new(&module(1)).err().expect("ABI 1 refused");
        assert!(err.to_string().contains("ABI 1"), "{err}");
        let err = WasmCore::new(&module(3)).err().expect("ABI 3 refused");
        assert!(err.to_string().contains("ABI 3"), "{err}");
    }

    #[test]
    fn refuses_modules_with_imports() {
        // (module (import "env" "f" (func)))
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        m.extend([1, 4, 1, 0x60, 0, 0]);
        m.extend([2, 9, 1, 3]);
        m.extend(b"env");
        m.extend([1]);
        m.extend(b"f");
        m.extend([0, 0]);
        let err = WasmCore::new(&m).err().expect("imports refused");
        assert!(err.to_string().contains("env::f"), "{err}");
    }

    #[test]
    fn the_cache_is_written_then_used_and_survives_garbage() {
        let dir = std::env::temp_dir().join(format!("tmbridge-runner-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        WasmCore::new_cached(&module(2), &dir).expect("compiled");
        let entries: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(entries.len(), 1);
        assert!(entries[0].extension().is_some_and(|x| x == "cwasm"));
        WasmCore::new_cached(&module(2), &dir).expect("loaded from the cache");
        std::fs::write(&entries[0], b"not compiled code").unwrap();
        WasmCore::new_cached(&module(2), &dir).expect("compiled again");
        assert_ne!(std::fs::read(&entries[0]).unwrap(), b"not compiled code");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
