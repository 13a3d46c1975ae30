//! The widget's conversation state and how each server frame changes it. Plain Rust (no
//! browser types), so the rules are unit-tested natively.

use crate::realtime::protocol::{AttachmentRef, EventKind, PresenceState, ServerFrame, Side};
use uuid::Uuid;

/// Where one of the visitor's own messages is: sending → sent → delivered → read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MsgState {
    /// Refused for good (too long, forbidden…); the text says why.
    Failed,
    Sending,
    Sent,
    Delivered,
    Read,
}

/// One message on screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    pub key: String,
    pub seq: Option<i64>,
    pub mine: bool,
    pub author: String,
    pub body: String,
    pub state: MsgState,
    pub error: Option<String>,
    /// A file sent with the message (known once uploaded).
    pub attachment: Option<AttachmentRef>,
    /// A private note, or a transfer record (staff view only).
    pub note: bool,
}

/// The agent who joined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub id: Option<Uuid>,
    pub name: String,
    pub presence: PresenceState,
}

/// Everything the conversation view shows, but typing (which changes too often).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChatModel {
    pub conversation_id: Uuid,
    pub messages: Vec<Msg>,
    pub agent: Option<Agent>,
    pub resolved: bool,
    /// The visitor's rating, once given (one per conversation).
    pub rated: Option<i16>,
    /// Highest sequence of an agent message seen (what read/delivered marks cover); in the
    /// staff view, of a visitor message.
    pub last_agent_seq: i64,
    /// The agents' view: "mine" means the agents' side, and notes and transfers show.
    pub staff: bool,
}

impl ChatModel {
    /// An empty conversation.
    pub fn new(conversation_id: Uuid) -> ChatModel {
        ChatModel {
            conversation_id,
            ..ChatModel::default()
        }
    }

    /// An empty conversation as agents see it.
    pub fn for_staff(conversation_id: Uuid) -> ChatModel {
        ChatModel {
            conversation_id,
            staff: true,
            ..ChatModel::default()
        }
    }

    /// Whether this is the agents' view. Always false in the widget's own bundle, so the
    /// staff-only paths (transfer records) are not compiled into it.
    fn staff(&self) -> bool {
        !cfg!(feature = "widget") && self.staff
    }

    /// The side this view writes from.
    fn our_side(&self) -> Side {
        if self.staff() {
            Side::Agent
        } else {
            Side::Visitor
        }
    }

    /// A message the visitor just wrote, shown as "sending" until the server stores it.
    pub fn push_own(&mut self, key: String, body: String, me: &str) {
        self.push_own_note(key, body, me, false);
    }

    /// An own message or (staff) private note, "sending" until stored.
    pub fn push_own_note(&mut self, key: String, body: String, me: &str, note: bool) {
        self.messages.push(Msg {
            key,
            seq: None,
            mine: true,
            author: me.to_string(),
            body,
            state: MsgState::Sending,
            error: None,
            attachment: None,
            note,
        });
    }

    /// An own message's file is uploaded: it shows, and is what the send carries.
    pub fn attach(&mut self, key: &str, file: AttachmentRef) {
        if let Some(m) = self.messages.iter_mut().find(|m| m.key == key) {
            m.attachment = Some(file);
        }
    }

    /// An own message could not go out (the upload was refused, say); the rest is untouched.
    pub fn fail(&mut self, key: &str, why: String) {
        if let Some(m) = self.messages.iter_mut().find(|m| m.key == key) {
            m.state = MsgState::Failed;
            m.error = Some(why);
        }
    }

