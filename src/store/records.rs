//! The account records and their encodings (DB-4): one ordered key space, a one-byte table
//! prefix per record kind, big-endian integers in keys, and a version byte first in every
//! value, then TL-encoded fields (so one bounds-checked reader decodes them all).
//!
//! ```text
//! 'U' user_id                → User             'P' phone               → user_id
//! 'A' auth_key_id            → Authorization    'a' user_id auth_key_id → (index)
//! 'R' auth_key_id            → Revoked          'C' phone_code_hash     → PendingCode
//! 'F' counter kind  subject  → Counter          'W' user_id             → Password
//! 'Q' auth_key_id            → PasswordPending  'T' user_id             → HashedTokens
//! 'E' user_id                → PendingEmail     'V' user_id             → PendingEmail (recovery)
//! 'X' user_id                → HashedTokens (tmp passwords)
//! 'L' user_id                → Emails           'M' user_id purpose     → PendingEmail (verify)
//! 'K' SHA256(login token)    → LoginToken       'k' auth_key_id         → HashedTokens (its QR token)
//! 'D' user_id dc_id          → HashedTokens (authorizations exported for that DC)
//! 'B' bot user_id            → BotToken         'N' lowercase username  → user_id
//! 'G' SHA256(web token)      → WebToken
//! ```

use super::StoreError;
use crate::tl::{write_bytes, write_i32, write_i64, DecodeError, Reader};

const VERSION: u8 = 1;

/// A registered user [doc: constructor/user].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub access_hash: i64,
    /// Digits only, no `+`.
    pub phone: String,
    pub first_name: String,
    pub last_name: String,
    pub home_dc: i32,
    /// Unix time of sign-up.
    pub created: i64,
    /// A bot (`bots create`): no phone, a username, logs in with its token.
    pub bot: bool,
    /// "" for none.
    pub username: String,
}

/// A web login token minted by `mtproto-auth web-token` (auth.importWebTokenAuthorization),
/// kept under its SHA256; single use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebToken {
    pub user_id: i64,
    pub expires: i64,
}

/// A bot's login token `BOT_ID:SECRET` (auth.importBotAuthorization), kept as SHA256 of the
/// secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotToken {
    pub secret_hash: [u8; 32],
    pub created: i64,
    /// `bots revoke`: the token answers ACCESS_TOKEN_EXPIRED from then on.
    pub revoked: bool,
}

/// A logged-in auth key, as account.getAuthorizations shows it [doc: constructor/authorization].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub key_id: i64,
    pub user_id: i64,
    /// What account.resetAuthorization names it by (never 0: 0 is the current session).
    pub hash: i64,
    pub created: i64,
    pub active: i64,
    /// The client's address when it logged in.
    pub ip: String,
    pub dc_id: i32,
    pub api_id: i32,
    pub device_model: String,
    pub system_version: String,
    pub app_version: String,
    pub lang_code: String,
    /// The layer the key declared (invokeWithLayer, AC-3; 0: none): kept with the login so
    /// that it outlives a restart, and only for keys that logged in.
    pub layer: i32,
}

/// A user's cloud password (SR-2): the verifier and the algo's salts, nothing else of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Password {
    pub salt1: Vec<u8>,
    pub salt2: Vec<u8>,
    /// `v = g^x mod p`, 256 bytes.
    pub v: [u8; 256],
    pub hint: String,
    /// Random, new with every password: an srp_id issued for another one gets
    /// SRP_PASSWORD_CHANGED.
    pub id: i64,
    pub created: i64,
    /// The confirmed recovery email ("" for none).
    pub email: String,
    /// account.resetPassword asked for a reset that happens at this time (0: none pending).
    pub reset_at: i64,
    /// When a pending reset was last declined (0: never): no new one for a waiting period.
    pub reset_declined: i64,
}

/// A user's verified email addresses besides the recovery one [doc: api/auth "Email
/// verification"]: the login email codes go to ("" for none), and the one verified for
/// Telegram Passport.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Emails {
    pub login: String,
    pub passport: String,
}

/// A recovery email waiting for its code (account.confirmPasswordEmail): the code kept as
/// HMAC-SHA256 under code.key, like login codes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEmail {
    pub email: String,
    pub code_hash: [u8; 32],
    pub created: i64,
    pub expires: i64,
    pub wrong: i32,
}

