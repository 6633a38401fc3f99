//! S3 settings, as PocketBase has them: from JSON, from the environment, or in code.

use crate::error::Quoted;
use crate::error::SettingsError;
use edgefs_sigv4::secret::Secret;
use serde::{Deserialize, Deserializer, Serialize};

/// PocketBase's S3 settings. JSON uses PocketBase's camelCase (`accessKey`,
/// `forcePathStyle`); the secret is read from JSON but never written back out, and
/// `Debug` shows it as `[redacted]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct S3Settings {
    /// Whether PocketBase keeps its files in S3 at all; the client does not look at it.
    pub enabled: bool,
    /// The bucket's name.
    pub bucket: String,
    /// The bucket's region, as the provider shows it (`us-east-1`; R2: `auto`).
    pub region: String,
    /// The endpoint URL with its scheme (`https://s3.us-east-1.amazonaws.com`); may be empty
    /// for AWS, where it follows from the region.
    pub endpoint: String,
    /// The access key id.
    pub access_key: String,
    /// The secret key; read from JSON, never written back out.
    #[serde(skip_serializing, deserialize_with = "secret_from_string")]
    pub secret: Secret,
    /// Name the bucket in the URL path (`endpoint/bucket/key`), never in the host (MinIO
    /// needs it). Off, the bucket's name and the endpoint choose.
    pub force_path_style: bool,
}

fn secret_from_string<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Secret, D::Error> {
    Option::<String>::deserialize(deserializer).map(|s| Secret::new(s.unwrap_or_default()))
}

/// Names of the environment variables, as PocketBase's documentation uses them.
pub const ENV_VARS: [&str; 7] = [
    "S3_ENABLED",
    "S3_BUCKET",
    "S3_REGION",
    "S3_ENDPOINT",
    "S3_ACCESS_KEY",
    "S3_SECRET_KEY",
    "S3_FORCE_PATH_STYLE",
];

impl S3Settings {
    /// Settings for an S3 bucket, enabled.
    pub fn new(
        bucket: impl Into<String>,
        region: impl Into<String>,
        endpoint: impl Into<String>,
        access_key: impl Into<String>,
        secret: impl Into<Secret>,
    ) -> Self {
        S3Settings {
            enabled: true,
            bucket: bucket.into(),
            region: region.into(),
            endpoint: endpoint.into(),
            access_key: access_key.into(),
            secret: secret.into(),
            force_path_style: false,
        }
    }

    /// Forces path-style URLs, or leaves the choice to the bucket's name and the endpoint.
    pub fn force_path_style(mut self, on: bool) -> Self {
        self.force_path_style = on;
        self
    }

    /// From PocketBase's JSON (`{"enabled":true,"bucket":…,"accessKey":…,"secret":…}`).
    pub fn from_json(json: &str) -> Result<Self, SettingsError> {
        serde_json::from_str(json).map_err(|e| SettingsError::new("settings", format!("are not valid JSON: {e}")))
    }

    /// From the process environment (`S3_ENABLED`, `S3_BUCKET`, …).
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// From any key-value source with the environment variables' names (a Worker's
    /// `env`, a config map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).unwrap_or_default();
        Ok(S3Settings {
            enabled: parse_bool("S3_ENABLED", &get("S3_ENABLED"))?,
            bucket: get("S3_BUCKET"),
            region: get("S3_REGION"),
            endpoint: get("S3_ENDPOINT"),
            access_key: get("S3_ACCESS_KEY"),
            secret: Secret::new(lookup("S3_SECRET_KEY").unwrap_or_default()),
            force_path_style: parse_bool("S3_FORCE_PATH_STYLE", &get("S3_FORCE_PATH_STYLE"))?,
        })
    }

    /// Checks every field and returns the endpoint to use: the given one, or for AWS
    /// (no endpoint, an AWS region) `https://s3.{region}.amazonaws.com`.
    pub fn validate(&self) -> Result<Endpoint, SettingsError> {
        if self.bucket.trim().is_empty() {
            return Err(SettingsError::new("bucket", "must be set"));
        }
        if self.region.trim().is_empty() {
            return Err(SettingsError::new("region", "must be set"));
        }
        let endpoint = if self.endpoint.trim().is_empty() {
            if !is_aws_region(self.region.trim()) {
                return Err(SettingsError::new("endpoint", "must be set"));
            }
            format!("https://s3.{}.amazonaws.com", self.region.trim())
        } else {
            self.endpoint.trim().to_owned()
        };
        let endpoint = Endpoint::parse(&endpoint)?;
        if self.access_key.trim().is_empty() {
            return Err(SettingsError::new("accessKey", "must be set"));
        }
        if self.secret.is_empty() {
            return Err(SettingsError::new("secret", "must be set"));
        }
        Ok(endpoint)
    }
}

fn parse_bool(name: &'static str, value: &str) -> Result<bool, SettingsError> {
    match value.to_ascii_lowercase().as_str() {
        "" | "false" | "0" | "no" | "off" => Ok(false),
        "true" | "1" | "yes" | "on" => Ok(true),
        _ => Err(SettingsError::new(
            if name == "S3_ENABLED" {
                "enabled"
            } else {
                "forcePathStyle"
            },
            format!("must be true or false ({name}={value})", value = Quoted(value)),
        )),
    }
}

/// AWS region names: `us-east-1`, `eu-central-2`, `us-gov-west-1`, `ap-southeast-5`…
fn is_aws_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        && parts.last().is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

