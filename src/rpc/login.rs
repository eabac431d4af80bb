//! The login settings and the pieces every phone-login method shares [doc: api/auth]: phone
//! number rules, test numbers `99966XYYYY` (LG-2), home DCs, login codes (LG-1, AB-1: drawn
//! from the CSPRNG, kept only as a hash, compared in constant time), code delivery, and the
//! fixed-window flood counters (AB-2).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::outbox_file::OutboxFile;
use super::RpcError;
use crate::rand::Rng;
use crate::store::records::Counter;

/// Delivers a login code to its user (an SMS gateway in production, a file here), and email
/// codes (a mail gateway; a file here).
pub trait CodeSender: Send + Sync {
    /// `dc` is the phone's home DC. An error is logged; the code stays valid (resendCode).
    fn deliver(&self, phone: &str, code: &str, dc: i32) -> Result<(), String>;
    /// An email code: `purpose` names what it is for (`recovery-email`, …). An error is
    /// logged; the code stays valid (its resend method).
    fn deliver_email(&self, address: &str, purpose: &str, code: &str) -> Result<(), String>;
}

/// The development outbox files rotate past this size: the full one becomes `NAME.1` (the
/// previous `.1` goes), so a flood of codes cannot fill the disk (issue 14, item 5).
pub const OUTBOX_ROTATE_BYTES: u64 = 16 << 20;

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The development mailbox beside the outbox: `unix_time address purpose code` lines.
pub const EMAILS_FILE: &str = "emails.txt";

/// The default sender: appends `unix_time phone code` to a file (`outbox.txt` in the data dir,
/// mode 0600), and `unix_time address purpose code` for emails to [`EMAILS_FILE`] beside it,
/// where a developer or a test reads them; codes are logged at debug level only.
pub struct OutboxSender {
    codes: OutboxFile,
    emails: OutboxFile,
}

impl OutboxSender {
    pub fn new(path: PathBuf) -> Self {
        OutboxSender {
            emails: OutboxFile::new(path.with_file_name(EMAILS_FILE), OUTBOX_ROTATE_BYTES),
            codes: OutboxFile::new(path, OUTBOX_ROTATE_BYTES),
        }
    }
}

impl CodeSender for OutboxSender {
    fn deliver(&self, phone: &str, code: &str, dc: i32) -> Result<(), String> {
        // CH-2: the code itself goes to the outbox (0600 in the private data dir) and to the log
        // only at debug level; an info log shows that one was sent.
        tracing::info!(phone, dc, path = %self.codes.path().display(), "login code written to the outbox");
        tracing::debug!(phone, code, dc, "login code");
        self.codes.append(&format!("{} {phone} {code}", unix_now()))
    }

    fn deliver_email(&self, address: &str, purpose: &str, code: &str) -> Result<(), String> {
        tracing::info!(purpose, path = %self.emails.path().display(), "email code written to the mailbox");
        tracing::debug!(address, purpose, code, "email code");
        self.emails
            .append(&format!("{} {address} {purpose} {code}", unix_now()))
    }
}

/// A sender that keeps the codes in memory (tests, and servers embedded in tests).
#[derive(Debug, Default)]
pub struct MemorySender {
    sent: Mutex<Vec<(String, String)>>,
    /// (address, purpose, code) of every email.
    emails: Mutex<Vec<(String, String, String)>>,
}

impl MemorySender {
    /// The last code sent to `phone`.
    pub fn last_code(&self, phone: &str) -> Option<String> {
        let sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        sent.iter()
            .rev()
            .find(|(p, _)| p == phone)
            .map(|(_, c)| c.clone())
    }
}

impl CodeSender for MemorySender {
    fn deliver(&self, phone: &str, code: &str, _dc: i32) -> Result<(), String> {
        let mut sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        sent.push((phone.to_string(), code.to_string()));
        Ok(())
    }

    fn deliver_email(&self, address: &str, purpose: &str, code: &str) -> Result<(), String> {
        let mut emails = self.emails.lock().unwrap_or_else(|p| p.into_inner());
        emails.push((address.into(), purpose.into(), code.into()));
        Ok(())
    }
}

