//! Starts real S3 servers that verify SigV4 — SeaweedFS and Garage — on free
//! loopback ports with fresh data directories, and stops them when dropped.

use edgefs::transport::native::NativeTransport;
use edgefs::{S3Client, S3Settings};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    SeaweedFs,
    Garage,
}

pub struct Server {
    pub kind: Kind,
    pub port: u16,
    pub access_key: String,
    pub secret: String,
    pub bucket: String,
    pub region: String,
    dir: PathBuf,
    child: Child,
}

impl Server {
    pub fn name(&self) -> &'static str {
        match self.kind {
            Kind::SeaweedFs => "seaweedfs",
            Kind::Garage => "garage",
        }
    }

    /// Path style on `127.0.0.1`, or virtual-hosted style on `localhost`
    /// (`{bucket}.localhost` is loopback).
    pub fn settings(&self, path_style: bool) -> S3Settings {
        let host = if path_style { "127.0.0.1" } else { "localhost" };
        S3Settings::new(
            &self.bucket,
            &self.region,
            format!("http://{host}:{}", self.port),
            &self.access_key,
            self.secret.as_str(),
        )
        .force_path_style(path_style)
    }

    pub fn client(&self, path_style: bool) -> S3Client<NativeTransport> {
        S3Client::new(&self.settings(path_style), NativeTransport::new()).expect("valid settings")
    }

    /// SeaweedFS collapses `//` inside keys; Garage keeps keys exactly.
    pub fn keeps_double_slashes(&self) -> bool {
        self.kind == Kind::Garage
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn port_is_free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// SeaweedFS also listens on each port + 10000 (gRPC): find ports where both are free.
fn free_port_pair() -> u16 {
    loop {
        let port = free_port();
        if port < 55_000 && port_is_free(port + 10_000) {
            return port;
        }
    }
}

pub fn fresh_dir(name: &str) -> PathBuf {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("s3-servers");
    let dir = base.join(format!("{name}-{}-{}", std::process::id(), free_port()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a data directory");
    dir
}

fn wait_for_port(port: u16, child: &mut Child, name: &str, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(log).unwrap_or_default();
            panic!("{name} exited with {status} before listening:\n{log}");
        }
        if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{name} did not listen on 127.0.0.1:{port} within 30 s");
}

pub fn binary(name: &str, package: &str) -> PathBuf {
    which(name).unwrap_or_else(|| {
        panic!("`{name}` is not installed: run `scripts/install.sh {package}` (or the README's test command)")
    })
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(Path::new(&home).join(".cargo/bin"));
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

pub const SEAWEED_ACCESS_KEY: &str = "AKIDEDGEFSSEAWEED";
pub const SEAWEED_SECRET: &str = "edgefs-seaweed-secret-key";

/// SeaweedFS 4.48 (`weed mini`), path style and virtual hosts on `*.localhost`, CORS
/// open for the browser tests, buckets only created when asked.
pub fn start_seaweedfs(bucket: &str) -> Server {
    let weed = binary("weed", "seaweedfs");
    let dir = fresh_dir("seaweedfs");
    let config = dir.join("s3.json");
    std::fs::write(
        &config,
        format!(
            r#"{{"identities":[{{"name":"admin","credentials":[{{"accessKey":"{SEAWEED_ACCESS_KEY}","secretKey":"{SEAWEED_SECRET}"}}],"actions":["Admin","Read","Write","List","Tagging"]}}]}}"#
        ),
    )
    .unwrap();
    let (s3, master, volume, filer) = (free_port_pair(), free_port_pair(), free_port_pair(), free_port_pair());
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::create_dir_all(dir.join("logs")).unwrap();
    let log = dir.join("stdout.log");
    let mut child = Command::new(weed)
        .arg(format!("-logdir={}", dir.join("logs").display()))
        .arg("mini")
        .arg(format!("-dir={}", dir.join("data").display()))
        .args(["-ip=127.0.0.1", "-ip.bind=127.0.0.1"])
        .arg(format!("-s3.port={s3}"))
        .arg(format!("-master.port={master}"))
        .arg(format!("-volume.port={volume}"))
        .arg(format!("-filer.port={filer}"))
        .arg(format!("-s3.config={}", config.display()))
        .args(["-s3.domainName=localhost", "-webdav=false", "-admin.ui=false"])
        .args([
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-s3.autoCreateBucket=false",
            "-s3.allowedOrigins=*",
        ])
        .arg(format!("-filer.localSocket={}", dir.join("filer.sock").display()))
        .arg(format!("-s3.localSocket={}", dir.join("s3.sock").display()))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(Stdio::from(std::fs::File::create(dir.join("stderr.log")).unwrap()))
        .spawn()
        .expect("start weed");
    wait_for_port(s3, &mut child, "SeaweedFS", &log);
    Server {
        kind: Kind::SeaweedFs,
        port: s3,
        access_key: SEAWEED_ACCESS_KEY.into(),
        secret: SEAWEED_SECRET.into(),
        bucket: bucket.into(),
        region: "us-east-1".into(),
        dir,
        child,
    }
}

/// Garage 2.5.0, single node, with its default bucket and key.
pub fn start_garage(bucket: &str) -> Server {
    let garage = binary("garage", "garage");
    let dir = fresh_dir("garage");
    let (s3, rpc) = (free_port(), free_port());
    let secret_bytes: String = (0..32)
        .map(|i| format!("{:02x}", (i * 37 + std::process::id() as usize) % 256))
        .collect();
    let toml = format!(
        r#"metadata_dir = "{meta}"
data_dir = "{data}"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:{rpc}"
rpc_public_addr = "127.0.0.1:{rpc}"
rpc_secret = "{secret_bytes}"

[s3_api]
s3_region = "us-east-1"
api_bind_addr = "127.0.0.1:{s3}"
root_domain = ".localhost"
"#,
        meta = dir.join("meta").display(),
        data = dir.join("data").display(),
    );
    let config = dir.join("garage.toml");
    std::fs::write(&config, toml).unwrap();
    // Garage wants `GK` + 24 hex digits and a 64-hex-digit secret.
    let access_key = GARAGE_ACCESS_KEY.to_owned();
    let secret = GARAGE_SECRET.to_owned();
    let log = dir.join("stdout.log");
    let mut child = Command::new(garage)
        .arg("-c")
        .arg(&config)
        .args(["server", "--single-node", "--default-bucket"])
        .env("GARAGE_DEFAULT_ACCESS_KEY", &access_key)
        .env("GARAGE_DEFAULT_SECRET_KEY", &secret)
        .env("GARAGE_DEFAULT_BUCKET", bucket)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(Stdio::from(std::fs::File::create(dir.join("stderr.log")).unwrap()))
        .spawn()
        .expect("start garage");
    wait_for_port(s3, &mut child, "Garage", &log);
    Server {
        kind: Kind::Garage,
        port: s3,
        access_key,
        secret,
        bucket: bucket.into(),
        region: "us-east-1".into(),
        dir,
        child,
    }
}

pub const GARAGE_ACCESS_KEY: &str = "GK0edef500000000000000000a";
pub const GARAGE_SECRET: &str = "5ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7e75ec7";

/// SeaweedFS and Garage side by side (started at once), each with `bucket` made.
pub async fn start_both(bucket: &str) -> (Server, Server) {
    let (seaweed, garage) = std::thread::scope(|s| {
        let a = s.spawn(|| start_seaweedfs(bucket));
        let b = s.spawn(|| start_garage(bucket));
        (a.join().expect("SeaweedFS started"), b.join().expect("Garage started"))
    });
    // SeaweedFS creates buckets only when asked (-s3.autoCreateBucket=false).
    seaweed
        .client(true)
        .create_bucket()
        .await
        .expect("create the SeaweedFS bucket");
    (seaweed, garage)
}
