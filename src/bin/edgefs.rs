//! `edgefs migrate`: every file of a PocketBase storage (a local `pb_data/storage`, or an
//! S3 bucket) copied to another one — streamed, several at once, large files in
//! multipart parts, each copy verified, what is already there skipped — so a rerun
//! after a failure or a kill finishes the job and copies nothing twice.
//!
//! ```text
//! edgefs migrate --from pb_data/storage --to s3            # S3 from the S3_* variables
//! edgefs migrate --from pb_data/storage --to s3:s3.json    # …or from a settings file
//! edgefs migrate --from s3 --to ./storage --delete-source  # and back, moving
//! ```

use clap::{Parser, Subcommand};
use edgefs::client::{S3Client, UploadConfig};
use edgefs::migrate::{migrate_one, Options, Outcome};
use edgefs::storage::{Dir, ListItem, S3Storage, Storage};
use edgefs::transport::native::NativeTransport;
use edgefs::S3Settings;
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(name = "edgefs", version, about = "edgefs's native commands")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Copy every object from one storage to another (PocketBase's file layout).
    ///
    /// A storage is a directory (a PocketBase `pb_data/storage`), `s3` (the S3_*
    /// environment variables: S3_BUCKET, S3_REGION, S3_ENDPOINT, S3_ACCESS_KEY,
    /// S3_SECRET_KEY, S3_FORCE_PATH_STYLE — or the --s3-* flags over them), or
    /// `s3:FILE` (PocketBase's S3 settings as JSON: bucket, region, endpoint,
    /// accessKey, secret, forcePathStyle).
    Migrate(Migrate),
}

#[derive(clap::Args)]
struct Migrate {
    /// Where the objects are: DIR, `s3` or `s3:FILE`.
    #[arg(long)]
    from: String,
    /// Where they go: DIR, `s3` or `s3:FILE`.
    #[arg(long)]
    to: String,
    /// Objects copied at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Multipart part size for large files, in MiB (memory ≈ concurrency × 2 parts).
    #[arg(long, default_value_t = 8)]
    part_size_mib: u64,
    /// Report what would be copied; write and delete nothing.
    #[arg(long)]
    dry_run: bool,
    /// Delete each source object once its copy is verified.
    #[arg(long)]
    delete_source: bool,
    /// The bucket, for `s3` (over S3_BUCKET).
    #[arg(long)]
    s3_bucket: Option<String>,
    /// The region, for `s3` (over S3_REGION).
    #[arg(long)]
    s3_region: Option<String>,
    /// The endpoint URL, for `s3` (over S3_ENDPOINT).
    #[arg(long)]
    s3_endpoint: Option<String>,
    /// The access key, for `s3` (over S3_ACCESS_KEY). The secret comes from
    /// S3_SECRET_KEY or a settings file only, never a flag (flags show in `ps`).
    #[arg(long)]
    s3_access_key: Option<String>,
    /// Path-style URLs, for `s3` (over S3_FORCE_PATH_STYLE).
    #[arg(long)]
    s3_force_path_style: Option<bool>,
}

/// One end of a migration.
struct End {
    storage: Arc<dyn Storage>,
    /// The S3 backend, for the open multipart uploads a killed run left.
    s3: Option<Arc<S3Storage<NativeTransport>>>,
    label: String,
}

fn open(spec: &str, args: &Migrate) -> Result<End, String> {
    let settings = if spec == "s3" {
        let mut settings = S3Settings::from_env().map_err(|e| e.to_string())?;
        if let Some(v) = &args.s3_bucket {
            settings.bucket.clone_from(v);
        }
        if let Some(v) = &args.s3_region {
            settings.region.clone_from(v);
        }
        if let Some(v) = &args.s3_endpoint {
            settings.endpoint.clone_from(v);
        }
        if let Some(v) = &args.s3_access_key {
            settings.access_key.clone_from(v);
        }
        if let Some(v) = args.s3_force_path_style {
            settings.force_path_style = v;
        }
        Some(settings)
    } else if let Some(file) = spec.strip_prefix("s3:") {
        let text = std::fs::read_to_string(file).map_err(|e| format!("cannot read the settings file {file}: {e}"))?;
        // PocketBase's whole settings ({"s3": {…}}) or just the S3 object.
        let value: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("{file} is not valid JSON: {e}"))?;
        let s3 = value.get("s3").cloned().unwrap_or(value);
        Some(S3Settings::from_json(&s3.to_string()).map_err(|e| format!("{file}: {e}"))?)
    } else {
        None
    };
    match settings {
        Some(settings) => {
            let label = format!("s3://{}", settings.bucket);
            let client = S3Client::new(&settings, NativeTransport::new())
                .map_err(|e| e.to_string())?
                .with_upload_config(UploadConfig {
                    part_size: args.part_size_mib.max(5) * 1024 * 1024,
                    concurrency: 2,
                });
            let s3 = Arc::new(S3Storage::new(client));
            Ok(End {
                storage: s3.clone(),
                s3: Some(s3),
                label,
            })
        }
        None => {
            let path = PathBuf::from(spec);
            if spec == args.from.as_str() && !path.is_dir() {
                return Err(format!("{spec} is not a directory"));
            }
            Ok(End {
                storage: Arc::new(Dir::new(&path)),
                s3: None,
                label: path.display().to_string(),
            })
        }
    }
}

