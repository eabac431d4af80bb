//! Two-step verification in memory (fixed clock and randomness): getPassword with and without a
//! password, setting, changing and removing it, the code login that waits for it (AC-2), and
//! every refusal of SR-4, SR-5 and AB-3 with the store left as it was.

use super::login_tests::Fixture;
use super::RpcError;
use crate::crypto::srp;
use crate::rand::SeededRng;
use crate::tl::{enums, functions, types};

pub(super) const PHONE: &str = "9996621234";

pub(super) fn err(code: i32, text: &str) -> RpcError {
    RpcError::new(code, text)
}

pub(super) fn get_password(f: &Fixture, key: i64) -> types::account::Password {
    let enums::account::Password::Password(p) = f
        .invoke(key, 2, &functions::account::GetPassword {})
        .unwrap();
    p
}

pub(super) fn salts(algo: &enums::PasswordKdfAlgo) -> (Vec<u8>, Vec<u8>) {
    match algo {
        enums::PasswordKdfAlgo::SHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow(a) => {
            assert_eq!((a.g, a.p.as_slice()), (3, &crate::crypto::dh::DH_PRIME[..]));
            (a.salt1.clone(), a.salt2.clone())
        }
        other => panic!("{other:?}"),
    }
}

/// x for a password and salts, computed once per test thread (PBKDF2's 100,000 rounds are
/// slow in a debug build).
fn x_of(password: &str, salt1: &[u8], salt2: &[u8]) -> [u8; 32] {
    thread_local! {
        static DONE: std::cell::RefCell<std::collections::HashMap<Vec<u8>, [u8; 32]>> =
            Default::default();
    }
    let id = [password.as_bytes(), &[0], salt1, &[0], salt2].concat();
    DONE.with(|d| {
        *d.borrow_mut()
            .entry(id)
            .or_insert_with(|| srp::password_hash(password.as_bytes(), salt1, salt2))
    })
}

/// What a client sends to set `password` (Telethon's edit_2fa): new_algo with 32 bytes
/// appended to salt1, and v.
pub(super) fn new_settings(
    f: &Fixture,
    key: i64,
    password: &str,
) -> types::account::PasswordInputSettings {
    let p = get_password(f, key);
    let (mut salt1, salt2) = salts(&p.new_algo);
    salt1.extend([0x5a; 32]);
    let x = x_of(password, &salt1, &salt2);
    types::account::PasswordInputSettings {
        new_algo: Some(
            types::PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow {
                salt1,
                salt2,
                g: 3,
                p: crate::crypto::dh::DH_PRIME.to_vec(),
            }
            .into(),
        ),
        new_password_hash: Some(srp::verifier(&x).to_vec()),
        hint: Some("the usual".into()),
        email: None,
        new_secure_settings: None,
    }
}

/// The client's proof of `password` against a fresh getPassword.
pub(super) fn proof(f: &Fixture, key: i64, password: &str) -> enums::InputCheckPasswordSRP {
    let p = get_password(f, key);
    assert!(p.has_password);
    let (salt1, salt2) = salts(p.current_algo.as_ref().unwrap());
    let x = x_of(password, &salt1, &salt2);
    let (a, m1) = srp::client_proof(
        &x,
        &salt1,
        &salt2,
        p.srp_b.as_ref().unwrap(),
        &mut SeededRng::new(3),
    )
    .unwrap();
    types::InputCheckPasswordSRP {
        srp_id: p.srp_id.unwrap(),
        a: a.to_vec(),
        m1: m1.to_vec(),
    }
    .into()
}

pub(super) fn empty() -> enums::InputCheckPasswordSRP {
    types::InputCheckPasswordEmpty {}.into()
}

pub(super) fn update(
    f: &Fixture,
    key: i64,
    password: enums::InputCheckPasswordSRP,
    settings: types::account::PasswordInputSettings,
) -> Result<bool, RpcError> {
    f.invoke(
        key,
        2,
        &functions::account::UpdatePasswordSettings {
            password,
            new_settings: settings.into(),
        },
    )
}

pub(super) fn check(
    f: &Fixture,
    key: i64,
    password: enums::InputCheckPasswordSRP,
) -> Result<(), RpcError> {
    f.invoke(key, 2, &functions::auth::CheckPassword { password })
        .map(|_| ())
}

pub(super) fn snapshot(f: &Fixture) -> crate::store::Scanned {
    use crate::store::Store;
    f.store.scan(b"", usize::MAX).unwrap()
}

