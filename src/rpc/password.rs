//! Two-step verification [doc: api/srp; method/account.getPassword, auth.checkPassword,
//! account.updatePasswordSettings, account.getPasswordSettings]: the cloud password as SRP
//! (SR-1 … SR-5, `crypto::srp`), the keys that wait for it after a right code (AC-2), and the
//! brute-force limits (AB-3). The store keeps only the verifier and the salts (SR-2); the
//! server's secret of each check lives in memory ([`Challenges`]), single use, bound to the key,
//! the user and the password it was issued for.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use super::auth::{log_in, nonzero_i64, with_retries};
use super::{flood, password_email, Caller, RpcContext, RpcError};
use crate::crypto::dh::{DH_PRIME, G};
use crate::crypto::srp::{self, Challenge};
use crate::rand::Rng;
use crate::store::accounts::{Accounts, BatchExt, Read};
use crate::store::records::{
    password_key, password_pending_key, pending_email_key, recovery_code_key, Password,
    PasswordPending, User,
};
use crate::store::{Batch, Commit};
use crate::tl::{enums, functions, types};

/// Seconds an srp_id stays good.
pub const SRP_ID_TTL: i64 = 600;
/// Checks outstanding per key (an older one is dropped for a newer).
const PER_KEY: usize = 4;
/// Checks outstanding in all (each holds two 256-byte numbers): the oldest go first.
pub const MAX_CHALLENGES: usize = 16_384;
/// Bytes the client appends to `new_algo.salt1` (SR-5).
const CLIENT_SALT_LEN: usize = 32;
/// The hint is shown before the password is typed; Telegram's clients keep it short.
const MAX_HINT_CHARS: usize = 64;

/// One issued check: the server's SRP secret and what it is good for.
#[derive(Debug)]
struct Issued {
    key_id: i64,
    user_id: i64,
    password_id: i64,
    expires: i64,
    challenge: Challenge,
}

#[derive(Debug, Default)]
struct Registry {
    by_id: HashMap<i64, Issued>,
    /// Issue order, for the global cap (ids already taken are skipped).
    order: VecDeque<i64>,
}

/// The checks issued by account.getPassword and not yet used (SR-4: srp_id single use).
#[derive(Debug, Default)]
pub struct Challenges(Mutex<Registry>);

