//! The response encoding of the widget's server functions and of every server function's
//! errors: JSON, written by serde on the server and read in the browser by `crate::json`
//! (no serde deserializer in the WASM bundle; see that module for why). On the wire it is
//! plain `application/json`, the same bytes `server_fn::codec::Json` sends.

use crate::json::FromJson;
use serde::Serialize;
use server_fn::codec::Post;
use server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};

/// JSON that the browser reads with [`FromJson`].
pub struct BrowserJsonEncoding;

/// `POST` in, JSON out, read without serde in the browser: `#[server(output = BrowserJson)]`.
pub type BrowserJson = Post<BrowserJsonEncoding>;

impl ContentType for BrowserJsonEncoding {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for BrowserJsonEncoding {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for BrowserJsonEncoding {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(output).map(Bytes::from)
    }
}

/// A body that is not the JSON the type expects.
#[derive(Debug, thiserror::Error)]
#[error("the server's answer could not be read")]
pub struct Unreadable;

impl<T: FromJson> Decodes<T> for BrowserJsonEncoding {
    type Error = Unreadable;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        crate::json::from_bytes(&bytes).ok_or(Unreadable)
    }
}
