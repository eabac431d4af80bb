//! Users an operator creates directly (`mtproto-auth users create`), as fixtures for tests: a
//! phone number, names, optionally a cloud password (stored as SRP requires: the verifier and
//! its salts, SR-2) and a login email. The user then logs in like any other (its code, then the
//! password); its home DC is its test DC, else `home_dc`.

use super::auth::{new_user_id, nonzero_i64};
use super::login::parse_phone;
use crate::crypto::srp;
use crate::rand::Rng;
use crate::store::accounts::{Accounts, BatchExt};
use crate::store::records::{emails_key, password_key, Emails, Password, User};
use crate::store::{Batch, Commit, Store};

/// What `users create` asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewUser {
    pub phone: String,
    pub first_name: String,
    pub last_name: String,
    pub password: Option<String>,
    pub login_email: Option<String>,
    pub home_dc: i32,
}

/// Creates the user (durable when it returns).
pub fn create(
    store: &dyn Store,
    rng: &mut dyn Rng,
    new: &NewUser,
    now: i64,
) -> Result<User, String> {
    let phone = parse_phone(&new.phone, &[1, 2, 3, 4, 5]).map_err(|e| e.message)?;
    let first = new.first_name.trim();
    if first.is_empty() || first.chars().count() > 64 || new.last_name.chars().count() > 64 {
        return Err("names are 1–64 characters (the last name may be empty)".into());
    }
    if let Some(e) = &new.login_email {
        if !super::password_email::valid(e) {
            return Err(format!("{e:?} is not an email address"));
        }
    }
    let user = User {
        id: new_user_id(rng),
        access_hash: nonzero_i64(rng),
        phone: phone.digits.clone(),
        first_name: first.into(),
        last_name: new.last_name.trim().into(),
        home_dc: phone.test_dc.unwrap_or(new.home_dc),
        created: now,
        bot: false,
        username: String::new(),
    };
    let mut b = Batch::default();
    b.create_user(&user);
    if let Some(pw) = &new.password {
        let mut salt1 = vec![0u8; 40];
        rng.fill(&mut salt1);
        let mut salt2 = vec![0u8; 16];
        rng.fill(&mut salt2);
        let v = srp::verifier(&srp::password_hash(pw.as_bytes(), &salt1, &salt2));
        let password = Password {
            salt1,
            salt2,
            v,
            hint: String::new(),
            id: nonzero_i64(rng),
            created: now,
            email: String::new(),
            reset_at: 0,
            reset_declined: 0,
        };
        b.put(password_key(user.id), password.encode());
    }
    if let Some(e) = &new.login_email {
        let emails = Emails {
            login: e.clone(),
            passport: String::new(),
        };
        b.put(emails_key(user.id), emails.encode());
    }
    let acc = Accounts::new(store);
    match acc.commit(&b).map_err(|e| e.to_string())? {
        Commit::Applied { .. } => {}
        Commit::Conflict => return Err(format!("+{} has an account already", phone.digits)),
    }
    store.sync().map_err(|e| e.to_string())?;
    tracing::info!(
        user_id = user.id,
        password = new.password.is_some(),
        "user created by the operator"
    );
    Ok(user)
}
