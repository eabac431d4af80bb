//! Login email [doc: api/auth "Email verification"; method/account.sendVerifyEmailCode,
//! account.verifyEmail, auth.resetLoginEmail]: an account with a login email gets its login
//! codes there (`auth.sentCodeTypeEmailCode`) and signs in with
//! `auth.signIn(email_verification = emailVerificationCode)`; a new account on a server that
//! requires one (`LoginConfig::require_login_email`) sets it up first
//! (`auth.sentCodeTypeSetUpEmailRequired` → sendVerifyEmailCode → verifyEmail, which answers
//! `account.emailVerifiedLogin` with the login code sent to the new address). Logged-in users
//! change it (`emailVerifyPurposeLoginChange`) or verify one for Telegram Passport
//! (`emailVerifyPurposePassport`). Codes are HMACs under code.key, expire, and count wrong
//! tries per code and per account or address (AB-3).

use super::login::{code_digest, code_matches, new_code, parse_phone, CODE_LEN};
use super::password_email::{self, Attempt, EMAIL_CODE_LEN, EMAIL_CODE_TTL};
use super::{flood, Caller, RpcContext, RpcError};
use crate::rand::Rng;
use crate::store::accounts::{Accounts, BatchExt, Read};
use crate::store::records::{
    code_key, email_verify_key, emails_key, CodeKind, CodeState, Emails, PendingCode,
};
use crate::store::{Batch, Commit};
use crate::tl::{enums, functions, types};

/// The sender's purposes.
const LOGIN: &str = "login-code";
const SETUP: &str = "login-email-setup";
const CHANGE: &str = "login-email";
const PASSPORT: &str = "passport-email";
/// `email_verify_key` purposes.
const PURPOSE_CHANGE: u8 = 1;
const PURPOSE_PASSPORT: u8 = 2;

fn verify_expired() -> RpcError {
    RpcError::new(400, "EMAIL_VERIFY_EXPIRED")
}

fn hash_expired() -> RpcError {
    RpcError::new(400, "PHONE_HASH_EXPIRED")
}

/// The sentCode type of a code sent to `email`: its pattern and length; a reset may be asked
/// for at once (`reset_available_period` 0, as Telegram gives Premium users: a test DC has
/// nobody to wait for).
pub fn email_code_type(email: &str, length: i32) -> enums::auth::SentCodeType {
    types::auth::SentCodeTypeEmailCode {
        apple_signin_allowed: false,
        google_signin_allowed: false,
        email_pattern: password_email::pattern(email),
        length,
        reset_available_period: Some(0),
        reset_pending_date: None,
    }
    .into()
}

/// The login email of `user_id` ("" for none).
pub fn login_email(acc: &Accounts<'_>, user_id: i64) -> Result<String, RpcError> {
    Ok(acc
        .emails(user_id)?
        .map(|e| e.value.login)
        .unwrap_or_default())
}

/// Sets `user_id`'s login email (or its Passport one) to `email` in `b`.
fn set_email(
    acc: &Accounts<'_>,
    user_id: i64,
    change: impl FnOnce(&mut Emails),
    b: &mut Batch,
) -> Result<(), RpcError> {
    let old = acc.emails(user_id)?;
    let mut emails = old.as_ref().map(|o| o.value.clone()).unwrap_or_default();
    change(&mut emails);
    let new = (emails != Emails::default()).then(|| emails.encode());
    b.swap(
        emails_key(user_id),
        old.as_ref().map(|o| o.raw.as_slice()),
        new,
    );
    Ok(())
}

/// The new account's login email, stored with it at auth.signUp (the address its code went to).
pub fn on_sign_up(code: &PendingCode, user_id: i64, b: &mut Batch) {
    if code.kind == CodeKind::Email && !code.email.is_empty() {
        let emails = Emails {
            login: code.email.clone(),
            passport: String::new(),
        };
        b.put(emails_key(user_id), emails.encode());
    }
}

/// A login code's digest label for the address being set up (its verification code).
fn setup_label(hash: &str) -> String {
    format!("setup:{hash}")
}

