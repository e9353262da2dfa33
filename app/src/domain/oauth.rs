//! The rules of an authorization request to Roster as an OpenID provider (OpenID Connect Core
//! 1.0 section 3.1.2, OAuth 2.0 Security BCP, RFC 7636), pure: which client and redirect URI
//! it names, what it asks for, and whether a refusal may be sent back to the tool or must be
//! shown here (a request whose client or redirect URI cannot be trusted is never redirected:
//! that would make Roster an open redirector).
use serde::{Deserialize, Serialize};

use super::clients::{ClientKind, OAuthClient};

/// The longest `state` and `nonce` accepted (they come back verbatim).
pub const MAX_ECHOED: usize = 512;

/// An authorization request as it arrives (query parameters).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizeParams {
    #[serde(default)]
    pub client_id: String,
    #[serde(default)]
    pub redirect_uri: String,
    #[serde(default)]
    pub response_type: String,
    #[serde(default)]
    pub scope: String,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub nonce: Option<String>,
    #[serde(default)]
    pub code_challenge: Option<String>,
    #[serde(default)]
    pub code_challenge_method: Option<String>,
    #[serde(default)]
    pub prompt: Option<String>,
    #[serde(default)]
    pub max_age: Option<String>,
    #[serde(default)]
    pub login_hint: Option<String>,
    #[serde(default)]
    pub response_mode: Option<String>,
    /// Request objects are not supported (`request_not_supported`).
    #[serde(default)]
    pub request: Option<String>,
    #[serde(default)]
    pub request_uri: Option<String>,
    /// Set by Roster itself when it sends someone to sign in again (`prompt=login`,
    /// `max_age`): a sign-in at or after this instant (ms) answers the request, so coming
    /// back does not ask again forever. A tool setting it gains nothing: it could as well
    /// leave out `prompt=login`.
    #[serde(default)]
    pub roster_after: Option<String>,
}

impl AuthorizeParams {
    /// The request as a query string (the parameters set, in a fixed order): where a sign-in
    /// returns to, and the hidden fields of the consent form.
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut v: Vec<(&'static str, String)> = vec![
            ("client_id", self.client_id.clone()),
            ("redirect_uri", self.redirect_uri.clone()),
            ("response_type", self.response_type.clone()),
            ("scope", self.scope.clone()),
        ];
        let optional = [
            ("state", &self.state),
            ("nonce", &self.nonce),
            ("code_challenge", &self.code_challenge),
            ("code_challenge_method", &self.code_challenge_method),
            ("prompt", &self.prompt),
            ("max_age", &self.max_age),
            ("login_hint", &self.login_hint),
            ("response_mode", &self.response_mode),
            ("roster_after", &self.roster_after),
        ];
        for (k, val) in optional {
            if let Some(x) = val {
                v.push((k, x.clone()));
            }
        }
        v
    }

    /// The request to come back to after signing in again at `now` (ms): `prompt=login`
    /// dropped (it is being answered), and a sign-in from `now` on accepted.
    pub fn after_sign_in(&self, now: i64) -> AuthorizeParams {
        let prompt = self
            .prompt
            .as_deref()
            .map(|p| p.split_whitespace().filter(|v| *v != "login").collect::<Vec<_>>().join(" "));
        AuthorizeParams {
            prompt: prompt.filter(|p| !p.is_empty()),
            roster_after: Some(now.to_string()),
            ..self.clone()
        }
    }
}

/// What `prompt` asks for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    /// `none`: no page may be shown; fail if the person is not signed in or must consent.
    pub none: bool,
    /// `login`: sign in again even with a session.
    pub login: bool,
    /// `consent`: ask again even if the person agreed before.
    pub consent: bool,
}

