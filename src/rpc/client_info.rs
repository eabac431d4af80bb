//! What a key's client said about itself in initConnection and invokeWithLayer (AC-3), and
//! where it is kept: in memory with the key until the key logs in, then with its login
//! (`records::Authorization`) so that it outlives a restart. A key that never logs in, and
//! every temporary key, leaves nothing of it on disk (security review item 2, DB-2), and each
//! string is capped at [`MAX_CLIENT_INFO_FIELD`] bytes before it is kept.

use crate::store::accounts::{Accounts, BatchExt};
use crate::store::records::Authorization;
use crate::store::{Batch, Commit, StoreError};

/// The most bytes of each initConnection string kept (longer ones are cut at a character
/// boundary): they are kept per key and shown in account.getAuthorizations; real clients send
/// well under 100.
pub const MAX_CLIENT_INFO_FIELD: usize = 256;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// The layer of invokeWithLayer (0: none declared).
    pub layer: i32,
    pub api_id: i32,
    pub device_model: String,
    pub system_version: String,
    pub app_version: String,
    pub system_lang_code: String,
    pub lang_pack: String,
    pub lang_code: String,
}

impl ClientInfo {
    /// What a key logged in as `auth` said when it last did (after a restart: the fields its
    /// login keeps).
    pub fn of_login(auth: &Authorization) -> ClientInfo {
        ClientInfo {
            layer: auth.layer,
            api_id: auth.api_id,
            device_model: auth.device_model.clone(),
            system_version: auth.system_version.clone(),
            app_version: auth.app_version.clone(),
            lang_code: auth.lang_code.clone(),
            ..ClientInfo::default()
        }
    }

    /// The client info after a request's wrappers: a new initConnection replaces it, a bare
    /// invokeWithLayer changes the layer. `None`: nothing changed (clients repeat the same
    /// wrappers on every connection).
    pub fn declared(&self, layer: Option<i32>, init: Option<ClientInfo>) -> Option<ClientInfo> {
        if layer.is_none() && init.is_none() {
            return None;
        }
        let mut info = init.unwrap_or_else(|| self.clone());
        info.layer = layer.unwrap_or(self.layer);
        (info != *self).then_some(info)
    }

    /// `auth` with this client's fields: account.getAuthorizations shows the latest
    /// initConnection, as Telegram's does.
    pub fn apply_to(&self, auth: &Authorization) -> Authorization {
        Authorization {
            api_id: self.api_id,
            device_model: self.device_model.clone(),
            system_version: self.system_version.clone(),
            app_version: self.app_version.clone(),
            lang_code: self.lang_code.clone(),
            layer: self.layer,
            ..auth.clone()
        }
    }
}

/// `s` cut to at most [`MAX_CLIENT_INFO_FIELD`] bytes, at a character boundary.
pub fn capped(mut s: String) -> String {
    if s.len() > MAX_CLIENT_INFO_FIELD {
        let mut at = MAX_CLIENT_INFO_FIELD;
        while !s.is_char_boundary(at) {
            at -= 1;
        }
        s.truncate(at);
    }
    s
}

/// Keeps changed client info with the key's login, if it has one (a key that is not logged in
/// keeps it in memory only). Returns whether a login record was written.
pub fn persist(
    accounts: &Accounts<'_>,
    key_id: i64,
    info: &ClientInfo,
) -> Result<bool, StoreError> {
    // A login or logout racing this write wins: the next change writes again.
    let Some(old) = accounts.authorization(key_id)? else {
        return Ok(false);
    };
    let new = info.apply_to(&old.value);
    if new == old.value {
        return Ok(false);
    }
    let mut b = Batch::default();
    b.update_authorization(&old, &new);
    Ok(matches!(accounts.commit(&b)?, Commit::Applied { .. }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(layer: i32, device: &str) -> ClientInfo {
        ClientInfo {
            layer,
            api_id: 6,
            device_model: device.into(),
            ..ClientInfo::default()
        }
    }

    #[test]
    fn wrappers_change_it_only_when_they_say_something_new() {
        let old = info(229, "pc");
        assert_eq!(old.declared(None, None), None);
        assert_eq!(old.declared(Some(229), Some(info(0, "pc"))), None);
        assert_eq!(old.declared(Some(230), None), Some(info(230, "pc")));
        assert_eq!(
            old.declared(None, Some(info(0, "phone"))),
            Some(info(229, "phone"))
        );
    }
}
