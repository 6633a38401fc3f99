//! Runs `tests/browser.rs` in headless Chromium (`wasm-pack test --headless --chrome`)
//! against a SeaweedFS it starts on 127.0.0.1, then stops it.
//!
//! `cargo test` builds this runner but it only runs when `EDGEFS_BROWSER_TESTS=1`
//! (set by `scripts/browser-test.sh`, which the README's test command calls), because it
//! needs wasm-pack, Chromium and chromedriver installed.
// Native only: wasm-pack builds every test target for wasm32, where this one is empty.
#![cfg_attr(target_arch = "wasm32", no_main)]
#![cfg(not(target_arch = "wasm32"))]

mod support;

use std::path::Path;
use std::process::{Command, ExitCode};
use support::servers::start_seaweedfs;

const BUCKET: &str = "edgefs-browser";

fn main() -> ExitCode {
    if std::env::var_os("EDGEFS_BROWSER_TESTS").is_none() {
        println!("browser tests not run here: scripts/browser-test.sh runs them (EDGEFS_BROWSER_TESTS=1)");
        return ExitCode::SUCCESS;
    }
    let server = start_seaweedfs(BUCKET);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime
        .block_on(server.client(true).create_bucket())
        .expect("create the bucket");

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new("wasm-pack")
        .current_dir(root)
        .args([
            "test",
            "--headless",
            "--chrome",
            "--no-default-features",
            "--features",
            "js",
            "--test",
            "browser",
        ])
        .env("EDGEFS_BROWSER_S3_PORT", server.port.to_string())
        .env("EDGEFS_BROWSER_S3_BUCKET", BUCKET)
        .env("EDGEFS_BROWSER_S3_ACCESS_KEY", &server.access_key)
        .env("EDGEFS_BROWSER_S3_SECRET", &server.secret)
        // A target directory of its own: this runner is itself inside `cargo test`.
        .env("CARGO_TARGET_DIR", root.join("target/browser"))
        .status();
    drop(server);
    match status {
        Ok(status) if status.success() => ExitCode::SUCCESS,
        Ok(status) => {
            println!("wasm-pack test failed ({status})");
            ExitCode::FAILURE
        }
        Err(error) => {
            println!("cannot run wasm-pack ({error}): run scripts/install.sh wasm-pack chromium");
            println!("0 passed, 1 failed");
            ExitCode::FAILURE
        }
    }
}
