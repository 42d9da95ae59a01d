//! Runs the raw tmbridge WebAssembly module (built from `bindings/wasm` with
//! `--no-default-features --features raw`) inside wasmtime, through its JSON ABI:
//! `alloc`, `dealloc`, `call`, `call_with_document`, `abi_version`.
//!
//! [`run_op`] is the one-shot form; [`WasmCore`] compiles the module once and runs many
//! ops (a fresh instance per call, so no state leaks between calls). The output is the
//! core's envelope, byte for byte what `tmbridge_core::ops::call` returns natively.

use std::hash::{Hash, Hasher};
use std::path::Path;
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
        assert!(WasmCore::new(&module(1)).is_ok());
        let err = WasmCore::new(&module(2)).err().expect("ABI 2 refused");
        assert!(err.to_string().contains("ABI 2"), "{err}");
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
        WasmCore::new_cached(&module(1), &dir).expect("compiled");
        let entries: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(entries.len(), 1);
        assert!(entries[0].extension().is_some_and(|x| x == "cwasm"));
        WasmCore::new_cached(&module(1), &dir).expect("loaded from the cache");
        std::fs::write(&entries[0], b"not compiled code").unwrap();
        WasmCore::new_cached(&module(1), &dir).expect("compiled again");
        assert_ne!(std::fs::read(&entries[0]).unwrap(), b"not compiled code");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
