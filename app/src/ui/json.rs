//! Resources whose server-rendered values hydrate through serde_json's byte reader.
//!
//! Leptos' default resource codec decodes with `serde_json::from_str`, while server functions'
//! answers are decoded with `serde_json::from_slice`: two readers, so every type that is both
//! a server function's output and a resource's value had its deserializer compiled twice into
//! the WASM (about 50 KB of the sign-in page's main module). Decoding the hydration string as
//! bytes keeps one copy.
use leptos::prelude::*;
use leptos::server::codee::{Decoder, Encoder};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// JSON in both directions, decoded from bytes.
pub struct Json;

impl<T: Serialize> Encoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(val: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(val)
    }
}

impl<T: DeserializeOwned> Decoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(val: &str) -> Result<T, serde_json::Error> {
        serde_json::from_slice(val.as_bytes())
    }
}

/// A resource serialized with [`Json`].
pub type JsonResource<T> = Resource<T, Json>;

/// `Resource::new` with the [`Json`] codec.
#[track_caller]
pub fn json_resource<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> JsonResource<T>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    S: PartialEq + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_through_the_byte_reader() {
        let value: Result<Option<Vec<String>>, String> = Ok(Some(vec!["é ✓".into(), "\"q\"".into()]));
        let text = <Json as Encoder<_>>::encode(&value).expect("encodes");
        let back: Result<Option<Vec<String>>, String> = <Json as Decoder<_>>::decode(&text).expect("decodes");
        assert_eq!(back, value);
    }
}