/// A right code for the account: the key now waits for the password.
pub(super) fn code_login(f: &Fixture, key: i64) -> Result<enums::auth::Authorization, RpcError> {
    let hash = f.send_code(key, 2, PHONE).unwrap();
    f.sign_in(key, 2, PHONE, &hash, "22222")
}

#[test]
fn without_a_password_get_password_offers_a_new_algo_only() {
    let f = Fixture::new();
    // Unauthorized.
    let p = get_password(&f, 1);
    assert!(!p.has_password && p.current_algo.is_none() && p.srp_b.is_none());
    let (salt1, salt2) = salts(&p.new_algo);
    assert_eq!((salt1.len(), salt2.len()), (8, 16));
    assert_eq!(p.secure_random.len(), 32);
    f.register(1, PHONE);
    let p = get_password(&f, 1);
    assert!(!p.has_password);
    assert!(f.srp.is_empty(), "no check issued without a password");
}

#[test]
fn set_then_log_in_with_code_and_password_then_change_and_remove() {
    let f = Fixture::new();
    f.register(1, PHONE);
    assert_eq!(update(&f, 1, empty(), new_settings(&f, 1, "pw1")), Ok(true));
    let p = get_password(&f, 1);
    assert!(p.has_password);
    assert_eq!(p.hint.as_deref(), Some("the usual"));
    assert_eq!(p.srp_b.as_ref().unwrap().len(), 256);

    // A code login on key 2 now waits for the password (AC-2) …
    assert_eq!(
        code_login(&f, 2).unwrap_err(),
        err(401, "SESSION_PASSWORD_NEEDED")
    );
    // … which is all it may do besides the unauthorized methods.
    assert_eq!(
        f.invoke(2, 2, &functions::users::GetUsers { id: vec![] })
            .unwrap_err(),
        err(401, "SESSION_PASSWORD_NEEDED")
    );
    let before = snapshot(&f);
    assert_eq!(
        check(&f, 2, proof(&f, 2, "pw0")),
        Err(err(400, "PASSWORD_HASH_INVALID"))
    );
    let counted = snapshot(&f);
    assert_ne!(counted, before, "the wrong password is counted");
    assert_eq!(
        check(&f, 2, empty()),
        Err(err(400, "PASSWORD_HASH_INVALID"))
    );
    assert_eq!(check(&f, 2, proof(&f, 2, "pw1")), Ok(()));
    assert!(f
        .invoke(2, 2, &functions::users::GetUsers { id: vec![] })
        .is_ok());

    // Change it (the current one proven), then remove it.
    assert_eq!(
        update(&f, 1, empty(), new_settings(&f, 1, "pw2")),
        Err(err(400, "PASSWORD_HASH_INVALID"))
    );
    let settings = new_settings(&f, 1, "pw2");
    assert_eq!(update(&f, 1, proof(&f, 1, "pw1"), settings), Ok(true));
    let removal = types::account::PasswordInputSettings {
        new_password_hash: Some(vec![]),
        ..new_settings(&f, 1, "unused")
    };
    assert_eq!(update(&f, 1, proof(&f, 1, "pw2"), removal), Ok(true));
    assert!(!get_password(&f, 1).has_password);
    // A code login goes straight in again.
    assert!(matches!(
        code_login(&f, 3).unwrap(),
        enums::auth::Authorization::Authorization(_)
    ));
}

