//! Phone login [doc: api/auth; method/auth.sendCode, auth.resendCode, auth.cancelCode,
//! auth.signIn, auth.signUp, auth.logOut, auth.resetAuthorizations]. Checks run in the order of
//! ERRORS.md §5. Every write is one conditional batch (`store::accounts`); a conflict with a
//! concurrent request re-reads and decides again. The reply goes out only once the batch is
//! durable (the connection waits for the store's sync, DB-1).

use super::login::{
    code_digest, code_matches, new_code, new_code_hash, parse_phone, Phone, CODE_LEN,
};
use super::users::user_object;
use super::{flood, notify};
use super::{Caller, RpcContext, RpcError};
use crate::rand::Rng;
use crate::store::accounts::{Accounts, BatchExt, Read};
use crate::store::records::{code_key, Authorization, CodeKind, CodeState, PendingCode, User};
use crate::store::{Batch, Commit};
use crate::tl::{enums, functions, types};

/// Attempts at a write that keeps meeting concurrent writes before 500 INTERNAL.
const MAX_TRIES: usize = 16;
/// Layers before 104 know no auth.authorizationSignUpRequired (D2).
const SIGN_UP_REQUIRED_LAYER: i32 = 104;
/// First and last names are at most this many characters (FIRSTNAME_INVALID).
const MAX_NAME_CHARS: usize = 64;

/// phone_code_hash lengths looked up at most.
const MAX_HASH_LEN: usize = 64;

fn expired() -> RpcError {
    RpcError::new(400, "PHONE_CODE_EXPIRED")
}

fn hash_empty() -> RpcError {
    RpcError::new(400, "PHONE_CODE_HASH_EMPTY")
}

/// Runs `attempt` until its batch applies (`Some`) or it fails.
pub(super) fn with_retries<T>(
    mut attempt: impl FnMut() -> Result<Option<T>, RpcError>,
) -> Result<T, RpcError> {
    for _ in 0..MAX_TRIES {
        if let Some(done) = attempt()? {
            return Ok(done);
        }
    }
    tracing::error!("a login write kept conflicting with concurrent writes");
    Err(RpcError::internal())
}

fn applied(c: Commit) -> bool {
    matches!(c, Commit::Applied { .. })
}

pub(super) fn dc_ids(ctx: &RpcContext<'_>) -> Vec<i32> {
    ctx.dcs.iter().map(|d| d.id).collect()
}

/// The DC a phone lives on: a test number's X, a registered user's DC, else the default.
fn home_dc(ctx: &RpcContext<'_>, phone: &Phone, user: Option<&User>) -> i32 {
    phone
        .test_dc
        .or(user.map(|u| u.home_dc))
        .unwrap_or(ctx.login.default_home_dc)
}

fn migrate_if_elsewhere(ctx: &RpcContext<'_>, home: i32) -> Result<(), RpcError> {
    if home == ctx.this_dc {
        Ok(())
    } else {
        Err(RpcError::new(303, format!("PHONE_MIGRATE_{home}")))
    }
}

/// The answer for a code sent `kind`-wise (`email`: the login email of an email code).
pub(super) fn sent_code(
    kind: CodeKind,
    email: &str,
    phone_code_hash: String,
) -> enums::auth::SentCode {
    let length = CODE_LEN as i32;
    let r#type = match kind {
        CodeKind::Sms => types::auth::SentCodeTypeSms { length }.into(),
        CodeKind::App => types::auth::SentCodeTypeApp { length }.into(),
        CodeKind::Email => super::login_email::email_code_type(email, length),
        CodeKind::SetUpEmail => types::auth::SentCodeTypeSetUpEmailRequired {
            apple_signin_allowed: false,
            google_signin_allowed: false,
        }
        .into(),
    };
    // Telethon calls resendCode whenever it holds a hash, so a phone code always offers a
    // next type; an email code's fallback is auth.resetLoginEmail.
    let next_type =
        matches!(kind, CodeKind::Sms | CodeKind::App).then(|| types::auth::CodeTypeSms {}.into());
    types::auth::SentCode {
        r#type,
        phone_code_hash,
        next_type,
        timeout: None,
    }
    .into()
}

