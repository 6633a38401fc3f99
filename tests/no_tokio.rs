//! No tokio (nor mio, nor async-std) in any wasm32-unknown-unknown build — the Worker and
//! browser builds run on the JavaScript event loop, and a tokio runtime would only grow
//! the wasm — and none in the signer's or the S3 client's own dependency trees on any
//! target, unless the client's `native` transport is asked for. Checked on
//! `cargo tree -e normal -p <crate>` for the feature sets that are built.
//!
//! `cargo tree` runs `--offline` first (the crates are in the local cache once the
//! crate has been built for wasm32 or fetched); only when that fails — a fresh clone
//! whose wasm32-only dependencies were never downloaded — is it run again online.

use std::process::Command;

const FORBIDDEN: &[&str] = &["tokio", "mio", "async-std", "async-io", "smol"];

const WASM32: Option<&str> = Some("wasm32-unknown-unknown");

/// `cargo tree -e normal --prefix none` for `target` (the host when `None`).
fn cargo_tree(target: Option<&str>, features: &[&str]) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let run = |offline: bool| {
        let mut command = Command::new(&cargo);
        command
            .args(["tree", "-e", "normal", "--prefix", "none"])
            .args(["--manifest-path", manifest])
            .args(features);
        if let Some(target) = target {
            command.args(["--target", target]);
        }
        if offline {
            command.arg("--offline");
        }
        command.output().expect("run cargo tree")
    };
    let mut output = run(true);
    if !output.status.success() {
        output = run(false);
    }
    assert!(
        output.status.success(),
        "cargo tree {features:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8 from cargo tree")
}

/// The crate names in a `--prefix none` tree, one per line: `name vX.Y.Z (…)`.
fn crate_names(tree: &str) -> Vec<&str> {
    tree.lines().filter_map(|line| line.split_whitespace().next()).collect()
}

fn forbidden(tree: &str) -> Vec<String> {
    let mut found: Vec<String> = tree
        .lines()
        .filter(|line| {
            let name = line.split_whitespace().next().unwrap_or("");
            line.contains("tokio") || FORBIDDEN.contains(&name)
        })
        .map(str::to_owned)
        .collect();
    found.sort();
    found.dedup();
    found
}

/// `package` with `features` on `target` has every crate of `must_have` and nothing
/// of [`FORBIDDEN`].
fn check_on(target: Option<&str>, package: &str, features: &[&str], must_have: &[&str]) {
    let mut args = vec!["-p", package];
    args.extend_from_slice(features);
    let tree = cargo_tree(target, &args);
    let names = crate_names(&tree);
    assert!(names.first() == Some(&package), "unexpected cargo tree output:\n{tree}");
    for name in must_have {
        assert!(
            names.contains(name),
            "{name} missing from the wasm32 tree {features:?}:\n{tree}"
        );
    }
    let found = forbidden(&tree);
    assert!(
        found.is_empty(),
        "{package} {features:?} on {target:?} depends on:\n{}",
        found.join("\n")
    );
}

fn check(package: &str, features: &[&str], must_have: &[&str]) {
    check_on(WASM32, package, features, must_have);
}

#[test]
fn the_worker_on_wasm32_has_no_tokio() {
    check("edgefs-worker", &[], &["edgefs", "wasm-bindgen", "web-sys"]);
    check("edgefs-worker", &["--features", "workerd-tests"], &["edgefs"]);
}

#[test]
fn the_core_library_on_wasm32_has_no_tokio() {
    // What the browser tests build, and every feature at once: `native` pulls in tokio
    // natively only.
    check(
        "edgefs",
        &["--no-default-features", "--features", "js"],
        &["wasm-bindgen", "web-sys"],
    );
    check("edgefs", &["--all-features"], &["wasm-bindgen"]);
}

#[test]
fn the_s3_client_and_the_signer_have_no_tokio_on_any_target() {
    for target in [WASM32, None] {
        check_on(target, "edgefs-sigv4", &[], &["hmac", "sha2"]);
        check_on(target, "edgefs-s3", &[], &["edgefs-sigv4", "http"]);
    }
    check("edgefs-s3", &["--features", "js"], &["wasm-bindgen", "web-sys"]);
    check("edgefs-s3", &["--all-features"], &["wasm-bindgen"]);
}

#[test]
fn a_workers_rs_worker_gets_the_library_without_the_edgefs_worker() {
    // examples/workers-rs depends on edgefs-s3 and edgefs as a workers-rs Worker would:
    // it gets neither the edgefs Worker (its exported `fetch`) nor its allocator.
    let tree = cargo_tree(WASM32, &["-p", "edgefs-example-workers-rs"]);
    let names = crate_names(&tree);
    for wanted in ["worker", "edgefs", "edgefs-s3", "edgefs-sigv4"] {
        assert!(
            names.contains(&wanted),
            "{wanted} missing from the example's tree:\n{tree}"
        );
    }
    for unwanted in ["edgefs-worker", "talc"] {
        assert!(!names.contains(&unwanted), "{unwanted} in the example's tree:\n{tree}");
    }
}

#[test]
fn the_check_sees_tokio_where_it_is() {
    // The same check on the native target does find tokio (through `native`), so a
    // clean wasm32 result means something.
    let tree = cargo_tree(None, &["-p", "edgefs-s3", "--features", "native"]);
    assert!(!forbidden(&tree).is_empty(), "native tree without tokio?\n{tree}");
}