#[test]
fn srp_ids_are_single_use_bound_to_key_and_password_and_expire() {
    let f = Fixture::new();
    f.register(1, PHONE);
    update(&f, 1, empty(), new_settings(&f, 1, "pw1")).unwrap();
    // Right, then the same srp_id again.
    let used = proof(&f, 1, "pw1");
    let ask = |password| f.invoke(1, 2, &functions::account::GetPasswordSettings { password });
    assert!(ask(used.clone()).is_ok());
    assert_eq!(ask(used).unwrap_err(), err(400, "SRP_ID_INVALID"));
    // Another key's srp_id.
    assert_eq!(
        code_login(&f, 2).unwrap_err(),
        err(401, "SESSION_PASSWORD_NEEDED")
    );
    let of_key_2 = proof(&f, 2, "pw1");
    assert_eq!(ask(of_key_2).unwrap_err(), err(400, "SRP_ID_INVALID"));
    // Expired.
    let old = proof(&f, 1, "pw1");
    f.now.set(f.now.get() + super::password::SRP_ID_TTL as i32);
    assert_eq!(ask(old).unwrap_err(), err(400, "SRP_ID_INVALID"));
    // Issued for the password before a change.
    let stale = proof(&f, 1, "pw1");
    update(&f, 1, proof(&f, 1, "pw1"), new_settings(&f, 1, "pw2")).unwrap();
    assert_eq!(ask(stale).unwrap_err(), err(400, "SRP_PASSWORD_CHANGED"));
    // A key that waits for nothing.
    assert_eq!(
        check(&f, 1, proof(&f, 1, "pw2")),
        Err(err(400, "SRP_ID_INVALID"))
    );
    // At most four outstanding per key: the oldest of five is gone.
    let first = proof(&f, 1, "pw2");
    let later: Vec<_> = (0..4).map(|_| proof(&f, 1, "pw2")).collect();
    assert_eq!(ask(first).unwrap_err(), err(400, "SRP_ID_INVALID"));
    assert!(ask(later[0].clone()).is_ok());
}

#[test]
fn new_settings_are_checked() {
    let f = Fixture::new();
    f.register(1, PHONE);
    let before = snapshot(&f);
    let with_algo = |salt1: Vec<u8>, salt2: Vec<u8>, g: i32| {
        let base = new_settings(&f, 1, "pw");
        types::account::PasswordInputSettings {
            new_algo: Some(
                types::PasswordKdfAlgoSHA256SHA256PBKDF2HMACSHA512iter100000SHA256ModPow {
                    salt1,
                    salt2,
                    g,
                    p: crate::crypto::dh::DH_PRIME.to_vec(),
                }
                .into(),
            ),
            ..base
        }
    };
    let (prefix, salt2) = salts(&get_password(&f, 1).new_algo);
    let full = [prefix.clone(), vec![1; 32]].concat();
    for (name, settings) in [
        (
            "salt1 not extended",
            with_algo(prefix.clone(), salt2.clone(), 3),
        ),
        (
            "another prefix",
            with_algo([vec![0; 8], vec![1; 32]].concat(), salt2.clone(), 3),
        ),
        ("another salt2", with_algo(full.clone(), vec![0; 16], 3)),
        ("another g", with_algo(full.clone(), salt2.clone(), 2)),
    ] {
        assert_eq!(
            update(&f, 1, empty(), settings),
            Err(err(400, "NEW_SALT_INVALID")),
            "{name}"
        );
    }
    for (name, v) in [
        ("short", vec![1; 255]),
        ("zero", vec![0; 256]),
        ("p", crate::crypto::dh::DH_PRIME.to_vec()),
    ] {
        let settings = types::account::PasswordInputSettings {
            new_password_hash: Some(v),
            ..new_settings(&f, 1, "pw")
        };
        assert_eq!(
            update(&f, 1, empty(), settings),
            Err(err(400, "NEW_SETTINGS_INVALID")),
            "{name}"
        );
    }
    let unknown_algo = types::account::PasswordInputSettings {
        new_algo: Some(types::PasswordKdfAlgoUnknown {}.into()),
        ..new_settings(&f, 1, "pw")
    };
    assert_eq!(
        update(&f, 1, empty(), unknown_algo),
        Err(err(400, "NEW_SETTINGS_INVALID"))
    );
    let nothing = types::account::PasswordInputSettings {
        new_password_hash: Some(vec![]),
        ..new_settings(&f, 1, "pw")
    };
    assert_eq!(
        update(&f, 1, empty(), nothing),
        Err(err(400, "NEW_SETTINGS_EMPTY"))
    );
    assert_eq!(snapshot(&f), before, "no refusal wrote anything");
    // A proof where there is no password.
    f.log_in(2, PHONE);
    update(&f, 2, empty(), new_settings(&f, 2, "pw")).unwrap();
    let p = proof(&f, 2, "pw");
    let removal = types::account::PasswordInputSettings {
        new_password_hash: Some(vec![]),
        ..new_settings(&f, 2, "pw")
    };
    update(&f, 2, proof(&f, 2, "pw"), removal).unwrap();
    assert_eq!(
        update(&f, 1, p, new_settings(&f, 1, "pw")),
        Err(err(400, "SRP_ID_INVALID"))
    );
}

