//! Reading JSON in the browser bundles without serde.
//!
//! Why: in the visitor widget's WASM, serde's derived deserializers, its buffered `Content`
//! path (which internally tagged enums such as `ServerFrame` go through) and serde_json's
//! parser were 31 % of all code (docs/BENCHMARKS.md). The browser parses JSON natively
//! (`JSON.parse`); the bundle only has to pick fields out of the result. So every document
//! the browser receives implements [`FromJson`], written once against [`Json`], an
//! interface over an already parsed value: the browser's own `JsValue` in WASM,
//! `serde_json::Value` natively. Natively, tests check that each type reads back exactly
//! what the server's serde `Serialize` wrote, so the two cannot drift apart unnoticed.
//!
//! The server keeps serde for everything it reads and writes; this is the browser's side.

use uuid::Uuid;

/// A parsed JSON value, as far as [`FromJson`] needs to look into it.
pub trait Json: Sized {
    /// The member `key` of an object; `None` when absent, `null`, or not an object.
    fn get(&self, key: &str) -> Option<Self>;
    /// The value as a string, if it is one.
    fn string(&self) -> Option<String>;
    /// The value as an integer, if it is a number without fraction.
    fn int(&self) -> Option<i64>;
    /// The value as a boolean, if it is one.
    fn boolean(&self) -> Option<bool>;
    /// The items of an array, if it is one.
    fn items(&self) -> Option<Vec<Self>>;
}

/// A type the browser reads from JSON (the shape serde's `Serialize` gives it on the server).
pub trait FromJson: Sized {
    /// Reads a present, non-null value; `None` when it does not have this type's shape.
    fn from_json<J: Json>(value: &J) -> Option<Self>;

    /// What an absent or `null` member reads as: nothing, except for `Option`s.
    fn missing() -> Option<Self> {
        None
    }
}

/// Reads member `key` of `value` as `T` (absent or `null` members only fit an `Option`).
pub fn field<T: FromJson, J: Json>(value: &J, key: &str) -> Option<T> {
    match value.get(key) {
        Some(v) => T::from_json(&v),
        None => T::missing(),
    }
}

/// Parses `text` and reads it as `T`; `None` if it is not JSON or not `T`'s shape.
/// (A top-level `null` reads as missing: `()` and `None` for `Option`s.)
pub fn from_str<T: FromJson>(text: &str) -> Option<T> {
    #[cfg(feature = "browser")]
    {
        let value = js_sys::JSON::parse(text).ok()?;
        top(Some(value).filter(|v| !v.is_null() && !v.is_undefined()))
    }
    #[cfg(not(feature = "browser"))]
    {
        let value: serde_json::Value = serde_json::from_str(text).ok()?;
        top(Some(value).filter(|v| !v.is_null()))
    }
}

