//! Which backend keeps what, as PocketBase chooses: files and records in R2 when a
//! bucket is bound, otherwise in KV when a namespace is bound, otherwise in memory —
//! and in S3 instead whenever the settings enable it, which the API decides per request
//! (the API's `App`); the settings and collections in KV when bound, otherwise
//! beside the files. One function of what the host has, so the Worker calls it and the
//! rule is tested natively.

use super::Storage;
use std::sync::Arc;

/// The name of the R2 bucket binding in `wrangler.toml` (`[[r2_buckets]] binding`).
pub const R2_BINDING: &str = "BUCKET";

/// The name of the KV namespace binding in `wrangler.toml` (`[[kv_namespaces]] binding`).
pub const KV_BINDING: &str = "STORAGE";

/// The backends of one deployment.
#[derive(Clone)]
pub struct Backends {
    /// Files and records while S3 is not enabled.
    pub local: Arc<dyn Storage>,
    /// Settings and imported collections (shared by every isolate of a deployment).
    pub config_store: Arc<dyn Storage>,
}

/// The backends for what is bound: R2 over KV over memory for files, KV over that for
/// the settings. `memory` is called only when nothing is bound.
pub fn choose_backends(
    r2: Option<Arc<dyn Storage>>,
    kv: Option<Arc<dyn Storage>>,
    memory: impl FnOnce() -> Arc<dyn Storage>,
) -> Backends {
    let local = r2.or_else(|| kv.clone()).unwrap_or_else(memory);
    let config_store = kv.unwrap_or_else(|| local.clone());
    Backends { local, config_store }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::Memory;

    fn store() -> Arc<dyn Storage> {
        Arc::new(Memory::new())
    }

    #[test]
    fn files_go_to_r2_then_kv_then_memory_and_settings_to_kv_when_bound() {
        for r2_bound in [false, true] {
            for kv_bound in [false, true] {
                let (r2, kv, memory) = (store(), store(), store());
                let chosen = choose_backends(r2_bound.then(|| r2.clone()), kv_bound.then(|| kv.clone()), || {
                    memory.clone()
                });
                let files = if r2_bound {
                    &r2
                } else if kv_bound {
                    &kv
                } else {
                    &memory
                };
                assert!(Arc::ptr_eq(&chosen.local, files), "files: r2 {r2_bound}, kv {kv_bound}");
                let settings = if kv_bound { &kv } else { files };
                assert!(
                    Arc::ptr_eq(&chosen.config_store, settings),
                    "settings: r2 {r2_bound}, kv {kv_bound}"
                );
            }
        }
    }

    #[test]
    fn memory_is_made_only_when_nothing_is_bound() {
        let mut made = false;
        choose_backends(Some(store()), None, || {
            made = true;
            store()
        });
        assert!(!made);
    }

    #[test]
    fn binding_names() {
        assert_eq!(R2_BINDING, "BUCKET");
        assert_eq!(KV_BINDING, "STORAGE");
    }
}