#[test]
fn wrong_passwords_back_off_exponentially_and_a_right_one_resets_the_count() {
    let f = Fixture::new();
    f.register(1, PHONE);
    update(&f, 1, empty(), new_settings(&f, 1, "pw")).unwrap();
    assert_eq!(
        code_login(&f, 2).unwrap_err(),
        err(401, "SESSION_PASSWORD_NEEDED")
    );
    // Three wrong ones pass freely; then the next try waits 30 s, and each failure doubles it.
    for _ in 0..3 {
        assert_eq!(
            check(&f, 2, proof(&f, 2, "no")),
            Err(err(400, "PASSWORD_HASH_INVALID"))
        );
    }
    let right = proof(&f, 2, "pw");
    let before = snapshot(&f);
    assert_eq!(check(&f, 2, right), Err(err(420, "FLOOD_WAIT_30")));
    assert_eq!(snapshot(&f), before, "a refused try changes nothing");
    f.now.set(f.now.get() + 30);
    assert_eq!(
        check(&f, 2, proof(&f, 2, "no")),
        Err(err(400, "PASSWORD_HASH_INVALID"))
    );
    assert_eq!(
        check(&f, 2, proof(&f, 2, "pw")),
        Err(err(420, "FLOOD_WAIT_60"))
    );
    f.now.set(f.now.get() + 60);
    // A right one resets the count: three free ones again.
    assert_eq!(check(&f, 2, proof(&f, 2, "pw")), Ok(()));
    assert_eq!(
        code_login(&f, 3).unwrap_err(),
        err(401, "SESSION_PASSWORD_NEEDED")
    );
    for _ in 0..3 {
        assert_eq!(
            check(&f, 3, proof(&f, 3, "no")),
            Err(err(400, "PASSWORD_HASH_INVALID"))
        );
    }
    assert_eq!(
        check(&f, 3, proof(&f, 3, "pw")),
        Err(err(420, "FLOOD_WAIT_30"))
    );
}

#[test]
fn wrong_passwords_have_a_daily_cap_beyond_the_back_off() {
    let f = Fixture::new();
    f.register(1, PHONE);
    update(&f, 1, empty(), new_settings(&f, 1, "pw")).unwrap();
    code_login(&f, 2).unwrap_err();
    let start = f.now.get();
    for _ in 0..20 {
        // Each try after the back-off: at most an hour apart, so all 20 fall in one day.
        f.now.set(f.now.get() + 3600);
        assert_eq!(
            check(&f, 2, proof(&f, 2, "no")),
            Err(err(400, "PASSWORD_HASH_INVALID"))
        );
    }
    f.now.set(f.now.get() + 3600);
    let left = start + 3600 + 86_400 - f.now.get();
    assert_eq!(
        check(&f, 2, proof(&f, 2, "pw")),
        Err(err(420, &format!("FLOOD_WAIT_{left}")))
    );
    f.now.set(f.now.get() + left);
    assert_eq!(check(&f, 2, proof(&f, 2, "pw")), Ok(()));
}

#[test]
fn the_wait_for_the_password_survives_in_the_store() {
    let f = Fixture::new();
    f.register(1, PHONE);
    update(&f, 1, empty(), new_settings(&f, 1, "pw")).unwrap();
    let hash = f.send_code(2, 2, PHONE).unwrap();
    assert_eq!(
        f.sign_in(2, 2, PHONE, &hash, "22222").unwrap_err(),
        err(401, "SESSION_PASSWORD_NEEDED")
    );
    let pending = crate::store::accounts::Accounts::new(&f.store)
        .password_pending(2)
        .unwrap()
        .unwrap();
    assert_eq!(pending.value.user_id, get_user_id(&f));
    // The code is used up: signing in with it again is PHONE_CODE_EXPIRED, not a second wait.
    assert_eq!(
        f.sign_in(2, 2, PHONE, &hash, "22222").unwrap_err(),
        err(400, "PHONE_CODE_EXPIRED")
    );
    assert_eq!(check(&f, 2, proof(&f, 2, "pw")), Ok(()));
    assert!(crate::store::accounts::Accounts::new(&f.store)
        .password_pending(2)
        .unwrap()
        .is_none());
}

fn get_user_id(f: &Fixture) -> i64 {
    crate::store::accounts::Accounts::new(&f.store)
        .user_by_phone(PHONE)
        .unwrap()
        .unwrap()
        .id
}

