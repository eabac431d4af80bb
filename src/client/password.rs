//! Two-step verification from the client side [doc: api/srp]: the SRP proof of a password
//! (`crypto::srp`), auth.checkPassword after SESSION_PASSWORD_NEEDED, and setting, changing and
//! removing the cloud password as Telegram's clients do (Telethon's `edit_2fa`).

use super::login::{unexpected, user_of, SignedIn};
use super::{Client, ClientError};
use crate::crypto::srp;
use crate::rand::{PooledOsRng, Rng};
use crate::tl::{enums, functions, types};

/// The salts of the algorithm this server (and Telegram) uses; anything else is refused.
fn salts(algo: &enums::PasswordKdfAlgo) -> Result<(Vec<u8>, Vec<u8>), ClientError> {
    match algo {
        enums::PasswordKdfAlgo::SHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow(a)
            if a.g == crate::crypto::dh::G as i32 && a.p == crate::crypto::dh::DH_PRIME =>
        {
            Ok((a.salt1.clone(), a.salt2.clone()))
        }
        other => Err(unexpected(other)),
    }
}

/// A password's x for one pair of salts, kept so that repeated checks of the same password
/// (`bench password`) skip PBKDF2's 100,000 rounds.
#[derive(Clone, Default)]
pub struct PasswordHash {
    salts: Option<(Vec<u8>, Vec<u8>)>,
    x: [u8; 32],
}

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordHash { .. }")
    }
}

impl Drop for PasswordHash {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.x);
    }
}

impl PasswordHash {
    fn x(&mut self, password: &str, salt1: &[u8], salt2: &[u8]) -> [u8; 32] {
        let same = self
            .salts
            .as_ref()
            .is_some_and(|(a, b)| a == salt1 && b == salt2);
        if !same {
            self.x = srp::password_hash(password.as_bytes(), salt1, salt2);
            self.salts = Some((salt1.to_vec(), salt2.to_vec()));
        }
        self.x
    }
}

impl Client {
    /// account.getPassword.
    pub async fn get_password(&mut self) -> Result<types::account::Password, ClientError> {
        let enums::account::Password::Password(p) =
            self.invoke(&functions::account::GetPassword {}).await?;
        Ok(p)
    }

    /// The proof of `password` for a fresh srp_id (inputCheckPasswordEmpty when the account
    /// has none).
    pub async fn password_proof(
        &mut self,
        password: &str,
    ) -> Result<enums::InputCheckPasswordSRP, ClientError> {
        self.password_proof_cached(password, &mut PasswordHash::default())
            .await
    }

    /// [`password_proof`](Self::password_proof) reusing `known`'s x while the salts stay the
    /// same (the same `password` each time).
    pub async fn password_proof_cached(
        &mut self,
        password: &str,
        known: &mut PasswordHash,
    ) -> Result<enums::InputCheckPasswordSRP, ClientError> {
        let p = self.get_password().await?;
        let (Some(algo), Some(srp_b), Some(srp_id)) = (&p.current_algo, &p.srp_b, p.srp_id) else {
            return Ok(types::InputCheckPasswordEmpty {}.into());
        };
        let (salt1, salt2) = salts(algo)?;
        let x = known.x(password, &salt1, &salt2);
        let (a, m1) = srp::client_proof(&x, &salt1, &salt2, srp_b, &mut PooledOsRng)
            .ok_or_else(|| ClientError::Protocol("the server's srp_B is out of range".into()))?;
        Ok(types::InputCheckPasswordSRP {
            srp_id,
            a: a.to_vec(),
            m1: m1.to_vec(),
        }
        .into())
    }

    /// auth.checkPassword: finishes a login that answered SESSION_PASSWORD_NEEDED.
    pub async fn check_password(&mut self, password: &str) -> Result<types::User, ClientError> {
        let proof = self.password_proof(password).await?;
        let a = self
            .invoke(&functions::auth::CheckPassword { password: proof })
            .await?;
        match user_of(a)? {
            SignedIn::User(u) => Ok(*u),
            SignedIn::SignUpRequired => Err(unexpected("signUpRequired after checkPassword")),
        }
    }

    /// Sets the cloud password to `new` (with `hint`), or removes it (`new` = None);
    /// `current` proves the one set now, if any.
    pub async fn set_password(
        &mut self,
        current: Option<&str>,
        new: Option<&str>,
        hint: &str,
    ) -> Result<(), ClientError> {
        let proof = self.password_proof(current.unwrap_or_default()).await?;
        let new_settings = self.new_password_settings(new, hint).await?;
        let done = self
            .invoke(&functions::account::UpdatePasswordSettings {
                password: proof,
                new_settings: new_settings.into(),
            })
            .await?;
        if done {
            Ok(())
        } else {
            Err(unexpected("boolFalse"))
        }
    }

