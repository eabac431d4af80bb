//! Email verification from the client side [doc: api/auth "Email verification"]: setting up
//! the login email a new account needs when the server asks for one, changing it, and the
//! Passport email.

use super::login::{unexpected, CodeSent};
use super::{Client, ClientError};
use crate::tl::{enums, functions, types};

impl Client {
    /// account.sendVerifyEmailCode: a code to `email` for `purpose`; the code's length.
    pub async fn send_verify_email_code(
        &mut self,
        purpose: enums::EmailVerifyPurpose,
        email: &str,
    ) -> Result<i32, ClientError> {
        let enums::account::SentEmailCode::SentEmailCode(s) = self
            .invoke(&functions::account::SendVerifyEmailCode {
                purpose,
                email: email.into(),
            })
            .await?;
        Ok(s.length)
    }

    /// account.verifyEmail with the code `email` got: the verified address, and for a login
    /// being set up the login code sent there next.
    pub async fn verify_email(
        &mut self,
        purpose: enums::EmailVerifyPurpose,
        code: &str,
    ) -> Result<(String, Option<CodeSent>), ClientError> {
        let verified = self
            .invoke(&functions::account::VerifyEmail {
                purpose,
                verification: types::EmailVerificationCode { code: code.into() }.into(),
            })
            .await?;
        match verified {
            enums::account::EmailVerified::EmailVerified(v) => Ok((v.email, None)),
            enums::account::EmailVerified::Login(l) => match l.sent_code {
                enums::auth::SentCode::SentCode(s) => Ok((l.email, Some(CodeSent::from_sent(s)?))),
                other => Err(unexpected(other)),
            },
        }
    }

    /// The login-setup purpose for the code sendCode answered with
    /// auth.sentCodeTypeSetUpEmailRequired.
    pub fn login_setup(phone: &str, phone_code_hash: &str) -> enums::EmailVerifyPurpose {
        types::EmailVerifyPurposeLoginSetup {
            phone_number: phone.into(),
            phone_code_hash: phone_code_hash.into(),
        }
        .into()
    }

    /// The logged-in account's new login email.
    pub fn login_change() -> enums::EmailVerifyPurpose {
        types::EmailVerifyPurposeLoginChange {}.into()
    }
}