/// A request that may go on: what the sign-in and the code will carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authorization {
    pub client_id: String,
    pub redirect_uri: String,
    /// Granted scopes, in the client's order (`openid` first).
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    /// S256 challenge (the only method accepted).
    pub code_challenge: Option<String>,
    pub prompt: Prompt,
    /// Seconds: a sign-in older than this must be repeated.
    pub max_age: Option<u64>,
    pub login_hint: Option<String>,
    /// A sign-in at or after this instant (ms) is fresh enough (see `roster_after`).
    pub signed_in_after: Option<i64>,
}

/// Why a request is refused before anything is sent back to the tool: shown on Roster's own
/// page, never redirected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Unsafe {
    /// The provider has no public URL to be the issuer (`--public-url`).
    NotConfigured,
    /// The request's parameters could not be read (one given twice, say).
    Malformed,
    UnknownClient,
    DisabledClient,
    /// The redirect URI is missing or not one of the client's, exactly.
    RedirectUri,
    /// Forward authentication: the address to return to is not on a host of
    /// `--forward-auth-hosts`.
    ReturnAddress,
    /// Forward authentication: signed in, yet the tool's proxy did not see the session (the
    /// cookie does not reach the tool's host): sending the person back would loop.
    SessionNotShared,
}

impl Unsafe {
    const ALL: [Unsafe; 7] = [
        Unsafe::NotConfigured,
        Unsafe::Malformed,
        Unsafe::UnknownClient,
        Unsafe::DisabledClient,
        Unsafe::RedirectUri,
        Unsafe::ReturnAddress,
        Unsafe::SessionNotShared,
    ];

    /// How the page that explains it is addressed (`/oauth/stopped?why=...`).
    pub fn code(&self) -> &'static str {
        match self {
            Unsafe::NotConfigured => "not_configured",
            Unsafe::Malformed => "malformed",
            Unsafe::UnknownClient => "unknown_client",
            Unsafe::DisabledClient => "disabled_client",
            Unsafe::RedirectUri => "redirect_uri",
            Unsafe::ReturnAddress => "return_address",
            Unsafe::SessionNotShared => "session_not_shared",
        }
    }

    pub fn from_code(code: &str) -> Option<Unsafe> {
        Self::ALL.into_iter().find(|u| u.code() == code)
    }

    pub fn message(&self) -> &'static str {
        match self {
            Unsafe::NotConfigured => {
                "Roster cannot sign you in to other tools yet: it needs its public address (--public-url). Ask your administrator."
            }
            Unsafe::Malformed => "This sign-in request is malformed (a parameter is repeated or unreadable). Go back to the application and try again.",
            Unsafe::UnknownClient => "This application is not registered with Roster. Ask your administrator.",
            Unsafe::DisabledClient => "This application is switched off in Roster. Ask your administrator.",
            Unsafe::RedirectUri => {
                "This application asked to be sent back to an address it has not registered, so Roster does not go there. Ask your administrator."
            }
            Unsafe::ReturnAddress => {
                "The address to go back to after signing in is not one Roster returns to (it is not on the forward authentication hosts). Ask your administrator."
            }
            Unsafe::SessionNotShared => {
                "You are signed in to Roster, but the tool's proxy did not receive your session, so going back would only bring you here again. Ask your administrator to set Roster's cookie domain (--cookie-domain) to cover the tool's address."
            }
        }
    }
}

/// A refusal the tool gets back at its redirect URI (`error`, `error_description`, with
/// `state` and `iss`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refused {
    /// The OAuth error code (`invalid_request`, `invalid_scope`, `login_required`...).
    pub error: &'static str,
    pub description: String,
}

impl Refused {
    pub fn new(error: &'static str, description: impl Into<String>) -> Self {
        Refused { error, description: description.into() }
    }
}

/// How a request ends when it cannot go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// Shown here, never redirected.
    Unsafe(Unsafe),
    /// Sent back to this redirect URI.
    Redirect { redirect_uri: String, state: Option<String>, refused: Refused },
}

