//! Server functions: the typed calls the browser makes. Each is thin: it parses, authorizes,
//! calls the domain, and maps the result. On the client they compile to HTTP calls to `/api/...`.

pub mod admin;
pub mod agents;
pub mod auth;
pub mod canned;
pub mod cases;
pub mod codec;
pub mod conversations;
pub mod site_greetings;
pub mod site_hours;
pub mod site_look;
pub mod site_rules;
pub mod users;
pub mod widget;