impl Challenges {
    fn lock(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn issue(&self, srp_id: i64, issued: Issued) {
        let mut guard = self.lock();
        let r = &mut *guard;
        let key_id = issued.key_id;
        let of_key: Vec<i64> = r
            .order
            .iter()
            .copied()
            .filter(|id| r.by_id.get(id).is_some_and(|i| i.key_id == key_id))
            .collect();
        for old in of_key
            .iter()
            .take((of_key.len() + 1).saturating_sub(PER_KEY))
        {
            r.by_id.remove(old);
        }
        while r.by_id.len() >= MAX_CHALLENGES {
            match r.order.pop_front() {
                Some(old) => {
                    r.by_id.remove(&old);
                }
                None => break,
            }
        }
        let by_id = &r.by_id;
        r.order.retain(|id| by_id.contains_key(id));
        r.by_id.insert(srp_id, issued);
        r.order.push_back(srp_id);
    }

    /// Takes the check `srp_id` out, whatever becomes of it.
    fn take(&self, srp_id: i64) -> Option<Issued> {
        self.lock().by_id.remove(&srp_id)
    }

    /// Checks outstanding (tests and logs).
    pub fn len(&self) -> usize {
        self.lock().by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every check (the admin reset).
    pub fn clear(&self) {
        let mut r = self.lock();
        r.by_id.clear();
        r.order.clear();
    }
}

/// The account the calling key acts for in the password methods: its login's user, or the
/// user whose password it waits for.
pub(super) fn account_of(
    ctx: &RpcContext<'_>,
    acc: &Accounts<'_>,
) -> Result<Option<i64>, RpcError> {
    if let Some(a) = acc.authorization(ctx.key_id)? {
        return Ok(Some(a.value.user_id));
    }
    Ok(acc.password_pending(ctx.key_id)?.map(|p| p.value.user_id))
}

/// The new_algo for `user_id`: salt1 an 8-byte prefix the client extends by 32 bytes, salt2
/// 16 bytes, both derived from the server's secret and the user, so nothing is stored for them
/// and a new password's salts can be checked (NEW_SALT_INVALID).
fn new_algo_salts(ctx: &RpcContext<'_>, user_id: i64) -> (Vec<u8>, Vec<u8>) {
    let salt1 = ctx
        .login
        .code_key
        .derive(b"srp salt1", &user_id.to_be_bytes());
    let salt2 = ctx
        .login
        .code_key
        .derive(b"srp salt2", &user_id.to_be_bytes());
    (salt1[..8].to_vec(), salt2[..16].to_vec())
}

fn algo(salt1: Vec<u8>, salt2: Vec<u8>) -> enums::PasswordKdfAlgo {
    types::PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow {
        salt1,
        salt2,
        g: G as i32,
        p: DH_PRIME.to_vec(),
    }
    .into()
}

/// account.getPassword (SR-2): the algo and a fresh check when a password is set, the new_algo
/// always. Unauthorized keys get an account without a password.
pub fn get_password(
    ctx: &RpcContext<'_>,
    rng: &mut dyn Rng,
) -> Result<enums::account::Password, RpcError> {
    let acc = Accounts::new(ctx.store);
    let user_id = account_of(ctx, &acc)?;
    let (salt1, salt2) = new_algo_salts(ctx, user_id.unwrap_or(0));
    let mut secure_salt = [0u8; 8];
    rng.fill(&mut secure_salt);
    let mut secure_random = [0u8; 32];
    rng.fill(&mut secure_random);
    let mut answer = types::account::Password {
        has_recovery: false,
        has_secure_values: false,
        has_password: false,
        current_algo: None,
        srp_b: None,
        srp_id: None,
        hint: None,
        email_unconfirmed_pattern: None,
        new_algo: algo(salt1, salt2),
        new_secure_algo: types::SecurePasswordKdfAlgoPBKDF2HMACSHA512iter100000 {
            salt: secure_salt.to_vec(),
        }
        .into(),
        secure_random: secure_random.to_vec(),
        pending_reset_date: None,
        login_email_pattern: None,
    };
    if let Some(u) = user_id {
        let login = super::login_email::login_email(&acc, u)?;
        answer.login_email_pattern = (!login.is_empty()).then(|| password_email::pattern(&login));
    }
    let current = match user_id {
        Some(u) => acc.password(u)?.map(|p| (u, p.value)),
        None => None,
    };
    if let Some((user_id, password)) = current {
        let challenge = Challenge::new(&password.v, &mut &mut *rng);
        let srp_id = nonzero_i64(rng);
        answer.has_password = true;
        answer.current_algo = Some(algo(password.salt1.clone(), password.salt2.clone()));
        answer.srp_b = Some(challenge.srp_b.to_vec());
        answer.srp_id = Some(srp_id);
        answer.hint = (!password.hint.is_empty()).then(|| password.hint.clone());
        answer.has_recovery = !password.email.is_empty();
        answer.email_unconfirmed_pattern = acc
            .pending_email(user_id)?
            .map(|p| password_email::pattern(&p.value.email));
        answer.pending_reset_date = (password.reset_at != 0)
            .then(|| password.reset_at.clamp(0, i64::from(i32::MAX)) as i32);
        ctx.srp.issue(
            srp_id,
            Issued {
                key_id: ctx.key_id,
                user_id,
                password_id: password.id,
                expires: i64::from(ctx.now) + SRP_ID_TTL,
                challenge,
            },
        );
    }
    Ok(answer.into())
}

fn hash_invalid() -> RpcError {
    RpcError::new(400, "PASSWORD_HASH_INVALID")
}

fn srp_id_invalid() -> RpcError {
    RpcError::new(400, "SRP_ID_INVALID")
}

/// SR-4: `input` against the user's current password (`None`: none set). The srp_id is used
/// up whatever the outcome; a wrong proof is counted (AB-3) and reported as
/// PASSWORD_HASH_INVALID. `Ok` means the caller may act for the account; a success resets the
/// counters in the caller's batch (`flood::reset_guesses`).
pub(super) fn check(
    ctx: &RpcContext<'_>,
    acc: &Accounts<'_>,
    user_id: i64,
    current: Option<&Read<Password>>,
    input: &enums::InputCheckPasswordSRP,
) -> Result<(), RpcError> {
    let srp = match input {
        enums::InputCheckPasswordSRP::InputCheckPasswordEmpty(_) => {
            return match current {
                None => Ok(()),
                Some(_) => Err(hash_invalid()),
            };
        }
        enums::InputCheckPasswordSRP::InputCheckPasswordSRP(srp) => srp,
    };
    let issued = ctx.srp.take(srp.srp_id);
    let Some(current) = current else {
        return Err(srp_id_invalid());
    };
    let issued = issued
        .filter(|i| {
            i.key_id == ctx.key_id && i.user_id == user_id && i.expires > i64::from(ctx.now)
        })
        .ok_or_else(srp_id_invalid)?;
    if issued.password_id != current.value.id {
        return Err(RpcError::new(400, "SRP_PASSWORD_CHANGED"));
    }
    let subject = flood::account_subject(user_id);
    flood::refuse_if_guessed_out_of(ctx, acc, flood::Secret::Password, &subject)?;
    let p = &current.value;
    if issued
        .challenge
        .verify(&p.v, &p.salt1, &p.salt2, &srp.a, &srp.m1)
        .is_err()
    {
        with_retries(|| {
            let mut b = Batch::default();
            flood::count_guess(ctx, acc, flood::Secret::Password, &subject, &mut b)?;
            Ok(matches!(acc.commit(&b)?, Commit::Applied { .. }).then_some(()))
        })?;
        tracing::info!(user_id, "wrong password");
        return Err(hash_invalid());
    }
    Ok(())
}

/// After a right code for an account with a password: the key waits for it (AC-2).
pub fn await_password(ctx: &RpcContext<'_>, user: &User, b: &mut Batch) {
    let pending = PasswordPending {
        user_id: user.id,
        created: i64::from(ctx.now),
    };
    b.put(password_pending_key(ctx.key_id), pending.encode());
}

/// auth.checkPassword: the password that finishes a login waiting for it.
pub fn check_password(
    ctx: &RpcContext<'_>,
    rng: &mut dyn Rng,
    req: &functions::auth::CheckPassword,
) -> Result<enums::auth::Authorization, RpcError> {
    let acc = Accounts::new(ctx.store);
    let Some(pending) = acc.password_pending(ctx.key_id)? else {
        // Nothing waits: the srp_id is used up all the same.
        if let enums::InputCheckPasswordSRP::InputCheckPasswordSRP(s) = &req.password {
            ctx.srp.take(s.srp_id);
        }
        return Err(srp_id_invalid());
    };
    let user_id = pending.value.user_id;
    let current = acc.password(user_id)?;
    check(ctx, &acc, user_id, current.as_ref(), &req.password)?;
    let user = acc.user(user_id)?.ok_or_else(RpcError::internal)?;
    with_retries(|| {
        let mut b = Batch::default();
        b.swap(password_pending_key(ctx.key_id), Some(&pending.raw), None);
        flood::reset_guesses(
            flood::Secret::Password,
            &flood::account_subject(user_id),
            &mut b,
        );
        log_in(ctx, rng, &acc, &user, b)
    })
}

/// account.getPasswordSettings: the recovery email, once the password is proven.
pub fn get_password_settings(
    ctx: &RpcContext<'_>,
    caller: &Caller,
    req: &functions::account::GetPasswordSettings,
) -> Result<enums::account::PasswordSettings, RpcError> {
    let acc = Accounts::new(ctx.store);
    let current = acc.password(caller.user.id)?;
    check(ctx, &acc, caller.user.id, current.as_ref(), &req.password)?;
    Ok(types::account::PasswordSettings {
        email: current.map(|c| c.value.email).filter(|e| !e.is_empty()),
        secure_settings: None,
    }
    .into())
}

/// What a `passwordInputSettings` asks for, checked (SR-5): the password record to store (`None`:
/// remove it) and a recovery email to confirm, if any. `current`: the password there is.
pub(super) fn new_settings(
    ctx: &RpcContext<'_>,
    rng: &mut dyn Rng,
    user_id: i64,
    current: Option<&Password>,
    new: &types::account::PasswordInputSettings,
) -> Result<(Option<Password>, Option<String>), RpcError> {
    let email = new
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty());
    if email.is_some_and(|e| !password_email::valid(e)) {
        return Err(RpcError::new(400, "EMAIL_INVALID"));
    }
    let next = match (&new.new_algo, new.new_password_hash.as_deref()) {
        // Only a recovery email, for the password there is.
        (None, _) if email.is_some() && current.is_some() => current.cloned(),
        (None, _) => return Err(RpcError::new(400, "NEW_SETTINGS_EMPTY")),
        (Some(_), Some([])) if current.is_none() => {
            return Err(RpcError::new(400, "NEW_SETTINGS_EMPTY"))
        }
        // An empty hash removes the password, whatever the algo.
        (Some(_), Some([])) => None,
        (
            Some(enums::PasswordKdfAlgo::SHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow(a)),
            Some(v),
        ) => {
            let (prefix, salt2) = new_algo_salts(ctx, user_id);
            let salts_ok = a.salt1.len() == prefix.len() + CLIENT_SALT_LEN
                && a.salt1.starts_with(&prefix)
                && a.salt2 == salt2
                && a.g == G as i32
                && a.p == DH_PRIME;
            if !salts_ok {
                return Err(RpcError::new(400, "NEW_SALT_INVALID"));
            }
            if !srp::verifier_ok(v) {
                return Err(RpcError::new(400, "NEW_SETTINGS_INVALID"));
            }
            let hint = new.hint.clone().unwrap_or_default();
            if hint.chars().count() > MAX_HINT_CHARS {
                return Err(RpcError::new(400, "PASSWORD_HINT_INVALID"));
            }
            Some(Password {
                salt1: a.salt1.clone(),
                salt2: a.salt2.clone(),
                v: v.try_into().expect("verifier_ok checked 256 bytes"),
                hint,
                id: nonzero_i64(rng),
                created: i64::from(ctx.now),
                // A new password keeps the confirmed recovery email; it ends a pending reset.
                email: current.map(|c| c.email.clone()).unwrap_or_default(),
                reset_at: 0,
                reset_declined: current.map_or(0, |c| c.reset_declined),
            })
        }
        _ => return Err(RpcError::new(400, "NEW_SETTINGS_INVALID")),
    };
    Ok((next, email.map(str::to_string)))
}

/// Writes the outcome of [`new_settings`] into `b`: the password record swapped, the account's
/// password counters reset, and a new recovery email's code (returned, to deliver once `b` is
/// applied) or, with the password gone, every email wait and recovery forgotten.
pub(super) fn store_settings(
    ctx: &RpcContext<'_>,
    rng: &mut dyn Rng,
    user_id: i64,
    current: Option<&Read<Password>>,
    (next, email): (&Option<Password>, Option<&str>),
    b: &mut Batch,
) -> Option<String> {
    b.swap(
        password_key(user_id),
        current.map(|c| c.raw.as_slice()),
        next.as_ref().map(Password::encode),
    );
    flood::reset_guesses(flood::Secret::Password, &flood::account_subject(user_id), b);
    match (next, email) {
        (Some(_), Some(email)) => Some(password_email::start(ctx, rng, user_id, email, 0, b)),
        (None, _) => {
            b.delete(pending_email_key(user_id));
            b.delete(recovery_code_key(user_id));
            None
        }
        _ => None,
    }
}

/// account.updatePasswordSettings (SR-5): set, change or remove the password (and its hint),
/// after proving the current one.
pub fn update_password_settings(
    ctx: &RpcContext<'_>,
    rng: &mut dyn Rng,
    caller: &Caller,
    req: &functions::account::UpdatePasswordSettings,
) -> Result<bool, RpcError> {
    let acc = Accounts::new(ctx.store);
    let user_id = caller.user.id;
    let current = acc.password(user_id)?;
    check(ctx, &acc, user_id, current.as_ref(), &req.password)?;
    let enums::account::PasswordInputSettings::PasswordInputSettings(new) = &req.new_settings;
    let (next, email) = new_settings(ctx, rng, user_id, current.as_ref().map(|c| &c.value), new)?;
    let mut b = Batch::default();
    if let Some(email) = &email {
        flood::count_email_send(ctx, &acc, email, &mut b)?;
    }
    let code = store_settings(
        ctx,
        rng,
        user_id,
        current.as_ref(),
        (&next, email.as_deref()),
        &mut b,
    );
    match acc.commit(&b)? {
        Commit::Applied { .. } => {
            tracing::info!(user_id, set = next.is_some(), "password changed");
            match (code, email) {
                (Some(code), Some(email)) => {
                    password_email::deliver(ctx, &email, password_email::PURPOSE, &code);
                    Err(password_email::unconfirmed())
                }
                _ => Ok(true),
            }
        }
        // Changed meanwhile by another session: its srp_id no longer names the password.
        Commit::Conflict => Err(RpcError::new(400, "SRP_PASSWORD_CHANGED")),
    }
}