/// The code's record if it is still good for `phone` on this key (else PHONE_CODE_EXPIRED).
pub(super) fn live_code(
    ctx: &RpcContext<'_>,
    acc: &Accounts<'_>,
    hash: &str,
    phone: &Phone,
) -> Result<Read<PendingCode>, RpcError> {
    // Our hashes are 32 hex digits; anything much longer is not one, and is not looked up.
    if hash.len() > MAX_HASH_LEN {
        return Err(expired());
    }
    let code = acc.code(hash)?.ok_or_else(expired)?;
    let c = &code.value;
    let now = i64::from(ctx.now);
    if c.phone != phone.digits
        || c.key_id != ctx.key_id
        || c.expires <= now
        || c.wrong >= ctx.login.max_wrong_codes
    {
        return Err(expired());
    }
    Ok(code)
}

/// auth.sendCode (LG-1): phone → home DC → flood limits → a new code under a new hash.
pub fn send_code(
    ctx: &RpcContext<'_>,
    rng: &mut dyn Rng,
    req: &functions::auth::SendCode,
) -> Result<enums::auth::SentCode, RpcError> {
    if req.api_id <= 0 || req.api_hash.is_empty() {
        return Err(RpcError::new(400, "API_ID_INVALID"));
    }
    let phone = parse_phone(&req.phone_number, &dc_ids(ctx))?;
    let acc = Accounts::new(ctx.store);
    let user = acc.user_by_phone(&phone.digits)?;
    let home = home_dc(ctx, &phone, user.as_ref());
    migrate_if_elsewhere(ctx, home)?;
    // A user logged in elsewhere gets the code in those sessions too (sentCodeTypeApp).
    let elsewhere: Vec<i64> = match &user {
        Some(u) => acc
            .authorizations_of(u.id)?
            .into_iter()
            .map(|a| a.value.key_id)
            .filter(|k| *k != ctx.key_id)
            .collect(),
        None => Vec::new(),
    };
    if let Some(user) = &user {
        if let Some(done) = log_in_by_token(ctx, rng, &acc, &phone, user, req)? {
            return Ok(done);
        }
    }
    // Where the code goes: the login email if the account has one; nowhere yet for a new
    // account that must set one up first; else the other sessions, else SMS.
    let email = match &user {
        Some(u) => super::login_email::login_email(&acc, u.id)?,
        None => String::new(),
    };
    let (kind, elsewhere) = if !email.is_empty() {
        (CodeKind::Email, Vec::new())
    } else if user.is_none() && ctx.login.require_login_email {
        (CodeKind::SetUpEmail, Vec::new())
    } else if elsewhere.is_empty() {
        (CodeKind::Sms, elsewhere)
    } else {
        (CodeKind::App, elsewhere)
    };
    let code = new_code(&phone, rng);
    let hash = new_code_hash(rng);
    let now = i64::from(ctx.now);
    let record = PendingCode {
        phone: phone.digits.clone(),
        key_id: ctx.key_id,
        // No code exists before the login email is set up: nothing signIn could match (a test
        // number's fixed code included).
        code_hash: if kind == CodeKind::SetUpEmail {
            let mut nothing = [0u8; 32];
            rng.fill(&mut nothing);
            nothing
        } else {
            code_digest(&ctx.login.code_key, &hash, &code)
        },
        code_len: CODE_LEN as i32,
        created: now,
        expires: now + ctx.login.code_ttl,
        wrong: 0,
        sends: 1,
        kind,
        state: CodeState::Sent,
        email: email.clone(),
    };
    with_retries(|| {
        flood::refuse_if_guessed_out(ctx, &acc, &phone)?;
        let mut b = Batch::default();
        flood::count_send(ctx, &acc, &phone, &mut b)?;
        flood::count_key(ctx, &acc, &mut b)?;
        b.swap(code_key(&hash), None, Some(record.encode()));
        Ok(applied(acc.commit(&b)?).then_some(()))
    })?;
    match kind {
        CodeKind::Email => super::login_email::deliver_login_code(ctx, &email, &code),
        // Nothing to deliver before the address is set up; the code above is never sent.
        CodeKind::SetUpEmail => {}
        CodeKind::Sms | CodeKind::App => {
            deliver(ctx, &phone, &code, home);
            notify::login_code(ctx, elsewhere, &code);
        }
    }
    Ok(sent_code(kind, &email, hash))
}

