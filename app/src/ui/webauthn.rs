//! The browser half of passkeys: hands the server's options to `navigator.credentials` and
//! returns the credential as JSON. Uses the browser's own JSON helpers
//! (`PublicKeyCredential.parseCreationOptionsFromJSON`, `...RequestOptions...`, `toJSON`), so
//! no base64 juggling here.

/// Creates a passkey (registration). `options`: the server's `{"publicKey": ...}` JSON.
pub async fn create(options: &str) -> Result<String, String> {
    call(options, "parseCreationOptionsFromJSON", "create").await
}

/// Uses a passkey (authentication).
pub async fn get(options: &str) -> Result<String, String> {
    call(options, "parseRequestOptionsFromJSON", "get").await
}

#[cfg(feature = "hydrate")]
async fn call(options: &str, parse_fn: &str, method: &str) -> Result<String, String> {
    use js_sys::{Function, Object, Promise, Reflect, JSON};
    use wasm_bindgen::{JsCast, JsValue};
    let unsupported = || "This browser cannot use passkeys here (it needs a recent version).".to_string();
    let win = web_sys::window().ok_or_else(unsupported)?;
    let pkc = Reflect::get(&win, &JsValue::from_str("PublicKeyCredential")).map_err(js_err)?;
    if pkc.is_undefined() {
        return Err(unsupported());
    }
    let parse: Function =
        Reflect::get(&pkc, &JsValue::from_str(parse_fn)).map_err(js_err)?.dyn_into().map_err(|_| unsupported())?;
    let json = JSON::parse(options).map_err(js_err)?;
    let public_key = Reflect::get(&json, &JsValue::from_str("publicKey")).map_err(js_err)?;
    let parsed = parse.call1(&pkc, &public_key).map_err(js_err)?;
    let arg = Object::new();
    Reflect::set(&arg, &JsValue::from_str("publicKey"), &parsed).map_err(js_err)?;
    let container = win.navigator().credentials();
    let f: Function =
        Reflect::get(&container, &JsValue::from_str(method)).map_err(js_err)?.dyn_into().map_err(|_| unsupported())?;
    let promise: Promise = f.call1(&container, &arg).map_err(js_err)?.dyn_into().map_err(|_| unsupported())?;
    let credential = wasm_bindgen_futures::JsFuture::from(promise).await.map_err(js_err)?;
    if credential.is_null() {
        return Err("No passkey was chosen.".into());
    }
    let to_json: Function = Reflect::get(&credential, &JsValue::from_str("toJSON"))
        .map_err(js_err)?
        .dyn_into()
        .map_err(|_| unsupported())?;
    let value = to_json.call0(&credential).map_err(js_err)?;
    JSON::stringify(&value).map(String::from).map_err(js_err)
}

/// A sentence for the person from a browser exception.
#[cfg(feature = "hydrate")]
fn js_err(e: wasm_bindgen::JsValue) -> String {
    use wasm_bindgen::JsCast;
    let name = js_sys::Reflect::get(&e, &"name".into()).ok().and_then(|n| n.as_string()).unwrap_or_default();
    match name.as_str() {
        "NotAllowedError" => "The passkey request was cancelled or not allowed.".into(),
        "InvalidStateError" => "This passkey is already registered.".into(),
        "SecurityError" => "Passkeys are not allowed on this address (use the configured public URL).".into(),
        _ => e
            .dyn_ref::<js_sys::Error>()
            .map(|err| String::from(err.message()))
            .unwrap_or_else(|| "The passkey request failed.".into()),
    }
}

#[cfg(not(feature = "hydrate"))]
async fn call(_options: &str, _parse_fn: &str, _method: &str) -> Result<String, String> {
    Err("Passkeys need the browser.".into())
}