fn send_code_with_tokens(
    f: &Fixture,
    key: i64,
    tokens: Vec<Vec<u8>>,
) -> Result<enums::auth::SentCode, RpcError> {
    let mut req = super::login_tests::send_code(PHONE);
    let enums::CodeSettings::CodeSettings(settings) = &mut req.settings;
    settings.logout_tokens = Some(tokens);
    f.invoke(key, 2, &req)
}

fn token_of(a: &enums::auth::Authorization) -> Vec<u8> {
    match a {
        enums::auth::Authorization::Authorization(a) => a.future_auth_token.clone().unwrap(),
        other => panic!("{other:?}"),
    }
}

fn log_out(f: &Fixture, key: i64) -> Vec<u8> {
    let enums::auth::LoggedOut::LoggedOut(out) =
        f.invoke(key, 2, &functions::auth::LogOut {}).unwrap();
    out.future_auth_token.unwrap()
}

/// LO-2: every login and logout hands out a token; a later sendCode naming a live one of the
/// number's user logs in without a code, once; others (unknown, another user's, expired, used)
/// get an ordinary code.
#[test]
fn future_auth_tokens_log_in_once_without_a_code() {
    let f = Fixture::new();
    f.register(1, PHONE);
    f.register(5, "9996625555");
    let from_login = token_of(&code_login(&f, 2).unwrap());
    assert_eq!(from_login.len(), 32);
    let from_logout = log_out(&f, 2);
    assert_ne!(from_login, from_logout);
    let other_users = token_of(&{
        let hash = f.send_code(6, 2, "9996625555").unwrap();
        f.sign_in(6, 2, "9996625555", &hash, "22222").unwrap()
    });
    let ordinary = |r: Result<enums::auth::SentCode, RpcError>| {
        matches!(r, Ok(enums::auth::SentCode::SentCode(_)))
    };
    assert!(ordinary(send_code_with_tokens(
        &f,
        3,
        vec![vec![7; 32], other_users]
    )));
    let done = send_code_with_tokens(&f, 3, vec![vec![7; 32], from_logout.clone()]).unwrap();
    let enums::auth::SentCode::Success(done) = done else {
        panic!("{done:?}")
    };
    assert_eq!(token_of(&done.authorization).len(), 32);
    assert!(f
        .invoke(3, 2, &functions::users::GetUsers { id: vec![] })
        .is_ok());
    // Used up.
    assert!(ordinary(send_code_with_tokens(&f, 4, vec![from_logout])));
    // Expired.
    f.now.set(f.now.get() + super::future_token::TTL as i32);
    assert!(ordinary(send_code_with_tokens(&f, 4, vec![from_login])));
}

/// With a password, a token is as good as a right code: the key waits for the password.
#[test]
fn a_future_auth_token_of_an_account_with_a_password_asks_for_it() {
    let f = Fixture::new();
    f.register(1, PHONE);
    update(&f, 1, empty(), new_settings(&f, 1, "pw")).unwrap();
    let token = log_out(&f, 1);
    assert_eq!(
        send_code_with_tokens(&f, 2, vec![token]).unwrap_err(),
        err(401, "SESSION_PASSWORD_NEEDED")
    );
    assert_eq!(check(&f, 2, proof(&f, 2, "pw")), Ok(()));
}

/// At most 20 tokens per user: the oldest go.
#[test]
fn a_user_keeps_at_most_twenty_future_auth_tokens() {
    let mut f = Fixture::new();
    f.login.codes_per_test_phone = super::login::RateLimit::OFF;
    f.register(1, PHONE);
    let first = log_out(&f, 1);
    for key in 2..=21 {
        token_of(&code_login(&f, key).unwrap());
    }
    let held = crate::store::accounts::Accounts::new(&f.store)
        .future_tokens(get_user_id(&f))
        .unwrap()
        .unwrap();
    assert_eq!(held.value.0.len(), super::future_token::PER_USER);
    assert!(matches!(
        send_code_with_tokens(&f, 30, vec![first]),
        Ok(enums::auth::SentCode::SentCode(_))
    ));
}

