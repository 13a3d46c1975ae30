//! Getting an agent's attention while the tab is hidden: a browser notification (when they
//! allowed it) and a short tone. Browser only; the server build has nothing to do here.

/// Whether the tab is hidden (notifications and sounds only matter then).
pub fn hidden() -> bool {
    #[cfg(feature = "browser")]
    {
        leptos::prelude::document().visibility_state() != web_sys::VisibilityState::Visible
    }
    #[cfg(not(feature = "browser"))]
    false
}

/// Shows a notification (if permitted) and plays a short tone.
pub fn alert(title: &str, body: &str) {
    #[cfg(feature = "browser")]
    {
        if web_sys::Notification::permission() == web_sys::NotificationPermission::Granted {
            let options = web_sys::NotificationOptions::new();
            options.set_body(body);
            options.set_tag("switchboard");
            let _ = web_sys::Notification::new_with_options(title, &options);
        }
        beep();
    }
    #[cfg(not(feature = "browser"))]
    let _ = (title, body);
}

/// A 180 ms tone made with Web Audio: no sound file to download.
#[cfg(feature = "browser")]
fn beep() {
    let Ok(ctx) = web_sys::AudioContext::new() else {
        return;
    };
    let (Ok(osc), Ok(gain)) = (ctx.create_oscillator(), ctx.create_gain()) else {
        return;
    };
    osc.set_type(web_sys::OscillatorType::Sine);
    osc.frequency().set_value(880.0);
    gain.gain().set_value(0.08);
    let now = ctx.current_time();
    let _ = osc.connect_with_audio_node(&gain);
    let _ = gain.connect_with_audio_node(&ctx.destination());
    let _ = osc.start();
    let _ = osc.stop_with_when(now + 0.18);
}

/// Whether the page may still ask for notification permission.
pub fn can_ask() -> bool {
    #[cfg(feature = "browser")]
    {
        web_sys::Notification::permission() == web_sys::NotificationPermission::Default
    }
    #[cfg(not(feature = "browser"))]
    false
}

/// Asks for notification permission (must run in a click handler).
pub fn ask() {
    #[cfg(feature = "browser")]
    {
        let _ = web_sys::Notification::request_permission();
    }
}