/// auth.sendCode sent sentCodeSuccess first in this layer.
const SENT_CODE_SUCCESS_LAYER: i32 = 152;

/// LO-2: a live future auth token of this number's user in `codeSettings.logout_tokens` logs
/// the key in without a code (`auth.sentCodeSuccess`; 401 SESSION_PASSWORD_NEEDED with a
/// password, the key then waiting for it). The flood limits hold as for a code; the token is
/// used up. `None`: no token matched, a code goes out.
fn log_in_by_token(
    ctx: &RpcContext<'_>,
    rng: &mut dyn Rng,
    acc: &Accounts<'_>,
    phone: &Phone,
    user: &User,
    req: &functions::auth::SendCode,
) -> Result<Option<enums::auth::SentCode>, RpcError> {
    let enums::CodeSettings::CodeSettings(settings) = &req.settings;
    let Some(tokens) = settings.logout_tokens.as_deref().filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    // A layer without sentCodeSuccess could not read the answer.
    if (1..SENT_CODE_SUCCESS_LAYER).contains(&ctx.client.layer) {
        return Ok(None);
    }
    with_retries(|| {
        flood::refuse_if_guessed_out(ctx, acc, phone)?;
        let mut b = Batch::default();
        if !super::future_token::redeem(ctx, acc, user, tokens, &mut b)? {
            return Ok(Some(None));
        }
        flood::count_send(ctx, acc, phone, &mut b)?;
        flood::count_key(ctx, acc, &mut b)?;
        let login = log_in_or_wait(ctx, rng, acc, user, None, b, "future auth token")?;
        Ok(login.map(|authorization| {
            tracing::info!(user_id = user.id, "logged in by a future auth token");
            Some(types::auth::SentCodeSuccess { authorization }.into())
        }))
    })
}

pub(super) fn deliver(ctx: &RpcContext<'_>, phone: &Phone, code: &str, home: i32) {
    if let Err(e) = ctx.login.sender.deliver(&phone.digits, code, home) {
        tracing::warn!(error = %e, "could not deliver a login code");
    }
}

