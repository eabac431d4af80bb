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

use super::login::{Phone, RateLimit};
use super::{RpcContext, RpcError};
use crate::store::accounts::{Accounts, BatchExt};
use crate::store::records::counter_key;
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
/// Wrong cloud passwords per account, the hour's window and the day's (AB-3).
const PASSWORD_FAILED_HOUR: u8 = b'h';
const PASSWORD_FAILED_DAY: u8 = b'y';

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

/// The account's wrong-password counters with their limits (AB-3), the day's first.
fn password_counters(ctx: &RpcContext<'_>) -> [(u8, RateLimit); 2] {
    [
        (PASSWORD_FAILED_DAY, ctx.login.password_failures_per_day),
        (PASSWORD_FAILED_HOUR, ctx.login.password_failures_per_hour),
    ]
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
    if let Some(address) = address_subject(ctx.peer) {
        let by_address = (FAILED_PER_ADDRESS, &address[..]);
        bump(
            ctx,
            acc,
            b,
            by_address,
            uncapped(login.failed_sign_ins_per_address),
            flood_wait,
        )?;
    }
    Ok(())
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
    if let Some(address) = address_subject(ctx.peer) {
        let by_address = (CODES_PER_ADDRESS, &address[..]);
        bump(ctx, acc, b, by_address, login.codes_per_address, flood_wait)?;
    }
    Ok(())
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

/// AB-3: FLOOD_WAIT_X once the account had its hour's or its day's wrong passwords, checked
/// before the proof is.
pub fn refuse_if_password_guessed_out(
    ctx: &RpcContext<'_>,
    acc: &Accounts<'_>,
    user_id: i64,
) -> Result<(), RpcError> {
    let user = user_id.to_be_bytes();
    for (kind, limit) in password_counters(ctx) {
        if let Some(wait) = spent(ctx, acc, (kind, &user), limit)? {
            return Err(flood_wait(wait));
        }
    }
    Ok(())
}

/// A wrong password, counted into `b` against the account.
pub fn count_password_failure(
    ctx: &RpcContext<'_>,
    acc: &Accounts<'_>,
    user_id: i64,
    b: &mut Batch,
) -> Result<(), RpcError> {
    let user = user_id.to_be_bytes();
    for (kind, limit) in password_counters(ctx) {
        bump(ctx, acc, b, (kind, &user), uncapped(limit), flood_wait)?;
    }
    Ok(())
}

/// A right password: the account's wrong ones are forgotten (AB-3 "reset on success only").
pub fn reset_password_failures(user_id: i64, b: &mut Batch) {
    let user = user_id.to_be_bytes();
    b.delete(counter_key(PASSWORD_FAILED_HOUR, &user));
    b.delete(counter_key(PASSWORD_FAILED_DAY, &user));
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
