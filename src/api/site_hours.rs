//! Admin settings for when a site is open: working hours (a weekly schedule in a time zone)
//! and holidays. Admins only; a stale form is refused with who changed it.

use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The day names, Monday first, as the form labels them.
pub const DAY_NAMES: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// A site's working hours as the form shows and sends them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoursSettings {
    pub site_id: Uuid,
    /// The site's version when read; a newer one on save means the form is stale.
    pub version: i32,
    /// Off: always open.
    pub enabled: bool,
    pub time_zone: String,
    /// Monday first: ("HH:MM" opens, "HH:MM" closes), both empty = closed.
    pub days: Vec<(String, String)>,
    /// One "YYYY-MM-DD" per line.
    pub holidays: String,
}

#[cfg(feature = "ssr")]
fn to_settings(
    site_id: Uuid,
    version: i32,
    hours: Option<crate::domain::settings::hours::WorkingHours>,
) -> HoursSettings {
    use crate::domain::settings::hours::DAYS;
    match hours {
        None => HoursSettings {
            site_id,
            version,
            enabled: false,
            time_zone: "UTC".into(),
            // A schedule to start from when the admin turns hours on.
            days: (0..7)
                .map(|i| {
                    if i < 5 {
                        ("09:00".to_string(), "17:00".to_string())
                    } else {
                        (String::new(), String::new())
                    }
                })
                .collect(),
            holidays: String::new(),
        },
        Some(h) => HoursSettings {
            site_id,
            version,
            enabled: true,
            days: DAYS
                .iter()
                .map(|d| match h.weekly.get(*d) {
                    Some([from, until]) => (from.clone(), until.clone()),
                    None => (String::new(), String::new()),
                })
                .collect(),
            holidays: h.holidays.join("\n"),
            time_zone: h.time_zone,
        },
    }
}

/// A site's working hours (admins only).
#[server(endpoint = "admin/hours/get")]
pub async fn working_hours(site_id: Uuid) -> Result<HoursSettings, AppError> {
    use crate::api::admin::convert::error;
    use crate::server::auth;
    auth::require_admin().await?;
    let state = auth::state()?;
    let site = crate::domain::site_admin::site(&state.pool, site_id)
        .await
        .map_err(error)?;
    let hours = crate::domain::settings::hours::load(&state.pool, site_id)
        .await
        .map_err(error)?;
    Ok(to_settings(site_id, site.version, hours))
}

/// Saves a site's working hours if the form is not stale (admins only); returns them as
/// stored, with the site's new version.
#[server(endpoint = "admin/hours/save", input = server_fn::codec::Json)]
pub async fn save_working_hours(form: HoursSettings) -> Result<HoursSettings, AppError> {
    use crate::api::admin::convert::error;
    use crate::domain::settings::hours::{save, HoursForm};
    use crate::server::auth;
    let admin = auth::require_admin().await?;
    let state = auth::state()?;
    if form.days.len() != 7 {
        return Err(AppError::BadRequest(
            "Send the seven days of the week.".into(),
        ));
    }
    let mut days = [("", ""); 7];
    for (d, (from, until)) in days.iter_mut().zip(&form.days) {
        *d = (from.as_str(), until.as_str());
    }
    let hours = save(
        &state.pool,
        admin.id,
        form.site_id,
        form.version,
        &HoursForm {
            enabled: form.enabled,
            time_zone: &form.time_zone,
            days,
            holidays: &form.holidays,
        },
    )
    .await
    .map_err(error)?;
    let site = crate::domain::site_admin::site(&state.pool, form.site_id)
        .await
        .map_err(error)?;
    Ok(to_settings(form.site_id, site.version, hours))
}
