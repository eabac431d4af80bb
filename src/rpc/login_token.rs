//! QR login (QR-1 … QR-3) [doc: api/qr-login; method/auth.exportLoginToken,
//! auth.acceptLoginToken, auth.importLoginToken]. A key that is not logged in exports a token
//! (32 random bytes, kept as SHA256, bound to the key, its DC and api_id, good for 30 s; a new
//! export replaces the key's previous token); the app shows it as `tg://login?token=<base64url>`.
//! A logged-in session accepts it (durably, before it answers) and the exporter is told by an
//! `updateLoginToken`; its next exportLoginToken logs it in (`auth.loginTokenSuccess`), or, when
//! the accepting user lives on another DC, answers `auth.loginTokenMigrateTo` with a new token
//! that auth.importLoginToken takes there. An account with a password ends in 401
//! SESSION_PASSWORD_NEEDED and auth.checkPassword, as a code login does. Tokens are single use.

use super::auth::{log_in_or_wait, nonzero_i64, with_retries};
use super::{notify, Caller, RpcContext, RpcError};
use crate::crypto::sha256;
use crate::rand::Rng;
use crate::store::accounts::{Accounts, BatchExt, Read};
use crate::store::records::{
    key_login_token_key, login_token_key, HashedToken, HashedTokens, LoginToken, User,
};
use crate::store::{Batch, Commit};
use crate::tl::{enums, functions, types};

/// Seconds a token can be accepted in (Telegram's QR codes change every 30 s).
pub const TOKEN_TTL: i64 = 30;
/// Seconds an accepted token waits for its exporter's next exportLoginToken.
const ACCEPTED_TTL: i64 = 120;
/// The longest token looked up: ours are 32 bytes.
const MAX_TOKEN_LEN: usize = 64;
/// `except_ids` kept per token (Telegram's clients send the accounts already logged in).
const MAX_EXCEPT_IDS: usize = 64;

fn invalid() -> RpcError {
    RpcError::new(400, "AUTH_TOKEN_INVALID")
}

fn expired() -> RpcError {
    RpcError::new(400, "AUTH_TOKEN_EXPIRED")
}

fn already_accepted() -> RpcError {
    RpcError::new(400, "AUTH_TOKEN_ALREADY_ACCEPTED")
}

fn applied(c: Commit) -> bool {
    matches!(c, Commit::Applied { .. })
}

/// The SHA256 a token is kept under, for a token of a plausible length.
fn token_hash(token: &[u8]) -> Result<[u8; 32], RpcError> {
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Err(invalid());
    }
    Ok(sha256(&[token]))
}

fn new_token(rng: &mut dyn Rng) -> ([u8; 32], [u8; 32]) {
    let mut token = [0u8; 32];
    rng.fill(&mut token);
    (token, sha256(&[&token]))
}

/// The index entry naming the key's token.
fn index(hash: [u8; 32], expires: i64) -> Vec<u8> {
    HashedTokens(vec![HashedToken { hash, expires }]).encode()
}

/// A key's exported token: the index entry naming it, its hash, and the token if it is still
/// stored.
struct KeyToken {
    entry: Read<HashedTokens>,
    hash: [u8; 32],
    token: Option<Read<LoginToken>>,
}

fn token_of_key(acc: &Accounts<'_>, key_id: i64) -> Result<Option<KeyToken>, RpcError> {
    let Some(entry) = acc.key_login_token(key_id)? else {
        return Ok(None);
    };
    let Some(hash) = entry.value.0.first().map(|t| t.hash) else {
        return Ok(Some(KeyToken {
            entry,
            hash: [0; 32],
            token: None,
        }));
    };
    let token = acc.login_token(&hash)?;
    Ok(Some(KeyToken { entry, hash, token }))
}