    /// The settings that set the password to `new` (`None`: remove it) under the server's
    /// new_algo, with 32 random bytes appended to its salt1 (SR-5).
    async fn new_password_settings(
        &mut self,
        new: Option<&str>,
        hint: &str,
    ) -> Result<types::account::PasswordInputSettings, ClientError> {
        let p = self.get_password().await?;
        let (mut salt1, salt2) = salts(&p.new_algo)?;
        salt1.extend(PooledOsRng.array::<32>());
        let hash = match new {
            Some(new) => {
                srp::verifier(&srp::password_hash(new.as_bytes(), &salt1, &salt2)).to_vec()
            }
            None => Vec::new(),
        };
        let new_settings = types::account::PasswordInputSettings {
            new_algo: Some(
                types::PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow {
                    salt1,
                    salt2,
                    g: crate::crypto::dh::G as i32,
                    p: crate::crypto::dh::DH_PRIME.to_vec(),
                }
                .into(),
            ),
            new_password_hash: Some(hash),
            hint: Some(hint.into()),
            email: None,
            new_secure_settings: None,
        };
        Ok(new_settings)
    }

    /// Gives the account (its password `current` proven) the recovery email `email`: the
    /// server mails a code and answers EMAIL_UNCONFIRMED_X; returns X, the code's length, for
    /// [`confirm_password_email`](Self::confirm_password_email).
    pub async fn set_recovery_email(
        &mut self,
        current: &str,
        email: &str,
    ) -> Result<usize, ClientError> {
        let proof = self.password_proof(current).await?;
        let settings = types::account::PasswordInputSettings {
            new_algo: None,
            new_password_hash: None,
            hint: None,
            email: Some(email.into()),
            new_secure_settings: None,
        };
        let answer = self
            .invoke(&functions::account::UpdatePasswordSettings {
                password: proof,
                new_settings: settings.into(),
            })
            .await;
        match answer {
            Err(ClientError::Rpc(e)) if e.message.starts_with("EMAIL_UNCONFIRMED_") => e.message
                ["EMAIL_UNCONFIRMED_".len()..]
                .parse()
                .map_err(|_| unexpected(e)),
            Err(e) => Err(e),
            Ok(done) => Err(unexpected(done)),
        }
    }

    /// account.confirmPasswordEmail with the code the recovery email got.
    pub async fn confirm_password_email(&mut self, code: &str) -> Result<(), ClientError> {
        let done = self
            .invoke(&functions::account::ConfirmPasswordEmail { code: code.into() })
            .await?;
        if done {
            Ok(())
        } else {
            Err(unexpected("boolFalse"))
        }
    }

    /// auth.requestPasswordRecovery: a code to the recovery email; its pattern.
    pub async fn request_password_recovery(&mut self) -> Result<String, ClientError> {
        let enums::auth::PasswordRecovery::PasswordRecovery(r) = self
            .invoke(&functions::auth::RequestPasswordRecovery {})
            .await?;
        Ok(r.email_pattern)
    }

    /// auth.checkRecoveryPassword: whether `code` is the recovery code.
    pub async fn check_recovery_code(&mut self, code: &str) -> Result<bool, ClientError> {
        self.invoke(&functions::auth::CheckRecoveryPassword { code: code.into() })
            .await
    }

    /// auth.recoverPassword: the recovery code removes the password, or sets `new` in its
    /// place; a login waiting for the password ends logged in. The account's user.
    pub async fn recover_password(
        &mut self,
        code: &str,
        new: Option<&str>,
    ) -> Result<types::User, ClientError> {
        let new_settings = match new {
            Some(new) => Some(self.new_password_settings(Some(new), "").await?.into()),
            None => None,
        };
        let a = self
            .invoke(&functions::auth::RecoverPassword {
                code: code.into(),
                new_settings,
            })
            .await?;
        match user_of(a)? {
            SignedIn::User(u) => Ok(*u),
            SignedIn::SignUpRequired => Err(unexpected("signUpRequired after recoverPassword")),
        }
    }

    /// account.resetPassword: the reset's state.
    pub async fn reset_password(
        &mut self,
    ) -> Result<enums::account::ResetPasswordResult, ClientError> {
        self.invoke(&functions::account::ResetPassword {}).await
    }

    /// account.declinePasswordReset.
    pub async fn decline_password_reset(&mut self) -> Result<(), ClientError> {
        self.invoke_unit(&functions::account::DeclinePasswordReset {})
            .await
    }

    /// account.getTmpPassword: a temporary password for `period` seconds, once `password` is
    /// proven.
    pub async fn tmp_password(
        &mut self,
        password: &str,
        period: i32,
    ) -> Result<types::account::TmpPassword, ClientError> {
        let proof = self.password_proof(password).await?;
        let enums::account::TmpPassword::TmpPassword(t) = self
            .invoke(&functions::account::GetTmpPassword {
                password: proof,
                period,
            })
            .await?;
        Ok(t)
    }
}
