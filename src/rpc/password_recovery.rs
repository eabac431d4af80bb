//! A forgotten cloud password [doc: api/srp "Email recovery", "Password reset";
//! method/auth.requestPasswordRecovery, auth.checkRecoveryPassword, auth.recoverPassword,
//! account.resetPassword, account.declinePasswordReset, account.getTmpPassword].
//!
//! With a confirmed recovery email a 6-digit code goes there; it removes the password (or sets
//! new settings) and, on a key that waits for the password (AC-2), logs it in. These three
//! methods are open to password-pending keys as well as logged-in ones: the login screen is
//! where a password is forgotten (TDLib's requestAuthenticationPasswordRecovery and
//! recoverAuthenticationPassword run in authorizationStateWaitPassword). Without one, a
//! logged-in session asks for a reset that happens after a waiting period
//! (`LoginConfig::password_reset_wait`, a week as on Telegram), which any session of the
//! account may decline; after a decline no new reset starts for the same period.

use super::auth::{log_in, with_retries};
use super::password::{account_of, check, new_settings, store_settings};
use super::password_email::{self, Attempt};
use super::{flood, Caller, RpcContext, RpcError};
use crate::crypto::sha256;
use crate::rand::Rng;
use crate::store::accounts::{Accounts, BatchExt};
use crate::store::records::{
    password_key, password_pending_key, recovery_code_key, tmp_passwords_key, HashedToken,
    HashedTokens, Password,
};
use crate::store::{Batch, Commit};
use crate::tl::{enums, functions, types};

/// What the sender is told a recovery code is for.
const PURPOSE: &str = "password-recovery";
/// Temporary passwords kept per user; the oldest go first.
const TMP_PER_USER: usize = 8;
/// account.getTmpPassword's period bounds, in seconds (Telegram: one minute to a day).
const TMP_MIN_PERIOD: i32 = 60;
const TMP_MAX_PERIOD: i32 = 86_400;

fn recovery_expired() -> RpcError {
    RpcError::new(400, "PASSWORD_RECOVERY_EXPIRED")
}

fn label(user_id: i64) -> String {
    format!("recovery:{user_id}")
}

/// The account the key acts for (its login's, or the one it waits for), else
/// AUTH_KEY_UNREGISTERED (dispatch lets only those keys through).
fn account(ctx: &RpcContext<'_>, acc: &Accounts<'_>) -> Result<i64, RpcError> {
    account_of(ctx, acc)?.ok_or_else(|| RpcError::new(401, "AUTH_KEY_UNREGISTERED"))
}

/// auth.requestPasswordRecovery: a code to the recovery email (PASSWORD_EMPTY without a
/// password, PASSWORD_RECOVERY_NA without a confirmed email).
pub fn request(
    ctx: &RpcContext<'_>,
    rng: &mut dyn Rng,
) -> Result<enums::auth::PasswordRecovery, RpcError> {
    let acc = Accounts::new(ctx.store);
    let user_id = account(ctx, &acc)?;
    let (code, email) = with_retries(|| {
        let password = acc
            .password(user_id)?
            .ok_or_else(|| RpcError::new(400, "PASSWORD_EMPTY"))?;
        let email = password.value.email.clone();
        if email.is_empty() {
            return Err(RpcError::new(400, "PASSWORD_RECOVERY_NA"));
        }
        let old = acc.recovery_code(user_id)?;
        // A new code keeps the wrong tries of a live one: asking again is no new budget.
        let wrong = old
            .as_ref()
            .filter(|o| o.value.expires > i64::from(ctx.now))
            .map_or(0, |o| o.value.wrong);
        let (pending, code) = password_email::new_code(ctx, rng, &label(user_id), &email, wrong);
        let mut b = Batch::default();
        flood::count_email_send(ctx, &acc, &email, &mut b)?;
        b.expect(password_key(user_id), Some(password.raw.clone()));
        b.swap(
            recovery_code_key(user_id),
            old.as_ref().map(|o| o.raw.as_slice()),
            Some(pending.encode()),
        );
        Ok(matches!(acc.commit(&b)?, Commit::Applied { .. }).then_some((code, email)))
    })?;
    password_email::deliver(ctx, &email, PURPOSE, &code);
    tracing::info!(user_id, "password recovery code sent");
    Ok(types::auth::PasswordRecovery {
        email_pattern: password_email::pattern(&email),
    }
    .into())
}

