//! Password hashes made by other systems, so that teams moving to Roster keep their
//! passwords: SlashDB's sha512-crypt, DBackup's bcrypt, Databand's (Flask-AppBuilder,
//! werkzeug) pbkdf2 and scrypt, Django's pbkdf2. Each is verified once, at the account's next
//! sign-in, and then replaced by argon2id (`services::auth`).
//!
//! `parse` is what an import calls: it names the format, or says why a hash is refused
//! (unknown, malformed, weak, or so costly that verifying it would let one account stall the
//! server). `verify` only ever runs on hashes `parse` accepted.
use subtle::ConstantTimeEq;

/// The formats Roster verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Roster's own (PHC string); anything else is "legacy".
    Argon2,
    /// `$6$[rounds=N$]salt$hash` (glibc crypt, `mkpasswd -m sha-512`, `openssl passwd -6`).
    Sha512Crypt,
    /// `$5$[rounds=N$]salt$hash`.
    Sha256Crypt,
    /// `$2a$`, `$2b$`, `$2y$` (`htpasswd -B`, most web frameworks).
    Bcrypt,
    /// werkzeug's `pbkdf2:sha256:ITER$salt$hex` (and sha512).
    WerkzeugPbkdf2,
    /// werkzeug's `scrypt:N:r:p$salt$hex`.
    WerkzeugScrypt,
    /// Django's `pbkdf2_sha256$ITER$salt$base64`.
    DjangoPbkdf2,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Argon2 => "argon2",
            Scheme::Sha512Crypt => "sha512-crypt",
            Scheme::Sha256Crypt => "sha256-crypt",
            Scheme::Bcrypt => "bcrypt",
            Scheme::WerkzeugPbkdf2 => "werkzeug-pbkdf2",
            Scheme::WerkzeugScrypt => "werkzeug-scrypt",
            Scheme::DjangoPbkdf2 => "django-pbkdf2",
        }
    }

    /// Whether a successful sign-in replaces the hash with argon2id.
    pub fn is_legacy(self) -> bool {
        self != Scheme::Argon2
    }
}

/// Work limits: above these, verifying one guess would cost seconds of CPU or gigabytes of
/// memory, so such hashes are refused at import rather than verified.
const SHA_CRYPT_MAX_ROUNDS: usize = 10_000_000;
const BCRYPT_MAX_COST: u32 = 16;
const PBKDF2_MIN_ITERATIONS: u32 = 1_000;
const PBKDF2_MAX_ITERATIONS: u32 = 10_000_000;
/// 128 * N * r bytes of memory per verification.
const SCRYPT_MAX_MEMORY: u64 = 256 * 1024 * 1024;
const SCRYPT_MAX_P: u32 = 16;
const ARGON2_MAX_MEMORY_KIB: u32 = 1024 * 1024;
const ARGON2_MAX_TIME: u32 = 20;
/// Longer than any real hash; bounds the work of parsing hostile input.
const MAX_LEN: usize = 512;

/// Why a hash is refused, in words an admin can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn refused(msg: impl Into<String>) -> Refused {
    Refused(msg.into())
}

/// Names the format of `hash`, or says why Roster will not take it.
pub fn parse(hash: &str) -> Result<Scheme, Refused> {
    parsed(hash).map(|p| p.scheme())
}

/// A parsed hash with everything needed to verify it.
enum Parsed<'a> {
    Argon2,
    ShaCrypt { sha512: bool },
    Bcrypt,
    Pbkdf2 { django: bool, sha512: bool, iterations: u32, salt: &'a str, expected: Vec<u8> },
    Scrypt { log_n: u8, r: u32, p: u32, salt: &'a str, expected: Vec<u8> },
}

impl Parsed<'_> {
    fn scheme(&self) -> Scheme {
        match self {
            Parsed::Argon2 => Scheme::Argon2,
            Parsed::ShaCrypt { sha512: true } => Scheme::Sha512Crypt,
            Parsed::ShaCrypt { sha512: false } => Scheme::Sha256Crypt,
            Parsed::Bcrypt => Scheme::Bcrypt,
            Parsed::Pbkdf2 { django: true, .. } => Scheme::DjangoPbkdf2,
            Parsed::Pbkdf2 { django: false, .. } => Scheme::WerkzeugPbkdf2,
            Parsed::Scrypt { .. } => Scheme::WerkzeugScrypt,
        }
    }
}

