//! Future auth tokens (LO-2) [doc: api/auth "Logout tokens"]: every login and every logout hands
//! the client 32 random bytes; a later auth.sendCode that names one of them in
//! `codeSettings.logout_tokens`, for the same phone number, logs in without a code
//! (`auth.sentCodeSuccess`, or 401 SESSION_PASSWORD_NEEDED with a password). The store keeps
//! only each token's SHA256, at most [`PER_USER`] per user, each used once and for
//! [`TTL`] seconds.

use super::RpcContext;
use super::RpcError;
use crate::crypto::sha256;
use crate::rand::Rng;
use crate::store::accounts::{Accounts, BatchExt, Read};
use crate::store::records::{future_token_key, user_future_token_key, FutureToken, User};
use crate::store::Batch;

/// How long a token stays good, in seconds (30 days).
pub const TTL: i64 = 30 * 86_400;
/// Tokens kept per user (clients keep at most 20, LO-2); the oldest go first.
pub const PER_USER: usize = 20;
/// The longest token looked up: ours are 32 bytes.
const MAX_TOKEN_LEN: usize = 64;

/// A new token for `user_id`, written into `b` (the write of the login or logout that hands it
/// out); the user's oldest go past [`PER_USER`].
pub fn issue(
    ctx: &RpcContext<'_>,
    rng: &mut dyn Rng,
    acc: &Accounts<'_>,
    user_id: i64,
    b: &mut Batch,
) -> Result<Vec<u8>, RpcError> {
    let mut token = vec![0u8; 32];
    rng.fill(&mut token);
    let hash = sha256(&[&token]);
    let now = i64::from(ctx.now);
    let held = acc.future_tokens_of(user_id, PER_USER + 8)?;
    for index in held.iter().take((held.len() + 1).saturating_sub(PER_USER)) {
        if let Some(old) = index.get(index.len() - 32..) {
            b.delete([&[b'T'][..], old].concat());
        }
        b.delete(index.clone());
    }
    let record = FutureToken {
        user_id,
        created: now,
        expires: now + TTL,
    };
    b.put(future_token_key(&hash), record.encode());
    b.put(user_future_token_key(user_id, now, &hash), Vec::new());
    Ok(token)
}

/// The first of `tokens` that is a live token of `user`, taken out in `b` (single use).
pub fn redeem(
    ctx: &RpcContext<'_>,
    acc: &Accounts<'_>,
    user: &User,
    tokens: &[Vec<u8>],
    b: &mut Batch,
) -> Result<bool, RpcError> {
    for token in tokens.iter().take(PER_USER) {
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            continue;
        }
        // The lookup is by the token's hash: nothing about a stored token leaks from timing.
        let hash = sha256(&[token]);
        let Some(Read { value, raw }) = acc.future_token(&hash)? else {
            continue;
        };
        if value.user_id != user.id || value.expires <= i64::from(ctx.now) {
            continue;
        }
        b.swap(future_token_key(&hash), Some(&raw), None);
        b.delete(user_future_token_key(user.id, value.created, &hash));
        return Ok(true);
    }
    Ok(false)
}