    /// Applies one frame; returns the sequence of a new agent message (to acknowledge).
    pub fn apply(&mut self, frame: &ServerFrame) -> Option<i64> {
        match frame {
            ServerFrame::Event(e) if e.conversation_id == self.conversation_id => {
                match &e.kind {
                    EventKind::Message {
                        author,
                        body,
                        key,
                        note,
                        attachment,
                        ..
                    } => {
                        if *note && !self.staff() {
                            return None;
                        }
                        let mine = author.side == self.our_side();
                        if let Some(m) = self.messages.iter_mut().find(|m| &m.key == key) {
                            // Our own message coming back, or a replay of one we have.
                            m.seq = Some(e.seq);
                            if m.state < MsgState::Sent {
                                m.state = MsgState::Sent;
                                m.error = None;
                            }
                            if m.attachment.is_none() {
                                m.attachment = attachment.clone();
                            }
                            return None;
                        }
                        self.messages.push(Msg {
                            key: key.clone(),
                            seq: Some(e.seq),
                            mine,
                            author: author.name.clone(),
                            body: body.clone(),
                            state: MsgState::Sent,
                            error: None,
                            attachment: attachment.clone(),
                            note: *note,
                        });
                        if !mine && author.side != Side::System && !*note {
                            self.last_agent_seq = self.last_agent_seq.max(e.seq);
                            return Some(e.seq);
                        }
                    }
                    EventKind::Assigned {
                        agent_id,
                        agent_name,
                    } => {
                        self.agent = agent_name.as_ref().map(|name| Agent {
                            id: *agent_id,
                            name: name.clone(),
                            presence: PresenceState::Online,
                        });
                    }
                    EventKind::Status { status } => {
                        self.resolved = status == "resolved";
                        if status == "waiting" {
                            self.agent = None;
                        }
                    }
                    EventKind::Rated { score } => self.rated = Some(*score),
                    EventKind::Delivered { by, up_to_seq } if *by != self.our_side() => {
                        self.mark(*up_to_seq, MsgState::Delivered)
                    }
                    EventKind::Read { by, up_to_seq } if *by != self.our_side() => {
                        self.mark(*up_to_seq, MsgState::Read)
                    }
                    EventKind::Transferred { by, to, note } if self.staff() => {
                        let key = format!("transfer-{}", e.seq);
                        if !self.messages.iter().any(|m| m.key == key) {
                            let body = match note {
                                Some(n) => format!("{by} transferred this chat to {to}: {n}"),
                                None => format!("{by} transferred this chat to {to}."),
                            };
                            self.messages.push(Msg {
                                key,
                                seq: Some(e.seq),
                                mine: false,
                                author: "Transfer".into(),
                                body,
                                state: MsgState::Sent,
                                error: None,
                                attachment: None,
                                note: true,
                            });
                        }
                    }
                    _ => {}
                }
            }
            ServerFrame::Sent { key, seq, .. } => {
                if let Some(m) = self.messages.iter_mut().find(|m| &m.key == key) {
                    m.seq = Some(*seq);
                    if m.state < MsgState::Sent {
                        m.state = MsgState::Sent;
                        m.error = None;
                    }
                }
            }
            ServerFrame::Error {
                key: Some(key),
                message,
                code,
                ..
            } => {
                if let Some(m) = self.messages.iter_mut().find(|m| &m.key == key) {
                    m.error = Some(message.clone());
                    if *code != crate::realtime::protocol::ErrorCode::RateLimited {
                        m.state = MsgState::Failed;
                    }
                }
            }
            ServerFrame::Presence { user_id, state, .. } => {
                if let Some(a) = self.agent.as_mut().filter(|a| a.id == Some(*user_id)) {
                    a.presence = *state;
                }
            }
            _ => {}
        }
        None
    }

    fn mark(&mut self, up_to: i64, state: MsgState) {
        for m in self.messages.iter_mut().filter(|m| m.mine) {
            if m.seq.is_some_and(|s| s <= up_to) && m.state < state && m.state != MsgState::Failed {
                m.state = state;
            }
        }
    }
}

/// A piece of a message body: text, or a link to auto-link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    Link(&'a str),
}