/// Formats recognised only to be refused by name: unsalted or fast digests that a stolen
/// database gives up in seconds. Their accounts need a new password.
const WEAK: &[(&str, &str)] = &[
    ("$1$", "md5-crypt"),
    ("$apr1$", "Apache md5"),
    ("$2x$", "bcrypt with the 2x bug flag"),
    ("$sha1$", "sha1-crypt"),
    ("{SHA}", "unsalted SHA-1"),
    ("{SSHA}", "salted SHA-1"),
    ("{MD5}", "unsalted MD5"),
    ("{SMD5}", "salted MD5"),
    ("{CRYPT}", "DES crypt"),
    ("md5$", "Django salted MD5"),
    ("sha1$", "Django salted SHA-1"),
    ("unsalted_md5$", "Django unsalted MD5"),
    ("unsalted_sha1$", "Django unsalted SHA-1"),
    ("crypt$", "Django DES crypt"),
    ("pbkdf2_sha1$", "Django pbkdf2 with SHA-1"),
    ("pbkdf2:sha1", "werkzeug pbkdf2 with SHA-1"),
    ("md5:", "werkzeug MD5"),
    ("sha1:", "werkzeug SHA-1"),
    ("plain$", "a plain-text password"),
];

fn parsed(hash: &str) -> Result<Parsed<'_>, Refused> {
    if hash.is_empty() {
        return Err(refused("The password hash is empty."));
    }
    if hash.len() > MAX_LEN {
        return Err(refused(format!("The password hash is longer than {MAX_LEN} characters.")));
    }
    if hash.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(refused("The password hash contains spaces or control characters."));
    }
    // Every supported format is ASCII; checking it here also keeps the byte-offset slicing
    // below on character boundaries (a multi-byte character there would panic).
    if !hash.is_ascii() {
        return Err(refused("The password hash contains characters no supported format uses."));
    }
    for (prefix, name) in WEAK {
        if hash.starts_with(prefix) {
            return Err(refused(format!(
                "This is {name}, a weak format Roster does not import: the account needs a new password."
            )));
        }
    }
    if (hash.len() == 32 || hash.len() == 40 || hash.len() == 64) && hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(refused(
            "This looks like an unsalted MD5/SHA digest, a weak format Roster does not import: the account needs a new password.",
        ));
    }
    if hash.starts_with("$argon2") {
        return argon2(hash);
    }
    if let Some(rest) = hash.strip_prefix("$6$") {
        return sha_crypt(rest, true);
    }
    if let Some(rest) = hash.strip_prefix("$5$") {
        return sha_crypt(rest, false);
    }
    if hash.starts_with("$2a$") || hash.starts_with("$2b$") || hash.starts_with("$2y$") {
        return bcrypt(hash);
    }
    if let Some(rest) = hash.strip_prefix("pbkdf2:") {
        return werkzeug_pbkdf2(rest);
    }
    if let Some(rest) = hash.strip_prefix("scrypt:") {
        return werkzeug_scrypt(rest);
    }
    if let Some(rest) = hash.strip_prefix("pbkdf2_sha256$") {
        return django_pbkdf2(rest);
    }
    Err(refused(
        "Unknown password hash format. Roster imports argon2, sha512-crypt ($6$), sha256-crypt ($5$), bcrypt ($2a$/$2b$/$2y$), werkzeug pbkdf2:sha256 and scrypt, and Django pbkdf2_sha256.",
    ))
}

fn argon2(hash: &str) -> Result<Parsed<'_>, Refused> {
    use argon2::password_hash::PasswordHash;
    let bad = || refused("This argon2 hash is malformed.");
    let phc = PasswordHash::new(hash).map_err(|_| bad())?;
    if !matches!(phc.algorithm.as_str(), "argon2id" | "argon2i" | "argon2d") || phc.hash.is_none() {
        return Err(bad());
    }
    let params = argon2::Params::try_from(&phc).map_err(|_| bad())?;
    if params.m_cost() > ARGON2_MAX_MEMORY_KIB || params.t_cost() > ARGON2_MAX_TIME {
        return Err(refused("This argon2 hash asks for more memory or time than Roster spends on one sign-in."));
    }
    Ok(Parsed::Argon2)
}

