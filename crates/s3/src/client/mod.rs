//! The S3 client: the protocol of [`crate::protocol`] over a [`Transport`].
//!
//! It signs each attempt afresh (the date is part of the signature), retries what is
//! safe to retry, reads error answers into [`S3Error`]s, and streams bodies both ways:
//! downloads come back as a [`Body`] stream, and [`S3Client::upload`] cuts a stream of
//! any length into multipart parts as it arrives. Each request is shaped for the
//! provider's [`Profile`] first.

pub mod observed;
mod retry;
mod upload;

pub use retry::RetryPolicy;
pub use upload::{UploadConfig, MIN_PART_SIZE};

use crate::error::Error;
use crate::protocol::actions::*;
use crate::protocol::{Bucket, Profile, S3Error, S3Request, S3Settings, Target};
use crate::transport::{Body, Transport};
use bytes::Bytes;
use http::{HeaderMap, Method};
use std::time::Duration;

/// Error documents are small; a larger "error" is not S3 talking.
const ERROR_BODY_LIMIT: usize = 64 * 1024;
/// Listings of 1000 keys of 1024 bytes stay well under this.
const XML_BODY_LIMIT: usize = 16 * 1024 * 1024;

/// The answer to GetObject.
#[derive(Debug)]
pub struct GetObjectOutput {
    /// 200, 206 for a range, or 304 when a condition says the caller's copy is current.
    pub status: u16,
    /// The object's attributes, from the answer's headers.
    pub meta: ObjectMeta,
    /// The object's bytes, as a stream (empty for 304).
    pub body: Body,
}

impl GetObjectOutput {
    /// True for a 304: a condition says the caller's copy is current, and the body is empty.
    pub fn not_modified(&self) -> bool {
        self.status == 304
    }
}

/// An S3 client for one bucket.
///
/// # Example
///
/// Settings from PocketBase's JSON, an upload and a download, over any [`Transport`]
/// (`edgefs_s3::transport::native::NativeTransport` natively, with the `native` feature):
///
/// ```no_run
/// use edgefs_s3::protocol::actions::{GetObject, ObjectOptions};
/// use edgefs_s3::{Body, Error, S3Client, S3Settings, Transport};
///
/// async fn round_trip(transport: impl Transport) -> Result<(), Error> {
///     let settings = S3Settings::from_json(
///         r#"{"enabled": true, "bucket": "photos", "region": "us-east-1",
///             "endpoint": "http://127.0.0.1:9000", "accessKey": "AKID", "secret": "SECRET",
///             "forcePathStyle": true}"#,
///     )?;
///     let client = S3Client::new(&settings, transport)?;
///
///     let options = ObjectOptions::default().content_type("text/plain");
///     client.upload("notes/hello.txt", Body::from("hello"), &options).await?;
///
///     let object = client.get_object("notes/hello.txt", &GetObject::new()).await?;
///     assert_eq!(object.meta.content_type.as_deref(), Some("text/plain"));
///     // The body streams; `collect` is for small bodies, here at most 1 MiB.
///     assert_eq!(object.body.collect(1024 * 1024).await?, "hello");
///     Ok(())
/// }
/// ```
pub struct S3Client<T> {
    bucket: Bucket,
    transport: T,
    retry: RetryPolicy,
    upload: UploadConfig,
    profile: Profile,
}

impl<T> std::fmt::Debug for S3Client<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Client")
            .field("bucket", &self.bucket)
            .field("retry", &self.retry)
            .field("profile", &self.profile.provider)
            .finish()
    }
}

impl<T: Transport> S3Client<T> {
    /// Validates the settings (see [`S3Settings::validate`]) and builds the client.
    pub fn new(settings: &S3Settings, transport: T) -> Result<Self, Error> {
        Ok(S3Client::from_bucket(Bucket::new(settings)?, transport))
    }

    /// A client for a bucket already validated, e.g. one with a session token, with the
    /// default retry policy and upload configuration, and the profile of the endpoint's
    /// host ([`Profile::for_endpoint`]).
    pub fn from_bucket(bucket: Bucket, transport: T) -> Self {
        let profile = Profile::for_endpoint(bucket.endpoint());
        S3Client {
            bucket,
            transport,
            retry: RetryPolicy::default(),
            upload: UploadConfig::default(),
            profile,
        }
    }

    /// Shapes requests for another provider's quirks than the endpoint's host names, e.g.
    /// the one the S3 test detected.
    pub fn with_profile(mut self, profile: Profile) -> Self {
        self.profile = profile;
        self
    }

