//! The raw ABI: JSON bytes in linear memory, no imports.
//!
//! Ops: a host allocates the op name and the input with [`alloc`], writes them, calls
//! [`call`], reads the envelope at the returned `(ptr << 32) | len`, then frees all
//! three buffers with [`dealloc`]. The envelope is the same JSON as
//! `tmbridge_core::ops::call` produces.
//!
//! Sessions (ABI 2) live in a table inside the module, named by a `u32` handle:
//!
//! ```text
//! h = session_start(request, secrets)     // or session_resume(saved, secrets); never 0
//! session_opened(h)                       // {"ok": {"kind": ...}} or why it could not start
//! loop:
//!   session_next(h)                       // {"ok": Step}
//!   send   -> session_receive(h, id, HttpResponse JSON)
//!   read   -> session_provide_file(h, id, bytes, 0) or (h, id, reason, 1)
//!   wait   -> sleep ms
//!   save   -> store the ok string of session_save(h), or: store session_input(h)
//!             once and the ok string of session_save_progress(h) at each save, and
//!             go on with session_resume_parts(kind, input, progress, secrets)
//!   done   -> stop
//! session_free(h)
//! ```
//!
//! Every `session_*` function except `session_start`, `session_resume` and
//! `session_free` returns a packed envelope, exactly the bytes
//! `tmbridge_core::ops::SessionEnvelopes` gives in every other runtime. A refused
//! start still takes a handle (its `session_opened` says why): free it too. A handle
//! that was never given or is freed answers with the error `session.unknown_handle`.
//! Request ids are `u64`; text arguments are UTF-8 ranges written like op inputs.

// Pointers are 32-bit only on wasm32: the raw ABI exists only there.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::collections::BTreeMap;
use tmbridge_core::Error;
use tmbridge_core::ops::{self, SessionEnvelopes};

/// Version of this ABI; a host checks it before calling anything else. 2: sessions.
#[unsafe(no_mangle)]
pub extern "C" fn abi_version() -> u32 {
    2
}

/// Reserves `len` bytes for the host to write into. Never returns null for `len > 0`.
#[unsafe(no_mangle)]
pub extern "C" fn alloc(len: u32) -> u32 {
    let buffer = vec![0u8; len as usize].into_boxed_slice();
    Box::into_raw(buffer) as *mut u8 as usize as u32
}

/// Frees a buffer from [`alloc`] or from the result of [`call`].
///
/// # Safety
/// `ptr` and `len` must be exactly what `alloc` returned (or what `call` packed), once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn dealloc(ptr: u32, len: u32) {
    if len == 0 {
        return;
    }
    let slice = std::ptr::slice_from_raw_parts_mut(ptr as usize as *mut u8, len as usize);
    // SAFETY: the caller passes back a boxed slice of exactly this length.
    drop(unsafe { Box::from_raw(slice) });
}

/// Runs an op: `op` and `input` are UTF-8 and JSON bytes in this module's memory.
/// Returns the envelope as `(ptr << 32) | len`; free it with [`dealloc`].
///
/// # Safety
/// The two ranges must lie inside buffers the host wrote (e.g. from [`alloc`]).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn call(op_ptr: u32, op_len: u32, input_ptr: u32, input_len: u32) -> u64 {
    // SAFETY: forwarded from the caller's contract.
    let (op, input) = unsafe { (bytes(op_ptr, op_len), bytes(input_ptr, input_len)) };
    pack(ops::call(&String::from_utf8_lossy(op), input))
}

/// Like [`call`], with the op's document as a third range of bytes.
///
/// # Safety
/// As for [`call`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn call_with_document(
    op_ptr: u32,
    op_len: u32,
    input_ptr: u32,
    input_len: u32,
    document_ptr: u32,
    document_len: u32,
) -> u64 {
    // SAFETY: forwarded from the caller's contract.
    let (op, input, document) = unsafe {
        (
            bytes(op_ptr, op_len),
            bytes(input_ptr, input_len),
            bytes(document_ptr, document_len),
        )
    };
    pack(ops::call_with_document(
        &String::from_utf8_lossy(op),
        input,
        document,
    ))
}

/// # Safety
/// `ptr..ptr+len` must be initialised memory of this module (any `ptr` when `len` is 0).
unsafe fn bytes<'a>(ptr: u32, len: u32) -> &'a [u8] {
    if len == 0 {
        return &[];
    }
    // SAFETY: guaranteed by the caller.
    unsafe { std::slice::from_raw_parts(ptr as usize as *const u8, len as usize) }
}

fn pack(out: Vec<u8>) -> u64 {
    let out = out.into_boxed_slice();
    let len = out.len() as u64;
    let ptr = Box::into_raw(out) as *mut u8 as usize as u64;
    (ptr << 32) | len
}

/// The live sessions. A wasm32 module without threads has one thread: a thread-local
/// is a plain global here.
#[derive(Default)]
struct Table {
    sessions: BTreeMap<u32, SessionEnvelopes>,
    last: u32,
}

thread_local! {
    static TABLE: RefCell<Table> = RefCell::new(Table::default());
}

fn insert(session: SessionEnvelopes) -> u32 {
    TABLE.with_borrow_mut(|table| {
        // Handles count up from 1 and are not reused while the module lives; after
        // 2^32 - 1 sessions they wrap, skipping 0 and live handles.
        let mut handle = table.last;
        loop {
            handle = handle.wrapping_add(1).max(1);
            if !table.sessions.contains_key(&handle) {
                break;
            }
        }
        table.last = handle;
        table.sessions.insert(handle, session);
        handle
    })
}