/// The recovery code tried (AB-3): PASSWORD_RECOVERY_EXPIRED without a live one, CODE_INVALID
/// for a wrong one.
fn try_recovery_code(
    ctx: &RpcContext<'_>,
    acc: &Accounts<'_>,
    user_id: i64,
    entered: &str,
) -> Result<crate::store::accounts::Read<crate::store::records::PendingEmail>, RpcError> {
    let pending = acc.recovery_code(user_id)?.ok_or_else(recovery_expired)?;
    let subject = flood::account_subject(user_id);
    let attempt = Attempt {
        key: recovery_code_key(user_id),
        read: &pending,
        label: &label(user_id),
        subject: &subject,
    };
    password_email::try_code(ctx, acc, &attempt, entered, recovery_expired)?;
    Ok(pending)
}

/// auth.checkRecoveryPassword: whether the code is right, before the client asks for new
/// settings; the code stays good.
pub fn check_code(
    ctx: &RpcContext<'_>,
    req: &functions::auth::CheckRecoveryPassword,
) -> Result<bool, RpcError> {
    let acc = Accounts::new(ctx.store);
    let user_id = account(ctx, &acc)?;
    if req.code.trim().is_empty() {
        return Err(RpcError::new(400, "CODE_EMPTY"));
    }
    try_recovery_code(ctx, &acc, user_id, &req.code)?;
    Ok(true)
}

/// auth.recoverPassword: the code removes the password, or replaces it by `new_settings`;
/// a key waiting for the password is logged in by it.
pub fn recover(
    ctx: &RpcContext<'_>,
    rng: &mut dyn Rng,
    caller: Option<&Caller>,
    req: &functions::auth::RecoverPassword,
) -> Result<enums::auth::Authorization, RpcError> {
    let acc = Accounts::new(ctx.store);
    let user_id = account(ctx, &acc)?;
    if req.code.trim().is_empty() {
        return Err(RpcError::new(400, "CODE_EMPTY"));
    }
    let current = acc.password(user_id)?.ok_or_else(recovery_expired)?;
    // The new settings are checked before the code is tried: a bad one costs no try.
    let (next, email) = match &req.new_settings {
        Some(enums::account::PasswordInputSettings::PasswordInputSettings(new)) => {
            let settled = new_settings(ctx, rng, user_id, Some(&current.value), new)?;
            // The old password's email was what proved the account; the new one keeps it.
            (settled.0, settled.1)
        }
        None => (None, None),
    };
    let pending = try_recovery_code(ctx, &acc, user_id, &req.code)?;
    let user = acc.user(user_id)?.ok_or_else(RpcError::internal)?;
    // One attempt: a concurrent change of the password or the code means this code is spent.
    let mut b = Batch::default();
    b.swap(recovery_code_key(user_id), Some(&pending.raw), None);
    let code = store_settings(
        ctx,
        rng,
        user_id,
        Some(&current),
        (&next, email.as_deref()),
        &mut b,
    );
    flood::reset_guesses(
        flood::Secret::EmailCode,
        &flood::account_subject(user_id),
        &mut b,
    );
    let answer = match caller {
        // Logged in: the account's settings change; the login stays as it is.
        Some(c) => matches!(acc.commit(&b)?, Commit::Applied { .. })
            .then(|| super::auth::authorization_of(&c.user)),
        None => {
            let waiting = acc
                .password_pending(ctx.key_id)?
                .ok_or_else(recovery_expired)?;
            b.swap(password_pending_key(ctx.key_id), Some(&waiting.raw), None);
            log_in(ctx, rng, &acc, &user, b)?
        }
    };
    let answer = answer.ok_or_else(recovery_expired)?;
    tracing::info!(user_id, set = next.is_some(), "password recovered by email");
    if let (Some(code), Some(email)) = (code, email) {
        password_email::deliver(ctx, &email, password_email::PURPOSE, &code);
    }
    Ok(answer)
}

/// account.resetPassword: starts the waiting period, or ends it once it has passed.
pub fn reset(
    ctx: &RpcContext<'_>,
    rng: &mut dyn Rng,
    caller: &Caller,
) -> Result<enums::account::ResetPasswordResult, RpcError> {
    let acc = Accounts::new(ctx.store);
    let user_id = caller.user.id;
    let now = i64::from(ctx.now);
    let wait = ctx.login.password_reset_wait;
    with_retries(|| {
        let Some(current) = acc.password(user_id)? else {
            // Nothing to reset.
            return Ok(Some(types::account::ResetPasswordOk {}.into()));
        };
        let p = &current.value;
        let mut b = Batch::default();
        let answer: enums::account::ResetPasswordResult = if p.reset_at != 0 && p.reset_at <= now {
            store_settings(ctx, rng, user_id, Some(&current), (&None, None), &mut b);
            types::account::ResetPasswordOk {}.into()
        } else if p.reset_at != 0 {
            return Ok(Some(
                types::account::ResetPasswordRequestedWait {
                    until_date: clamp_date(p.reset_at),
                }
                .into(),
            ));
        } else if p.reset_declined != 0 && now < p.reset_declined.saturating_add(wait) {
            return Ok(Some(
                types::account::ResetPasswordFailedWait {
                    retry_date: clamp_date(p.reset_declined.saturating_add(wait)),
                }
                .into(),
            ));
        } else {
            let until = now.saturating_add(wait);
            let asked = Password {
                reset_at: until.max(1),
                ..p.clone()
            };
            b.swap(
                password_key(user_id),
                Some(&current.raw),
                Some(asked.encode()),
            );
            types::account::ResetPasswordRequestedWait {
                until_date: clamp_date(until),
            }
            .into()
        };
        let applied = matches!(acc.commit(&b)?, Commit::Applied { .. });
        if applied {
            match &answer {
                enums::account::ResetPasswordResult::ResetPasswordOk(_) => {
                    tracing::info!(user_id, "password reset after the waiting period")
                }
                _ => tracing::info!(user_id, wait, "password reset requested"),
            }
        }
        Ok(applied.then_some(answer))
    })
}