impl MemorySender {
    /// The last email code sent to `address`.
    pub fn last_email_code(&self, address: &str) -> Option<String> {
        let emails = self.emails.lock().unwrap_or_else(|p| p.into_inner());
        emails
            .iter()
            .rev()
            .find(|(a, _, _)| a == address)
            .map(|(_, _, c)| c.clone())
    }
}

/// A window of `limit` events per `window` seconds; `limit` 0 = no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub limit: i32,
    pub window: i64,
}

/// AB-3's back-off: `free` failures in a row pass; after that each try waits
/// `base · 2^(failures − free)` seconds (at most `max`) after the last failure. `free == 0`
/// and `base == 0`: off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub free: i32,
    pub base: i64,
    pub max: i64,
}

impl Backoff {
    pub const OFF: Backoff = Backoff {
        free: 0,
        base: 0,
        max: 0,
    };

    /// The seconds still to wait after `failures` in a row, the last at `last`, or `None`.
    pub fn wait(&self, failures: i32, last: i64, now: i64) -> Option<i64> {
        if self.base <= 0 || failures < self.free {
            return None;
        }
        let doublings = u32::try_from(failures - self.free).unwrap_or(0).min(40);
        let wait = self.base.saturating_mul(1i64 << doublings).min(self.max);
        let left = last.saturating_add(wait) - now;
        (left > 0).then_some(left)
    }
}

impl RateLimit {
    pub const OFF: RateLimit = RateLimit {
        limit: 0,
        window: 1,
    };

    /// The counter after one more event at `now`, or the seconds until one is allowed.
    pub fn bump(&self, old: Option<Counter>, now: i64) -> Result<Counter, i64> {
        let fresh = Counter {
            window_start: now,
            count: 1,
        };
        let Some(old) = old.filter(|c| now < c.window_start.saturating_add(self.window)) else {
            return Ok(fresh);
        };
        if self.limit > 0 && old.count >= self.limit {
            return Err((old.window_start + self.window - now).max(1));
        }
        Ok(Counter {
            count: old.count.saturating_add(1),
            ..old
        })
    }
}

/// Login settings (`serve` flags). The defaults are the code-guessing budget of AB-1 and AB-2
/// (`rpc::flood`); [`LoginConfig::development`] has the looser values of earlier versions
/// (`serve --dev-login-limits`). Test numbers are outside the budget in both.
#[derive(Clone)]
pub struct LoginConfig {
    /// Home DC of numbers that are neither test numbers nor registered.
    pub default_home_dc: i32,
    /// Seconds a code stays valid (AB-1: at most 10 minutes).
    pub code_ttl: i64,
    /// Wrong codes per phone_code_hash, resendCode included; the next try finds it expired
    /// (AB-1).
    pub max_wrong_codes: i32,
    /// sendCode and resendCode per phone number an hour (FLOOD_WAIT_X) …
    pub codes_per_phone: RateLimit,
    /// … and a day (PHONE_NUMBER_FLOOD) (AB-2).
    pub codes_per_phone_daily: RateLimit,
    /// Wrong codes per phone number a day, over all its codes (PHONE_PASSWORD_FLOOD, AB-2).
    pub failed_sign_ins_per_phone: RateLimit,
    /// sendCode and resendCode per client address an hour (FLOOD_WAIT_X).
    pub codes_per_address: RateLimit,
    /// Wrong codes per client address a day (FLOOD_WAIT_X).
    pub failed_sign_ins_per_address: RateLimit,
    /// sendCode and resendCode per test number an hour (FLOOD_TEST_PHONE_WAIT_X, D7).
    pub codes_per_test_phone: RateLimit,
    /// sendCode per auth key an hour (FLOOD_WAIT_X).
    pub codes_per_key: RateLimit,
    /// Codes sent to numbers other than test numbers, over the whole server an hour
    /// (FLOOD_WAIT_X): fresh keys and addresses cannot make a gateway send without end.
    pub codes_global: RateLimit,
    /// Sign-ups of numbers other than test numbers per client address an hour, and over the
    /// server (FLOOD_WAIT_X).
    pub signups_per_address: RateLimit,
    pub signups_global: RateLimit,
    /// Wrong cloud passwords (and wrong recovery and email codes) per account in a row: the
    /// growing wait (FLOOD_WAIT_X, AB-3) and the daily cap; a right one resets both.
    pub password_backoff: Backoff,
    pub password_failures_per_day: RateLimit,
    /// account.resetPassword's waiting period, and how long after a declined reset no new one
    /// may start (resetPasswordFailedWait), in seconds.
    pub password_reset_wait: i64,
    /// New accounts must set up a login email before their first code (sendCode answers
    /// auth.sentCodeTypeSetUpEmailRequired); off on test DCs.
    pub require_login_email: bool,
    /// auth.resetAuthorizations and account.resetAuthorization need the calling authorization
    /// to be at least this old (FRESH_RESET_AUTHORISATION_FORBIDDEN); 0 = never refused.
    pub fresh_reset_secs: i64,
    pub sender: Arc<dyn CodeSender>,
    /// The codes' digest key; `Server::bind` sets the data dir's (a random one otherwise).
    pub code_key: CodeKey,
}