/// auth.exportLoginToken (QR-1, QR-3): the login once the key's token was accepted, else a new
/// token.
pub fn export(
    ctx: &RpcContext<'_>,
    rng: &mut dyn Rng,
    req: &functions::auth::ExportLoginToken,
) -> Result<enums::auth::LoginToken, RpcError> {
    if req.api_id <= 0 || req.api_hash.is_empty() {
        return Err(RpcError::new(400, "API_ID_INVALID"));
    }
    let acc = Accounts::new(ctx.store);
    let now = i64::from(ctx.now);
    with_retries(|| {
        let held = token_of_key(&acc, ctx.key_id)?;
        let mut b = Batch::default();
        let entry_raw = held.as_ref().map(|k| k.entry.raw.clone());
        if let Some(KeyToken {
            hash,
            token: Some(token),
            ..
        }) = &held
        {
            let t = &token.value;
            if t.accepted_by != 0 && !t.used && t.expires > now {
                return finish(ctx, rng, &acc, (hash, token), b);
            }
            // Not accepted (or spent): the new token replaces it.
            if t.accepted_by == 0 {
                b.swap(login_token_key(hash), Some(&token.raw), None);
            }
        }
        let (token, hash) = new_token(rng);
        let expires = now + TOKEN_TTL;
        let record = LoginToken {
            key_id: ctx.key_id,
            api_id: req.api_id,
            dc_id: ctx.this_dc,
            created: now,
            expires,
            except_ids: req
                .except_ids
                .iter()
                .take(MAX_EXCEPT_IDS)
                .copied()
                .collect(),
            accepted_by: 0,
            hash: 0,
            used: false,
            device_model: ctx.client.device_model.clone(),
            system_version: ctx.client.system_version.clone(),
            app_version: ctx.client.app_version.clone(),
            ip: ctx.peer.to_string(),
        };
        b.swap(
            key_login_token_key(ctx.key_id),
            entry_raw.as_deref(),
            Some(index(hash, expires)),
        );
        b.swap(login_token_key(&hash), None, Some(record.encode()));
        Ok(applied(acc.commit(&b)?).then(|| {
            types::auth::LoginToken {
                expires: expires as i32,
                token: token.to_vec(),
            }
            .into()
        }))
    })
}

/// The exporter comes back for its accepted token: logged in here, or sent to the user's DC
/// with a token to import there.
fn finish(
    ctx: &RpcContext<'_>,
    rng: &mut dyn Rng,
    acc: &Accounts<'_>,
    (hash, token): (&[u8; 32], &Read<LoginToken>),
    mut b: Batch,
) -> Result<Option<enums::auth::LoginToken>, RpcError> {
    let t = &token.value;
    let user = acc.user(t.accepted_by)?.ok_or_else(invalid)?;
    let used = LoginToken {
        used: true,
        ..t.clone()
    };
    b.swap(login_token_key(hash), Some(&token.raw), Some(used.encode()));
    b.delete(key_login_token_key(ctx.key_id));
    if user.home_dc != ctx.this_dc {
        let (import, import_hash) = new_token(rng);
        let now = i64::from(ctx.now);
        let for_import = LoginToken {
            key_id: 0,
            dc_id: user.home_dc,
            created: now,
            expires: now + TOKEN_TTL,
            ..t.clone()
        };
        b.swap(
            login_token_key(&import_hash),
            None,
            Some(for_import.encode()),
        );
        if !applied(acc.commit(&b)?) {
            return Ok(None);
        }
        tracing::info!(
            user_id = user.id,
            dc = user.home_dc,
            "QR login continues on the user's DC"
        );
        return Ok(Some(
            types::auth::LoginTokenMigrateTo {
                dc_id: user.home_dc,
                token: import.to_vec(),
            }
            .into(),
        ));
    }
    complete(ctx, rng, acc, &user, t.hash, b)
}

/// The login an accepted token makes on this key, in `b` with the token's use: the key waits
/// for the password (401 SESSION_PASSWORD_NEEDED) when the account has one.
fn complete(
    ctx: &RpcContext<'_>,
    rng: &mut dyn Rng,
    acc: &Accounts<'_>,
    user: &User,
    hash: i64,
    b: Batch,
) -> Result<Option<enums::auth::LoginToken>, RpcError> {
    let login = log_in_or_wait(ctx, rng, acc, user, Some(hash), b, "QR token")?;
    Ok(login.map(|authorization| {
        tracing::info!(user_id = user.id, "logged in by QR code");
        types::auth::LoginTokenSuccess { authorization }.into()
    }))
}

