//! Key-level logins from the client side: DC transfer [doc: api/datacenter] (export the login
//! for another DC on the home DC, import it on a connection to that DC) and bots
//! [doc: method/auth.importBotAuthorization] and web tokens
//! [doc: method/auth.importWebTokenAuthorization].

use super::login::{unexpected, user_of, SignedIn};
use super::{Client, ClientError};
use crate::tl::{enums, functions, types};

impl Client {
    /// auth.exportAuthorization: (id, bytes) for auth.importAuthorization on DC `dc_id`.
    pub async fn export_authorization(
        &mut self,
        dc_id: i32,
    ) -> Result<(i64, Vec<u8>), ClientError> {
        let enums::auth::ExportedAuthorization::ExportedAuthorization(e) = self
            .invoke(&functions::auth::ExportAuthorization { dc_id })
            .await?;
        Ok((e.id, e.bytes))
    }

    /// auth.importAuthorization on this connection's DC: logged in as the exporting user.
    pub async fn import_authorization(
        &mut self,
        id: i64,
        bytes: Vec<u8>,
    ) -> Result<types::User, ClientError> {
        let a = self
            .invoke(&functions::auth::ImportAuthorization { id, bytes })
            .await?;
        match user_of(a)? {
            SignedIn::User(u) => Ok(*u),
            SignedIn::SignUpRequired => Err(unexpected("signUpRequired after importAuthorization")),
        }
    }

    /// auth.importBotAuthorization with this project's api_id: logged in as the bot (303
    /// USER_MIGRATE_X when it lives on another DC).
    pub async fn import_bot_authorization(
        &mut self,
        bot_token: &str,
    ) -> Result<types::User, ClientError> {
        let a = self
            .invoke(&functions::auth::ImportBotAuthorization {
                flags: 0,
                api_id: super::login::API_ID,
                api_hash: super::login::API_HASH.into(),
                bot_auth_token: bot_token.into(),
            })
            .await?;
        match user_of(a)? {
            SignedIn::User(u) => Ok(*u),
            SignedIn::SignUpRequired => Err(unexpected("signUpRequired for a bot")),
        }
    }

    /// auth.importWebTokenAuthorization with this project's api_id and a token
    /// `mtproto-auth web-token` minted.
    pub async fn import_web_token(&mut self, token: &str) -> Result<types::User, ClientError> {
        let a = self
            .invoke(&functions::auth::ImportWebTokenAuthorization {
                api_id: super::login::API_ID,
                api_hash: super::login::API_HASH.into(),
                web_auth_token: token.into(),
            })
            .await?;
        match user_of(a)? {
            SignedIn::User(u) => Ok(*u),
            SignedIn::SignUpRequired => Err(unexpected("signUpRequired for a web token")),
        }
    }
}