impl std::fmt::Debug for LoginConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginConfig")
            .field("default_home_dc", &self.default_home_dc)
            .field("code_ttl", &self.code_ttl)
            .field("max_wrong_codes", &self.max_wrong_codes)
            .field("codes_per_phone", &self.codes_per_phone)
            .field("codes_per_phone_daily", &self.codes_per_phone_daily)
            .field("failed_sign_ins_per_phone", &self.failed_sign_ins_per_phone)
            .field("codes_per_address", &self.codes_per_address)
            .field(
                "failed_sign_ins_per_address",
                &self.failed_sign_ins_per_address,
            )
            .field("codes_per_test_phone", &self.codes_per_test_phone)
            .field("codes_per_key", &self.codes_per_key)
            .field("password_backoff", &self.password_backoff)
            .field("password_failures_per_day", &self.password_failures_per_day)
            .field("password_reset_wait", &self.password_reset_wait)
            .field("require_login_email", &self.require_login_email)
            .field("fresh_reset_secs", &self.fresh_reset_secs)
            .finish_non_exhaustive()
    }
}

pub const DEFAULT_CODE_TTL: i64 = 300;
pub const DEFAULT_MAX_WRONG_CODES: i32 = 5;
/// AB-2: "sendCode/resendCode ≤ ~5/h, ≤ 10/day, failed sign-ins ≤ 5/day" per phone.
pub const DEFAULT_CODES_PER_PHONE: i32 = 5;
pub const DEFAULT_CODES_PER_PHONE_DAILY: i32 = 10;
pub const DEFAULT_FAILED_SIGN_INS_PER_PHONE: i32 = 5;
/// Per client address: a few people behind one NAT, each logging in now and then.
pub const DEFAULT_CODES_PER_ADDRESS: i32 = 20;
pub const DEFAULT_FAILED_SIGN_INS_PER_ADDRESS: i32 = 20;
/// Test numbers: a CI suite logs the same ones in again and again.
pub const DEFAULT_CODES_PER_TEST_PHONE: i32 = 20;
pub const DEFAULT_CODES_PER_KEY: i32 = 50;
/// Over the server an hour (test numbers are outside both).
pub const DEFAULT_CODES_GLOBAL: i32 = 10_000;
pub const DEFAULT_SIGNUPS_GLOBAL: i32 = 1_000;
/// Per client address an hour: a family behind one NAT signing up.
pub const DEFAULT_SIGNUPS_PER_ADDRESS: i32 = 10;
/// AB-3: "after 3–5 failures exponential FLOOD_WAIT_X plus a daily cap", "well under 100
/// consecutive failures per account": 3 free, then 30 s, 60 s, … up to an hour; 20 a day.
pub const DEFAULT_PASSWORD_BACKOFF: Backoff = Backoff {
    free: 3,
    base: 30,
    max: 3600,
};
pub const DEFAULT_PASSWORD_FAILURES_PER_DAY: i32 = 20;
/// Telegram's: a forgotten password without a recovery email goes after a week.
pub const DEFAULT_PASSWORD_RESET_WAIT: i64 = 7 * 86_400;
/// `--dev-login-limits`: sends per phone an hour, and no daily, failure or address limits.
pub const DEVELOPMENT_CODES_PER_PHONE: i32 = 20;
pub const DEFAULT_FLOOD_WINDOW: i64 = 3600;
pub const DAY: i64 = 86_400;
/// Telegram refuses to end other sessions from one younger than a day.
pub const DEFAULT_FRESH_RESET_SECS: i64 = 86_400;