/// A recovery email: EMAIL_UNCONFIRMED_6 with the password set, the address shown masked
/// until a wrong then the right code confirms it; resend and cancel; a new password keeps it;
/// removing the password forgets a waiting one.
#[test]
fn a_recovery_email_is_confirmed_by_its_code() {
    let f = Fixture::new();
    f.register(1, PHONE);
    let with_email = |f: &Fixture, email: &str| types::account::PasswordInputSettings {
        email: Some(email.into()),
        ..new_settings(f, 1, "pw")
    };
    assert_eq!(
        update(&f, 1, empty(), with_email(&f, "not an address")),
        Err(err(400, "EMAIL_INVALID"))
    );
    assert_eq!(
        update(&f, 1, empty(), with_email(&f, "alice@example.com")),
        Err(err(400, "EMAIL_UNCONFIRMED_6"))
    );
    let p = get_password(&f, 1);
    assert!(p.has_password && !p.has_recovery);
    assert_eq!(
        p.email_unconfirmed_pattern.as_deref(),
        Some("a****@example.com")
    );
    let first = f.sender.last_email_code("alice@example.com").unwrap();
    assert_eq!(first.len(), 6);
    let confirm = |code: &str| {
        f.invoke(
            1,
            2,
            &functions::account::ConfirmPasswordEmail { code: code.into() },
        )
    };
    let wrong = if first == "000000" {
        "000001"
    } else {
        "000000"
    };
    assert_eq!(confirm(wrong).unwrap_err(), err(400, "CODE_INVALID"));
    assert_eq!(
        f.invoke(1, 2, &functions::account::ResendPasswordEmail {}),
        Ok(true)
    );
    let second = f.sender.last_email_code("alice@example.com").unwrap();
    if first != second {
        assert_eq!(confirm(&first).unwrap_err(), err(400, "CODE_INVALID"));
    }
    assert_eq!(confirm(&second), Ok(true));
    let p = get_password(&f, 1);
    assert!(p.has_recovery && p.email_unconfirmed_pattern.is_none());
    let settings = f
        .invoke(
            1,
            2,
            &functions::account::GetPasswordSettings {
                password: proof(&f, 1, "pw"),
            },
        )
        .unwrap();
    let enums::account::PasswordSettings::PasswordSettings(settings) = settings;
    assert_eq!(settings.email.as_deref(), Some("alice@example.com"));
    assert_eq!(
        confirm(&second).unwrap_err(),
        err(400, "EMAIL_HASH_EXPIRED"),
        "used up"
    );
    // A new password keeps the confirmed address.
    update(&f, 1, proof(&f, 1, "pw"), new_settings(&f, 1, "pw2")).unwrap();
    assert!(get_password(&f, 1).has_recovery);
    // Another address waits, then is cancelled.
    let email_only = types::account::PasswordInputSettings {
        new_algo: None,
        new_password_hash: None,
        hint: None,
        email: Some("bob@example.com".into()),
        new_secure_settings: None,
    };
    assert_eq!(
        update(&f, 1, proof(&f, 1, "pw2"), email_only),
        Err(err(400, "EMAIL_UNCONFIRMED_6"))
    );
    assert_eq!(
        f.invoke(1, 2, &functions::account::CancelPasswordEmail {}),
        Ok(true)
    );
    assert!(get_password(&f, 1).email_unconfirmed_pattern.is_none());
    assert_eq!(
        f.invoke(1, 2, &functions::account::ResendPasswordEmail {})
            .unwrap_err(),
        err(400, "EMAIL_HASH_EXPIRED")
    );
    // Five wrong codes kill a waiting one.
    let email_only = types::account::PasswordInputSettings {
        new_algo: None,
        new_password_hash: None,
        hint: None,
        email: Some("carol@example.com".into()),
        new_secure_settings: None,
    };
    update(&f, 1, proof(&f, 1, "pw2"), email_only).unwrap_err();
    let right = f.sender.last_email_code("carol@example.com").unwrap();
    let wrong = if right == "000000" {
        "000001"
    } else {
        "000000"
    };
    // (Each wrong one after the third waits out the account's back-off first, AB-3.)
    let mut waited = 0;
    for _ in 0..5 {
        let e = confirm(wrong).unwrap_err();
        if let Some(wait) = e.message.strip_prefix("FLOOD_WAIT_") {
            let wait: i32 = wait.parse().unwrap();
            waited += wait;
            f.now.set(f.now.get() + wait);
            assert_eq!(confirm(wrong).unwrap_err(), err(400, "CODE_INVALID"));
        } else {
            assert_eq!(e, err(400, "CODE_INVALID"));
        }
    }
    f.now.set(f.now.get() + 120);
    assert_eq!(waited, 30 + 60);
    assert_eq!(confirm(&right).unwrap_err(), err(400, "EMAIL_HASH_EXPIRED"));
}
