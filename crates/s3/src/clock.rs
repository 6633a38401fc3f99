//! The current time, on every platform edgefs runs on, and the date formats
//! ([`edgefs_sigv4::time`]).
//!
//! `std::time::SystemTime::now()` panics on `wasm32-unknown-unknown`, so there the time
//! comes from JavaScript's `Date.now()` (the `js` feature).

pub use edgefs_sigv4::time::*;
#[allow(unused_imports)] // which of these a target uses depends on its cfg
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The current time.
#[allow(clippy::needless_return)] // one `return` per target, chosen by cfg
pub fn now() -> SystemTime {
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    {
        #[cfg(feature = "js")]
        {
            let millis = js_sys::Date::now();
            return UNIX_EPOCH + Duration::from_millis(millis as u64);
        }
        #[cfg(not(feature = "js"))]
        {
            // Without JavaScript there is no clock on this target; a 1970 date would
            // only make every signature fail later, and less clearly.
            panic!("edgefs: on wasm32-unknown-unknown the clock comes from JavaScript: enable the `js` feature, or pass the time to the signer yourself");
        }
    }
    #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
    {
        SystemTime::now()
    }
}
