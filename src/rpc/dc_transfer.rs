//! DC transfer [doc: api/datacenter "Authorization transfer"; method/auth.exportAuthorization,
//! auth.importAuthorization]: a logged-in session on the user's home DC exports an
//! authorization for another DC (`id` is the user's id, `bytes` the user id and 32 random bytes,
//! kept as SHA256, good once, for [`TTL`] seconds and on that DC only); a key there imports it and is logged in
//! as the same user, with its own authorization (account.getAuthorizations lists it). Such a
//! login may download from its DC but must run the user's own requests on the home DC: those
//! answer 303 USER_MIGRATE_X ([`must_run_at_home`]).

use subtle::ConstantTimeEq;

use super::auth::{log_in, with_retries};
use super::{Caller, RpcContext, RpcError};
use crate::crypto::sha256;
use crate::rand::Rng;
use crate::store::accounts::{Accounts, BatchExt};
use crate::store::records::{exported_auth_key, HashedToken};
use crate::store::{Batch, Commit};
use crate::tl::{enums, functions, types};

/// Seconds an exported authorization stays good (clients import it at once).
pub const TTL: i64 = 120;
/// Exported authorizations outstanding per user and target DC; the oldest go first.
const PER_USER_AND_DC: usize = 8;
/// `bytes`: the user id (8 bytes, big-endian), then 32 random bytes.
const BYTES_LEN: usize = 40;

fn bytes_invalid() -> RpcError {
    RpcError::new(400, "AUTH_BYTES_INVALID")
}

/// auth.exportAuthorization: an authorization of the caller for DC `dc_id`.
pub fn export(
    ctx: &RpcContext<'_>,
    rng: &mut dyn Rng,
    caller: &Caller,
    req: &functions::auth::ExportAuthorization,
) -> Result<enums::auth::ExportedAuthorization, RpcError> {
    if req.dc_id == ctx.this_dc || !ctx.dcs.iter().any(|d| d.id == req.dc_id) {
        return Err(RpcError::new(400, "DC_ID_INVALID"));
    }
    let user_id = caller.user.id;
    let mut bytes = vec![0u8; BYTES_LEN];
    bytes[..8].copy_from_slice(&user_id.to_be_bytes());
    rng.fill(&mut bytes[8..]);
    let hash = sha256(&[&bytes]);
    let now = i64::from(ctx.now);
    let acc = Accounts::new(ctx.store);
    let key = exported_auth_key(user_id, req.dc_id);
    with_retries(|| {
        let old = acc.exported_auths(user_id, req.dc_id)?;
        let mut held = old.as_ref().map(|o| o.value.clone()).unwrap_or_default();
        held.0.retain(|t| t.expires > now);
        held.0.push(HashedToken {
            hash,
            expires: now + TTL,
        });
        let excess = held.0.len().saturating_sub(PER_USER_AND_DC);
        held.0.drain(..excess);
        let mut b = Batch::default();
        b.swap(
            key.clone(),
            old.as_ref().map(|o| o.raw.as_slice()),
            Some(held.encode()),
        );
        Ok(matches!(acc.commit(&b)?, Commit::Applied { .. }).then_some(()))
    })?;
    tracing::info!(user_id, dc = req.dc_id, "authorization exported");
    Ok(types::auth::ExportedAuthorization { id: user_id, bytes }.into())
}

/// auth.importAuthorization on the DC the authorization was exported for: the key is logged
/// in as its user (USER_ID_INVALID when `id` is not the user the bytes were exported for,
/// AUTH_BYTES_INVALID for bytes that are not a live export for this DC).
pub fn import(
    ctx: &RpcContext<'_>,
    rng: &mut dyn Rng,
    req: &functions::auth::ImportAuthorization,
) -> Result<enums::auth::Authorization, RpcError> {
    if req.bytes.len() != BYTES_LEN {
        return Err(bytes_invalid());
    }
    let exported_for = i64::from_be_bytes(req.bytes[..8].try_into().expect("8 bytes"));
    if exported_for != req.id {
        return Err(RpcError::new(400, "USER_ID_INVALID"));
    }
    let acc = Accounts::new(ctx.store);
    let user = acc.user(exported_for)?.ok_or_else(bytes_invalid)?;
    let hash = sha256(&[&req.bytes]);
    let now = i64::from(ctx.now);
    with_retries(|| {
        let held = acc
            .exported_auths(user.id, ctx.this_dc)?
            .ok_or_else(bytes_invalid)?;
        let at = held
            .value
            .0
            .iter()
            .position(|t| bool::from(t.hash.ct_eq(&hash)) && t.expires > now)
            .ok_or_else(bytes_invalid)?;
        let mut rest = held.value.clone();
        rest.0.remove(at);
        let mut b = Batch::default();
        b.swap(
            exported_auth_key(user.id, ctx.this_dc),
            Some(&held.raw),
            (!rest.0.is_empty()).then(|| rest.encode()),
        );
        let login = log_in(ctx, rng, &acc, &user, b)?;
        if login.is_some() {
            tracing::info!(
                user_id = user.id,
                dc = ctx.this_dc,
                "authorization imported"
            );
        }
        Ok(login)
    })
}