/// Runs `f` on the session `handle`, or answers that there is none.
fn with_session(handle: u32, f: impl FnOnce(&mut SessionEnvelopes) -> Vec<u8>) -> u64 {
    let out = TABLE.with_borrow_mut(|table| table.sessions.get_mut(&handle).map(f));
    pack(out.unwrap_or_else(|| {
        ops::error_envelope(
            &Error::new(
                "session.unknown_handle",
                format!("there is no session with handle {handle}"),
            )
            .with_hint(
                "use the handle session_start or session_resume returned, before session_free",
            ),
        )
    }))
}

/// Starts a session from a start request (`{"kind", "input", "options"}`) and the
/// secrets (`{"api_key": ...}`; empty for none), both JSON. Returns its handle.
///
/// # Safety
/// As for [`call`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn session_start(
    request_ptr: u32,
    request_len: u32,
    secrets_ptr: u32,
    secrets_len: u32,
) -> u32 {
    // SAFETY: forwarded from the caller's contract.
    let (request, secrets) = unsafe {
        (
            bytes(request_ptr, request_len),
            bytes(secrets_ptr, secrets_len),
        )
    };
    insert(SessionEnvelopes::start(request, secrets))
}

/// Goes on from saved progress (what `session_save` gave, in any runtime).
///
/// # Safety
/// As for [`call`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn session_resume(
    saved_ptr: u32,
    saved_len: u32,
    secrets_ptr: u32,
    secrets_len: u32,
) -> u32 {
    // SAFETY: forwarded from the caller's contract.
    let (saved, secrets) =
        unsafe { (bytes(saved_ptr, saved_len), bytes(secrets_ptr, secrets_len)) };
    insert(SessionEnvelopes::resume(saved, secrets))
}

/// Goes on from an input and progress stored apart (what `session_input` and
/// `session_save_progress` gave, in any runtime), for the kind named (UTF-8).
///
/// # Safety
/// As for [`call`].
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)] // four byte strings, each a pointer and a length
pub unsafe extern "C" fn session_resume_parts(
    kind_ptr: u32,
    kind_len: u32,
    input_ptr: u32,
    input_len: u32,
    progress_ptr: u32,
    progress_len: u32,
    secrets_ptr: u32,
    secrets_len: u32,
) -> u32 {
    // SAFETY: forwarded from the caller's contract.
    let (kind, input, progress, secrets) = unsafe {
        (
            bytes(kind_ptr, kind_len),
            bytes(input_ptr, input_len),
            bytes(progress_ptr, progress_len),
            bytes(secrets_ptr, secrets_len),
        )
    };
    let kind = String::from_utf8_lossy(kind);
    insert(SessionEnvelopes::resume_parts(
        &kind, input, progress, secrets,
    ))
}

/// `{"kind": ...}`, or why the session could not start.
#[unsafe(no_mangle)]
pub extern "C" fn session_opened(handle: u32) -> u64 {
    with_session(handle, |s| s.opened())
}

/// The next step.
#[unsafe(no_mangle)]
pub extern "C" fn session_next(handle: u32) -> u64 {
    with_session(handle, SessionEnvelopes::next_envelope)
}

/// The answer to request `id`, as `HttpResponse` JSON.
///
/// # Safety
/// As for [`call`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn session_receive(
    handle: u32,
    id: u64,
    response_ptr: u32,
    response_len: u32,
) -> u64 {
    // SAFETY: forwarded from the caller's contract.
    let response = unsafe { bytes(response_ptr, response_len) };
    with_session(handle, |s| s.receive(id, response))
}

/// The bytes of the file `id` asked for; or, with `is_error` not 0, why it could not
/// be read (UTF-8 text).
///
/// # Safety
/// As for [`call`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn session_provide_file(
    handle: u32,
    id: u64,
    ptr: u32,
    len: u32,
    is_error: u32,
) -> u64 {
    // SAFETY: forwarded from the caller's contract.
    let given = unsafe { bytes(ptr, len) };
    let file = if is_error == 0 {
        Ok(given.to_vec())
    } else {
        Err(String::from_utf8_lossy(given).into_owned())
    };
    with_session(handle, |s| s.provide_file(id, file))
}

/// The saved progress, as a JSON string inside the envelope.
#[unsafe(no_mangle)]
pub extern "C" fn session_save(handle: u32) -> u64 {
    with_session(handle, |s| s.save())
}

/// The progress alone, as a JSON string inside the envelope.
#[unsafe(no_mangle)]
pub extern "C" fn session_save_progress(handle: u32) -> u64 {
    with_session(handle, |s| s.save_progress())
}

/// `{"done", "total"}` units of work, for progress displays.
#[unsafe(no_mangle)]
pub extern "C" fn session_units(handle: u32) -> u64 {
    with_session(handle, |s| s.units())
}

/// The session's input as it keeps it, as a JSON string inside the envelope.
#[unsafe(no_mangle)]
pub extern "C" fn session_input(handle: u32) -> u64 {
    with_session(handle, |s| s.input())
}

/// Ends a session and frees its memory; an unknown handle is ignored.
#[unsafe(no_mangle)]
pub extern "C" fn session_free(handle: u32) {
    let gone = TABLE.with_borrow_mut(|table| table.sessions.remove(&handle));
    drop(gone);
}