async fn list_everything(storage: &dyn Storage) -> Result<Vec<ListItem>, String> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = storage
            .list("", cursor.as_deref(), 1000)
            .await
            .map_err(|e| format!("cannot list {}: {e}", storage.name()))?;
        items.extend(
            page.items
                .into_iter()
                .filter(|item| edgefs::migrate::migrates(&item.key)),
        );
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(items),
        }
    }
}

/// Multipart uploads a killed run left open at the destination, for keys this run
/// migrates: aborted, so none stays billed.
async fn abort_leftovers(client: &S3Client<NativeTransport>, keys: &std::collections::BTreeSet<&str>) -> usize {
    let mut aborted = 0;
    let mut markers: Option<(String, String)> = None;
    loop {
        let page = match client
            .list_multipart_uploads(None, markers.as_ref().map(|(k, u)| (k.as_str(), u.as_str())))
            .await
        {
            Ok(page) => page,
            Err(_) => return aborted,
        };
        for upload in &page.uploads {
            if keys.contains(upload.key.as_str())
                && client
                    .abort_multipart_upload(&upload.key, &upload.upload_id)
                    .await
                    .is_ok()
            {
                aborted += 1;
            }
        }
        match page.next_markers {
            Some(next) => markers = Some(next),
            None => return aborted,
        }
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

async fn migrate(args: Migrate) -> Result<bool, String> {
    let from = open(&args.from, &args)?;
    let to = open(&args.to, &args)?;
    let items = list_everything(from.storage.as_ref()).await?;
    let total_bytes: u64 = items.iter().map(|item| item.size).sum();
    println!(
        "edgefs migrate: {} objects, {} from {} to {}{}",
        items.len(),
        mib(total_bytes),
        from.label,
        to.label,
        if args.dry_run { " (dry run)" } else { "" }
    );
    if let (Some(s3), false) = (&to.s3, args.dry_run) {
        let keys = items.iter().map(|item| item.key.as_str()).collect();
        let aborted = abort_leftovers(s3.client(), &keys).await;
        if aborted > 0 {
            println!("aborted {aborted} multipart uploads an earlier run left open");
        }
    }

    let terminal = std::io::stderr().is_terminal();
    let bar = ProgressBar::with_draw_target(
        Some(total_bytes),
        if terminal {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta} · {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let options = Options {
        limit: 0,
        concurrency: args.concurrency.max(1),
        dry_run: args.dry_run,
        delete_source: args.delete_source,
    };
    let started = Instant::now();
    let mut last_line = Instant::now();
    let (mut copied, mut skipped, mut bytes, mut done) = (0u64, 0u64, 0u64, 0usize);
    let mut failed: Vec<(String, String)> = Vec::new();
    let (from_storage, to_storage) = (from.storage.clone(), to.storage.clone());
    let mut outcomes = futures::stream::iter(items.iter().map(|item| {
        let (from, to) = (from_storage.clone(), to_storage.clone());
        async move { (item, migrate_one(from.as_ref(), to.as_ref(), item, &options).await) }
    }))
    .buffer_unordered(options.concurrency);
    while let Some((item, outcome)) = outcomes.next().await {
        done += 1;
        match outcome {
            Outcome::Copied(n, _) => {
                copied += 1;
                bytes += n;
            }
            Outcome::Skipped(_) => skipped += 1,
            Outcome::Failed(reason) => failed.push((item.key.clone(), reason)),
        }
        bar.inc(item.size);
        let status = format!(
            "{done}/{} objects: {copied} copied, {skipped} skipped, {} failed",
            items.len(),
            failed.len()
        );
        bar.set_message(status.clone());
        if !terminal && (last_line.elapsed() >= Duration::from_secs(2) || done == items.len()) {
            // The same facts as the bar: bytes through (copied or found there), rate, ETA.
            let through = bar.position();
            let rate = through as f64 / started.elapsed().as_secs_f64().max(0.001);
            let eta = total_bytes.saturating_sub(through) as f64 / rate.max(1.0);
            println!(
                "{status}; {} of {}, {:.1} MiB/s, ETA {eta:.0} s",
                mib(through),
                mib(total_bytes),
                rate / (1024.0 * 1024.0)
            );
            last_line = Instant::now();
        }
    }
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{copied} copied ({}), {skipped} already there, {} failed, in {seconds:.1} s ({:.1} MiB/s)",
        mib(bytes),
        failed.len(),
        bytes as f64 / (1024.0 * 1024.0) / seconds.max(0.001)
    );
    for (key, reason) in &failed {
        println!("failed: {key}: {reason}");
    }
    if !failed.is_empty() {
        println!("run the same command again to retry them: what is done is skipped");
    }
    Ok(failed.is_empty())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("edgefs: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let Command::Migrate(args) = cli.command;
    match runtime.block_on(migrate(args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("edgefs migrate: {message}");
            ExitCode::from(2)
        }
    }
}
