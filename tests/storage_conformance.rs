//! The storage conformance suite (`edgefs::storage::conformance`) against the native
//! backends: Memory, and S3 on SeaweedFS and on Garage (path and virtual-hosted style).
//! The Workers backends (KV, R2) run the same suite inside workerd.
// Native only: wasm-pack builds every test target for wasm32, where this one is empty.
#![cfg_attr(target_arch = "wasm32", no_main)]
#![cfg(not(target_arch = "wasm32"))]

mod support;

use edgefs::storage::{conformance, Memory, S3Storage, Storage};
use std::process::ExitCode;
use support::servers::start_both;

fn main() -> ExitCode {
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (seaweed, garage) = start_both("edgefs-conformance").await;

        let dir = support::servers::fresh_dir("conformance-dir");
        let backends: Vec<(String, Box<dyn Storage>)> = vec![
            ("memory".into(), Box::new(Memory::new())),
            ("dir".into(), Box::new(edgefs::storage::Dir::new(&dir))),
            (
                "s3/seaweedfs/path".into(),
                Box::new(S3Storage::new(seaweed.client(true))),
            ),
            (
                "s3/seaweedfs/virtual".into(),
                Box::new(S3Storage::new(seaweed.client(false))),
            ),
            ("s3/garage/path".into(), Box::new(S3Storage::new(garage.client(true)))),
            (
                "s3/garage/virtual".into(),
                Box::new(S3Storage::new(garage.client(false))),
            ),
        ];
        let (mut passed, mut failed) = (0, 0);
        for (name, storage) in &backends {
            let prefix = format!("conformance/{}/", name.replace('/', "-"));
            for outcome in conformance::run(storage.as_ref(), &prefix, filter.as_deref()).await {
                match outcome.result {
                    Ok(()) => {
                        passed += 1;
                        println!("ok     {name}/{}", outcome.name);
                    }
                    Err(message) => {
                        failed += 1;
                        println!("FAIL   {name}/{}: {message}", outcome.name);
                    }
                }
            }
        }
        println!("storage_conformance: {passed} passed, {failed} failed");
        if failed == 0 && passed > 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    })
}
