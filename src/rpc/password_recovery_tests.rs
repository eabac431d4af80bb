//! A forgotten password in memory (fixed clock and randomness): recovery by the recovery
//! email's code on a key that waits for the password and on a logged-in one, the reset after
//! the waiting period and its decline, temporary passwords, and every refusal.

use super::login_tests::Fixture;
use super::password_tests::{
    check, code_login, empty, err, get_password, new_settings, proof, snapshot, update, PHONE,
};
use crate::tl::{enums, functions, types};

const EMAIL: &str = "alice@example.com";

/// A password with a confirmed recovery email, set on key 1.
fn with_recovery(f: &Fixture) {
    f.register(1, PHONE);
    let settings = types::account::PasswordInputSettings {
        email: Some(EMAIL.into()),
        ..new_settings(f, 1, "pw")
    };
    assert_eq!(
        update(f, 1, empty(), settings),
        Err(err(400, "EMAIL_UNCONFIRMED_6"))
    );
    let code = f.sender.last_email_code(EMAIL).unwrap();
    f.invoke(1, 2, &functions::account::ConfirmPasswordEmail { code })
        .unwrap();
}

fn request(f: &Fixture, key: i64) -> Result<String, super::RpcError> {
    f.invoke(key, 2, &functions::auth::RequestPasswordRecovery {})
        .map(|enums::auth::PasswordRecovery::PasswordRecovery(r)| r.email_pattern)
}

fn check_code(f: &Fixture, key: i64, code: &str) -> Result<bool, super::RpcError> {
    f.invoke(
        key,
        2,
        &functions::auth::CheckRecoveryPassword { code: code.into() },
    )
}

fn recover(
    f: &Fixture,
    key: i64,
    code: &str,
    new_settings: Option<types::account::PasswordInputSettings>,
) -> Result<enums::auth::Authorization, super::RpcError> {
    f.invoke(
        key,
        2,
        &functions::auth::RecoverPassword {
            code: code.into(),
            new_settings: new_settings.map(Into::into),
        },
    )
}

fn other_than(code: &str) -> &'static str {
    if code == "000000" {
        "000001"
    } else {
        "000000"
    }
}

fn logged_in(f: &Fixture, key: i64) -> bool {
    f.invoke(key, 2, &functions::users::GetUsers { id: vec![] })
        .is_ok()
}

#[test]
fn a_key_waiting_for_a_forgotten_password_recovers_by_email_and_logs_in() {
    let f = Fixture::new();
    with_recovery(&f);
    assert_eq!(
        code_login(&f, 2).unwrap_err(),
        err(401, "SESSION_PASSWORD_NEEDED")
    );
    assert_eq!(request(&f, 2).unwrap(), "a****@example.com");
    let code = f.sender.last_email_code(EMAIL).unwrap();
    assert_eq!(code.len(), 6);
    assert_eq!(
        check_code(&f, 2, other_than(&code)),
        Err(err(400, "CODE_INVALID"))
    );
    assert_eq!(check_code(&f, 2, &code), Ok(true));
    assert_eq!(recover(&f, 2, " ", None), Err(err(400, "CODE_EMPTY")));
    assert!(!logged_in(&f, 2));
    let auth = recover(&f, 2, &code, None).unwrap();
    assert!(matches!(auth, enums::auth::Authorization::Authorization(_)));
    assert!(logged_in(&f, 2), "the recovery logged the waiting key in");
    assert!(!get_password(&f, 1).has_password, "the password is gone");
    assert_eq!(
        recover(&f, 2, &code, None),
        Err(err(400, "PASSWORD_RECOVERY_EXPIRED"))
    );
    // A new code login needs no password now.
    assert!(code_login(&f, 3).is_ok());
}

