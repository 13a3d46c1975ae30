//! Files in conversations: checked against the site's size limit and type allowlist, stored
//! once per content (content-addressed by SHA-256 under `$SWITCHBOARD_DATA_DIR/attachments`),
//! and served only to whoever may see the conversation.

use crate::db::{self, attachments::AttachmentRow, Pool};
use crate::domain::conversations::{access::visible_conversation, ConversationError, Viewer};
use crate::model::human_size;
use crate::realtime::protocol::AttachmentRef;
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
    Io(#[from] std::io::Error),
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

/// Where the bytes with this SHA-256 live.
pub fn path_for(data_dir: &Path, sha256: &str) -> PathBuf {
    data_dir.join("attachments").join(&sha256[..2]).join(sha256)
}

/// An upload as received.
#[derive(Debug, Clone, Copy)]
pub struct Upload<'a> {
    pub filename: &'a str,
    pub content_type: &'a str,
    pub bytes: &'a [u8],
}

/// Checks and stores a file for `conversation`; it is sent with the next message that names
/// it (`Send { attachment }`).
pub async fn store_upload(
    pool: &Pool,
    data_dir: &Path,
    viewer: &Viewer,
    conversation: Uuid,
    upload: Upload<'_>,
) -> Result<AttachmentRef, AttachmentError> {
    let conv = visible_conversation(pool, viewer, conversation).await?;
    let (limit, allowed) = db::sites::attachment_rules(pool, conv.site_id).await?;
    if upload.bytes.is_empty() {
        return Err(AttachmentError::Empty);
    }
    if upload.bytes.len() as i64 > limit {
        return Err(AttachmentError::TooBig { limit });
    }
    let content_type = essence(upload.content_type);
    if !type_allowed(&allowed, &content_type) {
        return Err(AttachmentError::TypeNotAllowed(content_type));
    }
    let sha = hex::encode(Sha256::digest(upload.bytes));
    let path = path_for(data_dir, &sha);
    if !tokio::fs::try_exists(&path).await.unwrap_or(false) {
        let dir = path.parent().expect("has a parent");
        tokio::fs::create_dir_all(dir).await?;
        // Written aside, then renamed: a reader never sees half a file.
        let tmp = dir.join(format!(".{sha}.{}", Uuid::new_v4().simple()));
        tokio::fs::write(&tmp, upload.bytes).await?;
        tokio::fs::rename(&tmp, &path).await?;
    }
    let row = db::attachments::insert(
        pool,
        conversation,
        &sha,
        &clean_filename(upload.filename),
        &content_type,
        upload.bytes.len() as i64,
    )
    .await?;
    Ok(row.to_ref())
}

/// A file `viewer` may download, and where its bytes are.
pub async fn open(
    pool: &Pool,
    data_dir: &Path,
    viewer: &Viewer,
    id: Uuid,
) -> Result<(AttachmentRow, PathBuf), AttachmentError> {
    let row = db::attachments::find(pool, id)
        .await?
        .ok_or(ConversationError::NotFound)?;
    visible_conversation(pool, viewer, row.conversation_id).await?;
    let path = path_for(data_dir, &row.sha256);
    Ok((row, path))
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
