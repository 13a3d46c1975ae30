//! Realtime: the WebSocket protocol shared by server and browser, and (server side) the hub
//! that decides who receives what, the socket handler, presence and rate limits.
//!
//! Delivery guarantee: every persisted conversation event carries a per-conversation
//! sequence number; a socket subscribes *before* reading the backlog, fills any gap from the
//! database, and skips what it already sent, so a client that resumes from its last applied
//! sequence sees every event exactly once and in order, whatever the network did.

pub mod protocol;

#[cfg(feature = "browser")]
pub mod client;

#[cfg(feature = "ssr")]
pub mod bus;
#[cfg(feature = "ssr")]
pub mod hub;
#[cfg(feature = "ssr")]
pub mod presence;
#[cfg(feature = "ssr")]
pub mod rate_limit;
#[cfg(feature = "ssr")]
pub mod socket;
#[cfg(feature = "ssr")]
pub mod writer;
