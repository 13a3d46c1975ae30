//! `/files`: uploads into a conversation and downloads from it. Visitors authenticate with
//! their device token (`Authorization: Bearer …`, since the widget's iframe has no cookies
//! of ours to rely on); agents with their session cookie. Either way the conversation's
//! access rule decides, as for the socket.

use super::{auth, middleware::is_cross_site, state::AppState};
use crate::domain::attachments::{self, AttachmentError, Upload};
use crate::domain::conversations::{ConversationError, Viewer};
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use serde::Deserialize;
use uuid::Uuid;

/// The largest body the upload route reads at all; each site's own limit (10 MB by default,
/// at most 100 MB) applies under it, with a clear message. The body is streamed: counted and
/// hashed as it arrives and refused (413) as soon as it passes the limit.
pub const MAX_UPLOAD_BYTES: usize = 50 * 1024 * 1024;

fn refuse(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        axum::Json(serde_json::json!({ "error": message.into() })),
    )
        .into_response()
}

/// Who is asking: a visitor by bearer token, else a signed-in agent by cookie (refused when
/// the cookie rides a cross-site request).
async fn viewer(state: &AppState, headers: &HeaderMap) -> Result<Viewer, Response> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if let Some(token) = bearer {
        return match crate::domain::visitors::authenticate(&state.pool, token.trim()).await {
            Ok(Some(v)) => Ok(Viewer::Visitor {
                contact_id: v.contact_id,
                name: v.name,
            }),
            Ok(None) => Err(refuse(
                StatusCode::UNAUTHORIZED,
                "This chat session has expired.",
            )),
            Err(e) => {
                tracing::error!(error = %e, "authenticating a visitor failed");
                Err(StatusCode::INTERNAL_SERVER_ERROR.into_response())
            }
        };
    }
    match auth::user_from_headers(&state.pool, headers).await {
        Ok(Some(user)) if !is_cross_site(headers) => Ok(Viewer::Agent {
            user_id: user.id,
            name: user.name.clone(),
        }),
        Ok(Some(_)) => Err(refuse(StatusCode::FORBIDDEN, "Cross-site request refused.")),
        Ok(None) => Err(refuse(
            StatusCode::UNAUTHORIZED,
            "Please sign in to continue.",
        )),
        Err(_) => Err(StatusCode::INTERNAL_SERVER_ERROR.into_response()),
    }
}

fn attachment_error(e: AttachmentError) -> Response {
    match e {
        AttachmentError::TooBig { .. } => refuse(StatusCode::PAYLOAD_TOO_LARGE, e.to_string()),
        AttachmentError::TypeNotAllowed(_) => {
            refuse(StatusCode::UNSUPPORTED_MEDIA_TYPE, e.to_string())
        }
        AttachmentError::Empty => refuse(StatusCode::BAD_REQUEST, e.to_string()),
        AttachmentError::Conversation(ConversationError::Db(err)) => {
            tracing::error!(error = %err, "attachment query failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
        AttachmentError::Conversation(c) => refuse(StatusCode::NOT_FOUND, c.to_string()),
        AttachmentError::Interrupted(_) => refuse(StatusCode::BAD_REQUEST, e.to_string()),
        AttachmentError::Store(err) => {
            tracing::error!(error = %err, "attachment storage failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The upload's query: which conversation, and the file's name.
#[derive(Debug, Deserialize)]
pub struct UploadQuery {
    conversation_id: Uuid,
    #[serde(default)]
    filename: String,
}

/// `POST /files?conversation_id=…&filename=…` with the file as the body and its type as
/// `Content-Type`. Answers the stored file (`AttachmentRef`) to send with a message.
pub async fn upload(
    State(state): State<AppState>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let viewer = match viewer(&state, &headers).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream");
    let declared_len = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let upload = Upload {
        filename: &q.filename,
        content_type,
        declared_len,
        body: body.into_data_stream().map_err(std::io::Error::other),
    };
    match attachments::store_upload(
        &state.pool,
        &state.config.attachment_store,
        &viewer,
        q.conversation_id,
        MAX_UPLOAD_BYTES as u64,
        upload,
    )
    .await
    {
        Ok(stored) => axum::Json(stored).into_response(),
        Err(e) => attachment_error(e),
    }
}

/// `GET /files/{id}`: the file, to those who may see its conversation. Images show inline;
/// everything else downloads. Never sniffed, never run as a page.
pub async fn download(
    State(state): State<AppState>,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
) -> Response {
    let viewer = match viewer(&state, &headers).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let (row, blob) =
        match attachments::open(&state.pool, &state.config.attachment_store, &viewer, id).await {
            Ok(found) => found,
            Err(e) => return attachment_error(e),
        };
    let Some(blob) = blob else {
        tracing::error!(sha256 = %row.sha256, "attachment missing from the store");
        return refuse(StatusCode::NOT_FOUND, "This file is no longer available.");
    };
    // SVG can carry scripts: it downloads like any other document.
    let inline = row.content_type.starts_with("image/") && row.content_type != "image/svg+xml";
    let disposition = format!(
        "{}; filename*=UTF-8''{}",
        if inline { "inline" } else { "attachment" },
        percent_encode(&row.filename)
    );
    // Streamed from the store as the client reads: memory stays flat whatever the size.
    let mut res = Response::new(Body::from_stream(blob.bytes));
    let h = res.headers_mut();
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(blob.size));
    if let Ok(v) = HeaderValue::from_str(&row.content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    res
}

/// RFC 5987 encoding for `filename*`.
fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