#[test]
fn a_logged_in_key_recovers_into_new_settings() {
    let f = Fixture::new();
    with_recovery(&f);
    request(&f, 1).unwrap();
    let code = f.sender.last_email_code(EMAIL).unwrap();
    // Bad new settings cost no try and leave everything as it was.
    let before = snapshot(&f);
    let bad = types::account::PasswordInputSettings {
        new_password_hash: Some(vec![0; 256]),
        ..new_settings(&f, 1, "pw2")
    };
    assert_eq!(
        recover(&f, 1, &code, Some(bad)),
        Err(err(400, "NEW_SETTINGS_INVALID"))
    );
    assert_eq!(snapshot(&f), before);
    let enums::auth::Authorization::Authorization(a) =
        recover(&f, 1, &code, Some(new_settings(&f, 1, "pw2"))).unwrap()
    else {
        panic!()
    };
    assert!(a.future_auth_token.is_none(), "the login stays as it was");
    // The new password works, the old one not, and the recovery email stays.
    assert!(get_password(&f, 1).has_recovery);
    code_login(&f, 2).unwrap_err();
    assert_eq!(
        check(&f, 2, proof(&f, 2, "pw")),
        Err(err(400, "PASSWORD_HASH_INVALID"))
    );
    assert_eq!(check(&f, 2, proof(&f, 2, "pw2")), Ok(()));
}

#[test]
fn recovery_refusals() {
    let f = Fixture::new();
    // Neither logged in nor waiting for a password.
    assert_eq!(request(&f, 9), Err(err(401, "AUTH_KEY_UNREGISTERED")));
    f.register(1, PHONE);
    assert_eq!(request(&f, 1), Err(err(400, "PASSWORD_EMPTY")));
    update(&f, 1, empty(), new_settings(&f, 1, "pw")).unwrap();
    assert_eq!(request(&f, 1), Err(err(400, "PASSWORD_RECOVERY_NA")));
    assert_eq!(
        check_code(&f, 1, "123456"),
        Err(err(400, "PASSWORD_RECOVERY_EXPIRED"))
    );
}

#[test]
fn recovery_codes_expire_and_wrong_ones_back_off() {
    let f = Fixture::new();
    with_recovery(&f);
    request(&f, 1).unwrap();
    let code = f.sender.last_email_code(EMAIL).unwrap();
    for _ in 0..3 {
        assert_eq!(
            check_code(&f, 1, other_than(&code)),
            Err(err(400, "CODE_INVALID"))
        );
    }
    assert_eq!(check_code(&f, 1, &code), Err(err(420, "FLOOD_WAIT_30")));
    f.now.set(f.now.get() + 30);
    assert_eq!(check_code(&f, 1, &code), Ok(true));
    // A right code resets the count; an hour later the code is dead.
    f.now.set(f.now.get() + 3600);
    assert_eq!(
        check_code(&f, 1, &code),
        Err(err(400, "PASSWORD_RECOVERY_EXPIRED"))
    );
    // A new request makes a new code (asking again keeps a live code's wrong tries).
    request(&f, 1).unwrap();
    let fresh = f.sender.last_email_code(EMAIL).unwrap();
    assert_eq!(check_code(&f, 1, &fresh), Ok(true));
}

fn reset(f: &Fixture, key: i64) -> enums::account::ResetPasswordResult {
    f.invoke(key, 2, &functions::account::ResetPassword {})
        .unwrap()
}

