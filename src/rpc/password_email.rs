//! The cloud password's recovery email [doc: method/account.updatePasswordSettings,
//! account.confirmPasswordEmail, account.resendPasswordEmail, account.cancelPasswordEmail]:
//! setting one sends a 6-digit code to the address (400 EMAIL_UNCONFIRMED_6, the code's length);
//! the address counts only once confirmed with it. Codes are kept as HMAC-SHA256 under code.key,
//! expire, and die after 5 wrong tries, like login codes; delivery goes through the login
//! settings' sender (`emails.txt` in the data dir by default).

use super::login::{code_digest, code_matches, random_digits};
use super::{flood, Caller, RpcContext, RpcError};
use crate::rand::Rng;
use crate::store::accounts::{Accounts, BatchExt, Read};
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
pub const PURPOSE: &str = "recovery-email";

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

/// A new code for `email` under `label` (what the digest binds it to): the record to store and
/// the code, to deliver once the record is.
pub fn new_code(
    ctx: &RpcContext<'_>,
    rng: &mut dyn Rng,
    label: &str,
    email: &str,
    wrong: i32,
) -> (PendingEmail, String) {
    let code = random_digits(EMAIL_CODE_LEN, rng);
    let now = i64::from(ctx.now);
    let pending = PendingEmail {
        email: email.into(),
        code_hash: code_digest(&ctx.login.code_key, label, &code),
        created: now,
        expires: now + EMAIL_CODE_TTL,
        wrong,
    };
    (pending, code)
}

/// A new code for the recovery email being set, its record put into `b`; the code, to deliver
/// once `b` is applied.
pub fn start(
    ctx: &RpcContext<'_>,
    rng: &mut dyn Rng,
    user_id: i64,
    email: &str,
    wrong: i32,
    b: &mut Batch,
) -> String {
    let (pending, code) = new_code(ctx, rng, &digest_label(user_id), email, wrong);
    b.put(pending_email_key(user_id), pending.encode());
    code
}

/// Delivers a code, once its write is applied; `purpose` tells the sender what it is for.
pub fn deliver(ctx: &RpcContext<'_>, email: &str, purpose: &str, code: &str) {
    if let Err(e) = ctx.login.sender.deliver_email(email, purpose, code) {
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

/// Where a code being tried is kept, and what its failures count against (AB-3).
pub struct Attempt<'a> {
    /// The record's store key.
    pub key: Vec<u8>,
    pub read: &'a Read<PendingEmail>,
    /// The digest label the code was made under.
    pub label: &'a str,
    /// The subject of the `Secret::EmailCode` counters: the account, or the address set up.
    pub subject: &'a [u8],
}

/// Tries `entered` against a code (AB-3): `expired` once it is past its time or its wrong
/// tries, FLOOD_WAIT_X while the subject backs off, CODE_INVALID for a wrong code (counted in
/// the record and against the subject). `Ok`: right; the caller's write then resets the
/// subject's counters (`flood::reset_guesses`) and takes the record out.
pub fn try_code(
    ctx: &RpcContext<'_>,
    acc: &Accounts<'_>,
    attempt: &Attempt<'_>,
    entered: &str,
    expired: fn() -> RpcError,
) -> Result<(), RpcError> {
    let p = &attempt.read.value;
    if p.expires <= i64::from(ctx.now) || p.wrong >= MAX_WRONG {
        return Err(expired());
    }
    let secret = flood::Secret::EmailCode;
    flood::refuse_if_guessed_out_of(ctx, acc, secret, attempt.subject)?;
    if code_matches(
        &ctx.login.code_key,
        attempt.label,
        entered.trim(),
        &p.code_hash,
    ) {
        return Ok(());
    }
    let counted = PendingEmail {
        wrong: p.wrong + 1,
        ..p.clone()
    };
    let mut b = Batch::default();
    b.swap(
        attempt.key.clone(),
        Some(&attempt.read.raw),
        Some(counted.encode()),
    );
    flood::count_guess(ctx, acc, secret, attempt.subject, &mut b)?;
    acc.commit(&b)?;
    Err(RpcError::new(400, "CODE_INVALID"))
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
    let subject = flood::account_subject(user_id);
    let attempt = Attempt {
        key: pending_email_key(user_id),
        read: &pending,
        label: &digest_label(user_id),
        subject: &subject,
    };
    try_code(ctx, &acc, &attempt, &req.code, expired)?;
    let confirmed = Password {
        email: pending.value.email.clone(),
        ..password.value.clone()
    };
    let mut b = Batch::default();
    b.swap(pending_email_key(user_id), Some(&pending.raw), None);
    b.swap(
        password_key(user_id),
        Some(&password.raw),
        Some(confirmed.encode()),
    );
    flood::reset_guesses(flood::Secret::EmailCode, &subject, &mut b);
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
    flood::count_email_send(ctx, &acc, &pending.value.email, &mut b)?;
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
            deliver(ctx, &pending.value.email, PURPOSE, &code);
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