/// `[rounds=N$]salt$hash` after `$6$` or `$5$`.
fn sha_crypt(rest: &str, sha512: bool) -> Result<Parsed<'_>, Refused> {
    let name = if sha512 { "sha512-crypt" } else { "sha256-crypt" };
    let bad = |why: &str| refused(format!("This {name} hash is malformed: {why}."));
    let parts: Vec<&str> = rest.split('$').collect();
    let (rounds, salt, digest) = match parts.as_slice() {
        [r, s, d] if r.starts_with("rounds=") => {
            let n: usize = r["rounds=".len()..].parse().map_err(|_| bad("the rounds are not a number"))?;
            (n, *s, *d)
        }
        [s, d] => (5_000, *s, *d),
        _ => return Err(bad("expected [rounds=N$]salt$hash")),
    };
    if !(1_000..=SHA_CRYPT_MAX_ROUNDS).contains(&rounds) {
        return Err(refused(format!(
            "This {name} hash has {rounds} rounds; Roster verifies 1,000 to {SHA_CRYPT_MAX_ROUNDS} rounds."
        )));
    }
    if salt.is_empty() || salt.len() > 16 {
        return Err(bad("the salt must have 1 to 16 characters"));
    }
    let want = if sha512 { 86 } else { 43 };
    if digest.len() != want || !digest.bytes().all(is_crypt64) {
        return Err(bad(&format!("the hash part must be {want} characters of crypt's base64")));
    }
    Ok(Parsed::ShaCrypt { sha512 })
}

fn is_crypt64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'.' || b == b'/'
}

fn bcrypt(hash: &str) -> Result<Parsed<'_>, Refused> {
    let bad = || refused("This bcrypt hash is malformed: expected $2b$COST$ and 53 characters.");
    if hash.len() != 60 || hash.as_bytes()[6] != b'$' {
        return Err(bad());
    }
    let cost: u32 = hash[4..6].parse().map_err(|_| bad())?;
    if !(4..=31).contains(&cost) || !hash[7..].bytes().all(is_crypt64) {
        return Err(bad());
    }
    if cost > BCRYPT_MAX_COST {
        return Err(refused(format!(
            "This bcrypt hash has cost {cost}; Roster verifies costs up to {BCRYPT_MAX_COST}."
        )));
    }
    Ok(Parsed::Bcrypt)
}

fn iterations(text: &str, name: &str) -> Result<u32, Refused> {
    let n: u32 = text
        .parse()
        .map_err(|_| refused(format!("This {name} hash is malformed: the iteration count is not a number.")))?;
    if n < PBKDF2_MIN_ITERATIONS {
        return Err(refused(format!(
            "This {name} hash has only {n} iterations, too weak to import: the account needs a new password."
        )));
    }
    if n > PBKDF2_MAX_ITERATIONS {
        return Err(refused(format!(
            "This {name} hash has {n} iterations; Roster verifies at most {PBKDF2_MAX_ITERATIONS}."
        )));
    }
    Ok(n)
}

fn hex(text: &str, len: usize, name: &str) -> Result<Vec<u8>, Refused> {
    let bad = || refused(format!("This {name} hash is malformed: the hash part must be {} hex digits.", len * 2));
    if text.len() != len * 2 {
        return Err(bad());
    }
    (0..len).map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).map_err(|_| bad())).collect()
}

/// werkzeug: `sha256:ITER$salt$hex` after `pbkdf2:` (the salt is text, used as UTF-8 bytes).
fn werkzeug_pbkdf2(rest: &str) -> Result<Parsed<'_>, Refused> {
    let name = "werkzeug pbkdf2";
    let Some((method, rest)) = rest.split_once('$') else {
        return Err(refused(format!("This {name} hash is malformed: expected pbkdf2:sha256:ITERATIONS$salt$hash.")));
    };
    let Some((salt, digest)) = rest.split_once('$') else {
        return Err(refused(format!("This {name} hash is malformed: expected pbkdf2:sha256:ITERATIONS$salt$hash.")));
    };
    let (algo, count) = match method.split_once(':') {
        Some((a, c)) => (a, c),
        // Without a count werkzeug used its version's default, which Roster cannot know.
        None => {
            return Err(refused(format!(
                "This {name} hash does not say its iteration count (pbkdf2:{method}); Roster cannot verify it."
            )))
        }
    };
    let sha512 = match algo {
        "sha256" => false,
        "sha512" => true,
        other => return Err(refused(format!("This {name} hash uses {other}; Roster verifies sha256 and sha512."))),
    };
    let iterations = iterations(count, name)?;
    if salt.is_empty() {
        return Err(refused(format!("This {name} hash is malformed: the salt is empty.")));
    }
    let expected = hex(digest, if sha512 { 64 } else { 32 }, name)?;
    Ok(Parsed::Pbkdf2 { django: false, sha512, iterations, salt, expected })
}

