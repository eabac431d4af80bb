//! QR login in memory: export, accept (the update pushed to the exporter), the login on the
//! exporter's next export with the hash the acceptor was told, the migration to the user's DC
//! and the import there, a 2FA account, and every refusal.

use super::login_tests::Fixture;
use super::password_tests::{check, empty, err, new_settings, proof, update};
use super::RpcError;
use crate::tl::{enums, functions, types, Deserializable};

const PHONE: &str = "9996621234";
/// A user of DC 3.
const PHONE_DC3: &str = "9996631234";

fn export(
    f: &Fixture,
    key: i64,
    dc: i32,
    except: Vec<i64>,
) -> Result<enums::auth::LoginToken, RpcError> {
    f.invoke(
        key,
        dc,
        &functions::auth::ExportLoginToken {
            api_id: 6,
            api_hash: "hash".into(),
            except_ids: except,
        },
    )
}

/// A new token exported by `key` on DC 2.
fn token(f: &Fixture, key: i64) -> Vec<u8> {
    match export(f, key, 2, vec![]).unwrap() {
        enums::auth::LoginToken::LoginToken(t) => {
            assert_eq!(i64::from(t.expires), i64::from(f.now.get()) + 30);
            assert_eq!(t.token.len(), 32);
            t.token
        }
        other => panic!("{other:?}"),
    }
}

fn accept(f: &Fixture, key: i64, dc: i32, token: &[u8]) -> Result<types::Authorization, RpcError> {
    f.invoke(
        key,
        dc,
        &functions::auth::AcceptLoginToken {
            token: token.to_vec(),
        },
    )
    .map(|enums::Authorization::Authorization(a)| a)
}

fn import(
    f: &Fixture,
    key: i64,
    dc: i32,
    token: &[u8],
) -> Result<enums::auth::LoginToken, RpcError> {
    f.invoke(
        key,
        dc,
        &functions::auth::ImportLoginToken {
            token: token.to_vec(),
        },
    )
}

fn logged_in_as(f: &Fixture, key: i64, dc: i32) -> Option<i64> {
    let users: Vec<enums::User> = f
        .invoke(
            key,
            dc,
            &functions::users::GetUsers {
                id: vec![types::InputUserSelf {}.into()],
            },
        )
        .ok()?;
    match users.first() {
        Some(enums::User::User(u)) => Some(u.id),
        _ => None,
    }
}

fn success_user(answer: enums::auth::LoginToken) -> i64 {
    let enums::auth::LoginToken::Success(s) = answer else {
        panic!("{answer:?}")
    };
    super::login_tests::user_id(&s.authorization)
}

#[test]
fn a_token_accepted_on_the_same_dc_logs_the_exporter_in() {
    let f = Fixture::new();
    let user = f.register(1, PHONE);
    let stale = token(&f, 9);
    let fresh = token(&f, 9);
    assert_ne!(stale, fresh);
    assert_eq!(
        accept(&f, 1, 2, &stale).unwrap_err(),
        err(400, "AUTH_TOKEN_INVALID"),
        "a new export replaces the key's token"
    );
    f.pushes.borrow_mut().clear();
    let accepted = accept(&f, 1, 2, &fresh).unwrap();
    assert_ne!(accepted.hash, 0);
    let pushes = f.pushes.borrow().clone();
    assert_eq!(pushes.len(), 1);
    assert_eq!(pushes[0].keys, vec![9]);
    let enums::Updates::UpdateShort(short) = enums::Updates::from_bytes(&pushes[0].body).unwrap()
    else {
        panic!()
    };
    assert!(matches!(short.update, enums::Update::LoginToken(_)));
    assert_eq!(
        accept(&f, 1, 2, &fresh).unwrap_err(),
        err(400, "AUTH_TOKEN_ALREADY_ACCEPTED")
    );
    assert_eq!(logged_in_as(&f, 9, 2), None);
    assert_eq!(success_user(export(&f, 9, 2, vec![]).unwrap()), user);
    assert_eq!(logged_in_as(&f, 9, 2), Some(user));
    // The new session carries the hash the accepting session was told.
    let enums::account::Authorizations::Authorizations(list) = f
        .invoke(1, 2, &functions::account::GetAuthorizations {})
        .unwrap();
    assert!(list
        .authorizations
        .iter()
        .any(|enums::Authorization::Authorization(a)| a.hash == accepted.hash));
    assert_eq!(
        accept(&f, 1, 2, &fresh).unwrap_err(),
        err(400, "AUTH_TOKEN_ALREADY_ACCEPTED"),
        "used up"
    );
    // The next export is a new token again.
    assert!(matches!(
        export(&f, 9, 2, vec![]).unwrap(),
        enums::auth::LoginToken::LoginToken(_)
    ));
}

