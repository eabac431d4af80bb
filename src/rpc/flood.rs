//! The login flood counters (AB-1, AB-2) [doc: api/auth]: the code-guessing budget per phone
//! number and per client address, and the per-key and test-number limits. Each counter is a
//! fixed window in the store (it survives a restart, AB-4) and is bumped in the same batch as
//! the write it counts, so concurrent requests cannot overspend it.
//!
//! What the budget bounds: a guess is a wrong code in auth.signIn. At most
//! `failed_sign_ins_per_phone` (5) a day per phone number, whatever the codes, keys and
//! addresses, so with 10^5 codes an attacker wins a given account with probability at most
//! 5 × 10⁻⁵ a day and 1.5 × 10⁻³ in 30 days. Test numbers (`99966XYYYY`, LG-2) have fixed,
//! published codes: nothing to guess, so they are outside the budget and only their sends are
//! limited (FLOOD_TEST_PHONE_WAIT_X, D7).

use super::login::{Phone, RateLimit, DAY};
use super::{RpcContext, RpcError};
use crate::store::accounts::{Accounts, BatchExt};
use crate::store::records::{counter_key, Counter};
use crate::store::Batch;

/// sendCode and resendCode per phone number, the hour's window.
const CODES_PER_PHONE: u8 = b'p';
/// … and the day's.
const CODES_PER_PHONE_DAY: u8 = b'd';
/// Wrong codes per phone number, over all its codes.
const FAILED_PER_PHONE: u8 = b'w';
/// sendCode and resendCode per client address.
const CODES_PER_ADDRESS: u8 = b'i';
/// Wrong codes per client address.
const FAILED_PER_ADDRESS: u8 = b'x';
/// sendCode per auth key.
const CODES_PER_KEY: u8 = b'k';
/// Wrong cloud passwords per account, in a row and the day's (AB-3).
const PASSWORD_FAILED_ROW: u8 = b'h';
const PASSWORD_FAILED_DAY: u8 = b'y';
/// Wrong email codes per account (or per address being set up), in a row and the day's.
const EMAIL_CODE_FAILED_ROW: u8 = b'e';
const EMAIL_CODE_FAILED_DAY: u8 = b'm';
/// Email codes sent per email address, an hour and a day.
const EMAILS_PER_ADDRESS: u8 = b'a';
/// Codes over the server (the subject is empty).
const CODES_GLOBAL: u8 = b'g';
/// Sign-ups per client address, and over the server.
const SIGNUPS_PER_ADDRESS: u8 = b's';
const SIGNUPS_GLOBAL: u8 = b'u';
const EMAILS_PER_ADDRESS_DAY: u8 = b'b';

fn flood_wait(wait: i64) -> RpcError {
    RpcError::new(420, format!("FLOOD_WAIT_{wait}"))
}

fn password_flood() -> RpcError {
    RpcError::new(406, "PHONE_PASSWORD_FLOOD")
}

/// What a client address is counted under: an IPv6 one per /64 (one host's usual share, as the
/// handshake limiter counts it); `None` when the address is unknown.
fn address_subject(peer: &str) -> Option<Vec<u8>> {
    match peer.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            Some(format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3]).into_bytes())
        }
        Ok(ip) => Some(ip.to_string().into_bytes()),
        Err(_) if peer.is_empty() => None,
        Err(_) => Some(peer.as_bytes().to_vec()),
    }
}

/// `limit` for counting only: the event is counted however many came before (the refusal is
/// checked elsewhere, before the event); 0 still counts nothing.
fn uncapped(limit: RateLimit) -> RateLimit {
    RateLimit {
        limit: if limit.limit == 0 { 0 } else { i32::MAX },
        ..limit
    }
}

/// Bumps one counter into `b`, or the limit's error.
fn bump(
    ctx: &RpcContext<'_>,
    acc: &Accounts<'_>,
    b: &mut Batch,
    (kind, subject): (u8, &[u8]),
    limit: RateLimit,
    refused: impl FnOnce(i64) -> RpcError,
) -> Result<(), RpcError> {
    if limit.limit == 0 {
        return Ok(());
    }
    let old = acc.counter(&counter_key(kind, subject))?;
    let next = limit
        .bump(old.as_ref().map(|o| o.value), i64::from(ctx.now))
        .map_err(refused)?;
    b.count(kind, subject, old.as_ref(), next);
    Ok(())
}

/// The `kind` counter of the client's address (if it has one), bumped into `b` under `limit`
/// (FLOOD_WAIT_X past it).
fn bump_address(
    ctx: &RpcContext<'_>,
    acc: &Accounts<'_>,
    b: &mut Batch,
    kind: u8,
    limit: RateLimit,
) -> Result<(), RpcError> {
    match address_subject(ctx.peer) {
        Some(address) => bump(ctx, acc, b, (kind, &address[..]), limit, flood_wait),
        None => Ok(()),
    }
}