/// auth.resendCode: a fresh code (test numbers keep theirs) under the same hash, by SMS.
pub fn resend_code(
    ctx: &RpcContext<'_>,
    rng: &mut dyn Rng,
    req: &functions::auth::ResendCode,
) -> Result<enums::auth::SentCode, RpcError> {
    if req.phone_code_hash.is_empty() {
        return Err(hash_empty());
    }
    let phone = parse_phone(&req.phone_number, &dc_ids(ctx))?;
    let acc = Accounts::new(ctx.store);
    let code = new_code(&phone, rng);
    let now = i64::from(ctx.now);
    let (home, kind, email) = with_retries(|| {
        let old = live_code(ctx, &acc, &req.phone_code_hash, &phone)?;
        if old.value.state != CodeState::Sent {
            return Err(expired());
        }
        let (kind, email) = match old.value.kind {
            // An email code goes to the email again; nothing goes before the setup.
            k @ (CodeKind::Email | CodeKind::SetUpEmail) => (k, old.value.email.clone()),
            CodeKind::Sms | CodeKind::App => (CodeKind::Sms, String::new()),
        };
        if kind == CodeKind::SetUpEmail {
            return Ok(Some((0, kind, email)));
        }
        let mut b = Batch::default();
        flood::count_send(ctx, &acc, &phone, &mut b)?;
        // The wrong tries stay: a resend is no new budget (AB-1).
        let renewed = PendingCode {
            code_hash: code_digest(&ctx.login.code_key, &req.phone_code_hash, &code),
            expires: now + ctx.login.code_ttl,
            sends: old.value.sends.saturating_add(1),
            kind,
            ..old.value.clone()
        };
        b.swap(
            code_key(&req.phone_code_hash),
            Some(&old.raw),
            Some(renewed.encode()),
        );
        let user = acc.user_by_phone(&phone.digits)?;
        let home = home_dc(ctx, &phone, user.as_ref());
        Ok(applied(acc.commit(&b)?).then_some((home, kind, email)))
    })?;
    match kind {
        CodeKind::Email => super::login_email::deliver_login_code(ctx, &email, &code),
        CodeKind::SetUpEmail => {}
        CodeKind::Sms | CodeKind::App => deliver(ctx, &phone, &code, home),
    }
    Ok(sent_code(kind, &email, req.phone_code_hash.clone()))
}

/// auth.cancelCode: the hash is dead.
pub fn cancel_code(
    ctx: &RpcContext<'_>,
    req: &functions::auth::CancelCode,
) -> Result<bool, RpcError> {
    if req.phone_code_hash.is_empty() {
        return Err(hash_empty());
    }
    let phone = parse_phone(&req.phone_number, &dc_ids(ctx))?;
    let acc = Accounts::new(ctx.store);
    with_retries(|| {
        let old = live_code(ctx, &acc, &req.phone_code_hash, &phone)?;
        let mut b = Batch::default();
        b.swap(code_key(&req.phone_code_hash), Some(&old.raw), None);
        Ok(applied(acc.commit(&b)?).then_some(true))
    })
}

/// The authorization a login creates for the calling key, with what initConnection and
/// invokeWithLayer said: from here on the client info is kept with the login (item 2 of the
/// security review: until now it was in memory only).
fn new_authorization(ctx: &RpcContext<'_>, rng: &mut dyn Rng, user_id: i64) -> Authorization {
    let now = i64::from(ctx.now);
    ctx.client.apply_to(&Authorization {
        key_id: ctx.key_id,
        user_id,
        hash: nonzero_i64(rng),
        created: now,
        active: now,
        ip: ctx.peer.to_string(),
        dc_id: ctx.this_dc,
        api_id: 0,
        device_model: String::new(),
        system_version: String::new(),
        app_version: String::new(),
        lang_code: String::new(),
        layer: 0,
    })
}

pub(super) fn nonzero_i64(rng: &mut dyn Rng) -> i64 {
    loop {
        let mut b = [0u8; 8];
        rng.fill(&mut b);
        let n = i64::from_le_bytes(b);
        if n != 0 {
            return n;
        }
    }
}

/// The answer naming an existing login of `user` (auth.recoverPassword on a logged-in key).
pub(super) fn authorization_of(user: &User) -> enums::auth::Authorization {
    types::auth::Authorization {
        setup_password_required: false,
        otherwise_relogin_days: None,
        tmp_sessions: None,
        future_auth_token: None,
        user: user_object(user, true),
    }
    .into()
}

fn authorization_result(user: &User, future_auth_token: Vec<u8>) -> enums::auth::Authorization {
    types::auth::Authorization {
        setup_password_required: false,
        otherwise_relogin_days: None,
        tmp_sessions: None,
        future_auth_token: Some(future_auth_token),
        user: user_object(user, true),
    }
    .into()
}