/// Writes `s` as a JSON string literal (quotes and escapes included).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(HEX[(c as usize) >> 4] as char);
                out.push(HEX[(c as usize) & 15] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl FromJson for String {
    fn from_json<J: Json>(value: &J) -> Option<Self> {
        value.string()
    }
}

impl FromJson for bool {
    fn from_json<J: Json>(value: &J) -> Option<Self> {
        value.boolean()
    }
}

impl FromJson for i64 {
    fn from_json<J: Json>(value: &J) -> Option<Self> {
        value.int()
    }
}

impl FromJson for i16 {
    fn from_json<J: Json>(value: &J) -> Option<Self> {
        value.int().and_then(|n| i16::try_from(n).ok())
    }
}

impl FromJson for u32 {
    fn from_json<J: Json>(value: &J) -> Option<Self> {
        value.int().and_then(|n| u32::try_from(n).ok())
    }
}

impl FromJson for u64 {
    fn from_json<J: Json>(value: &J) -> Option<Self> {
        value.int().and_then(|n| u64::try_from(n).ok())
    }
}

impl FromJson for Uuid {
    fn from_json<J: Json>(value: &J) -> Option<Self> {
        Uuid::try_parse(&value.string()?).ok()
    }
}

/// `()` is what a server function that returns nothing answers (`null`).
impl FromJson for () {
    fn from_json<J: Json>(_: &J) -> Option<Self> {
        Some(())
    }

    fn missing() -> Option<Self> {
        Some(())
    }
}

impl<T: FromJson> FromJson for Option<T> {
    fn from_json<J: Json>(value: &J) -> Option<Self> {
        T::from_json(value).map(Some)
    }

    fn missing() -> Option<Self> {
        Some(None)
    }
}

impl<T: FromJson> FromJson for Vec<T> {
    fn from_json<J: Json>(value: &J) -> Option<Self> {
        value.items()?.iter().map(T::from_json).collect()
    }
}

/// A JSON document that is not `null` at the top (a top-level `null` reads as missing).
fn top<T: FromJson, J: Json>(value: Option<J>) -> Option<T> {
    match value {
        Some(v) => T::from_json(&v),
        None => T::missing(),
    }
}

/// Reads a whole response body as `T` (a server function's answer).
pub fn from_bytes<T: FromJson>(bytes: &[u8]) -> Option<T> {
    from_str(std::str::from_utf8(bytes).ok()?)
}

#[cfg(feature = "browser")]
impl Json for wasm_bindgen::JsValue {
    fn get(&self, key: &str) -> Option<Self> {
        if !self.is_object() {
            return None;
        }
        js_sys::Reflect::get(self, &wasm_bindgen::JsValue::from_str(key))
            .ok()
            .filter(|v| !v.is_null() && !v.is_undefined())
    }

    fn string(&self) -> Option<String> {
        self.as_string()
    }

    fn int(&self) -> Option<i64> {
        // JSON numbers are doubles; sequences and sizes stay far below 2^53.
        self.as_f64()
            .filter(|n| n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0)
            .map(|n| n as i64)
    }

    fn boolean(&self) -> Option<bool> {
        self.as_bool()
    }

    fn items(&self) -> Option<Vec<Self>> {
        if !js_sys::Array::is_array(self) {
            return None;
        }
        Some(js_sys::Array::from(self).iter().collect())
    }
}

#[cfg(not(feature = "browser"))]
impl Json for serde_json::Value {
    fn get(&self, key: &str) -> Option<Self> {
        self.as_object()?.get(key).filter(|v| !v.is_null()).cloned()
    }

    fn string(&self) -> Option<String> {
        self.as_str().map(str::to_string)
    }

    fn int(&self) -> Option<i64> {
        self.as_i64()
    }

    fn boolean(&self) -> Option<bool> {
        self.as_bool()
    }

    fn items(&self) -> Option<Vec<Self>> {
        self.as_array().cloned()
    }
}

/// Checks, natively, that `T` reads back what serde wrote: `assert_reads(&value)`.
#[cfg(test)]
pub fn assert_reads<T>(value: &T)
where
    T: FromJson + serde::Serialize + PartialEq + std::fmt::Debug,
{
    let text = serde_json::to_string(value).expect("serialize");
    assert_eq!(
        from_str::<T>(&text).as_ref(),
        Some(value),
        "reading back {text}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_options_and_lists() {
        assert_eq!(from_str::<i64>("42"), Some(42));
        assert_eq!(from_str::<i64>("4.5"), None);
        assert_eq!(from_str::<i16>("70000"), None);
        assert_eq!(from_str::<String>("\"a\\\"b\""), Some("a\"b".into()));
        assert_eq!(
            from_str::<Vec<String>>(r#"["a","b"]"#),
            Some(vec!["a".into(), "b".into()])
        );
        assert_eq!(from_str::<Vec<String>>(r#"["a",1]"#), None);
        assert_eq!(from_str::<Uuid>("\"not a uuid\""), None);
        assert_eq!(from_str::<String>("not json"), None);
        let v: serde_json::Value = serde_json::json!({"a": null, "b": 1});
        assert_eq!(field::<Option<i64>, _>(&v, "a"), Some(None));
        assert_eq!(field::<Option<i64>, _>(&v, "c"), Some(None));
        assert_eq!(field::<Option<i64>, _>(&v, "b"), Some(Some(1)));
        assert_eq!(field::<i64, _>(&v, "a"), None);
        assert_eq!(from_bytes::<()>(b"null"), Some(()));
        assert_eq!(from_bytes::<Option<i64>>(b"null"), Some(None));
    }

    #[test]
    fn quoting_is_what_serde_json_writes() {
        for s in [
            "",
            "plain",
            "quote \" and \\ back",
            "line\nbreak\ttab\r",
            "\u{1}\u{1f}",
            "é 🎉 </script>",
        ] {
            assert_eq!(quote(s), serde_json::to_string(s).unwrap());
        }
    }
}