/// The seconds until `limit` allows one more event on this counter, if it is spent now.
fn spent(
    ctx: &RpcContext<'_>,
    acc: &Accounts<'_>,
    (kind, subject): (u8, &[u8]),
    limit: RateLimit,
) -> Result<Option<i64>, RpcError> {
    if limit.limit == 0 {
        return Ok(None);
    }
    let old = acc.counter(&counter_key(kind, subject))?;
    Ok(limit.bump(old.map(|o| o.value), i64::from(ctx.now)).err())
}

/// AB-2: PHONE_PASSWORD_FLOOD once the phone had its day's failed sign-ins, FLOOD_WAIT_X once
/// the client address had its; sendCode and signIn check it before anything else of the code.
pub fn refuse_if_guessed_out(
    ctx: &RpcContext<'_>,
    acc: &Accounts<'_>,
    phone: &Phone,
) -> Result<(), RpcError> {
    if phone.test_dc.is_some() {
        return Ok(());
    }
    let login = ctx.login;
    let by_phone = (FAILED_PER_PHONE, phone.digits.as_bytes());
    if spent(ctx, acc, by_phone, login.failed_sign_ins_per_phone)?.is_some() {
        return Err(password_flood());
    }
    if let Some(address) = address_subject(ctx.peer) {
        let by_address = (FAILED_PER_ADDRESS, &address[..]);
        if let Some(wait) = spent(ctx, acc, by_address, login.failed_sign_ins_per_address)? {
            return Err(flood_wait(wait));
        }
    }
    Ok(())
}

/// A wrong code, counted into `b` against the phone and the client address (the write that
/// counts it against the code itself). Never refuses: the next try finds the budget spent.
pub fn count_failure(
    ctx: &RpcContext<'_>,
    acc: &Accounts<'_>,
    phone: &Phone,
    b: &mut Batch,
) -> Result<(), RpcError> {
    if phone.test_dc.is_some() {
        return Ok(());
    }
    let login = ctx.login;
    // Counted past the limit too: the check is `refuse_if_guessed_out`.
    let by_phone = (FAILED_PER_PHONE, phone.digits.as_bytes());
    bump(
        ctx,
        acc,
        b,
        by_phone,
        uncapped(login.failed_sign_ins_per_phone),
        flood_wait,
    )?;
    bump_address(
        ctx,
        acc,
        b,
        FAILED_PER_ADDRESS,
        uncapped(login.failed_sign_ins_per_address),
    )
}

/// One more code sent to `phone` (sendCode, resendCode), counted into `b`: per phone an hour
/// (FLOOD_WAIT_X) and a day (PHONE_NUMBER_FLOOD), per client address an hour (FLOOD_WAIT_X);
/// a test number only against its own hourly limit (FLOOD_TEST_PHONE_WAIT_X, D7).
pub fn count_send(
    ctx: &RpcContext<'_>,
    acc: &Accounts<'_>,
    phone: &Phone,
    b: &mut Batch,
) -> Result<(), RpcError> {
    let login = ctx.login;
    let by_phone = (CODES_PER_PHONE, phone.digits.as_bytes());
    if phone.test_dc.is_some() {
        return bump(ctx, acc, b, by_phone, login.codes_per_test_phone, |wait| {
            RpcError::new(420, format!("FLOOD_TEST_PHONE_WAIT_{wait}"))
        });
    }
    let by_phone_day = (CODES_PER_PHONE_DAY, phone.digits.as_bytes());
    bump(
        ctx,
        acc,
        b,
        by_phone_day,
        login.codes_per_phone_daily,
        |_| RpcError::new(400, "PHONE_NUMBER_FLOOD"),
    )?;
    bump(ctx, acc, b, by_phone, login.codes_per_phone, flood_wait)?;
    bump_address(ctx, acc, b, CODES_PER_ADDRESS, login.codes_per_address)?;
    bump(
        ctx,
        acc,
        b,
        (CODES_GLOBAL, b""),
        login.codes_global,
        flood_wait,
    )
}

/// One more sign-up (of a number other than a test number), counted into `b` per client
/// address and over the server (FLOOD_WAIT_X with the seconds left).
pub fn count_sign_up(
    ctx: &RpcContext<'_>,
    acc: &Accounts<'_>,
    phone: &Phone,
    b: &mut Batch,
) -> Result<(), RpcError> {
    if phone.test_dc.is_some() {
        return Ok(());
    }
    let login = ctx.login;
    bump_address(ctx, acc, b, SIGNUPS_PER_ADDRESS, login.signups_per_address)?;
    bump(
        ctx,
        acc,
        b,
        (SIGNUPS_GLOBAL, b""),
        login.signups_global,
        flood_wait,
    )
}