/// werkzeug: `N:r:p$salt$hex` after `scrypt:` (hashlib.scrypt, 64-byte key).
fn werkzeug_scrypt(rest: &str) -> Result<Parsed<'_>, Refused> {
    let name = "werkzeug scrypt";
    let bad = |why: &str| refused(format!("This {name} hash is malformed: {why}."));
    let parts: Vec<&str> = rest.split('$').collect();
    let [params, salt, digest] = parts.as_slice() else {
        return Err(bad("expected scrypt:N:r:p$salt$hash"));
    };
    let nums: Vec<&str> = params.split(':').collect();
    let [n, r, p] = nums.as_slice() else {
        return Err(bad("expected scrypt:N:r:p"));
    };
    let n: u64 = n.parse().map_err(|_| bad("N is not a number"))?;
    let r: u32 = r.parse().map_err(|_| bad("r is not a number"))?;
    let p: u32 = p.parse().map_err(|_| bad("p is not a number"))?;
    if n < 2 || !n.is_power_of_two() || r == 0 || p == 0 {
        return Err(bad("N must be a power of two, r and p at least 1"));
    }
    if n < 1024 {
        return Err(refused(format!(
            "This {name} hash has N = {n}, too weak to import: the account needs a new password."
        )));
    }
    if 128u64.saturating_mul(n).saturating_mul(r as u64) > SCRYPT_MAX_MEMORY || p > SCRYPT_MAX_P {
        return Err(refused(format!(
            "This {name} hash (N = {n}, r = {r}, p = {p}) needs more memory or time than Roster spends on one sign-in."
        )));
    }
    if salt.is_empty() {
        return Err(bad("the salt is empty"));
    }
    let expected = hex(digest, 64, name)?;
    Ok(Parsed::Scrypt { log_n: n.trailing_zeros() as u8, r, p, salt, expected })
}

/// Django: `ITER$salt$base64` after `pbkdf2_sha256$` (a 32-byte key, standard base64).
fn django_pbkdf2(rest: &str) -> Result<Parsed<'_>, Refused> {
    use base64::Engine;
    let name = "Django pbkdf2_sha256";
    let parts: Vec<&str> = rest.split('$').collect();
    let [count, salt, digest] = parts.as_slice() else {
        return Err(refused(format!("This {name} hash is malformed: expected pbkdf2_sha256$ITERATIONS$salt$hash.")));
    };
    let iterations = iterations(count, name)?;
    if salt.is_empty() {
        return Err(refused(format!("This {name} hash is malformed: the salt is empty.")));
    }
    let expected =
        base64::engine::general_purpose::STANDARD.decode(digest).ok().filter(|d| d.len() == 32).ok_or_else(|| {
            refused(format!("This {name} hash is malformed: the hash part must be 32 bytes in base64."))
        })?;
    Ok(Parsed::Pbkdf2 { django: true, sha512: false, iterations, salt, expected })
}