#[test]
fn a_reset_waits_its_period_and_a_declined_one_blocks_the_next() {
    let mut f = Fixture::new();
    f.login.password_reset_wait = 100;
    f.register(1, PHONE);
    update(&f, 1, empty(), new_settings(&f, 1, "pw")).unwrap();
    let t0 = f.now.get();
    use enums::account::ResetPasswordResult as R;
    let requested = |until: i32| -> R {
        types::account::ResetPasswordRequestedWait { until_date: until }.into()
    };
    assert_eq!(reset(&f, 1), requested(t0 + 100));
    assert_eq!(get_password(&f, 1).pending_reset_date, Some(t0 + 100));
    f.now.set(t0 + 50);
    assert_eq!(
        reset(&f, 1),
        requested(t0 + 100),
        "the same reset, not a new one"
    );
    assert_eq!(
        f.invoke(1, 2, &functions::account::DeclinePasswordReset {}),
        Ok(true)
    );
    assert_eq!(
        f.invoke(1, 2, &functions::account::DeclinePasswordReset {}),
        Err(err(400, "RESET_REQUEST_MISSING"))
    );
    assert_eq!(get_password(&f, 1).pending_reset_date, None);
    assert_eq!(
        reset(&f, 1),
        types::account::ResetPasswordFailedWait {
            retry_date: t0 + 150
        }
        .into()
    );
    f.now.set(t0 + 150);
    assert_eq!(reset(&f, 1), requested(t0 + 250));
    f.now.set(t0 + 249);
    assert_eq!(reset(&f, 1), requested(t0 + 250));
    assert!(get_password(&f, 1).has_password);
    f.now.set(t0 + 250);
    assert_eq!(reset(&f, 1), types::account::ResetPasswordOk {}.into());
    assert!(!get_password(&f, 1).has_password);
    // Nothing left to reset; a new password starts without a pending reset.
    assert_eq!(reset(&f, 1), types::account::ResetPasswordOk {}.into());
    assert_eq!(
        f.invoke(1, 2, &functions::account::DeclinePasswordReset {}),
        Err(err(400, "RESET_REQUEST_MISSING"))
    );
}

#[test]
fn a_new_password_ends_a_pending_reset_and_pending_keys_cannot_reset() {
    let f = Fixture::new();
    f.register(1, PHONE);
    update(&f, 1, empty(), new_settings(&f, 1, "pw")).unwrap();
    reset(&f, 1);
    assert!(get_password(&f, 1).pending_reset_date.is_some());
    update(&f, 1, proof(&f, 1, "pw"), new_settings(&f, 1, "pw2")).unwrap();
    assert_eq!(get_password(&f, 1).pending_reset_date, None);
    code_login(&f, 2).unwrap_err();
    assert_eq!(
        f.invoke(2, 2, &functions::account::ResetPassword {})
            .unwrap_err(),
        err(401, "SESSION_PASSWORD_NEEDED")
    );
}

#[test]
fn temporary_passwords_need_the_password_and_expire() {
    let f = Fixture::new();
    let user_id = f.register(1, PHONE);
    let tmp = |password, period| {
        f.invoke(
            1,
            2,
            &functions::account::GetTmpPassword { password, period },
        )
    };
    assert_eq!(tmp(empty(), 60), Err(err(400, "TMP_PASSWORD_DISABLED")));
    update(&f, 1, empty(), new_settings(&f, 1, "pw")).unwrap();
    assert_eq!(
        tmp(proof(&f, 1, "no"), 60),
        Err(err(400, "PASSWORD_HASH_INVALID"))
    );
    let enums::account::TmpPassword::TmpPassword(t) = tmp(proof(&f, 1, "pw"), 5).unwrap();
    let now = f.now.get();
    assert_eq!(t.valid_until, now + 60, "periods are at least a minute");
    assert_eq!(t.tmp_password.len(), 32);
    let acc = crate::store::accounts::Accounts::new(&f.store);
    let valid = |token: &[u8], at: i32| {
        super::password_recovery::tmp_password_valid(&acc, user_id, token, i64::from(at)).unwrap()
    };
    assert!(valid(&t.tmp_password, now + 59));
    assert!(!valid(&t.tmp_password, now + 60));
    assert!(!valid(&[0; 32], now));
    let enums::account::TmpPassword::TmpPassword(long) =
        tmp(proof(&f, 1, "pw"), 1_000_000).unwrap();
    assert_eq!(long.valid_until, now + 86_400, "and at most a day");
}
