//! Files in conversations: checked against the site's size limit and type allowlist, stored
//! once per content (content-addressed by SHA-256 in the attachment store: a local directory
//! or an S3-compatible bucket, see [`crate::db::attachment_store`]), and served only to
//! whoever may see the conversation.

use crate::db::attachment_store::{AttachmentStore, Blob, Spool, StoreError, SPOOL_AFTER};
use crate::db::{self, attachments::AttachmentRow, Pool};
use crate::domain::conversations::{access::visible_conversation, ConversationError, Viewer};
use crate::model::human_size;
use crate::realtime::protocol::AttachmentRef;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// Why a file was refused.
#[derive(Debug, thiserror::Error)]
pub enum AttachmentError {
    #[error("This file is too big: the limit is {}.", human_size(*limit))]
    TooBig { limit: i64 },
    #[error("Files of type {0} cannot be sent here. Images, PDF, text and office documents can.")]
    TypeNotAllowed(String),
    #[error("This file is empty.")]
    Empty,
    #[error(transparent)]
    Conversation(#[from] ConversationError),
    #[error("storing the file failed: {0}")]
    Store(#[from] StoreError),
    /// The body stopped arriving (the client went away); nothing was stored.
    #[error("The upload was interrupted.")]
    Interrupted(std::io::Error),
}

impl From<sqlx::Error> for AttachmentError {
    fn from(e: sqlx::Error) -> Self {
        AttachmentError::Conversation(ConversationError::Db(e))
    }
}

/// Whether `content_type` (parameters ignored) matches one of the allowed patterns
/// (`image/*` or an exact type).
pub fn type_allowed(allowed: &[String], content_type: &str) -> bool {
    let ct = essence(content_type);
    allowed.iter().any(|a| {
        let a = a.trim().to_ascii_lowercase();
        match a.strip_suffix("/*") {
            Some(major) => ct.split('/').next() == Some(major) && ct.contains('/'),
            None => a == ct,
        }
    })
}

/// `type/subtype`, lower case, without parameters.
pub fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// A file name safe to store and show: the last path segment, no control characters,
/// at most 200 characters.
pub fn clean_filename(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let name: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    let name = name.trim().trim_start_matches('.').to_string();
    if name.is_empty() {
        "file".into()
    } else {
        name
    }
}

/// Where the local store (the default) keeps the bytes with this SHA-256.
pub fn path_for(data_dir: &Path, sha256: &str) -> PathBuf {
    data_dir.join("attachments").join(&sha256[..2]).join(sha256)
}

/// An upload as received: the body arrives as a stream, so a file is never held whole in
/// memory (at most [`SPOOL_AFTER`] bytes plus the parts in flight).
pub struct Upload<'a, S> {
    pub filename: &'a str,
    pub content_type: &'a str,
    /// `Content-Length` when the client sent one: a body announced too big is refused before
    /// a byte of it is read.
    pub declared_len: Option<u64>,
    pub body: S,
}

/// Checks and stores a file for `conversation`; it is sent with the next message that names
/// it (`Send { attachment }`). `cap` is the most this node reads for any site.
pub async fn store_upload<S>(
    pool: &Pool,
    store: &AttachmentStore,
    viewer: &Viewer,
    conversation: Uuid,
    cap: u64,
    upload: Upload<'_, S>,
) -> Result<AttachmentRef, AttachmentError>
where
    S: Stream<Item = Result<Bytes, std::io::Error>> + Unpin,
{
    let conv = visible_conversation(pool, viewer, conversation).await?;
    let (limit, allowed) = db::sites::attachment_rules(pool, conv.site_id).await?;
    let limit = (limit.max(0) as u64).min(cap);
    let content_type = essence(upload.content_type);
    if !type_allowed(&allowed, &content_type) {
        return Err(AttachmentError::TypeNotAllowed(content_type));
    }
    let too_big = || AttachmentError::TooBig {
        limit: limit as i64,
    };
    if upload.declared_len.is_some_and(|n| n > limit) {
        return Err(too_big());
    }
    let mut body = upload.body;
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    // Small files (nearly all) stay in memory and go to the store in one write; past
    // SPOOL_AFTER the body streams into a multipart upload at a temporary key.
    let mut held: Vec<Bytes> = Vec::new();
    let mut held_len = 0usize;
    let mut spool: Option<Spool> = None;
    while let Some(chunk) = body.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                if let Some(s) = spool {
                    s.abort().await;
                }
                return Err(AttachmentError::Interrupted(e));
            }
        };
        size += chunk.len() as u64;
        if size > limit {
            if let Some(s) = spool {
                s.abort().await;
            }
            return Err(too_big());
        }
        hasher.update(&chunk);
        held_len += chunk.len();
        held.push(chunk);
        if held_len >= SPOOL_AFTER {
            let s = match &mut spool {
                Some(s) => s,
                None => spool.insert(store.spool().await?),
            };
            for part in held.drain(..) {
                s.write(part).await?;
            }
            held_len = 0;
        }
    }
    if size == 0 {
        return Err(AttachmentError::Empty);
    }
    let sha = hex::encode(hasher.finalize());
    match spool {
        Some(mut s) => {
            for part in held.drain(..) {
                s.write(part).await?;
            }
            store.adopt(s, &sha).await?;
        }
        None => store.put(&sha, held).await?,
    }
    let row = db::attachments::insert(
        pool,
        conversation,
        &sha,
        &clean_filename(upload.filename),
        &content_type,
        size as i64,
    )
    .await?;
    Ok(row.to_ref())
}

/// A file `viewer` may download, and its bytes (`None`: the row is there but the store has
/// lost the bytes).
pub async fn open(
    pool: &Pool,
    store: &AttachmentStore,
    viewer: &Viewer,
    id: Uuid,
) -> Result<(AttachmentRow, Option<Blob>), AttachmentError> {
    let row = db::attachments::find(pool, id)
        .await?
        .ok_or(ConversationError::NotFound)?;
    visible_conversation(pool, viewer, row.conversation_id).await?;
    let blob = store.get(&row.sha256).await?;
    Ok((row, blob))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types() {
        let allowed = vec![
            "image/*".to_string(),
            "application/pdf".into(),
            "text/plain".into(),
        ];
        assert!(type_allowed(&allowed, "image/png"));
        assert!(type_allowed(&allowed, "IMAGE/JPEG"));
        assert!(type_allowed(&allowed, "text/plain; charset=utf-8"));
        assert!(type_allowed(&allowed, "application/pdf"));
        assert!(!type_allowed(&allowed, "text/html"));
        assert!(!type_allowed(&allowed, "application/x-msdownload"));
        assert!(!type_allowed(&allowed, "image"));
        assert!(!type_allowed(&allowed, ""));
    }

    #[test]
    fn names_and_sizes() {
        assert_eq!(clean_filename("../../etc/passwd"), "passwd");
        assert_eq!(clean_filename("C:\\Users\\me\\report.pdf"), "report.pdf");
        assert_eq!(clean_filename("a\u{0}b\nc.txt"), "abc.txt");
        assert_eq!(clean_filename(".."), "file");
        assert_eq!(clean_filename(""), "file");
    }
}
