//! The reference document's migration loop (`pocketbase-s3-storage.txt`, "Migration
//! between storage backends"), for the benchmark to compare `edgefs migrate` with: list
//! the local files, then one at a time read each whole into memory and upload it, and
//! stop at the first error. Built on edgefs's S3 client so only the approach differs.
//!
//!   cargo run --release --example reference_migrate -- DIR SETTINGS_JSON
use edgefs::client::S3Client;
use edgefs::s3::actions::ObjectOptions;
use edgefs::transport::native::NativeTransport;
use edgefs::{Body, S3Settings};
use std::path::{Path, PathBuf};

fn files(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("list the directory") {
            let path = entry.expect("list the directory").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_none_or(|e| e != "attrs") {
                found.push(path);
            }
        }
    }
    found
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (root, settings) = (PathBuf::from(&args[1]), &args[2]);
    let settings =
        S3Settings::from_json(&std::fs::read_to_string(settings).expect("read the settings")).expect("valid settings");
    let client = S3Client::new(&settings, NativeTransport::new()).expect("a client");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        for path in files(&root) {
            let key = path.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
            // "Read all data", then "Upload to destination".
            let data = std::fs::read(&path).expect("read the file");
            client
                .upload(&key, Body::from(data), &ObjectOptions::default())
                .await
                .expect("upload");
            println!("Migrated: {key}");
        }
    });
}