/// auth.acceptLoginToken (QR-2): a logged-in session accepts another app's token; the answer
/// describes the session that logs in.
pub fn accept(
    ctx: &RpcContext<'_>,
    rng: &mut dyn Rng,
    caller: &Caller,
    req: &functions::auth::AcceptLoginToken,
) -> Result<enums::Authorization, RpcError> {
    let hash = token_hash(&req.token)?;
    let acc = Accounts::new(ctx.store);
    let now = i64::from(ctx.now);
    let accepted = with_retries(|| {
        let token = acc.login_token(&hash)?.ok_or_else(invalid)?;
        let t = &token.value;
        // Import tokens are the second half of a login already accepted.
        if t.key_id == 0 {
            return Err(invalid());
        }
        if t.accepted_by != 0 || t.used {
            return Err(already_accepted());
        }
        if t.expires <= now {
            return Err(expired());
        }
        if t.except_ids.contains(&caller.user.id) {
            return Err(invalid());
        }
        let accepted = LoginToken {
            accepted_by: caller.user.id,
            hash: nonzero_i64(rng),
            expires: now + ACCEPTED_TTL,
            ..t.clone()
        };
        let mut b = Batch::default();
        b.swap(
            login_token_key(&hash),
            Some(&token.raw),
            Some(accepted.encode()),
        );
        // The exporter's index lives as long as the token.
        if let Some(entry) = acc.key_login_token(t.key_id)? {
            if entry.value.0.first().is_some_and(|e| e.hash == hash) {
                b.swap(
                    key_login_token_key(t.key_id),
                    Some(&entry.raw),
                    Some(index(hash, accepted.expires)),
                );
            }
        }
        Ok(applied(acc.commit(&b)?).then_some(accepted))
    })?;
    tracing::info!(user_id = caller.user.id, "QR login token accepted");
    notify::login_token(ctx, accepted.key_id);
    Ok(types::Authorization {
        current: false,
        official_app: false,
        password_pending: false,
        encrypted_requests_disabled: false,
        call_requests_disabled: false,
        unconfirmed: false,
        hash: accepted.hash,
        device_model: accepted.device_model,
        platform: String::new(),
        system_version: accepted.system_version,
        api_id: accepted.api_id,
        app_name: String::new(),
        app_version: accepted.app_version,
        date_created: ctx.now,
        date_active: ctx.now,
        ip: accepted.ip,
        country: String::new(),
        region: String::new(),
    }
    .into())
}

/// auth.importLoginToken (QR-3): the token loginTokenMigrateTo handed out, on the user's DC.
pub fn import(
    ctx: &RpcContext<'_>,
    rng: &mut dyn Rng,
    req: &functions::auth::ImportLoginToken,
) -> Result<enums::auth::LoginToken, RpcError> {
    let hash = token_hash(&req.token)?;
    let acc = Accounts::new(ctx.store);
    let now = i64::from(ctx.now);
    with_retries(|| {
        let token = acc.login_token(&hash)?.ok_or_else(invalid)?;
        let t = &token.value;
        if t.key_id != 0 || t.accepted_by == 0 {
            return Err(invalid());
        }
        if t.used {
            return Err(already_accepted());
        }
        if t.expires <= now {
            return Err(expired());
        }
        if t.dc_id != ctx.this_dc {
            return Err(RpcError::new(400, "AUTH_TOKEN_EXCEPTION"));
        }
        let user = acc.user(t.accepted_by)?.ok_or_else(invalid)?;
        let used = LoginToken {
            used: true,
            ..t.clone()
        };
        let mut b = Batch::default();
        b.swap(
            login_token_key(&hash),
            Some(&token.raw),
            Some(used.encode()),
        );
        complete(ctx, rng, &acc, &user, t.hash, b)
    })
}
