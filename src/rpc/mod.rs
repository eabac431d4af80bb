//! RPC dispatch (ARCHITECTURE rule 10) [doc: api/invoking, api/auth]: unwraps the connection
//! wrappers, applies access control (AC-1, AC-2, LO-1), and routes each typed request to its
//! handler. A known method not served answers 400 `INPUT_METHOD_INVALID` (D6), never silence.

mod account;
mod auth;
pub mod bots;
pub mod client_info;
mod dc_transfer;
mod error;
pub mod flood;
pub mod future_token;
mod help;
pub mod login;
mod login_email;
mod login_token;
mod notify;
mod outbox_file;
pub mod password;
mod password_email;
pub mod password_recovery;
pub mod seed_user;
mod updates;
mod users;
pub mod web_token;

pub use client_info::{capped, ClientInfo, MAX_CLIENT_INFO_FIELD};
pub use error::RpcError;
pub use login::LoginConfig;
pub use users::user_object;

use crate::rand::Rng;
use crate::store::accounts::{Accounts, BatchExt, Read};
use crate::store::records::{authorization_key, Authorization, User};
use crate::store::{Batch, Commit, Store};
use crate::tl::functions::Function;
use crate::tl::Serializable;

/// One DC as help.getConfig advertises it: the address actually served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DcAddress {
    pub id: i32,
    pub ip: String,
    pub port: u16,
}

/// What a handler may know about the server and the calling key.
#[derive(Clone)]
pub struct RpcContext<'a> {
    /// The DC the request arrived on.
    pub this_dc: i32,
    pub dcs: &'a [DcAddress],
    pub test_mode: bool,
    /// Unix time, seconds.
    pub now: i32,
    /// The msg_id of the query (a wrapped ping's pong names it).
    pub msg_id: i64,
    /// The key the query came under.
    pub key_id: i64,
    /// Whether that key is temporary (PF-2: nothing is bound to one here yet).
    pub temp_key: bool,
    /// The client's address, as account.getAuthorizations shows it.
    pub peer: &'a str,
    pub store: &'a dyn Store,
    pub login: &'a LoginConfig,
    /// What the calling key's client said in initConnection and invokeWithLayer, this request's
    /// wrappers included.
    pub client: &'a ClientInfo,
    /// The password checks issued and not yet used.
    pub srp: &'a password::Challenges,
    /// Updates for other sessions the handler wants sent (after its answer is durable).
    pub pushes: &'a std::cell::RefCell<Vec<Push>>,
}

/// An update (a serialized `Updates`) for every connection of the named auth keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    pub keys: Vec<i64>,
    pub body: Vec<u8>,
}

/// The logged-in user behind a key.
#[derive(Debug, Clone)]
pub struct Caller {
    pub authorization: Read<Authorization>,
    pub user: User,
}

/// Methods an unauthorized key may call (AC-1) [doc: api/auth].
const UNAUTHORIZED_ALLOWED: &[&str] = &[
    "account.deleteAccount",
    "account.getPassword",
    "account.sendVerifyEmailCode",
    "account.verifyEmail",
    "auth.bindTempAuthKey",
    "auth.cancelCode",
    "auth.checkPassword",
    "auth.exportLoginToken",
    "auth.importAuthorization",
    "auth.importBotAuthorization",
    "auth.importLoginToken",
    "auth.importWebTokenAuthorization",
    "auth.reportMissingCode",
    "auth.requestFirebaseSms",
    "auth.resendCode",
    "auth.resetLoginEmail",
    "auth.sendCode",
    "auth.signIn",
    "auth.signUp",
    "help.getAppConfig",
    "help.getConfig",
    "help.getCountriesList",
    "help.getDeepLinkInfo",
    "help.getNearestDc",
    "help.saveAppLog",
    "initConnection",
    "invokeWithLayer",
    "payments.assignAppStoreTransaction",
    "payments.assignPlayMarketTransaction",
    "payments.canPurchaseStore",
    "payments.getPaymentForm",
    "payments.sendPaymentForm",
];

/// What a key waiting for its password (AC-2) may call besides AC-1's list: the recovery by
/// email, which is where a forgotten password is found out (api/srp "Email recovery"; TDLib
/// calls these in authorizationStateWaitPassword).
const PASSWORD_PENDING_ALLOWED: &[&str] = &[
    "auth.requestPasswordRecovery",
    "auth.checkRecoveryPassword",
    "auth.recoverPassword",
];