    /// The provider profile requests are shaped for.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// The profile of the server as far as it is known now: the endpoint's host, or the
    /// provider the answers so far named ([`Profile::detect`]).
    pub fn detected_profile(&self) -> Profile {
        let endpoint = self.bucket.endpoint();
        Profile::detect(endpoint, observed::answered_by(endpoint))
    }

    /// Replaces the default [`RetryPolicy`] (3 retries, waits of up to 100 ms doubling to 5 s).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Part size and concurrency of multipart uploads. A part size below S3's 5 MiB
    /// minimum is raised to it.
    pub fn with_upload_config(mut self, config: UploadConfig) -> Self {
        self.upload = config.normalized();
        self
    }

    /// The bucket: its name, region and URL style.
    pub fn bucket(&self) -> &Bucket {
        &self.bucket
    }

    /// The transport requests go through.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// Signs and sends one request, retrying what is safe to retry. Answers other than
    /// 2xx and 304 become errors.
    pub async fn send(&self, request: S3Request, target: Target) -> Result<http::Response<Body>, Error> {
        self.exchange(request, target, false, |response| async move { Ok(response) })
            .await
    }

    /// Sends a request whose answer is a small XML document. A `200 OK` carrying an
    /// `<Error>` (CopyObject, CompleteMultipartUpload) is an error, retried like a 5xx
    /// when its code says so. With `reread`, an answer whose body fails to arrive is
    /// asked for again: only for requests that do nothing new when repeated.
    async fn send_for_xml(
        &self,
        request: S3Request,
        target: Target,
        reread: bool,
    ) -> Result<(HeaderMap, Bytes), Error> {
        let region = self.bucket.region();
        self.exchange(request, target, reread, |response| async move {
            let status = response.status().as_u16();
            let (parts, body) = response.into_parts();
            let body = body.collect(XML_BODY_LIMIT).await?;
            if root_element(&body).as_deref() == Some("Error") {
                return Err(S3Error::from_response(status, &parts.headers, &body, region, target).into());
            }
            Ok((parts.headers, body))
        })
        .await
    }

    /// The retry loop: signs and sends an attempt, turns an error answer into an
    /// [`S3Error`], and hands a success to `read`. A retryable error — from the answer,
    /// or from `read` (a 200 carrying a retryable error; with `reread`, a body cut
    /// short) — sends the request again while it can be sent again.
    async fn exchange<R, F, Fut>(
        &self,
        mut request: S3Request,
        target: Target,
        reread: bool,
        read: F,
    ) -> Result<R, Error>
    where
        F: Fn(http::Response<Body>) -> Fut,
        Fut: std::future::Future<Output = Result<R, Error>>,
    {
        self.profile.apply(&mut request);
        let mut request = Some(request);
        let mut retry = 0;
        loop {
            let current = request.take().expect("a request is set for every attempt");
            // Only a body that can be sent again makes a request safe to repeat.
            let spare = if retry < self.retry.max_retries {
                current.try_clone()
            } else {
                None
            };
            let signed = self.bucket.sign(current, crate::clock::now())?;
            let answer = self.transport.send(signed).await;
            if let Ok(response) = &answer {
                observed::remember(self.bucket.endpoint(), response.headers());
            }
            let (error, retryable) = match answer {
                Ok(response) if response.status().is_success() || response.status() == 304 => {
                    match read(response).await {
                        Ok(result) => return Ok(result),
                        Err(error) => {
                            let retryable = match &error {
                                Error::S3(e) => e.is_retryable(),
                                Error::Transport(_) | Error::Body(_) => reread,
                                _ => false,
                            };
                            (error, retryable)
                        }
                    }
                }
                Ok(response) => {
                    let status = response.status().as_u16();
                    let (parts, body) = response.into_parts();
                    let body = body.collect(ERROR_BODY_LIMIT).await.unwrap_or_default();
                    let error = S3Error::from_response(status, &parts.headers, &body, self.bucket.region(), target);
                    let retryable = error.is_retryable();
                    (Error::from(error), retryable)
                }
                Err(error) => {
                    let retryable = matches!(error, Error::Transport(_));
                    (error, retryable)
                }
            };
            match spare {
                Some(spare) if retryable => {
                    self.transport.sleep(self.retry.delay(retry)).await;
                    request = Some(spare);
                    retry += 1;
                }
                _ => return Err(error),
            }
        }
    }

