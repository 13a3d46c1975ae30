//! The WebSocket protocol: typed JSON frames, defined once for server and WASM client.
//!
//! Writes go through socket commands (not server functions) so that one connection carries
//! a conversation's whole traffic; each `Send` carries a client-generated idempotency key
//! that a database unique constraint turns into "stored once".

use serde::{Deserialize, Serialize};
use uuid::Uuid;

mod json;
pub use json::{decode_server, encode_client};

/// Largest text frame the server reads as a command. Bigger frames get an error event and
/// the socket stays up (the transport's own hard cap is higher, see `socket.rs`).
pub const MAX_FRAME_BYTES: usize = 32 * 1024;
/// Message body limit in characters, after trimming.
pub const MAX_BODY_CHARS: usize = 5000;
/// Clients send a ping this often.
pub const HEARTBEAT_SECS: u32 = 25;
/// The server closes a socket that sent nothing for this long.
pub const SILENCE_TIMEOUT_SECS: u64 = 60;
/// A typing indicator is shown this long after the last typing event.
pub const TYPING_EXPIRES_MS: u32 = 6000;
/// At most one typing event per typist per this interval is relayed.
pub const TYPING_THROTTLE_MS: u64 = 2000;

/// What a client sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    /// A visitor authenticates with the token the widget keeps (agents use their session cookie).
    Hello { visitor_token: String },
    /// Start receiving a conversation's events after `after_seq` (0 = from the start).
    Subscribe {
        conversation_id: Uuid,
        after_seq: i64,
    },
    /// Stop receiving a conversation's events.
    Unsubscribe { conversation_id: Uuid },
    /// Store and deliver a message; `key` makes retries idempotent; `note` = private (agents only).
    Send {
        conversation_id: Uuid,
        key: String,
        body: String,
        #[serde(default)]
        note: bool,
        /// A file uploaded to `POST /files` for this conversation, sent with this message
        /// (the body may then be empty).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        attachment: Option<Uuid>,
    },
    /// The sender is typing.
    Typing { conversation_id: Uuid },
    /// Events up to `up_to_seq` reached this device.
    Delivered {
        conversation_id: Uuid,
        up_to_seq: i64,
    },
    /// Events up to `up_to_seq` were on screen.
    Read {
        conversation_id: Uuid,
        up_to_seq: i64,
    },
    /// Keep-alive (also counts as activity for presence).
    Ping,
}

/// Who wrote something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Visitor,
    Agent,
    System,
}

/// The author of a message or typist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    pub side: Side,
    pub id: Option<Uuid>,
    pub name: String,
}

/// A file sent with a message; fetched from `/files/{id}` by those who may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRef {
    pub id: Uuid,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
}

impl AttachmentRef {
    /// Whether it shows inline as a picture.
    pub fn is_image(&self) -> bool {
        self.content_type.starts_with("image/")
    }
}

/// An agent's presence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PresenceState {
    Online,
    Idle,
    Offline,
}

/// A persisted conversation event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    Message {
        message_id: Uuid,
        author: Author,
        body: String,
        note: bool,
        key: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        attachment: Option<AttachmentRef>,
    },
    Status {
        status: String,
    },
    Assigned {
        agent_id: Option<Uuid>,
        agent_name: Option<String>,
    },
    Delivered {
        by: Side,
        up_to_seq: i64,
    },
    Read {
        by: Side,
        up_to_seq: i64,
    },
    /// The visitor rated the conversation (1–5).
    Rated {
        score: i16,
    },
    /// Handed to another agent or group with "Transfer" (agents only: the receiving side
    /// reads the note; the visitor sees the assignment change).
    Transferred {
        by: String,
        to: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// Renamed or re-tagged (agents only).
    Details {
        title: Option<String>,
        tags: Vec<String>,
    },
}

