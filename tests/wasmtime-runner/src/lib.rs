//! Runs the raw tmbridge WebAssembly module (built from `bindings/wasm` with
//! `--no-default-features --features raw`) inside wasmtime, through its JSON ABI:
//! `alloc`, `dealloc`, `call`, `call_with_document`, `abi_version`.
//!
//! [`run_op`] is the one-shot form; [`WasmCore`] compiles the module once and runs many
//! ops (a fresh instance per call, so no state leaks between calls). The output is the
//! core's envelope, byte for byte what `tmbridge_core::ops::call` returns natively.

use wasmtime::{Engine, Instance, Memory, Module, Result, Store, TypedFunc, bail, format_err};

/// The ABI version this runner speaks.
pub const ABI_VERSION: u32 = 1;

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
        if let Some(import) = module.imports().next() {
            bail!(
                "the module imports {}::{}: use the raw build (--no-default-features --features raw), not the wasm-bindgen one",
                import.module(),
                import.name()
            );
        }
        let core = WasmCore { engine, module };
        let mut session = core.session()?;
        let version = session
            .instance
            .get_typed_func::<(), u32>(&mut session.store, "abi_version")?
            .call(&mut session.store, ())?;
        if version != ABI_VERSION {
            bail!("the module speaks ABI {version}, this runner speaks {ABI_VERSION}");
        }
        Ok(core)
    }

    /// Runs `op` on JSON input; returns the envelope.
    pub fn call(&self, op: &str, input: &[u8]) -> Result<Vec<u8>> {
        self.session()?.call(op, input, None)
    }

    /// Runs `op` with its document given beside the JSON input.
    pub fn call_with_document(&self, op: &str, input: &[u8], document: &[u8]) -> Result<Vec<u8>> {
        self.session()?.call(op, input, Some(document))
    }

    fn session(&self) -> Result<Session> {
        let mut store = Store::new(&self.engine, ());
        let instance = Instance::new(&mut store, &self.module, &[])?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| format_err!("the module exports no memory"))?;
        Ok(Session {
            store,
            instance,
            memory,
        })
    }
}

struct Session {
    store: Store<()>,
    instance: Instance,
    memory: Memory,
}

impl Session {
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
        let out = ((packed >> 32) as u32, packed as u32);
        let mut bytes = vec![0u8; out.1 as usize];
        self.memory.read(&self.store, out.0 as usize, &mut bytes)?;
        self.free(out)?;
        Ok(bytes)
    }
}
