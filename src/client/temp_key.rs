//! Perfect forward secrecy from the client side [doc: api/pfs]: a connection made with a
//! temporary key (`InnerData::Temp`/`TempDc`) binds it to the client's permanent key with
//! auth.bindTempAuthKey, then acts for it.

use super::{Client, ClientError};
use crate::crypto::bind::{seal, Opened};
use crate::crypto::AuthKey;
use crate::rand::{PooledOsRng, Rng};
use crate::tl::{functions, Deserializable, Serializable};

impl Client {
    /// auth.bindTempAuthKey: this connection's (temporary) key is bound to `perm` until
    /// `expires_at` (unix time; at most the temporary key's expiry).
    pub async fn bind_temp_auth_key(
        &mut self,
        perm: &AuthKey,
        expires_at: i32,
    ) -> Result<(), ClientError> {
        let msg_id = self.next_msg_id();
        let inner = Opened {
            msg_id,
            nonce: i64::from_le_bytes(PooledOsRng.array()),
            temp_auth_key_id: self.auth_key().id(),
            perm_auth_key_id: perm.id(),
            temp_session_id: self.session_id(),
            expires_at,
        };
        let request = functions::auth::BindTempAuthKey {
            perm_auth_key_id: perm.id(),
            nonce: inner.nonce,
            expires_at,
            encrypted_message: seal(
                perm,
                msg_id,
                &inner,
                PooledOsRng.array(),
                PooledOsRng.array(),
            ),
        };
        let answer = self.invoke_raw_as(msg_id, &request.to_bytes()).await?;
        match bool::from_bytes(&answer) {
            Ok(true) => Ok(()),
            other => Err(ClientError::Protocol(format!(
                "bindTempAuthKey answered {other:?}"
            ))),
        }
    }

    /// auth.dropTempAuthKeys: the permanent key's temporary keys go, but those in `except`.
    pub async fn drop_temp_auth_keys(&mut self, except: Vec<i64>) -> Result<(), ClientError> {
        self.invoke_unit(&functions::auth::DropTempAuthKeys {
            except_auth_keys: except,
        })
        .await
    }
}