impl LoginConfig {
    /// The defaults, delivering codes through `sender`.
    pub fn new(sender: Arc<dyn CodeSender>) -> Self {
        let per = |limit, window| RateLimit { limit, window };
        LoginConfig {
            default_home_dc: 2,
            code_ttl: DEFAULT_CODE_TTL,
            max_wrong_codes: DEFAULT_MAX_WRONG_CODES,
            codes_per_phone: per(DEFAULT_CODES_PER_PHONE, DEFAULT_FLOOD_WINDOW),
            codes_per_phone_daily: per(DEFAULT_CODES_PER_PHONE_DAILY, DAY),
            failed_sign_ins_per_phone: per(DEFAULT_FAILED_SIGN_INS_PER_PHONE, DAY),
            codes_per_address: per(DEFAULT_CODES_PER_ADDRESS, DEFAULT_FLOOD_WINDOW),
            failed_sign_ins_per_address: per(DEFAULT_FAILED_SIGN_INS_PER_ADDRESS, DAY),
            codes_per_test_phone: per(DEFAULT_CODES_PER_TEST_PHONE, DEFAULT_FLOOD_WINDOW),
            codes_per_key: per(DEFAULT_CODES_PER_KEY, DEFAULT_FLOOD_WINDOW),
            codes_global: per(DEFAULT_CODES_GLOBAL, DEFAULT_FLOOD_WINDOW),
            signups_per_address: per(DEFAULT_SIGNUPS_PER_ADDRESS, DEFAULT_FLOOD_WINDOW),
            signups_global: per(DEFAULT_SIGNUPS_GLOBAL, DEFAULT_FLOOD_WINDOW),
            password_backoff: DEFAULT_PASSWORD_BACKOFF,
            password_failures_per_day: per(DEFAULT_PASSWORD_FAILURES_PER_DAY, DAY),
            password_reset_wait: DEFAULT_PASSWORD_RESET_WAIT,
            require_login_email: false,
            fresh_reset_secs: DEFAULT_FRESH_RESET_SECS,
            code_key: CodeKey::new(crate::rand::Rng::array(&mut crate::rand::OsRng)),
            sender,
        }
    }

    /// The looser limits of earlier versions, for development servers that log real-looking
    /// numbers in many times (`serve --dev-login-limits`): 20 codes an hour per number and no
    /// daily, failed-sign-in or address limits, so up to 100 guesses an hour per number. Never
    /// for a server that real accounts depend on.
    pub fn development(sender: Arc<dyn CodeSender>) -> Self {
        LoginConfig {
            codes_per_phone: RateLimit {
                limit: DEVELOPMENT_CODES_PER_PHONE,
                window: DEFAULT_FLOOD_WINDOW,
            },
            codes_per_phone_daily: RateLimit::OFF,
            failed_sign_ins_per_phone: RateLimit::OFF,
            codes_per_address: RateLimit::OFF,
            failed_sign_ins_per_address: RateLimit::OFF,
            signups_per_address: RateLimit::OFF,
            ..LoginConfig::new(sender)
        }
    }

    /// No flood limits at all (`serve --ephemeral`, for test suites that log in again and
    /// again): no code, failed-sign-in, key or password limits; the flags still apply on top.
    pub fn without_limits(sender: Arc<dyn CodeSender>) -> Self {
        LoginConfig {
            codes_per_phone: RateLimit::OFF,
            codes_per_test_phone: RateLimit::OFF,
            codes_per_key: RateLimit::OFF,
            codes_global: RateLimit::OFF,
            signups_global: RateLimit::OFF,
            password_backoff: Backoff::OFF,
            password_failures_per_day: RateLimit::OFF,
            ..LoginConfig::development(sender)
        }
    }