/// Whether `password` matches a hash `parse` accepts (false for any other hash). Runs for
/// as long as the hash's own cost says: call it off the async runtime.
pub fn verify(password: &str, hash: &str) -> bool {
    let Ok(p) = parsed(hash) else {
        return false;
    };
    match p {
        Parsed::Argon2 => {
            use argon2::password_hash::{PasswordHash, PasswordVerifier};
            PasswordHash::new(hash)
                .is_ok_and(|h| argon2::Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
        }
        Parsed::ShaCrypt { sha512: true } => sha_crypt::sha512_check(password, hash).is_ok(),
        Parsed::ShaCrypt { sha512: false } => sha_crypt::sha256_check(password, hash).is_ok(),
        // The original systems cut passwords at 72 bytes, and so must the check.
        Parsed::Bcrypt => bcrypt::verify(password, hash).unwrap_or(false),
        Parsed::Pbkdf2 { sha512, iterations, salt, expected, .. } => {
            let mut out = vec![0u8; expected.len()];
            if sha512 {
                pbkdf2::pbkdf2_hmac::<sha2::Sha512>(password.as_bytes(), salt.as_bytes(), iterations, &mut out);
            } else {
                pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), salt.as_bytes(), iterations, &mut out);
            }
            out.ct_eq(&expected).into()
        }
        Parsed::Scrypt { log_n, r, p, salt, expected } => {
            let Ok(params) = scrypt::Params::new(log_n, r, p, 64) else {
                return false;
            };
            let mut out = vec![0u8; expected.len()];
            scrypt::scrypt(password.as_bytes(), salt.as_bytes(), &params, &mut out).is_ok()
                && bool::from(out.ct_eq(&expected))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Published SHA-crypt test vectors (Ulrich Drepper, "Unix crypt using SHA-256 and
    // SHA-512", https://www.akkadia.org/drepper/SHA-crypt.txt), as glibc writes them.
    const SHA512_VECTORS: &[(&str, &str)] = &[
        (
            "Hello world!",
            "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1",
        ),
        (
            "Hello world!",
            "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.",
        ),
        (
            "This is just a test",
            "$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0",
        ),
        (
            "a very much longer text to encrypt.  This one even stretches over morethan one line.",
            "$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1",
        ),
        (
            "we have a short salt string but not a short password",
            "$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0",
        ),
        (
            "a short string",
            "$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJAstJeonj1",
        ),
        (
            "the minimum number is still observed",
            "$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX.",
        ),
    ];

    #[test]
    fn sha512_crypt_published_vectors_verify() {
        for (pw, hash) in SHA512_VECTORS {
            assert_eq!(parse(hash), Ok(Scheme::Sha512Crypt), "{hash}");
            assert!(verify(pw, hash), "{hash}");
            assert!(!verify(&format!("{pw}x"), hash), "{hash}");
        }
    }

    #[test]
    fn sha256_crypt_published_vector_verifies() {
        let h = "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5";
        assert_eq!(parse(h), Ok(Scheme::Sha256Crypt));
        assert!(verify("Hello world!", h));
        assert!(!verify("Hello world", h));
    }

    #[test]
    fn bcrypt_verifies_and_cuts_at_72_bytes_like_its_makers() {
        let h =
            bcrypt::hash_with_salt("correct horse", 4, [7u8; 16]).unwrap().format_for_version(bcrypt::Version::TwoY);
        assert!(h.starts_with("$2y$04$"));
        assert_eq!(parse(&h), Ok(Scheme::Bcrypt));
        assert!(verify("correct horse", &h));
        assert!(!verify("correct horsE", &h));
        // The OpenBSD test vector.
        let v = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";
        assert!(verify("U*U", v));
        let long = "x".repeat(80);
        let h = bcrypt::hash_with_salt(&long, 4, [1u8; 16]).unwrap().format_for_version(bcrypt::Version::TwoB);
        assert!(verify(&"x".repeat(72), &h), "bcrypt only ever saw the first 72 bytes");
    }

    #[test]
    fn werkzeug_vectors_verify() {
        // Made with werkzeug 3.1.8: generate_password_hash("secret-pass", method=...).
        let made = [
            "pbkdf2:sha256:1000$fVoqaRCMVPMzipfL$c8f9d2f1a457e2fb23388275e09cee73899cc6c9b08ef0ee7506fb8d1e31730b",
            "pbkdf2:sha512:1000$DLxoMeXKdMJ0YVXU$74d8d5b2ca64581c45c375441b7987268533cfc402e85eafc7c9b4d1a56d688d4d18ed354840977e63dae1ff9560a285656128599f18588bdcb81a241669f977",
            "scrypt:1024:8:1$TUYnLLdbllqN8cA0$75102145ad67dbb076b5386fe439345b3a04aee355cd776a9ab5ed821b576bfa33b0ad83bd4929469f36966d351d98503ca2bb27be646ee5ca5d9d0c6a36e921",
        ];
        for h in made {
            assert!(parse(h).is_ok_and(Scheme::is_legacy), "{h}");
            assert!(verify("secret-pass", h), "{h}");
            assert!(!verify("secret-pasS", h), "{h}");
        }
    }

    #[test]
    fn django_vector_verifies() {
        // Python 3.11: base64(hashlib.pbkdf2_hmac('sha256', b'secret-pass', b'saltsaltsalt', 1000)),
        // in the layout of Django's make_password.
        let d = "pbkdf2_sha256$1000$saltsaltsalt$PN3N6qcNLm+D0FEwL35/VxPOFY7LticWxwxMXwtDWNs=";
        assert_eq!(parse(d), Ok(Scheme::DjangoPbkdf2));
        assert!(verify("secret-pass", d));
        assert!(!verify("secret-pas", d));
    }

    #[test]
    fn python_made_vectors_verify() {
        // Python 3.11: hashlib.pbkdf2_hmac('sha256', b'password', b'salt', 1000).hex(), and
        // RFC 7914's scrypt test vector (password, NaCl, N=1024, r=8, p=16), in werkzeug's layout.
        let w = "pbkdf2:sha256:1000$salt$632c2812e46d4604102ba7618e9d6d7d2f8128f6266b4a03264d2a0460b7dcb3";
        assert!(verify("password", w));
        let s = "scrypt:1024:8:16$NaCl$fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640";
        assert_eq!(parse(s), Ok(Scheme::WerkzeugScrypt));
        assert!(verify("password", s));
        assert!(!verify("passwore", s));
    }

    #[test]
    fn argon2_is_roster_own_and_not_legacy() {
        let h = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$wwNC0ymqp8qd4PQPkUzxlP4MeLZsBl3XDBqHTFR1oB4";
        assert_eq!(parse(h), Ok(Scheme::Argon2));
        assert!(!Scheme::Argon2.is_legacy());
        assert!(Scheme::Bcrypt.is_legacy());
        let huge =
            "$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$wwNC0ymqp8qd4PQPkUzxlP4MeLZsBl3XDBqHTFR1oB4";
        assert!(parse(huge).unwrap_err().0.contains("more memory"));
    }

    #[test]
    fn weak_unknown_malformed_and_costly_hashes_are_refused_with_a_reason() {
        let cases: &[(&str, &str)] = &[
            ("", "empty"),
            ("$1$abc$def", "md5-crypt"),
            ("{SSHA}abcdef", "salted SHA-1"),
            ("5f4dcc3b5aa765d61d8327deb882cf99", "unsalted MD5"),
            ("sha1$salt$abc", "Django salted SHA-1"),
            ("pbkdf2:sha1:1000$salt$abc", "SHA-1"),
            ("pbkdf2:sha256$salt$abc", "iteration count"),
            ("pbkdf2:sha256:10$salt$abc", "too weak"),
            ("pbkdf2:sha256:99999999$salt$abc", "at most"),
            ("pbkdf2:sha256:1000$salt$zz", "hex digits"),
            ("scrypt:1048576:8:1$salt$ab", "more memory"),
            ("scrypt:1000:8:1$salt$ab", "power of two"),
            ("$6$rounds=999999999$salt$abc", "rounds"),
            ("$6$salt$tooshort", "malformed"),
            ("$6$waytoolongsaltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1", "salt"),
            ("$2b$20$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "cost 20"),
            ("$2b$xx$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", "malformed"),
            ("pbkdf2_sha256$1000$salt$notbase64!", "base64"),
            ("$argon2id$v=19$broken", "malformed"),
            ("hunter2", "Unknown"),
            ("$6$salt$ab cd", "spaces"),
            // 60 bytes, a bcrypt prefix, a multi-byte character across the cost's bytes
            (&format!("$2a$1€{}", "C".repeat(52)), "characters no supported format uses"),
        ];
        for (hash, why) in cases {
            let e = parse(hash).expect_err(hash);
            assert!(e.0.contains(why), "{hash}: {e}");
            assert!(!verify("anything", hash));
        }
    }

    proptest::proptest! {
        #[test]
        fn parsing_never_panics(s in "\\PC{0,200}") {
            let _ = parse(&s);
        }

        #[test]
        fn parsing_structured_garbage_never_panics(
            prefix in proptest::sample::select(vec!["$6$", "$5$", "$2b$", "pbkdf2:", "scrypt:", "pbkdf2_sha256$", "$argon2id$"]),
            rest in "[a-z0-9$:=./]{0,120}",
        ) {
            let h = format!("{prefix}{rest}");
            if parse(&h).is_ok() {
                // Whatever parses must also verify (to false) without panicking.
                let _ = verify("x", &h);
            }
        }
    }
}
