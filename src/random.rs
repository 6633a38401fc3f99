//! Cryptographically secure random bytes, on every platform edgefs runs on: the
//! runtime's `crypto.getRandomValues` in Workers and browsers, the operating system
//! natively, `wasi:random` in the component. Without the `wasi` crate, std's hash keys
//! (seeded from `wasi:random`) key a SipHash PRF over a counter: the `getrandom` crate's
//! wasip2 bindings crash the component linker.

/// Fills `bytes` with random data.
pub fn fill(bytes: &mut [u8]) {
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    {
        #[cfg(feature = "js")]
        {
            use wasm_bindgen::{JsCast, JsValue};
            // getRandomValues takes at most 65536 bytes at a time.
            for chunk in bytes.chunks_mut(65_536) {
                let array = js_sys::Uint8Array::new_with_length(chunk.len() as u32);
                let crypto = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("crypto"))
                    .expect("globalThis.crypto exists in Workers and browsers");
                let get_random_values: js_sys::Function =
                    js_sys::Reflect::get(&crypto, &JsValue::from_str("getRandomValues"))
                        .and_then(|f| f.dyn_into())
                        .expect("crypto.getRandomValues exists in Workers and browsers");
                get_random_values
                    .call1(&crypto, &array)
                    .expect("getRandomValues succeeds");
                array.copy_to(chunk);
            }
        }
        // The sans-IO layers (signing, the S3 protocol) build without JavaScript; only
        // what needs randomness (record ids, file names) stops here.
        #[cfg(not(feature = "js"))]
        {
            let _ = bytes;
            panic!("edgefs: on wasm32-unknown-unknown randomness comes from JavaScript: enable the `js` feature");
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        getrandom::fill(bytes).expect("the operating system's random source is available");
    }
    #[cfg(all(target_os = "wasi", feature = "wasi-http"))]
    {
        let random = wasi::random::random::get_random_bytes(bytes.len() as u64);
        bytes.copy_from_slice(&random[..bytes.len()]);
    }
    #[cfg(all(
        target_arch = "wasm32",
        not(target_os = "unknown"),
        not(all(target_os = "wasi", feature = "wasi-http"))
    ))]
    {
        use std::hash::{BuildHasher, Hasher};
        use std::sync::atomic::{AtomicU64, Ordering};
        use std::sync::OnceLock;
        static KEYS: OnceLock<std::collections::hash_map::RandomState> = OnceLock::new();
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let keys = KEYS.get_or_init(std::collections::hash_map::RandomState::new);
        for chunk in bytes.chunks_mut(8) {
            let mut hasher = keys.build_hasher();
            hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
            chunk.copy_from_slice(&hasher.finish().to_le_bytes()[..chunk.len()]);
        }
    }
}

/// PocketBase's alphabet for ids and file-name suffixes.
pub const LOWERCASE_ALPHANUMERIC: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// `length` characters drawn uniformly from `alphabet` (rejection sampling, no bias).
pub fn string(length: usize, alphabet: &[u8]) -> String {
    assert!(!alphabet.is_empty() && alphabet.len() <= 256);
    let limit = 256 - 256 % alphabet.len();
    let mut out = String::with_capacity(length);
    let mut buffer = [0u8; 64];
    while out.len() < length {
        fill(&mut buffer);
        for &byte in &buffer {
            if (byte as usize) < limit && out.len() < length {
                out.push(alphabet[byte as usize % alphabet.len()] as char);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_use_the_alphabet_and_differ() {
        let a = string(15, LOWERCASE_ALPHANUMERIC);
        let b = string(15, LOWERCASE_ALPHANUMERIC);
        assert_eq!(a.len(), 15);
        assert!(a.bytes().all(|c| LOWERCASE_ALPHANUMERIC.contains(&c)));
        assert_ne!(a, b);
    }
}
