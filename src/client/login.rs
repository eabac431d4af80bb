//! Phone login from the client side [doc: api/auth]: auth.sendCode, auth.signIn and
//! auth.signUp as typed steps, for the CLI, the tests and `bench login`. Following
//! PHONE_MIGRATE_X is left to the caller: it needs another connection.

use super::{Client, ClientError};
use crate::tl::{enums, functions, types};

/// The api_id and api_hash this project's own tools send (any pair is accepted by default).
pub const API_ID: i32 = 6;
pub const API_HASH: &str = "eb06d4abfb49dc3eeb1aeb98ae0f581e";

/// What auth.sendCode answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeSent {
    pub phone_code_hash: String,
    /// Code digits.
    pub length: i32,
    /// Delivered to the user's other sessions (auth.sentCodeTypeApp) rather than by "SMS".
    pub in_app: bool,
    /// Delivered to the account's login email, shown as this pattern
    /// (auth.sentCodeTypeEmailCode): sign in with [`Client::sign_in_by_email`].
    pub email_pattern: Option<String>,
    /// Nothing delivered yet: the new account must set up a login email first
    /// (auth.sentCodeTypeSetUpEmailRequired; [`Client::set_up_login_email`]).
    pub email_setup_required: bool,
}

impl CodeSent {
    /// What a sentCode says (`None` for sentCodeSuccess and the code types this server never
    /// sends).
    pub fn from_sent(s: types::auth::SentCode) -> Result<Self, ClientError> {
        let mut sent = CodeSent {
            phone_code_hash: s.phone_code_hash,
            length: 0,
            in_app: false,
            email_pattern: None,
            email_setup_required: false,
        };
        match s.r#type {
            enums::auth::SentCodeType::Sms(t) => sent.length = t.length,
            enums::auth::SentCodeType::App(t) => (sent.length, sent.in_app) = (t.length, true),
            enums::auth::SentCodeType::EmailCode(t) => {
                (sent.length, sent.email_pattern) = (t.length, Some(t.email_pattern))
            }
            enums::auth::SentCodeType::SetUpEmailRequired(_) => sent.email_setup_required = true,
            other => return Err(unexpected(other)),
        }
        Ok(sent)
    }
}

/// How auth.signIn ended.
#[derive(Debug, Clone, PartialEq)]
pub enum SignedIn {
    User(Box<types::User>),
    /// A right code for a number without an account: auth.signUp next.
    SignUpRequired,
}

/// The 303 error's DC, if `e` is PHONE_MIGRATE_X.
pub fn phone_migrate_dc(e: &ClientError) -> Option<i32> {
    migrate_dc(e, "PHONE_MIGRATE_")
}

/// The 303 error's DC, if `e` is USER_MIGRATE_X (a bot's or a user's home DC).
pub fn user_migrate_dc(e: &ClientError) -> Option<i32> {
    migrate_dc(e, "USER_MIGRATE_")
}

fn migrate_dc(e: &ClientError, prefix: &str) -> Option<i32> {
    match e {
        ClientError::Rpc(r) if r.code == 303 => {
            r.message.strip_prefix(prefix).and_then(|d| d.parse().ok())
        }
        _ => None,
    }
}

pub(super) fn unexpected(what: impl std::fmt::Debug) -> ClientError {
    ClientError::Protocol(format!("unexpected answer: {what:?}"))
}

pub(super) fn user_of(a: enums::auth::Authorization) -> Result<SignedIn, ClientError> {
    match a {
        enums::auth::Authorization::Authorization(a) => match a.user {
            enums::User::User(u) => Ok(SignedIn::User(u)),
            other => Err(unexpected(other)),
        },
        enums::auth::Authorization::SignUpRequired(_) => Ok(SignedIn::SignUpRequired),
    }
}

/// What auth.sendCode with future auth tokens ended in.
#[derive(Debug, Clone, PartialEq)]
pub enum CodeOrLogin {
    Code(CodeSent),
    /// A token was good: logged in without a code (auth.sentCodeSuccess).
    LoggedIn(Box<types::User>),
}

/// auth.sendCode for `phone` with this project's api_id and no code settings.
pub fn send_code_request(phone: &str) -> functions::auth::SendCode {
    functions::auth::SendCode {
        phone_number: phone.into(),
        api_id: API_ID,
        api_hash: API_HASH.into(),
        settings: types::CodeSettings {
            allow_flashcall: false,
            current_number: false,
            allow_app_hash: false,
            allow_missed_call: false,
            allow_firebase: false,
            unknown_number: false,
            logout_tokens: None,
            token: None,
            app_sandbox: None,
        }
        .into(),
    }
}

/// `query` wrapped the way clients send their first request: invokeWithLayer(this layer,
/// initConnection(this project's api_id, `device_model`, …, query)).
pub fn with_init<Q>(
    query: Q,
    device_model: &str,
) -> functions::InvokeWithLayer<functions::InitConnection<Q>> {
    with_init_layer(query, device_model, crate::tl::LAYER)
}

