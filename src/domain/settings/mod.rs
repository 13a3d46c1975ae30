//! Per-site settings beyond the basics of `site_admin`: each area validates its own form,
//! saves it under the site's version check and audits the change.

pub mod greetings;
pub mod hours;
pub mod look;
pub mod rules;
