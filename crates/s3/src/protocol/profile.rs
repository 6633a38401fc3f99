//! Provider profiles: what each S3 provider is known to refuse or require, chosen from
//! the endpoint's host or from a server's answers, so that requests avoid a refusal up
//! front instead of meeting it in production.
//!
//! Every quirk below has its source in a comment. A provider edgefs cannot name is
//! [`Provider::Generic`], whose profile is the union of every known refusal: what no
//! server is known to refuse is all an unknown server is sent.

use super::settings::Endpoint;
use super::S3Request;
use crate::error::Error;
use http::HeaderMap;

/// An S3 provider (or server) whose behaviour differs from AWS's somewhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Provider {
    /// Amazon S3 itself.
    Aws,
    /// MinIO (and services built on it).
    Minio,
    /// DigitalOcean Spaces.
    DigitalOceanSpaces,
    /// Cloudflare R2 through its S3 API.
    R2,
    /// Backblaze B2 through its S3-compatible API.
    B2,
    /// SeaweedFS's S3 gateway.
    SeaweedFs,
    /// Garage.
    Garage,
    /// A server edgefs cannot name: every known refusal is avoided.
    Generic,
}

/// How the bucket should be named in URLs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathStyle {
    /// Virtual-hosted style (`bucket.endpoint/key`) is the provider's way; path style is
    /// legacy.
    Virtual,
    /// Both work.
    Either,
    /// Path style (`endpoint/bucket/key`): `forcePathStyle` should be on.
    Path,
}

/// What a provider refuses or needs, as the client must shape requests for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quirks {
    /// `x-amz-checksum-*`, `x-amz-sdk-checksum-algorithm` and `x-amz-trailer` may be
    /// sent. Where false the client strips them from every request.
    pub send_checksum_headers: bool,
    /// Every part of a multipart upload but the last must have the same size.
    pub equal_part_sizes: bool,
    /// `Accept-Encoding: identity` must be asked for, or a compressed answer loses its
    /// length. (The client asks for it on every request, for every provider.)
    pub accept_encoding_identity: bool,
    /// An empty `Range` header is refused (416 `InvalidRange`) instead of ignored. (The
    /// client never sends one, for any provider.)
    pub empty_range_refused: bool,
    /// Object tagging (`x-amz-tagging`, `?tagging`) is accepted. Where false the client
    /// strips `x-amz-tagging` and `x-amz-tagging-directive`.
    pub tagging_supported: bool,
    /// How URLs should name the bucket.
    pub path_style: PathStyle,
    /// PutObject honours `If-Match` and `If-None-Match: *` (412 when they fail), so a
    /// record can be written as a compare-and-swap. Where false, the headers are ignored
    /// and every write is stored.
    pub conditional_writes: bool,
    /// An object written as `application/octet-stream` (PutObject, a multipart upload,
    /// CopyObject with `REPLACE`) is stored with the type its key's extension names
    /// instead (`.mp4`: `video/mp4`). No request avoids it: reported by the S3 test so
    /// that users know their untyped files are served typed.
    pub octet_stream_by_extension: bool,
}

/// A provider and its quirks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Profile {
    /// Whose profile this is.
    pub provider: Provider,
    /// What that provider refuses or needs.
    pub quirks: Quirks,
}

/// The headers of AWS's flexible checksums ("data integrity protections"), which the AWS
/// SDKs send by default since January 2025 (aws/aws-sdk-go-v2 discussion #2960).
const CHECKSUM_HEADER_PREFIXES: [&str; 3] = ["x-amz-checksum-", "x-amz-sdk-checksum-", "x-amz-trailer"];
/// Object tagging on PutObject, CopyObject and CreateMultipartUpload.
const TAGGING_HEADERS: [&str; 2] = ["x-amz-tagging", "x-amz-tagging-directive"];

