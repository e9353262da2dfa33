//! TOTP (RFC 6238) and recovery codes. Pure functions of a secret and a time: the services
//! keep the replay state (the last accepted step) and consume it atomically.
use rand::RngCore;
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, TOTP};

/// 30-second steps, 6 digits, SHA-1: what every authenticator app understands.
pub const STEP_SECS: u64 = 30;
pub const DIGITS: usize = 6;
/// 160 bits, as RFC 4226 recommends.
pub const SECRET_LEN: usize = 20;
pub const RECOVERY_CODES: usize = 10;

pub fn new_secret() -> Vec<u8> {
    let mut s = vec![0u8; SECRET_LEN];
    rand::rngs::OsRng.fill_bytes(&mut s);
    s
}

pub fn base32(secret: &[u8]) -> String {
    data_encoding::BASE32_NOPAD.encode(secret)
}

/// The step a unix time in milliseconds falls in.
pub fn step_at(now_ms: i64) -> i64 {
    now_ms.max(0) / 1000 / STEP_SECS as i64
}

/// The code for `step` with the given algorithm and length (RFC test vectors use 8 digits).
pub fn code_with(alg: Algorithm, digits: usize, secret: &[u8], step: i64) -> String {
    let t = TOTP::new_unchecked(alg, digits, 0, STEP_SECS, secret.to_vec());
    t.generate(step.max(0) as u64 * STEP_SECS)
}

pub fn code(secret: &[u8], step: i64) -> String {
    code_with(Algorithm::SHA1, DIGITS, secret, step)
}

/// The steps in the window (current +/- 1) whose code equals `input`, newest first. Adjacent
/// steps can share a code, so the caller takes the newest one that was not used yet.
pub fn matching_steps(secret: &[u8], input: &str, now_ms: i64) -> Vec<i64> {
    let input: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    if input.len() != DIGITS || !input.bytes().all(|b| b.is_ascii_digit()) {
        return Vec::new();
    }
    let now = step_at(now_ms);
    [now + 1, now, now - 1].into_iter().filter(|s| *s >= 0 && constant_eq(&code(secret, *s), &input)).collect()
}

fn constant_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `otpauth://totp/Issuer:account?secret=...&issuer=...` for authenticator apps.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let label = format!("{}:{}", pct(issuer), pct(account));
    format!(
        "otpauth://totp/{label}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        base32(secret),
        pct(issuer)
    )
}

fn pct(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The QR code of `data` as an SVG document (rendered by us: no third party sees the secret).
pub fn qr_svg(data: &str) -> Option<String> {
    let code = qrcode::QrCode::new(data.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color>()
            .min_dimensions(220, 220)
            .quiet_zone(true)
            .dark_color(qrcode::render::svg::Color("#111111"))
            .light_color(qrcode::render::svg::Color("#ffffff"))
            .build(),
    )
}

/// Ten codes like `k7qm-4xpd-r2vb` (60 random bits each, from an alphabet without look-alikes).
pub fn new_recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut raw = [0u8; 12];
            rand::rngs::OsRng.fill_bytes(&mut raw);
            let chars: Vec<char> = raw.iter().map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char).collect();
            chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
        })
        .collect()
}

/// What is stored of a recovery code: SHA-256 of its normalised form (case, spaces and
/// dashes do not matter when typing it). 60 random bits make a slow hash unnecessary.
pub fn recovery_hash(code: &str) -> Vec<u8> {
    let norm: String = code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect();
    Sha256::digest(format!("roster-recovery:{norm}").as_bytes()).to_vec()
}

/// Whether the input looks like a recovery code rather than a TOTP code.
pub fn looks_like_recovery(input: &str) -> bool {
    input.chars().filter(|c| c.is_ascii_alphanumeric()).count() == 12
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B (T0 = 0, 30 s steps, 8 digits), one seed per hash.
    #[test]
    fn rfc6238_vectors() {
        let sha1 = b"12345678901234567890".to_vec();
        let sha256 = b"12345678901234567890123456789012".to_vec();
        let sha512 = b"1234567890".repeat(7)[..64].to_vec();
        let cases: &[(i64, &str, &str, &str)] = &[
            (59, "94287082", "46119246", "90693936"),
            (1111111109, "07081804", "68084774", "25091201"),
            (1234567890, "89005924", "91819424", "93441116"),
            (20000000000, "65353130", "77737706", "47863826"),
        ];
        for (t, c1, c256, c512) in cases {
            let step = t / 30;
            assert_eq!(code_with(Algorithm::SHA1, 8, &sha1, step), *c1, "SHA1 at {t}");
            assert_eq!(code_with(Algorithm::SHA256, 8, &sha256, step), *c256, "SHA256 at {t}");
            assert_eq!(code_with(Algorithm::SHA512, 8, &sha512, step), *c512, "SHA512 at {t}");
        }
    }

    #[test]
    fn window_is_plus_minus_one_step() {
        let s = b"12345678901234567890";
        let now = 1_700_000_010_000i64;
        let at = step_at(now);
        for d in [-1, 0, 1] {
            assert!(matching_steps(s, &code(s, at + d), now).contains(&(at + d)), "offset {d}");
        }
        let window: Vec<String> = (-1..=1).map(|d| code(s, at + d)).collect();
        for d in [-3, -2, 2, 3] {
            let c = code(s, at + d);
            // A far step's code is refused unless it happens to equal a code in the window.
            assert_eq!(matching_steps(s, &c, now).is_empty(), !window.contains(&c), "offset {d}");
        }
        assert!(matching_steps(s, "12345", now).is_empty());
        assert!(matching_steps(s, "abcdef", now).is_empty());
        let spaced = code(s, at);
        let spaced = format!("{} {}", &spaced[..3], &spaced[3..]);
        assert!(matching_steps(s, &spaced, now).contains(&at));
    }

    #[test]
    fn uri_and_qr() {
        let uri = otpauth_uri("Roster", "ada lovelace", b"12345678901234567890");
        assert_eq!(
            uri,
            "otpauth://totp/Roster:ada%20lovelace?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Roster&algorithm=SHA1&digits=6&period=30"
        );
        let svg = qr_svg(&uri).expect("QR renders");
        assert!(svg.starts_with("<?xml") && svg.contains("<svg"), "{}", &svg[..60]);
    }

    #[test]
    fn recovery_codes() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), RECOVERY_CODES);
        for c in &codes {
            assert_eq!(c.len(), 14, "{c}");
            assert!(looks_like_recovery(c));
            assert_eq!(recovery_hash(c), recovery_hash(&c.to_uppercase().replace('-', " ")));
        }
        assert_ne!(recovery_hash(&codes[0]), recovery_hash(&codes[1]));
        assert!(!looks_like_recovery("123456"));
    }
}
