//! The sessions of an account [doc: method/account.getAuthorizations,
//! method/account.resetAuthorization]: every logged-in key of the user, the current one marked
//! and named by hash 0; ending one makes it answer SESSION_REVOKED.

use super::auth::{check_not_fresh, revoke};
use super::{Caller, RpcContext, RpcError};
use crate::store::accounts::Accounts;
use crate::tl::{enums, types};

/// Days an unused session lives, as account.getAuthorizations reports it (not enforced).
const AUTHORIZATION_TTL_DAYS: i32 = 180;

pub fn get_authorizations(
    ctx: &RpcContext<'_>,
    caller: &Caller,
) -> Result<enums::account::Authorizations, RpcError> {
    let authorizations = Accounts::new(ctx.store)
        .authorizations_of(caller.user.id)?
        .into_iter()
        .map(|read| {
            let a = read.value;
            let current = a.key_id == ctx.key_id;
            types::Authorization {
                current,
                official_app: false,
                password_pending: false,
                encrypted_requests_disabled: false,
                call_requests_disabled: false,
                unconfirmed: false,
                hash: if current { 0 } else { a.hash },
                device_model: a.device_model,
                platform: String::new(),
                system_version: a.system_version,
                api_id: a.api_id,
                app_name: String::new(),
                app_version: a.app_version,
                date_created: a.created as i32,
                date_active: a.active as i32,
                ip: a.ip,
                country: String::new(),
                region: String::new(),
            }
            .into()
        })
        .collect();
    Ok(types::account::Authorizations {
        authorization_ttl_days: AUTHORIZATION_TTL_DAYS,
        authorizations,
    }
    .into())
}

/// account.resetAuthorization: HASH_INVALID for 0 (the current session) and unknown hashes.
pub fn reset_authorization(
    ctx: &RpcContext<'_>,
    caller: &Caller,
    hash: i64,
) -> Result<bool, RpcError> {
    let invalid = || RpcError::new(400, "HASH_INVALID");
    if hash == 0 {
        return Err(invalid());
    }
    let known = Accounts::new(ctx.store)
        .authorizations_of(caller.user.id)?
        .iter()
        .any(|a| a.value.hash == hash && a.value.key_id != ctx.key_id);
    if !known {
        return Err(invalid());
    }
    check_not_fresh(ctx, caller)?;
    match revoke(ctx, caller, |a| a.hash == hash)? {
        0 => Err(invalid()),
        _ => {
            tracing::info!(user_id = caller.user.id, "a session was ended");
            Ok(true)
        }
    }
}