fn verify_label(user_id: i64, purpose: u8) -> String {
    format!("verify:{user_id}:{purpose}")
}

/// The login code of `phone_code_hash` that waits for its login email to be set up (else
/// PHONE_HASH_EXPIRED).
fn setup_code(
    ctx: &RpcContext<'_>,
    acc: &Accounts<'_>,
    phone_number: &str,
    hash: &str,
) -> Result<Read<PendingCode>, RpcError> {
    let phone = parse_phone(phone_number, &super::auth::dc_ids(ctx))?;
    let code = super::auth::live_code(ctx, acc, hash, &phone).map_err(|_| hash_expired())?;
    if code.value.kind != CodeKind::SetUpEmail || code.value.state != CodeState::Sent {
        return Err(hash_expired());
    }
    Ok(code)
}

/// The logged-in user, for the purposes that need one (else 401 AUTH_KEY_UNREGISTERED).
fn logged_in(caller: Option<&Caller>) -> Result<&Caller, RpcError> {
    caller.ok_or_else(|| RpcError::new(401, "AUTH_KEY_UNREGISTERED"))
}

fn sent_email_code(email: &str) -> enums::account::SentEmailCode {
    types::account::SentEmailCode {
        email_pattern: password_email::pattern(email),
        length: EMAIL_CODE_LEN as i32,
    }
    .into()
}

/// account.sendVerifyEmailCode: a code to `email` for the purpose named.
pub fn send_verify_code(
    ctx: &RpcContext<'_>,
    rng: &mut dyn Rng,
    caller: Option<&Caller>,
    req: &functions::account::SendVerifyEmailCode,
) -> Result<enums::account::SentEmailCode, RpcError> {
    let email = req.email.trim();
    if !password_email::valid(email) {
        return Err(RpcError::new(400, "EMAIL_INVALID"));
    }
    let acc = Accounts::new(ctx.store);
    let mut b = Batch::default();
    flood::count_email_send(ctx, &acc, email, &mut b)?;
    let (code, purpose) = match &req.purpose {
        enums::EmailVerifyPurpose::LoginSetup(p) => {
            let old = setup_code(ctx, &acc, &p.phone_number, &p.phone_code_hash)?;
            let (pending, code) =
                password_email::new_code(ctx, rng, &setup_label(&p.phone_code_hash), email, 0);
            let waiting = PendingCode {
                code_hash: pending.code_hash,
                code_len: EMAIL_CODE_LEN as i32,
                expires: pending.expires,
                email: email.into(),
                ..old.value.clone()
            };
            b.swap(
                code_key(&p.phone_code_hash),
                Some(&old.raw),
                Some(waiting.encode()),
            );
            (code, SETUP)
        }
        enums::EmailVerifyPurpose::LoginChange(_) | enums::EmailVerifyPurpose::Passport(_) => {
            let user_id = logged_in(caller)?.user.id;
            let (slot, purpose) = match req.purpose {
                enums::EmailVerifyPurpose::LoginChange(_) => (PURPOSE_CHANGE, CHANGE),
                _ => (PURPOSE_PASSPORT, PASSPORT),
            };
            // Telegram Passport's data is encrypted under the cloud password's secret.
            if slot == PURPOSE_PASSPORT && acc.password(user_id)?.is_none() {
                return Err(RpcError::new(400, "PASSWORD_REQUIRED"));
            }
            // A new address starts afresh; a resend to the same one keeps its wrong tries.
            let wrong = acc
                .email_verify(user_id, slot)?
                .filter(|o| o.value.email == email && o.value.expires > i64::from(ctx.now))
                .map_or(0, |o| o.value.wrong);
            let label = verify_label(user_id, slot);
            let (pending, code) = password_email::new_code(ctx, rng, &label, email, wrong);
            b.put(email_verify_key(user_id, slot), pending.encode());
            (code, purpose)
        }
    };
    if !matches!(acc.commit(&b)?, Commit::Applied { .. }) {
        return Err(hash_expired());
    }
    password_email::deliver(ctx, email, purpose, &code);
    Ok(sent_email_code(email))
}

