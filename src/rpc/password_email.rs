//! The cloud password's recovery email [doc: method/account.updatePasswordSettings,
//! account.confirmPasswordEmail, account.resendPasswordEmail, account.cancelPasswordEmail]:
//! setting one sends a 6-digit code to the address (400 EMAIL_UNCONFIRMED_6, the code's length);
//! the address counts only once confirmed with it. Codes are kept as HMAC-SHA256 under code.key,
//! expire, and die after 5 wrong tries, like login codes; delivery goes through the login
//! settings' sender (`emails.txt` in the data dir by default).

use super::login::{code_digest, code_matches, random_digits};
use super::{Caller, RpcContext, RpcError};
use crate::rand::Rng;
use crate::store::accounts::{Accounts, BatchExt};
use crate::store::records::{password_key, pending_email_key, Password, PendingEmail};
use crate::store::{Batch, Commit};
use crate::tl::functions;

/// Digits of an email code.
pub const EMAIL_CODE_LEN: u32 = 6;
/// Seconds an email code stays good.
pub const EMAIL_CODE_TTL: i64 = 3600;
/// Wrong codes before it is dead.
const MAX_WRONG: i32 = 5;
/// RFC 5321's limit on an address.
const MAX_EMAIL_LEN: usize = 254;
/// What the sender is told the code is for.
const PURPOSE: &str = "recovery-email";

/// A plausible address: `local@domain.tld`, no spaces, at most 254 bytes (else EMAIL_INVALID).
pub fn valid(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    email.len() <= MAX_EMAIL_LEN
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.contains(char::is_whitespace)
        && !domain.contains('@')
}

/// How account.getPassword shows an unconfirmed address: its first character, then `*`s up
/// to the `@`, then the domain (`a***@example.com`).
pub fn pattern(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            let stars = "*".repeat(local.chars().count().saturating_sub(1).max(1));
            format!("{first}{stars}@{domain}")
        }
        None => "***".into(),
    }
}

fn digest_label(user_id: i64) -> String {
    format!("email:{user_id}")
}

/// A new code for `email`, its record put into `b`; the code, to deliver once `b` is applied.
pub fn start(
    ctx: &RpcContext<'_>,
    rng: &mut dyn Rng,
    user_id: i64,
    email: &str,
    wrong: i32,
    b: &mut Batch,
) -> String {
    let code = random_digits(EMAIL_CODE_LEN, rng);
    let now = i64::from(ctx.now);
    let pending = PendingEmail {
        email: email.into(),
        code_hash: code_digest(&ctx.login.code_key, &digest_label(user_id), &code),
        created: now,
        expires: now + EMAIL_CODE_TTL,
        wrong,
    };
    b.put(pending_email_key(user_id), pending.encode());
    code
}

/// Delivers a code `start` made, once its write is applied.
pub fn deliver(ctx: &RpcContext<'_>, email: &str, code: &str) {
    if let Err(e) = ctx.login.sender.deliver_email(email, PURPOSE, code) {
        tracing::warn!(error = %e, "could not deliver an email code");
    }
}

/// The answer that tells the client a code is on its way (Telethon's EmailUnconfirmedError).
pub fn unconfirmed() -> RpcError {
    RpcError::new(400, format!("EMAIL_UNCONFIRMED_{EMAIL_CODE_LEN}"))
}

fn expired() -> RpcError {
    RpcError::new(400, "EMAIL_HASH_EXPIRED")
}

/// account.confirmPasswordEmail: the code makes the waiting address the recovery email.
pub fn confirm(
    ctx: &RpcContext<'_>,
    caller: &Caller,
    req: &functions::account::ConfirmPasswordEmail,
) -> Result<bool, RpcError> {
    let acc = Accounts::new(ctx.store);
    let user_id = caller.user.id;
    let pending = acc.pending_email(user_id)?.ok_or_else(expired)?;
    let password = acc.password(user_id)?.ok_or_else(expired)?;
    let p = &pending.value;
    if p.expires <= i64::from(ctx.now) || p.wrong >= MAX_WRONG {
        return Err(expired());
    }
    let mut b = Batch::default();
    if !code_matches(
        &ctx.login.code_key,
        &digest_label(user_id),
        req.code.trim(),
        &p.code_hash,
    ) {
        let counted = PendingEmail {
            wrong: p.wrong + 1,
            ..p.clone()
        };
        b.swap(
            pending_email_key(user_id),
            Some(&pending.raw),
            Some(counted.encode()),
        );
        acc.commit(&b)?;
        return Err(RpcError::new(400, "CODE_INVALID"));
    }
    let confirmed = Password {
        email: p.email.clone(),
        ..password.value.clone()
    };
    b.swap(pending_email_key(user_id), Some(&pending.raw), None);
    b.swap(
        password_key(user_id),
        Some(&password.raw),
        Some(confirmed.encode()),
    );
    match acc.commit(&b)? {
        Commit::Applied { .. } => Ok(true),
        Commit::Conflict => Err(expired()),
    }
}

/// account.resendPasswordEmail: a new code for the waiting address (its wrong tries kept).
pub fn resend(ctx: &RpcContext<'_>, rng: &mut dyn Rng, caller: &Caller) -> Result<bool, RpcError> {
    let acc = Accounts::new(ctx.store);
    let user_id = caller.user.id;
    let pending = acc.pending_email(user_id)?.ok_or_else(expired)?;
    if pending.value.wrong >= MAX_WRONG {
        return Err(expired());
    }
    let mut b = Batch::default();
    b.expect(pending_email_key(user_id), Some(pending.raw.clone()));
    let code = start(
        ctx,
        rng,
        user_id,
        &pending.value.email,
        pending.value.wrong,
        &mut b,
    );
    match acc.commit(&b)? {
        Commit::Applied { .. } => {
            deliver(ctx, &pending.value.email, &code);
            Ok(true)
        }
        Commit::Conflict => Err(expired()),
    }
}

/// account.cancelPasswordEmail: the waiting address is forgotten.
pub fn cancel(ctx: &RpcContext<'_>, caller: &Caller) -> Result<bool, RpcError> {
    let mut b = Batch::default();
    b.delete(pending_email_key(caller.user.id));
    Accounts::new(ctx.store).commit(&b)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_and_masked() {
        for good in ["a@b.co", "first.last+tag@example.org"] {
            assert!(valid(good), "{good}");
        }
        for bad in [
            "", "a", "@b.co", "a@b", "a@.co", "a@b.", "a b@c.de", "a@b@c.de",
        ] {
            assert!(!valid(bad), "{bad}");
        }
        assert!(!valid(&format!("{}@b.co", "a".repeat(250))));
        assert_eq!(pattern("alice@example.com"), "a****@example.com");
        assert_eq!(pattern("a@example.com"), "a*@example.com");
    }
}
