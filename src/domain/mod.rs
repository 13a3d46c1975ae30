//! Domain rules: what Switchboard allows and what it does, independent of HTTP and UI.
//! Functions here take a database pool and plain values; they know nothing of axum or Leptos.

pub mod accounts;
pub mod attachments;
pub mod bootstrap;
pub mod canned;
pub mod cases;
pub mod conversations;
pub mod identify;
pub mod secrets;
pub mod settings;
pub mod site_admin;
pub mod validate;
pub mod visitors;
pub mod visits;
pub mod widget;