/// One more sendCode from this auth key, counted into `b` (FLOOD_WAIT_X).
pub fn count_key(ctx: &RpcContext<'_>, acc: &Accounts<'_>, b: &mut Batch) -> Result<(), RpcError> {
    let key = ctx.key_id.to_be_bytes();
    bump(
        ctx,
        acc,
        b,
        (CODES_PER_KEY, &key),
        ctx.login.codes_per_key,
        flood_wait,
    )
}

/// What a guess per account is of (AB-3): each has its own counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secret {
    /// The cloud password (auth.checkPassword and the methods that prove it).
    Password,
    /// A code sent by email: the recovery email's, the recovery's, the login email's.
    EmailCode,
}

impl Secret {
    /// The counter kinds: failures in a row (window_start = the last one's time), the day's.
    fn kinds(self) -> (u8, u8) {
        match self {
            Secret::Password => (PASSWORD_FAILED_ROW, PASSWORD_FAILED_DAY),
            Secret::EmailCode => (EMAIL_CODE_FAILED_ROW, EMAIL_CODE_FAILED_DAY),
        }
    }
}

/// AB-3: FLOOD_WAIT_X while the account waits out its failures in a row (the back-off), or
/// once it had its day's; checked before the secret is.
pub fn refuse_if_guessed_out_of(
    ctx: &RpcContext<'_>,
    acc: &Accounts<'_>,
    secret: Secret,
    subject: &[u8],
) -> Result<(), RpcError> {
    let (row, day) = secret.kinds();
    if let Some(wait) = spent(
        ctx,
        acc,
        (day, subject),
        ctx.login.password_failures_per_day,
    )? {
        return Err(flood_wait(wait));
    }
    let now = i64::from(ctx.now);
    if let Some(last) = acc.counter(&counter_key(row, subject))? {
        let c = last.value;
        if let Some(wait) = ctx
            .login
            .password_backoff
            .wait(c.count, c.window_start, now)
        {
            return Err(flood_wait(wait));
        }
    }
    Ok(())
}

/// A wrong secret, counted into `b` against `subject` (an account, or an address being set up).
pub fn count_guess(
    ctx: &RpcContext<'_>,
    acc: &Accounts<'_>,
    secret: Secret,
    subject: &[u8],
    b: &mut Batch,
) -> Result<(), RpcError> {
    let (row, day) = secret.kinds();
    let limit = ctx.login.password_failures_per_day;
    bump(ctx, acc, b, (day, subject), uncapped(limit), flood_wait)?;
    let now = i64::from(ctx.now);
    let old = acc.counter(&counter_key(row, subject))?;
    // A day without failures starts the row again (the sweep deletes the counter then too).
    let before = old
        .as_ref()
        .filter(|o| now < o.value.window_start.saturating_add(DAY))
        .map_or(0, |o| o.value.count);
    let next = Counter {
        window_start: now,
        count: before.saturating_add(1),
    };
    b.count(row, subject, old.as_ref(), next);
    Ok(())
}

/// A right secret: the subject's wrong ones are forgotten (AB-3 "reset on success only").
pub fn reset_guesses(secret: Secret, subject: &[u8], b: &mut Batch) {
    let (row, day) = secret.kinds();
    b.delete(counter_key(row, subject));
    b.delete(counter_key(day, subject));
}

/// The subject an account's guesses are counted under.
pub fn account_subject(user_id: i64) -> [u8; 8] {
    user_id.to_be_bytes()
}

/// One more email code sent to `email` (the recovery email's, a recovery, a login email's),
/// counted into `b` as codes to a phone number are: an hour's and a day's per address, and the
/// client address's hour.
pub fn count_email_send(
    ctx: &RpcContext<'_>,
    acc: &Accounts<'_>,
    email: &str,
    b: &mut Batch,
) -> Result<(), RpcError> {
    let login = ctx.login;
    let address = email.to_ascii_lowercase();
    let by_day = (EMAILS_PER_ADDRESS_DAY, address.as_bytes());
    bump(ctx, acc, b, by_day, login.codes_per_phone_daily, flood_wait)?;
    let by_hour = (EMAILS_PER_ADDRESS, address.as_bytes());
    bump(ctx, acc, b, by_hour, login.codes_per_phone, flood_wait)?;
    if let Some(peer) = address_subject(ctx.peer) {
        bump(
            ctx,
            acc,
            b,
            (CODES_PER_ADDRESS, &peer[..]),
            login.codes_per_address,
            flood_wait,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_counted_per_ip_and_ipv6_per_64() {
        assert_eq!(address_subject("203.0.113.7").unwrap(), b"203.0.113.7");
        assert_eq!(
            address_subject("2001:db8:1:2:ffff::9").unwrap(),
            b"2001:db8:1:2::/64"
        );
        assert_eq!(
            address_subject("2001:db8:1:2::1"),
            address_subject("2001:db8:1:2:ffff::9")
        );
        assert_eq!(address_subject(""), None);
    }
}