/// A key whose code was right for an account with a password (AC-2): it may call only what an
/// unauthorized key may until auth.checkPassword logs it in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPending {
    pub user_id: i64,
    pub created: i64,
}

/// A token kept as its SHA256, with its expiry: a future auth token (LO-2: a later sendCode
/// that names it logs its user in without a code) or a temporary password
/// (account.getTmpPassword).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashedToken {
    pub hash: [u8; 32],
    pub expires: i64,
}

/// A user's future auth tokens (or tmp passwords), oldest first, in one record (one read and
/// one write a login).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HashedTokens(pub Vec<HashedToken>);

/// A QR login token (QR-1 … QR-3) [doc: api/qr-login], kept under its SHA256: exported by a
/// key for its DC, or made by loginTokenMigrateTo for import on the accepting user's DC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginToken {
    /// The exporting key (0 for an import token: any key of `dc_id` may import it).
    pub key_id: i64,
    pub api_id: i32,
    /// The DC the token is good on.
    pub dc_id: i32,
    pub created: i64,
    pub expires: i64,
    /// Users that may not accept it (`except_ids`).
    pub except_ids: Vec<i64>,
    /// The user that accepted it (0: not yet).
    pub accepted_by: i64,
    /// The new login's authorization hash, fixed when it is accepted.
    pub hash: i64,
    /// Used up by the login it made (kept until it expires, to say ALREADY_ACCEPTED).
    pub used: bool,
    /// What the exporter's client said, for the accepting session's answer.
    pub device_model: String,
    pub system_version: String,
    pub app_version: String,
    pub ip: String,
}

/// Where a login code was delivered [doc: type/auth.SentCodeType].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeKind {
    Sms,
    /// To the user's other logged-in sessions.
    App,
    /// To the login email (`PendingCode::email`).
    Email,
    /// None yet: the new account must set up a login email first; once
    /// account.sendVerifyEmailCode named one, `code_hash` is that address's verification code.
    SetUpEmail,
}

/// How far a login code has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeState {
    /// Waiting for auth.signIn.
    Sent,
    /// The right code came for a number without an account: auth.signUp may follow (LG-4).
    SignUpRequired,
}

/// A phone_code_hash and the code it stands for (LG-1, AB-1). The code is kept only as
/// SHA-256(hash ‖ code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingCode {
    pub phone: String,
    /// The key that asked; the hash is valid on it only.
    pub key_id: i64,
    pub code_hash: [u8; 32],
    pub code_len: i32,
    pub created: i64,
    pub expires: i64,
    /// Wrong codes tried so far.
    pub wrong: i32,
    /// Times the code was sent (sendCode and each resendCode).
    pub sends: i32,
    pub kind: CodeKind,
    pub state: CodeState,
    /// The email address of an `Email` or `SetUpEmail` code ("" otherwise).
    pub email: String,
}

/// A fixed-window event counter (AB-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    pub window_start: i64,
    pub count: i32,
}

pub fn user_key(id: i64) -> Vec<u8> {
    int_key(b'U', id)
}

pub fn phone_key(phone: &str) -> Vec<u8> {
    [&[b'P'][..], phone.as_bytes()].concat()
}

pub fn authorization_key(key_id: i64) -> Vec<u8> {
    int_key(b'A', key_id)
}

/// The index entry listing `key_id` among `user_id`'s authorizations.
pub fn user_authorization_key(user_id: i64, key_id: i64) -> Vec<u8> {
    let mut k = int_key(b'a', user_id);
    k.extend_from_slice(&key_id.to_be_bytes());
    k
}

/// The prefix of every index entry of `user_id`.
pub fn user_authorizations_prefix(user_id: i64) -> Vec<u8> {
    int_key(b'a', user_id)
}

pub fn revoked_key(key_id: i64) -> Vec<u8> {
    int_key(b'R', key_id)
}

pub fn password_key(user_id: i64) -> Vec<u8> {
    int_key(b'W', user_id)
}

pub fn password_pending_key(key_id: i64) -> Vec<u8> {
    int_key(b'Q', key_id)
}

pub fn pending_email_key(user_id: i64) -> Vec<u8> {
    int_key(b'E', user_id)
}

pub fn login_token_key(token_hash: &[u8; 32]) -> Vec<u8> {
    [&[b'K'][..], token_hash].concat()
}

pub fn key_login_token_key(key_id: i64) -> Vec<u8> {
    int_key(b'k', key_id)
}

