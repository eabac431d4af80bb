//! QR login from the client side [doc: api/qr-login]: the app that is not logged in exports a
//! token and shows it as a `tg://login?token=…` link (or its QR code), waits for the
//! `updateLoginToken` a logged-in session's acceptLoginToken pushes, then exports again to be
//! logged in, or is sent to the user's DC to import a second token there.

use base64::Engine as _;

use super::login::{unexpected, user_of, SignedIn, API_HASH, API_ID};
use super::{Client, ClientError};
use crate::tl::{enums, functions, types};

/// What auth.exportLoginToken or auth.importLoginToken answered.
#[derive(Debug, Clone, PartialEq)]
pub enum QrLogin {
    /// A token to show, good until `expires` (unix time).
    Token {
        token: Vec<u8>,
        expires: i32,
    },
    /// Accepted by a user of DC `dc_id`: import `token` there.
    MigrateTo {
        dc_id: i32,
        token: Vec<u8>,
    },
    LoggedIn(Box<types::User>),
}

/// The link a QR code shows: `tg://login?token=` and the token in unpadded base64url.
pub fn login_url(token: &[u8]) -> String {
    format!(
        "tg://login?token={}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(token)
    )
}

/// The token of a `tg://login?token=…` link (what the accepting app scans).
pub fn token_of_url(url: &str) -> Option<Vec<u8>> {
    let token = url.strip_prefix("tg://login?token=")?;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .ok()
}

fn qr_login(answer: enums::auth::LoginToken) -> Result<QrLogin, ClientError> {
    Ok(match answer {
        enums::auth::LoginToken::LoginToken(t) => QrLogin::Token {
            token: t.token,
            expires: t.expires,
        },
        enums::auth::LoginToken::MigrateTo(m) => QrLogin::MigrateTo {
            dc_id: m.dc_id,
            token: m.token,
        },
        enums::auth::LoginToken::Success(s) => match user_of(s.authorization)? {
            SignedIn::User(u) => QrLogin::LoggedIn(u),
            SignedIn::SignUpRequired => return Err(unexpected("signUpRequired in a QR login")),
        },
    })
}

impl Client {
    /// auth.exportLoginToken with this project's api_id; `except_ids`: users that may not
    /// accept it.
    pub async fn export_login_token(
        &mut self,
        except_ids: Vec<i64>,
    ) -> Result<QrLogin, ClientError> {
        qr_login(
            self.invoke(&functions::auth::ExportLoginToken {
                api_id: API_ID,
                api_hash: API_HASH.into(),
                except_ids,
            })
            .await?,
        )
    }

    /// auth.importLoginToken: the token loginTokenMigrateTo named, on its DC.
    pub async fn import_login_token(&mut self, token: &[u8]) -> Result<QrLogin, ClientError> {
        qr_login(
            self.invoke(&functions::auth::ImportLoginToken {
                token: token.to_vec(),
            })
            .await?,
        )
    }

    /// auth.acceptLoginToken from this logged-in session: the session that logs in.
    pub async fn accept_login_token(
        &mut self,
        token: &[u8],
    ) -> Result<types::Authorization, ClientError> {
        let enums::Authorization::Authorization(a) = self
            .invoke(&functions::auth::AcceptLoginToken {
                token: token.to_vec(),
            })
            .await?;
        Ok(a)
    }

    /// Waits for the server's `updateLoginToken`: the exported token was accepted.
    pub async fn wait_login_token(&mut self) -> Result<(), ClientError> {
        loop {
            if let enums::Updates::UpdateShort(u) = self.next_update().await? {
                if matches!(u.update, enums::Update::LoginToken(_)) {
                    return Ok(());
                }
            }
        }
    }
}
