//! The login email in memory: changing it from a logged-in session, code logins by email
//! (`emailVerificationCode`), auth.resetLoginEmail's fallback to SMS, the set-up a server that
//! requires one asks of a new account, and the refusals.

use super::login_tests::Fixture;
use super::password_tests::{err, get_password, PHONE};
use super::RpcError;
use crate::tl::{enums, functions, types};

const EMAIL: &str = "bob@example.com";

fn send_verify(
    f: &Fixture,
    key: i64,
    purpose: enums::EmailVerifyPurpose,
    email: &str,
) -> Result<types::account::SentEmailCode, RpcError> {
    f.invoke(
        key,
        2,
        &functions::account::SendVerifyEmailCode {
            purpose,
            email: email.into(),
        },
    )
    .map(|enums::account::SentEmailCode::SentEmailCode(s)| s)
}

fn verify(
    f: &Fixture,
    key: i64,
    purpose: enums::EmailVerifyPurpose,
    code: &str,
) -> Result<enums::account::EmailVerified, RpcError> {
    f.invoke(
        key,
        2,
        &functions::account::VerifyEmail {
            purpose,
            verification: types::EmailVerificationCode { code: code.into() }.into(),
        },
    )
}

fn change() -> enums::EmailVerifyPurpose {
    types::EmailVerifyPurposeLoginChange {}.into()
}

fn sent(f: &Fixture, key: i64, phone: &str) -> types::auth::SentCode {
    let enums::auth::SentCode::SentCode(s) = f
        .invoke(key, 2, &super::login_tests::send_code(phone))
        .unwrap()
    else {
        panic!()
    };
    s
}