/// Checks an authorization request against the client it names (`None`: no such client).
pub fn check(p: &AuthorizeParams, client: Option<&OAuthClient>) -> Result<Authorization, Rejection> {
    let client = client.ok_or(Rejection::Unsafe(Unsafe::UnknownClient))?;
    // The redirect URI first: until it is known to be the client's, nothing may go there.
    if p.redirect_uri.is_empty() || !client.redirect_uris.contains(&p.redirect_uri) {
        return Err(Rejection::Unsafe(Unsafe::RedirectUri));
    }
    if !client.enabled {
        return Err(Rejection::Unsafe(Unsafe::DisabledClient));
    }
    let state = p.state.clone().filter(|s| !s.is_empty());
    let back = |refused: Refused| Rejection::Redirect {
        redirect_uri: p.redirect_uri.clone(),
        // (an over-long state is not echoed: it is the reason for the refusal)
        state: state.clone().filter(|s| s.len() <= MAX_ECHOED),
        refused,
    };
    if state.as_ref().is_some_and(|s| s.len() > MAX_ECHOED) {
        return Err(back(Refused::new("invalid_request", format!("state is longer than {MAX_ECHOED} characters"))));
    }
    if p.request.is_some() {
        return Err(back(Refused::new("request_not_supported", "request objects are not supported")));
    }
    if p.request_uri.is_some() {
        return Err(back(Refused::new("request_uri_not_supported", "request_uri is not supported")));
    }
    if p.response_type != "code" {
        return Err(back(Refused::new(
            "unsupported_response_type",
            "only the authorization code flow is supported (response_type=code)",
        )));
    }
    if p.response_mode.as_deref().is_some_and(|m| m != "query") {
        return Err(back(Refused::new("invalid_request", "only response_mode=query is supported")));
    }
    let asked: Vec<&str> = p.scope.split_whitespace().collect();
    if !asked.contains(&"openid") {
        return Err(back(Refused::new("invalid_scope", "the openid scope is required")));
    }
    if let Some(s) = asked.iter().find(|s| !client.scopes.iter().any(|c| c == *s)) {
        return Err(back(Refused::new("invalid_scope", format!("this application may not ask for the scope {s}"))));
    }
    let scopes: Vec<String> = client.scopes.iter().filter(|c| asked.contains(&c.as_str())).cloned().collect();
    let nonce = p.nonce.clone().filter(|n| !n.is_empty());
    if nonce.as_ref().is_some_and(|n| n.len() > MAX_ECHOED) {
        return Err(back(Refused::new("invalid_request", format!("nonce is longer than {MAX_ECHOED} characters"))));
    }
    let challenge = p.code_challenge.clone().filter(|c| !c.is_empty());
    match (&challenge, p.code_challenge_method.as_deref()) {
        (None, _) if client.kind == ClientKind::Public => {
            return Err(back(Refused::new("invalid_request", "a public application must use PKCE (code_challenge)")));
        }
        (Some(_), Some("S256")) => {}
        (Some(_), Some(other)) => {
            return Err(back(Refused::new(
                "invalid_request",
                format!("code_challenge_method {other} is not supported: use S256"),
            )));
        }
        (Some(_), None) => {
            return Err(back(Refused::new(
                "invalid_request",
                "code_challenge_method=S256 is required with code_challenge",
            )));
        }
        (None, _) => {}
    }
    // RFC 7636: 43-128 characters of base64url (a SHA-256 digest is 43).
    if challenge
        .as_ref()
        .is_some_and(|c| c.len() != 43 || !c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_'))
    {
        return Err(back(Refused::new(
            "invalid_request",
            "code_challenge is not an S256 challenge (43 base64url characters)",
        )));
    }
    let mut prompt = Prompt::default();
    for v in p.prompt.as_deref().unwrap_or("").split_whitespace() {
        match v {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            "consent" => prompt.consent = true,
            // (one account per browser session: there is nothing to select)
            "select_account" => {}
            other => return Err(back(Refused::new("invalid_request", format!("prompt={other} is not supported")))),
        }
    }
    if prompt.none && (prompt.login || prompt.consent) {
        return Err(back(Refused::new("invalid_request", "prompt=none cannot be combined with other values")));
    }
    let max_age = match p.max_age.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        None => None,
        Some(m) => Some(
            m.parse::<u64>()
                .map_err(|_| back(Refused::new("invalid_request", "max_age is not a number of seconds")))?,
        ),
    };
    Ok(Authorization {
        client_id: client.client_id.clone(),
        redirect_uri: p.redirect_uri.clone(),
        scopes,
        state,
        nonce,
        code_challenge: challenge,
        prompt,
        max_age,
        login_hint: p.login_hint.clone().filter(|h| !h.is_empty() && h.len() <= 256),
        signed_in_after: p.roster_after.as_deref().and_then(|t| t.trim().parse().ok()),
    })
}