/// Splits a body into text and http(s) links (a link ends at whitespace; trailing
/// punctuation stays text). Nothing here is HTML: the view escapes every piece.
pub fn linkify(body: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(start) = find_link(rest) {
        if start > 0 {
            out.push(Piece::Text(&rest[..start]));
        }
        let tail = &rest[start..];
        let mut end = tail.find(char::is_whitespace).unwrap_or(tail.len());
        while end > 0 && tail[..end].ends_with(['.', ',', ')', '!', '?', ';', ':', '"', '\'']) {
            end -= 1;
        }
        out.push(Piece::Link(&tail[..end]));
        rest = &tail[end..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    out
}

fn find_link(s: &str) -> Option<usize> {
    let a = s.find("https://");
    let b = s.find("http://");
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (x, y) => x.or(y),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realtime::protocol::{Author, ErrorCode, Event};

    fn event(conv: Uuid, seq: i64, kind: EventKind) -> ServerFrame {
        ServerFrame::Event(Event {
            conversation_id: conv,
            seq,
            at: String::new(),
            kind,
        })
    }

    fn message(side: Side, key: &str) -> EventKind {
        EventKind::Message {
            message_id: Uuid::nil(),
            author: Author {
                side,
                id: None,
                name: "Ann".into(),
            },
            body: "hi".into(),
            note: false,
            key: key.into(),
            attachment: None,
        }
    }

    #[test]
    fn the_staff_view_shows_notes_and_transfers_and_acks_visitor_messages() {
        let c = Uuid::new_v4();
        let mut staff = ChatModel::for_staff(c);
        let mut visitor = ChatModel::new(c);
        let note = EventKind::Message {
            message_id: Uuid::nil(),
            author: Author {
                side: Side::Agent,
                id: None,
                name: "Amy".into(),
            },
            body: "refund approved".into(),
            note: true,
            key: "n1".into(),
            attachment: None,
        };
        // A visitor message is news for agents (acknowledged), not for the visitor.
        assert_eq!(
            staff.apply(&event(c, 1, message(Side::Visitor, "v1"))),
            Some(1)
        );
        assert_eq!(
            visitor.apply(&event(c, 1, message(Side::Visitor, "v1"))),
            None
        );
        assert!(!staff.messages[0].mine && visitor.messages[0].mine);
        // Notes and transfers show to agents only.
        assert_eq!(staff.apply(&event(c, 2, note.clone())), None);
        visitor.apply(&event(c, 2, note));
        let transfer = EventKind::Transferred {
            by: "Amy".into(),
            to: "Experts".into(),
            note: Some("needs a specialist".into()),
        };
        staff.apply(&event(c, 3, transfer.clone()));
        staff.apply(&event(c, 3, transfer));
        assert_eq!(staff.messages.len(), 3, "a replayed transfer is shown once");
        assert!(staff.messages[1].note && staff.messages[2].note);
        assert_eq!(
            staff.messages[2].body,
            "Amy transferred this chat to Experts: needs a specialist"
        );
        assert_eq!(visitor.messages.len(), 1);
        // The visitor reading marks the agents' messages read in the staff view.
        staff.push_own("a1".into(), "hello".into(), "Amy");
        staff.apply(&event(c, 4, message(Side::Agent, "a1")));
        staff.apply(&event(
            c,
            5,
            EventKind::Read {
                by: Side::Visitor,
                up_to_seq: 4,
            },
        ));
        assert_eq!(staff.messages[3].state, MsgState::Read);
    }

    #[test]
    fn own_message_goes_sending_sent_delivered_read() {
        let c = Uuid::new_v4();
        let mut m = ChatModel::new(c);
        m.push_own("k1".into(), "hello".into(), "You");
        assert_eq!(m.messages[0].state, MsgState::Sending);
        m.apply(&event(c, 1, message(Side::Visitor, "k1")));
        assert_eq!(m.messages.len(), 1, "the echo is not a second message");
        assert_eq!(m.messages[0].state, MsgState::Sent);
        m.apply(&event(
            c,
            2,
            EventKind::Delivered {
                by: Side::Agent,
                up_to_seq: 1,
            },
        ));
        assert_eq!(m.messages[0].state, MsgState::Delivered);
        m.apply(&event(
            c,
            3,
            EventKind::Read {
                by: Side::Agent,
                up_to_seq: 1,
            },
        ));
        assert_eq!(m.messages[0].state, MsgState::Read);
        // A late "delivered" does not move it back.
        m.apply(&event(
            c,
            4,
            EventKind::Delivered {
                by: Side::Agent,
                up_to_seq: 1,
            },
        ));
        assert_eq!(m.messages[0].state, MsgState::Read);
    }

    #[test]
    fn agent_joins_and_messages_are_acknowledged() {
        let c = Uuid::new_v4();
        let mut m = ChatModel::new(c);
        assert!(m.agent.is_none());
        let agent = Uuid::new_v4();
        m.apply(&event(
            c,
            1,
            EventKind::Assigned {
                agent_id: Some(agent),
                agent_name: Some("Ann".into()),
            },
        ));
        assert_eq!(m.agent.as_ref().unwrap().name, "Ann");
        assert_eq!(m.apply(&event(c, 2, message(Side::Agent, "a1"))), Some(2));
        assert_eq!(
            m.apply(&event(c, 2, message(Side::Agent, "a1"))),
            None,
            "replay"
        );
        assert_eq!(m.messages.len(), 1);
        m.apply(&ServerFrame::Presence {
            user_id: agent,
            name: "Ann".into(),
            state: PresenceState::Idle,
        });
        assert_eq!(m.agent.as_ref().unwrap().presence, PresenceState::Idle);
        // Another conversation's events change nothing.
        m.apply(&event(Uuid::new_v4(), 9, message(Side::Agent, "x")));
        assert_eq!(m.messages.len(), 1);
    }

    #[test]
    fn resolve_rate_and_reopen() {
        let c = Uuid::new_v4();
        let mut m = ChatModel::new(c);
        let status = |s: &str| EventKind::Status { status: s.into() };
        m.apply(&event(
            c,
            1,
            EventKind::Assigned {
                agent_id: None,
                agent_name: Some("Ann".into()),
            },
        ));
        m.apply(&event(c, 2, status("resolved")));
        assert!(m.resolved && m.rated.is_none());
        m.apply(&event(c, 3, EventKind::Rated { score: 4 }));
        assert_eq!(m.rated, Some(4));
        // The visitor writes again: back to waiting, same history, the rating stays.
        m.apply(&event(c, 4, status("waiting")));
        assert!(!m.resolved && m.agent.is_none());
        assert_eq!(m.rated, Some(4));
    }

    #[test]
    fn refused_and_rate_limited_sends() {
        let c = Uuid::new_v4();
        let mut m = ChatModel::new(c);
        m.push_own("k".into(), "x".into(), "You");
        m.push_own("r".into(), "y".into(), "You");
        let err = |key: &str, code| ServerFrame::Error {
            code,
            message: "no".into(),
            key: Some(key.into()),
            retry_after_ms: None,
        };
        m.apply(&err("k", ErrorCode::InvalidBody));
        m.apply(&err("r", ErrorCode::RateLimited));
        assert_eq!(m.messages[0].state, MsgState::Failed);
        assert_eq!(m.messages[1].state, MsgState::Sending, "retried later");
    }

    #[test]
    fn links() {
        assert_eq!(
            linkify("see https://a.example/x?y=1. or http://b.test"),
            vec![
                Piece::Text("see "),
                Piece::Link("https://a.example/x?y=1"),
                Piece::Text(". or "),
                Piece::Link("http://b.test"),
            ]
        );
        assert_eq!(linkify("<b>no</b>"), vec![Piece::Text("<b>no</b>")]);
        assert_eq!(linkify("https://"), vec![Piece::Link("https://")]);
    }
}