/// The code of an `emailVerificationCode`; Google and Apple sign-in are not offered
/// (`*_signin_allowed` false), so their tokens are refused.
fn entered_code(v: &enums::EmailVerification) -> Result<&str, RpcError> {
    match v {
        enums::EmailVerification::Code(c) if !c.code.trim().is_empty() => Ok(c.code.trim()),
        enums::EmailVerification::Code(_) => Err(RpcError::new(400, "CODE_EMPTY")),
        _ => Err(RpcError::new(400, "EMAIL_TOKEN_INVALID")),
    }
}

/// account.verifyEmail: the code proves the address; for a login being set up, the login code
/// goes there next (`account.emailVerifiedLogin`).
pub fn verify(
    ctx: &RpcContext<'_>,
    rng: &mut dyn Rng,
    caller: Option<&Caller>,
    req: &functions::account::VerifyEmail,
) -> Result<enums::account::EmailVerified, RpcError> {
    let entered = entered_code(&req.verification)?;
    let acc = Accounts::new(ctx.store);
    let (slot, user_id) = match &req.purpose {
        enums::EmailVerifyPurpose::LoginSetup(p) => {
            return verify_setup(ctx, rng, &acc, p, entered);
        }
        enums::EmailVerifyPurpose::LoginChange(_) => (PURPOSE_CHANGE, logged_in(caller)?.user.id),
        enums::EmailVerifyPurpose::Passport(_) => (PURPOSE_PASSPORT, logged_in(caller)?.user.id),
    };
    let pending = acc
        .email_verify(user_id, slot)?
        .ok_or_else(verify_expired)?;
    let subject = flood::account_subject(user_id);
    let attempt = Attempt {
        key: email_verify_key(user_id, slot),
        read: &pending,
        label: &verify_label(user_id, slot),
        subject: &subject,
    };
    password_email::try_code(ctx, &acc, &attempt, entered, verify_expired)?;
    let email = pending.value.email.clone();
    let mut b = Batch::default();
    b.swap(email_verify_key(user_id, slot), Some(&pending.raw), None);
    flood::reset_guesses(flood::Secret::EmailCode, &subject, &mut b);
    set_email(
        &acc,
        user_id,
        |e| {
            if slot == PURPOSE_CHANGE {
                e.login = email.clone();
            } else {
                e.passport = email.clone();
            }
        },
        &mut b,
    )?;
    if !matches!(acc.commit(&b)?, Commit::Applied { .. }) {
        return Err(verify_expired());
    }
    tracing::info!(user_id, login = slot == PURPOSE_CHANGE, "email verified");
    Ok(types::account::EmailVerified { email }.into())
}