/// Whether a sign-in made at `auth_at` (ms) is too old for `max_age` (seconds) at `now` (ms);
/// `prompt=login` always asks again.
pub fn must_sign_in_again(a: &Authorization, auth_at: Option<i64>, now: i64) -> bool {
    // (a sign-in made after Roster sent the person to sign in again answers both)
    if let (Some(after), Some(at)) = (a.signed_in_after, auth_at) {
        if at >= after {
            return false;
        }
    }
    if a.prompt.login {
        return true;
    }
    match (a.max_age, auth_at) {
        (Some(max), Some(at)) => now.saturating_sub(at) > (max as i64).saturating_mul(1000),
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// What the consent page shows and posts back: the application, what it will receive, and
/// the request itself as hidden fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRequest {
    pub client_name: String,
    pub client_id: String,
    /// Each scope asked for, with what it gives the tool (`openid` left out: it is the
    /// sign-in itself).
    pub scopes: Vec<(String, String)>,
    /// The organizations whose role and abilities it receives (scope `roster`).
    pub orgs: Vec<String>,
    /// Who is signed in (username).
    pub account: String,
    /// The authorization request, posted back with the answer.
    pub fields: Vec<(String, String)>,
}

/// An RP-initiated logout request (OpenID Connect RP-Initiated Logout 1.0), as it arrives.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogoutParams {
    #[serde(default)]
    pub id_token_hint: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub post_logout_redirect_uri: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
}

impl LogoutParams {
    /// The request as query pairs (the confirmation form's hidden fields).
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        [
            ("id_token_hint", &self.id_token_hint),
            ("client_id", &self.client_id),
            ("post_logout_redirect_uri", &self.post_logout_redirect_uri),
            ("state", &self.state),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.clone().filter(|v| !v.is_empty()).map(|v| (k, v)))
        .collect()
    }
}

/// How long an authorization code may wait for its exchange (seconds).
pub const CODE_SECONDS: i64 = 60;

/// Whether `v` is a PKCE code verifier (RFC 7636 section 4.1: 43-128 unreserved characters).
pub fn verifier_ok(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~'))
}