fn sign_in_by_email(
    f: &Fixture,
    key: i64,
    phone: &str,
    hash: &str,
    code: &str,
) -> Result<enums::auth::Authorization, RpcError> {
    f.invoke(
        key,
        2,
        &functions::auth::SignIn {
            phone_number: phone.into(),
            phone_code_hash: hash.into(),
            phone_code: None,
            email_verification: Some(types::EmailVerificationCode { code: code.into() }.into()),
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

/// The login email of key 1's account set to [`EMAIL`].
fn set_login_email(f: &Fixture) {
    let s = send_verify(f, 1, change(), EMAIL).unwrap();
    assert_eq!((s.email_pattern.as_str(), s.length), ("b**@example.com", 6));
    let code = f.sender.last_email_code(EMAIL).unwrap();
    assert_eq!(
        verify(f, 1, change(), other_than(&code)),
        Err(err(400, "CODE_INVALID"))
    );
    assert_eq!(
        verify(f, 1, change(), &code).unwrap(),
        types::account::EmailVerified {
            email: EMAIL.into()
        }
        .into()
    );
    assert_eq!(
        verify(f, 1, change(), &code),
        Err(err(400, "EMAIL_VERIFY_EXPIRED")),
        "a code is used once"
    );
}

#[test]
fn an_account_with_a_login_email_gets_its_codes_there() {
    let f = Fixture::new();
    f.register(1, PHONE);
    set_login_email(&f);
    assert_eq!(
        get_password(&f, 1).login_email_pattern.as_deref(),
        Some("b**@example.com")
    );
    let s = sent(&f, 2, PHONE);
    let enums::auth::SentCodeType::EmailCode(t) = &s.r#type else {
        panic!("{:?}", s.r#type)
    };
    assert_eq!((t.email_pattern.as_str(), t.length), ("b**@example.com", 5));
    assert_eq!(t.reset_available_period, Some(0));
    assert!(s.next_type.is_none());
    let code = f.sender.last_email_code(EMAIL).unwrap();
    assert_eq!(code, "22222", "a test number's code, by email too");
    assert!(matches!(
        sign_in_by_email(&f, 2, PHONE, &s.phone_code_hash, &code).unwrap(),
        enums::auth::Authorization::Authorization(_)
    ));
    // Passport gets its own address, the login email stays; it needs a cloud password.
    let passport = || -> enums::EmailVerifyPurpose { types::EmailVerifyPurposePassport {}.into() };
    assert_eq!(
        send_verify(&f, 1, passport(), "p@example.org").unwrap_err(),
        err(400, "PASSWORD_REQUIRED")
    );
    super::password_tests::update(
        &f,
        1,
        super::password_tests::empty(),
        super::password_tests::new_settings(&f, 1, "pw"),
    )
    .unwrap();
    send_verify(&f, 1, passport(), "p@example.org").unwrap();
    let code = f.sender.last_email_code("p@example.org").unwrap();
    verify(&f, 1, passport(), &code).unwrap();
    let emails = crate::store::accounts::Accounts::new(&f.store)
        .emails(get_user(&f))
        .unwrap()
        .unwrap()
        .value;
    assert_eq!(
        (emails.login.as_str(), emails.passport.as_str()),
        (EMAIL, "p@example.org")
    );
}

fn get_user(f: &Fixture) -> i64 {
    let u: Vec<enums::User> = f
        .invoke(
            1,
            2,
            &functions::users::GetUsers {
                id: vec![types::InputUserSelf {}.into()],
            },
        )
        .unwrap();
    match &u[0] {
        enums::User::User(u) => u.id,
        other => panic!("{other:?}"),
    }
}

#[test]
fn reset_login_email_falls_back_to_sms() {
    let f = Fixture::new();
    f.register(1, PHONE);
    let reset = |key: i64, hash: &str| {
        f.invoke(
            key,
            2,
            &functions::auth::ResetLoginEmail {
                phone_number: PHONE.into(),
                phone_code_hash: hash.into(),
            },
        )
    };
    let s = sent(&f, 2, PHONE);
    assert_eq!(
        reset(2, &s.phone_code_hash),
        Err(err(400, "EMAIL_INSTALL_MISSING")),
        "an SMS code has no email to reset"
    );
    set_login_email(&f);
    let s = sent(&f, 3, PHONE);
    assert_eq!(reset(3, ""), Err(err(400, "PHONE_CODE_HASH_EMPTY")));
    assert_eq!(
        reset(2, &s.phone_code_hash),
        Err(err(400, "PHONE_CODE_EXPIRED")),
        "another key's hash"
    );
    let enums::auth::SentCode::SentCode(by_sms) = reset(3, &s.phone_code_hash).unwrap() else {
        panic!()
    };
    assert!(matches!(by_sms.r#type, enums::auth::SentCodeType::Sms(_)));
    assert_eq!(by_sms.phone_code_hash, s.phone_code_hash);
    assert!(get_password(&f, 1).login_email_pattern.is_none());
    assert!(f.sign_in(3, 2, PHONE, &s.phone_code_hash, "22222").is_ok());
}

#[test]
fn verify_refusals() {
    let f = Fixture::new();
    assert_eq!(
        send_verify(&f, 9, change(), EMAIL).unwrap_err(),
        err(401, "AUTH_KEY_UNREGISTERED")
    );
    f.register(1, PHONE);
    assert_eq!(
        send_verify(&f, 1, change(), "no-at-sign").unwrap_err(),
        err(400, "EMAIL_INVALID")
    );
    assert_eq!(
        verify(&f, 1, change(), "123456").unwrap_err(),
        err(400, "EMAIL_VERIFY_EXPIRED")
    );
    let google = f.invoke(
        1,
        2,
        &functions::account::VerifyEmail {
            purpose: change(),
            verification: types::EmailVerificationGoogle { token: "t".into() }.into(),
        },
    );
    assert_eq!(google.unwrap_err(), err(400, "EMAIL_TOKEN_INVALID"));
    let setup: enums::EmailVerifyPurpose = types::EmailVerifyPurposeLoginSetup {
        phone_number: PHONE.into(),
        phone_code_hash: "0123456789abcdef0123456789abcdef".into(),
    }
    .into();
    assert_eq!(
        send_verify(&f, 1, setup, EMAIL).unwrap_err(),
        err(400, "PHONE_HASH_EXPIRED")
    );
    // The code expires after an hour.
    send_verify(&f, 1, change(), EMAIL).unwrap();
    let code = f.sender.last_email_code(EMAIL).unwrap();
    f.now.set(f.now.get() + 3600);
    assert_eq!(
        verify(&f, 1, change(), &code).unwrap_err(),
        err(400, "EMAIL_VERIFY_EXPIRED")
    );
}

#[test]
fn a_new_account_sets_up_its_login_email_when_the_server_requires_one() {
    let mut f = Fixture::new();
    f.login.require_login_email = true;
    let new = "new@example.com";
    let s = sent(&f, 2, PHONE);
    assert!(
        matches!(s.r#type, enums::auth::SentCodeType::SetUpEmailRequired(_)),
        "{:?}",
        s.r#type
    );
    assert!(f.sender.last_code(PHONE).is_none(), "no code goes out yet");
    let hash = s.phone_code_hash.clone();
    // Not even a test number's fixed code signs in before the address is set up.
    assert_eq!(
        f.sign_in(2, 2, PHONE, &hash, "22222").unwrap_err(),
        err(400, "PHONE_CODE_INVALID")
    );
    let setup = || -> enums::EmailVerifyPurpose {
        types::EmailVerifyPurposeLoginSetup {
            phone_number: PHONE.into(),
            phone_code_hash: hash.clone(),
        }
        .into()
    };
    assert_eq!(
        verify(&f, 2, setup(), "123456").unwrap_err(),
        err(400, "EMAIL_VERIFY_EXPIRED"),
        "no address named yet"
    );
    assert_eq!(send_verify(&f, 2, setup(), new).unwrap().length, 6);
    let code = f.sender.last_email_code(new).unwrap();
    assert_eq!(
        verify(&f, 2, setup(), other_than(&code)).unwrap_err(),
        err(400, "CODE_INVALID")
    );
    let enums::account::EmailVerified::Login(login) = verify(&f, 2, setup(), &code).unwrap() else {
        panic!()
    };
    assert_eq!(login.email, new);
    let enums::auth::SentCode::SentCode(next) = &login.sent_code else {
        panic!()
    };
    assert!(matches!(
        next.r#type,
        enums::auth::SentCodeType::EmailCode(_)
    ));
    assert_eq!(next.phone_code_hash, hash);
    let login_code = f.sender.last_email_code(new).unwrap();
    assert!(matches!(
        sign_in_by_email(&f, 2, PHONE, &hash, &login_code).unwrap(),
        enums::auth::Authorization::SignUpRequired(_)
    ));
    f.sign_up(2, 2, PHONE, &hash, "New", "User").unwrap();
    // The account keeps the address: the next login's code goes there.
    let s = sent(&f, 3, PHONE);
    assert!(matches!(s.r#type, enums::auth::SentCodeType::EmailCode(_)));
}
