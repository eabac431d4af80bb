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

/// A session made for a user directly (`POST /sessions`): a new permanent auth key, logged in.
#[derive(Clone)]
pub struct SeededSession {
    pub auth_key_id: i64,
    pub auth_key: [u8; 256],
    pub user_id: i64,
    pub dc_id: i32,
    pub bot: bool,
}

impl std::fmt::Debug for SeededSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeededSession")
            .field(
                "auth_key_id",
                &format_args!("{:016x}", self.auth_key_id as u64),
            )
            .field("user_id", &self.user_id)
            .field("dc_id", &self.dc_id)
            .finish_non_exhaustive()
    }
}

impl SeededSession {
    /// The key as 512 hex digits (a secret: it logs in), as the admin API and CLI hand it out.
    pub fn auth_key_hex(&self) -> String {
        self.auth_key.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The error of a given key that is this user's login already (a seed applied again).
pub const EXISTS: &str = "the session exists";

impl Drop for SeededSession {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.auth_key);
    }
}

/// Makes a permanent auth key on `dc` (the user's home DC when `None`) and logs it in as
/// `user_id`, durably; a client that is handed the key starts logged in.
pub fn create_session(
    store: &dyn Store,
    rng: &mut dyn Rng,
    user_id: i64,
    dc: Option<i32>,
    now: i64,
) -> Result<SeededSession, String> {
    create_session_with(store, rng, user_id, dc, None, now)
}

/// [`create_session`] with the key given (a seed file's: a client's saved session then works
/// against every fresh server). A key that exists already must be this user's login.
pub fn create_session_with(
    store: &dyn Store,
    rng: &mut dyn Rng,
    user_id: i64,
    dc: Option<i32>,
    key: Option<[u8; 256]>,
    now: i64,
) -> Result<SeededSession, String> {
    let e = |e: crate::store::StoreError| e.to_string();
    let acc = Accounts::new(store);
    let user = acc
        .user(user_id)
        .map_err(e)?
        .ok_or_else(|| format!("no user {user_id}"))?;
    let dc_id = dc.unwrap_or(user.home_dc);
    let (id, data) = loop {
        let mut data = key.unwrap_or_else(|| {
            let mut data = [0u8; 256];
            rng.fill(&mut data);
            data
        });
        let id = crate::crypto::AuthKey::from_bytes(data).id();
        let stored = crate::store::StoredKey { data, created: now };
        if id != 0 && store.insert_auth_key(id, &stored).map_err(e)? == crate::store::Inserted::Yes
        {
            break (id, data);
        }
        if key.is_some() {
            zeroize::Zeroize::zeroize(&mut data);
            return match acc.authorization(id).map_err(e)? {
                Some(a) if a.value.user_id == user_id => Err(EXISTS.into()),
                _ => Err(format!(
                    "auth key {:016x} exists and is not a login of user {user_id}",
                    id as u64
                )),
            };
        }
    };
    let auth = crate::store::records::Authorization {
        key_id: id,
        user_id,
        hash: nonzero_i64(rng),
        created: now,
        active: now,
        ip: "admin".into(),
        dc_id,
        api_id: 0,
        device_model: "seeded".into(),
        system_version: String::new(),
        app_version: String::new(),
        lang_code: String::new(),
        layer: 0,
    };
    let mut b = Batch::default();
    b.bind(&auth, None);
    match acc.commit(&b).map_err(e)? {
        Commit::Applied { .. } => {}
        Commit::Conflict => return Err("the new key was bound meanwhile".into()),
    }
    store.sync().map_err(e)?;
    tracing::info!(
        user_id,
        dc = dc_id,
        auth_key_id = format_args!("{:016x}", id as u64),
        "session created by the operator"
    );
    Ok(SeededSession {
        auth_key_id: id,
        auth_key: data,
        user_id,
        dc_id,
        bot: user.bot,
    })
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
