//! Files from the widget (browser only): upload to `POST /files` and fetch for display, both
//! with the visitor token as a bearer token (the iframe has no cookie of ours to lean on).
//! The agent dashboard uses the same calls with an empty token: its session cookie is enough.
//! Their own error texts are English for both (the server's refusals, shown as they come, are
//! English too).

use crate::realtime::protocol::AttachmentRef;
use uuid::Uuid;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

async fn fetch(url: &str, init: &web_sys::RequestInit) -> Result<web_sys::Response, String> {
    let resp = JsFuture::from(leptos::prelude::window().fetch_with_str_and_init(url, init))
        .await
        .map_err(|_| super::text::EN.network_error.to_string())?;
    resp.dyn_into()
        .map_err(|_| super::text::EN.network_error.to_string())
}

async fn text(resp: &web_sys::Response) -> String {
    match resp.text() {
        Ok(p) => JsFuture::from(p)
            .await
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// The visitor's bearer token; none for staff, whose same-origin session cookie goes along.
fn auth_headers(token: &str) -> web_sys::Headers {
    let headers = web_sys::Headers::new().expect("Headers");
    if !token.is_empty() {
        let _ = headers.set("authorization", &format!("Bearer {token}"));
    }
    headers
}

/// Uploads a file into a conversation; the refusal's own words on failure.
pub async fn upload(
    token: &str,
    conversation: Uuid,
    file: &web_sys::File,
) -> Result<AttachmentRef, String> {
    let headers = auth_headers(token);
    let kind = if file.type_().is_empty() {
        "application/octet-stream".to_string()
    } else {
        file.type_()
    };
    let _ = headers.set("content-type", &kind);
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&JsValue::from(file.clone()));
    let name: String = js_sys::encode_uri_component(&file.name()).into();
    let url = format!("/files?conversation_id={conversation}&filename={name}");
    let resp = fetch(&url, &init).await?;
    let body = text(&resp).await;
    if resp.ok() {
        crate::json::from_str(&body).ok_or_else(|| super::text::EN.network_error.to_string())
    } else {
        // The refusal's own words: `{"error": "..."}`.
        Err(crate::json::from_str::<Refusal>(&body)
            .map(|r| r.error)
            .unwrap_or_else(|| super::text::EN.upload_failed.to_string()))
    }
}

/// The body of a refused upload.
struct Refusal {
    error: String,
}

impl crate::json::FromJson for Refusal {
    fn from_json<J: crate::json::Json>(v: &J) -> Option<Self> {
        Some(Refusal {
            error: crate::json::field(v, "error")?,
        })
    }
}

/// Fetches a file and gives a `blob:` URL for an `<img>` or a download link.
pub async fn object_url(token: &str, id: Uuid) -> Result<String, String> {
    let init = web_sys::RequestInit::new();
    init.set_headers(&auth_headers(token));
    let resp = fetch(&format!("/files/{id}"), &init).await?;
    if !resp.ok() {
        return Err(super::text::EN.file_unavailable.to_string());
    }
    let blob = JsFuture::from(
        resp.blob()
            .map_err(|_| super::text::EN.network_error.to_string())?,
    )
    .await
    .map_err(|_| super::text::EN.network_error.to_string())?;
    let blob: web_sys::Blob = blob.unchecked_into();
    web_sys::Url::create_object_url_with_blob(&blob)
        .map_err(|_| super::text::EN.file_unavailable.to_string())
}

/// The files picked in an `<input type="file">` (the input is cleared for the next pick).
pub fn picked(ev: &web_sys::Event) -> Vec<web_sys::File> {
    let Some(input) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
    else {
        return Vec::new();
    };
    let files = input.files().map(|l| list(&l)).unwrap_or_default();
    input.set_value("");
    files
}

/// The files dropped on an element.
pub fn dropped(ev: &web_sys::DragEvent) -> Vec<web_sys::File> {
    ev.data_transfer()
        .and_then(|d| d.files())
        .map(|l| list(&l))
        .unwrap_or_default()
}

/// The files (pasted images) in a paste; the caller keeps the paste from inserting text
/// when there are any.
pub fn pasted(ev: &web_sys::ClipboardEvent) -> Vec<web_sys::File> {
    let Some(items) = ev.clipboard_data().map(|d| d.items()) else {
        return Vec::new();
    };
    (0..items.length())
        .filter_map(|i| items.get(i))
        .filter(|it| it.kind() == "file")
        .filter_map(|it| it.get_as_file().ok().flatten())
        .collect()
}

fn list(l: &web_sys::FileList) -> Vec<web_sys::File> {
    (0..l.length()).filter_map(|i| l.get(i)).collect()
}
