//! The browser's side of the frames, without serde (see `crate::json` for why): server
//! frames are read with [`FromJson`], client frames written by [`encode_client`]. The
//! server reads and writes the same JSON with serde; the tests below check both ways for
//! every variant.

use super::*;
use crate::json::{field, quote, FromJson, Json};

impl FromJson for Side {
    fn from_json<J: Json>(v: &J) -> Option<Self> {
        match v.string()?.as_str() {
            "visitor" => Some(Side::Visitor),
            "agent" => Some(Side::Agent),
            "system" => Some(Side::System),
            _ => None,
        }
    }
}

impl FromJson for PresenceState {
    fn from_json<J: Json>(v: &J) -> Option<Self> {
        match v.string()?.as_str() {
            "online" => Some(PresenceState::Online),
            "idle" => Some(PresenceState::Idle),
            "offline" => Some(PresenceState::Offline),
            _ => None,
        }
    }
}

impl FromJson for ErrorCode {
    fn from_json<J: Json>(v: &J) -> Option<Self> {
        Some(match v.string()?.as_str() {
            "malformed" => ErrorCode::Malformed,
            "unknown_frame" => ErrorCode::UnknownFrame,
            "frame_too_large" => ErrorCode::FrameTooLarge,
            "unauthenticated" => ErrorCode::Unauthenticated,
            "forbidden" => ErrorCode::Forbidden,
            "not_found" => ErrorCode::NotFound,
            "invalid_body" => ErrorCode::InvalidBody,
            "rate_limited" => ErrorCode::RateLimited,
            "internal" => ErrorCode::Internal,
            _ => return None,
        })
    }
}

impl FromJson for Author {
    fn from_json<J: Json>(v: &J) -> Option<Self> {
        Some(Author {
            side: field(v, "side")?,
            id: field(v, "id")?,
            name: field(v, "name")?,
        })
    }
}

impl FromJson for AttachmentRef {
    fn from_json<J: Json>(v: &J) -> Option<Self> {
        Some(AttachmentRef {
            id: field(v, "id")?,
            filename: field(v, "filename")?,
            content_type: field(v, "content_type")?,
            size: field(v, "size")?,
        })
    }
}

impl FromJson for EventKind {
    fn from_json<J: Json>(v: &J) -> Option<Self> {
        let kind: String = field(v, "kind")?;
        Some(match kind.as_str() {
            "message" => EventKind::Message {
                message_id: field(v, "message_id")?,
                author: field(v, "author")?,
                body: field(v, "body")?,
                note: field(v, "note")?,
                key: field(v, "key")?,
                attachment: field(v, "attachment")?,
            },
            "status" => EventKind::Status {
                status: field(v, "status")?,
            },
            "assigned" => EventKind::Assigned {
                agent_id: field(v, "agent_id")?,
                agent_name: field(v, "agent_name")?,
            },
            "delivered" => EventKind::Delivered {
                by: field(v, "by")?,
                up_to_seq: field(v, "up_to_seq")?,
            },
            "read" => EventKind::Read {
                by: field(v, "by")?,
                up_to_seq: field(v, "up_to_seq")?,
            },
            "rated" => EventKind::Rated {
                score: field(v, "score")?,
            },
            "transferred" => EventKind::Transferred {
                by: field(v, "by")?,
                to: field(v, "to")?,
                note: field(v, "note")?,
            },
            "details" => EventKind::Details {
                title: field(v, "title")?,
                tags: field(v, "tags")?,
            },
            _ => return None,
        })
    }
}

impl FromJson for Event {
    fn from_json<J: Json>(v: &J) -> Option<Self> {
        Some(Event {
            conversation_id: field(v, "conversation_id")?,
            seq: field(v, "seq")?,
            at: field(v, "at")?,
            // Flattened: the kind's tag and fields sit beside the event's own.
            kind: EventKind::from_json(v)?,
        })
    }
}

