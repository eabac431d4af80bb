//! Web login tokens [doc: method/auth.importWebTokenAuthorization]: the MTProto half of a web
//! login that hands a session to another app. An operator mints one for a user
//! (`mtproto-auth web-token --user ID`: 32 random bytes in base64url, kept as SHA256, good once
//! for [`TTL`] seconds); auth.importWebTokenAuthorization logs the calling key in as that user
//! on the user's DC (USER_MIGRATE_X elsewhere), or leaves it waiting for the password
//! (SESSION_PASSWORD_NEEDED) as a code login would.

use base64::Engine as _;

use super::auth::{log_in_or_wait, with_retries};
use super::{RpcContext, RpcError};
use crate::crypto::sha256;
use crate::rand::Rng;
use crate::store::accounts::{Accounts, BatchExt};
use crate::store::records::{web_token_key, WebToken};
use crate::store::{Batch, Commit, Store};
use crate::tl::{enums, functions};

/// Seconds a web token stays good.
pub const TTL: i64 = 300;
/// The longest token looked at: ours are 43 characters.
const MAX_TOKEN_LEN: usize = 128;

/// Mints a token for `user_id` (durable when it returns); the token and its expiry.
pub fn mint(
    store: &dyn Store,
    rng: &mut dyn Rng,
    user_id: i64,
    now: i64,
) -> Result<(String, i64), String> {
    let acc = Accounts::new(store);
    let user = acc
        .user(user_id)
        .map_err(|e| e.to_string())?
        .filter(|u| !u.bot)
        .ok_or_else(|| format!("no user with id {user_id}"))?;
    let mut secret = [0u8; 32];
    rng.fill(&mut secret);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
    let record = WebToken {
        user_id: user.id,
        expires: now + TTL,
    };
    let mut b = Batch::default();
    b.swap(
        web_token_key(&sha256(&[token.as_bytes()])),
        None,
        Some(record.encode()),
    );
    match acc.commit(&b).map_err(|e| e.to_string())? {
        Commit::Applied { .. } => {}
        Commit::Conflict => return Err("the token could not be stored; try again".into()),
    }
    store.sync().map_err(|e| e.to_string())?;
    Ok((token, record.expires))
}

/// auth.importWebTokenAuthorization: the key is logged in as the token's user.
pub fn import(
    ctx: &RpcContext<'_>,
    rng: &mut dyn Rng,
    req: &functions::auth::ImportWebTokenAuthorization,
) -> Result<enums::auth::Authorization, RpcError> {
    if req.api_id <= 0 || req.api_hash.is_empty() {
        return Err(RpcError::new(400, "API_ID_INVALID"));
    }
    let token = req.web_auth_token.trim();
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Err(RpcError::new(400, "AUTH_TOKEN_INVALID"));
    }
    let hash = sha256(&[token.as_bytes()]);
    let key = web_token_key(&hash);
    let acc = Accounts::new(ctx.store);
    with_retries(|| {
        let stored = acc
            .web_token(&hash)?
            .ok_or_else(|| RpcError::new(400, "AUTH_TOKEN_INVALID"))?;
        if stored.value.expires <= i64::from(ctx.now) {
            return Err(RpcError::new(400, "AUTH_TOKEN_EXPIRED"));
        }
        let user = acc
            .user(stored.value.user_id)?
            .ok_or_else(|| RpcError::new(400, "AUTH_TOKEN_INVALID"))?;
        if user.home_dc != ctx.this_dc {
            return Err(RpcError::new(303, format!("USER_MIGRATE_{}", user.home_dc)));
        }
        let mut b = Batch::default();
        b.swap(key.clone(), Some(&stored.raw), None);
        let login = log_in_or_wait(ctx, rng, &acc, &user, None, b, "web token")?;
        if login.is_some() {
            tracing::info!(user_id = user.id, "logged in by a web token");
        }
        Ok(login)
    })
}

#[cfg(test)]
mod tests {
    use super::super::login_tests::Fixture;
    use super::super::password_tests::{check, empty, err, new_settings, proof, update};
    use super::*;
    use crate::rand::SeededRng;

    fn import(
        f: &Fixture,
        key: i64,
        dc: i32,
        token: &str,
    ) -> Result<enums::auth::Authorization, RpcError> {
        f.invoke(
            key,
            dc,
            &functions::auth::ImportWebTokenAuthorization {
                api_id: 6,
                api_hash: "h".into(),
                web_auth_token: token.into(),
            },
        )
    }

    #[test]
    fn a_web_token_logs_its_user_in_once_on_its_dc() {
        let f = Fixture::new();
        let user = f.register(1, "9996621234");
        let mut rng = SeededRng::new(4);
        assert!(mint(&f.store, &mut rng, 42, 0).is_err(), "no such user");
        let now = i64::from(f.now.get());
        let (token, expires) = mint(&f.store, &mut rng, user, now).unwrap();
        assert_eq!((token.len(), expires), (43, now + TTL));
        assert_eq!(
            import(&f, 5, 2, "nope").unwrap_err(),
            err(400, "AUTH_TOKEN_INVALID")
        );
        assert_eq!(
            import(&f, 5, 3, &token).unwrap_err(),
            err(303, "USER_MIGRATE_2")
        );
        let a = import(&f, 5, 2, &token).unwrap();
        assert_eq!(super::super::login_tests::user_id(&a), user);
        assert_eq!(
            import(&f, 6, 2, &token).unwrap_err(),
            err(400, "AUTH_TOKEN_INVALID"),
            "once"
        );
        let (late, _) = mint(&f.store, &mut rng, user, now).unwrap();
        f.now.set(f.now.get() + TTL as i32);
        assert_eq!(
            import(&f, 6, 2, &late).unwrap_err(),
            err(400, "AUTH_TOKEN_EXPIRED")
        );
    }

    #[test]
    fn an_account_with_a_password_waits_for_it() {
        let f = Fixture::new();
        let user = f.register(1, "9996621234");
        update(&f, 1, empty(), new_settings(&f, 1, "pw")).unwrap();
        let now = i64::from(f.now.get());
        let (token, _) = mint(&f.store, &mut SeededRng::new(4), user, now).unwrap();
        assert_eq!(
            import(&f, 5, 2, &token).unwrap_err(),
            err(401, "SESSION_PASSWORD_NEEDED")
        );
        assert_eq!(check(&f, 5, proof(&f, 5, "pw")), Ok(()));
    }
}