/// What an unbound temporary key may call (PF-2) [doc: api/pfs].
const TEMP_KEY_ALLOWED: &[&str] = &[
    "auth.bindTempAuthKey",
    "help.getConfig",
    "help.getNearestDc",
];

/// AC-1: whether an unauthorized key may call the (innermost) method `name`.
pub fn allowed_unauthorized(name: &str) -> bool {
    name.starts_with("langpack.") || UNAUTHORIZED_ALLOWED.contains(&name)
}

/// A request with its wrappers taken off (SV-5): the innermost query, and what the wrappers
/// said about the client.
#[derive(Debug)]
pub struct Unwrapped {
    pub query: Function,
    pub layer: Option<i32>,
    pub init: Option<ClientInfo>,
}

/// Takes off invokeWithLayer, initConnection, invokeWithoutUpdates, invokeAfterMsg(s) and the
/// other invoke* wrappers, checking their fields (INPUT_LAYER_INVALID,
/// CONNECTION_API_ID_INVALID).
pub fn unwrap(mut f: Function) -> Result<Unwrapped, RpcError> {
    let mut layer = None;
    let mut init = None;
    loop {
        f = match f {
            Function::InvokeWithLayer(w) => {
                if w.layer <= 0 {
                    return Err(RpcError::new(400, "INPUT_LAYER_INVALID"));
                }
                layer = Some(w.layer);
                *w.query
            }
            Function::InitConnection(w) => {
                if w.api_id <= 0 {
                    return Err(RpcError::new(400, "CONNECTION_API_ID_INVALID"));
                }
                init = Some(ClientInfo {
                    layer: 0,
                    api_id: w.api_id,
                    device_model: capped(w.device_model),
                    system_version: capped(w.system_version),
                    app_version: capped(w.app_version),
                    system_lang_code: capped(w.system_lang_code),
                    lang_pack: capped(w.lang_pack),
                    lang_code: capped(w.lang_code),
                });
                *w.query
            }
            Function::InvokeWithoutUpdates(w) => *w.query,
            // SV-12: requests are handled in order, so the messages named are done already.
            Function::InvokeAfterMsg(w) => *w.query,
            Function::InvokeAfterMsgs(w) => *w.query,
            Function::InvokeWithMessagesRange(w) => *w.query,
            Function::InvokeWithTakeout(w) => *w.query,
            Function::InvokeWithBusinessConnection(w) => *w.query,
            Function::InvokeWithGooglePlayIntegrity(w) => *w.query,
            Function::InvokeWithApnsSecret(w) => *w.query,
            Function::InvokeWithReCaptcha(w) => *w.query,
            other => {
                return Ok(Unwrapped {
                    query: other,
                    layer,
                    init,
                })
            }
        };
    }
}