/// What a session's sign-in method tells a tool (RFC 8176 `amr` values), and whether a second
/// factor or a passkey proved it. Sessions from before the method was kept (''), and those
/// signed in through another provider, say nothing: how they signed in is not known here.
pub fn amr(method: &str) -> (Vec<&'static str>, bool) {
    match method {
        "password" => (vec!["pwd"], false),
        "totp" | "recovery_code" => (vec!["pwd", "otp", "mfa"], true),
        "passkey" => (vec!["hwk"], true),
        "password+passkey" => (vec!["pwd", "hwk", "mfa"], true),
        _ => (vec![], false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(kind: ClientKind) -> OAuthClient {
        OAuthClient {
            client_id: "tool".into(),
            name: "Tool".into(),
            kind,
            redirect_uris: vec!["https://tool.example/cb".into(), "http://127.0.0.1:9/cb".into()],
            scopes: vec!["openid".into(), "profile".into(), "roster".into()],
            ..Default::default()
        }
    }

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn params() -> AuthorizeParams {
        AuthorizeParams {
            client_id: "tool".into(),
            redirect_uri: "https://tool.example/cb".into(),
            response_type: "code".into(),
            scope: "openid roster".into(),
            state: Some("st".into()),
            nonce: Some("n-0S6_WzA2Mj".into()),
            code_challenge: Some(CHALLENGE.into()),
            code_challenge_method: Some("S256".into()),
            ..Default::default()
        }
    }

    fn refusal(p: &AuthorizeParams, c: &OAuthClient) -> (&'static str, Option<String>) {
        match check(p, Some(c)) {
            Err(Rejection::Redirect { refused, state, redirect_uri }) => {
                assert_eq!(redirect_uri, p.redirect_uri);
                (refused.error, state)
            }
            other => panic!("expected a refusal sent back, got {other:?}"),
        }
    }

    #[test]
    fn a_good_request_goes_on_with_what_it_asked() {
        let a = check(&params(), Some(&client(ClientKind::Public))).expect("ok");
        assert_eq!(a.scopes, ["openid", "roster"]);
        assert_eq!((a.state.as_deref(), a.nonce.as_deref()), (Some("st"), Some("n-0S6_WzA2Mj")));
        assert_eq!(a.code_challenge.as_deref(), Some(CHALLENGE));
        assert_eq!(a.prompt, Prompt::default());
        // A confidential client may leave PKCE out.
        let mut p = params();
        p.code_challenge = None;
        p.code_challenge_method = None;
        assert!(check(&p, Some(&client(ClientKind::Confidential))).is_ok());
    }

    #[test]
    fn an_unknown_client_or_redirect_uri_is_never_redirected_to() {
        let c = client(ClientKind::Confidential);
        assert_eq!(check(&params(), None), Err(Rejection::Unsafe(Unsafe::UnknownClient)));
        for uri in [
            "",
            "https://tool.example/cb/",
            "https://tool.example/cb?x=1",
            "https://evil.example/cb",
            "HTTPS://tool.example/cb",
        ] {
            let mut p = params();
            p.redirect_uri = uri.into();
            // (even with other faults: nothing goes to an address the client has not registered)
            p.response_type = "token".into();
            assert_eq!(check(&p, Some(&c)), Err(Rejection::Unsafe(Unsafe::RedirectUri)), "{uri:?}");
        }
        let mut off = c.clone();
        off.enabled = false;
        assert_eq!(check(&params(), Some(&off)), Err(Rejection::Unsafe(Unsafe::DisabledClient)));
    }

    #[test]
    fn faults_go_back_to_the_tool_with_their_oauth_error_and_state() {
        let c = client(ClientKind::Public);
        type Change = fn(&mut AuthorizeParams);
        let cases: Vec<(Change, &str)> = vec![
            (|p| p.response_type = "token".into(), "unsupported_response_type"),
            (|p| p.response_type = "code id_token".into(), "unsupported_response_type"),
            (|p| p.scope = "profile".into(), "invalid_scope"),
            (|p| p.scope = "openid email".into(), "invalid_scope"),
            (|p| p.code_challenge = None, "invalid_request"),
            (|p| p.code_challenge_method = Some("plain".into()), "invalid_request"),
            (|p| p.code_challenge_method = None, "invalid_request"),
            (|p| p.code_challenge = Some("short".into()), "invalid_request"),
            (|p| p.prompt = Some("none login".into()), "invalid_request"),
            (|p| p.prompt = Some("create".into()), "invalid_request"),
            (|p| p.max_age = Some("soon".into()), "invalid_request"),
            (|p| p.response_mode = Some("fragment".into()), "invalid_request"),
            (|p| p.request = Some("eyJ...".into()), "request_not_supported"),
            (|p| p.request_uri = Some("https://x".into()), "request_uri_not_supported"),
            (|p| p.nonce = Some("n".repeat(MAX_ECHOED + 1)), "invalid_request"),
        ];
        for (change, want) in cases {
            let mut p = params();
            change(&mut p);
            assert_eq!(refusal(&p, &c), (want, Some("st".into())), "{p:?}");
        }
        // An over-long state is refused and not echoed.
        let mut p = params();
        p.state = Some("s".repeat(MAX_ECHOED + 1));
        assert_eq!(refusal(&p, &c), ("invalid_request", None));
    }

    #[test]
    fn sign_in_methods_as_amr() {
        assert_eq!(amr("password"), (vec!["pwd"], false));
        assert_eq!(amr("totp"), (vec!["pwd", "otp", "mfa"], true));
        assert!(amr("recovery_code").1);
        assert_eq!(amr("passkey"), (vec!["hwk"], true));
        assert_eq!(amr("password+passkey"), (vec!["pwd", "hwk", "mfa"], true));
        assert_eq!(amr(""), (vec![], false));
        assert_eq!(amr("sso"), (vec![], false));
    }

    #[test]
    fn prompt_and_max_age_decide_when_to_sign_in_again() {
        let c = client(ClientKind::Public);
        let mut p = params();
        p.prompt = Some("login consent select_account".into());
        p.max_age = Some("60".into());
        let a = check(&p, Some(&c)).expect("ok");
        assert_eq!(a.prompt, Prompt { none: false, login: true, consent: true });
        assert!(must_sign_in_again(&a, Some(1_000), 1_000), "prompt=login always");
        let mut p = params();
        p.max_age = Some("60".into());
        let a = check(&p, Some(&c)).expect("ok");
        assert!(!must_sign_in_again(&a, Some(0), 60_000));
        assert!(must_sign_in_again(&a, Some(0), 60_001));
        assert!(must_sign_in_again(&a, None, 0), "no known sign-in time");
        assert!(!must_sign_in_again(&check(&params(), Some(&c)).expect("ok"), None, 0));
    }

    #[test]
    fn coming_back_from_signing_in_again_is_not_asked_again() {
        let c = client(ClientKind::Public);
        let mut p = params();
        p.prompt = Some("login consent".into());
        p.max_age = Some("0".into());
        let back = p.after_sign_in(5_000);
        assert_eq!(back.prompt.as_deref(), Some("consent"), "prompt=login is answered, consent still asked");
        assert_eq!(back.roster_after.as_deref(), Some("5000"));
        let a = check(&back, Some(&c)).expect("ok");
        assert!(!must_sign_in_again(&a, Some(5_000), 9_000), "signed in after being sent");
        assert!(must_sign_in_again(&a, Some(4_999), 9_000), "an older sign-in still is not enough");
        // The query keeps every parameter set, once.
        let pairs = back.pairs();
        let names: Vec<&str> = pairs.iter().map(|(k, _)| *k).collect();
        assert_eq!(
            names,
            [
                "client_id",
                "redirect_uri",
                "response_type",
                "scope",
                "state",
                "nonce",
                "code_challenge",
                "code_challenge_method",
                "prompt",
                "max_age",
                "roster_after"
            ]
        );
        let mut only_login = params();
        only_login.prompt = Some("login".into());
        assert_eq!(only_login.after_sign_in(1).prompt, None);
    }

    #[test]
    fn each_stop_has_its_own_page_code() {
        for u in Unsafe::ALL {
            assert_eq!(Unsafe::from_code(u.code()), Some(u.clone()));
        }
        assert_eq!(Unsafe::from_code("other"), None);
    }

    #[test]
    fn pkce_verifiers_follow_rfc_7636() {
        assert!(verifier_ok(&"a".repeat(43)));
        assert!(verifier_ok(&"A-._~9".repeat(22)[..128]));
        assert!(!verifier_ok(&"a".repeat(42)));
        assert!(!verifier_ok(&"a".repeat(129)));
        assert!(!verifier_ok(&format!("{}+", "a".repeat(43))));
    }
}