/// auth.signIn (LG-3): the code is checked against its hash, wrong tries are counted, and a
/// right one either binds the key to the user (consuming the code in the same write) or, for
/// a number without an account, marks the code for auth.signUp.
pub fn sign_in(
    ctx: &RpcContext<'_>,
    rng: &mut dyn Rng,
    req: &functions::auth::SignIn,
) -> Result<enums::auth::Authorization, RpcError> {
    if req.phone_code_hash.is_empty() {
        return Err(hash_empty());
    }
    // A code sent to the login email comes as email_verification (api/auth "Email
    // verification"); clients without it (Telethon 1.45) send it as phone_code, taken too.
    let entered = match (
        &req.email_verification,
        req.phone_code.as_deref().map(str::trim),
    ) {
        (Some(enums::EmailVerification::Code(c)), _) if !c.code.trim().is_empty() => c.code.trim(),
        (Some(enums::EmailVerification::Code(_)), _) => {
            return Err(RpcError::new(400, "PHONE_CODE_EMPTY"))
        }
        (Some(_), _) => return Err(RpcError::new(400, "EMAIL_TOKEN_INVALID")),
        (None, Some(c)) if !c.is_empty() => c,
        (None, _) => return Err(RpcError::new(400, "PHONE_CODE_EMPTY")),
    };
    let phone = parse_phone(&req.phone_number, &dc_ids(ctx))?;
    let acc = Accounts::new(ctx.store);
    let key = code_key(&req.phone_code_hash);
    with_retries(|| {
        flood::refuse_if_guessed_out(ctx, &acc, &phone)?;
        let old = live_code(ctx, &acc, &req.phone_code_hash, &phone)?;
        let user = acc.user_by_phone(&phone.digits)?;
        migrate_if_elsewhere(ctx, home_dc(ctx, &phone, user.as_ref()))?;
        let mut b = Batch::default();
        if !code_matches(
            &ctx.login.code_key,
            &req.phone_code_hash,
            entered,
            &old.value.code_hash,
        ) {
            let counted = PendingCode {
                wrong: old.value.wrong.saturating_add(1),
                ..old.value.clone()
            };
            b.swap(key.clone(), Some(&old.raw), Some(counted.encode()));
            flood::count_failure(ctx, &acc, &phone, &mut b)?;
            return if applied(acc.commit(&b)?) {
                Err(RpcError::new(400, "PHONE_CODE_INVALID"))
            } else {
                Ok(None)
            };
        }
        let Some(user) = user else {
            // D2: a right code for a number without an account.
            let marked = PendingCode {
                state: CodeState::SignUpRequired,
                ..old.value.clone()
            };
            b.swap(key.clone(), Some(&old.raw), Some(marked.encode()));
            if !applied(acc.commit(&b)?) {
                return Ok(None);
            }
            let layer = ctx.client.layer;
            if layer != 0 && layer < SIGN_UP_REQUIRED_LAYER {
                return Err(RpcError::new(400, "PHONE_NUMBER_UNOCCUPIED"));
            }
            return Ok(Some(
                types::auth::AuthorizationSignUpRequired {
                    terms_of_service: None,
                }
                .into(),
            ));
        };
        b.swap(key.clone(), Some(&old.raw), None);
        // D3, AC-2: an account with a password: the code is used up and the key waits for
        // auth.checkPassword, across restarts too.
        log_in_or_wait(ctx, rng, &acc, &user, None, b, "right code")
    })
}

/// Binds the calling key to `user` in `b`, with whatever else `b` holds, then tells the user's
/// other sessions (LG-3). `None`: a concurrent write won, so the caller reads again.
pub(super) fn log_in(
    ctx: &RpcContext<'_>,
    rng: &mut dyn Rng,
    acc: &Accounts<'_>,
    user: &User,
    b: Batch,
) -> Result<Option<enums::auth::Authorization>, RpcError> {
    log_in_as(ctx, rng, acc, user, None, b)
}

