//! Where attachment bytes live: the attachment store. One small interface over
//! [`object_store`] with two backends chosen by configuration:
//!
//! - a **local directory** (the default): `$SWITCHBOARD_DATA_DIR/attachments/ab/abcdef…`,
//!   the same layout as before this store existed, so existing files keep being served;
//! - an **S3-compatible bucket** (`SWITCHBOARD_S3_BUCKET`, optionally `SWITCHBOARD_S3_ENDPOINT`
//!   for MinIO, Ceph, R2, …): what several nodes share when they share no disk.
//!
//! Objects are content-addressed by SHA-256, so a key is written once and never changes: two
//! nodes storing the same file write the same bytes, and no write needs a lock. Rows in
//! `attachments` (see [`super::attachments`]) say which conversation a file belongs to.

use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as Key;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, WriteMultipart};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// Bytes above this are streamed into a multipart upload instead of being held in memory;
/// also the part size (S3's smallest part is 5 MiB). Bounds an upload's memory to about
/// this much plus [`PARTS_IN_FLIGHT`] parts.
pub const SPOOL_AFTER: usize = 5 * 1024 * 1024;
/// Parts of one upload sent at the same time (each holds up to [`SPOOL_AFTER`] bytes).
const PARTS_IN_FLIGHT: usize = 2;

/// Which backend to use, as read from the environment.
#[derive(Clone, PartialEq, Eq, Default)]
pub enum StoreSetting {
    /// `$SWITCHBOARD_DATA_DIR/attachments` on this machine (shared mounts work too).
    #[default]
    Local,
    /// An S3-compatible bucket.
    S3(S3Setting),
}

/// An S3-compatible bucket (`SWITCHBOARD_S3_*`). Credentials not given here come from the
/// standard AWS environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`) or, on AWS, the instance's role.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Setting {
    /// `SWITCHBOARD_S3_BUCKET`.
    pub bucket: String,
    /// `SWITCHBOARD_S3_ENDPOINT`: e.g. `http://127.0.0.1:9000` for MinIO; unset is AWS.
    /// Requests are path-style (`endpoint/bucket/key`), which every S3-compatible server takes.
    pub endpoint: Option<String>,
    /// `SWITCHBOARD_S3_REGION` (default `us-east-1`).
    pub region: String,
    /// `SWITCHBOARD_S3_PREFIX`: key prefix inside the bucket (default `attachments`), so one
    /// bucket can hold several installations.
    pub prefix: String,
    /// Explicit credentials (tests); `None` reads the AWS environment.
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
}

// Hand-written so a logged configuration never shows the secret key.
impl fmt::Debug for S3Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Setting")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("prefix", &self.prefix)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "***"),
            )
            .finish()
    }
}

impl fmt::Debug for StoreSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreSetting::Local => f.write_str("Local"),
            StoreSetting::S3(s) => s.fmt(f),
        }
    }
}

impl StoreSetting {
    /// Reads `SWITCHBOARD_S3_BUCKET` (unset: the local directory), `SWITCHBOARD_S3_ENDPOINT`,
    /// `SWITCHBOARD_S3_REGION` and `SWITCHBOARD_S3_PREFIX` through `var`.
    pub fn parse(var: impl Fn(&str) -> Option<String>) -> Result<StoreSetting, String> {
        let Some(bucket) = var("SWITCHBOARD_S3_BUCKET") else {
            return Ok(StoreSetting::Local);
        };
        let endpoint = var("SWITCHBOARD_S3_ENDPOINT").map(|e| e.trim_end_matches('/').to_string());
        if let Some(e) = &endpoint {
            if !(e.starts_with("http://") || e.starts_with("https://")) {
                return Err(format!(
                    "SWITCHBOARD_S3_ENDPOINT={e:?} must start with http:// or https://"
                ));
            }
        }
        Ok(StoreSetting::S3(S3Setting {
            bucket: bucket.trim().to_string(),
            endpoint,
            region: var("SWITCHBOARD_S3_REGION").unwrap_or_else(|| "us-east-1".into()),
            prefix: var("SWITCHBOARD_S3_PREFIX")
                .unwrap_or_else(|| "attachments".into())
                .trim_matches('/')
                .to_string(),
            access_key_id: None,
            secret_access_key: None,
        }))
    }
}

/// What went wrong with the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("attachment directory {path}: {source}")]
    Dir {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Object(#[from] object_store::Error),
}

/// The attachment store of this node. Cheap to clone.
#[derive(Clone)]
pub struct AttachmentStore {
    store: Arc<dyn ObjectStore>,
    /// Keys are `prefix/ab/abcdef…` (no prefix for the local directory).
    prefix: Option<Key>,
    /// For logs and `Debug`: where the bytes go.
    describe: Arc<str>,
}

impl fmt::Debug for AttachmentStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe)
    }
}

/// A stored file being read: its size and its bytes as they arrive.
pub struct Blob {
    pub size: u64,
    pub bytes: BoxStream<'static, Result<Bytes, StoreError>>,
}

/// A large upload in progress, written to a temporary key in parts; [`AttachmentStore::adopt`]
/// moves it to its content address once the whole body is hashed.
pub struct Spool {
    writer: WriteMultipart,
    key: Key,
}

impl Spool {
    /// Appends bytes; waits while too many parts are in flight (so memory stays bounded).
    pub async fn write(&mut self, bytes: Bytes) -> Result<(), StoreError> {
        self.writer.wait_for_capacity(PARTS_IN_FLIGHT).await?;
        self.writer.put(bytes);
        Ok(())
    }