/// Methods a login on a DC other than its user's home DC may not run there (303
/// USER_MIGRATE_X): the user's own data lives on the home DC. Downloads, help, the login's own
/// logout and reading users stay open, as Telegram keeps them for exported authorizations.
pub fn must_run_at_home(name: &str) -> bool {
    const AT_HOME: &[&str] = &[
        "account.",
        "updates.",
        "messages.",
        "contacts.",
        "photos.",
        "channels.",
        "auth.exportAuthorization",
        "auth.acceptLoginToken",
        "auth.resetAuthorizations",
    ];
    AT_HOME.iter().any(|p| name.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::super::login_tests::Fixture;
    use super::super::password_tests::err;
    use crate::tl::{enums, functions, types};

    const PHONE: &str = "9996621234";

    fn export(
        f: &Fixture,
        dc_id: i32,
    ) -> Result<types::auth::ExportedAuthorization, super::RpcError> {
        f.invoke(1, 2, &functions::auth::ExportAuthorization { dc_id })
            .map(|enums::auth::ExportedAuthorization::ExportedAuthorization(e)| e)
    }

    fn import(
        f: &Fixture,
        key: i64,
        dc: i32,
        id: i64,
        bytes: &[u8],
    ) -> Result<enums::auth::Authorization, super::RpcError> {
        f.invoke(
            key,
            dc,
            &functions::auth::ImportAuthorization {
                id,
                bytes: bytes.to_vec(),
            },
        )
    }

    #[test]
    fn an_authorization_exported_for_a_dc_logs_a_key_in_there_once() {
        let f = Fixture::new();
        let user = f.register(1, PHONE);
        assert_eq!(
            export(&f, 2).unwrap_err(),
            err(400, "DC_ID_INVALID"),
            "this DC"
        );
        assert_eq!(
            export(&f, 9).unwrap_err(),
            err(400, "DC_ID_INVALID"),
            "no such DC"
        );
        let e = export(&f, 3).unwrap();
        assert_eq!((e.id, e.bytes.len()), (user, 40));
        assert_eq!(
            import(&f, 5, 2, e.id, &e.bytes).unwrap_err(),
            err(400, "AUTH_BYTES_INVALID"),
            "good on its DC only"
        );
        assert_eq!(
            import(&f, 5, 3, 0, &e.bytes).unwrap_err(),
            err(400, "USER_ID_INVALID")
        );
        assert_eq!(
            import(&f, 5, 3, user + 1, &e.bytes).unwrap_err(),
            err(400, "USER_ID_INVALID")
        );
        assert_eq!(
            import(&f, 5, 3, user, &[0; 32]).unwrap_err(),
            err(400, "AUTH_BYTES_INVALID")
        );
        let mut forged = e.bytes.clone();
        forged[20] ^= 1;
        assert_eq!(
            import(&f, 5, 3, user, &forged).unwrap_err(),
            err(400, "AUTH_BYTES_INVALID")
        );
        let a = import(&f, 5, 3, user, &e.bytes).unwrap();
        assert_eq!(super::super::login_tests::user_id(&a), user);
        assert_eq!(
            import(&f, 6, 3, user, &e.bytes).unwrap_err(),
            err(400, "AUTH_BYTES_INVALID"),
            "used once"
        );
        // Users may be read there; the user's own requests run at home.
        assert!(f
            .invoke(
                5,
                3,
                &functions::users::GetUsers {
                    id: vec![types::InputUserSelf {}.into()]
                }
            )
            .is_ok());
        assert_eq!(
            f.invoke(5, 3, &functions::account::GetAuthorizations {})
                .unwrap_err(),
            err(303, "USER_MIGRATE_2")
        );
        assert_eq!(
            f.invoke(5, 3, &functions::auth::ExportAuthorization { dc_id: 1 })
                .unwrap_err(),
            err(303, "USER_MIGRATE_2")
        );
        // At home the new login is listed among the user's sessions.
        let enums::account::Authorizations::Authorizations(list) = f
            .invoke(1, 2, &functions::account::GetAuthorizations {})
            .unwrap();
        assert_eq!(list.authorizations.len(), 2);
        assert!(f.invoke(5, 3, &functions::auth::LogOut {}).is_ok());
    }

    #[test]
    fn exports_expire_and_are_bounded_per_user_and_dc() {
        let f = Fixture::new();
        let user = f.register(1, PHONE);
        let old = export(&f, 3).unwrap();
        f.now.set(f.now.get() + 120);
        assert_eq!(
            import(&f, 5, 3, user, &old.bytes).unwrap_err(),
            err(400, "AUTH_BYTES_INVALID")
        );
        let first = export(&f, 3).unwrap();
        let rest: Vec<_> = (0..8).map(|_| export(&f, 3).unwrap()).collect();
        assert_eq!(
            import(&f, 5, 3, user, &first.bytes).unwrap_err(),
            err(400, "AUTH_BYTES_INVALID"),
            "the oldest of nine went"
        );
        assert!(import(&f, 5, 3, user, &rest[0].bytes).is_ok());
        let acc = crate::store::accounts::Accounts::new(&f.store);
        assert_eq!(
            acc.exported_auths(user, 3).unwrap().unwrap().value.0.len(),
            7
        );
    }
}