/// The login a proven key gets (a right code, a future auth token, a QR or web token): bound
/// to `user` in `b` ([`log_in_as`]), or, for an account with a password, left waiting for it
/// (AC-2, D3): 401 SESSION_PASSWORD_NEEDED once `b` is applied. `None`: a concurrent write won.
pub(super) fn log_in_or_wait(
    ctx: &RpcContext<'_>,
    rng: &mut dyn Rng,
    acc: &Accounts<'_>,
    user: &User,
    hash: Option<i64>,
    mut b: Batch,
    proof: &str,
) -> Result<Option<enums::auth::Authorization>, RpcError> {
    if acc.password(user.id)?.is_none() {
        return log_in_as(ctx, rng, acc, user, hash, b);
    }
    super::password::await_password(ctx, user, &mut b);
    if !applied(acc.commit(&b)?) {
        return Ok(None);
    }
    tracing::info!(user_id = user.id, proof, "the password is next");
    Err(RpcError::new(401, "SESSION_PASSWORD_NEEDED"))
}

/// [`log_in`] with the authorization hash fixed beforehand (a QR login's, which the accepting
/// session was told).
pub(super) fn log_in_as(
    ctx: &RpcContext<'_>,
    rng: &mut dyn Rng,
    acc: &Accounts<'_>,
    user: &User,
    hash: Option<i64>,
    mut b: Batch,
) -> Result<Option<enums::auth::Authorization>, RpcError> {
    let mut auth = new_authorization(ctx, rng, user.id);
    if let Some(hash) = hash {
        auth.hash = hash;
    }
    let previous = acc.authorization(ctx.key_id)?;
    b.bind(&auth, previous.as_ref());
    let token = super::future_token::issue(ctx, rng, acc, user.id, &mut b)?;
    let committed = acc.commit(&b).map_err(|e| {
        tracing::error!(error = %e, "could not store a login");
        RpcError::new(500, "SIGN_IN_FAILED")
    })?;
    if !applied(committed) {
        return Ok(None);
    }
    tracing::info!(user_id = user.id, dc = ctx.this_dc, "signed in");
    let others: Vec<Authorization> = acc
        .authorizations_of(user.id)?
        .into_iter()
        .map(|a| a.value)
        .collect();
    notify::new_authorization(ctx, &others, &auth);
    Ok(Some(authorization_result(user, token)))
}

/// auth.signUp (LG-4): after a signIn that ended in signUpRequired on the same phone, hash and
/// key: the user, its phone index and the key's binding in one write.
pub fn sign_up(
    ctx: &RpcContext<'_>,
    rng: &mut dyn Rng,
    req: &functions::auth::SignUp,
) -> Result<enums::auth::Authorization, RpcError> {
    let phone = parse_phone(&req.phone_number, &dc_ids(ctx))?;
    if req.phone_code_hash.is_empty() {
        return Err(hash_empty());
    }
    let acc = Accounts::new(ctx.store);
    let first = req.first_name.trim();
    let last = req.last_name.trim();
    with_retries(|| {
        let old = live_code(ctx, &acc, &req.phone_code_hash, &phone)?;
        if old.value.state != CodeState::SignUpRequired {
            return Err(expired());
        }
        if first.is_empty() || first.chars().count() > MAX_NAME_CHARS {
            return Err(RpcError::new(400, "FIRSTNAME_INVALID"));
        }
        if last.chars().count() > MAX_NAME_CHARS {
            return Err(RpcError::new(400, "LASTNAME_INVALID"));
        }
        if acc.user_by_phone(&phone.digits)?.is_some() {
            return Err(RpcError::new(400, "PHONE_NUMBER_OCCUPIED"));
        }
        // A logged-in key does not make a second account (issue 14: one key could otherwise
        // sign up account after account). Telegram documents no error for it; this is its
        // sign-up refusal, which every client already reports as "you cannot sign up".
        if acc.authorization(ctx.key_id)?.is_some() {
            return Err(RpcError::new(400, "PHONE_NUMBER_APP_SIGNUP_FORBIDDEN"));
        }
        let user = User {
            id: new_user_id(rng),
            access_hash: nonzero_i64(rng),
            phone: phone.digits.clone(),
            first_name: first.to_string(),
            last_name: last.to_string(),
            home_dc: ctx.this_dc,
            created: i64::from(ctx.now),
            bot: false,
            username: String::new(),
        };
        let auth = new_authorization(ctx, rng, user.id);
        let mut b = Batch::default();
        super::flood::count_sign_up(ctx, &acc, &phone, &mut b)?;
        b.swap(code_key(&req.phone_code_hash), Some(&old.raw), None);
        b.create_user(&user);
        super::login_email::on_sign_up(&old.value, user.id, &mut b);
        // The key has no login (checked above); the bind's swap refuses one made meanwhile.
        b.bind(&auth, None);
        let token = super::future_token::issue(ctx, rng, &acc, user.id, &mut b)?;
        if !applied(acc.commit(&b)?) {
            return Ok(None);
        }
        tracing::info!(user_id = user.id, dc = ctx.this_dc, "signed up");
        Ok(Some(authorization_result(&user, token)))
    })
}

