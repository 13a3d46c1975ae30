//! UI components (Leptos), rendered on the server and hydrated in the browser.
//! Pages call server functions from `crate::api`; they hold no business rules.

mod admin;
mod agent;
mod app;
mod layout;
mod login;
pub mod widget;

pub use app::{shell, App};