/// Runs the innermost query: access control, then its handler. Returns the serialized result.
pub fn dispatch(
    ctx: &RpcContext<'_>,
    rng: &mut dyn Rng,
    query: &Function,
) -> Result<Vec<u8>, RpcError> {
    // AC-2: MTProto service functions are always allowed. Telethon wraps ping in
    // invokeWithoutUpdates; its answer is then a pong inside rpc_result.
    if let Function::Ping(p) = query {
        let pong = crate::tl::types::Pong {
            msg_id: ctx.msg_id,
            ping_id: p.ping_id,
        };
        return Ok(pong.to_bytes());
    }
    let name = query.name();
    // PF-2: an unbound temporary key may only bind itself or read the config; binding is not
    // served yet, so nothing (no login in particular) is ever stored for a temporary key.
    if ctx.temp_key && !TEMP_KEY_ALLOWED.contains(&name) {
        return Err(RpcError::new(401, "AUTH_KEY_PERM_EMPTY"));
    }
    let Some(caller) = caller(ctx)? else {
        if !allowed_unauthorized(name) {
            let acc = Accounts::new(ctx.store);
            if PASSWORD_PENDING_ALLOWED.contains(&name)
                && acc.password_pending(ctx.key_id)?.is_some()
            {
                return recovery_methods(ctx, rng, None, query);
            }
            // LO-1: a key whose session another one ended is told so; AC-2: one that waits for
            // the password, that.
            return Err(if acc.revoked(ctx.key_id)? {
                RpcError::new(401, "SESSION_REVOKED")
            } else if acc.password_pending(ctx.key_id)?.is_some() {
                RpcError::new(401, "SESSION_PASSWORD_NEEDED")
            } else {
                RpcError::new(401, "AUTH_KEY_UNREGISTERED")
            });
        }
        return open_methods(ctx, rng, query);
    };
    if caller.user.bot && bots::refused_for_bots(name) {
        return Err(RpcError::new(400, "BOT_METHOD_INVALID"));
    }
    // A login imported on a DC that is not its user's home runs the user's own requests at home.
    if caller.user.home_dc != ctx.this_dc && dc_transfer::must_run_at_home(name) {
        return Err(RpcError::new(
            303,
            format!("USER_MIGRATE_{}", caller.user.home_dc),
        ));
    }
    match query {
        Function::AuthLogOut(_) => ser(auth::log_out(ctx, rng, &caller)),
        Function::AuthExportAuthorization(r) => ser(dc_transfer::export(ctx, rng, &caller, r)),
        Function::AuthResetAuthorizations(_) => ser(auth::reset_authorizations(ctx, &caller)),
        Function::AccountGetAuthorizations(_) => ser(account::get_authorizations(ctx, &caller)),
        Function::AccountResetAuthorization(r) => {
            ser(account::reset_authorization(ctx, &caller, r.hash))
        }
        Function::UsersGetUsers(r) => ser(Ok(users::get_users(&caller.user, &r.id))),
        Function::UsersGetFullUser(r) => ser(users::get_full_user(&caller.user, &r.id)),
        Function::UpdatesGetState(_) => ser(Ok(updates::get_state(ctx))),
        Function::UpdatesGetDifference(_) => ser(Ok(updates::get_difference(ctx))),
        Function::AccountGetPasswordSettings(r) => {
            ser(password::get_password_settings(ctx, &caller, r))
        }
        Function::AccountUpdatePasswordSettings(r) => {
            ser(password::update_password_settings(ctx, rng, &caller, r))
        }
        Function::AccountConfirmPasswordEmail(r) => ser(password_email::confirm(ctx, &caller, r)),
        Function::AccountResendPasswordEmail(_) => ser(password_email::resend(ctx, rng, &caller)),
        Function::AccountCancelPasswordEmail(_) => ser(password_email::cancel(ctx, &caller)),
        Function::AccountResetPassword(_) => ser(password_recovery::reset(ctx, rng, &caller)),
        Function::AccountDeclinePasswordReset(_) => {
            ser(password_recovery::decline_reset(ctx, &caller))
        }
        Function::AccountGetTmpPassword(r) => {
            ser(password_recovery::get_tmp_password(ctx, rng, &caller, r))
        }
        Function::AccountSendVerifyEmailCode(r) => {
            ser(login_email::send_verify_code(ctx, rng, Some(&caller), r))
        }
        Function::AccountVerifyEmail(r) => ser(login_email::verify(ctx, rng, Some(&caller), r)),
        Function::AuthAcceptLoginToken(r) => ser(login_token::accept(ctx, rng, &caller, r)),
        Function::AuthRequestPasswordRecovery(_)
        | Function::AuthCheckRecoveryPassword(_)
        | Function::AuthRecoverPassword(_) => recovery_methods(ctx, rng, Some(&caller), query),
        _ => open_methods(ctx, rng, query),
    }
}

/// The password recovery by email, for a logged-in key (`caller`) or one waiting for its
/// password.
fn recovery_methods(
    ctx: &RpcContext<'_>,
    rng: &mut dyn Rng,
    caller: Option<&Caller>,
    query: &Function,
) -> Result<Vec<u8>, RpcError> {
    match query {
        Function::AuthRequestPasswordRecovery(_) => ser(password_recovery::request(ctx, rng)),
        Function::AuthCheckRecoveryPassword(r) => ser(password_recovery::check_code(ctx, r)),
        Function::AuthRecoverPassword(r) => ser(password_recovery::recover(ctx, rng, caller, r)),
        _ => Err(RpcError::new(400, "INPUT_METHOD_INVALID")),
    }
}