    /// Gives the upload up (a refused or interrupted body); its parts are deleted.
    pub async fn abort(self) {
        if let Err(e) = self.writer.abort().await {
            tracing::warn!(error = %e, key = %self.key, "aborting a partial upload failed");
        }
    }
}

impl AttachmentStore {
    /// The store `setting` names; the local one lives in `data_dir/attachments`.
    pub fn open(
        setting: &StoreSetting,
        data_dir: &std::path::Path,
    ) -> Result<AttachmentStore, StoreError> {
        match setting {
            StoreSetting::Local => Self::local(&data_dir.join("attachments")),
            StoreSetting::S3(s) => Self::s3(s),
        }
    }

    /// Files under `dir` (created if missing).
    pub fn local(dir: &std::path::Path) -> Result<AttachmentStore, StoreError> {
        let dir_err = |source| StoreError::Dir {
            path: dir.display().to_string(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(dir_err)?;
        let fs = LocalFileSystem::new_with_prefix(dir)?;
        Ok(AttachmentStore {
            store: Arc::new(fs),
            prefix: None,
            describe: format!("attachments in {}", dir.display()).into(),
        })
    }

    /// Files in an S3-compatible bucket. Builds the client only; nothing is sent until the
    /// first file (see [`AttachmentStore::probe`]).
    pub fn s3(s: &S3Setting) -> Result<AttachmentStore, StoreError> {
        // reqwest is built without a bundled TLS provider (one crypto stack: ring, as the
        // NATS client uses); an Err only means a provider is already installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut b = AmazonS3Builder::from_env()
            .with_bucket_name(&s.bucket)
            .with_region(&s.region)
            // A download streams for as long as the client reads it; the default 30 s
            // total timeout would cut large files to slow clients.
            .with_client_options(
                ClientOptions::new()
                    .with_connect_timeout(Duration::from_secs(5))
                    .with_timeout(Duration::from_secs(600)),
            );
        if let Some(e) = &s.endpoint {
            b = b
                .with_endpoint(e)
                .with_allow_http(e.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        if let (Some(id), Some(secret)) = (&s.access_key_id, &s.secret_access_key) {
            b = b.with_access_key_id(id).with_secret_access_key(secret);
        }
        let store = b.build()?;
        Ok(AttachmentStore {
            store: Arc::new(store),
            prefix: (!s.prefix.is_empty()).then(|| Key::from(s.prefix.as_str())),
            describe: format!(
                "attachments in s3://{}/{} ({})",
                s.bucket,
                s.prefix,
                s.endpoint.as_deref().unwrap_or("AWS")
            )
            .into(),
        })
    }

    /// Where a file with this SHA-256 (lower-case hex) lives.
    fn key(&self, sha256: &str) -> Key {
        let rel = format!("{}/{sha256}", &sha256[..2]);
        match &self.prefix {
            Some(p) => Key::from(format!("{p}/{rel}")),
            None => Key::from(rel),
        }
    }

    /// Whether the file with this hash is stored.
    pub async fn contains(&self, sha256: &str) -> Result<bool, StoreError> {
        match self.store.head(&self.key(sha256)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Stores a small file held in memory under its hash (kept if already there).
    pub async fn put(&self, sha256: &str, bytes: Vec<Bytes>) -> Result<(), StoreError> {
        if self.contains(sha256).await? {
            return Ok(());
        }
        // Both backends write atomically (a temporary file renamed; one S3 PUT), so a reader
        // never sees half a file.
        self.store
            .put(&self.key(sha256), bytes.into_iter().collect())
            .await?;
        Ok(())
    }

    /// Starts a large upload at a temporary key.
    pub async fn spool(&self) -> Result<Spool, StoreError> {
        let rel = format!("tmp/{}", Uuid::new_v4().simple());
        let key = match &self.prefix {
            Some(p) => Key::from(format!("{p}/{rel}")),
            None => Key::from(rel),
        };
        let upload = self.store.put_multipart(&key).await?;
        Ok(Spool {
            writer: WriteMultipart::new_with_chunk_size(upload, SPOOL_AFTER),
            key,
        })
    }

    /// Completes a spooled upload and files it under its hash: renamed on disk, copied
    /// server-side on S3 (then the temporary object deleted). If the content is already
    /// stored the temporary copy is simply dropped.
    pub async fn adopt(&self, spool: Spool, sha256: &str) -> Result<(), StoreError> {
        let Spool { writer, key } = spool;
        writer.finish().await?;
        if self.contains(sha256).await? {
            self.store.delete(&key).await?;
        } else {
            self.store.rename(&key, &self.key(sha256)).await?;
        }
        Ok(())
    }

    /// The file with this hash, streamed; `None` if it is not stored.
    pub async fn get(&self, sha256: &str) -> Result<Option<Blob>, StoreError> {
        match self.store.get(&self.key(sha256)).await {
            Ok(found) => Ok(Some(Blob {
                size: found.meta.size,
                bytes: found
                    .into_stream()
                    .map(|r| r.map_err(StoreError::from))
                    .boxed(),
            })),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Checks at start-up that the store answers (a missing key is a good answer), so a
    /// wrong bucket or credentials show in the log at once rather than at the first upload.
    pub async fn probe(&self) -> Result<(), StoreError> {
        self.contains(&"0".repeat(64)).await.map(|_| ())
    }
}
