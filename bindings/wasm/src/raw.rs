//! The raw ABI: JSON bytes in linear memory, no imports.
//!
//! A host allocates the op name and the input with [`alloc`], writes them, calls
//! [`call`], reads the envelope at the returned `(ptr << 32) | len`, then frees all
//! three buffers with [`dealloc`]. The envelope is the same JSON as
//! `tmbridge_core::ops::call` produces.

use tmbridge_core::ops;

/// Version of this ABI; a host checks it before calling anything else.
#[unsafe(no_mangle)]
pub extern "C" fn abi_version() -> u32 {
    1
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