impl FromJson for ServerFrame {
    fn from_json<J: Json>(v: &J) -> Option<Self> {
        let kind: String = field(v, "type")?;
        Some(match kind.as_str() {
            "welcome" => ServerFrame::Welcome {
                me: field(v, "me")?,
                heartbeat_secs: field(v, "heartbeat_secs")?,
            },
            "subscribed" => ServerFrame::Subscribed {
                conversation_id: field(v, "conversation_id")?,
                last_seq: field(v, "last_seq")?,
            },
            "event" => ServerFrame::Event(Event::from_json(v)?),
            "sent" => ServerFrame::Sent {
                key: field(v, "key")?,
                conversation_id: field(v, "conversation_id")?,
                seq: field(v, "seq")?,
                message_id: field(v, "message_id")?,
                duplicate: field(v, "duplicate")?,
            },
            "typing" => ServerFrame::Typing {
                conversation_id: field(v, "conversation_id")?,
                author: field(v, "author")?,
                expires_ms: field(v, "expires_ms")?,
            },
            "presence" => ServerFrame::Presence {
                user_id: field(v, "user_id")?,
                name: field(v, "name")?,
                state: field(v, "state")?,
            },
            "resync" => ServerFrame::Resync {
                conversation_id: field(v, "conversation_id")?,
                last_seq: field(v, "last_seq")?,
            },
            "error" => ServerFrame::Error {
                code: field(v, "code")?,
                message: field(v, "message")?,
                key: field(v, "key")?,
                retry_after_ms: field(v, "retry_after_ms")?,
            },
            "pong" => ServerFrame::Pong,
            "queue_changed" => ServerFrame::QueueChanged,
            _ => return None,
        })
    }
}

/// Reads one server frame (`None`: not a frame this client knows; it is skipped).
pub fn decode_server(text: &str) -> Option<ServerFrame> {
    crate::json::from_str(text)
}