pub fn exported_auth_key(user_id: i64, dc_id: i32) -> Vec<u8> {
    let mut k = int_key(b'D', user_id);
    k.extend_from_slice(&dc_id.to_be_bytes());
    k
}

pub fn web_token_key(token_hash: &[u8; 32]) -> Vec<u8> {
    [&[b'G'][..], token_hash].concat()
}

pub fn bot_token_key(bot_id: i64) -> Vec<u8> {
    int_key(b'B', bot_id)
}

/// Usernames are unique whatever their case.
pub fn username_key(username: &str) -> Vec<u8> {
    [&[b'N'][..], username.to_ascii_lowercase().as_bytes()].concat()
}

pub fn recovery_code_key(user_id: i64) -> Vec<u8> {
    int_key(b'V', user_id)
}

pub fn tmp_passwords_key(user_id: i64) -> Vec<u8> {
    int_key(b'X', user_id)
}

pub fn emails_key(user_id: i64) -> Vec<u8> {
    int_key(b'L', user_id)
}

/// The email being verified for `purpose` (1: login change, 2: passport).
pub fn email_verify_key(user_id: i64, purpose: u8) -> Vec<u8> {
    let mut k = int_key(b'M', user_id);
    k.push(purpose);
    k
}

pub fn future_tokens_key(user_id: i64) -> Vec<u8> {
    int_key(b'T', user_id)
}

pub fn code_key(phone_code_hash: &str) -> Vec<u8> {
    [&[b'C'][..], phone_code_hash.as_bytes()].concat()
}

/// The table of users, for listing.
pub const USERS_PREFIX: &[u8] = b"U";
/// The table of authorizations, for listing.
pub const AUTHORIZATIONS_PREFIX: &[u8] = b"A";

/// A counter: `kind` names what is counted, `subject` whose it is.
pub fn counter_key(kind: u8, subject: &[u8]) -> Vec<u8> {
    [&[b'F', kind][..], subject].concat()
}

fn int_key(table: u8, id: i64) -> Vec<u8> {
    let mut k = Vec::with_capacity(17);
    k.push(table);
    k.extend_from_slice(&id.to_be_bytes());
    k
}