    /// The longest window of any counter: a counter older than this is dead (the sweep).
    pub fn longest_window(&self) -> i64 {
        [
            self.codes_per_phone,
            self.codes_per_phone_daily,
            self.failed_sign_ins_per_phone,
            self.codes_per_address,
            self.failed_sign_ins_per_address,
            self.codes_per_test_phone,
            self.codes_per_key,
            self.codes_global,
            self.signups_per_address,
            self.signups_global,
            self.password_failures_per_day,
        ]
        .iter()
        .map(|l| l.window)
        .max()
        .unwrap_or(DAY)
    }
}

/// A phone number as sendCode received it, normalized: digits only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone {
    pub digits: String,
    /// `99966XYYYY`: the test DC X it lives on (LG-2).
    pub test_dc: Option<i32>,
}

fn phone_invalid() -> RpcError {
    RpcError::new(406, "PHONE_NUMBER_INVALID")
}

/// ERRORS.md §5: strip `+`, spaces, dashes and brackets; then 5–15 digits. A test number's DC
/// must be one this server runs (D1: 406).
pub fn parse_phone(raw: &str, dcs: &[i32]) -> Result<Phone, RpcError> {
    let digits: String = raw
        .chars()
        .filter(|c| !matches!(c, '+' | ' ' | '-' | '(' | ')'))
        .collect();
    if !(5..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(phone_invalid());
    }
    let test_dc = match digits.strip_prefix("99966") {
        Some(rest) if digits.len() == 10 => {
            let dc = i32::from(rest.as_bytes()[0] - b'0');
            if !dcs.contains(&dc) {
                return Err(phone_invalid());
            }
            Some(dc)
        }
        _ => None,
    };
    Ok(Phone { digits, test_dc })
}

/// Digits of a login code.
pub const CODE_LEN: usize = 5;

/// The code for `phone`: X repeated for a test number (LG-2), else uniform random digits.
pub fn new_code(phone: &Phone, rng: &mut dyn Rng) -> String {
    if let Some(dc) = phone.test_dc {
        return dc.to_string().repeat(CODE_LEN);
    }
    random_digits(CODE_LEN as u32, rng)
}

/// `len` (at most 9) uniformly random decimal digits from the CSPRNG.
pub fn random_digits(len: u32, rng: &mut dyn Rng) -> String {
    // Rejection sampling keeps the digits uniform.
    let span = 10u32.pow(len.min(9));
    let limit = (u32::MAX / span) * span;
    loop {
        let mut b = [0u8; 4];
        rng.fill(&mut b);
        let n = u32::from_le_bytes(b);
        if n < limit {
            return format!("{:0width$}", n % span, width = len as usize);
        }
    }
}

/// A fresh phone_code_hash: 128 random bits as hex (LG-1).
pub fn new_code_hash(rng: &mut dyn Rng) -> String {
    let mut b = [0u8; 16];
    rng.fill(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The secret login codes are stored under (security review, item 5): kept outside the store
/// (`code.key` in the data dir, 0600), so that a copy of the store alone does not give away
/// live codes, which 10^5 guesses of a plain hash would. Wiped on drop; `Debug` hides it.
#[derive(Clone)]
pub struct CodeKey([u8; 32]);

impl CodeKey {
    pub fn new(bytes: [u8; 32]) -> Self {
        CodeKey(bytes)
    }

    /// A value derived from the secret for `label` and `data`: HMAC-SHA256(key, label ‖ 0 ‖
    /// data) (the new-password salts of `rpc::password`).
    pub fn derive(&self, label: &[u8], data: &[u8]) -> [u8; 32] {
        use hmac::{Hmac, KeyInit, Mac};
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0).expect("any key length");
        mac.update(label);
        mac.update(&[0]);
        mac.update(data);
        mac.finalize().into_bytes().into()
    }
}

impl Drop for CodeKey {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

impl std::fmt::Debug for CodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeKey(..)")
    }
}