/// A parsed endpoint URL: scheme, authority (host and port) and an optional base path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// `https` or `http`.
    pub scheme: &'static str,
    /// Host and port as they appear in the URL (`127.0.0.1:9000`).
    pub authority: String,
    /// The host without port.
    pub host: String,
    /// A path prefix (without trailing `/`), usually empty.
    pub base_path: String,
}

impl Endpoint {
    /// Parses an `https://` or `http://` URL. The host is lower-cased and the scheme's
    /// default port dropped, as HTTP clients write `Host`.
    pub fn parse(url: &str) -> Result<Endpoint, SettingsError> {
        let (scheme, rest) = if let Some(rest) = url.strip_prefix("https://") {
            ("https", rest)
        } else if let Some(rest) = url.strip_prefix("http://") {
            ("http", rest)
        } else {
            return Err(SettingsError::new(
                "endpoint",
                format!("must start with https:// or http:// (got {url})", url = Quoted(url)),
            ));
        };
        let (authority, path) = match rest.find('/') {
            Some(at) => (&rest[..at], rest[at..].trim_end_matches('/')),
            None => (rest, ""),
        };
        if authority.is_empty() || authority.contains(['?', '#', '@', ' ']) || path.contains(['?', '#']) {
            return Err(SettingsError::new(
                "endpoint",
                format!("is not a valid URL (got {url})", url = Quoted(url)),
            ));
        }
        let host = match authority.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or_default().to_owned(),
            None => authority.split(':').next().unwrap_or_default().to_owned(),
        };
        if let Some(port) = authority.rsplit_once(':').map(|(_, p)| p).filter(|p| !p.contains(']')) {
            if port.parse::<u16>().is_err() {
                return Err(SettingsError::new(
                    "endpoint",
                    format!("has an invalid port (got {url})", url = Quoted(url)),
                ));
            }
        }
        // HTTP clients leave a scheme's default port out of `Host`, and the signature
        // covers `Host`: so the default port is left out here too.
        let mut authority = authority.to_ascii_lowercase();
        let default_port = if scheme == "https" { ":443" } else { ":80" };
        if authority.ends_with(default_port) {
            authority.truncate(authority.len() - default_port.len());
        }
        Ok(Endpoint {
            scheme,
            authority,
            host: host.to_ascii_lowercase(),
            base_path: path.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pocketbase_json_and_never_writes_the_secret() {
        let settings = S3Settings::from_json(
            r#"{"enabled":true,"bucket":"b","region":"auto","endpoint":"https://x.r2.cloudflarestorage.com",
                "accessKey":"AK","secret":"SUPERSECRET","forcePathStyle":true}"#,
        )
        .unwrap();
        assert!(settings.enabled && settings.force_path_style);
        assert_eq!(settings.secret.expose(), "SUPERSECRET");
        let json = serde_json::to_string(&settings).unwrap();
        assert!(
            !json.contains("SUPERSECRET") && json.contains("\"accessKey\":\"AK\""),
            "{json}"
        );
        assert!(!format!("{settings:?}").contains("SUPERSECRET"));
    }

    #[test]
    fn reads_the_environment_variables() {
        let env = |name: &str| {
            let value = match name {
                "S3_ENABLED" => "true",
                "S3_BUCKET" => "my-bucket",
                "S3_REGION" => "us-east-1",
                "S3_ACCESS_KEY" => "AKIA",
                "S3_SECRET_KEY" => "s3cr3t",
                "S3_FORCE_PATH_STYLE" => "false",
                _ => return None,
            };
            Some(value.to_owned())
        };
        let settings = S3Settings::from_lookup(env).unwrap();
        assert!(settings.enabled);
        assert_eq!(settings.bucket, "my-bucket");
        // No endpoint and an AWS region: the endpoint follows from the region.
        assert_eq!(settings.validate().unwrap().authority, "s3.us-east-1.amazonaws.com");
    }

    #[test]
    fn default_ports_are_left_out_of_the_host() {
        assert_eq!(
            Endpoint::parse("https://s3.example.com:443").unwrap().authority,
            "s3.example.com"
        );
        assert_eq!(Endpoint::parse("http://127.0.0.1:80/").unwrap().authority, "127.0.0.1");
        assert_eq!(Endpoint::parse("http://[::1]:80").unwrap().authority, "[::1]");
        assert_eq!(
            Endpoint::parse("https://s3.example.com:8443").unwrap().authority,
            "s3.example.com:8443"
        );
        assert_eq!(
            Endpoint::parse("http://127.0.0.1:443").unwrap().authority,
            "127.0.0.1:443"
        );
    }

    #[test]
    fn validation_names_the_field() {
        let mut s = S3Settings::new("b", "auto", "", "ak", "sk");
        assert_eq!(
            s.validate().unwrap_err().to_string(),
            "failed to initialize S3: endpoint must be set"
        );
        s.endpoint = "127.0.0.1:9000".into();
        assert!(s
            .validate()
            .unwrap_err()
            .to_string()
            .starts_with("failed to initialize S3: endpoint must start with https:// or http://"));
        s.endpoint = "http://127.0.0.1:9000".into();
        s.bucket.clear();
        assert_eq!(
            s.validate().unwrap_err().to_string(),
            "failed to initialize S3: bucket must be set"
        );
        let s = S3Settings::new("b", "us-east-1", "http://127.0.0.1:9000", "ak", "");
        assert_eq!(
            s.validate().unwrap_err().to_string(),
            "failed to initialize S3: secret must be set"
        );
    }
}