fn clamp_date(t: i64) -> i32 {
    t.clamp(0, i64::from(i32::MAX)) as i32
}

/// account.declinePasswordReset: a pending reset is called off (RESET_REQUEST_MISSING
/// without one).
pub fn decline_reset(ctx: &RpcContext<'_>, caller: &Caller) -> Result<bool, RpcError> {
    let acc = Accounts::new(ctx.store);
    let user_id = caller.user.id;
    with_retries(|| {
        let current = acc
            .password(user_id)?
            .filter(|p| p.value.reset_at != 0)
            .ok_or_else(|| RpcError::new(400, "RESET_REQUEST_MISSING"))?;
        let declined = Password {
            reset_at: 0,
            reset_declined: i64::from(ctx.now).max(1),
            ..current.value.clone()
        };
        let mut b = Batch::default();
        b.swap(
            password_key(user_id),
            Some(&current.raw),
            Some(declined.encode()),
        );
        let applied = matches!(acc.commit(&b)?, Commit::Applied { .. });
        if applied {
            tracing::info!(user_id, "password reset declined");
        }
        Ok(applied.then_some(true))
    })
}

/// account.getTmpPassword: after the password is proven, a random temporary password good for
/// `period` seconds (clamped to a minute … a day), kept as its SHA256 (at most
/// [`TMP_PER_USER`] per user). TMP_PASSWORD_DISABLED without a password.
pub fn get_tmp_password(
    ctx: &RpcContext<'_>,
    rng: &mut dyn Rng,
    caller: &Caller,
    req: &functions::account::GetTmpPassword,
) -> Result<enums::account::TmpPassword, RpcError> {
    let acc = Accounts::new(ctx.store);
    let user_id = caller.user.id;
    let current = acc
        .password(user_id)?
        .ok_or_else(|| RpcError::new(400, "TMP_PASSWORD_DISABLED"))?;
    check(ctx, &acc, user_id, Some(&current), &req.password)?;
    let period = req.period.clamp(TMP_MIN_PERIOD, TMP_MAX_PERIOD);
    let now = i64::from(ctx.now);
    let valid_until = now + i64::from(period);
    let mut token = vec![0u8; 32];
    rng.fill(&mut token);
    with_retries(|| {
        let old = acc.tmp_passwords(user_id)?;
        let mut held = old.as_ref().map(|o| o.value.clone()).unwrap_or_default();
        held.0.retain(|t| t.expires > now);
        held.0.push(HashedToken {
            hash: sha256(&[&token]),
            expires: valid_until,
        });
        let excess = held.0.len().saturating_sub(TMP_PER_USER);
        held.0.drain(..excess);
        let mut b = Batch::default();
        b.swap(
            tmp_passwords_key(user_id),
            old.as_ref().map(|o| o.raw.as_slice()),
            Some(held.encode()),
        );
        flood::reset_guesses(
            flood::Secret::Password,
            &flood::account_subject(user_id),
            &mut b,
        );
        Ok(matches!(acc.commit(&b)?, Commit::Applied { .. }).then_some(()))
    })?;
    Ok(types::account::TmpPassword {
        tmp_password: token,
        valid_until: clamp_date(valid_until),
    }
    .into())
}

/// Whether `token` is a live temporary password of `user_id` (what a payment form with saved
/// credentials would check), compared in constant time.
pub fn tmp_password_valid(
    acc: &Accounts<'_>,
    user_id: i64,
    token: &[u8],
    now: i64,
) -> Result<bool, RpcError> {
    use subtle::ConstantTimeEq;
    let hash = sha256(&[token]);
    let held: HashedTokens = acc
        .tmp_passwords(user_id)?
        .map(|r| r.value)
        .unwrap_or_default();
    Ok(held
        .0
        .iter()
        .any(|t| bool::from(t.hash.ct_eq(&hash)) && t.expires > now))
}