/// What is stored of a code: HMAC-SHA256(key, phone_code_hash ‖ ':' ‖ code).
pub fn code_digest(key: &CodeKey, phone_code_hash: &str, code: &str) -> [u8; 32] {
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key.0).expect("any key length");
    mac.update(phone_code_hash.as_bytes());
    mac.update(b":");
    mac.update(code.trim().as_bytes());
    mac.finalize().into_bytes().into()
}

/// CH-1: the entered code against the stored digest, in constant time.
pub fn code_matches(
    key: &CodeKey,
    phone_code_hash: &str,
    entered: &str,
    stored: &[u8; 32],
) -> bool {
    bool::from(code_digest(key, phone_code_hash, entered).ct_eq(stored))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rand::SeededRng;

    #[test]
    fn phone_numbers_are_normalized_and_checked() {
        let dcs = [1, 2, 3];
        assert_eq!(
            parse_phone("+999 66-2 (1234)", &dcs).unwrap(),
            Phone {
                digits: "9996621234".into(),
                test_dc: Some(2)
            }
        );
        assert_eq!(parse_phone("15551234567", &dcs).unwrap().test_dc, None);
        // Eleven digits starting 99966 is not a test number.
        assert_eq!(parse_phone("99966212345", &dcs).unwrap().test_dc, None);
        for bad in [
            "",
            "1234",
            "1234567890123456",
            "12a45",
            "9996641234",
            "9996601234",
        ] {
            assert_eq!(parse_phone(bad, &dcs), Err(phone_invalid()), "{bad}");
        }
        assert!(parse_phone("9996641234", &[4]).is_ok());
    }

    #[test]
    fn test_numbers_get_their_dc_digit_and_others_random_codes() {
        let mut rng = SeededRng::new(1);
        let test = parse_phone("9996631234", &[1, 2, 3]).unwrap();
        assert_eq!(new_code(&test, &mut rng), "33333");
        let other = parse_phone("15551234567", &[1, 2, 3]).unwrap();
        let codes: std::collections::HashSet<String> =
            (0..50).map(|_| new_code(&other, &mut rng)).collect();
        assert!(codes.len() > 45);
        assert!(codes
            .iter()
            .all(|c| c.len() == 5 && c.bytes().all(|b| b.is_ascii_digit())));
        let hash = new_code_hash(&mut rng);
        assert_eq!(hash.len(), 32);
        let key = CodeKey::new([7; 32]);
        let stored = code_digest(&key, &hash, "12345");
        assert!(code_matches(&key, &hash, "12345", &stored));
        assert!(code_matches(&key, &hash, " 12345 ", &stored));
        assert!(!code_matches(&key, &hash, "12346", &stored));
        assert!(!code_matches(&key, "other", "12345", &stored));
        // Without the key the stored digest matches nothing: a store reader cannot try codes.
        assert!(!code_matches(
            &CodeKey::new([8; 32]),
            &hash,
            "12345",
            &stored
        ));
        let plain: [u8; 32] = <Sha256 as sha2::Digest>::digest(format!("{hash}:12345")).into();
        assert_ne!(stored, plain, "not the plain SHA-256 of the code");
        assert_eq!(format!("{key:?}"), "CodeKey(..)");
    }

    #[test]
    fn rate_limits_count_in_fixed_windows() {
        let limit = RateLimit {
            limit: 2,
            window: 100,
        };
        let c1 = limit.bump(None, 1000).unwrap();
        let c2 = limit.bump(Some(c1), 1010).unwrap();
        assert_eq!(c2.count, 2);
        assert_eq!(limit.bump(Some(c2), 1050), Err(50));
        assert_eq!(limit.bump(Some(c2), 1099), Err(1));
        assert_eq!(limit.bump(Some(c2), 1100).unwrap().count, 1);
        let mut c = None;
        for t in 0..1000 {
            c = Some(RateLimit::OFF.bump(c, 5).unwrap());
            let _ = t;
        }
        assert_eq!(c.unwrap().count, 1000);
    }
}