#[test]
fn refusals() {
    let f = Fixture::new();
    let user = f.register(1, PHONE);
    assert_eq!(
        f.invoke(
            9,
            2,
            &functions::auth::ExportLoginToken {
                api_id: 0,
                api_hash: "h".into(),
                except_ids: vec![],
            }
        )
        .unwrap_err(),
        err(400, "API_ID_INVALID")
    );
    let t = token(&f, 9);
    assert_eq!(
        accept(&f, 8, 2, &t).unwrap_err(),
        err(401, "AUTH_KEY_UNREGISTERED"),
        "only a logged-in session accepts"
    );
    for bad in [vec![], vec![1; 65], vec![7; 32]] {
        assert_eq!(
            accept(&f, 1, 2, &bad).unwrap_err(),
            err(400, "AUTH_TOKEN_INVALID")
        );
    }
    assert_eq!(
        import(&f, 8, 2, &t).unwrap_err(),
        err(400, "AUTH_TOKEN_INVALID"),
        "an exported token is not imported"
    );
    let excepted = match export(&f, 10, 2, vec![user]).unwrap() {
        enums::auth::LoginToken::LoginToken(t) => t.token,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        accept(&f, 1, 2, &excepted).unwrap_err(),
        err(400, "AUTH_TOKEN_INVALID")
    );
    f.now.set(f.now.get() + 30);
    assert_eq!(
        accept(&f, 1, 2, &t).unwrap_err(),
        err(400, "AUTH_TOKEN_EXPIRED")
    );
    // Expired tokens and their index entries are swept.
    let acc = crate::store::accounts::Accounts::new(&f.store);
    let mut cursor = crate::store::accounts::SweepCursor::default();
    assert!(
        acc.sweep(i64::from(f.now.get()), 86_400, 100, &mut cursor)
            .unwrap()
            .0
            >= 4
    );
    assert!(acc.key_login_token(9).unwrap().is_none());
}

#[test]
fn a_user_of_another_dc_sends_the_exporter_there_to_import() {
    let f = Fixture::new();
    let user = f.register(1, PHONE_DC3);
    let t = token(&f, 9);
    accept(&f, 1, 3, &t).unwrap();
    let enums::auth::LoginToken::MigrateTo(m) = export(&f, 9, 2, vec![]).unwrap() else {
        panic!()
    };
    assert_eq!(m.dc_id, 3);
    assert_eq!(logged_in_as(&f, 9, 2), None, "nothing is logged in on DC 2");
    assert_eq!(
        import(&f, 9, 2, &m.token).unwrap_err(),
        err(400, "AUTH_TOKEN_EXCEPTION"),
        "imported on its DC only"
    );
    assert_eq!(
        accept(&f, 1, 3, &m.token).unwrap_err(),
        err(400, "AUTH_TOKEN_INVALID")
    );
    assert_eq!(success_user(import(&f, 10, 3, &m.token).unwrap()), user);
    assert_eq!(logged_in_as(&f, 10, 3), Some(user));
    assert_eq!(
        import(&f, 11, 3, &m.token).unwrap_err(),
        err(400, "AUTH_TOKEN_ALREADY_ACCEPTED")
    );
    f.now.set(f.now.get() + 30);
    assert_eq!(
        import(&f, 11, 3, &m.token).unwrap_err(),
        err(400, "AUTH_TOKEN_ALREADY_ACCEPTED")
    );
}

#[test]
fn an_account_with_a_password_waits_for_it_after_the_qr_code() {
    let f = Fixture::new();
    let user = f.register(1, PHONE);
    update(&f, 1, empty(), new_settings(&f, 1, "pw")).unwrap();
    let t = token(&f, 9);
    accept(&f, 1, 2, &t).unwrap();
    assert_eq!(
        export(&f, 9, 2, vec![]).unwrap_err(),
        err(401, "SESSION_PASSWORD_NEEDED")
    );
    assert_eq!(
        f.invoke(9, 2, &functions::users::GetUsers { id: vec![] })
            .unwrap_err(),
        err(401, "SESSION_PASSWORD_NEEDED")
    );
    assert_eq!(check(&f, 9, proof(&f, 9, "pw")), Ok(()));
    assert_eq!(logged_in_as(&f, 9, 2), Some(user));
}