/// User ids: random in [10^9, 10^9 + 2^40), positive and exact in a JavaScript number.
pub(super) fn new_user_id(rng: &mut dyn Rng) -> i64 {
    let mut b = [0u8; 8];
    rng.fill(&mut b);
    1_000_000_000 + (u64::from_le_bytes(b) % (1 << 40)) as i64
}

/// auth.logOut (LO-1): the key's binding is removed durably; it answers AUTH_KEY_UNREGISTERED
/// from now on; the client gets a future auth token for its next login (LO-2).
pub fn log_out(
    ctx: &RpcContext<'_>,
    rng: &mut dyn Rng,
    caller: &Caller,
) -> Result<enums::auth::LoggedOut, RpcError> {
    let acc = Accounts::new(ctx.store);
    if !acc.end_authorization(ctx.key_id)? {
        return Err(RpcError::new(401, "AUTH_KEY_UNREGISTERED"));
    }
    tracing::info!(user_id = caller.user.id, "logged out");
    let token = with_retries(|| {
        let mut b = Batch::default();
        let token = super::future_token::issue(ctx, rng, &acc, caller.user.id, &mut b)?;
        Ok(applied(acc.commit(&b)?).then_some(token))
    })?;
    Ok(types::auth::LoggedOut {
        future_auth_token: Some(token),
    }
    .into())
}

/// FRESH_RESET_AUTHORISATION_FORBIDDEN: the caller's own authorization is too new.
pub fn check_not_fresh(ctx: &RpcContext<'_>, caller: &Caller) -> Result<(), RpcError> {
    let age = i64::from(ctx.now) - caller.authorization.value.created;
    if age < ctx.login.fresh_reset_secs {
        return Err(RpcError::new(406, "FRESH_RESET_AUTHORISATION_FORBIDDEN"));
    }
    Ok(())
}

/// Ends the authorizations `pick` chooses among the caller's user's, in one write; they answer
/// SESSION_REVOKED from now on. Returns how many ended.
pub fn revoke(
    ctx: &RpcContext<'_>,
    caller: &Caller,
    pick: impl Fn(&Authorization) -> bool,
) -> Result<usize, RpcError> {
    let others = |acc: &Accounts<'_>| {
        Ok(acc
            .authorizations_of(caller.user.id)?
            .into_iter()
            .filter(|a| a.value.key_id != ctx.key_id && pick(&a.value))
            .collect())
    };
    Ok(Accounts::new(ctx.store).end_authorizations(others, Some(i64::from(ctx.now)))?)
}

/// auth.resetAuthorizations: every other session of the user ends.
pub fn reset_authorizations(ctx: &RpcContext<'_>, caller: &Caller) -> Result<bool, RpcError> {
    check_not_fresh(ctx, caller)?;
    let n = revoke(ctx, caller, |_| true)?;
    tracing::info!(
        user_id = caller.user.id,
        sessions = n,
        "other sessions ended"
    );
    Ok(true)
}
