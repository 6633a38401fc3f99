//! Which backend serves the files, as PocketBase chooses: S3 when the settings enable
//! it; otherwise R2 when a bucket is bound; otherwise KV when a namespace is bound;
//! otherwise memory. A pure function of what is configured, so the Worker's glue can
//! call it per request and the rule is tested natively.

/// The name of the R2 bucket binding in `wrangler.toml` (`[[r2_buckets]] binding`).
pub const R2_BINDING: &str = "BUCKET";

/// The name of the KV namespace binding in `wrangler.toml` (`[[kv_namespaces]] binding`).
pub const KV_BINDING: &str = "STORAGE";

/// A storage backend, by kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendKind {
    S3,
    R2,
    Kv,
    Memory,
}

impl BackendKind {
    /// The backend's name, as [`Storage::name`](super::Storage::name) gives it.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::S3 => "s3",
            BackendKind::R2 => "r2",
            BackendKind::Kv => "kv",
            BackendKind::Memory => "memory",
        }
    }
}

/// What the Worker has: whether the settings enable S3, and which bindings exist.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Available {
    pub s3_enabled: bool,
    pub r2_bound: bool,
    pub kv_bound: bool,
}

/// The backend to use.
pub fn select_backend(available: Available) -> BackendKind {
    if available.s3_enabled {
        BackendKind::S3
    } else if available.r2_bound {
        BackendKind::R2
    } else if available.kv_bound {
        BackendKind::Kv
    } else {
        BackendKind::Memory
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_follows_pocketbase() {
        for s3_enabled in [false, true] {
            for r2_bound in [false, true] {
                for kv_bound in [false, true] {
                    let kind = select_backend(Available {
                        s3_enabled,
                        r2_bound,
                        kv_bound,
                    });
                    let expected = if s3_enabled {
                        BackendKind::S3
                    } else if r2_bound {
                        BackendKind::R2
                    } else if kv_bound {
                        BackendKind::Kv
                    } else {
                        BackendKind::Memory
                    };
                    assert_eq!(kind, expected, "{s3_enabled} {r2_bound} {kv_bound}");
                }
            }
        }
    }

    #[test]
    fn s3_wins_over_every_binding() {
        let all = Available {
            s3_enabled: true,
            r2_bound: true,
            kv_bound: true,
        };
        assert_eq!(select_backend(all), BackendKind::S3);
        assert_eq!(select_backend(Available::default()), BackendKind::Memory);
    }

    #[test]
    fn r2_wins_over_kv() {
        let both = Available {
            r2_bound: true,
            kv_bound: true,
            ..Default::default()
        };
        assert_eq!(select_backend(both), BackendKind::R2);
        assert_eq!(select_backend(both).name(), "r2");
    }

    #[test]
    fn binding_names() {
        assert_eq!(R2_BINDING, "BUCKET");
        assert_eq!(KV_BINDING, "STORAGE");
    }
}