impl Provider {
    /// Every provider, [`Provider::Generic`] last.
    pub const ALL: [Provider; 8] = [
        Provider::Aws,
        Provider::Minio,
        Provider::DigitalOceanSpaces,
        Provider::R2,
        Provider::B2,
        Provider::SeaweedFs,
        Provider::Garage,
        Provider::Generic,
    ];

    /// A short lower-case name (`aws`, `minio`, `spaces`, `r2`, `b2`, `seaweedfs`,
    /// `garage`, `generic`), as the S3 test reports it.
    pub fn name(self) -> &'static str {
        match self {
            Provider::Aws => "aws",
            Provider::Minio => "minio",
            Provider::DigitalOceanSpaces => "spaces",
            Provider::R2 => "r2",
            Provider::B2 => "b2",
            Provider::SeaweedFs => "seaweedfs",
            Provider::Garage => "garage",
            Provider::Generic => "generic",
        }
    }

    /// The provider a host belongs to, by its domain; [`Provider::Generic`] for any
    /// other host (a self-hosted server is named by its answers instead, see
    /// [`Provider::from_headers`]).
    pub fn from_host(host: &str) -> Provider {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let under = |domain: &str| host == domain || host.ends_with(&format!(".{domain}"));
        if under("amazonaws.com") || under("amazonaws.com.cn") {
            Provider::Aws
        } else if under("digitaloceanspaces.com") {
            Provider::DigitalOceanSpaces
        } else if under("r2.cloudflarestorage.com") {
            Provider::R2
        } else if under("backblazeb2.com") {
            Provider::B2
        } else {
            Provider::Generic
        }
    }

    /// The provider of an endpoint, by its host.
    pub fn from_endpoint(endpoint: &Endpoint) -> Provider {
        Provider::from_host(&endpoint.host)
    }

    /// The server a `Server` header names: `AmazonS3` (AWS's documented value), `MinIO`
    /// (older releases `Minio/…`, as in minio/minio#6557) and SeaweedFS's
    /// `SeaweedFS 8000GB 4.48` (seen on the server the tests run). `None` for anything
    /// else, e.g. the `cloudflare` or `nginx` of a proxy in front of any server.
    pub fn from_server_header(value: &str) -> Option<Provider> {
        let value = value.trim().to_ascii_lowercase();
        if value.starts_with("amazons3") {
            Some(Provider::Aws)
        } else if value.starts_with("minio") {
            Some(Provider::Minio)
        } else if value.starts_with("seaweedfs") {
            Some(Provider::SeaweedFs)
        } else {
            None
        }
    }

    /// The server an answer's headers name: its `Server` header, or for Garage, which
    /// sends none, the shape of its answers to uploads (measured on Garage 2.5.0: an
    /// `x-amz-version-id` of 64 hex digits, and no `x-amz-request-id`).
    pub fn from_headers(headers: &HeaderMap) -> Option<Provider> {
        if let Some(server) = headers.get(http::header::SERVER) {
            return server.to_str().ok().and_then(Provider::from_server_header);
        }
        let garage_version = headers.get("x-amz-version-id").is_some_and(|v| {
            v.len() == 64
                && v.as_bytes()
                    .iter()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
        });
        (garage_version && !headers.contains_key("x-amz-request-id")).then_some(Provider::Garage)
    }

    /// This provider's quirks.
    pub fn profile(self) -> Profile {
        // What AWS itself does; each provider below lists where it differs, with the source.
        let aws = Quirks {
            send_checksum_headers: true,
            equal_part_sizes: false,
            // Asked of every provider, as PocketBase does since v0.36.3: a compressed
            // answer is decompressed on the way and loses its length (PocketBase #7523,
            // a 0-byte download from a provider that gzips; Go's net/http docs).
            accept_encoding_identity: true,
            // AWS ignores an empty Range and answers the whole object (moto mimics it:
            // getmoto/moto#3531).
            empty_range_refused: false,
            tagging_supported: true,
            // Virtual-hosted style is AWS's way; path style is deprecated, its end delayed
            // (AWS News Blog, "Amazon S3 Path Deprecation Plan – The Rest of the Story",
            // update of 2020-09-23).
            path_style: PathStyle::Virtual,
            // If-None-Match since August 2024, If-Match since November 2024 ("Amazon S3
            // adds new functionality for conditional writes", AWS What's New, 2024-11-25).
            conditional_writes: true,
            octet_stream_by_extension: false,
        };
        let either = Quirks {
            path_style: PathStyle::Either,
            ..aws
        };
        let quirks = match self {
            Provider::Aws => aws,
            Provider::Minio => Quirks {
                // MinIO's range parser refuses "" (minio cmd/httprange_test.go), and a
                // MinIO-based provider answered PocketBase's empty Range with 416
                // InvalidRange "The requested range cannot be satisfied." (PocketBase
                // PR #6914, fixed in v0.28.3 by sending no Range at all).
                empty_range_refused: true,
                // Virtual hosts only with MINIO_DOMAIN set; PocketBase's and edgefs's
                // MinIO examples force path style.
                path_style: PathStyle::Path,
                // Conditional PutObject since 2024 (minio/minio#20346); an If-Match on a
                // missing key wrote it until minio/minio#21550 (August 2025).
                ..aws
            },
            Provider::DigitalOceanSpaces => Quirks {
                // Spaces does not keep the parts' CRC32 checksums the AWS SDKs send by
                // default ("Object part missing hash! Expected crc32",
                // get-convex/convex-backend#85).
                send_checksum_headers: false,
                // Not in Spaces' documented S3 compatibility: treated as unsupported.
                conditional_writes: false,
                ..either
            },
            Provider::R2 => Quirks {
                // 501 NotImplemented "Header 'x-amz-checksum-crc32' with value '…' not
                // implemented" after the AWS SDKs' January 2025 change
                // (cloudflare/cloudflare-docs#19236); CRC64NVME was still refused in April
                // 2025 (skypilot-org/skypilot#5282, quoting Cloudflare).
                send_checksum_headers: false,
                // "All parts except the last one must be the same size"
                // (developers.cloudflare.com/r2/objects/multipart-objects/#limitations);
                // CompleteMultipartUpload answers 400 InvalidPart "All non-trailing parts
                // must have the same length." (apache/opendal#2904).
                equal_part_sizes: true,
                // PutObject takes If-Match and If-None-Match
                // (developers.cloudflare.com/r2/api/s3/conditional-operations/).
                ..either
            },
            Provider::B2 => Quirks {
                // 400 InvalidArgument "Unsupported header 'x-amz-checksum-crc32' received
                // for this API call." (stonith404/pingvin-share#798; B2's "Unsupported
                // Features"); PocketBase v0.25.3 stripped these headers for
                // backblazeb2.com endpoints (pocketbase commit c0b7762).
                send_checksum_headers: false,
                // "the x-amz-tagging header will be explicitly rejected if it is included on
                // the Copy Object (or Put Object) API calls" (backblaze.com/apidocs/s3-copy-object).
                tagging_supported: false,
                // Not in B2's documented S3 compatibility: treated as unsupported.
                conditional_writes: false,
                // "supports specifying the bucket name in the hostname of the URL or in the
                // path" (backblaze.com/docs/cloud-storage-call-the-s3-compatible-api).
                ..either
            },
            // SeaweedFS 4.48 accepted checksum headers, tagging and both URL styles in
            // tests/s3_servers.rs (`profile_requests_accepted`).
            // Conditional PutObject: 412 PreconditionFailed for a stale If-Match and for
            // If-None-Match on an existing key (tests/s3_servers.rs, `conditional_put`).
            Provider::SeaweedFs => Quirks {
                // SeaweedFS 4.48 stores a `.mp4` written as `application/octet-stream`
                // (one PutObject, in parts, or copied with REPLACE) as `video/mp4`; other
                // types are kept (tests/s3_servers.rs, `uploads_keep_their_type`).
                octet_stream_by_extension: true,
                ..either
            },
            Provider::Garage => Quirks {
                // Tagging is not in Garage's list of implemented endpoints; others answer
                // 501 NotImplemented (garagehq.deuxfleurs.fr/reference_manual/s3_compatibility);
                // Garage 2.5.0 answers `?tagging` so in tests/s3_servers.rs. (It verifies
                // `x-amz-checksum-crc32`: 400 InvalidDigest for a wrong one.)
                tagging_supported: false,
                // Garage 2.5.0 ignores If-Match and If-None-Match on PutObject and stores
                // every write (tests/s3_servers.rs, `conditional_put`).
                conditional_writes: false,
                ..either
            },
            // An unknown server: avoid everything any provider above refuses.
            Provider::Generic => Quirks {
                send_checksum_headers: false,
                equal_part_sizes: true,
                accept_encoding_identity: true,
                empty_range_refused: true,
                tagging_supported: false,
                path_style: PathStyle::Either,
                conditional_writes: false,
                // Not something a client can avoid: not assumed of an unknown server.
                octet_stream_by_extension: false,
            },
        };
        Profile { provider: self, quirks }
    }
}