impl EventKind {
    /// Whether only agents may see this event (private notes).
    pub fn agents_only(&self) -> bool {
        matches!(
            self,
            EventKind::Message { note: true, .. }
                | EventKind::Transferred { .. }
                | EventKind::Details { .. }
        )
    }

    /// The name stored in `conversation_events.kind`.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::Message { .. } => "message",
            EventKind::Status { .. } => "status",
            EventKind::Assigned { .. } => "assigned",
            EventKind::Delivered { .. } => "delivered",
            EventKind::Read { .. } => "read",
            EventKind::Rated { .. } => "rating",
            EventKind::Transferred { .. } => "transferred",
            EventKind::Details { .. } => "details",
        }
    }
}

/// One persisted event of one conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub conversation_id: Uuid,
    pub seq: i64,
    /// RFC 3339 time of storage.
    pub at: String,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// Why a frame was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    Malformed,
    UnknownFrame,
    FrameTooLarge,
    Unauthenticated,
    Forbidden,
    NotFound,
    InvalidBody,
    RateLimited,
    Internal,
}

/// What the server sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// The socket is authenticated as `me`.
    Welcome { me: Author, heartbeat_secs: u32 },
    /// Subscribed; the backlog after the requested sequence follows, then live events.
    Subscribed {
        conversation_id: Uuid,
        last_seq: i64,
    },
    /// A persisted event.
    Event(Event),
    /// A `Send` was stored (or had been: `duplicate`), as sequence `seq`.
    Sent {
        key: String,
        conversation_id: Uuid,
        seq: i64,
        message_id: Uuid,
        duplicate: bool,
    },
    /// Someone is typing; hide it after `expires_ms` without another.
    Typing {
        conversation_id: Uuid,
        author: Author,
        expires_ms: u32,
    },
    /// An agent's presence changed (or is reported on subscribe).
    Presence {
        user_id: Uuid,
        name: String,
        state: PresenceState,
    },
    /// The client is too far behind: reload the conversation, then subscribe after `last_seq`.
    Resync {
        conversation_id: Uuid,
        last_seq: i64,
    },
    /// A frame was refused; the socket stays open.
    Error {
        code: ErrorCode,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        key: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
    /// Answer to `Ping`.
    Pong,
    /// Staff only: the queues changed (a chat started, was taken, resolved or reopened).
    /// Carries nothing: the dashboard refetches what its user may see.
    QueueChanged,
}

impl ServerFrame {
    /// An error frame without key.
    pub fn error(code: ErrorCode, message: impl Into<String>) -> ServerFrame {
        ServerFrame::Error {
            code,
            message: message.into(),
            key: None,
            retry_after_ms: None,
        }
    }
}

/// Why a client frame could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("frame too large: {0} bytes (limit {MAX_FRAME_BYTES})")]
    TooLarge(usize),
    #[error("malformed frame: {0}")]
    Malformed(String),
    #[error("unknown frame type {0:?}")]
    Unknown(String),
}

impl DecodeError {
    /// The error frame that answers this.
    pub fn to_frame(&self) -> ServerFrame {
        let code = match self {
            DecodeError::TooLarge(_) => ErrorCode::FrameTooLarge,
            DecodeError::Malformed(_) => ErrorCode::Malformed,
            DecodeError::Unknown(_) => ErrorCode::UnknownFrame,
        };
        ServerFrame::error(code, self.to_string())
    }
}

const KNOWN_TYPES: [&str; 8] = [
    "hello",
    "subscribe",
    "unsubscribe",
    "send",
    "typing",
    "delivered",
    "read",
    "ping",
];

/// Reads one client frame. Never panics, whatever the input.
pub fn decode(text: &str) -> Result<ClientFrame, DecodeError> {
    if text.len() > MAX_FRAME_BYTES {
        return Err(DecodeError::TooLarge(text.len()));
    }
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| DecodeError::Malformed(e.to_string()))?;
    let kind = value
        .get("type")
        .and_then(|t| t.as_str())
        .ok_or_else(|| DecodeError::Malformed("missing \"type\"".into()))?;
    if !KNOWN_TYPES.contains(&kind) {
        let shown: String = kind.chars().take(40).collect();
        return Err(DecodeError::Unknown(shown));
    }
    serde_json::from_value(value).map_err(|e| DecodeError::Malformed(e.to_string()))
}

