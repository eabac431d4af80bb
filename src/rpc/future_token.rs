//! Future auth tokens (LO-2) [doc: api/auth "Logout tokens"]: every login and every logout hands
//! the client 32 random bytes; a later auth.sendCode that names one of them in
//! `codeSettings.logout_tokens`, for the same phone number, logs in without a code
//! (`auth.sentCodeSuccess`, or 401 SESSION_PASSWORD_NEEDED with a password). The store keeps
//! only each token's SHA256, in one record per user, at most [`PER_USER`], each used once and for
//! [`TTL`] seconds.

use subtle::ConstantTimeEq;

use super::RpcContext;
use super::RpcError;
use crate::crypto::sha256;
use crate::rand::Rng;
use crate::store::accounts::{Accounts, BatchExt};
use crate::store::records::{future_tokens_key, HashedToken, HashedTokens, User};
use crate::store::Batch;

/// How long a token stays good, in seconds (30 days).
pub const TTL: i64 = 30 * 86_400;
/// Tokens kept per user (clients keep at most 20, LO-2); the oldest go first.
pub const PER_USER: usize = 20;
/// The longest token looked up: ours are 32 bytes.
const MAX_TOKEN_LEN: usize = 64;

/// A new token for `user_id`, written into `b` (the write of the login or logout that hands it
/// out, which then also fails if another login changed the user's tokens meanwhile); the
/// expired ones and the oldest past [`PER_USER`] go.
pub fn issue(
    ctx: &RpcContext<'_>,
    rng: &mut dyn Rng,
    acc: &Accounts<'_>,
    user_id: i64,
    b: &mut Batch,
) -> Result<Vec<u8>, RpcError> {
    let mut token = vec![0u8; 32];
    rng.fill(&mut token);
    let now = i64::from(ctx.now);
    let key = future_tokens_key(user_id);
    // The batch may already change them (a token redeemed by this login): start from that.
    let written = b
        .ops
        .iter()
        .rev()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.clone());
    let (mut tokens, old) = match written {
        Some(Some(v)) => (HashedTokens::decode(&v)?, None),
        Some(None) => (HashedTokens::default(), None),
        None => {
            let old = acc.future_tokens(user_id)?;
            let tokens = old.as_ref().map(|o| o.value.clone()).unwrap_or_default();
            (tokens, Some(old))
        }
    };
    tokens.0.retain(|t| t.expires > now);
    tokens.0.push(HashedToken {
        hash: sha256(&[&token]),
        expires: now + TTL,
    });
    let excess = tokens.0.len().saturating_sub(PER_USER);
    tokens.0.drain(..excess);
    match old {
        Some(old) => b.swap(
            key,
            old.as_ref().map(|o| o.raw.as_slice()),
            Some(tokens.encode()),
        ),
        // Expected already, by the write that changed them.
        None => b.put(key, tokens.encode()),
    };
    Ok(token)
}

/// Whether one of `tokens` is a live token of `user`; if so it is taken out in `b` (single
/// use). Each is compared with every stored hash in constant time.
pub fn redeem(
    ctx: &RpcContext<'_>,
    acc: &Accounts<'_>,
    user: &User,
    tokens: &[Vec<u8>],
    b: &mut Batch,
) -> Result<bool, RpcError> {
    let Some(held) = acc.future_tokens(user.id)? else {
        return Ok(false);
    };
    let now = i64::from(ctx.now);
    for token in tokens.iter().take(PER_USER) {
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            continue;
        }
        let hash = sha256(&[token]);
        let Some(at) = held
            .value
            .0
            .iter()
            .position(|t| bool::from(t.hash.ct_eq(&hash)) && t.expires > now)
        else {
            continue;
        };
        let mut rest = held.value.clone();
        rest.0.remove(at);
        b.swap(
            future_tokens_key(user.id),
            Some(&held.raw),
            Some(rest.encode()),
        );
        return Ok(true);
    }
    Ok(false)
}