/// The methods any permanent key may call, logged in or not (AC-1), that this server serves.
fn open_methods(
    ctx: &RpcContext<'_>,
    rng: &mut dyn Rng,
    query: &Function,
) -> Result<Vec<u8>, RpcError> {
    match query {
        Function::HelpGetConfig(_) => Ok(help::get_config(ctx)),
        Function::HelpGetNearestDc(_) => Ok(help::get_nearest_dc(ctx)),
        Function::AuthSendCode(r) => ser(auth::send_code(ctx, rng, r)),
        Function::AuthResendCode(r) => ser(auth::resend_code(ctx, rng, r)),
        Function::AuthCancelCode(r) => ser(auth::cancel_code(ctx, r)),
        Function::AuthSignIn(r) => ser(auth::sign_in(ctx, rng, r)),
        Function::AuthSignUp(r) => ser(auth::sign_up(ctx, rng, r)),
        Function::AccountGetPassword(_) => ser(password::get_password(ctx, rng)),
        Function::AuthCheckPassword(r) => ser(password::check_password(ctx, rng, r)),
        Function::AccountSendVerifyEmailCode(r) => {
            ser(login_email::send_verify_code(ctx, rng, None, r))
        }
        Function::AccountVerifyEmail(r) => ser(login_email::verify(ctx, rng, None, r)),
        Function::AuthResetLoginEmail(r) => ser(login_email::reset(ctx, rng, r)),
        Function::AuthExportLoginToken(r) => ser(login_token::export(ctx, rng, r)),
        Function::AuthImportAuthorization(r) => ser(dc_transfer::import(ctx, rng, r)),
        Function::AuthImportBotAuthorization(r) => ser(bots::import(ctx, rng, r)),
        Function::AuthImportWebTokenAuthorization(r) => ser(web_token::import(ctx, rng, r)),
        Function::AuthImportLoginToken(r) => ser(login_token::import(ctx, rng, r)),
        _ => Err(RpcError::new(400, "INPUT_METHOD_INVALID")),
    }
}

/// The user bound to the calling key, if any.
fn caller(ctx: &RpcContext<'_>) -> Result<Option<Caller>, RpcError> {
    let acc = Accounts::new(ctx.store);
    let Some(authorization) = acc.authorization(ctx.key_id)? else {
        return Ok(None);
    };
    let authorization = touch(ctx, &acc, authorization)?;
    let user = acc.user(authorization.value.user_id)?.ok_or_else(|| {
        tracing::error!(
            user_id = authorization.value.user_id,
            "an authorization names a user that is not stored"
        );
        RpcError::internal()
    })?;
    Ok(Some(Caller {
        authorization,
        user,
    }))
}

/// How stale an authorization's `active` time may get before a request refreshes it (one
/// small write per key and interval, not one per request).
const ACTIVE_EVERY_SECS: i64 = 3600;

/// Refreshes the authorization's last-active time (account.getAuthorizations' date_active)
/// when it is older than [`ACTIVE_EVERY_SECS`]. A concurrent change wins; the next request
/// tries again.
fn touch(
    ctx: &RpcContext<'_>,
    acc: &Accounts<'_>,
    read: Read<Authorization>,
) -> Result<Read<Authorization>, RpcError> {
    let now = i64::from(ctx.now);
    if now - read.value.active < ACTIVE_EVERY_SECS {
        return Ok(read);
    }
    let fresh = Authorization {
        active: now,
        ..read.value.clone()
    };
    let raw = fresh.encode();
    let mut b = Batch::default();
    b.swap(
        authorization_key(ctx.key_id),
        Some(&read.raw),
        Some(raw.clone()),
    );
    Ok(match acc.commit(&b)? {
        Commit::Applied { .. } => Read { value: fresh, raw },
        Commit::Conflict => read,
    })
}

fn ser<T: Serializable>(result: Result<T, RpcError>) -> Result<Vec<u8>, RpcError> {
    result.map(|v| v.to_bytes())
}

#[cfg(test)]
mod login_email_tests;
#[cfg(test)]
pub(crate) mod login_tests;
#[cfg(test)]
mod login_token_tests;
#[cfg(test)]
mod password_recovery_tests;
#[cfg(test)]
mod password_tests;

#[cfg(test)]
mod tests {
    use super::login_tests::Fixture;
    use super::*;
    use crate::tl::{functions, types, Deserializable, Serializable};

    fn dispatch(f: &Fixture, query: &Function) -> Result<Vec<u8>, RpcError> {
        f.call(1, 2, query)
    }