    /// Downloads an object (or a range of it). The body streams; nothing is buffered.
    pub async fn get_object(&self, key: &str, options: &GetObject) -> Result<GetObjectOutput, Error> {
        let response = self.send(options.request(key, Method::GET)?, Target::Object).await?;
        let status = response.status().as_u16();
        let (parts, body) = response.into_parts();
        let meta = ObjectMeta::from_headers(&parts.headers);
        let body = if status == 304 { Body::empty() } else { body };
        Ok(GetObjectOutput { status, meta, body })
    }

    /// An object's attributes. A missing object is an error whose `is_not_found()` is true.
    pub async fn head_object(&self, key: &str) -> Result<ObjectMeta, Error> {
        let response = self.send(HeadObject::new().request(key)?, Target::Object).await?;
        Ok(ObjectMeta::from_headers(response.headers()))
    }

    /// True when the object exists.
    pub async fn object_exists(&self, key: &str) -> Result<bool, Error> {
        match self.head_object(key).await {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// One PutObject request, whatever the body's size (S3 accepts up to 5 GiB). Prefer
    /// [`S3Client::upload`], which switches to multipart for large bodies.
    pub async fn put_object(&self, key: &str, body: Body, options: &ObjectOptions) -> Result<Option<String>, Error> {
        let response = self
            .send(PutObject::new(options.clone()).request(key, body)?, Target::Object)
            .await?;
        Ok(response
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned))
    }

    /// One PutObject with its conditions ([`PutObject::if_match`], [`PutObject::if_absent`]);
    /// a condition that fails is an error whose `is_precondition_failed()` is true.
    pub async fn put_object_with(&self, key: &str, body: Body, put: &PutObject) -> Result<Option<String>, Error> {
        let response = self.send(put.request(key, body)?, Target::Object).await?;
        Ok(response
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned))
    }

    /// Deletes an object. Deleting a key that does not exist succeeds, as in S3.
    pub async fn delete_object(&self, key: &str) -> Result<(), Error> {
        self.send(DeleteObject::request(key), Target::Object).await.map(drop)
    }

    /// Deletes any number of keys, 1000 per request; keys S3 could not delete are
    /// listed in the output's `errors`.
    pub async fn delete_objects(&self, keys: &[String]) -> Result<DeleteObjectsOutput, Error> {
        let mut output = DeleteObjectsOutput::default();
        for batch in keys.chunks(MAX_KEYS_PER_DELETE) {
            let (_, body) = self
                .send_for_xml(DeleteObjects::request(batch)?, Target::Bucket, true)
                .await?;
            let result = DeleteObjects::parse(batch, &body)?;
            output.deleted.extend(result.deleted);
            output.errors.extend(result.errors);
        }
        Ok(output)
    }

    /// Copies an object inside the bucket (up to 5 GiB, S3's limit for one copy).
    pub async fn copy_object(
        &self,
        source: &str,
        destination: &str,
        options: &CopyObject,
    ) -> Result<CopyObjectOutput, Error> {
        let request = options.request(self.bucket.name(), source, destination)?;
        let (_, body) = self.send_for_xml(request, Target::Object, true).await?;
        CopyObject::parse(&body)
    }

    /// One page of a listing.
    pub async fn list_objects_v2(&self, options: &ListObjectsV2) -> Result<ListObjectsV2Output, Error> {
        let (_, body) = self.send_for_xml(options.request()?, Target::Bucket, true).await?;
        ListObjectsV2::parse(&body)
    }

    /// Every object under `prefix`, following continuation tokens.
    pub async fn list_all(&self, prefix: &str) -> Result<Vec<ListedObject>, Error> {
        let mut options = ListObjectsV2 {
            prefix: Some(prefix.to_owned()),
            ..ListObjectsV2::default()
        };
        let mut objects = Vec::new();
        loop {
            let page = self.list_objects_v2(&options).await?;
            objects.extend(page.objects);
            match page.next_continuation_token {
                Some(token) => options.continuation_token = Some(token),
                None => return Ok(objects),
            }
        }
    }

    /// Starts a multipart upload with the object's content type and metadata; returns the
    /// upload id the other multipart calls take. [`S3Client::upload`] runs a whole upload.
    pub async fn create_multipart_upload(&self, key: &str, options: &ObjectOptions) -> Result<String, Error> {
        let (_, body) = self
            // Not asked again when the answer is lost: the server may have made an
            // upload already (S3Client::upload aborts it).
            .send_for_xml(CreateMultipartUpload::request(key, options)?, Target::Object, false)
            .await?;
        CreateMultipartUpload::parse(&body)
    }