/// verifyEmail for a login being set up: the address's code, then the login code sent there,
/// under the same phone_code_hash.
fn verify_setup(
    ctx: &RpcContext<'_>,
    rng: &mut dyn Rng,
    acc: &Accounts<'_>,
    p: &types::EmailVerifyPurposeLoginSetup,
    entered: &str,
) -> Result<enums::account::EmailVerified, RpcError> {
    let old = setup_code(ctx, acc, &p.phone_number, &p.phone_code_hash)?;
    let c = &old.value;
    if c.email.is_empty() {
        return Err(verify_expired());
    }
    let subject = c.email.to_ascii_lowercase();
    flood::refuse_if_guessed_out_of(ctx, acc, flood::Secret::EmailCode, subject.as_bytes())?;
    let key = code_key(&p.phone_code_hash);
    let mut b = Batch::default();
    if !code_matches(
        &ctx.login.code_key,
        &setup_label(&p.phone_code_hash),
        entered,
        &c.code_hash,
    ) {
        let counted = PendingCode {
            wrong: c.wrong.saturating_add(1),
            ..c.clone()
        };
        b.swap(key, Some(&old.raw), Some(counted.encode()));
        let secret = flood::Secret::EmailCode;
        flood::count_guess(ctx, acc, secret, subject.as_bytes(), &mut b)?;
        acc.commit(&b)?;
        return Err(RpcError::new(400, "CODE_INVALID"));
    }
    let phone = parse_phone(&p.phone_number, &super::auth::dc_ids(ctx))?;
    let code = new_code(&phone, rng);
    let now = i64::from(ctx.now);
    let sent = PendingCode {
        code_hash: code_digest(&ctx.login.code_key, &p.phone_code_hash, &code),
        code_len: CODE_LEN as i32,
        expires: now + ctx.login.code_ttl.max(EMAIL_CODE_TTL),
        sends: c.sends.saturating_add(1),
        kind: CodeKind::Email,
        ..c.clone()
    };
    b.swap(key, Some(&old.raw), Some(sent.encode()));
    flood::reset_guesses(flood::Secret::EmailCode, subject.as_bytes(), &mut b);
    if !matches!(acc.commit(&b)?, Commit::Applied { .. }) {
        return Err(verify_expired());
    }
    password_email::deliver(ctx, &c.email, LOGIN, &code);
    tracing::info!("login email set up; the login code went there");
    Ok(types::account::EmailVerifiedLogin {
        email: c.email.clone(),
        sent_code: types::auth::SentCode {
            r#type: email_code_type(&c.email, CODE_LEN as i32),
            phone_code_hash: p.phone_code_hash.clone(),
            next_type: None,
            timeout: None,
        }
        .into(),
    }
    .into())
}

/// Delivers a login code to the account's login email.
pub fn deliver_login_code(ctx: &RpcContext<'_>, email: &str, code: &str) {
    password_email::deliver(ctx, email, LOGIN, code);
}

/// auth.resetLoginEmail: the account's login email is dropped and the login code goes by SMS
/// instead, under the same hash (Telegram lets Premium users do so at once; a test DC treats
/// everybody so). EMAIL_INSTALL_MISSING when the code did not go to a login email.
pub fn reset(
    ctx: &RpcContext<'_>,
    rng: &mut dyn Rng,
    req: &functions::auth::ResetLoginEmail,
) -> Result<enums::auth::SentCode, RpcError> {
    if req.phone_code_hash.is_empty() {
        return Err(RpcError::new(400, "PHONE_CODE_HASH_EMPTY"));
    }
    let phone = parse_phone(&req.phone_number, &super::auth::dc_ids(ctx))?;
    let acc = Accounts::new(ctx.store);
    let code = new_code(&phone, rng);
    let now = i64::from(ctx.now);
    let home = super::auth::with_retries(|| {
        let old = super::auth::live_code(ctx, &acc, &req.phone_code_hash, &phone)?;
        let user = acc.user_by_phone(&phone.digits)?;
        let (CodeKind::Email, Some(user)) = (old.value.kind, user) else {
            return Err(RpcError::new(400, "EMAIL_INSTALL_MISSING"));
        };
        let mut b = Batch::default();
        flood::count_send(ctx, &acc, &phone, &mut b)?;
        set_email(&acc, user.id, |e| e.login.clear(), &mut b)?;
        let by_sms = PendingCode {
            code_hash: code_digest(&ctx.login.code_key, &req.phone_code_hash, &code),
            code_len: CODE_LEN as i32,
            expires: now + ctx.login.code_ttl,
            sends: old.value.sends.saturating_add(1),
            kind: CodeKind::Sms,
            email: String::new(),
            ..old.value.clone()
        };
        b.swap(
            code_key(&req.phone_code_hash),
            Some(&old.raw),
            Some(by_sms.encode()),
        );
        let applied = matches!(acc.commit(&b)?, Commit::Applied { .. });
        if applied {
            tracing::info!(user_id = user.id, "login email reset; the code goes by SMS");
        }
        Ok(applied.then_some(user.home_dc))
    })?;
    super::auth::deliver(ctx, &phone, &code, home);
    Ok(super::auth::sent_code(
        CodeKind::Sms,
        "",
        req.phone_code_hash.clone(),
    ))
}
