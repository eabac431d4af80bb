//! Updates pushed to a user's other sessions [doc: api/auth]: the login code when it goes "to
//! the app" (auth.sentCodeTypeApp), updateNewAuthorization after a login (LG-3), and
//! updateLoginToken to the key whose QR token was accepted. They ride
//! in `updateShort` and are sent once the answer that caused them is durable.

use super::{Push, RpcContext};
use crate::store::records::Authorization;
use crate::tl::{types, Serializable};

/// updateNewAuthorization appeared in layer 163; older clients must not get it (CLIENTS.md §1).
const NEW_AUTHORIZATION_LAYER: i32 = 163;

fn short(ctx: &RpcContext<'_>, update: crate::tl::enums::Update) -> Vec<u8> {
    types::UpdateShort {
        update,
        date: ctx.now,
    }
    .to_bytes()
}

/// The login code, as a service notification in the user's other sessions.
pub fn login_code(ctx: &RpcContext<'_>, keys: Vec<i64>, code: &str) {
    if keys.is_empty() {
        return;
    }
    let update = types::UpdateServiceNotification {
        popup: false,
        invert_media: false,
        inbox_date: Some(ctx.now),
        r#type: "auth_code".into(),
        message: format!(
            "Login code: {code}. Do not give this code to anyone, even if they say they are \
             from this server. If you did not ask for it, ignore this message."
        ),
        media: types::MessageMediaEmpty {}.into(),
        entities: Vec::new(),
    };
    let body = short(ctx, update.into());
    ctx.pushes.borrow_mut().push(Push { keys, body });
}

/// A QR login token was accepted: the exporting key's connections are told (api/qr-login), so
/// that it calls auth.exportLoginToken again.
pub fn login_token(ctx: &RpcContext<'_>, key_id: i64) {
    let body = short(ctx, types::UpdateLoginToken {}.into());
    ctx.pushes.borrow_mut().push(Push {
        keys: vec![key_id],
        body,
    });
}

/// A new login, in the user's other sessions whose layer knows the update.
pub fn new_authorization(ctx: &RpcContext<'_>, others: &[Authorization], new: &Authorization) {
    let keys: Vec<i64> = others
        .iter()
        .filter(|a| a.key_id != new.key_id)
        .filter(|a| a.layer >= NEW_AUTHORIZATION_LAYER)
        .map(|a| a.key_id)
        .collect();
    if keys.is_empty() {
        return;
    }
    let update = types::UpdateNewAuthorization {
        unconfirmed: false,
        hash: new.hash,
        date: Some(ctx.now),
        device: Some(new.device_model.clone()),
        location: Some(new.ip.clone()),
    };
    let body = short(ctx, update.into());
    ctx.pushes.borrow_mut().push(Push { keys, body });
}