    /// Uploads one part; returns its ETag.
    pub async fn upload_part(&self, key: &str, upload_id: &str, part_number: u32, body: Body) -> Result<String, Error> {
        let response = self
            .send(UploadPart::request(key, upload_id, part_number, body)?, Target::Object)
            .await?;
        UploadPart::parse(response.headers())
    }

    /// Completes an upload; returns the object's ETag.
    pub async fn complete_multipart_upload(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[CompletedPart],
    ) -> Result<Option<String>, Error> {
        let request = CompleteMultipartUpload::request(key, upload_id, parts)?;
        // Completing twice is harmless: the second finds the object made.
        let (_, body) = self.send_for_xml(request, Target::Object, true).await?;
        CompleteMultipartUpload::parse(&body)
    }

    /// Abandons a multipart upload and frees its parts, so none stay billed.
    pub async fn abort_multipart_upload(&self, key: &str, upload_id: &str) -> Result<(), Error> {
        self.send(AbortMultipartUpload::request(key, upload_id), Target::Object)
            .await
            .map(drop)
    }

    /// One page of the parts uploaded so far: `marker` is the previous page's
    /// `next_part_number_marker`, `None` for the first page.
    pub async fn list_parts(&self, key: &str, upload_id: &str, marker: Option<u32>) -> Result<ListPartsOutput, Error> {
        let (_, body) = self
            .send_for_xml(ListParts::request(key, upload_id, marker), Target::Object, true)
            .await?;
        ListParts::parse(&body)
    }

    /// One page of the multipart uploads neither completed nor aborted, under `prefix` (all
    /// when `None`): `markers` is the previous page's `next_markers`, `None` for the first page.
    pub async fn list_multipart_uploads(
        &self,
        prefix: Option<&str>,
        markers: Option<(&str, &str)>,
    ) -> Result<ListMultipartUploadsOutput, Error> {
        let (_, body) = self
            .send_for_xml(ListMultipartUploads::request(prefix, markers), Target::Bucket, true)
            .await?;
        ListMultipartUploads::parse(&body)
    }

    /// Creates the bucket (in the client's region).
    pub async fn create_bucket(&self) -> Result<(), Error> {
        self.send(CreateBucket::request(self.bucket.region())?, Target::Bucket)
            .await
            .map(drop)
    }

    /// Checks that the bucket exists and the credentials may use it; returns the
    /// bucket's region when the server tells.
    pub async fn head_bucket(&self) -> Result<Option<String>, Error> {
        let response = self.send(HeadBucket::request(), Target::Bucket).await?;
        Ok(HeadBucket::region(response.headers()))
    }

    /// A URL anyone can GET the object with, for `expires_in` (1 s to 7 days).
    pub fn presign_get(&self, key: &str, expires_in: Duration) -> Result<String, Error> {
        self.bucket.presign(Method::GET, key, expires_in, crate::clock::now())
    }

    /// A URL anyone can PUT the object's bytes to, for `expires_in` (1 s to 7 days).
    pub fn presign_put(&self, key: &str, expires_in: Duration) -> Result<String, Error> {
        self.bucket.presign(Method::PUT, key, expires_in, crate::clock::now())
    }
}

#[cfg(all(test, feature = "native", not(target_arch = "wasm32")))]
mod send_tests {
    use super::*;
    use crate::transport::native::NativeTransport;

    fn assert_send<T: Send>(_: T) {}

    /// Native callers spawn these futures on multi-threaded runtimes.
    #[test]
    fn client_futures_are_send() {
        let settings = S3Settings::new("b", "us-east-1", "http://127.0.0.1:1", "ak", "sk");
        let client = S3Client::new(&settings, NativeTransport::new()).unwrap();
        assert_send(client.get_object("k", &GetObject::new()));
        assert_send(client.head_object("k"));
        assert_send(client.put_object("k", Body::empty(), &ObjectOptions::default()));
        assert_send(client.upload("k", Body::empty(), &ObjectOptions::default()));
        assert_send(client.list_objects_v2(&ListObjectsV2::default()));
        assert_send(client.delete_objects(&[]));
        assert_send(client.copy_object("a", "b", &CopyObject::default()));
    }
}