/// Decodes a value: its version byte, then `fields`, then nothing more.
fn decode<T>(
    what: &str,
    v: &[u8],
    fields: impl FnOnce(&mut Reader<'_>) -> Result<T, DecodeError>,
) -> Result<T, StoreError> {
    let bad = |e: String| StoreError(format!("{what} record: {e}"));
    match v.split_first() {
        Some((&VERSION, rest)) => {
            let mut r = Reader::new(rest);
            let value = fields(&mut r).map_err(|e| bad(e.to_string()))?;
            r.finish().map_err(|e| bad(e.to_string()))?;
            Ok(value)
        }
        Some((other, _)) => Err(bad(format!("unknown version {other}"))),
        None => Err(bad("empty value".into())),
    }
}

fn begin() -> Vec<u8> {
    vec![VERSION]
}

impl User {
    pub fn encode(&self) -> Vec<u8> {
        let mut v = begin();
        write_i64(&mut v, self.id);
        write_i64(&mut v, self.access_hash);
        write_bytes(&mut v, self.phone.as_bytes());
        write_bytes(&mut v, self.first_name.as_bytes());
        write_bytes(&mut v, self.last_name.as_bytes());
        write_i32(&mut v, self.home_dc);
        write_i64(&mut v, self.created);
        write_i32(&mut v, i32::from(self.bot));
        write_bytes(&mut v, self.username.as_bytes());
        v
    }

    pub fn decode(v: &[u8]) -> Result<Self, StoreError> {
        decode("user", v, |r| {
            Ok(User {
                id: r.read_i64()?,
                access_hash: r.read_i64()?,
                phone: r.read_string()?,
                first_name: r.read_string()?,
                last_name: r.read_string()?,
                home_dc: r.read_i32()?,
                created: r.read_i64()?,
                // Fields added later: absent in older records.
                bot: r.remaining() > 0 && r.read_i32()? != 0,
                username: if r.remaining() > 0 {
                    r.read_string()?
                } else {
                    String::new()
                },
            })
        })
    }
}

impl WebToken {
    pub fn encode(&self) -> Vec<u8> {
        let mut v = begin();
        write_i64(&mut v, self.user_id);
        write_i64(&mut v, self.expires);
        v
    }

    pub fn decode(v: &[u8]) -> Result<Self, StoreError> {
        decode("web token", v, |r| {
            Ok(WebToken {
                user_id: r.read_i64()?,
                expires: r.read_i64()?,
            })
        })
    }
}

impl BotToken {
    pub fn encode(&self) -> Vec<u8> {
        let mut v = begin();
        v.extend_from_slice(&self.secret_hash);
        write_i64(&mut v, self.created);
        write_i32(&mut v, i32::from(self.revoked));
        v
    }

    pub fn decode(v: &[u8]) -> Result<Self, StoreError> {
        decode("bot token", v, |r| {
            Ok(BotToken {
                secret_hash: r.read_int256()?,
                created: r.read_i64()?,
                revoked: r.read_i32()? != 0,
            })
        })
    }
}

impl Authorization {
    /// A login made at `at` with no client fields (tests).
    #[cfg(test)]
    pub fn bare(key_id: i64, user_id: i64, at: i64, dc_id: i32) -> Self {
        Authorization {
            key_id,
            user_id,
            hash: 1,
            created: at,
            active: at,
            ip: String::new(),
            dc_id,
            api_id: 1,
            device_model: String::new(),
            system_version: String::new(),
            app_version: String::new(),
            lang_code: String::new(),
            layer: 0,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut v = begin();
        for n in [
            self.key_id,
            self.user_id,
            self.hash,
            self.created,
            self.active,
        ] {
            write_i64(&mut v, n);
        }
        write_bytes(&mut v, self.ip.as_bytes());
        write_i32(&mut v, self.dc_id);
        write_i32(&mut v, self.api_id);
        for s in [
            &self.device_model,
            &self.system_version,
            &self.app_version,
            &self.lang_code,
        ] {
            write_bytes(&mut v, s.as_bytes());
        }
        write_i32(&mut v, self.layer);
        v
    }

    pub fn decode(v: &[u8]) -> Result<Self, StoreError> {
        decode("authorization", v, |r| {
            Ok(Authorization {
                key_id: r.read_i64()?,
                user_id: r.read_i64()?,
                hash: r.read_i64()?,
                created: r.read_i64()?,
                active: r.read_i64()?,
                ip: r.read_string()?,
                dc_id: r.read_i32()?,
                api_id: r.read_i32()?,
                device_model: r.read_string()?,
                system_version: r.read_string()?,
                app_version: r.read_string()?,
                lang_code: r.read_string()?,
                // Absent in records written before the layer was kept here.
                layer: if r.remaining() > 0 { r.read_i32()? } else { 0 },
            })
        })
    }
}

impl Password {
    pub fn encode(&self) -> Vec<u8> {
        let mut v = begin();
        write_bytes(&mut v, &self.salt1);
        write_bytes(&mut v, &self.salt2);
        v.extend_from_slice(&self.v);
        write_bytes(&mut v, self.hint.as_bytes());
        write_i64(&mut v, self.id);
        write_i64(&mut v, self.created);
        write_bytes(&mut v, self.email.as_bytes());
        write_i64(&mut v, self.reset_at);
        write_i64(&mut v, self.reset_declined);
        v
    }

    pub fn decode(v: &[u8]) -> Result<Self, StoreError> {
        decode("password", v, |r| {
            let salt1 = r.read_bytes()?;
            let salt2 = r.read_bytes()?;
            let v = r.read_slice(256)?.try_into().expect("256 bytes read");
            Ok(Password {
                salt1,
                salt2,
                v,
                hint: r.read_string()?,
                id: r.read_i64()?,
                created: r.read_i64()?,
                // Fields added later: absent in older records.
                email: if r.remaining() > 0 {
                    r.read_string()?
                } else {
                    String::new()
                },
                reset_at: if r.remaining() > 0 { r.read_i64()? } else { 0 },
                reset_declined: if r.remaining() > 0 { r.read_i64()? } else { 0 },
            })
        })
    }
}

impl LoginToken {
    pub fn encode(&self) -> Vec<u8> {
        let mut v = begin();
        write_i64(&mut v, self.key_id);
        write_i32(&mut v, self.api_id);
        write_i32(&mut v, self.dc_id);
        write_i64(&mut v, self.created);
        write_i64(&mut v, self.expires);
        v.extend_from_slice(&(self.except_ids.len() as u32).to_le_bytes());
        for id in &self.except_ids {
            write_i64(&mut v, *id);
        }
        write_i64(&mut v, self.accepted_by);
        write_i64(&mut v, self.hash);
        write_i32(&mut v, i32::from(self.used));
        for s in [
            &self.device_model,
            &self.system_version,
            &self.app_version,
            &self.ip,
        ] {
            write_bytes(&mut v, s.as_bytes());
        }
        v
    }

    pub fn decode(v: &[u8]) -> Result<Self, StoreError> {
        decode("login token", v, |r| {
            let key_id = r.read_i64()?;
            let api_id = r.read_i32()?;
            let dc_id = r.read_i32()?;
            let created = r.read_i64()?;
            let expires = r.read_i64()?;
            let n = r.read_bare_vector_len(8)?;
            let except_ids = (0..n).map(|_| r.read_i64()).collect::<Result<_, _>>()?;
            Ok(LoginToken {
                key_id,
                api_id,
                dc_id,
                created,
                expires,
                except_ids,
                accepted_by: r.read_i64()?,
                hash: r.read_i64()?,
                used: r.read_i32()? != 0,
                device_model: r.read_string()?,
                system_version: r.read_string()?,
                app_version: r.read_string()?,
                ip: r.read_string()?,
            })
        })
    }
}

impl Emails {
    pub fn encode(&self) -> Vec<u8> {
        let mut v = begin();
        write_bytes(&mut v, self.login.as_bytes());
        write_bytes(&mut v, self.passport.as_bytes());
        v
    }

    pub fn decode(v: &[u8]) -> Result<Self, StoreError> {
        decode("emails", v, |r| {
            Ok(Emails {
                login: r.read_string()?,
                passport: r.read_string()?,
            })
        })
    }
}

impl PendingEmail {
    pub fn encode(&self) -> Vec<u8> {
        let mut v = begin();
        write_bytes(&mut v, self.email.as_bytes());
        v.extend_from_slice(&self.code_hash);
        write_i64(&mut v, self.created);
        write_i64(&mut v, self.expires);
        write_i32(&mut v, self.wrong);
        v
    }

    pub fn decode(v: &[u8]) -> Result<Self, StoreError> {
        decode("pending email", v, |r| {
            Ok(PendingEmail {
                email: r.read_string()?,
                code_hash: r.read_slice(32)?.try_into().expect("32 bytes read"),
                created: r.read_i64()?,
                expires: r.read_i64()?,
                wrong: r.read_i32()?,
            })
        })
    }
}

impl HashedTokens {
    /// count ‖ (hash ‖ expires) × count.
    pub fn encode(&self) -> Vec<u8> {
        let mut v = begin();
        v.extend_from_slice(&(self.0.len() as u32).to_le_bytes());
        for t in &self.0 {
            v.extend_from_slice(&t.hash);
            write_i64(&mut v, t.expires);
        }
        v
    }

    pub fn decode(v: &[u8]) -> Result<Self, StoreError> {
        decode("future tokens", v, |r| {
            let n = r.read_u32()?;
            if n as usize > r.remaining() / 40 {
                return Err(DecodeError {
                    offset: 0,
                    kind: crate::tl::DecodeErrorKind::VectorTooLong {
                        count: n,
                        remaining: r.remaining(),
                    },
                });
            }
            (0..n)
                .map(|_| {
                    Ok(HashedToken {
                        hash: r.read_slice(32)?.try_into().expect("32 bytes read"),
                        expires: r.read_i64()?,
                    })
                })
                .collect::<Result<Vec<_>, DecodeError>>()
                .map(HashedTokens)
        })
    }
}

impl PasswordPending {
    pub fn encode(&self) -> Vec<u8> {
        let mut v = begin();
        write_i64(&mut v, self.user_id);
        write_i64(&mut v, self.created);
        v
    }

    pub fn decode(v: &[u8]) -> Result<Self, StoreError> {
        decode("password pending", v, |r| {
            Ok(PasswordPending {
                user_id: r.read_i64()?,
                created: r.read_i64()?,
            })
        })
    }
}

impl PendingCode {
    pub fn encode(&self) -> Vec<u8> {
        let mut v = begin();
        write_bytes(&mut v, self.phone.as_bytes());
        write_i64(&mut v, self.key_id);
        v.extend_from_slice(&self.code_hash);
        for n in [self.code_len, self.wrong, self.sends] {
            write_i32(&mut v, n);
        }
        write_i64(&mut v, self.created);
        write_i64(&mut v, self.expires);
        let kind = match self.kind {
            CodeKind::Sms => 0,
            CodeKind::App => 1,
            CodeKind::Email => 2,
            CodeKind::SetUpEmail => 3,
        };
        let state = match self.state {
            CodeState::Sent => 0,
            CodeState::SignUpRequired => 1,
        };
        write_i32(&mut v, kind);
        write_i32(&mut v, state);
        write_bytes(&mut v, self.email.as_bytes());
        v
    }

    pub fn decode(v: &[u8]) -> Result<Self, StoreError> {
        decode("pending code", v, |r| {
            let phone = r.read_string()?;
            let key_id = r.read_i64()?;
            let code_hash = r.read_int256()?;
            let (code_len, wrong, sends) = (r.read_i32()?, r.read_i32()?, r.read_i32()?);
            let (created, expires) = (r.read_i64()?, r.read_i64()?);
            let kind = match r.read_i32()? {
                0 => CodeKind::Sms,
                1 => CodeKind::App,
                2 => CodeKind::Email,
                3 => CodeKind::SetUpEmail,
                other => return Err(r.unknown_constructor(other as u32)),
            };
            let state = match r.read_i32()? {
                0 => CodeState::Sent,
                1 => CodeState::SignUpRequired,
                other => return Err(r.unknown_constructor(other as u32)),
            };
            Ok(PendingCode {
                phone,
                key_id,
                code_hash,
                code_len,
                created,
                expires,
                wrong,
                sends,
                kind,
                state,
                email: if r.remaining() > 0 {
                    r.read_string()?
                } else {
                    String::new()
                },
            })
        })
    }
}

impl Counter {
    pub fn encode(&self) -> Vec<u8> {
        let mut v = begin();
        write_i64(&mut v, self.window_start);
        write_i32(&mut v, self.count);
        v
    }

    pub fn decode(v: &[u8]) -> Result<Self, StoreError> {
        decode("counter", v, |r| {
            Ok(Counter {
                window_start: r.read_i64()?,
                count: r.read_i32()?,
            })
        })
    }
}

/// A user id or time stored alone (the phone index, the revoked mark).
pub fn encode_i64(n: i64) -> Vec<u8> {
    let mut v = begin();
    write_i64(&mut v, n);
    v
}

pub fn decode_i64(what: &str, v: &[u8]) -> Result<i64, StoreError> {
    decode(what, v, |r| r.read_i64())
}

/// The value of an index entry: nothing but the version byte.
pub fn index_value() -> Vec<u8> {
    begin()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code() -> PendingCode {
        PendingCode {
            phone: "9996621234".into(),
            key_id: -5,
            code_hash: [3; 32],
            code_len: 5,
            created: 10,
            expires: 20,
            wrong: 2,
            sends: 1,
            kind: CodeKind::Email,
            state: CodeState::SignUpRequired,
            email: "a@b.c".into(),
        }
    }

    #[test]
    fn every_record_round_trips_and_refuses_damage() {
        let user = User {
            bot: true,
            username: "a_bot".into(),
            id: 1 << 40,
            access_hash: -1,
            phone: "9996621234".into(),
            first_name: "Ann".into(),
            last_name: "Ö".into(),
            home_dc: 2,
            created: 7,
        };
        let auth = Authorization {
            key_id: i64::MIN,
            user_id: 1,
            hash: 9,
            created: 1,
            active: 2,
            ip: "127.0.0.1".into(),
            dc_id: 2,
            api_id: 6,
            device_model: "pc".into(),
            system_version: "linux".into(),
            app_version: "1.0".into(),
            lang_code: "en".into(),
            layer: 229,
        };
        let counter = Counter {
            window_start: 100,
            count: 3,
        };
        assert_eq!(User::decode(&user.encode()).unwrap(), user);
        assert_eq!(Authorization::decode(&auth.encode()).unwrap(), auth);
        let password = Password {
            salt1: vec![1; 40],
            salt2: vec![2; 16],
            v: [3; 256],
            hint: "pet".into(),
            id: -4,
            created: 5,
            email: "a@b.c".into(),
            reset_at: 9,
            reset_declined: 10,
        };
        let emails = Emails {
            login: "l@b.c".into(),
            passport: "p@b.c".into(),
        };
        assert_eq!(Emails::decode(&emails.encode()).unwrap(), emails);
        let token = LoginToken {
            key_id: -3,
            api_id: 6,
            dc_id: 2,
            created: 1,
            expires: 31,
            except_ids: vec![7, -8],
            accepted_by: 9,
            hash: -10,
            used: true,
            device_model: "pc".into(),
            system_version: "linux".into(),
            app_version: "1.0".into(),
            ip: "127.0.0.1".into(),
        };
        assert_eq!(LoginToken::decode(&token.encode()).unwrap(), token);
        let web = WebToken {
            user_id: 4,
            expires: 5,
        };
        assert_eq!(WebToken::decode(&web.encode()).unwrap(), web);
        let bot = BotToken {
            secret_hash: [1; 32],
            created: 2,
            revoked: true,
        };
        assert_eq!(BotToken::decode(&bot.encode()).unwrap(), bot);
        let mut lying = token.encode();
        lying[1 + 8 + 4 + 4 + 8 + 8] = 0xff;
        assert!(
            LoginToken::decode(&lying).is_err(),
            "a count past the bytes is refused"
        );
        // Records written before the fields that came later still read.
        let mut old_password = password.encode();
        old_password.truncate(old_password.len() - 16);
        let read = Password::decode(&old_password).unwrap();
        assert_eq!((read.reset_at, read.reset_declined), (0, 0));
        let mut old_code = code().encode();
        old_code.truncate(old_code.len() - 8);
        assert_eq!(PendingCode::decode(&old_code).unwrap().email, "");
        let pending_email = PendingEmail {
            email: "a@b.c".into(),
            code_hash: [6; 32],
            created: 7,
            expires: 8,
            wrong: 1,
        };
        assert_eq!(
            PendingEmail::decode(&pending_email.encode()).unwrap(),
            pending_email
        );
        assert_eq!(Password::decode(&password.encode()).unwrap(), password);
        assert!(Password::decode(&password.encode()[..300]).is_err());
        let pending = PasswordPending {
            user_id: 6,
            created: 7,
        };
        assert_eq!(PasswordPending::decode(&pending.encode()).unwrap(), pending);
        let tokens = HashedTokens(vec![
            HashedToken {
                hash: [8; 32],
                expires: 9,
            },
            HashedToken {
                hash: [10; 32],
                expires: 11,
            },
        ]);
        assert_eq!(HashedTokens::decode(&tokens.encode()).unwrap(), tokens);
        assert!(HashedTokens::decode(&tokens.encode()[..50]).is_err());
        // A record from before the layer was kept: layer 0.
        let old = auth.encode();
        let old = Authorization::decode(&old[..old.len() - 4]).unwrap();
        assert_eq!(
            old,
            Authorization {
                layer: 0,
                ..auth.clone()
            }
        );
        assert_eq!(PendingCode::decode(&code().encode()).unwrap(), code());
        assert_eq!(Counter::decode(&counter.encode()).unwrap(), counter);
        assert_eq!(decode_i64("x", &encode_i64(-3)).unwrap(), -3);
        for bytes in [user.encode(), auth.encode(), code().encode()] {
            let mut other_version = bytes.clone();
            other_version[0] = 2;
            assert!(User::decode(&other_version).is_err());
            assert!(Authorization::decode(&bytes[..bytes.len() - 1]).is_err());
            let mut longer = bytes.clone();
            longer.extend_from_slice(&[0; 4]);
            assert!(PendingCode::decode(&longer).is_err());
        }
        assert!(Counter::decode(&[]).is_err());
        let mut bad_state = code().encode();
        // The state is the i32 before the email ("a@b.c": 8 bytes as a TL string).
        let n = bad_state.len();
        bad_state[n - 8 - 4] = 9;
        assert!(PendingCode::decode(&bad_state).is_err());
    }

    #[test]
    fn keys_sort_by_table_then_big_endian_id() {
        assert!(user_key(1) < user_key(2));
        assert!(user_key(255) < user_key(256));
        assert!(user_authorization_key(7, i64::MAX).starts_with(&user_authorizations_prefix(7)));
        assert!(!user_authorization_key(8, 1).starts_with(&user_authorizations_prefix(7)));
        assert_ne!(counter_key(b'p', b"1"), counter_key(b'k', b"1"));
    }
}