/// Writes one client frame, exactly as serde would (the server reads it with serde).
pub fn encode_client(frame: &ClientFrame) -> String {
    let id = |u: &Uuid| quote(&u.to_string());
    match frame {
        ClientFrame::Hello { visitor_token } => {
            format!(
                r#"{{"type":"hello","visitor_token":{}}}"#,
                quote(visitor_token)
            )
        }
        ClientFrame::Subscribe {
            conversation_id,
            after_seq,
        } => format!(
            r#"{{"type":"subscribe","conversation_id":{},"after_seq":{after_seq}}}"#,
            id(conversation_id)
        ),
        ClientFrame::Unsubscribe { conversation_id } => format!(
            r#"{{"type":"unsubscribe","conversation_id":{}}}"#,
            id(conversation_id)
        ),
        ClientFrame::Send {
            conversation_id,
            key,
            body,
            note,
            attachment,
        } => {
            let attachment = attachment
                .map(|a| format!(r#","attachment":{}"#, id(&a)))
                .unwrap_or_default();
            format!(
                r#"{{"type":"send","conversation_id":{},"key":{},"body":{},"note":{note}{attachment}}}"#,
                id(conversation_id),
                quote(key),
                quote(body)
            )
        }
        ClientFrame::Typing { conversation_id } => format!(
            r#"{{"type":"typing","conversation_id":{}}}"#,
            id(conversation_id)
        ),
        ClientFrame::Delivered {
            conversation_id,
            up_to_seq,
        } => format!(
            r#"{{"type":"delivered","conversation_id":{},"up_to_seq":{up_to_seq}}}"#,
            id(conversation_id)
        ),
        ClientFrame::Read {
            conversation_id,
            up_to_seq,
        } => format!(
            r#"{{"type":"read","conversation_id":{},"up_to_seq":{up_to_seq}}}"#,
            id(conversation_id)
        ),
        ClientFrame::Ping => r#"{"type":"ping"}"#.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::assert_reads;

    fn author(side: Side) -> Author {
        Author {
            side,
            id: (side != Side::System).then(Uuid::new_v4),
            name: "Ann \"the\" agent".into(),
        }
    }

    fn file() -> AttachmentRef {
        AttachmentRef {
            id: Uuid::new_v4(),
            filename: "a.png".into(),
            content_type: "image/png".into(),
            size: 12_345,
        }
    }

    fn event(kind: EventKind) -> ServerFrame {
        ServerFrame::Event(Event {
            conversation_id: Uuid::new_v4(),
            seq: 41,
            at: "2026-12-01T08:00:00Z".into(),
            kind,
        })
    }

    /// One of every server frame and every event kind, optional parts both ways.
    fn every_server_frame() -> Vec<ServerFrame> {
        let c = Uuid::new_v4();
        vec![
            ServerFrame::Welcome {
                me: author(Side::Visitor),
                heartbeat_secs: 25,
            },
            ServerFrame::Subscribed {
                conversation_id: c,
                last_seq: 7,
            },
            event(EventKind::Message {
                message_id: Uuid::new_v4(),
                author: author(Side::Agent),
                body: "hi <b>there</b>\n🎉".into(),
                note: false,
                key: "k1".into(),
                attachment: None,
            }),
            event(EventKind::Message {
                message_id: Uuid::new_v4(),
                author: author(Side::System),
                body: String::new(),
                note: true,
                key: "k2".into(),
                attachment: Some(file()),
            }),
            event(EventKind::Status {
                status: "resolved".into(),
            }),
            event(EventKind::Assigned {
                agent_id: Some(Uuid::new_v4()),
                agent_name: Some("Amy".into()),
            }),
            event(EventKind::Assigned {
                agent_id: None,
                agent_name: None,
            }),
            event(EventKind::Delivered {
                by: Side::Visitor,
                up_to_seq: 3,
            }),
            event(EventKind::Read {
                by: Side::Agent,
                up_to_seq: 4,
            }),
            event(EventKind::Rated { score: 5 }),
            event(EventKind::Transferred {
                by: "Amy".into(),
                to: "Sales".into(),
                note: Some("VIP".into()),
            }),
            event(EventKind::Transferred {
                by: "Amy".into(),
                to: "Bob".into(),
                note: None,
            }),
            event(EventKind::Details {
                title: Some("Refund".into()),
                tags: vec!["urgent".into(), "billing".into()],
            }),
            event(EventKind::Details {
                title: None,
                tags: vec![],
            }),
            ServerFrame::Sent {
                key: "k1".into(),
                conversation_id: c,
                seq: 9,
                message_id: Uuid::new_v4(),
                duplicate: true,
            },
            ServerFrame::Typing {
                conversation_id: c,
                author: author(Side::Agent),
                expires_ms: 6000,
            },
            ServerFrame::Presence {
                user_id: Uuid::new_v4(),
                name: "Amy".into(),
                state: PresenceState::Idle,
            },
            ServerFrame::Resync {
                conversation_id: c,
                last_seq: 100,
            },
            ServerFrame::error(ErrorCode::Forbidden, "no"),
            ServerFrame::Error {
                code: ErrorCode::RateLimited,
                message: "slow down".into(),
                key: Some("k3".into()),
                retry_after_ms: Some(1500),
            },
            ServerFrame::Pong,
            ServerFrame::QueueChanged,
        ]
    }

    #[test]
    fn every_server_frame_reads_back_as_the_server_wrote_it() {
        for frame in every_server_frame() {
            assert_reads(&frame);
            assert_eq!(decode_server(&encode(&frame)), Some(frame));
        }
        for code in [
            ErrorCode::Malformed,
            ErrorCode::UnknownFrame,
            ErrorCode::FrameTooLarge,
            ErrorCode::Unauthenticated,
            ErrorCode::Forbidden,
            ErrorCode::NotFound,
            ErrorCode::InvalidBody,
            ErrorCode::RateLimited,
            ErrorCode::Internal,
        ] {
            assert_reads(&ServerFrame::error(code, "x"));
        }
        for state in [
            PresenceState::Online,
            PresenceState::Idle,
            PresenceState::Offline,
        ] {
            assert_reads(&state);
        }
    }

    #[test]
    fn unknown_or_broken_frames_are_skipped() {
        assert_eq!(decode_server(r#"{"type":"later_feature","x":1}"#), None);
        assert_eq!(decode_server(r#"{"type":"subscribed","last_seq":1}"#), None);
        assert_eq!(decode_server(r#"{"type":"event","kind":"nope"}"#), None);
        assert_eq!(decode_server("[1,2"), None);
    }

    #[test]
    fn every_client_frame_is_written_as_serde_writes_it() {
        let c = Uuid::new_v4();
        let frames = [
            ClientFrame::Hello {
                visitor_token: "t\"ok\\en".into(),
            },
            ClientFrame::Subscribe {
                conversation_id: c,
                after_seq: -1,
            },
            ClientFrame::Unsubscribe { conversation_id: c },
            ClientFrame::Send {
                conversation_id: c,
                key: "k".into(),
                body: "line\nbreak \u{1} </script> 🎉".into(),
                note: true,
                attachment: None,
            },
            ClientFrame::Send {
                conversation_id: c,
                key: "k2".into(),
                body: String::new(),
                note: false,
                attachment: Some(Uuid::new_v4()),
            },
            ClientFrame::Typing { conversation_id: c },
            ClientFrame::Delivered {
                conversation_id: c,
                up_to_seq: 5,
            },
            ClientFrame::Read {
                conversation_id: c,
                up_to_seq: 6,
            },
            ClientFrame::Ping,
        ];
        for frame in frames {
            let ours = encode_client(&frame);
            assert_eq!(ours, serde_json::to_string(&frame).unwrap());
            assert_eq!(decode(&ours), Ok(frame));
        }
    }
}