impl Profile {
    /// The profile for an endpoint, by its host.
    pub fn for_endpoint(endpoint: &Endpoint) -> Profile {
        Provider::from_endpoint(endpoint).profile()
    }

    /// The profile the endpoint's host gives, or the one a server's answer names when the
    /// host names no provider (a self-hosted MinIO, SeaweedFS or Garage).
    pub fn detect(endpoint: &Endpoint, answered_by: Option<Provider>) -> Profile {
        match (Provider::from_endpoint(endpoint), answered_by) {
            (Provider::Generic, Some(server)) => server.profile(),
            (by_host, _) => by_host.profile(),
        }
    }

    /// The quirks that differ from AWS's, by name (`no-checksum-headers`,
    /// `equal-part-sizes`, `no-empty-range`, `no-tagging`, `path-style`,
    /// `no-conditional-writes`, `octet-stream-by-extension`), as the S3 test
    /// reports them. `Accept-Encoding: identity` is sent to every provider, so it is
    /// not listed.
    pub fn quirk_names(&self) -> Vec<&'static str> {
        let q = &self.quirks;
        let mut names = Vec::new();
        if !q.send_checksum_headers {
            names.push("no-checksum-headers");
        }
        if q.equal_part_sizes {
            names.push("equal-part-sizes");
        }
        if q.empty_range_refused {
            names.push("no-empty-range");
        }
        if !q.tagging_supported {
            names.push("no-tagging");
        }
        if q.path_style == PathStyle::Path {
            names.push("path-style");
        }
        if !q.conditional_writes {
            names.push("no-conditional-writes");
        }
        if q.octet_stream_by_extension {
            names.push("octet-stream-by-extension");
        }
        names
    }

    /// `{provider}; quirks={a},{b}` (or `quirks=none`): the S3 test's one-line report.
    pub fn summary(&self) -> String {
        let names = self.quirk_names();
        let quirks = if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(",")
        };
        format!("{}; quirks={quirks}", self.provider.name())
    }

    /// Shapes a request for this provider: drops an empty `Range` (for every provider:
    /// AWS ignores it, MinIO refuses it), and the checksum and tagging headers this
    /// provider refuses. edgefs's own builders send none of them; this catches requests
    /// a caller built with [`S3Request::header`].
    pub fn apply(&self, request: &mut S3Request) {
        let empty_range = request
            .headers
            .get(http::header::RANGE)
            .is_some_and(|value| value.as_bytes().iter().all(u8::is_ascii_whitespace));
        if empty_range {
            request.headers.remove(http::header::RANGE);
        }
        let refused = |name: &str| {
            (!self.quirks.send_checksum_headers && CHECKSUM_HEADER_PREFIXES.iter().any(|p| name.starts_with(p)))
                || (!self.quirks.tagging_supported && TAGGING_HEADERS.contains(&name))
        };
        let names: Vec<http::HeaderName> = request
            .headers
            .keys()
            .filter(|name| refused(name.as_str()))
            .cloned()
            .collect();
        for name in names {
            request.headers.remove(name);
        }
    }

    /// Checks a multipart upload's part sizes (in part order) before it is completed:
    /// where the provider needs equal parts, every part but the last must have the first
    /// one's size, and the last may not be larger.
    pub fn check_part_sizes(&self, sizes: &[u64]) -> Result<(), Error> {
        if !self.quirks.equal_part_sizes {
            return Ok(());
        }
        let Some((&first, rest)) = sizes.split_first() else {
            return Ok(());
        };
        let (last, middle) = rest.split_last().map_or((first, &[][..]), |(l, m)| (*l, m));
        if middle.iter().any(|&size| size != first) || last > first {
            return Err(Error::InvalidInput(format!(
                "{} needs every part but the last of the same size, and the last no larger: got {sizes:?}",
                self.provider.name()
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    fn endpoint(url: &str) -> Endpoint {
        Endpoint::parse(url).unwrap()
    }

    #[test]
    fn the_host_names_the_hosted_providers() {
        let cases = [
            ("https://s3.us-east-1.amazonaws.com", Provider::Aws),
            ("https://s3.amazonaws.com", Provider::Aws),
            ("https://s3.cn-north-1.amazonaws.com.cn", Provider::Aws),
            ("https://nyc3.digitaloceanspaces.com", Provider::DigitalOceanSpaces),
            ("https://0123abcd.r2.cloudflarestorage.com", Provider::R2),
            ("https://0123abcd.eu.r2.cloudflarestorage.com", Provider::R2),
            ("https://s3.us-west-002.backblazeb2.com", Provider::B2),
            ("https://minio.example.com", Provider::Generic),
            ("http://127.0.0.1:9000", Provider::Generic),
            // Look-alikes are not the provider.
            ("https://notamazonaws.com", Provider::Generic),
            ("https://amazonaws.com.evil.example", Provider::Generic),
            ("https://r2.cloudflarestorage.com.example", Provider::Generic),
        ];
        for (url, provider) in cases {
            assert_eq!(Provider::from_endpoint(&endpoint(url)), provider, "{url}");
        }
        assert_eq!(Provider::from_host("S3.US-WEST-002.BACKBLAZEB2.COM."), Provider::B2);
    }

    #[test]
    fn the_server_header_names_the_self_hosted_servers() {
        let cases = [
            ("AmazonS3", Some(Provider::Aws)),
            ("MinIO", Some(Provider::Minio)),
            (
                "Minio/DEVELOPMENT.2018-10-02T07-56-19Z (linux; amd64)",
                Some(Provider::Minio),
            ),
            ("SeaweedFS 8000GB 4.48", Some(Provider::SeaweedFs)),
            ("cloudflare", None),
            ("nginx", None),
            ("", None),
        ];
        for (value, provider) in cases {
            assert_eq!(Provider::from_server_header(value), provider, "{value}");
        }
        let mut headers = HeaderMap::new();
        assert_eq!(Provider::from_headers(&headers), None);
        // Garage's answer to a PutObject: no `Server`, a 64-hex-digit version id.
        let version = "ff74e60a9ecddb5bf4bffe85b6c713a6aa53ab58f1a75cbc55980aadc2956e46";
        headers.insert("x-amz-version-id", version.parse().unwrap());
        assert_eq!(Provider::from_headers(&headers), Some(Provider::Garage));
        headers.insert("x-amz-request-id", "18ED5CFBAF8B06CF".parse().unwrap());
        assert_eq!(Provider::from_headers(&headers), None, "not Garage's shape");
        headers.insert("server", "MinIO".parse().unwrap());
        assert_eq!(Provider::from_headers(&headers), Some(Provider::Minio));
    }

    #[test]
    fn the_host_wins_and_an_answer_names_only_an_unknown_host() {
        let minio = endpoint("https://files.example.com");
        assert_eq!(Profile::detect(&minio, None).provider, Provider::Generic);
        assert_eq!(Profile::detect(&minio, Some(Provider::Minio)).provider, Provider::Minio);
        // R2 behind Cloudflare says nothing useful in `Server`; its host decides.
        let r2 = endpoint("https://acct.r2.cloudflarestorage.com");
        assert_eq!(Profile::detect(&r2, Some(Provider::Garage)).provider, Provider::R2);
    }

    #[test]
    fn profiles_list_their_quirks() {
        let summary = |p: Provider| p.profile().summary();
        assert_eq!(summary(Provider::Aws), "aws; quirks=none");
        assert_eq!(
            summary(Provider::SeaweedFs),
            "seaweedfs; quirks=octet-stream-by-extension"
        );
        assert_eq!(summary(Provider::Minio), "minio; quirks=no-empty-range,path-style");
        assert_eq!(summary(Provider::R2), "r2; quirks=no-checksum-headers,equal-part-sizes");
        assert_eq!(
            summary(Provider::B2),
            "b2; quirks=no-checksum-headers,no-tagging,no-conditional-writes"
        );
        assert_eq!(
            summary(Provider::DigitalOceanSpaces),
            "spaces; quirks=no-checksum-headers,no-conditional-writes"
        );
        assert_eq!(
            summary(Provider::Garage),
            "garage; quirks=no-tagging,no-conditional-writes"
        );
        assert_eq!(
            summary(Provider::Generic),
            "generic; quirks=no-checksum-headers,equal-part-sizes,no-empty-range,no-tagging,no-conditional-writes"
        );
        for provider in Provider::ALL {
            assert!(provider.profile().quirks.accept_encoding_identity, "{provider:?}");
        }
    }

    #[test]
    fn apply_strips_what_the_provider_refuses() {
        let request = || {
            S3Request::new(Method::PUT, Some("k"))
                .header("x-amz-checksum-crc32", "AAAAAA==")
                .unwrap()
                .header("x-amz-sdk-checksum-algorithm", "CRC32")
                .unwrap()
                .header("x-amz-tagging", "a=b")
                .unwrap()
                .header("range", "")
                .unwrap()
                .header("content-type", "text/plain")
                .unwrap()
        };
        let mut b2 = request();
        Provider::B2.profile().apply(&mut b2);
        let names: Vec<&str> = b2.headers.keys().map(|n| n.as_str()).collect();
        assert_eq!(names, ["content-type"]);

        let mut aws = request();
        Provider::Aws.profile().apply(&mut aws);
        assert!(aws.headers.contains_key("x-amz-checksum-crc32") && aws.headers.contains_key("x-amz-tagging"));
        assert!(!aws.headers.contains_key("range"), "an empty Range is never sent");

        let mut ranged = S3Request::new(Method::GET, Some("k"))
            .header("range", "bytes=0-1")
            .unwrap();
        Provider::Minio.profile().apply(&mut ranged);
        assert_eq!(ranged.headers["range"], "bytes=0-1");
    }

    #[test]
    fn equal_parts_are_checked_where_needed() {
        let r2 = Provider::R2.profile();
        assert!(r2.check_part_sizes(&[]).is_ok());
        assert!(r2.check_part_sizes(&[7]).is_ok());
        assert!(r2.check_part_sizes(&[10, 10, 10, 3]).is_ok());
        assert!(r2.check_part_sizes(&[10, 10]).is_ok());
        assert!(r2.check_part_sizes(&[10, 12, 3]).is_err());
        assert!(r2.check_part_sizes(&[10, 11]).is_err());
        assert!(Provider::Aws.profile().check_part_sizes(&[10, 12, 3]).is_ok());
    }
}