    #[test]
    fn wrappers_are_unwrapped_and_client_info_kept() {
        let request = functions::InvokeWithLayer {
            layer: 229,
            query: functions::InitConnection {
                api_id: 6,
                device_model: "pc".into(),
                system_version: "linux".into(),
                app_version: "1.0".into(),
                system_lang_code: "en".into(),
                lang_pack: "".into(),
                lang_code: "en".into(),
                proxy: None,
                params: None,
                query: functions::InvokeWithoutUpdates {
                    query: functions::help::GetConfig {},
                },
            },
        };
        let f = Function::from_bytes(&request.to_bytes()).unwrap();
        let u = unwrap(f).unwrap();
        assert_eq!(u.query.name(), "help.getConfig");
        assert_eq!(u.layer, Some(229));
        let init = u.init.unwrap();
        assert_eq!((init.api_id, init.device_model.as_str()), (6, "pc"));
    }

    #[test]
    fn client_info_fields_are_capped_at_a_character_boundary() {
        let request = functions::InitConnection {
            api_id: 6,
            device_model: "é".repeat(5000),
            system_version: "x".repeat(300),
            app_version: "1.0".into(),
            system_lang_code: "en".into(),
            lang_pack: "".into(),
            lang_code: "en".repeat(1000),
            proxy: None,
            params: None,
            query: functions::help::GetConfig {},
        };
        let f = Function::from_bytes(&request.to_bytes()).unwrap();
        let init = unwrap(f).unwrap().init.unwrap();
        assert_eq!(init.device_model, "é".repeat(128));
        assert_eq!(init.system_version.len(), MAX_CLIENT_INFO_FIELD);
        assert_eq!(init.lang_code.len(), MAX_CLIENT_INFO_FIELD);
        assert_eq!(init.app_version, "1.0");
    }

    #[test]
    fn bad_wrapper_fields_get_their_errors() {
        let f = Function::InvokeWithLayer(functions::InvokeWithLayer {
            layer: 0,
            query: Box::new(Function::HelpGetConfig(functions::help::GetConfig {})),
        });
        assert_eq!(
            unwrap(f).unwrap_err(),
            RpcError::new(400, "INPUT_LAYER_INVALID")
        );
    }

    #[test]
    fn access_control_and_unserved_methods() {
        let f = Fixture::new();
        let get_users = Function::UsersGetUsers(functions::users::GetUsers {
            id: vec![types::InputUserSelf {}.into()],
        });
        assert_eq!(
            dispatch(&f, &get_users).unwrap_err(),
            RpcError::new(401, "AUTH_KEY_UNREGISTERED")
        );
        let app_config = Function::HelpGetAppConfig(functions::help::GetAppConfig { hash: 0 });
        assert_eq!(
            dispatch(&f, &app_config).unwrap_err(),
            RpcError::new(400, "INPUT_METHOD_INVALID")
        );
        assert!(allowed_unauthorized("langpack.getLangPack"));
        assert!(!allowed_unauthorized("messages.sendMessage"));
    }

    #[test]
    fn get_config_advertises_every_dc_served() {
        let f = Fixture::new();
        let bytes = dispatch(&f, &Function::HelpGetConfig(functions::help::GetConfig {})).unwrap();
        let crate::tl::enums::Config::Config(config) =
            crate::tl::enums::Config::from_bytes(&bytes).unwrap();
        assert!(config.test_mode);
        assert_eq!(config.this_dc, 2);
        let got: Vec<(i32, String, i32, bool)> = config
            .dc_options
            .iter()
            .map(|o| {
                let crate::tl::enums::DcOption::DcOption(o) = o;
                (o.id, o.ip_address.clone(), o.port, o.r#static)
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (1, "127.0.0.1".into(), 4431, true),
                (2, "127.0.0.2".into(), 4432, true),
                (3, "127.0.0.3".into(), 4433, true)
            ]
        );
        let bytes = dispatch(
            &f,
            &Function::HelpGetNearestDc(functions::help::GetNearestDc {}),
        )
        .unwrap();
        let crate::tl::enums::NearestDc::NearestDc(n) =
            crate::tl::enums::NearestDc::from_bytes(&bytes).unwrap();
        assert_eq!((n.this_dc, n.nearest_dc), (2, 2));
    }
}