/// `with_init` declaring `layer` (a client of an older layer; see `Client::set_layer`).
pub fn with_init_layer<Q>(
    query: Q,
    device_model: &str,
    layer: i32,
) -> functions::InvokeWithLayer<functions::InitConnection<Q>> {
    functions::InvokeWithLayer {
        layer,
        query: functions::InitConnection {
            api_id: API_ID,
            device_model: device_model.into(),
            system_version: std::env::consts::OS.into(),
            app_version: env!("CARGO_PKG_VERSION").into(),
            system_lang_code: "en".into(),
            lang_pack: String::new(),
            lang_code: "en".into(),
            proxy: None,
            params: None,
            query,
        },
    }
}

impl Client {
    pub async fn send_code(&mut self, phone: &str) -> Result<CodeSent, ClientError> {
        let sent = self.invoke(&send_code_request(phone)).await?;
        let enums::auth::SentCode::SentCode(s) = sent else {
            return Err(unexpected(sent));
        };
        CodeSent::from_sent(s)
    }

    /// auth.sendCode naming the future auth tokens of earlier logins and logouts
    /// (`codeSettings.logout_tokens`, LO-2): a live one logs in without a code; an account with
    /// a password answers 401 SESSION_PASSWORD_NEEDED (then [`Client::check_password`]).
    pub async fn send_code_with_tokens(
        &mut self,
        phone: &str,
        tokens: Vec<Vec<u8>>,
    ) -> Result<CodeOrLogin, ClientError> {
        let mut request = send_code_request(phone);
        let enums::CodeSettings::CodeSettings(settings) = &mut request.settings;
        settings.logout_tokens = Some(tokens);
        match self.invoke(&request).await? {
            enums::auth::SentCode::SentCode(s) => Ok(CodeOrLogin::Code(CodeSent::from_sent(s)?)),
            enums::auth::SentCode::Success(s) => match user_of(s.authorization)? {
                SignedIn::User(u) => Ok(CodeOrLogin::LoggedIn(u)),
                SignedIn::SignUpRequired => Err(unexpected("signUpRequired in sentCodeSuccess")),
            },
            other => Err(unexpected(other)),
        }
    }

    /// auth.logOut, keeping the future auth token it hands out for the next login.
    pub async fn log_out_for_token(&mut self) -> Result<Option<Vec<u8>>, ClientError> {
        let enums::auth::LoggedOut::LoggedOut(out) =
            self.invoke(&functions::auth::LogOut {}).await?;
        Ok(out.future_auth_token)
    }

    /// auth.signIn with a code the login email got (`email_verification`).
    pub async fn sign_in_by_email(
        &mut self,
        phone: &str,
        phone_code_hash: &str,
        code: &str,
    ) -> Result<SignedIn, ClientError> {
        let email = types::EmailVerificationCode { code: code.into() }.into();
        self.sign_in_with(phone, phone_code_hash, None, Some(email))
            .await
    }

    async fn sign_in_with(
        &mut self,
        phone: &str,
        phone_code_hash: &str,
        phone_code: Option<String>,
        email_verification: Option<enums::EmailVerification>,
    ) -> Result<SignedIn, ClientError> {
        user_of(
            self.invoke(&functions::auth::SignIn {
                phone_number: phone.into(),
                phone_code_hash: phone_code_hash.into(),
                phone_code,
                email_verification,
            })
            .await?,
        )
    }

    /// auth.resetLoginEmail: the code of `phone_code_hash` goes by SMS instead of the email.
    pub async fn reset_login_email(
        &mut self,
        phone: &str,
        phone_code_hash: &str,
    ) -> Result<CodeSent, ClientError> {
        let sent = self
            .invoke(&functions::auth::ResetLoginEmail {
                phone_number: phone.into(),
                phone_code_hash: phone_code_hash.into(),
            })
            .await?;
        let enums::auth::SentCode::SentCode(s) = sent else {
            return Err(unexpected(sent));
        };
        CodeSent::from_sent(s)
    }

    pub async fn sign_in(
        &mut self,
        phone: &str,
        phone_code_hash: &str,
        code: &str,
    ) -> Result<SignedIn, ClientError> {
        self.sign_in_with(phone, phone_code_hash, Some(code.into()), None)
            .await
    }

    pub async fn sign_up(
        &mut self,
        phone: &str,
        phone_code_hash: &str,
        first_name: &str,
        last_name: &str,
    ) -> Result<types::User, ClientError> {
        let a = self
            .invoke(&functions::auth::SignUp {
                no_joined_notifications: false,
                phone_number: phone.into(),
                phone_code_hash: phone_code_hash.into(),
                first_name: first_name.into(),
                last_name: last_name.into(),
            })
            .await?;
        match user_of(a)? {
            SignedIn::User(u) => Ok(*u),
            SignedIn::SignUpRequired => Err(unexpected("signUpRequired after signUp")),
        }
    }

    /// The logged-in user (users.getUsers([inputUserSelf])).
    pub async fn get_me(&mut self) -> Result<types::User, ClientError> {
        let mut users = self
            .invoke(&functions::users::GetUsers {
                id: vec![types::InputUserSelf {}.into()],
            })
            .await?;
        match users.pop() {
            Some(enums::User::User(u)) => Ok(*u),
            other => Err(unexpected(other)),
        }
    }

    pub async fn log_out(&mut self) -> Result<(), ClientError> {
        self.invoke_unit(&functions::auth::LogOut {}).await
    }
}