/// Writes one server frame.
pub fn encode(frame: &ServerFrame) -> String {
    // Serialising these plain types cannot fail (no maps with non-string keys, no floats).
    serde_json::to_string(frame).unwrap_or_else(|_| {
        r#"{"type":"error","code":"internal","message":"encoding failed"}"#.into()
    })
}

/// The state of a client's connection, as the UI shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnStatus {
    Connecting,
    Online,
    Reconnecting,
}

impl ConnStatus {
    /// The text shown for this state.
    pub fn label(self) -> &'static str {
        match self {
            ConnStatus::Connecting => "Connecting…",
            ConnStatus::Online => "Connected",
            ConnStatus::Reconnecting => "Reconnecting…",
        }
    }
}

/// Reconnect delay for the `attempt`-th retry (0-based): 0.5 s doubling, capped at 30 s,
/// with jitter (`random` in 0..1 keeps 50–100 % of it) so clients cut off together do not
/// come back together.
pub fn backoff_ms(attempt: u32, random: f64) -> u32 {
    let base = (500.0 * 2f64.powi(attempt.min(16) as i32)).min(30_000.0);
    (base * (0.5 + random.clamp(0.0, 1.0) * 0.5)) as u32
}

/// Validates a message body: 1–5,000 characters after trimming. Returns the trimmed body.
pub fn clean_body(body: &str) -> Result<&str, String> {
    let b = body.trim();
    let n = b.chars().count();
    if n == 0 {
        Err("A message cannot be empty.".into())
    } else if n > MAX_BODY_CHARS {
        Err(format!(
            "A message can be at most {MAX_BODY_CHARS} characters (this one has {n})."
        ))
    } else {
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_known_and_refuses_the_rest() {
        let id = Uuid::nil();
        assert_eq!(
            decode(&format!(
                r#"{{"type":"subscribe","conversation_id":"{id}","after_seq":3}}"#
            )),
            Ok(ClientFrame::Subscribe {
                conversation_id: id,
                after_seq: 3
            })
        );
        assert_eq!(decode(r#"{"type":"ping"}"#), Ok(ClientFrame::Ping));
        assert!(matches!(
            decode(r#"{"type":"explode"}"#),
            Err(DecodeError::Unknown(_))
        ));
        assert!(matches!(decode("not json"), Err(DecodeError::Malformed(_))));
        assert!(matches!(
            decode(r#"{"type":"send"}"#),
            Err(DecodeError::Malformed(_))
        ));
        assert!(matches!(
            decode(&"x".repeat(MAX_FRAME_BYTES + 1)),
            Err(DecodeError::TooLarge(_))
        ));
    }

    #[test]
    fn backoff_grows_with_jitter_and_caps_at_30_s() {
        assert_eq!(backoff_ms(0, 1.0), 500);
        assert_eq!(backoff_ms(0, 0.0), 250);
        assert_eq!(backoff_ms(3, 1.0), 4000);
        assert_eq!(backoff_ms(10, 1.0), 30_000);
        assert_eq!(backoff_ms(u32::MAX, 1.0), 30_000);
        assert!(backoff_ms(20, 0.3) >= 15_000 && backoff_ms(20, 0.3) <= 30_000);
    }

    #[test]
    fn bodies() {
        assert_eq!(clean_body("  hi  "), Ok("hi"));
        assert!(clean_body("   ").is_err());
        assert!(clean_body(&"é".repeat(5000)).is_ok());
        assert!(clean_body(&"é".repeat(5001)).is_err());
    }
}
